"""Entities of the domain. Plain dataclasses: no I/O, no framework types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from esign.domain.enums import (
    AuthMethod,
    FieldOption,
    FieldType,
    ProcessingStatus,
    SessionStatus,
    SignerStatus,
    UserStatus,
    UseSequence,
)

# The empty .NET Guid: what a `Guid` member never set is written as, so it names nothing. Ids
# are Guids to the vendor's clients (reference §3.17): where there is none, answers write this,
# which every .NET reader takes (an empty string fails JavaScriptSerializer and Newtonsoft).
NO_ID = "00000000-0000-0000-0000-000000000000"

# The role of a session's owner when SessionInfo.FirstSigner makes them its first signer.
OWNER_ROLE = "Session Owner"
DEFAULT_ROLES = (
    *(f"Seller {n}" for n in range(1, 5)),
    *(f"Buyer {n}" for n in range(1, 5)),
    "Listing Agent",
    "Selling Agent",
    "Landlord 1",
    "Landlord 2",
    "Tenant 1",
    "Tenant 2",
)


@dataclass(slots=True)
class AnchorOffset:
    """Points added to an anchor tag's field: X to the right, Y downwards (the wire's
    top-left origin), Width and Height larger. Negative values move left or up, or shrink."""

    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass(slots=True)
class ClientSettings:
    token_lifetime_minutes: int = 20
    purge_wait_hours: int = 72
    webhook_url: str | None = None
    # The signing secret, as Cipher.protect stored it (never the secret itself: decision 0046).
    sealed_webhook_secret: str | None = None
    roles: list[str] = field(default_factory=lambda: list(DEFAULT_ROLES))
    anchor_open: str = "<"
    anchor_close: str = ">"
    # Some PDF producers drop spaces; dropdown items write this character for one (§6.1).
    anchor_space_char: str = "|"
    # Category name -> tag type (sig, ini, ...) -> offset. Names match ignoring case.
    adjustment_categories: dict[str, dict[str, AnchorOffset]] = field(default_factory=dict)

    def adjustment_category(self, name: str) -> tuple[str, dict[str, AnchorOffset]] | None:
        """The category called `name` (ignoring case), as (stored name, offsets)."""
        wanted = name.strip().casefold()
        for stored, offsets in self.adjustment_categories.items():
            if stored.casefold() == wanted:
                return stored, offsets
        return None


@dataclass(slots=True)
class Client:
    id: str
    name: str
    created_at: datetime
    settings: ClientSettings = field(default_factory=ClientSettings)


@dataclass(slots=True)
class ApiKey:
    id: str
    client_id: str
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(slots=True)
class User:
    id: str
    client_id: str
    username: str
    first_name: str
    last_name: str
    password_hash: str | None
    created_at: datetime
    status: UserStatus = UserStatus.ACTIVE
    is_admin: bool = False
    company: str = ""
    email_signature: str = ""
    region: str = ""
    subscription_type: str = ""
    time_zone_id: str = ""
    cell_number: str = ""
    phone_number: str = ""
    date_format: str = ""
    job_title: str = ""


@dataclass(slots=True)
class SessionInfo:
    """The header of a signing session, as the integrator sets it."""

    title: str = ""
    description: str = ""
    return_url: str = ""
    transaction_id: str = ""
    copy_to: str = ""
    allow_delegation: bool = False
    # An EmailOptions value; int, since sessions stored before it was checked may hold others.
    email_options: int = 0
    first_signer: bool = False
    owner_name: str = ""
    owner_email: str = ""
    owner_signature: str = ""
    password_hash: str | None = None
    use_sequence: UseSequence = UseSequence.NON_SEQUENTIAL
    expires_on: datetime | None = None
    reminder_frequency_days: int = 0
    send_signer_invites: bool = True
    send_session_redirect_url: str = ""
    application_key: str = ""
    # As the last CreateSession/UpdateSession asked: background processing honours it too.
    remove_unassigned_signer_roles: bool = False


@dataclass(slots=True)
class Field:
    """A signing field. Geometry is normalised: fractions of the page box, origin top-left."""

    id: str
    type: FieldType
    option: FieldOption
    role: str
    page_index: int
    x: float
    y: float
    width: float
    height: float
    font_size: float | None = None
    items: list[str] = field(default_factory=list)
    value: str | None = None
    from_tag: bool = False  # an anchor tag made it: preparing the document again remakes it


@dataclass(slots=True)
class PageSize:
    """A page as displayed (crop box, after /Rotate), in PDF points."""

    width: float
    height: float


DEFAULT_PAGE = PageSize(612.0, 792.0)


@dataclass(slots=True)
class MergeField:
    """A template's merge field: `key` is filled from Signer.MergeFieldMapping, or `default`.
    Geometry is normalised like a Field's."""

    key: str
    default: str
    page_index: int
    x: float
    y: float
    width: float
    height: float
    font_size: float | None = None


