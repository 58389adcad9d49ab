"""Signer use cases: invitation links and (re)sending invitations."""

from __future__ import annotations

from dataclasses import dataclass

from esign.domain import lifecycle
from esign.domain.audit import AuditKind
from esign.domain.enums import SignerStatus
from esign.domain.errors import SignerNotFound
from esign.domain.lifecycle import Action
from esign.domain.model import Problem, Signer, SigningSession
from esign.domain.ports import UnitOfWork
from esign.services import events, intake
from esign.services.context import Caller, Deps
from esign.services.sessions import client_of, load_for_change


@dataclass(frozen=True, slots=True)
class InviteLink:
    signer_id: str
    email: str
    url: str
    token: str


def _issue_link(
    deps: Deps, uow: UnitOfWork, session: SigningSession, signer: Signer, caller: Caller
) -> InviteLink:
    # Links are random and stored only as a keyed hash: a new one is minted on every ask.
    token = deps.cipher.random_secret(24)
    uow.signer_links.add(
        deps.cipher.digest(token), session.client_id, session.id, signer.id, deps.clock.now()
    )
    events.audit(
        deps,
        uow,
        session,
        AuditKind.SIGNER_LINK_ISSUED,
        f"Signing link issued for {signer.full_name} <{signer.email}>",
        caller.actor(),
        signer_id=signer.id,
    )
    url = f"{deps.public_url.rstrip('/')}/sign/{token}"
    return InviteLink(signer.id, signer.email, url, token)


def invite_urls(deps: Deps, caller: Caller, session_id: str) -> list[InviteLink]:
    with deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        lifecycle.ensure_allowed(session, Action.ISSUE_LINK)
        links = [_issue_link(deps, uow, session, s, caller) for s in session.signers]
        uow.commit()
    return links


def signer_invite_token(deps: Deps, caller: Caller, signer_id: str) -> str:
    with deps.uow() as uow:
        session_id = uow.sessions.find_by_signer(caller.client_id, signer_id.strip())
        if session_id is None:
            raise SignerNotFound(signer_id=signer_id)
        session = load_for_change(deps, uow, caller, session_id)
        lifecycle.ensure_allowed(session, Action.ISSUE_LINK)
        signer = session.signer(signer_id.strip())
        assert signer is not None
        link = _issue_link(deps, uow, session, signer, caller)
        uow.commit()
    return link.token


def send_invites(
    deps: Deps, caller: Caller, session_id: str, signer_ids: list[str]
) -> tuple[list[Problem], int]:
    """SendSignerEmailInvites: (re)send invitations to the listed signers of a Sent session;
    a signer listed twice is invited once. The problems, and how many were invited."""
    intake.check_signer_list(deps.limits, "signerList", len(signer_ids))
    signer_ids = list(dict.fromkeys(s.strip() for s in signer_ids))
    problems: list[Problem] = []
    with deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        lifecycle.ensure_allowed(session, Action.INVITE)
        client = client_of(uow, caller)
        for signer_id in signer_ids:
            signer = session.signer(signer_id)
            if signer is None:
                problems.append(intake.signer_not_found(signer_id))
                continue
            if signer.status not in (
                SignerStatus.PENDING_INVITE,
                SignerStatus.INVITED,
                SignerStatus.IN_PROGRESS,
            ):
                problems.append(Problem("signer_finished", {"signer": signer.full_name}))
                continue
            changed = signer.status is SignerStatus.PENDING_INVITE
            signer.status = SignerStatus.INVITED if changed else signer.status
            signer.invited_at = deps.clock.now()
            signer.invitation_due = True
            events.audit(
                deps,
                uow,
                session,
                AuditKind.SIGNER_INVITED,
                f"Invitation to {signer.full_name} <{signer.email}> due (resend)",
                caller.actor(),
                signer_id=signer.id,
            )
            if changed:
                events.signer_status_changed(deps, uow, client, session, signer)
        invited = len(signer_ids) - len(problems)
        if invited:  # a request refused as a whole writes nothing
            uow.sessions.save(session)
            uow.commit()
    return problems, invited
