"""Session use cases that move a session through its status machine (contract §4)."""

from __future__ import annotations

from datetime import timedelta

from esign.domain import lifecycle
from esign.domain.audit import SYSTEM, AuditKind
from esign.domain.enums import ProcessingStatus, SessionStatus
from esign.domain.errors import DocumentsPending, SessionNotFound, StartRefused
from esign.domain.lifecycle import Action
from esign.domain.model import Signer, SigningSession, normalize_role
from esign.services import blob_gc, events, intake
from esign.services.commands import SignerInput
from esign.services.context import Caller, Deps
from esign.services.sessions import client_of, expire, invite_turn, load_for_change, owner


def start_problems(session: SigningSession) -> list[str]:
    """Why a session may not be sent yet; empty when it may."""
    problems: list[str] = []
    if not session.signers:
        problems.append("Error: The session has no signers.")
    if any(intake.signer_problem(_as_input(s)) for s in session.signers):
        problems.append("Error: All signers must have a last name and valid email address.")
    if not session.documents:
        problems.append("Error: The session has no documents.")
    for doc in session.documents:
        if doc.processing_status is ProcessingStatus.FAILED:
            problems.append(f"Error: {doc.file_name} could not be processed.")
    held = {normalize_role(s.role) for s in session.signers}
    for doc in session.documents:
        for f in doc.fields:
            if f.option.value == "req" and normalize_role(f.role) not in held:
                problems.append(
                    f"Error: A required field on page {f.page_index + 1} of {doc.file_name} "
                    f"belongs to role '{f.role}', which no signer holds."
                )
    return list(dict.fromkeys(problems))


def _as_input(signer: Signer) -> SignerInput:
    return SignerInput(
        first_name=signer.first_name,
        last_name=signer.last_name,
        email=signer.email,
        role=signer.role,
    )


def start_session(deps: Deps, caller: Caller, session_id: str, return_url: str) -> None:
    with deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        lifecycle.ensure_allowed(session, Action.START)
        pending = [
            d.file_name
            for d in session.documents
            if d.processing_status is ProcessingStatus.PENDING
        ]
        if pending:
            raise DocumentsPending(files=", ".join(pending))
        problems = start_problems(session)
        if problems:
            raise StartRefused(problems=problems)
        client = client_of(uow, caller)
        lifecycle.transition(session, Action.START, deps.clock.now())
        if return_url:
            session.info.return_url = return_url
        actor = caller.actor()
        invite_turn(deps, uow, client, session, actor)
        # invite_turn reported the signers it invited: compare with the statuses after it,
        # or each invited signer gets its status webhook twice.
        after_invites = events.signer_statuses(session)
        events.status_changed(
            deps, uow, client, session, actor, "Session sent for signature", after_invites
        )
        uow.sessions.save(session)
        uow.commit()


_DESCRIPTIONS = {
    Action.PAUSE: "Session paused for editing",
    Action.CANCEL: "Session cancelled",
    Action.CLOSE: "Session closed early by the sender; unfinished signers cancelled",
    Action.DELETE: "Session deleted",
}


def change_status(
    deps: Deps, caller: Caller, session_id: str, action: Action, username: str | None = None
) -> SigningSession:
    """EditSession (pause), CancelSession, CloseSession, DeleteSession."""
    with deps.uow() as uow:
        name = owner(uow, caller, username).username if username else ""
        session = load_for_change(deps, uow, caller, session_id)
        if action is Action.DELETE and session.status is SessionStatus.DELETED:
            return session  # deleting twice is not an error, and changes nothing
        client = client_of(uow, caller)
        before = events.signer_statuses(session)
        lifecycle.transition(session, action, deps.clock.now())
        events.status_changed(
            deps, uow, client, session, caller.actor(name), _DESCRIPTIONS[action], before
        )
        uow.sessions.save(session)
        uow.commit()
    return session


def purge_session(deps: Deps, caller: Caller, session_id: str, purge_now: bool) -> None:
    with deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        client = client_of(uow, caller)
        wait = timedelta(hours=client.settings.purge_wait_hours)
        lifecycle.request_purge(session, deps.clock.now(), purge_now, wait)
        description = (
            "Documents purged"
            if purge_now
            else "Purge requested; documents will be deleted after "
            f"{client.settings.purge_wait_hours} hours"
        )
        freed = _forget_blobs(session) if purge_now else []
        blob_gc.collect_later(deps, uow, freed)
        if session.purge_due_at is not None:
            events.due_at(uow, session, session.purge_due_at)
        # A purge changes no signer's status: compare with the current ones, or every signer
        # would get a status webhook.
        unchanged = events.signer_statuses(session)
        events.status_changed(deps, uow, client, session, caller.actor(), description, unchanged)
        uow.sessions.save(session)
        uow.commit()
    blob_gc.delete_unused(deps, freed, collected_later=True)


def cancel_purging(deps: Deps, caller: Caller, session_id: str) -> None:
    with deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        client = client_of(uow, caller)
        lifecycle.cancel_purge(session, deps.clock.now())
        events.audit(
            deps,
            uow,
            session,
            AuditKind.PURGE_CANCELLED,
            f"Purge cancelled; status back to {session.status.label}",
            caller.actor(),
        )
        events.session_status_changed(deps, uow, client, session)
        uow.sessions.save(session)
        uow.commit()


def _forget_blobs(session: SigningSession) -> list[str]:
    """Detach every byte the session holds; return the blob keys to delete after commit."""
    keys: list[str] = []
    for doc in session.documents:
        keys += [k for k in (doc.blob_key, doc.original_blob_key) if k]
        doc.blob_key = doc.original_blob_key = None
    for signer in session.signers:
        for key in (signer.signature_image_key, signer.initials_image_key):
            if key:
                keys.append(key)
        signer.signature_image_key = signer.initials_image_key = None
    return keys


def run_due(deps: Deps, client_id: str, session_id: str) -> None:
    """The sweep's work on one session: expire, finish a purge, or archive, as is due."""
    now = deps.clock.now()
    freed: list[str] = []
    with deps.uow() as uow:
        session = uow.sessions.get(client_id, session_id, for_update=True)
        client = uow.clients.get(client_id)
        if session is None or client is None:
            raise SessionNotFound(session_id=session_id)
        if lifecycle.expiry_due(session, now):
            expire(deps, uow, session, now)
            uow.commit()
            return
        before = events.signer_statuses(session)
        if lifecycle.purge_is_due(session, now):
            lifecycle.finish_purge(session, now)
            freed = _forget_blobs(session)
            blob_gc.collect_later(deps, uow, freed)
            description = "Documents purged after the waiting period"
        elif (
            session.status is SessionStatus.COMPLETED
            and session.completed_at
            and session.completed_at <= now - lifecycle.ARCHIVE_AFTER
        ):
            lifecycle.transition(session, Action.ARCHIVE, now)
            description = "Session archived 30 days after completion"
        else:
            return
        events.status_changed(deps, uow, client, session, SYSTEM, description, before)
        uow.sessions.save(session)
        uow.commit()
    blob_gc.delete_unused(deps, freed, collected_later=True)
