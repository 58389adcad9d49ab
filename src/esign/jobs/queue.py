"""The job engine: huey on SQLite (embedded) or Redis (scaled out), with the same tasks.

The queue carries only job ids. The truth is the `jobs` table: a job is recorded with the
change that causes it, dispatched after commit, and the periodic sweep dispatches anything
the queue lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab

from esign.domain.jobs import Job
from esign.services import blob_gc
from esign.services import jobs as job_service
from esign.services.context import Deps

log = logging.getLogger("esign.jobs")


def make_huey(data_dir: Path, redis_url: str | None, name: str = "esign") -> Huey:
    """`name` keeps apart the queues of installations that share one Redis database (and
    of test runs that share one machine's Redis)."""
    if redis_url:
        return RedisHuey(name, url=redis_url, utc=True)
    return SqliteHuey(name, filename=str(data_dir / "jobs.db"), utc=True)


class JobEngine:
    """Registers esign's tasks on a huey instance and dispatches recorded jobs to it."""

    def __init__(self, huey: Huey, deps: Callable[[], Deps]) -> None:
        self.huey = huey
        self._deps = deps

        @huey.task(name="esign.run_job")  # type: ignore[untyped-decorator]
        def run_job(job_id: str) -> None:
            again = job_service.run_job(self._deps(), job_id)
            if again is not None:
                self._schedule(job_id, again)

        @huey.periodic_task(crontab(minute="*"), name="esign.sweep")  # type: ignore[untyped-decorator]
        def sweep() -> None:
            self.sweep()

        @huey.periodic_task(crontab(hour="3", minute="17"), name="esign.blob_leftovers")  # type: ignore[untyped-decorator]
        def blob_leftovers() -> None:
            blob_gc.recover_leftovers(self._deps())

        self._run_job: Any = run_job

    def _schedule(self, job_id: str, when: Any) -> None:
        eta = when.astimezone(UTC).replace(tzinfo=None)  # huey with utc=True wants naive UTC
        self._run_job.schedule((job_id,), eta=eta)

    def dispatch(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            try:
                self._schedule(job.id, job.run_at)
            except Exception as exc:  # the sweep will find it: never fail the request
                log.warning("could not enqueue job %s: %s", job.id, type(exc).__name__)

    def sweep(self) -> None:
        deps = self._deps()
        job_service.sweep_sessions(deps)
        for job_id in job_service.due_job_ids(deps):
            self._run_job(job_id)

    def drain(self, max_tasks: int = 1000) -> int:
        """Run every task that is ready now in this thread (tests and one-shot tools)."""
        done = 0
        while done < max_tasks:
            for task in self.huey.read_schedule():
                self.huey.enqueue(task)
            task = self.huey.dequeue()
            if task is None:
                break
            self.huey.execute(task)
            done += 1
        return done
