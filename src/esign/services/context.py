"""What every use case is given: the ports, the limits, and who is calling."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from esign.domain.audit import Actor
from esign.domain.errors import AdminOnly
from esign.domain.ports import (
    BlobStore,
    Cipher,
    Clock,
    DocumentProcessor,
    PageRenderer,
    PasswordHasher,
    PdfInspector,
    UnitOfWorkFactory,
    UploadChecker,
    WebhookTransport,
)
from esign.services.views import RenderedViews


@dataclass(frozen=True, slots=True)
class Limits:
    max_session_bytes: int = 100 * 1024 * 1024
    max_pages: int = 500
    # Per session (decision 0036): far above any real packet, low enough that nothing done
    # per document or per signer becomes a long request.
    max_documents: int = 100
    max_signers: int = 100
    max_page_size: int = 50  # the lite listing (reference S14: "pageSize ≤ 50")
    max_id_page_size: int = 1000  # the archived, deleted and expired id lists (no vendor cap)
    auth_failures_per_window: int = 10  # per source address, and per user
    # Per client: guesses spread over many addresses and usernames (decision 0006).
    auth_failures_per_client_window: int = 100
    auth_failure_window: timedelta = timedelta(minutes=15)
    webhook_retry_for: timedelta = timedelta(hours=48)
    webhook_first_retry: timedelta = timedelta(seconds=30)
    webhook_max_interval: timedelta = timedelta(hours=6)
    job_lease: timedelta = timedelta(minutes=5)
    # A blob stored or reused this recently is not collected yet: the reference to it may
    # still be on its way to a commit (docs/decisions/0019).
    blob_grace: timedelta = timedelta(minutes=10)
    # What a crashed process left in the blob store (an unfinished write, a blob set aside for
    # deletion) is cleared once untouched this long: no live write takes nearly as long.
    blob_leftover_age: timedelta = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    cipher: Cipher
    passwords: PasswordHasher
    blobs: BlobStore
    pdf: PdfInspector
    uploads: UploadChecker
    webhooks: WebhookTransport
    processor: DocumentProcessor
    renderer: PageRenderer
    public_url: str
    limits: Limits = Limits()
    # This process's rendered session answers (services/views.py).
    views: RenderedViews = field(default_factory=RenderedViews)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated API caller: a client, through one of its keys or one of its users."""

    client_id: str
    key_id: str | None
    user_id: str | None
    ip: str = ""
    user_agent: str = ""
    # A user token's username: who acted, whoever the request names. "" for an API key.
    name: str = ""
    # The client's administrative account: its API keys and its admin users (decision 0039).
    admin: bool = False

    def ensure_admin(self) -> None:
        """Managing users, templates and anchor adjustments, and reading the webhook log,
        belong to the client's administrative account (decision 0039)."""
        if not self.admin:
            raise AdminOnly()

    def actor(self, name: str = "") -> Actor:
        return Actor(
            kind="api",
            id=self.user_id or self.key_id or "",
            name=self.name or name,
            ip=self.ip,
            user_agent=self.user_agent,
        )


class _RandomBlock(threading.local):
    """os.urandom, drawn 4 KB at a time per thread: each draw is a system call that drops
    the GIL, and a CreateSession makes six ids."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.block, self.at = b"", 0

    def take(self, count: int) -> bytes:
        at = self.at
        if at + count > len(self.block):
            self.block, at = os.urandom(4096), 0
        self.at = at + count
        return self.block[at : at + count]


_random = _RandomBlock()
# A forked child must not hand out the ids its parent has yet to use.
os.register_at_fork(after_in_child=_random.reset)


def new_id() -> str:
    """A time-ordered (version 7, RFC 9562) UUID in its usual text form: 48 bits of Unix
    milliseconds, then 74 random bits. Rows made together sit together in every index keyed
    by an id, so a new session's rows touch a few pages at the end of each index instead of
    a random page in each (decision 0031). Ids name things and grant nothing (signer links,
    tokens and API keys are drawn apart); they do tell when they were made, as CreatedOn does."""
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + _random.take(10))
    raw[6] = (raw[6] & 0x0F) | 0x70  # version 7
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 9562 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
