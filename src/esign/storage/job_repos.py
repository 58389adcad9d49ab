"""Repositories of the job outbox and of webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from esign.domain.jobs import Job, JobStatus, WebhookAttempt, WebhookDelivery
from esign.storage import tables as t
from esign.storage.serialize import from_json, to_json


class JobRepo:
    def __init__(self, conn: Connection, added: list[Job]) -> None:
        self._c = conn
        self._added = added

    def add(self, job: Job) -> bool:
        exists = self._c.execute(select(t.jobs.c.id).where(t.jobs.c.key == job.key)).first()
        if exists:
            return False
        self._c.execute(
            insert(t.jobs).values(
                id=job.id,
                name=job.name,
                key=job.key,
                payload=job.payload,
                status=job.status.value,
                run_at=job.run_at,
                attempts=job.attempts,
                last_error=job.last_error,
            )
        )
        self._added.append(job)
        return True

    def claim(self, job_id: str, now: datetime, lease_until: datetime) -> Job | None:
        j = t.jobs.c
        taken = self._c.execute(
            update(t.jobs)
            .where(
                j.id == job_id,
                j.run_at <= now,
                or_(
                    j.status == JobStatus.PENDING.value,
                    and_(j.status == JobStatus.RUNNING.value, j.lease_until < now),
                ),
            )
            .values(
                status=JobStatus.RUNNING.value, lease_until=lease_until, attempts=j.attempts + 1
            )
        )
        return self.get(job_id) if taken.rowcount == 1 else None

    def get(self, job_id: str) -> Job | None:
        r = self._c.execute(select(t.jobs).where(t.jobs.c.id == job_id)).mappings().first()
        if r is None:
            return None
        return Job(
            id=r["id"],
            name=r["name"],
            payload=r["payload"],
            key=r["key"],
            run_at=r["run_at"],
            status=JobStatus(r["status"]),
            attempts=r["attempts"],
            last_error=r["last_error"],
            lease_until=r["lease_until"],
        )

    def finish(self, job: Job) -> None:
        self._settle(job, status=JobStatus.DONE.value, lease_until=None)

    def retry_later(self, job: Job, run_at: datetime, error: str) -> None:
        self._settle(
            job,
            status=JobStatus.PENDING.value,
            run_at=run_at,
            lease_until=None,
            last_error=error[:2000],
        )

    def give_up(self, job: Job, error: str) -> None:
        self._settle(job, status=JobStatus.FAILED.value, lease_until=None, last_error=error[:2000])

    def _settle(self, job: Job, **values: Any) -> None:
        # Each claim counts an attempt: a runner whose claim was taken over settles nothing.
        j = t.jobs.c
        self._c.execute(
            update(t.jobs)
            .where(j.id == job.id, j.status == JobStatus.RUNNING.value, j.attempts == job.attempts)
            .values(**values)
        )

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        j = t.jobs.c
        return [
            (str(row[0]), str(row[1]))
            for row in self._c.execute(
                select(j.id, j.name)
                .where(
                    j.run_at <= now,
                    or_(
                        j.status == JobStatus.PENDING.value,
                        and_(j.status == JobStatus.RUNNING.value, j.lease_until < now),
                    ),
                )
                .order_by(j.run_at)
                .limit(limit)
            )
        ]


class WebhookRepo:
    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def add(self, d: WebhookDelivery) -> None:
        self._c.execute(insert(t.webhook_deliveries).values(**self._values(d)))

    def save(self, d: WebhookDelivery) -> None:
        self._c.execute(
            update(t.webhook_deliveries)
            .where(t.webhook_deliveries.c.id == d.id)
            .values(**self._values(d))
        )

    @staticmethod
    def _values(d: WebhookDelivery) -> dict[str, Any]:
        return {
            "id": d.id,
            "client_id": d.client_id,
            "session_id": d.session_id,
            "url": d.url,
            "body": d.body,
            "created_at": d.created_at,
            "status": d.status,
            "next_attempt_at": d.next_attempt_at,
            "attempts": to_json(d.attempts),
        }

    def get(self, delivery_id: str) -> WebhookDelivery | None:
        r = (
            self._c.execute(
                select(t.webhook_deliveries).where(t.webhook_deliveries.c.id == delivery_id)
            )
            .mappings()
            .first()
        )
        return _delivery(r) if r else None

    def page(
        self, client_id: str, page_size: int, page_num: int
    ) -> tuple[list[WebhookDelivery], int]:
        w = t.webhook_deliveries.c
        total = self._c.execute(
            select(func.count()).select_from(t.webhook_deliveries).where(w.client_id == client_id)
        ).scalar_one()
        rows = self._c.execute(
            select(t.webhook_deliveries)
            .where(w.client_id == client_id)
            .order_by(w.created_at.desc(), w.id)
            .limit(page_size)
            .offset(page_size * page_num)
        ).mappings()
        return [_delivery(r) for r in rows], int(total)


def _delivery(r: RowMapping) -> WebhookDelivery:
    return WebhookDelivery(
        id=r["id"],
        client_id=r["client_id"],
        session_id=r["session_id"],
        url=r["url"],
        body=r["body"],
        created_at=r["created_at"],
        status=r["status"],
        next_attempt_at=r["next_attempt_at"],
        attempts=[from_json(WebhookAttempt, a) for a in r["attempts"]],
    )
