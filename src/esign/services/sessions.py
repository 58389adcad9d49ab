"""Session use cases that create and change a session's content (contract §4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import datetime

from esign.domain import documents as rules
from esign.domain import lifecycle
from esign.domain.audit import SYSTEM, Actor, AuditKind
from esign.domain.enums import ProcessingStatus, SessionStatus, SignerStatus, UserStatus
from esign.domain.errors import (
    DomainError,
    SessionNotFound,
    SessionPurged,
    UserInactive,
    UsernameNotFound,
    ValidationFailed,
)
from esign.domain.lifecycle import Action
from esign.domain.model import (
    OWNER_ROLE,
    Client,
    ClientSettings,
    Document,
    Problem,
    SessionInfo,
    Signer,
    SigningSession,
    User,
)
from esign.domain.ports import UnitOfWork
from esign.services import blob_gc, events, intake, recent
from esign.services.commands import (
    CopyOptions,
    DocumentInput,
    SessionInfoInput,
    SessionInput,
    SignerInput,
)
from esign.services.context import Caller, Deps, new_id


@dataclass(slots=True)
class SessionResult:
    session: SigningSession
    problems: list[Problem] = field(default_factory=list)


def user_named(uow: UnitOfWork, caller: Caller, username: str) -> User:
    """The user named in the request, one of the caller's client, active or not: reads on a
    departed agent's behalf (their transactions) still work."""
    user = uow.users.find_by_username(caller.client_id, username) if username.strip() else None
    if user is None:
        raise UsernameNotFound(username=username)
    return user


def owner(uow: UnitOfWork, caller: Caller, username: str) -> User:
    """The user named in the body, who acts or owns: one of the caller's client, and active
    (contract §3: a deactivated user cannot own new sessions)."""
    user = user_named(uow, caller, username)
    if user.status is not UserStatus.ACTIVE:
        raise UserInactive(username=username)
    return user


def load(uow: UnitOfWork, caller: Caller, session_id: str, *, lock: bool = False) -> SigningSession:
    session = uow.sessions.get(caller.client_id, session_id.strip(), for_update=lock)
    if session is None:
        raise SessionNotFound(session_id=session_id)
    return session


def load_for_change(deps: Deps, uow: UnitOfWork, caller: Caller, session_id: str) -> SigningSession:
    """The session, locked for a change. One whose ExpiresOn has passed is expired first, as
    its due job or the sweep would have done by now (decision 0040): what expiry forbids is
    refused naming the Expired status, and what it allows (delete, purge) applies to an
    Expired session. A refused change rolls the expiry back with it; the job records it."""
    session = load(uow, caller, session_id, lock=True)
    now = deps.clock.now()
    if lifecycle.expiry_due(session, now):
        expire(deps, uow, session, now)
    return session


def expire(deps: Deps, uow: UnitOfWork, session: SigningSession, now: datetime) -> None:
    client = uow.clients.get(session.client_id)
    assert client is not None, "a session's client exists"
    before = events.signer_statuses(session)
    lifecycle.transition(session, Action.EXPIRE, now)
    events.status_changed(deps, uow, client, session, SYSTEM, "Session expired", before)
    uow.sessions.save(session)


def owner_and_settings(deps: Deps, caller: Caller, username: str) -> tuple[User, ClientSettings]:
    """`owner` and the client's settings, read at most a second ago (`recent.owners`):
    read-only, for a use case that changes neither."""
    key = (caller.client_id, username.strip().lower())
    found = recent.owners.get(key)
    if found is None:
        generation = recent.owners.generation()
        with deps.uow(write=False) as uow:
            found = (owner(uow, caller, username), client_of(uow, caller).settings)
        recent.owners.put(key, found, generation)
    return found


def client_of(uow: UnitOfWork, caller: Caller) -> Client:
    client = uow.clients.get(caller.client_id)
    assert client is not None, "a valid token names an existing client"
    return client


