"""Typed inputs of the session and template use cases, free of wire quirks. `None` means "not
given"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from esign.domain.enums import AuthMethod, EmailOptions, FieldOption, FieldType, UseSequence


@dataclass(slots=True)
class SessionInfoInput:
    title: str | None = None
    description: str | None = None
    return_url: str | None = None
    transaction_id: str | None = None
    copy_to: str | None = None
    allow_delegation: bool | None = None
    email_options: EmailOptions | None = None
    first_signer: bool | None = None
    owner_name: str | None = None
    owner_email: str | None = None
    owner_signature: str | None = None
    password: str | None = None
    use_sequence: UseSequence | None = None
    expires_on: datetime | None = None
    reminder_frequency_days: int | None = None
    send_signer_invites: bool | None = None
    send_session_redirect_url: str | None = None
    application_key: str | None = None
    remove_unassigned_signer_roles: bool = False


@dataclass(slots=True)
class DocumentInput:
    file_name: str
    file_bytes: bytes | None
    form_id: str = ""
    form_tag: str = ""
    sequence: int = 0
    has_anchor_tags: bool = False
    adjustment_category: str = ""


@dataclass(slots=True)
class SignerInput:
    signer_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    role: str = ""
    sequence: int = 1
    auth_method: AuthMethod = AuthMethod.NONE
    auth_methods: list[AuthMethod] = field(default_factory=list)
    password: str | None = None
    sms_phone_number: str = ""
    in_person: bool = False
    properties: list[tuple[str, str]] = field(default_factory=list)
    contact: dict[str, str] = field(default_factory=dict)
    email_subject: str = ""
    email_message: str = ""
    merge_field_mapping: dict[str, str] = field(default_factory=dict)
    signature_image: bytes | None = None
    initials_image: bytes | None = None
    auto_apply_signature: bool = False
    mandate_doc_upload: bool = False


@dataclass(slots=True)
class SessionInput:
    session_id: str | None = None
    info: SessionInfoInput = field(default_factory=SessionInfoInput)
    documents: list[DocumentInput] = field(default_factory=list)
    signers: list[SignerInput] = field(default_factory=list)


@dataclass(slots=True)
class CopyOptions:
    version: int = 0
    retain_fields: bool = True


@dataclass(slots=True)
class TemplateFieldInput:
    """A template field as given: PDF points, origin top-left of the page, 1-based page."""

    type: FieldType
    role: str
    page_number: int
    x: float
    y: float
    width: float
    height: float
    option: FieldOption = FieldOption.REQUIRED
    font_size: float | None = None
    items: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MergeFieldInput:
    key: str
    page_number: int
    x: float
    y: float
    width: float
    height: float
    default: str = ""
    font_size: float | None = None


@dataclass(slots=True)
class TemplateInput:
    name: str
    file_name: str
    file_bytes: bytes
    form_id: str = ""  # empty: the server makes one up
    fields: list[TemplateFieldInput] = field(default_factory=list)
    merge_fields: list[MergeFieldInput] = field(default_factory=list)
