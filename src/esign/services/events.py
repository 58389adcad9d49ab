"""Recording what happened: audit events, status-change webhooks and the jobs they need."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from esign.domain import documents as rules
from esign.domain.audit import Actor, AuditEvent, AuditKind
from esign.domain.enums import SessionStatus, SignerStatus
from esign.domain.jobs import Job, WebhookDelivery
from esign.domain.model import NO_ID, Client, Document, Signer, SigningSession
from esign.domain.ports import UnitOfWork
from esign.services.context import Deps, new_id

WEBHOOK_JOB = "webhook.deliver"
PROCESS_JOB = "document.process"
COLLECT_BLOBS_JOB = "blobs.collect"
DUE_JOB = "session.due"


def audit(
    deps: Deps,
    uow: UnitOfWork,
    session: SigningSession,
    kind: AuditKind,
    description: str,
    actor: Actor,
    **data: Any,
) -> None:
    uow.audit.append(
        AuditEvent(
            id=new_id(),
            session_id=session.id,
            client_id=session.client_id,
            kind=kind,
            description=description,
            actor=actor,
            at=deps.clock.now(),
            data=data,
        )
    )


def client_audit(
    deps: Deps,
    uow: UnitOfWork,
    client_id: str,
    kind: AuditKind,
    description: str,
    actor: Actor,
    **data: Any,
) -> None:
    """An action outside any session, in the client's own trail (decision 0035)."""
    uow.audit.append_to_client_trail(
        AuditEvent(
            id=new_id(),
            session_id=client_id,
            client_id=client_id,
            kind=kind,
            description=description,
            actor=actor,
            at=deps.clock.now(),
            data=data,
        )
    )


def add_job(
    uow: UnitOfWork, name: str, payload: dict[str, Any], key: str, run_at: datetime
) -> None:
    uow.jobs.add(Job(id=new_id(), name=name, payload=payload, key=key, run_at=run_at))


def process_later(deps: Deps, uow: UnitOfWork, session: SigningSession, doc: Document) -> None:
    """Have the document prepared in the background (conversion, anchor tags, merge values).
    One job per document, content and merge values: recording it twice records it once."""
    key = f"{PROCESS_JOB}:{doc.id}:{doc.sha256}"
    if rules.uses_merge_values(doc):
        key += ":" + rules.merge_digest(rules.merge_values(session.signers))
    add_job(
        uow,
        PROCESS_JOB,
        {"client_id": session.client_id, "session_id": session.id, "document_id": doc.id},
        key,
        deps.clock.now(),
    )


def session_status_changed(
    deps: Deps, uow: UnitOfWork, client: Client, session: SigningSession, new_session_id: str = ""
) -> None:
    _webhook(
        deps,
        uow,
        client,
        session,
        {
            "SigningSessionId": session.id,
            "NewSigningSessionId": new_session_id or NO_ID,
            "SignerId": NO_ID,
            "Type": "SessionStatus",
            "Status": int(session.status),
            "Title": session.info.title,
            "DeclinedReason": "",
        },
    )


def signer_status_changed(
    deps: Deps, uow: UnitOfWork, client: Client, session: SigningSession, signer: Signer
) -> None:
    _webhook(
        deps,
        uow,
        client,
        session,
        {
            "SigningSessionId": session.id,
            "NewSigningSessionId": NO_ID,
            "SignerId": signer.id,
            "Type": "SignerStatus",
            "Status": int(signer.status),
            "Title": session.info.title,
            "DeclinedReason": signer.declined_reason
            if signer.status is SignerStatus.DECLINED
            else "",
        },
    )


def _webhook(
    deps: Deps, uow: UnitOfWork, client: Client, session: SigningSession, data: dict[str, Any]
) -> None:
    url = client.settings.webhook_url
    if not url:
        return
    now = deps.clock.now()
    delivery = WebhookDelivery(
        id=new_id(),
        client_id=client.id,
        session_id=session.id,
        url=url,
        body=json.dumps({"Data": data}, separators=(",", ":")),
        created_at=now,
        next_attempt_at=now,
    )
    uow.webhooks.add(delivery)
    add_job(uow, WEBHOOK_JOB, {"delivery_id": delivery.id}, f"webhook:{delivery.id}", now)


def status_changed(
    deps: Deps,
    uow: UnitOfWork,
    client: Client,
    session: SigningSession,
    actor: Actor,
    description: str,
    previous_signer_status: dict[str, int],
) -> None:
    """A session's new status: its audit event and webhook, then for each signer whose status
    differs from `previous_signer_status` a webhook, and an audit event when the change
    cancelled the signer (an invitation records its own)."""
    kind = STATUS_EVENTS.get(session.status, AuditKind.SESSION_COMPLETED)
    audit(deps, uow, session, kind, description, actor)
    session_status_changed(deps, uow, client, session)
    for signer in session.signers:
        if previous_signer_status.get(signer.id) == int(signer.status):
            continue
        if signer.status is SignerStatus.CANCELLED:
            what = f"Signer {signer.full_name} <{signer.email}> cancelled: {description.lower()}"
            audit(deps, uow, session, AuditKind.SIGNER_CANCELLED, what, actor, signer_id=signer.id)
        signer_status_changed(deps, uow, client, session, signer)


def signer_statuses(session: SigningSession) -> dict[str, int]:
    return {s.id: int(s.status) for s in session.signers}


def due_at(uow: UnitOfWork, session: SigningSession, when: datetime) -> None:
    """Have the sweep's work on the session (expire it, end its purge wait) done at `when`,
    not up to a minute later when the sweep comes by (decision 0040)."""
    add_job(
        uow,
        DUE_JOB,
        {"client_id": session.client_id, "session_id": session.id},
        f"{DUE_JOB}:{session.id}:{when.isoformat()}",
        when,
    )


STATUS_EVENTS = {
    SessionStatus.SENT: AuditKind.SESSION_STARTED,
    SessionStatus.PAUSED: AuditKind.SESSION_PAUSED,
    SessionStatus.CANCELLED: AuditKind.SESSION_CANCELLED,
    SessionStatus.DELETED: AuditKind.SESSION_DELETED,
    SessionStatus.EXPIRED: AuditKind.SESSION_EXPIRED,
    SessionStatus.ARCHIVED: AuditKind.SESSION_ARCHIVED,
    SessionStatus.TO_BE_PURGED: AuditKind.PURGE_REQUESTED,
    SessionStatus.PURGED: AuditKind.SESSION_PURGED,
}
