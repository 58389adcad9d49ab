"""Responses on the wire: PascalCase members, .NET dates, enums as integers, the envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response

from esign.api.codec import ms_date
from esign.domain.audit import AuditEvent
from esign.domain.jobs import WebhookDelivery
from esign.domain.model import (
    AnchorOffset,
    Document,
    Field,
    MergeField,
    PageSize,
    Signer,
    SigningSession,
    Template,
    User,
)
from esign.domain.ports import SessionRow


def render(
    payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return answer(json_text(payload), status, headers)


def answer(raw: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        raw, status_code=status, media_type="application/json; charset=utf-8", headers=headers
    )


def json_text(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)


def net_date(moment: datetime | None) -> orjson.Fragment | None:
    """A .NET JSON date with its slashes escaped in the JSON text, as .NET readers want it.
    Only dates are written so: a text member that reads "/Date(1)/" stays text for them."""
    text = ms_date(moment)
    return None if text is None else orjson.Fragment(b'"%s"' % text.replace("/", "\\/").encode())


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
        "TransactionTitle": i.title,  # read as Title (the reference's Copy example sends it)
        "Description": i.description,
        "ReturnURL": i.return_url,
        "TransactionId": i.transaction_id,
        "CopyTo": i.copy_to,
        "AllowDelegation": i.allow_delegation,
        "EmailOptions": int(i.email_options),
        "FirstSigner": i.first_signer,
        "ClientID": s.client_id,
        "OwnerID": s.owner_user_id,
        "OwnerName": i.owner_name,
        "OwnerEmail": s.owner_username or i.owner_email,
        "OwnerSignature": i.owner_signature,
        "Password": None,
        "UseSequence": int(i.use_sequence),
        "ExpiresOn": net_date(i.expires_on),
        "ReminderFrequencyDays": i.reminder_frequency_days,
        "SendSignerInvites": i.send_signer_invites,
        "SendSessionRedirectUrl": i.send_session_redirect_url,
        "ApplicationKey": i.application_key,
        "RemoveUnassignedSignerRoles": i.remove_unassigned_signer_roles,
        "StatusCode": int(s.status),
        "Status": int(s.status),  # as StatusCode: enums go out as numbers (contract §1)
        "CreatedOn": net_date(s.created_at),
        "CompletedOn": net_date(s.completed_at),
        "PurgeDueOn": net_date(s.purge_due_at),
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
        "MergeFields": [_merge_field(m, d.page_size(m.page_index)) for m in d.merge_fields],
    }


def field(f: Field, d: Document, s: SigningSession) -> dict[str, Any]:
    holder = s.signer_for_role(f.role)
    return {
        "FieldId": f.id,
        **_field_shape(f, d.page_size(f.page_index)),
        "SignerId": holder.id if holder else None,
        "Value": f.value,
    }


def _points(x: float, y: float, width: float, height: float, page: PageSize) -> dict[str, Any]:
    """Normalised geometry as the wire has it: PDF points, origin top-left of the page."""
    return {
        "X": round(x * page.width, 2),
        "Y": round(y * page.height, 2),
        "Width": round(width * page.width, 2),
        "Height": round(height * page.height, 2),
    }


def _field_shape(f: Field, page: PageSize) -> dict[str, Any]:
    return {
        "Type": f.type.value,
        "Option": f.option.value,
        "Role": f.role,
        "PageNumber": f.page_index + 1,
        **_points(f.x, f.y, f.width, f.height, page),
        "FontSize": f.font_size or 0,
        "Items": list(f.items),
    }


def _merge_field(m: MergeField, page: PageSize) -> dict[str, Any]:
    return {
        "Key": m.key,
        "DefaultValue": m.default,
        "PageNumber": m.page_index + 1,
        **_points(m.x, m.y, m.width, m.height, page),
        "FontSize": m.font_size or 0,
    }


def _page(sizes: list[PageSize], index: int) -> PageSize:
    return sizes[index] if 0 <= index < len(sizes) else PageSize(612.0, 792.0)


def template_summary(t: Template) -> dict[str, Any]:
    return {
        "FormId": t.id,
        "Name": t.name,
        "CreatedOn": net_date(t.created_at),
        "UpdatedOn": net_date(t.updated_at),
        "PageCount": t.page_count,
        "FileName": t.file_name,
    }


def template(t: Template) -> dict[str, Any]:
    """A template without its bytes: the PDF's pages, the fields and the merge fields."""
    return {
        **template_summary(t),
        "Document": {
            "FileName": t.file_name,
            "PageCount": t.page_count,
            "Size": t.size,
            "Sha256": t.sha256,
            "Pages": [
                {"PageNumber": n, "Width": p.width, "Height": p.height}
                for n, p in enumerate(t.page_sizes, start=1)
            ],
        },
        "Fields": [_field_shape(f, _page(t.page_sizes, f.page_index)) for f in t.fields],
        "MergeFields": [_merge_field(m, _page(t.page_sizes, m.page_index)) for m in t.merge_fields],
    }


def adjustments(offsets: dict[str, AnchorOffset]) -> dict[str, Any]:
    return {
        tag: {"X": o.x, "Y": o.y, "Width": o.width, "Height": o.height}
        for tag, o in offsets.items()
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
        "Contact": dict(g.contact) or None,
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
        "InvitedOn": net_date(g.invited_at),
        "CompletedOn": net_date(g.completed_at),
    }


def lite_row(r: SessionRow) -> dict[str, Any]:
    return {
        "SigningSessionId": r.id,
        "Title": r.title,
        "TransactionId": r.transaction_id,
        "StatusCode": int(r.status),
        "CreatedOn": net_date(r.created_at),
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
        "StatusCode": int(u.status),
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
        "Date": net_date(e.at),
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
        "Url": d.shown_url,
        "Body": d.body,
        "Status": d.status,
        "CreatedOn": net_date(d.created_at),
        "NextAttemptOn": net_date(d.next_attempt_at),
        "Attempts": [
            {
                "Date": net_date(a.at),
                "StatusCode": a.status_code,
                "Error": a.error,
                "DurationMs": a.duration_ms,
            }
            for a in d.attempts
        ],
    }