def _check_dates(deps: Deps, info: SessionInfoInput) -> None:
    if info.expires_on is None:
        return
    now = deps.clock.now()
    if info.expires_on <= now:
        raise ValidationFailed(field="ExpiresOn", reason="must be in the future")
    if info.expires_on > now + lifecycle.MAX_EXPIRY:
        raise ValidationFailed(field="ExpiresOn", reason="must be at most 90 days ahead")


def _new_info(deps: Deps, given: SessionInfoInput, owner_user: User) -> SessionInfo:
    if not (given.title or "").strip():
        raise ValidationFailed(field="SessionInfo.Title", reason="is required")
    _check_dates(deps, given)
    reminder = min(max(given.reminder_frequency_days or 0, 0), lifecycle.MAX_REMINDER_DAYS)
    info = SessionInfo(
        title=(given.title or "").strip(),
        reminder_frequency_days=reminder,
        owner_name=given.owner_name or f"{owner_user.first_name} {owner_user.last_name}".strip(),
        owner_email=given.owner_email or owner_user.username,
        password_hash=deps.passwords.hash(given.password) if given.password else None,
    )
    for name in (
        "description",
        "return_url",
        "transaction_id",
        "copy_to",
        "allow_delegation",
        "email_options",
        "first_signer",
        "owner_signature",
        "use_sequence",
        "expires_on",
        "send_signer_invites",
        "send_session_redirect_url",
        "application_key",
    ):
        value = getattr(given, name)
        if value is not None:
            setattr(info, name, value)
    return info


def _retitle(info: SessionInfo, given: SessionInfoInput) -> None:
    """A copy takes the title (the reference's Copy example sends `TransactionTitle`) and the
    transaction id it is given. Only those, and only when not blank: a .NET client sends every
    other member with its default value (decision 0001)."""
    if (given.title or "").strip():
        info.title = (given.title or "").strip()
    if (given.transaction_id or "").strip():
        info.transaction_id = (given.transaction_id or "").strip()


def _draft(caller: Caller, owner_user: User, info: SessionInfo, now: datetime) -> SigningSession:
    return SigningSession(
        id=new_id(),
        client_id=caller.client_id,
        owner_user_id=owner_user.id,
        info=info,
        created_at=now,
        status_changed_at=now,
        owner_username=owner_user.username,
    )


@dataclass(slots=True)
class _Additions:
    documents: list[Document]
    signers: list[Signer]
    problems: list[Problem]
    fields_removed: int = 0


def create_session(deps: Deps, caller: Caller, username: str, cmd: SessionInput) -> SessionResult:
    owner_user, settings = owner_and_settings(deps, caller, username)
    info = _new_info(deps, cmd.info, owner_user)
    now = deps.clock.now()
    session = _draft(caller, owner_user, info, now)
    asked = _owner_first(cmd.signers, owner_user) if info.first_signer else cmd.signers
    intake.check_counts(deps.limits, len(cmd.documents), len(asked))
    # Files are validated and stored, passwords hashed, before the transaction: the slow part
    # holds no lock. Only template copies need it (the template must not go meanwhile).
    uploaded, problems = intake.accept_documents(deps, cmd.documents, 0, settings)
    signers, signer_problems = intake.accept_signers(deps, session, asked)
    actor = caller.actor(owner_user.username)
    with _dropped_if_refused(deps, uploaded, signers), deps.uow() as uow:
        documents, copy_problems = _add_documents(deps, uow, session, cmd, uploaded, settings)
        removed = _remove_unassigned(session, cmd)
        added = _Additions(documents, signers, problems + copy_problems + signer_problems, removed)
        uow.sessions.add(session)
        events.audit(
            deps,
            uow,
            session,
            AuditKind.SESSION_CREATED,
            f"Session '{info.title}' created by {owner_user.username}",
            actor,
        )
        _audit_additions(deps, uow, session, added, actor)
        if info.expires_on is not None:
            events.due_at(uow, session, info.expires_on)
        uow.commit()
    return SessionResult(session, added.problems)


