"""Operator use cases (the `esign clients` and `esign users` commands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from esign.domain.audit import OPERATOR, AuditKind
from esign.domain.errors import ValidationFailed
from esign.domain.model import ApiKey, Client, User
from esign.domain.ports import UnitOfWork
from esign.services import events, recent, users, webhooks
from esign.services.context import Deps, new_id
from esign.services.intake import is_email_address


@dataclass(frozen=True, slots=True)
class NewClient:
    client_id: str
    api_key: str
    admin_username: str
    admin_password: str


def _new_key(deps: Deps, client_id: str) -> tuple[ApiKey, str]:
    secret = "esk_" + deps.cipher.random_secret(32)
    key = ApiKey(
        id=new_id(),
        client_id=client_id,
        key_hash=deps.cipher.digest(secret),
        created_at=deps.clock.now(),
    )
    return key, secret


def create_client(deps: Deps, name: str, admin_email: str) -> NewClient:
    if not name.strip():
        raise ValidationFailed(field="--name", reason="is required")
    email = admin_email.strip().lower()
    if not is_email_address(email):
        raise ValidationFailed(field="--admin-email", reason="must be an e-mail address")
    now = deps.clock.now()
    client = Client(id=new_id(), name=name.strip(), created_at=now)
    key, secret = _new_key(deps, client.id)
    password = deps.cipher.random_secret(12)
    admin = User(
        id=new_id(),
        client_id=client.id,
        username=email,
        first_name="Admin",
        last_name=name.strip(),
        password_hash=deps.passwords.hash(password),
        created_at=now,
        is_admin=True,
    )
    with deps.uow() as uow:
        uow.clients.add(client)
        uow.api_keys.add(key)
        uow.users.add(admin)
        _audit(deps, uow, client.id, AuditKind.CLIENT_CREATED, f"Client '{client.name}' created")
        users.audit_user(deps, uow, admin, AuditKind.USER_CREATED, "created", OPERATOR)
        uow.commit()
    return NewClient(client.id, secret, email, password)


def _audit(
    deps: Deps, uow: UnitOfWork, client_id: str, kind: AuditKind, description: str, **data: Any
) -> None:
    """In the client's trail, done by the operator: these are the `esign` command's."""
    events.client_audit(deps, uow, client_id, kind, description, OPERATOR, **data)


def require_client(deps: Deps, client_id: str) -> Client:
    """The client an operator command names; an error naming the option if there is none."""
    return _client(deps, client_id)


def _client(deps: Deps, client_id: str) -> Client:
    with deps.uow(write=False) as uow:
        client = uow.clients.get(client_id.strip())
    if client is None:
        raise ValidationFailed(field="--client-id", reason=f"no client '{client_id}'")
    return client


def rotate_key(deps: Deps, client_id: str) -> str:
    """Revoke every key of the client (and so its tokens) and issue a new one."""
    client = _client(deps, client_id)
    key, secret = _new_key(deps, client.id)
    with deps.uow() as uow:
        uow.api_keys.revoke_all(client.id, deps.clock.now())
        uow.api_keys.add(key)
        what = "API keys revoked, a new one issued"
        _audit(deps, uow, client.id, AuditKind.API_KEY_ROTATED, what, key_id=key.id)
        uow.commit()
    recent.directory_changed()  # its old keys are revoked
    return secret


def set_webhook(deps: Deps, client_id: str, url: str, secret: str | None) -> str:
    """Set (or clear, with an empty URL) the client's webhook; return the signing secret."""
    client = _client(deps, client_id)
    url = url.strip()
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValidationFailed(field="--url", reason="must be an http or https URL")
    problem = deps.webhooks.check_url(url) if url else None
    if problem:
        raise ValidationFailed(field="--url", reason=problem.reason)
    if secret is not None and not secret.strip():
        raise ValidationFailed(field="--secret", reason="must not be blank")
    client.settings.webhook_url = url or None
    secret = (
        secret or webhooks.signing_secret(deps, client) or "whsec_" + deps.cipher.random_secret(24)
    )
    webhooks.keep_secret(deps, client, secret)
    where = urlsplit(url).hostname if url else None
    what = f"Webhook set to host {where}" if where else "Webhook removed"
    with deps.uow() as uow:
        uow.clients.update(client)
        _audit(deps, uow, client.id, AuditKind.WEBHOOK_SET, what, host=where)  # (no secret)
        uow.commit()
    recent.directory_changed()
    return secret


