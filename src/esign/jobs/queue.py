"""The job engine: huey on SQLite (embedded) or Redis (scaled out), with the same tasks.

The queue carries only job ids. The truth is the `jobs` table: a job is recorded with the
change that causes it, dispatched after commit, and the periodic sweep dispatches anything
the queue lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab

from esign.domain.jobs import Job
from esign.services import blob_gc
from esign.services import jobs as job_service
from esign.services.context import Deps
from esign.services.events import WEBHOOK_JOB

log = logging.getLogger("esign.jobs")


def make_huey(data_dir: Path, redis_url: str | None, name: str = "esign") -> Huey:
    """`name` keeps apart the queues of installations that share one Redis database (and
    of test runs that share one machine's Redis)."""
    if redis_url:
        return RedisHuey(name, url=redis_url, utc=True)
    return SqliteHuey(name, filename=str(data_dir / "jobs.db"), utc=True)


# Webhook deliveries wait on other people's servers (up to the 10 s timeout each): they run
# on threads of their own, so that a slow receiver never holds up document processing.
DELIVERY_THREADS = 8


class JobEngine:
    """Registers esign's tasks on a huey instance and dispatches recorded jobs to it."""

    def __init__(self, huey: Huey, deps: Callable[[], Deps]) -> None:
        self.huey = huey
        self._deps = deps
        self._deliveries: ThreadPoolExecutor | None = None
        self._delivering: set[Future[None]] = set()
        self._lock = threading.Lock()

        @huey.task(name="esign.run_job")  # type: ignore[untyped-decorator]
        def run_job(job_id: str) -> None:
            self._run(job_id, webhook=False)

        @huey.task(name="esign.deliver_webhook")  # type: ignore[untyped-decorator]
        def deliver_webhook(job_id: str) -> None:
            self._hand_over(job_id)

        @huey.periodic_task(crontab(minute="*"), name="esign.sweep")  # type: ignore[untyped-decorator]
        def sweep() -> None:
            self.sweep()

        @huey.periodic_task(crontab(hour="3", minute="17"), name="esign.blob_leftovers")  # type: ignore[untyped-decorator]
        def blob_leftovers() -> None:
            blob_gc.recover_leftovers(self._deps())

        self._run_job: Any = run_job
        self._deliver_webhook: Any = deliver_webhook

    def _run(self, job_id: str, *, webhook: bool) -> None:
        again = job_service.run_job(self._deps(), job_id)
        if again is not None:
            self._schedule(job_id, again, webhook=webhook)

    def _hand_over(self, job_id: str) -> None:
        with self._lock:
            if self._deliveries is None:  # made on first use: only workers deliver
                self._deliveries = ThreadPoolExecutor(DELIVERY_THREADS, "esign-webhook")
            future = self._deliveries.submit(self._run, job_id, webhook=True)
            self._delivering.add(future)
        future.add_done_callback(self._delivered)

    def _delivered(self, future: Future[None]) -> None:
        with self._lock:
            self._delivering.discard(future)
        if future.exception() is not None:  # run_job catches the handler's; this is a bug
            log.error("webhook delivery thread failed: %r", future.exception())

    def _schedule(self, job_id: str, when: Any, *, webhook: bool) -> None:
        eta = when.astimezone(UTC).replace(tzinfo=None)  # huey with utc=True wants naive UTC
        task = self._deliver_webhook if webhook else self._run_job
        task.schedule((job_id,), eta=eta)

    def dispatch(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            try:
                self._schedule(job.id, job.run_at, webhook=job.name == WEBHOOK_JOB)
            except Exception as exc:  # the sweep will find it: never fail the request
                log.warning("could not enqueue job %s: %s", job.id, type(exc).__name__)

    def sweep(self) -> None:
        deps = self._deps()
        job_service.sweep_sessions(deps)
        for job_id, name in job_service.due_jobs(deps):
            (self._deliver_webhook if name == WEBHOOK_JOB else self._run_job)(job_id)

    def drain(self, max_tasks: int = 1000) -> int:
        """Run every task that is ready now in this thread (tests and one-shot tools)."""
        done = 0
        while done < max_tasks:
            for task in self.huey.read_schedule():
                self.huey.enqueue(task)
            task = self.huey.dequeue()
            if task is None:
                if self._wait_for_deliveries():
                    continue  # they may have queued more
                break
            self.huey.execute(task)
            done += 1
        return done

    def _wait_for_deliveries(self) -> bool:
        """Wait for the deliveries under way; False when there were none."""
        with self._lock:
            pending = [f for f in self._delivering if not f.done()]
        wait(pending)
        return bool(pending)