def _owner_first(given: list[SignerInput], owner_user: User) -> list[SignerInput]:
    """SessionInfo.FirstSigner (reference §3.2): the owner signs first, as role "Session Owner",
    and everyone given after them (decision 0048). An owner already among them stays as given."""
    email = owner_user.username.strip().lower()
    if any(s.email.strip().lower() == email for s in given):
        return given
    owner = SignerInput(
        first_name=owner_user.first_name,
        last_name=owner_user.last_name,
        email=owner_user.username,
        role=OWNER_ROLE,
        sequence=1,
    )
    return [owner, *(replace(s, sequence=max(s.sequence, 1) + 1) for s in given)]


def _add_documents(
    deps: Deps,
    uow: UnitOfWork,
    session: SigningSession,
    cmd: SessionInput,
    uploaded: list[tuple[DocumentInput, Document]],
    settings: ClientSettings,
) -> tuple[list[Document], list[Problem]]:
    """Place the uploads and the template copies the request asks for, and have those that
    need it processed in the background."""
    stored = sum(d.size for d in session.documents) + sum(d.size for _, d in uploaded)
    copies, problems = intake.copy_templates(
        uow, session.client_id, cmd.documents, stored, settings, deps.limits
    )
    # Uploads and template copies were accepted apart: back to the order the request gave.
    asked = {id(item): i for i, item in enumerate(cmd.documents)}
    accepted = sorted(uploaded + copies, key=lambda pair: asked[id(pair[0])])
    intake.place_documents(session, accepted)
    documents = [d for _, d in accepted]
    for doc in documents:
        if doc.processing_status is ProcessingStatus.PENDING:
            events.process_later(deps, uow, session, doc)
    return documents, problems


def _remove_unassigned(session: SigningSession, cmd: SessionInput) -> int:
    """RemoveUnassignedSignerRoles, after the additions; remembered for the documents the
    processing job has yet to give fields."""
    remove = session.info.remove_unassigned_signer_roles = cmd.info.remove_unassigned_signer_roles
    return intake.remove_unassigned_fields(session) if remove else 0


def _audit_additions(
    deps: Deps, uow: UnitOfWork, session: SigningSession, added: _Additions, actor: Actor
) -> None:
    for doc in added.documents:
        events.audit(
            deps,
            uow,
            session,
            AuditKind.DOCUMENT_ADDED,
            f"Document '{doc.file_name}' added ({doc.size} bytes, sha256 {doc.sha256})",
            actor,
            document_id=doc.id,
            sha256=doc.sha256,
        )
    for signer in added.signers:
        events.audit(
            deps,
            uow,
            session,
            AuditKind.SIGNER_ADDED,
            f"Signer {signer.full_name} <{signer.email}> added as '{signer.role}'",
            actor,
            signer_id=signer.id,
        )
    for problem in added.problems:
        kind = (
            AuditKind.DOCUMENT_REFUSED
            if problem.code == "file_not_uploaded"
            else AuditKind.SIGNER_REFUSED
        )
        events.audit(deps, uow, session, kind, f"Refused: {problem.code}", actor, **problem.params)
    if added.fields_removed:
        events.audit(
            deps,
            uow,
            session,
            AuditKind.FIELDS_REMOVED,
            f"{added.fields_removed} fields of unassigned roles removed",
            actor,
        )


