"""The eSign request types (reference §3) as codec specs, and their mapping to use-case inputs."""

from __future__ import annotations

from typing import Any

from esign.api.codec import (
    BOOL,
    BYTES,
    DATE,
    ID,
    INT,
    LONG_STR,
    MAP,
    NUMBER,
    PROPS,
    RECORD,
    STR,
    Spec,
    WireError,
    enum,
    list_of,
    obj,
)
from esign.domain.documents import TAG_TYPES
from esign.domain.enums import (
    AuthMethod,
    EmailOptions,
    FieldOption,
    FieldType,
    UserStatus,
    UseSequence,
)
from esign.domain.model import AnchorOffset
from esign.services.commands import (
    CopyOptions,
    DocumentInput,
    MergeFieldInput,
    SessionInfoInput,
    SessionInput,
    SignerInput,
    TemplateFieldInput,
    TemplateInput,
)
from esign.services.users import UserInput

AUTH_SETTINGS = obj(
    "AuthenticationSettings",
    {
        "Password": STR,
        "SMSPhoneNumber": STR,
        "InPerson": BOOL,
    },
    aliases={"PhoneNumber": "SMSPhoneNumber", "SmsPhoneNumber": "SMSPhoneNumber"},
)

SIGNER = obj(
    "Signer",
    {
        "SignerId": ID,
        "FirstName": STR,
        "LastName": STR,
        "EmailAddress": STR,
        "SignerRole": STR,
        "Sequence": INT,
        "AuthenticationSettings": AUTH_SETTINGS,
        "AuthMethod": enum(AuthMethod),
        "AuthMethods": list_of(enum(AuthMethod)),
        "Properties": PROPS,
        "Contact": RECORD,
        "FullName": STR,
        "SignerEmailSubject": STR,
        "SignerEmailMessage": LONG_STR,
        "MergeFieldMapping": MAP,
        "SignatureImageBase64": BYTES,
        "InitialsImageBase64": BYTES,
        "AutoApplySignature": BOOL,
        "MandateDocUpload": BOOL,
        "StatusCode": INT,
        "StateCode": INT,
        "SigningSessionId": ID,
    },
    aliases={
        "AuthenticateSigner": "AuthenticationSettings",
        "Email": "EmailAddress",
        "Role": "SignerRole",
        "Id": "SignerId",
    },
)

DOCUMENT = obj(
    "Document",
    {
        "FileName": STR,
        "FileBytes": BYTES,
        "FormId": STR,
        "FormTag": STR,
        "Sequence": INT,
        "HasAnchorTags": BOOL,
        "AnchorTagsAdjustmentCategory": STR,
        "DocumentId": ID,
    },
)

SESSION_INFO = obj(
    "SessionInfo",
    {
        "Id": ID,
        "Title": STR,
        "Description": LONG_STR,
        "ReturnURL": STR,
        "TransactionId": STR,
        "CopyTo": STR,
        "AllowDelegation": BOOL,
        "EmailOptions": enum(EmailOptions),
        "FirstSigner": BOOL,
        "OwnerID": STR,
        "OwnerName": STR,
        "OwnerEmail": STR,
        "OwnerSignature": LONG_STR,
        "Password": STR,
        "UseSequence": enum(UseSequence),
        "ExpiresOn": DATE,
        "ReminderFrequencyDays": INT,
        "SendSignerInvites": BOOL,
        "SendSessionRedirectUrl": STR,
        "ApplicationKey": STR,
        "RemoveUnassignedSignerRoles": BOOL,
        "ClientID": STR,
        "SigningSessionId": ID,
    },
    aliases={"TransactionTitle": "Title", "ReturnUrl": "ReturnURL"},
)

SESSION = obj(
    "Session",
    {
        "Id": ID,
        "SigningSessionId": ID,
        "SessionInfo": SESSION_INFO,
        "Documents": list_of(DOCUMENT),
        "Signers": list_of(SIGNER),
    },
)

COPY_OPTIONS = obj("CopyOptions", {"Version": INT, "RetainFields": BOOL})

USER = obj(
    "User",
    {
        "SystemUserId": ID,
        "Username": STR,
        "FirstName": STR,
        "LastName": STR,
        "Password": STR,
        "Company": STR,
        "EmailSignature": LONG_STR,
        "StatusCode": enum(UserStatus),
        "Region": STR,
        "SubscriptionType": STR,
        "TimeZoneId": STR,
        "CellNumber": STR,
        "PhoneNumber": STR,
        "DateFormat": STR,
        "JobTitle": STR,
    },
    aliases={
        "EncryptedPassword": "Password",
        "SubscriptionTypes": "SubscriptionType",
        "UserName": "Username",
    },
)


# --- templates and anchor adjustment categories (this server's own API; see docs/decisions) --

