"""What answers carry beside the envelope, as JSON Schema for the OpenAPI document.

Each schema follows its encoder in api/encode.py member for member; tests/api/test_openapi.py
checks real answers against them (no member missing, none undeclared), so the two cannot drift
apart unnoticed.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from esign.domain.enums import (
    AuthMethod,
    EmailOptions,
    FieldOption,
    FieldType,
    ProcessingStatus,
    SessionStatus,
    SignerStatus,
    UserStatus,
    UseSequence,
)

Schema = dict[str, Any]

ID: Schema = {"type": "string", "format": "uuid"}
TEXT: Schema = {"type": "string"}
MAYBE_TEXT: Schema = {"type": ["string", "null"]}
INT: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
DATE: Schema = {
    "type": ["string", "null"],
    "pattern": r"^/Date\(-?\d+\)/$",
    "description": "a .NET JSON date, written \\/Date(ms)\\/ (UTC milliseconds); null if none",
}
TEXTS: Schema = {"type": "array", "items": TEXT}


def _obj(members: dict[str, Schema]) -> Schema:
    """An object with exactly these members, every one always present."""
    return {
        "type": "object",
        "properties": members,
        "required": list(members),
        "additionalProperties": False,
    }


def _list(item: Schema) -> Schema:
    return {"type": "array", "items": item}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _numbers(enum: type[Enum]) -> Schema:
    members = list(enum)
    return {
        "type": "integer",
        "enum": [m.value for m in members],
        "description": ", ".join(f"{m.value} {m.name}" for m in members),
    }


def _names(enum: type[Enum]) -> Schema:
    return {"type": "string", "enum": [m.value for m in enum]}


_POINTS: dict[str, Schema] = {"X": NUMBER, "Y": NUMBER, "Width": NUMBER, "Height": NUMBER}
_FIELD_SHAPE: dict[str, Schema] = {
    "Type": _names(FieldType),
    "Option": _names(FieldOption),
    "Role": TEXT,
    "PageNumber": INT,
    **_POINTS,
    "FontSize": NUMBER,
    "Items": TEXTS,
}

_TEMPLATE_SUMMARY: dict[str, Schema] = {
    "FormId": TEXT,
    "Name": TEXT,
    "CreatedOn": DATE,
    "UpdatedOn": DATE,
    "PageCount": INT,
    "FileName": TEXT,
}

COMPONENTS: dict[str, Schema] = {
    "SessionInfoAnswer": _obj(
        {
            "Id": ID,
            "SigningSessionId": ID,
            "Title": TEXT,
            "TransactionTitle": TEXT,
            "Description": MAYBE_TEXT,
            "ReturnURL": MAYBE_TEXT,
            "TransactionId": MAYBE_TEXT,
            "CopyTo": MAYBE_TEXT,
            "AllowDelegation": BOOL,
            "EmailOptions": _numbers(EmailOptions),
            "FirstSigner": BOOL,
            "ClientID": ID,
            "OwnerID": ID,
            "OwnerName": MAYBE_TEXT,
            "OwnerEmail": MAYBE_TEXT,
            "OwnerSignature": MAYBE_TEXT,
            "Password": {"type": "null", "description": "never answered"},
            "UseSequence": _numbers(UseSequence),
            "ExpiresOn": DATE,
            "ReminderFrequencyDays": INT,
            "SendSignerInvites": BOOL,
            "SendSessionRedirectUrl": MAYBE_TEXT,
            "ApplicationKey": MAYBE_TEXT,
            "RemoveUnassignedSignerRoles": BOOL,
            "StatusCode": _numbers(SessionStatus),
            "Status": _numbers(SessionStatus),
            "CreatedOn": DATE,
            "CompletedOn": DATE,
            "PurgeDueOn": DATE,
        }
    ),
    "SessionAnswer": _obj(
        {
            "Id": ID,
            "SigningSessionId": ID,
            "SessionInfo": _ref("SessionInfoAnswer"),
            "Documents": _list(_ref("DocumentAnswer")),
            "Signers": _list(_ref("SignerAnswer")),
        }
    ),
    "DocumentAnswer": _obj(
        {
            "DocumentId": ID,
            "Id": ID,
            "FileName": TEXT,
            "Sequence": INT,
            "PageCount": INT,
            "FormId": TEXT,
            "FormTag": TEXT,
            "HasAnchorTags": BOOL,
            "AnchorTagsAdjustmentCategory": TEXT,
            "ProcessingStatus": _names(ProcessingStatus),
            "ProcessingErrors": TEXTS,
            "ContentType": TEXT,
            "Size": INT,
            "Sha256": TEXT,
            "Fields": _list(_ref("FieldAnswer")),
            "MergeFields": _list(_ref("MergeFieldAnswer")),
        }
    ),
    "FieldAnswer": _obj(
        {
            "FieldId": ID,
            **_FIELD_SHAPE,
            "SignerId": {"type": ["string", "null"], "format": "uuid"},
            "Value": MAYBE_TEXT,
        }
    ),
    "TemplateFieldAnswer": _obj(_FIELD_SHAPE),
    "MergeFieldAnswer": _obj(
        {"Key": TEXT, "DefaultValue": TEXT, "PageNumber": INT, **_POINTS, "FontSize": NUMBER}
    ),
    "SignerAnswer": _obj(
        {
            "SignerId": ID,
            "SigningSessionId": ID,
            "FirstName": TEXT,
            "LastName": TEXT,
            "FullName": TEXT,
            "EmailAddress": TEXT,
            "SignerRole": TEXT,
            "Sequence": INT,
            "AuthenticationSettings": _obj(
                {"Password": {"type": "null"}, "SMSPhoneNumber": TEXT, "InPerson": BOOL}
            ),
            "AuthMethod": _numbers(AuthMethod),
            "AuthMethods": _list(_numbers(AuthMethod)),
            "Properties": _list(_obj({"Key": TEXT, "Value": TEXT})),
            "Contact": {"type": ["object", "null"], "additionalProperties": TEXT},
            "SignerEmailSubject": TEXT,
            "SignerEmailMessage": TEXT,
            "MergeFieldMapping": {"type": "object", "additionalProperties": TEXT},
            "SignatureImageBase64": {"type": "null", "description": "kept, never answered"},
            "InitialsImageBase64": {"type": "null", "description": "kept, never answered"},
            "AutoApplySignature": BOOL,
            "MandateDocUpload": BOOL,
            "StatusCode": _numbers(SignerStatus),
            "StateCode": INT,
            "DeclinedReason": MAYBE_TEXT,
            "InvitedOn": DATE,
            "CompletedOn": DATE,
        }
    ),
    "LiteSessionAnswer": _obj(
        {
            "SigningSessionId": ID,
            "Title": TEXT,
            "TransactionId": MAYBE_TEXT,
            "StatusCode": _numbers(SessionStatus),
            "CreatedOn": DATE,
            "OwnerEmail": TEXT,
        }
    ),
    "UserAnswer": _obj(
        {
            "SystemUserId": ID,
            "Username": TEXT,
            "FirstName": TEXT,
            "LastName": TEXT,
            "Password": {"type": "null", "description": "never answered"},
            "Company": MAYBE_TEXT,
            "EmailSignature": MAYBE_TEXT,
            "StatusCode": _numbers(UserStatus),
            "Region": MAYBE_TEXT,
            "SubscriptionType": MAYBE_TEXT,
            "TimeZoneId": MAYBE_TEXT,
            "CellNumber": MAYBE_TEXT,
            "PhoneNumber": MAYBE_TEXT,
            "DateFormat": MAYBE_TEXT,
            "JobTitle": MAYBE_TEXT,
            "IsAdmin": BOOL,
        }
    ),
    "ActionLogAnswer": _obj(
        {
            "Date": DATE,
            "IPAddress": TEXT,
            "Description": TEXT,
            "Action": TEXT,
            "Actor": TEXT,
            "UserAgent": TEXT,
            "Sequence": INT,
            "Hash": TEXT,
            "PreviousHash": TEXT,
        }
    ),
    "DeliveryAnswer": _obj(
        {
            "DeliveryId": ID,
            "SigningSessionId": ID,
            "Url": {"type": "string", "description": "credentials and query hidden (***)"},
            "Body": {"type": "string", "description": "the JSON text POSTed (contract §8)"},
            "Status": {"type": "string", "enum": ["pending", "delivered", "failed", "refused"]},
            "CreatedOn": DATE,
            "NextAttemptOn": DATE,
            "Attempts": _list(
                _obj(
                    {
                        "Date": DATE,
                        "StatusCode": {"type": ["integer", "null"]},
                        "Error": MAYBE_TEXT,
                        "DurationMs": INT,
                    }
                )
            ),
        }
    ),
    "TemplateSummaryAnswer": _obj(_TEMPLATE_SUMMARY),
    "TemplateAnswer": _obj(
        {
            **_TEMPLATE_SUMMARY,
            "Document": _obj(
                {
                    "FileName": TEXT,
                    "PageCount": INT,
                    "Size": INT,
                    "Sha256": TEXT,
                    "Pages": _list(_obj({"PageNumber": INT, "Width": NUMBER, "Height": NUMBER})),
                }
            ),
            "Fields": _list(_ref("TemplateFieldAnswer")),
            "MergeFields": _list(_ref("MergeFieldAnswer")),
        }
    ),
}


# The members of each kind of answer beside the envelope's (Route.answers).
SESSION = {"SigningSessionId": ID, "Sessions": _list(_ref("SessionAnswer"))}
SESSIONS = {"Sessions": _list(_ref("SessionAnswer")), "TotalCount": INT}
LITE_SESSIONS = {"Sessions": _list(_ref("LiteSessionAnswer")), "TotalCount": INT}
SESSION_IDS = {"SessionIds": _list(ID), "TotalCount": INT}
USERS = {"Users": _list(_ref("UserAnswer"))}
ACTION_LOGS = {"ActionLogs": _list(_ref("ActionLogAnswer")), "TotalCount": INT}
VERIFIED = {
    "Verified": BOOL,
    "Events": INT,
    "Head": {"type": "string", "description": 'the hash of the trail\'s last event ("" if none)'},
    "BrokenAt": {"type": ["integer", "null"], "description": "the first broken link's Sequence"},
}
INVITE_URLS = {
    "InviteUrls": _list(_obj({"SignerId": ID, "EmailAddress": TEXT, "Url": TEXT})),
}
FILES = {
    "Files": _list(
        _obj(
            {
                "DocumentId": ID,
                "FileName": TEXT,
                "ContentType": TEXT,
                "FileBytes": _list({"type": "integer", "minimum": 0, "maximum": 255}),
            }
        )
    )
}
ROLES = {"Roles": TEXTS}
SIGNER_DOCUMENTS = {"Documents": _list({"type": "object"}), "TotalCount": INT}
TEMPLATE = {"Templates": _list(_ref("TemplateAnswer"))}
TEMPLATES = {"Templates": _list(_ref("TemplateSummaryAnswer")), "TotalCount": INT}
_OFFSET = _obj(_POINTS)
ADJUSTMENT = {
    "Category": TEXT,
    "Adjustments": {"type": "object", "additionalProperties": _OFFSET},
}
ADJUSTMENTS = {"Categories": TEXTS, "TotalCount": INT}
DELIVERIES = {"Deliveries": _list(_ref("DeliveryAnswer")), "TotalCount": INT}