def update_session(deps: Deps, caller: Caller, username: str, cmd: SessionInput) -> SessionResult:
    """UpdateSession / AddSignersDocumentsToSession: add documents and signers."""
    session_id = cmd.session_id or ""
    with deps.uow(write=False) as uow:
        owner_user = owner(uow, caller, username)
        existing = load(uow, caller, session_id)
        lifecycle.ensure_allowed(existing, Action.UPDATE)
        stored_bytes = sum(d.size for d in existing.documents)
        settings = client_of(uow, caller).settings
    intake.check_counts(deps.limits, len(cmd.documents), len(cmd.signers), *_held(existing))
    uploaded, problems = intake.accept_documents(deps, cmd.documents, stored_bytes, settings)
    actor = caller.actor(owner_user.username)
    signers: list[Signer] = []  # (their images are stored in the transaction)
    with _dropped_if_refused(deps, uploaded, signers), deps.uow() as uow:
        session = load_for_change(deps, uow, caller, session_id)
        # It may have moved, or grown by a concurrent update, since it was read above.
        lifecycle.ensure_allowed(session, Action.UPDATE)
        intake.check_counts(deps.limits, len(cmd.documents), len(cmd.signers), *_held(session))
        uploaded, too_large = intake.within_session_limit(deps.limits, session, uploaded)
        problems += [intake.over_session_limit(deps.limits, doc) for _, doc in too_large]
        client = client_of(uow, caller)
        documents, copy_problems = _add_documents(
            deps, uow, session, cmd, uploaded, client.settings
        )
        values_before = rules.merge_values(session.signers)
        signers[:], signer_problems = intake.accept_signers(deps, session, cmd.signers)
        removed = _remove_unassigned(session, cmd)
        added = _Additions(documents, signers, problems + copy_problems + signer_problems, removed)
        _audit_additions(deps, uow, session, added, actor)
        dropped = _merge_again(deps, uow, session, values_before, actor)
        invite_turn(deps, uow, client, session, actor)
        uow.sessions.save(session)
        uow.commit()
    blob_gc.delete_unused(deps, dropped + _blob_keys(too_large, []))
    return SessionResult(session, added.problems)


def _held(session: SigningSession) -> tuple[int, int]:
    return len(session.documents), len(session.signers)


@contextmanager
def _dropped_if_refused(
    deps: Deps, uploaded: list[tuple[DocumentInput, Document]], signers: list[Signer]
) -> Iterator[None]:
    """Files stored before the transaction that adds them are deleted if it is refused (the
    session moved on meanwhile, a limit was reached): nothing would ever refer to them."""
    try:
        yield
    except DomainError:
        blob_gc.delete_unused(deps, _blob_keys(uploaded, signers))
        raise


def _blob_keys(uploaded: list[tuple[DocumentInput, Document]], signers: list[Signer]) -> list[str]:
    keys = [k for _, d in uploaded for k in (d.blob_key, d.original_blob_key) if k]
    return keys + [k for g in signers for k in (g.signature_image_key, g.initials_image_key) if k]


def _merge_again(
    deps: Deps,
    uow: UnitOfWork,
    session: SigningSession,
    values_before: dict[str, str],
    actor: Actor,
) -> list[str]:
    """New signers brought merge values: the Draft's documents that show merge values are
    prepared again with them (once Sent, documents no longer change). Returns the keys of
    the prepared PDFs let go."""
    values = rules.merge_values(session.signers)
    if session.status is not SessionStatus.DRAFT or values == values_before:
        return []
    dropped = []
    for doc in session.documents:
        if not rules.uses_merge_values(doc) or not doc.original_blob_key:
            continue
        if doc.processing_status is not ProcessingStatus.PENDING:
            if key := rules.prepare_again(doc):
                dropped.append(key)
            events.audit(
                deps,
                uow,
                session,
                AuditKind.DOCUMENT_TO_PREPARE_AGAIN,
                f"Document '{doc.file_name}' to be prepared again: merge values changed",
                actor,
                document_id=doc.id,
            )
        events.process_later(deps, uow, session, doc)
    return dropped


def invite_turn(
    deps: Deps, uow: UnitOfWork, client: Client, session: SigningSession, actor: Actor
) -> None:
    """Invite the signers whose turn has come (a Sent session only) and say so."""
    for signer_id in lifecycle.invite_due_signers(session, deps.clock.now()):
        signer = session.signer(signer_id)
        assert signer is not None
        events.audit(
            deps,
            uow,
            session,
            AuditKind.SIGNER_INVITED,
            f"Signer {signer.full_name} <{signer.email}> invited (invitation due)",
            actor,
            signer_id=signer.id,
        )
        events.signer_status_changed(deps, uow, client, session, signer)