TEMPLATE_FIELD = obj(
    "TemplateField",
    {
        "Type": enum(FieldType),
        "Option": enum(FieldOption),
        "Role": STR,
        "PageNumber": INT,
        "X": NUMBER,
        "Y": NUMBER,
        "Width": NUMBER,
        "Height": NUMBER,
        "FontSize": NUMBER,
        "Items": list_of(STR),
    },
    aliases={"SignerRole": "Role"},
)

MERGE_FIELD = obj(
    "TemplateMergeField",
    {
        "Key": STR,
        "DefaultValue": STR,
        "PageNumber": INT,
        "X": NUMBER,
        "Y": NUMBER,
        "Width": NUMBER,
        "Height": NUMBER,
        "FontSize": NUMBER,
    },
    aliases={"Default": "DefaultValue"},
)

TEMPLATE = obj(
    "Template",
    {
        "FormId": STR,
        "Name": STR,
        "Document": obj("TemplateDocument", {"FileName": STR, "FileBytes": BYTES}),
        "Fields": list_of(TEMPLATE_FIELD),
        "MergeFields": list_of(MERGE_FIELD),
    },
)

ANCHOR_OFFSET = obj("AnchorOffset", {"X": NUMBER, "Y": NUMBER, "Width": NUMBER, "Height": NUMBER})

ADJUSTMENTS = obj(
    "AnchorAdjustments",
    dict.fromkeys(TAG_TYPES, ANCHOR_OFFSET),
    closed="is not a tag type; use " + ", ".join(TAG_TYPES),
)


def body(members: dict[str, Spec]) -> Spec:
    """A request body: camelCase parameter names, matched case-insensitively."""
    return obj("Request", members)


SESSION_BODY = body({"userName": STR, "session": SESSION, "encryptedToken": STR})
COPY_BODY = body(
    {"userName": STR, "copyOptions": COPY_OPTIONS, "session": SESSION, "encryptedToken": STR}
)
USER_BODY = body({"salt": STR, "user": USER, "oldUsername": STR, "encryptedToken": STR})
PROVISION_BODY = body(
    {"salt": STR, "systemUserId": ID, "userStatus": enum(UserStatus), "encryptedToken": STR}
)
INVITE_BODY = body(
    {
        "signerList": list_of(SIGNER),
        "signingSessionId": ID,
        "returnURL": STR,
        "encryptedToken": STR,
    }
)
UPDATE_SIGNERS_BODY = body(
    {"userName": STR, "signingSessionId": ID, "signers": list_of(SIGNER), "encryptedToken": STR}
)
TRANSACTION_BODY = body(
    {"userName": STR, "signingSessionId": ID, "newTransactionId": STR, "encryptedToken": STR}
)
EDIT_BODY = body({"userName": STR, "encryptedToken": STR})
TEMPLATE_BODY = body({"template": TEMPLATE, "encryptedToken": STR})
ADJUSTMENT_BODY = body({"Adjustments": ADJUSTMENTS, "encryptedToken": STR})


def session_input(raw: dict[str, Any], *, for_update: bool = False) -> SessionInput:
    info = raw.get("SessionInfo", {})
    session_id = (
        raw.get("Id")
        or raw.get("SigningSessionId")
        or info.get("Id")
        or info.get("SigningSessionId")
    )
    return SessionInput(
        session_id=session_id,
        info=_info(info, for_update),
        documents=[_document(d) for d in raw.get("Documents", []) if d is not None],
        signers=[signer_input(s) for s in raw.get("Signers", []) if s is not None],
    )


def _info(raw: dict[str, Any], for_update: bool) -> SessionInfoInput:
    remove = bool(raw.get("RemoveUnassignedSignerRoles", False))
    if for_update:
        # .NET clients send every member with its default; on update only the flag counts.
        return SessionInfoInput(remove_unassigned_signer_roles=remove)
    return SessionInfoInput(
        title=raw.get("Title"),
        description=raw.get("Description"),
        return_url=raw.get("ReturnURL"),
        transaction_id=raw.get("TransactionId"),
        copy_to=raw.get("CopyTo"),
        allow_delegation=raw.get("AllowDelegation"),
        email_options=raw.get("EmailOptions"),
        first_signer=raw.get("FirstSigner"),
        owner_name=raw.get("OwnerName"),
        owner_email=raw.get("OwnerEmail"),
        owner_signature=raw.get("OwnerSignature"),
        password=raw.get("Password") or None,
        use_sequence=raw.get("UseSequence"),
        expires_on=raw.get("ExpiresOn"),
        reminder_frequency_days=raw.get("ReminderFrequencyDays"),
        send_signer_invites=raw.get("SendSignerInvites"),
        send_session_redirect_url=raw.get("SendSessionRedirectUrl"),
        application_key=raw.get("ApplicationKey"),
        remove_unassigned_signer_roles=remove,
    )


