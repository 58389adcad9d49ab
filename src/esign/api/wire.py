"""The eSign request types (reference §3) as codec specs, and their mapping to use-case inputs."""

from __future__ import annotations

from typing import Any

from esign.api.codec import (
    BOOL,
    BYTES,
    DATE,
    INT,
    LONG_STR,
    MAP,
    PROPS,
    STR,
    Spec,
    enum,
    list_of,
    obj,
)
from esign.domain.enums import AuthMethod, UserStatus, UseSequence
from esign.services.commands import (
    CopyOptions,
    DocumentInput,
    SessionInfoInput,
    SessionInput,
    SignerInput,
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
        "SignerId": STR,
        "FirstName": STR,
        "LastName": STR,
        "EmailAddress": STR,
        "SignerRole": STR,
        "Sequence": INT,
        "AuthenticationSettings": AUTH_SETTINGS,
        "AuthMethod": enum(AuthMethod),
        "AuthMethods": list_of(enum(AuthMethod)),
        "Properties": PROPS,
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
        "SigningSessionId": STR,
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
        "DocumentId": STR,
    },
)

SESSION_INFO = obj(
    "SessionInfo",
    {
        "Id": STR,
        "Title": STR,
        "Description": LONG_STR,
        "ReturnURL": STR,
        "TransactionId": STR,
        "CopyTo": STR,
        "AllowDelegation": BOOL,
        "EmailOptions": INT,
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
        "SigningSessionId": STR,
    },
    aliases={"TransactionTitle": "Title", "ReturnUrl": "ReturnURL"},
)

SESSION = obj(
    "Session",
    {
        "Id": STR,
        "SigningSessionId": STR,
        "SessionInfo": SESSION_INFO,
        "Documents": list_of(DOCUMENT),
        "Signers": list_of(SIGNER),
    },
)

COPY_OPTIONS = obj("CopyOptions", {"Version": INT, "RetainFields": BOOL})

USER = obj(
    "User",
    {
        "SystemUserId": STR,
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


def body(members: dict[str, Spec]) -> Spec:
    """A request body: camelCase parameter names, matched case-insensitively."""
    return obj("Request", members)


SESSION_BODY = body({"userName": STR, "session": SESSION, "encryptedToken": STR})
COPY_BODY = body(
    {"userName": STR, "copyOptions": COPY_OPTIONS, "session": SESSION, "encryptedToken": STR}
)
USER_BODY = body({"salt": STR, "user": USER, "oldUsername": STR, "encryptedToken": STR})
PROVISION_BODY = body(
    {"salt": STR, "systemUserId": STR, "userStatus": enum(UserStatus), "encryptedToken": STR}
)
INVITE_BODY = body(
    {
        "signerList": list_of(SIGNER),
        "signingSessionId": STR,
        "returnURL": STR,
        "encryptedToken": STR,
    }
)
UPDATE_SIGNERS_BODY = body(
    {"userName": STR, "signingSessionId": STR, "signers": list_of(SIGNER), "encryptedToken": STR}
)
TRANSACTION_BODY = body(
    {"userName": STR, "signingSessionId": STR, "newTransactionId": STR, "encryptedToken": STR}
)
EDIT_BODY = body({"userName": STR, "encryptedToken": STR})


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