# 0: the original documents; 1: as they stand, signed so far. Until signing writes values into
# documents (the signing issue), both are the prepared documents (decision 0029).
COPY_VERSIONS = (0, 1)


def copy_session(
    deps: Deps, caller: Caller, username: str, options: CopyOptions, cmd: SessionInput
) -> SessionResult:
    """CopySigningSession: a new Draft with the source's documents and signers."""
    if options.version not in COPY_VERSIONS:
        raise ValidationFailed(
            field="copyOptions.Version",
            reason="must be 0 (the original documents) or 1 (the documents as they stand)",
        )
    source_id = cmd.session_id or ""
    with deps.uow(write=False) as uow:
        owner_user = owner(uow, caller, username) if username.strip() else None
        source = load(uow, caller, source_id)
        if owner_user is None:  # the source's owner, who must still be active (contract §3)
            source_owner = uow.users.get(caller.client_id, source.owner_user_id)
            assert source_owner is not None
            owner_user = owner(uow, caller, source_owner.username)
    now = deps.clock.now()
    if lifecycle.documents_gone(source, now):
        raise SessionPurged(session_id=source.id)
    new_signers = sum(1 for g in cmd.signers if not g.signer_id)
    held = len(source.documents), len(source.signers)
    intake.check_counts(deps.limits, 0, new_signers, *held)
    info = SessionInfo(**{f: getattr(source.info, f) for f in SessionInfo.__slots__})
    info.expires_on = None  # the vendor never copies the expiry date
    _retitle(info, cmd.info)
    session = _draft(caller, owner_user, info, now)
    for doc in source.documents:
        session.documents.append(_copy_document(doc, options.retain_fields))
    problems = _copy_signers(deps, source, session, cmd.signers)
    actor = caller.actor(owner_user.username)
    with deps.uow() as uow:
        client = client_of(uow, caller)
        uow.sessions.add(session)
        events.audit(
            deps,
            uow,
            session,
            AuditKind.SESSION_COPIED_FROM,
            f"Session created as a copy of {source.id}",
            actor,
            source=source.id,
        )
        # What the copy holds is in its own trail, as a new session's is.
        _audit_additions(
            deps, uow, session, _Additions(session.documents, session.signers, problems), actor
        )
        for doc in session.documents:
            if doc.processing_status is ProcessingStatus.PENDING:
                events.process_later(deps, uow, session, doc)  # the copy is prepared anew
        locked = load_for_change(deps, uow, caller, source.id)
        events.audit(
            deps,
            uow,
            locked,
            AuditKind.SESSION_COPIED,
            f"Session copied to {session.id}",
            actor,
            copy=session.id,
        )
        events.session_status_changed(deps, uow, client, locked, new_session_id=session.id)
        uow.commit()
    return SessionResult(session, problems)


def _copy_document(doc: Document, retain_fields: bool) -> Document:
    copied = deepcopy(doc)
    copied.id = new_id()
    copied.fields = [replace(f, id=new_id(), value=None) for f in copied.fields]
    if not retain_fields:
        copied.fields = []
    return copied


def _copy_signers(
    deps: Deps, source: SigningSession, session: SigningSession, given: list[SignerInput]
) -> list[Problem]:
    replacements = {g.signer_id: g for g in given if g.signer_id}
    problems: list[Problem] = []
    for old in source.signers:
        item = replacements.pop(old.id, None)
        base = SignerInput(
            first_name=old.first_name,
            last_name=old.last_name,
            email=old.email,
            role=old.role,
            sequence=old.sequence,
            auth_method=old.auth_method,
            auth_methods=list(old.auth_methods),
            sms_phone_number=old.sms_phone_number,
            in_person=old.in_person,
            properties=list(old.properties),
            contact=dict(old.contact),
            merge_field_mapping=dict(old.merge_field_mapping),
            mandate_doc_upload=old.mandate_doc_upload,
        )
        if item is not None:
            changed = replace(
                base,
                first_name=item.first_name or base.first_name,
                last_name=item.last_name or base.last_name,
                email=item.email or base.email,
            )
            problem = intake.signer_problem(changed)
            if problem is None:
                base = changed
            else:
                problems.append(problem)  # refused: the signer stays as in the source
        signer = intake.build_signer(deps, base)
        signer.password_hash = old.password_hash
        session.signers.append(signer)
    for signer_id in replacements:
        problems.append(Problem("signer_not_in_source", {"signer_id": signer_id}))
    _, added_problems = intake.accept_signers(deps, session, [g for g in given if not g.signer_id])
    return problems + added_problems


