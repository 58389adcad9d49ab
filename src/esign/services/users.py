"""User use cases U1–U6: usernames are e-mail addresses, unique within a client."""

from __future__ import annotations

from dataclasses import dataclass

from esign.domain.audit import Actor, AuditKind
from esign.domain.enums import UserStatus
from esign.domain.errors import UsernameTaken, UserNotFound, ValidationFailed
from esign.domain.model import User
from esign.domain.ports import UnitOfWork
from esign.services import events, recent
from esign.services.context import Caller, Deps, new_id
from esign.services.intake import is_email_address


@dataclass(slots=True)
class UserInput:
    """A user as given; None means not given. The password arrives encrypted with `salt`."""

    system_user_id: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    encrypted_password: str | None = None
    company: str | None = None
    email_signature: str | None = None
    status: UserStatus | None = None
    region: str | None = None
    subscription_type: str | None = None
    time_zone_id: str | None = None
    cell_number: str | None = None
    phone_number: str | None = None
    date_format: str | None = None
    job_title: str | None = None


_PLAIN = (
    "first_name",
    "last_name",
    "company",
    "email_signature",
    "region",
    "subscription_type",
    "time_zone_id",
    "cell_number",
    "phone_number",
    "date_format",
    "job_title",
)


def _password(deps: Deps, given: UserInput, salt: str) -> str | None:
    if not given.encrypted_password:
        return None
    if not salt:
        raise ValidationFailed(
            field="salt", reason="is required: the salt user.Password was encrypted with"
        )
    plain = deps.cipher.decrypt(given.encrypted_password, salt)
    if plain is None:
        raise ValidationFailed(
            field="user.Password", reason="could not be decrypted with the given salt"
        )
    if len(plain) < 8:
        raise ValidationFailed(field="user.Password", reason="must be at least 8 characters")
    return deps.passwords.hash(plain)


def _username(value: str | None, field: str = "user.Username") -> str:
    name = (value or "").strip().lower()
    if not is_email_address(name):
        raise ValidationFailed(field=field, reason="must be an e-mail address")
    if len(name) > 254 or len(name.partition("@")[0]) > 64:  # RFC 5321's limits
        raise ValidationFailed(field=field, reason="is longer than an e-mail address may be")
    return name


def _apply(user: User, given: UserInput) -> None:
    for name in _PLAIN:
        value = getattr(given, name)
        if value is not None:
            setattr(user, name, value.strip())
    if given.status is not None:
        user.status = given.status


def _check_names(given: UserInput, *, creating: bool) -> None:
    """A user has a first and a last name: required when made, never blanked later."""
    for name in ("first_name", "last_name"):
        value = getattr(given, name)
        if (creating or value is not None) and not (value or "").strip():
            field = "user." + "".join(p.title() for p in name.split("_"))
            raise ValidationFailed(field=field, reason="is required")


def create_user(deps: Deps, caller: Caller, salt: str, given: UserInput) -> User:
    username = _username(given.username)
    _check_names(given, creating=True)
    if not given.encrypted_password:
        raise ValidationFailed(field="user.Password", reason="is required")
    user = User(
        id=new_id(),
        client_id=caller.client_id,
        username=username,
        first_name="",
        last_name="",
        password_hash=_password(deps, given, salt),
        created_at=deps.clock.now(),
    )
    _apply(user, given)
    with deps.uow() as uow:
        if uow.users.find_by_username(caller.client_id, username):
            raise UsernameTaken(username=username)
        uow.users.add(user)
        audit_user(deps, uow, user, AuditKind.USER_CREATED, "created", caller.actor())
        uow.commit()
    return user


def audit_user(
    deps: Deps, uow: UnitOfWork, user: User, kind: AuditKind, what: str, actor: Actor
) -> None:
    """In the user's client's trail: `User <username> <what>`."""
    description = f"User {user.username} {what}"
    events.client_audit(deps, uow, user.client_id, kind, description, actor, user_id=user.id)


def get_user(deps: Deps, caller: Caller, user_id: str) -> User:
    with deps.uow(write=False) as uow:
        user = uow.users.get(caller.client_id, user_id.strip())
    if user is None:
        raise UserNotFound(user=user_id)
    return user


def find_user(deps: Deps, caller: Caller, username: str) -> User:
    with deps.uow(write=False) as uow:
        user = uow.users.find_by_username(caller.client_id, username)
    if user is None:
        raise UserNotFound(user=username)
    return user


def _locate(uow: UnitOfWork, caller: Caller, user_id: str | None, username: str | None) -> User:
    if not (user_id or username):
        raise ValidationFailed(
            field="user.SystemUserId", reason="or user.Username is required: which user to change"
        )
    user = None
    if user_id:
        user = uow.users.get(caller.client_id, user_id.strip())
    elif username:
        user = uow.users.find_by_username(caller.client_id, username)
    if user is None:
        raise UserNotFound(user=user_id or username or "")
    return user


def update_user(
    deps: Deps, caller: Caller, salt: str, given: UserInput, old_username: str | None = None
) -> User:
    """UpdateUser (by SystemUserId or Username) and UpdateUserByUsername (oldUsername). A
    Username beside the user's id or old username renames the user."""
    _check_names(given, creating=False)
    password_hash = _password(deps, given, salt)
    with deps.uow() as uow:
        if old_username is not None:
            user = _locate(uow, caller, None, old_username)
        else:
            user = _locate(uow, caller, given.system_user_id, given.username)
        # A user may change its own record, an admin anyone's; (de)activating is an admin's.
        changes_status = given.status is not None and given.status is not user.status
        if user.id != caller.user_id or changes_status:
            caller.ensure_admin()
        renaming = old_username is not None or bool(given.system_user_id)
        # (A user sent back as it was read keeps its name, even one an older, laxer check let
        # in: only a new name must pass today's check.)
        if renaming and given.username and given.username.strip().lower() != user.username:
            new_name = _username(given.username)
            other = uow.users.find_by_username(caller.client_id, new_name)
            if other is not None and other.id != user.id:
                raise UsernameTaken(username=new_name)
            user.username = new_name
        _apply(user, given)
        if password_hash:
            user.password_hash = password_hash
        uow.users.update(user)
        changed = "updated (password changed)" if password_hash else "updated"
        audit_user(deps, uow, user, AuditKind.USER_UPDATED, changed, caller.actor())
        uow.commit()
    recent.directory_changed()  # the user may have been deactivated
    return user


def provision_user(deps: Deps, caller: Caller, user_id: str, status: UserStatus) -> User:
    with deps.uow() as uow:
        user = _locate(uow, caller, user_id, None)
        user.status = status
        uow.users.update(user)
        what = f"set to {status.name.lower()}"
        audit_user(deps, uow, user, AuditKind.USER_STATUS_CHANGED, what, caller.actor())
        uow.commit()
    recent.directory_changed()  # the user may have been deactivated
    return user
