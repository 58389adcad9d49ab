"""The domain's error tree. Each error has a stable machine code; the wire layer owns the text.

`params` carries the values a message needs (a file name, a status), never secrets.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, **params: Any) -> None:
        super().__init__(self.code, params)
        self.params = params


class InvalidToken(DomainError):
    code = "invalid_token"


class InvalidApiKey(DomainError):
    code = "invalid_api_key"


class InvalidUserAccount(DomainError):
    code = "invalid_user_account"


class RateLimited(DomainError):
    """Too many failed attempts; `retry_after` seconds until the next one is considered."""

    code = "rate_limited"


class UsernameNotFound(DomainError):
    code = "username_not_found"


class UserNotFound(DomainError):
    code = "user_not_found"


class AdminOnly(DomainError):
    """The caller is a user who is not an administrator of the client (decision 0039)."""

    code = "admin_only"


class UserInactive(DomainError):
    code = "user_inactive"


class UsernameTaken(DomainError):
    code = "username_taken"


class SessionNotFound(DomainError):
    code = "session_not_found"


class SignerNotFound(DomainError):
    code = "signer_not_found"


class DocumentNotFound(DomainError):
    code = "document_not_found"


class WrongStatus(DomainError):
    """The session's status does not allow the action (params: action, status)."""

    code = "wrong_status"


class SignerActive(DomainError):
    """A signer has started or finished, so the session can no longer be paused (params:
    signer, status)."""

    code = "signer_active"


class ValidationFailed(DomainError):
    """Input breaks a rule (params: field, reason)."""

    code = "validation_failed"


class StartRefused(DomainError):
    """StartSession's checks failed; `problems` lists each one."""

    code = "start_refused"


class DocumentsPending(DomainError):
    code = "documents_pending"


class SessionPurged(DomainError):
    code = "session_purged"


class PurgeNotPending(DomainError):
    code = "purge_not_pending"


class PurgeWaitOver(DomainError):
    """The purge wait has ended: the documents are gone, whether or not the sweep ran yet."""

    code = "purge_wait_over"


class AuditTrailDamaged(DomainError):
    """A stored event of the session's trail cannot be read (params: seq)."""

    code = "audit_trail_damaged"


class DocumentNotReady(DomainError):
    code = "document_not_ready"


class DocumentFailed(DomainError):
    """The document could not be processed (params: file_name)."""

    code = "document_failed"


class TemplateNotFound(DomainError):
    code = "template_not_found"


class AdjustmentCategoryNotFound(DomainError):
    code = "adjustment_category_not_found"