def signer_updates(
    deps: Deps, caller: Caller, username: str, session_id: str, given: list[SignerInput]
) -> SessionResult:
    """Update Signers: change the contact details of signers who have not finished."""
    intake.check_signer_list(deps.limits, "signers", len(given))
    with deps.uow() as uow:
        owner_user = owner(uow, caller, username)
        session = load_for_change(deps, uow, caller, session_id)
        lifecycle.ensure_allowed(session, Action.UPDATE_SIGNERS)
        problems: list[Problem] = []
        actor = caller.actor(owner_user.username)
        for item in given:
            signer = session.signer(item.signer_id or "")
            if signer is None:
                problems.append(intake.signer_not_found(item.signer_id or ""))
                continue
            if signer.status in (SignerStatus.COMPLETED, SignerStatus.DECLINED):
                problems.append(Problem("signer_finished", {"signer": signer.full_name}))
                continue
            merged = SignerInput(
                first_name=item.first_name or signer.first_name,
                last_name=item.last_name or signer.last_name,
                email=item.email or signer.email,
                role=signer.role,
            )
            # Checked when the name or address changes: a phone number alone may be updated
            # on a signer an older, laxer check let in.
            identity = (merged.last_name, merged.email.strip())
            if identity != (signer.last_name, signer.email) and (
                problem := intake.signer_problem(merged)
            ):
                problems.append(problem)
                continue
            before = _contact_details(signer)
            signer.first_name, signer.last_name = merged.first_name, merged.last_name
            signer.email = merged.email.strip()
            if item.sms_phone_number:
                signer.sms_phone_number = item.sms_phone_number
            if item.contact:
                signer.contact = dict(item.contact)
            if item.password and not _same_password(deps, item.password, signer.password_hash):
                signer.password_hash = deps.passwords.hash(item.password)
            if _contact_details(signer) == before:
                continue  # nothing changed: nothing to record
            events.audit(
                deps,
                uow,
                session,
                AuditKind.SIGNER_UPDATED,
                f"Signer {signer.full_name} <{signer.email}> updated",
                actor,
                signer_id=signer.id,
            )
        if len(problems) < len(given):  # a request refused as a whole writes nothing
            uow.sessions.save(session)
            uow.commit()
    return SessionResult(session, problems)


def _same_password(deps: Deps, password: str, hashed: str | None) -> bool:
    # (A new hash has a new salt: hashing the same password again would look like a change.)
    return hashed is not None and deps.passwords.verify(password, hashed)


def _contact_details(signer: Signer) -> tuple[object, ...]:
    return (
        signer.first_name,
        signer.last_name,
        signer.email,
        signer.sms_phone_number,
        dict(signer.contact),
        signer.password_hash,
    )


def update_transaction_id(
    deps: Deps, caller: Caller, username: str, session_id: str, transaction_id: str
) -> None:
    with deps.uow() as uow:
        owner_user = owner(uow, caller, username)
        session = load_for_change(deps, uow, caller, session_id)
        lifecycle.ensure_allowed(session, Action.UPDATE_TRANSACTION)
        old = session.info.transaction_id
        session.info.transaction_id = transaction_id.strip()
        events.audit(
            deps,
            uow,
            session,
            AuditKind.TRANSACTION_CHANGED,
            f"Transaction id changed from '{old}' to '{session.info.transaction_id}'",
            caller.actor(owner_user.username),
        )
        uow.sessions.save(session)
        uow.commit()