def configure(
    deps: Deps,
    client_id: str,
    *,
    token_lifetime_minutes: int | None = None,
    purge_wait_hours: int | None = None,
    roles: list[str] | None = None,
    anchor_delimiters: str | None = None,
    anchor_space_char: str | None = None,
) -> Client:
    """Change a client's settings; None leaves a setting as it is."""
    client = _client(deps, client_id)
    given = {
        name: value
        for name, value in (
            ("token_lifetime_minutes", token_lifetime_minutes),
            ("purge_wait_hours", purge_wait_hours),
            ("roles", roles),
            ("anchor_delimiters", anchor_delimiters),
            ("anchor_space_char", anchor_space_char),
        )
        if value is not None
    }
    _anchor_characters(client, anchor_delimiters, anchor_space_char)
    if token_lifetime_minutes is not None:
        if not 1 <= token_lifetime_minutes <= 24 * 60:
            raise ValidationFailed(field="--token-lifetime-minutes", reason="must be 1..1440")
        client.settings.token_lifetime_minutes = token_lifetime_minutes
    if purge_wait_hours is not None:
        if not 0 <= purge_wait_hours <= 24 * 365:
            raise ValidationFailed(field="--purge-wait-hours", reason="must be 0..8760")
        client.settings.purge_wait_hours = purge_wait_hours
    if roles is not None:
        cleaned = [" ".join(r.split()) for r in roles if r.strip()]
        if not cleaned:
            raise ValidationFailed(field="--roles", reason="must name at least one role")
        client.settings.roles = cleaned
    with deps.uow() as uow:
        uow.clients.update(client)
        what = "Settings changed: " + (", ".join(given) or "none")
        _audit(deps, uow, client.id, AuditKind.CLIENT_CONFIGURED, what, **given)
        uow.commit()
    recent.directory_changed()
    return client


def _anchor_characters(client: Client, delimiters: str | None, space_char: str | None) -> None:
    """Anchor tag delimiters (one opening, one closing character) and the character that
    stands for a space in dropdown items. None of them may be part of a tag's own text."""
    settings = client.settings
    if delimiters is not None:
        if len(delimiters) != 2 or delimiters[0] == delimiters[1]:
            raise ValidationFailed(
                field="--anchor-delimiters", reason="must be two different characters, like <>"
            )
        if any(_tag_text(c) for c in delimiters):
            raise ValidationFailed(
                field="--anchor-delimiters",
                reason="may not be letters, digits, '_' or white space",
            )
        settings.anchor_open, settings.anchor_close = delimiters[0], delimiters[1]
    if space_char is not None:
        if len(space_char) != 1 or _tag_text(space_char):
            raise ValidationFailed(
                field="--anchor-space-char",
                reason="must be one character that is not a letter, digit, '_' or white space",
            )
        settings.anchor_space_char = space_char
    if settings.anchor_space_char in (settings.anchor_open, settings.anchor_close):
        raise ValidationFailed(
            field="--anchor-space-char", reason="may not be one of the anchor delimiters"
        )


def _tag_text(char: str) -> bool:
    return char.isalnum() or char == "_" or char.isspace() or not char.isprintable()


def add_user(
    deps: Deps,
    client_id: str,
    username: str,
    first_name: str,
    last_name: str,
    password: str,
    admin: bool,
) -> User:
    client = _client(deps, client_id)
    email = username.strip().lower()
    if not is_email_address(email):
        raise ValidationFailed(field="--username", reason="must be an e-mail address")
    if len(password) < 8:
        raise ValidationFailed(field="--password", reason="must be at least 8 characters")
    # As through the API (CreateUser): a user has both names, which signers see.
    for option, value in (("--first-name", first_name), ("--last-name", last_name)):
        if not value.strip():
            raise ValidationFailed(field=option, reason="is required")
    user = User(
        id=new_id(),
        client_id=client.id,
        username=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        password_hash=deps.passwords.hash(password),
        created_at=deps.clock.now(),
        is_admin=admin,
    )
    with deps.uow() as uow:
        if uow.users.find_by_username(client.id, email):
            raise ValidationFailed(field="--username", reason="is taken in that client")
        uow.users.add(user)
        users.audit_user(deps, uow, user, AuditKind.USER_CREATED, "created", OPERATOR)
        uow.commit()
    return user


def list_clients(deps: Deps) -> list[Client]:
    with deps.uow(write=False) as uow:
        return uow.clients.all()


def client_count(deps: Deps) -> int:
    with deps.uow(write=False) as uow:
        return uow.clients.count()