def _document(raw: dict[str, Any]) -> DocumentInput:
    return DocumentInput(
        file_name=raw.get("FileName", ""),
        file_bytes=raw.get("FileBytes"),
        form_id=raw.get("FormId", ""),
        form_tag=raw.get("FormTag", ""),
        sequence=raw.get("Sequence", 0),
        has_anchor_tags=raw.get("HasAnchorTags", False),
        adjustment_category=raw.get("AnchorTagsAdjustmentCategory", ""),
    )


def signer_input(raw: dict[str, Any]) -> SignerInput:
    auth = raw.get("AuthenticationSettings", {})
    first, last = raw.get("FirstName", ""), raw.get("LastName", "")
    if not (first or last) and raw.get("FullName"):
        first, _, last = raw["FullName"].strip().rpartition(" ")
    return SignerInput(
        signer_id=raw.get("SignerId"),
        first_name=first,
        last_name=last,
        email=raw.get("EmailAddress", ""),
        role=raw.get("SignerRole", ""),
        sequence=raw.get("Sequence", 1),
        auth_method=raw.get("AuthMethod", AuthMethod.NONE),
        auth_methods=raw.get("AuthMethods", []),
        password=auth.get("Password") or None,
        sms_phone_number=auth.get("SMSPhoneNumber", ""),
        in_person=auth.get("InPerson", False),
        properties=raw.get("Properties", []),
        contact=raw.get("Contact", {}),
        email_subject=raw.get("SignerEmailSubject", ""),
        email_message=raw.get("SignerEmailMessage", ""),
        merge_field_mapping=raw.get("MergeFieldMapping", {}),
        signature_image=raw.get("SignatureImageBase64") or None,
        initials_image=raw.get("InitialsImageBase64") or None,
        auto_apply_signature=raw.get("AutoApplySignature", False),
        mandate_doc_upload=raw.get("MandateDocUpload", False),
    )


def copy_options(raw: dict[str, Any]) -> CopyOptions:
    return CopyOptions(version=raw.get("Version", 0), retain_fields=raw.get("RetainFields", True))


def user_input(raw: dict[str, Any]) -> UserInput:
    return UserInput(
        system_user_id=raw.get("SystemUserId"),
        username=raw.get("Username"),
        first_name=raw.get("FirstName"),
        last_name=raw.get("LastName"),
        encrypted_password=raw.get("Password"),
        company=raw.get("Company"),
        email_signature=raw.get("EmailSignature"),
        status=raw.get("StatusCode"),
        region=raw.get("Region"),
        subscription_type=raw.get("SubscriptionType"),
        time_zone_id=raw.get("TimeZoneId"),
        cell_number=raw.get("CellNumber"),
        phone_number=raw.get("PhoneNumber"),
        date_format=raw.get("DateFormat"),
        job_title=raw.get("JobTitle"),
    )


def template_input(raw: dict[str, Any]) -> TemplateInput:
    document = raw.get("Document", {})
    return TemplateInput(
        name=raw.get("Name", ""),
        form_id=raw.get("FormId", ""),
        file_name=document.get("FileName", ""),
        file_bytes=document.get("FileBytes", b""),
        fields=[
            _template_field(f, i) for i, f in enumerate(raw.get("Fields", [])) if f is not None
        ],
        merge_fields=[
            _merge_field(m, i) for i, m in enumerate(raw.get("MergeFields", [])) if m is not None
        ],
    )


def _box(raw: dict[str, Any], where: str) -> dict[str, Any]:
    for name in ("PageNumber", "X", "Y", "Width", "Height"):
        if name not in raw:
            raise WireError(f"{where}.{name}", "is required")
    return {
        "page_number": raw["PageNumber"],
        "x": raw["X"],
        "y": raw["Y"],
        "width": raw["Width"],
        "height": raw["Height"],
        "font_size": raw.get("FontSize"),
    }


def _template_field(raw: dict[str, Any], index: int) -> TemplateFieldInput:
    where = f"template.Fields[{index}]"
    if "Type" not in raw:
        raise WireError(f"{where}.Type", "is required")
    return TemplateFieldInput(
        type=raw["Type"],
        option=raw.get("Option", FieldOption.REQUIRED),
        role=raw.get("Role", ""),
        items=raw.get("Items", []),
        **_box(raw, where),
    )


def _merge_field(raw: dict[str, Any], index: int) -> MergeFieldInput:
    return MergeFieldInput(
        key=raw.get("Key", ""),
        default=raw.get("DefaultValue", ""),
        **_box(raw, f"template.MergeFields[{index}]"),
    )


def offsets(raw: dict[str, Any]) -> dict[str, AnchorOffset]:
    """Adjustments as decoded: tag type -> {X, Y, Width, Height}, each 0 when not given."""
    return {
        tag: AnchorOffset(
            x=o.get("X", 0.0),
            y=o.get("Y", 0.0),
            width=o.get("Width", 0.0),
            height=o.get("Height", 0.0),
        )
        for tag, o in raw.items()
    }
