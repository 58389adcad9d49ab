"""Running recorded jobs: claim, run the handler, finish or retry. Safe to call twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from esign.domain.jobs import Job, JobStatus, backoff
from esign.domain.lifecycle import ARCHIVE_AFTER
from esign.services import blob_gc, documents, lifecycle, webhooks
from esign.services.context import Deps
from esign.services.events import COLLECT_BLOBS_JOB, DUE_JOB, PROCESS_JOB, WEBHOOK_JOB

log = logging.getLogger("esign.jobs")

MAX_ATTEMPTS = 8

Handler = Callable[[Deps, dict[str, Any]], None]

HANDLERS: dict[str, Handler] = {
    WEBHOOK_JOB: lambda deps, payload: webhooks.deliver(deps, str(payload["delivery_id"])),
    PROCESS_JOB: lambda deps, p: documents.process_document(
        deps, str(p["client_id"]), str(p["session_id"]), str(p["document_id"])
    ),
    COLLECT_BLOBS_JOB: lambda deps, p: blob_gc.delete_unused(deps, [str(k) for k in p["keys"]]),
    DUE_JOB: lambda deps, p: lifecycle.run_due(deps, str(p["client_id"]), str(p["session_id"])),
}

# What to settle when a job is given up for good, so that nothing waits for it forever.
GIVEN_UP: dict[str, Handler] = {
    PROCESS_JOB: lambda deps, p: documents.mark_failed(
        deps,
        str(p["client_id"]),
        str(p["session_id"]),
        str(p["document_id"]),
        ["the document could not be processed; add it again"],
    ),
}


def run_job(deps: Deps, job_id: str) -> datetime | None:
    """Run one job if it is due and free. Returns when it should run again, if it should."""
    now = deps.clock.now()
    with deps.uow() as uow:
        job = uow.jobs.claim(job_id, now, now + deps.limits.job_lease)
        uow.commit()
    if job is None:
        return _not_yet_due(deps, job_id, now)  # or done, or another worker holds it
    handler = HANDLERS.get(job.name)
    try:
        if handler is None:
            raise LookupError(f"no handler for job '{job.name}'")
        handler(deps, job.payload)
    except webhooks.RetryLater as later:
        _reschedule(deps, job, later.when, str(later))
        return later.when
    except Exception as exc:  # a failing job must never kill the worker
        log.warning(
            "job %s (%s) failed on attempt %d: %s",
            job.id,
            job.name,
            job.attempts,
            type(exc).__name__,
        )
        if job.attempts >= MAX_ATTEMPTS or handler is None:
            _give_up(deps, job, f"{type(exc).__name__}: {exc}")
            return None
        when = now + backoff(job.attempts, timedelta(seconds=10), timedelta(hours=1))
        _reschedule(deps, job, when, f"{type(exc).__name__}: {exc}")
        return when
    with deps.uow() as uow:
        uow.jobs.finish(job)
        uow.commit()
    return None


def _give_up(deps: Deps, job: Job, error: str) -> None:
    with deps.uow() as uow:
        uow.jobs.give_up(job, error)
        uow.commit()
    settle = GIVEN_UP.get(job.name)
    try:
        if settle is not None:
            settle(deps, job.payload)
    except Exception as exc:  # the sweep must go on
        log.warning("settling given-up job %s failed: %s", job.id, type(exc).__name__)


def _not_yet_due(deps: Deps, job_id: str, now: datetime) -> datetime | None:
    """When a job the queue woke just before its time is due: the queue's clock ticks by
    the second and may wake it that much early, which would leave it to the next sweep, a
    minute later. (The sweep dispatches jobs further off when they are due.)"""
    with deps.uow(write=False) as uow:
        job = uow.jobs.get(job_id)
    if job is None or job.status is not JobStatus.PENDING:
        return None
    return job.run_at if now < job.run_at <= now + _EARLY else None


_EARLY = timedelta(minutes=1)


def _reschedule(deps: Deps, job: Job, when: datetime, error: str) -> None:
    with deps.uow() as uow:
        uow.jobs.retry_later(job, when, error)
        uow.commit()


def due_jobs(deps: Deps, limit: int = 500) -> list[tuple[str, str]]:
    """(id, name) of the jobs whose time has come but that no queue may hold (lost, or
    scheduled long ago)."""
    with deps.uow(write=False) as uow:
        return uow.jobs.due(deps.clock.now(), limit)


def sweep_sessions(deps: Deps, limit: int = 200) -> int:
    """Expire, purge and archive what is due; return how many sessions were handled."""
    now = deps.clock.now()
    with deps.uow(write=False) as uow:
        due = uow.sessions.due(now, now - ARCHIVE_AFTER, limit)
    for client_id, session_id in due:
        try:
            lifecycle.run_due(deps, client_id, session_id)
        except Exception as exc:  # one bad session must not stop the sweep
            log.warning("sweep of session %s failed: %s", session_id, type(exc).__name__)
    return len(due)