@dataclass(slots=True)
class Document:
    """A session's document. `original_blob_key` holds the bytes as uploaded (or the
    template's PDF); `blob_key` the PDF signers see: the original until processing replaces
    it with the prepared one."""

    id: str
    file_name: str
    sequence: int
    content_type: str
    blob_key: str | None
    size: int
    sha256: str
    page_count: int | None = None
    page_width: float | None = None
    page_height: float | None = None
    form_id: str = ""
    form_tag: str = ""
    has_anchor_tags: bool = False
    active_content: bool = False  # the upload carries scripts or files the pipeline strips
    adjustment_category: str = ""
    processing_status: ProcessingStatus = ProcessingStatus.PENDING
    processing_errors: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    original_blob_key: str | None = None
    page_sizes: list[PageSize] = field(default_factory=list)
    merge_fields: list[MergeField] = field(default_factory=list)

    def page_size(self, page_index: int) -> PageSize:
        if 0 <= page_index < len(self.page_sizes):
            return self.page_sizes[page_index]
        if self.page_width and self.page_height:
            return PageSize(self.page_width, self.page_height)
        return DEFAULT_PAGE

    def set_pages(self, sizes: list[PageSize]) -> None:
        self.page_sizes = sizes
        self.page_count = len(sizes)
        first = sizes[0] if sizes else DEFAULT_PAGE
        self.page_width, self.page_height = first.width, first.height


@dataclass(slots=True)
class Template:
    """A client's reusable document with fields per role and merge fields. Sessions copy
    what they use, so later changes to the template never reach them."""

    id: str  # the FormId
    client_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    file_name: str
    blob_key: str
    size: int
    sha256: str
    page_sizes: list[PageSize] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    merge_fields: list[MergeField] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return len(self.page_sizes)


@dataclass(slots=True)
class Signer:
    id: str
    last_name: str
    email: str
    role: str
    first_name: str = ""
    sequence: int = 1
    auth_method: AuthMethod = AuthMethod.NONE
    auth_methods: list[AuthMethod] = field(default_factory=list)
    password_hash: str | None = None
    sms_phone_number: str = ""
    in_person: bool = False
    properties: list[tuple[str, str]] = field(default_factory=list)
    contact: dict[str, str] = field(default_factory=dict)  # the reference gives no shape
    email_subject: str = ""
    email_message: str = ""
    merge_field_mapping: dict[str, str] = field(default_factory=dict)
    signature_image_key: str | None = None
    initials_image_key: str | None = None
    auto_apply_signature: bool = False
    mandate_doc_upload: bool = False
    status: SignerStatus = SignerStatus.PENDING_INVITE
    declined_reason: str = ""
    invited_at: datetime | None = None
    invitation_due: bool = False
    completed_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(slots=True)
class SigningSession:
    id: str
    client_id: str
    owner_user_id: str
    info: SessionInfo
    created_at: datetime
    status: SessionStatus = SessionStatus.DRAFT
    status_before_purge: SessionStatus | None = None
    status_changed_at: datetime | None = None
    completed_at: datetime | None = None
    purge_due_at: datetime | None = None
    # When DeleteSession was called: a deleted session stays listed apart once purged too.
    deleted_at: datetime | None = None
    last_reminder_at: datetime | None = None
    documents: list[Document] = field(default_factory=list)
    signers: list[Signer] = field(default_factory=list)
    # Set by the repository; the owner's username is what the wire reports as OwnerEmail.
    owner_username: str = ""

    def signer(self, signer_id: str) -> Signer | None:
        return next((s for s in self.signers if s.id == signer_id), None)

    def document(self, document_id: str) -> Document | None:
        return next((d for d in self.documents if d.id == document_id), None)

    def signer_for_role(self, role: str) -> Signer | None:
        key = normalize_role(role)
        return next((s for s in self.signers if normalize_role(s.role) == key), None)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in a request that was not applied while the rest was (a `Details` line)."""

    code: str
    params: dict[str, Any]


def normalize_role(role: str) -> str:
    """Roles match ignoring case and repeated spaces (contract §5)."""
    return " ".join(role.split()).casefold()
