"""The eSign API's enumerations, with the numeric values of contract §4."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class SessionStatus(IntEnum):
    DRAFT = 1
    SENT = 2
    COMPLETED = 3
    CANCELLED = 4
    DELETED = 5
    PAUSED = 6
    EXPIRED = 7
    PURGED = 8
    ARCHIVED = 9
    TO_BE_PURGED = 10

    @property
    def label(self) -> str:
        return _SESSION_LABELS[self]


_SESSION_LABELS = {
    SessionStatus.DRAFT: "Draft",
    SessionStatus.SENT: "Sent",
    SessionStatus.COMPLETED: "Completed",
    SessionStatus.CANCELLED: "Cancelled",
    SessionStatus.DELETED: "Deleted",
    SessionStatus.PAUSED: "Paused",
    SessionStatus.EXPIRED: "Expired",
    SessionStatus.PURGED: "Purged",
    SessionStatus.ARCHIVED: "Archived",
    SessionStatus.TO_BE_PURGED: "ToBePurged",
}


class SignerStatus(IntEnum):
    PENDING_INVITE = 1
    INVITED = 2
    IN_PROGRESS = 3
    COMPLETED = 4
    CANCELLED = 5
    DECLINED = 6
    DELEGATED = 7
    AUTHENTICATION_FAILED = 8

    @property
    def label(self) -> str:
        """The contract's name: "InProgress", "AuthenticationFailed"."""
        return self.name.title().replace("_", "")


class AuthMethod(IntEnum):
    NONE = 0
    PASSWORD = 1
    KBA = 2
    KBA_PLUS_PASSWORD = 3
    SMS = 4


class EmailOptions(IntEnum):
    """How CC recipients get the finished documents (reference §3.2). The vendor stopped
    sending attachments in August 2022, but clients still send 3."""

    LINKS = 0
    ATTACHMENTS = 3


class UseSequence(IntEnum):
    NON_SEQUENTIAL = 0
    SEQUENTIAL = 1
    SUSPENDED = 2


class UserStatus(IntEnum):
    INACTIVE = 0
    ACTIVE = 1


class ProcessingStatus(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    FAILED = "Failed"


class FieldType(StrEnum):
    SIGNATURE = "sig"
    INITIAL = "ini"
    DATE_TIME = "dt"
    DATE = "d"
    TIME = "t"
    TEXT = "txt"
    CHECKBOX = "chk"
    RADIO = "rdo"
    DROPDOWN = "ddl"


class FieldOption(StrEnum):
    REQUIRED = "req"
    OPTIONAL = "opt"
    AUTO = "aut"


class LiteSortColumn(StrEnum):
    SIGNING_SESSION_ID = "SigningSessionId"
    TITLE = "Title"
    TRANSACTION_ID = "TransactionId"
    STATUS_CODE = "StatusCode"
    CREATED_ON = "CreatedOn"
