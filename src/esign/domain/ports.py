"""The ports: what use cases need from the outside world, as Protocols adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol

from esign.domain.audit import AuditEvent, ChainBreak, ChainHead
from esign.domain.enums import FieldOption, FieldType, LiteSortColumn, SessionStatus
from esign.domain.jobs import Job, WebhookDelivery
from esign.domain.model import ApiKey, Client, PageSize, SigningSession, Template, User


class Clock(Protocol):
    def now(self) -> datetime: ...


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store bytes; return their key (the sha256 hex digest). Bytes already there count
        as stored now (see `delete_unless_recent`)."""
        ...

    def put_file(self, source: Path) -> str:
        """Store a file's content without reading it all into memory; return its key (the
        sha256 hex digest of what was stored). `source` is left where it is."""
        ...

    def get(self, key: str) -> bytes: ...

    def local_file(self, key: str) -> AbstractContextManager[Path]:
        """A local file holding the blob, to read (not change) while the context is open;
        KeyError when there is no such blob."""
        ...

    def delete_unless_recent(self, key: str, recent: float) -> bool:
        """Delete the blob unless it was stored (or found by a put) within the last `recent`
        seconds, which a reference not yet committed may need; True when it is gone."""
        ...

    def exists(self, key: str) -> bool: ...

    def recover_leftovers(self, older_than: float) -> list[str]:
        """Clear what a crashed process left behind, untouched for `older_than` seconds:
        unfinished writes go; blobs set aside by `delete_unless_recent` are put back. Return
        the keys put back: whether they are still needed is for a collector to decide."""
        ...


@dataclass(frozen=True, slots=True)
class PdfFacts:
    page_count: int
    first_page_width: float
    first_page_height: float
    page_sizes: tuple[PageSize, ...] = ()  # every page as displayed
    active_content: bool = False  # scripts, launch actions, embedded files: to be stripped


class FileRefused(Exception):
    """The bytes are not an acceptable document; `reason` says why in words for the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PdfInspector(Protocol):
    def inspect(self, data: bytes) -> PdfFacts:
        """Read a PDF's facts, raising FileRefused for encrypted, corrupt or empty files."""
        ...


@dataclass(frozen=True, slots=True)
class MergeStamp:
    """Text to draw into the prepared PDF: a template merge field's value. Geometry is
    normalised (fractions of the displayed page, origin top-left)."""

    text: str
    page_index: int
    x: float
    y: float
    width: float
    height: float
    font_size: float | None = None


@dataclass(frozen=True, slots=True)
class PrepareRequest:
    """What the document processor needs: the original file and what to do with it.
    `source` is only read (it may be the blob store's own file)."""

    source: Path
    extension: str  # ".pdf", ".docx", ".png", ... (lower case, with the dot)
    has_anchor_tags: bool = False
    anchor_open: str = "<"
    anchor_close: str = ">"
    space_char: str = "|"
    merge_values: dict[str, str] = field(default_factory=dict)  # Word MERGEFIELD / {{Key}}
    stamps: tuple[MergeStamp, ...] = ()


@dataclass(frozen=True, slots=True)
class FoundField:
    """A field an anchor tag asked for, where the tag was. Geometry is normalised (fractions
    of the displayed page, origin top-left); `role` is the tag's text."""

    type: FieldType
    option: FieldOption
    role: str
    page_index: int
    x: float
    y: float
    width: float
    height: float
    font_size: float | None = None
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    pdf: Path  # a file of the processor's, valid while prepare()'s context is open
    page_count: int
    page_sizes: tuple[PageSize, ...]
    fields: tuple[FoundField, ...] = ()
    errors: tuple[str, ...] = ()  # e.g. 'Page 2: malformed tag "<sig_xx>"'


class DocumentProcessor(Protocol):
    def prepare(self, request: PrepareRequest) -> AbstractContextManager[PreparedDocument]:
        """Convert, merge, find and remove anchor tags, stamp merge values; the final PDF,
        as a file that is deleted when the context closes. Works on files, so a large PDF
        is never held whole in memory. Raises FileRefused (on entering the context) when
        the file cannot become a document."""
        ...


