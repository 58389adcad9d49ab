"""The session status machine against contract §4, written from the contract's text (not from
the implementation's tables), and invitations by UseSequence 0/1/2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from esign.api.errors import text
from esign.domain import lifecycle
from esign.domain.enums import SessionStatus, SignerStatus, UseSequence
from esign.domain.errors import PurgeNotPending, SignerActive, WrongStatus
from esign.domain.lifecycle import Action
from esign.domain.model import SessionInfo, Signer, SigningSession

S = SessionStatus
G = SignerStatus
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
ALL = list(SessionStatus)


def make_signer(n: int, sequence: int = 1, status: SignerStatus = G.PENDING_INVITE) -> Signer:
    return Signer(
        id=f"s{n}",
        first_name="Pat",
        last_name=f"Doe{n}",
        email=f"s{n}@example.com",
        role=f"Buyer {n}",
        sequence=sequence,
        status=status,
    )


def make_session(
    status: SessionStatus = S.DRAFT,
    signers: list[Signer] | None = None,
    use_sequence: UseSequence = UseSequence.NON_SEQUENTIAL,
    send_invites: bool = True,
) -> SigningSession:
    return SigningSession(
        id="sess",
        client_id="c",
        owner_user_id="u",
        info=SessionInfo(title="T", use_sequence=use_sequence, send_signer_invites=send_invites),
        created_at=NOW - timedelta(days=1),
        status=status,
        signers=signers if signers is not None else [make_signer(1), make_signer(2)],
    )


# (action, statuses it is allowed from, the status it leads to) — contract §4 "Lifecycle rules".
CONTRACT = [
    (Action.START, {S.DRAFT, S.PAUSED}, S.SENT),
    (Action.PAUSE, {S.DRAFT, S.SENT}, S.PAUSED),
    (Action.CANCEL, {S.DRAFT, S.SENT, S.PAUSED}, S.CANCELLED),
    (Action.CLOSE, {S.SENT}, S.COMPLETED),
    (Action.COMPLETE, {S.SENT}, S.COMPLETED),
    # "any status but Purged → Deleted"; deleting what is already Deleted is refused as a
    # no-op (it would otherwise repeat the audit event and the webhook).
    (Action.DELETE, set(ALL) - {S.PURGED, S.DELETED}, S.DELETED),
    # Expiry concerns sessions still in flight.
    (Action.EXPIRE, {S.DRAFT, S.SENT, S.PAUSED}, S.EXPIRED),
    (Action.ARCHIVE, {S.COMPLETED}, S.ARCHIVED),
]

CASES = [(a, st, st in allowed, target) for a, allowed, target in CONTRACT for st in ALL]


@pytest.mark.parametrize(
    ("action", "status", "allowed", "target"),
    CASES,
    ids=[f"{a.value}-from-{st.label}" for a, st, _, _ in CASES],
)
def test_transitions_follow_the_contract(
    action: Action, status: SessionStatus, allowed: bool, target: SessionStatus
) -> None:
    session = make_session(status)
    if allowed:
        previous = lifecycle.transition(session, action, NOW)
        assert previous is status
        assert session.status is target
        assert session.status_changed_at == NOW
    else:
        with pytest.raises(WrongStatus) as caught:
            lifecycle.transition(session, action, NOW)
        # The error names the status the session is in (the wire text says so).
        assert caught.value.params == {"action": action.value, "status": status.label}
        assert session.status is status
        assert session.status_changed_at is None


@pytest.mark.parametrize("status", ALL, ids=[s.label for s in ALL])
def test_adding_documents_and_signers_only_in_draft_sent_or_paused(status: SessionStatus) -> None:
    session = make_session(status)
    for action in (Action.UPDATE, Action.UPDATE_SIGNERS, Action.UPDATE_TRANSACTION):
        if status in (S.DRAFT, S.SENT, S.PAUSED):
            lifecycle.ensure_allowed(session, action)
        else:
            with pytest.raises(WrongStatus) as caught:
                lifecycle.ensure_allowed(session, action)
            assert caught.value.params["status"] == status.label


@pytest.mark.parametrize("busy", [G.IN_PROGRESS, G.COMPLETED])
@pytest.mark.parametrize("status", [S.DRAFT, S.SENT])
def test_pause_is_refused_once_a_signer_started_or_finished(
    status: SessionStatus, busy: SignerStatus
) -> None:
    session = make_session(status, [make_signer(1, status=G.INVITED), make_signer(2, status=busy)])
    with pytest.raises(SignerActive):
        lifecycle.transition(session, Action.PAUSE, NOW)
    assert session.status is status


def test_pause_with_only_invited_signers_is_allowed() -> None:
    session = make_session(S.SENT, [make_signer(1, status=G.INVITED)])
    lifecycle.transition(session, Action.PAUSE, NOW)
    assert session.status is S.PAUSED


@pytest.mark.parametrize("action", [Action.CANCEL, Action.CLOSE])
def test_cancel_and_close_cancel_the_signers_not_done(action: Action) -> None:
    signers = [
        make_signer(1, status=G.COMPLETED),
        make_signer(2, status=G.INVITED),
        make_signer(3, status=G.IN_PROGRESS),
        make_signer(4, status=G.PENDING_INVITE),
    ]
    signers[1].invitation_due = True
    session = make_session(S.SENT, signers)
    lifecycle.transition(session, action, NOW)
    assert [s.status for s in session.signers] == [
        G.COMPLETED,
        G.CANCELLED,
        G.CANCELLED,
        G.CANCELLED,
    ]
    assert not any(s.invitation_due for s in session.signers)


def test_close_and_complete_record_the_completion_time() -> None:
    for action in (Action.CLOSE, Action.COMPLETE):
        session = make_session(S.SENT)
        lifecycle.transition(session, action, NOW)
        assert session.completed_at == NOW


def test_expiry_cancels_waiting_signers() -> None:
    session = make_session(S.SENT, [make_signer(1, status=G.INVITED)])
    lifecycle.transition(session, Action.EXPIRE, NOW)
    assert session.status is S.EXPIRED
    assert session.signers[0].status is G.CANCELLED


# --- purge ---------------------------------------------------------------------------------

PURGEABLE = {S.COMPLETED, S.EXPIRED, S.CANCELLED}


@pytest.mark.parametrize("status", ALL, ids=[s.label for s in ALL])
def test_purge_now_only_from_completed_expired_or_cancelled(status: SessionStatus) -> None:
    """(not while waiting to be purged either: CancelPurgingSession first, decision 0047)"""
    session = make_session(status)
    if status in PURGEABLE:
        assert lifecycle.request_purge(session, NOW, True, timedelta(hours=72)) is status
        assert session.status is S.PURGED
        assert session.purge_due_at is None
    else:
        with pytest.raises(WrongStatus):
            lifecycle.request_purge(session, NOW, True, timedelta(hours=72))
        assert session.status is status


@pytest.mark.parametrize("status", sorted(PURGEABLE))
def test_purge_later_waits_and_cancel_purging_restores_the_status(status: SessionStatus) -> None:
    session = make_session(status)
    lifecycle.request_purge(session, NOW, False, timedelta(hours=72))
    assert session.status is S.TO_BE_PURGED
    assert session.purge_due_at == NOW + timedelta(hours=72)
    lifecycle.cancel_purge(session, NOW + timedelta(hours=1))
    assert session.status is status
    assert session.purge_due_at is None


def test_finish_purge_after_the_wait() -> None:
    session = make_session(S.COMPLETED)
    lifecycle.request_purge(session, NOW, False, timedelta(hours=72))
    lifecycle.finish_purge(session, NOW + timedelta(hours=72))
    assert session.status is S.PURGED
    with pytest.raises(PurgeNotPending):
        lifecycle.cancel_purge(session, NOW + timedelta(hours=73))
    assert session.status is S.PURGED


@pytest.mark.parametrize("status", [s for s in ALL if s is not S.TO_BE_PURGED])
def test_cancel_purging_only_while_waiting(status: SessionStatus) -> None:
    session = make_session(status)
    with pytest.raises(PurgeNotPending) as caught:
        lifecycle.cancel_purge(session, NOW)
    assert caught.value.params == {"status": status.label}
    with pytest.raises(PurgeNotPending):
        lifecycle.finish_purge(session, NOW)
    assert session.status is status


def test_a_purged_session_cannot_be_deleted_or_purged_again() -> None:
    session = make_session(S.CANCELLED)
    lifecycle.request_purge(session, NOW, True, timedelta(hours=1))
    for action in (Action.DELETE, Action.PURGE, Action.START, Action.CANCEL):
        with pytest.raises(WrongStatus):
            lifecycle.ensure_allowed(session, action)


# --- invitations ---------------------------------------------------------------------------


def test_non_sequential_invites_everyone_at_once() -> None:
    session = make_session(S.SENT, [make_signer(1, 1), make_signer(2, 2), make_signer(3, 3)])
    assert lifecycle.invite_due_signers(session, NOW) == ["s1", "s2", "s3"]
    assert all(s.status is G.INVITED for s in session.signers)
    assert all(s.invited_at == NOW and s.invitation_due for s in session.signers)
    assert lifecycle.invite_due_signers(session, NOW) == []  # nobody twice


def test_sequential_invites_the_lowest_group_then_the_next() -> None:
    session = make_session(
        S.SENT,
        [make_signer(1, 2), make_signer(2, 1), make_signer(3, 1), make_signer(4, 5)],
        use_sequence=UseSequence.SEQUENTIAL,
    )
    assert sorted(lifecycle.invite_due_signers(session, NOW)) == ["s2", "s3"]
    assert session.signers[0].status is G.PENDING_INVITE
    assert lifecycle.invite_due_signers(session, NOW) == []
    session.signers[1].status = G.COMPLETED
    assert lifecycle.invite_due_signers(session, NOW) == []  # s3 of group 1 is still signing
    session.signers[2].status = G.COMPLETED
    assert lifecycle.invite_due_signers(session, NOW) == ["s1"]
    session.signers[0].status = G.COMPLETED
    assert lifecycle.invite_due_signers(session, NOW) == ["s4"]  # gaps in Sequence are fine
    session.signers[3].status = G.COMPLETED
    assert lifecycle.invite_due_signers(session, NOW) == []


def test_sequential_signer_added_later_waits_for_its_turn() -> None:
    session = make_session(S.SENT, [make_signer(1, 1)], use_sequence=UseSequence.SEQUENTIAL)
    assert lifecycle.invite_due_signers(session, NOW) == ["s1"]
    session.signers.append(make_signer(2, 2))
    assert lifecycle.invite_due_signers(session, NOW) == []
    session.signers[0].status = G.COMPLETED
    assert lifecycle.invite_due_signers(session, NOW) == ["s2"]


def test_suspended_sequence_invites_nobody() -> None:
    session = make_session(S.SENT, use_sequence=UseSequence.SUSPENDED)
    assert lifecycle.invite_due_signers(session, NOW) == []
    assert all(s.status is G.PENDING_INVITE for s in session.signers)
    assert not any(s.invitation_due for s in session.signers)


def test_send_signer_invites_false_invites_nobody() -> None:
    session = make_session(S.SENT, send_invites=False)
    assert lifecycle.invite_due_signers(session, NOW) == []
    assert all(s.status is G.PENDING_INVITE for s in session.signers)
    assert not any(s.invitation_due for s in session.signers)


@pytest.mark.parametrize("status", [s for s in ALL if s is not S.SENT])
def test_only_sent_sessions_invite(status: SessionStatus) -> None:
    session = make_session(status)
    assert lifecycle.invite_due_signers(session, NOW) == []
    assert all(s.status is G.PENDING_INVITE for s in session.signers)


def test_every_refusable_action_is_named_as_the_callers_operation() -> None:
    system = {Action.EXPIRE, Action.COMPLETE, Action.ARCHIVE}  # the server's own, never refused
    for action in set(Action) - system:
        message = text("wrong_status", {"action": action.value, "status": "Purged"})
        assert action.value not in message, message
