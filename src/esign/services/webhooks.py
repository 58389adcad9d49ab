"""Webhook delivery (contract §8): signed, retried with backoff for 48 hours, all logged."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime

from esign.domain.jobs import WebhookAttempt, WebhookDelivery, backoff
from esign.domain.model import Client
from esign.domain.ports import HttpResult
from esign.services.context import Caller, Deps

log = logging.getLogger("esign.webhooks")


class RetryLater(Exception):
    """The job should run again at `when`."""

    def __init__(self, when: datetime, reason: str) -> None:
        super().__init__(reason)
        self.when = when


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def deliver(deps: Deps, delivery_id: str) -> None:
    """One attempt. Raises RetryLater while the 48-hour window lasts and the attempt failed."""
    with deps.uow(write=False) as uow:
        delivery = uow.webhooks.get(delivery_id)
        client = uow.clients.get(delivery.client_id) if delivery else None
    if delivery is None or client is None or delivery.status != "pending":
        return  # already delivered or given up: a re-run is a no-op
    now = deps.clock.now()
    secret = signing_secret(deps, client)
    if secret is None:  # never sent unsigned: the receiver could not tell it from a forgery
        _refuse(deps, delivery, now, "the client's signing secret cannot be read")
        return
    # The transport checks the address it calls (one lookup: the one it connects to).
    result = _post(deps, secret, delivery, now)
    problem = result.problem
    if problem is not None and not problem.transient:
        _refuse(deps, delivery, now, problem.reason)
        return
    # (A transient problem, e.g. DNS down, is a failed attempt, tried again like any other.)
    error = f"not sent: {problem.reason}" if problem is not None else result.error
    delivery.attempts.append(WebhookAttempt(now, result.status_code, error, result.duration_ms))
    if result.status_code is not None and 200 <= result.status_code < 300:
        delivery.status, delivery.next_attempt_at = "delivered", None
        _save(deps, delivery)
        return
    deadline = delivery.created_at + deps.limits.webhook_retry_for
    if now >= deadline:
        delivery.status, delivery.next_attempt_at = "failed", None
        _save(deps, delivery)
        return
    wait = backoff(
        len(delivery.attempts), deps.limits.webhook_first_retry, deps.limits.webhook_max_interval
    )
    when = min(now + wait, deadline)  # the last try is at the end of the window, not before
    delivery.next_attempt_at = when
    _save(deps, delivery)
    raise RetryLater(when, result.error or f"HTTP {result.status_code}")


def _refuse(deps: Deps, delivery: WebhookDelivery, now: datetime, reason: str) -> None:
    delivery.attempts.append(WebhookAttempt(now, None, f"refused: {reason}", 0))
    delivery.status, delivery.next_attempt_at = "refused", None
    _save(deps, delivery)
    # For the operator, whose setting (ESIGN_WEBHOOK_ALLOW_*) may be what refused it; the
    # reason names the host, never the URL's path or query, which may carry a secret.
    log.warning("webhook delivery %s refused: %s", delivery.id, reason)


def keep_secret(deps: Deps, client: Client, plain: str) -> None:
    """Set the client's signing secret, sealed under the server's key (decision 0046)."""
    client.settings.sealed_webhook_secret = deps.cipher.protect(plain, _secret_context(client))


def signing_secret(deps: Deps, client: Client) -> str | None:
    """The client's signing secret; None when it has none (or it was sealed under another
    key, which the key check at start-up rules out)."""
    sealed = client.settings.sealed_webhook_secret
    return deps.cipher.unprotect(sealed, _secret_context(client)) if sealed else None


def _secret_context(client: Client) -> str:
    # Bound to its client: a sealed secret copied onto another client's row does not open.
    return f"webhook-secret:{client.id}"


def _post(deps: Deps, secret: str, delivery: WebhookDelivery, now: datetime) -> HttpResult:
    body = delivery.body.encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Esign-Timestamp": timestamp,
        "X-Esign-Delivery": delivery.id,
        "User-Agent": "esign-webhooks/1",
        "X-Esign-Signature": signature(secret, timestamp, body),
    }
    return deps.webhooks.post(delivery.url, body, headers)


def _save(deps: Deps, delivery: WebhookDelivery) -> None:
    with deps.uow() as uow:
        uow.webhooks.save(delivery)
        uow.commit()


def deliveries(
    deps: Deps, caller: Caller, page_size: int, page_num: int
) -> tuple[list[WebhookDelivery], int]:
    with deps.uow(write=False) as uow:
        return uow.webhooks.page(caller.client_id, page_size, page_num)