class UploadChecker(Protocol):
    def check(self, data: bytes, extension: str) -> None:
        """Raise FileRefused if an office file (.docx .doc .rtf .odt .xlsx .xls .txt) or an
        image (.png .jpg .tif) is not what its extension says, is password-protected,
        damaged, a zip bomb, or too large to decode."""
        ...


class PageRenderer(Protocol):
    def render(self, pdf: Path, page_index: int, width: int) -> bytes:
        """One page as a PNG `width` pixels wide. Raises FileRefused if it cannot."""
        ...


class Cipher(Protocol):
    """The server's symmetric secrets: EncryptString, tokens, and signer link tokens."""

    def encrypt(self, plaintext: str, salt: str) -> str: ...

    def decrypt(self, ciphertext: str, salt: str) -> str | None: ...

    def seal_token(self, payload: bytes) -> str: ...

    def open_token(self, token: str) -> bytes | None: ...

    def random_secret(self, nbytes: int = 24) -> str: ...

    def digest(self, secret: str) -> str:
        """A fast keyed hash for high-entropy secrets (API keys, link tokens)."""
        ...

    def protect(self, secret: str, context: str) -> str:
        """A secret esign must use again (a webhook's signing secret), encrypted to be stored;
        `context` (what it is, whose it is) must be given again to read it."""
        ...

    def unprotect(self, stored: str, context: str) -> str | None:
        """What `protect` was given; None for anything it did not make with this key."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hashed: str) -> bool: ...


class ClientRepository(Protocol):
    def add(self, client: Client) -> None: ...

    def get(self, client_id: str) -> Client | None: ...

    def update(self, client: Client) -> None: ...

    def count(self) -> int: ...

    def all(self) -> list[Client]: ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def find_by_hash(self, key_hash: str) -> ApiKey | None: ...

    def revoke_all(self, client_id: str, now: datetime) -> None: ...


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def update(self, user: User) -> None: ...

    def get(self, client_id: str, user_id: str) -> User | None: ...

    def find_by_username(self, client_id: str, username: str) -> User | None: ...

    def with_username(self, username: str) -> list[User]:
        """That username's user in every client (usernames are unique per client only)."""
        ...


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A 'lite' listing row: the header of a session."""

    id: str
    title: str
    transaction_id: str
    status: SessionStatus
    created_at: datetime
    owner_username: str


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[SessionRow]
    total: int


class SessionRepository(Protocol):
    def add(self, session: SigningSession) -> None: ...

    def get(
        self, client_id: str, session_id: str, *, for_update: bool = False
    ) -> SigningSession | None: ...

    def save(self, session: SigningSession) -> None: ...

    def stamp(self, client_id: str, session_id: str) -> tuple[int, str] | None:
        """What changes whenever the stored session does: its version, which every `save`
        raises, and its owner's username (read with it). None when there is no such session."""
        ...

    def blob_in_use(self, blob_key: str) -> bool:
        """Whether any stored session or template still refers to that blob."""
        ...

    def client_holding(self, session_id: str) -> str | None:
        """The id of the client the session belongs to (operator commands, any client)."""
        ...

    def find_by_signer(self, client_id: str, signer_id: str) -> str | None:
        """The id of the session holding that signer."""
        ...

    def by_transaction(
        self, client_id: str, owner_user_id: str, transaction_id: str
    ) -> list[str]: ...

    def lite_page(
        self,
        client_id: str,
        owner_user_id: str | None,
        transaction_id: str,
        sort: LiteSortColumn,
        descending: bool,
        page_size: int,
        page_num: int,
    ) -> Page: ...

    def ids_with_status(
        self, client_id: str, status: SessionStatus, page_size: int, page_num: int
    ) -> tuple[list[str], int]: ...

    def due(self, now: datetime, archive_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(client_id, session_id) of sessions whose expiry, purge or archive time has come."""
        ...


class TemplateRepository(Protocol):
    def save(self, template: Template) -> None:
        """Insert the template, or replace the client's template with the same id."""
        ...

    def get(self, client_id: str, template_id: str, *, lock: bool = False) -> Template | None:
        """With `lock`, no one may delete it until this transaction ends."""
        ...

    def all(self, client_id: str) -> list[Template]: ...

    def delete(self, client_id: str, template_id: str) -> bool: ...


class PageImageRepository(Protocol):
    """Rendered page images, keyed by the PDF blob they were rendered from."""

    def find(self, source_key: str, page_index: int, width: int) -> str | None: ...

    def add(self, source_key: str, page_index: int, width: int, image_key: str) -> None:
        """Record an image; a second one for the same page and width is ignored."""
        ...

    def forget(self, source_keys: Sequence[str]) -> list[str]:
        """Drop the images of those sources; return their image blob keys."""
        ...


class AuditRepository(Protocol):
    def append(self, event: AuditEvent) -> None:
        """Chain the event after the session's last one and store it."""
        ...

    def append_to_client_trail(self, event: AuditEvent) -> None:
        """Chain the event after the last one of its client's own trail (`session_id` holds
        the client's id) and store it; writers of one client's trail take turns."""
        ...

    def for_session(self, session_id: str) -> list[AuditEvent]:
        """The trail in order; AuditTrailDamaged when a stored event cannot be read."""
        ...

    def read_trail(self, session_id: str) -> tuple[list[AuditEvent], ChainBreak | None]:
        """The events up to the first that cannot be read, and that one as a break."""
        ...

    def read_head(self, chain_id: str) -> ChainHead | None:
        """The trail's last event as recorded apart, with its seal; None if never written."""
        ...


class JobRepository(Protocol):
    def add(self, job: Job) -> bool:
        """Record a job; False when one with the same key already exists."""
        ...

    def claim(self, job_id: str, now: datetime, lease_until: datetime) -> Job | None:
        """Take the job if it is due and nobody holds it; None otherwise."""
        ...

    def finish(self, job: Job) -> None:
        """Settle a claimed job (so too retry_later and give_up), unless the claim was taken
        over after its lease ran out: then the new runner has the say."""
        ...

    def retry_later(self, job: Job, run_at: datetime, error: str) -> None: ...

    def give_up(self, job: Job, error: str) -> None: ...

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(id, name) of the jobs whose time has come and that nobody holds."""
        ...

    def get(self, job_id: str) -> Job | None: ...


class WebhookRepository(Protocol):
    def add(self, delivery: WebhookDelivery) -> None: ...

    def get(self, delivery_id: str) -> WebhookDelivery | None: ...

    def save(self, delivery: WebhookDelivery) -> None: ...

    def page(
        self, client_id: str, page_size: int, page_num: int
    ) -> tuple[list[WebhookDelivery], int]: ...


class RateLimitRepository(Protocol):
    def failures_since(self, bucket: str, since: datetime) -> int: ...

    def record_failure(self, bucket: str, now: datetime) -> None: ...

    def oldest_since(self, bucket: str, since: datetime) -> datetime | None: ...


class SignerLinkRepository(Protocol):
    def add(
        self, token_hash: str, client_id: str, session_id: str, signer_id: str, now: datetime
    ) -> None: ...

    def find(self, token_hash: str) -> tuple[str, str, str] | None:
        """(client_id, session_id, signer_id) for a link token's hash."""
        ...


class UnitOfWork(Protocol):
    @property
    def clients(self) -> ClientRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def templates(self) -> TemplateRepository: ...

    @property
    def page_images(self) -> PageImageRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def jobs(self) -> JobRepository: ...

    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def rate_limits(self) -> RateLimitRepository: ...

    @property
    def signer_links(self) -> SignerLinkRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = True) -> UnitOfWork: ...


class JobDispatcher(Protocol):
    """Hands recorded jobs to the queue engine once their transaction has committed."""

    def dispatch(self, jobs: Sequence[Job]) -> None: ...


@dataclass(frozen=True, slots=True)
class HttpResult:
    status_code: int | None
    error: str
    duration_ms: int
    problem: UrlProblem | None = None  # not sent: the URL may not be called (now, or ever)


@dataclass(frozen=True, slots=True)
class UrlProblem:
    """Why a webhook URL may not be called; `transient` when asking again later may help
    (its host does not resolve right now) rather than never (loopback, private, bad scheme)."""

    reason: str
    transient: bool = False


class WebhookTransport(Protocol):
    def check_url(self, url: str) -> UrlProblem | None: ...

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult: ...
