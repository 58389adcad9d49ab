"""Background jobs as data: recorded in the same transaction as the change that causes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(slots=True)
class Job:
    id: str
    name: str
    payload: dict[str, Any]
    key: str  # idempotency key: a second job with the same key is not recorded
    run_at: datetime
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    last_error: str = ""
    lease_until: datetime | None = None


def backoff(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff: base, 2·base, 4·base, ... never more than cap."""
    wait: timedelta = base * (2 ** max(attempt - 1, 0))
    return min(wait, cap)


@dataclass(slots=True)
class WebhookAttempt:
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


@dataclass(slots=True)
class WebhookDelivery:
    id: str
    client_id: str
    session_id: str
    url: str
    body: str
    created_at: datetime
    status: str = "pending"  # pending | delivered | failed (gave up) | refused (bad URL)
    next_attempt_at: datetime | None = None
    attempts: list[WebhookAttempt] = field(default_factory=list)

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)


def shown_url(url: str) -> str:
    """A webhook URL as it may be shown (the delivery log, `esign clients list`): a password
    or token in its credentials or query works for anyone who reads it, so those are hidden.
    `https://user:pw@hooks.example.com/in?token=x` shows as `https://***@hooks.example.com/in?***`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    rest, query, _ = rest.partition("#")[0].partition("?")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}" + ("?***" if query else "")
