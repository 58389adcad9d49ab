"""The session status machine (contract §4). The only way a session's status changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from esign.domain.enums import SessionStatus, SignerStatus, UseSequence
from esign.domain.errors import PurgeNotPending, PurgeWaitOver, SignerActive, WrongStatus
from esign.domain.model import SigningSession

S = SessionStatus

MAX_EXPIRY = timedelta(days=90)
MAX_REMINDER_DAYS = 30
ARCHIVE_AFTER = timedelta(days=30)


class Action(StrEnum):
    UPDATE = "update"
    START = "start"
    PAUSE = "pause"
    CANCEL = "cancel"
    CLOSE = "close"
    DELETE = "delete"
    EXPIRE = "expire"
    COMPLETE = "complete"
    PURGE = "purge"
    ARCHIVE = "archive"
    UPDATE_TRANSACTION = "update_transaction"
    INVITE = "invite"
    UPDATE_SIGNERS = "update_signers"
    ISSUE_LINK = "issue_link"


EDITABLE = frozenset({S.DRAFT, S.SENT, S.PAUSED})
# Listed apart (GetDeletedSessions, GetArchivedSessions), not with a transaction's sessions,
# as is any session once deleted (`deleted_at`), purged since or not (decision 0038).
LISTED_APART = frozenset({S.DELETED, S.ARCHIVED})
ALLOWED_FROM: dict[Action, frozenset[SessionStatus]] = {
    Action.UPDATE: EDITABLE,
    Action.UPDATE_TRANSACTION: EDITABLE,
    Action.UPDATE_SIGNERS: EDITABLE,
    Action.START: frozenset({S.DRAFT, S.PAUSED}),
    Action.PAUSE: frozenset({S.DRAFT, S.SENT}),
    Action.CANCEL: EDITABLE,
    Action.CLOSE: frozenset({S.SENT}),
    Action.INVITE: frozenset({S.SENT}),
    # A link for a session that can still be (or become) signed: never one that is over.
    Action.ISSUE_LINK: EDITABLE,
    Action.DELETE: frozenset(set(S) - {S.PURGED, S.DELETED}),
    Action.EXPIRE: frozenset({S.DRAFT, S.SENT, S.PAUSED}),
    Action.COMPLETE: frozenset({S.SENT}),
    Action.PURGE: frozenset({S.COMPLETED, S.EXPIRED, S.CANCELLED}),
    Action.ARCHIVE: frozenset({S.COMPLETED}),
}

_TARGET = {
    Action.START: S.SENT,
    Action.PAUSE: S.PAUSED,
    Action.CANCEL: S.CANCELLED,
    Action.CLOSE: S.COMPLETED,
    Action.DELETE: S.DELETED,
    Action.EXPIRE: S.EXPIRED,
    Action.COMPLETE: S.COMPLETED,
    Action.ARCHIVE: S.ARCHIVED,
}

_SIGNER_DONE = frozenset({SignerStatus.COMPLETED, SignerStatus.DECLINED, SignerStatus.DELEGATED})


def ensure_allowed(session: SigningSession, action: Action) -> None:
    if session.status not in ALLOWED_FROM[action]:
        raise WrongStatus(action=action.value, status=session.status.label)


def _move(session: SigningSession, status: SessionStatus, now: datetime) -> None:
    session.status = status
    session.status_changed_at = now


def transition(session: SigningSession, action: Action, now: datetime) -> SessionStatus:
    """Apply a simple transition (one target status) and return the status it left."""
    ensure_allowed(session, action)
    previous = session.status
    active = (SignerStatus.IN_PROGRESS, SignerStatus.COMPLETED)
    started = next((s for s in session.signers if s.status in active), None)
    if action is Action.PAUSE and started is not None:
        raise SignerActive(signer=started.full_name, status=started.status.label)
    _move(session, _TARGET[action], now)
    if action in (Action.CLOSE, Action.COMPLETE):
        session.completed_at = now
    if action is Action.DELETE:
        session.deleted_at = now
    # The session can no longer be signed: a signer not done is done with it (a deleted
    # session's signers as a cancelled one's, or they would stay Invited forever).
    if action in (Action.CANCEL, Action.CLOSE, Action.EXPIRE, Action.DELETE):
        for signer in session.signers:
            if signer.status not in _SIGNER_DONE:
                signer.status = SignerStatus.CANCELLED
                signer.invitation_due = False
    return previous


def request_purge(
    session: SigningSession, now: datetime, purge_now: bool, wait: timedelta
) -> SessionStatus:
    # Completed, Expired or Cancelled only (contract §4), so not a session already waiting
    # to be purged, even with purgeNow: CancelPurgingSession first (decision 0047).
    ensure_allowed(session, Action.PURGE)
    previous = session.status
    session.status_before_purge = previous
    if purge_now:
        _move(session, S.PURGED, now)
    else:
        _move(session, S.TO_BE_PURGED, now)
        session.purge_due_at = now + wait
    return previous


def expiry_due(session: SigningSession, now: datetime) -> bool:
    """Its ExpiresOn has passed and it was never expired (decision 0040)."""
    expires = session.info.expires_on
    return expires is not None and expires <= now and session.status in ALLOWED_FROM[Action.EXPIRE]


def purge_is_due(session: SigningSession, now: datetime) -> bool:
    """The purge wait is over; the sweep purges it within a minute."""
    due = session.purge_due_at
    return due is not None and due <= now and session.status in (S.TO_BE_PURGED, S.DELETED)


def documents_gone(session: SigningSession, now: datetime) -> bool:
    """Purged, or as good as purged: past the end of its purge wait, no byte is served, so a
    sweep that runs late never lengthens the wait the client chose."""
    return session.status is S.PURGED or purge_is_due(session, now)


def cancel_purge(session: SigningSession, now: datetime) -> None:
    if session.status is not S.TO_BE_PURGED or session.status_before_purge is None:
        raise PurgeNotPending(status=session.status.label)
    if purge_is_due(session, now):  # (reference §2.6: "inside the wait window" only)
        assert session.purge_due_at is not None
        raise PurgeWaitOver(due=session.purge_due_at.strftime("%Y-%m-%d %H:%M:%S"))
    _move(session, session.status_before_purge, now)
    session.purge_due_at = None


def finish_purge(session: SigningSession, now: datetime) -> None:
    """End the purge wait. A session deleted during the wait is purged all the same."""
    waiting = session.status is S.TO_BE_PURGED or (
        session.status is S.DELETED and session.purge_due_at is not None
    )
    if not waiting:
        raise PurgeNotPending(status=session.status.label)
    _move(session, S.PURGED, now)
    session.purge_due_at = None


def invite_due_signers(session: SigningSession, now: datetime) -> list[str]:
    """Mark the signers whose turn has come as invited; return their ids.

    All at once for non-sequential sessions; for sequential ones the lowest `Sequence` group
    that is not finished; nobody when invites are suspended (`UseSequence=2`) or disabled
    (`SendSignerInvites=false`, contract §4: the integrator hands out the links itself, and
    SendSignerEmailInvites invites whom it names).
    """
    if session.status is not S.SENT:
        return []
    if session.info.use_sequence is UseSequence.SUSPENDED or not session.info.send_signer_invites:
        return []
    waiting = [s for s in session.signers if s.status is SignerStatus.PENDING_INVITE]
    if session.info.use_sequence is UseSequence.SEQUENTIAL:
        unfinished = [s for s in session.signers if s.status not in _SIGNER_DONE]
        if not unfinished:
            return []
        turn = min(s.sequence for s in unfinished)
        waiting = [s for s in waiting if s.sequence == turn]
    for signer in waiting:
        signer.status = SignerStatus.INVITED
        signer.invited_at = now
        signer.invitation_due = True
    return [s.id for s in waiting]
