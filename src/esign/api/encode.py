"""Responses on the wire: PascalCase members, .NET dates, enums as integers, the envelope."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.responses import Response

from esign.api.codec import ms_date
from esign.domain.audit import AuditEvent
from esign.domain.jobs import WebhookDelivery
from esign.domain.model import Document, Field, Signer, SigningSession, User
from esign.domain.ports import SessionRow

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
_DATE_TEXT = re.compile(rb'"/Date\((-?\d+)\)/"')


def render(
    payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    raw = orjson.dumps(payload)
    # .NET readers want the slashes of "\/Date(ms)\/" escaped in the JSON text itself.
    raw = _DATE_TEXT.sub(rb'"\\/Date(\1)\\/"', raw)
    return Response(
        raw, status_code=status, media_type="application/json; charset=utf-8", headers=headers
    )


def success(
    return_value: str | None = None, details: list[str] | None = None, **members: Any
) -> dict[str, Any]:
    return {
        "Message": "Success",
        "Details": details or [],
        "ReturnValue": return_value,
        "ErrorCodes": [],
        **members,
    }


def failure(details: list[str], codes: list[str], **members: Any) -> dict[str, Any]:
    return {
        "Message": "Error",
        "Details": details,
        "ReturnValue": None,
        "ErrorCodes": codes,
        **members,
    }


def session(s: SigningSession) -> dict[str, Any]:
    i = s.info
    info = {
        "Id": s.id,
        "SigningSessionId": s.id,
        "Title": i.title,
        "Description": i.description,
        "ReturnURL": i.return_url,
        "TransactionId": i.transaction_id,
        "CopyTo": i.copy_to,
        "AllowDelegation": i.allow_delegation,
        "EmailOptions": i.email_options,
        "FirstSigner": i.first_signer,
        "ClientID": s.client_id,
        "OwnerID": s.owner_user_id,
        "OwnerName": i.owner_name,
        "OwnerEmail": s.owner_username or i.owner_email,
        "OwnerSignature": i.owner_signature,
        "Password": None,
        "UseSequence": int(i.use_sequence),
        "ExpiresOn": ms_date(i.expires_on),
        "ReminderFrequencyDays": i.reminder_frequency_days,
        "SendSignerInvites": i.send_signer_invites,
        "SendSessionRedirectUrl": i.send_session_redirect_url,
        "ApplicationKey": i.application_key,
        "RemoveUnassignedSignerRoles": False,
        "StatusCode": int(s.status),
        "Status": s.status.label,
        "CreatedOn": ms_date(s.created_at),
        "CompletedOn": ms_date(s.completed_at),
        "PurgeDueOn": ms_date(s.purge_due_at),
    }
    return {
        "Id": s.id,
        "SigningSessionId": s.id,
        "SessionInfo": info,
        "Documents": [document(d, s) for d in s.documents],
        "Signers": [signer(g, s.id) for g in s.signers],
    }


def document(d: Document, s: SigningSession) -> dict[str, Any]:
    return {
        "DocumentId": d.id,
        "Id": d.id,
        "FileName": d.file_name,
        "Sequence": d.sequence,
        "PageCount": d.page_count or 0,
        "FormId": d.form_id,
        "FormTag": d.form_tag,
        "HasAnchorTags": d.has_anchor_tags,
        "AnchorTagsAdjustmentCategory": d.adjustment_category,
        "ProcessingStatus": d.processing_status.value,
        "ProcessingErrors": list(d.processing_errors),
        "ContentType": d.content_type,
        "Size": d.size,
        "Sha256": d.sha256,
        "Fields": [field(f, d, s) for f in d.fields],
    }


def field(f: Field, d: Document, s: SigningSession) -> dict[str, Any]:
    width, height = d.page_width or 612.0, d.page_height or 792.0
    holder = s.signer_for_role(f.role)
    return {
        "FieldId": f.id,
        "Type": f.type.value,
        "Option": f.option.value,
        "Role": f.role,
        "SignerId": holder.id if holder else None,
        "PageNumber": f.page_index + 1,
        "X": round(f.x * width, 2),
        "Y": round(f.y * height, 2),
        "Width": round(f.width * width, 2),
        "Height": round(f.height * height, 2),
        "FontSize": f.font_size or 0,
        "Items": list(f.items),
        "Value": f.value,
    }


def signer(g: Signer, session_id: str) -> dict[str, Any]:
    return {
        "SignerId": g.id,
        "SigningSessionId": session_id,
        "FirstName": g.first_name,
        "LastName": g.last_name,
        "FullName": g.full_name,
        "EmailAddress": g.email,
        "SignerRole": g.role,
        "Sequence": g.sequence,
        "AuthenticationSettings": {
            "Password": None,
            "SMSPhoneNumber": g.sms_phone_number,
            "InPerson": g.in_person,
        },
        "AuthMethod": int(g.auth_method),
        "AuthMethods": [int(m) for m in g.auth_methods],
        "Properties": [{"Key": k, "Value": v} for k, v in g.properties],
        "SignerEmailSubject": g.email_subject,
        "SignerEmailMessage": g.email_message,
        "MergeFieldMapping": dict(g.merge_field_mapping),
        "SignatureImageBase64": None,
        "InitialsImageBase64": None,
        "AutoApplySignature": g.auto_apply_signature,
        "MandateDocUpload": g.mandate_doc_upload,
        "StatusCode": int(g.status),
        "StateCode": 0,
        "DeclinedReason": g.declined_reason or None,
        "InvitedOn": ms_date(g.invited_at),
        "CompletedOn": ms_date(g.completed_at),
    }


def lite_row(r: SessionRow) -> dict[str, Any]:
    return {
        "SigningSessionId": r.id,
        "Title": r.title,
        "TransactionId": r.transaction_id,
        "StatusCode": int(r.status),
        "CreatedOn": ms_date(r.created_at),
        "OwnerEmail": r.owner_username,
    }


def user(u: User) -> dict[str, Any]:
    return {
        "SystemUserId": u.id,
        "Username": u.username,
        "FirstName": u.first_name,
        "LastName": u.last_name,
        "Password": None,
        "Company": u.company,
        "EmailSignature": u.email_signature,
        "StatusCode": str(int(u.status)),
        "Region": u.region,
        "SubscriptionType": u.subscription_type,
        "TimeZoneId": u.time_zone_id,
        "CellNumber": u.cell_number,
        "PhoneNumber": u.phone_number,
        "DateFormat": u.date_format,
        "JobTitle": u.job_title,
        "IsAdmin": u.is_admin,
    }


def action_log(e: AuditEvent) -> dict[str, Any]:
    return {
        "Date": ms_date(e.at),
        "IPAddress": e.actor.ip,
        "Description": e.description,
        "Action": e.kind.value,
        "Actor": e.actor.name or e.actor.kind,
        "UserAgent": e.actor.user_agent,
        "Sequence": e.seq,
        "Hash": e.hash,
        "PreviousHash": e.prev_hash,
    }


def delivery(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "DeliveryId": d.id,
        "SigningSessionId": d.session_id,
        "Url": d.url,
        "Body": d.body,
        "Status": d.status,
        "CreatedOn": ms_date(d.created_at),
        "NextAttemptOn": ms_date(d.next_attempt_at),
        "Attempts": [
            {
                "Date": ms_date(a.at),
                "StatusCode": a.status_code,
                "Error": a.error,
                "DurationMs": a.duration_ms,
            }
            for a in d.attempts
        ],
    }
