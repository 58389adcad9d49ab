"""Use cases of contract §2: EncryptString, tokens, user authentication, rate limits."""

from __future__ import annotations

import hashlib
import json
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from esign.domain.enums import UserStatus
from esign.domain.errors import (
    InvalidApiKey,
    InvalidToken,
    InvalidUserAccount,
    RateLimited,
)
from esign.domain.model import User
from esign.domain.ports import PasswordHasher, UnitOfWork
from esign.services import recent
from esign.services.context import Caller, Deps


def encrypt_string(deps: Deps, plaintext: str, salt: str) -> str:
    return deps.cipher.encrypt(plaintext, salt)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    client_id: str
    key_id: str | None
    user_id: str | None
    expires: datetime


def _issue(
    deps: Deps, client_id: str, key_id: str | None, user_id: str | None, lifetime_minutes: int
) -> str:
    now = deps.clock.now()
    claims = {
        "c": client_id,
        "k": key_id,
        "u": user_id,
        "i": int(now.timestamp()),  # issued (contract §2)
        "e": int((now + timedelta(minutes=lifetime_minutes)).timestamp()),
    }
    return deps.cipher.seal_token(json.dumps(claims, separators=(",", ":")).encode())


def _bucket(name: str) -> str:
    """A rate-limit bucket name that fits its column, however long the username typed."""
    return name if len(name) <= 100 else "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def _user_bucket(username: str, client_id: str = "") -> str:
    """One bucket per username of a client (or, for the route that names no client, per
    username alone), whether or not it exists: a limit that only existing users met would
    tell which exist. One client's failures never lock out another's user of the same name."""
    where = f"{client_id}:" if client_id else ""
    return _bucket(f"user:{where}{username.strip().lower()}")


def _client_bucket(client_id: str) -> str:
    return f"client:{client_id}"


def _limit(deps: Deps, bucket: str) -> int:
    if bucket.startswith("client:"):
        return deps.limits.auth_failures_per_client_window
    return deps.limits.auth_failures_per_window


def _check_rate(deps: Deps, uow: UnitOfWork, buckets: list[str]) -> None:
    now = deps.clock.now()
    since = now - deps.limits.auth_failure_window
    for bucket in buckets:
        if uow.rate_limits.failures_since(bucket, since) >= _limit(deps, bucket):
            oldest = uow.rate_limits.oldest_since(bucket, since) or now
            wait = (oldest + deps.limits.auth_failure_window - now).total_seconds()
            raise RateLimited(retry_after=max(1, int(wait) + 1))


def _record_failure(deps: Deps, buckets: list[str]) -> None:
    # Its own transaction: the failure must be remembered although the request fails.
    with deps.uow() as uow:
        for bucket in buckets:
            uow.rate_limits.record_failure(bucket, deps.clock.now())
        uow.commit()


def get_token(deps: Deps, encrypted_key: str, salt: str, ip: str) -> str:
    """A valid key always gets its token: an API key is too long to guess, so failures from
    the same address (another tenant of an integrator's shared server, say) must not lock it
    out. A wrong key from an address over its limit answers 429, and is not counted again."""
    buckets = [f"ip:{ip}"]
    with deps.uow(write=False) as uow:
        plain = deps.cipher.decrypt(encrypted_key, salt) if encrypted_key else None
        key = uow.api_keys.find_by_hash(deps.cipher.digest(plain)) if plain else None
        client = uow.clients.get(key.client_id) if key and key.revoked_at is None else None
        if key is None or client is None:
            _check_rate(deps, uow, buckets)
    if key is None or client is None:
        _record_failure(deps, buckets)
        raise InvalidApiKey()
    return _issue(deps, client.id, key.id, None, client.settings.token_lifetime_minutes)


def token_for_password(
    deps: Deps, username: str, encrypted_password: str, salt: str, ip: str
) -> str:
    """The deprecated username + password route to a token (tokenusernamepassword). It names
    no client: the user is the one of that username whose password matches."""
    with deps.uow(write=False) as uow:
        candidates = uow.users.with_username(username)
        buckets = [f"ip:{ip}", _user_bucket(username)]
        for found in candidates:  # a guess here is a guess at each of them
            buckets += [_user_bucket(username, found.client_id), _client_bucket(found.client_id)]
        _check_rate(deps, uow, buckets)
        user = _password_user(deps, candidates, encrypted_password, salt)
        client = uow.clients.get(user.client_id) if user else None
    if user is None or client is None:
        _record_failure(deps, buckets)
        raise InvalidUserAccount()
    return _issue(deps, client.id, None, user.id, client.settings.token_lifetime_minutes)


def _password_user(
    deps: Deps, candidates: list[User], encrypted_password: str, salt: str
) -> User | None:
    password = deps.cipher.decrypt(encrypted_password, salt) if encrypted_password else None
    if password is None:
        return None
    checked = False
    for user in candidates:
        if user.status is UserStatus.ACTIVE and user.password_hash:
            checked = True
            if deps.passwords.verify(password, user.password_hash):
                return user
    if not checked:
        # As slow as a wrong password: the time taken must not tell whether the user exists.
        deps.passwords.verify(password, _stand_in_hash(deps.passwords))
    return None


# One per password hasher, made by it: its parameters set what a check costs.
_STAND_IN: weakref.WeakKeyDictionary[PasswordHasher, str] = weakref.WeakKeyDictionary()


def _stand_in_hash(passwords: PasswordHasher) -> str:
    made = _STAND_IN.get(passwords)
    if made is None:
        made = _STAND_IN[passwords] = passwords.hash(secrets.token_urlsafe(16))
    return made


def authenticate(deps: Deps, token: str, ip: str = "", user_agent: str = "") -> Caller:
    """The caller behind a token, or InvalidToken (expired, forged, key revoked, user off)."""
    claims = _claims(deps, token)
    if claims is None or claims.expires <= deps.clock.now():
        raise InvalidToken()
    client_id, key_id, user_id = claims.client_id, claims.key_id, claims.user_id
    credential = f"k:{key_id}:{client_id}" if key_id is not None else f"u:{user_id}:{client_id}"
    identity = recent.credentials.get(credential)
    if identity is None:
        generation = recent.credentials.generation()
        identity = _valid_credential(deps, client_id, key_id, user_id)
        recent.credentials.put(credential, identity, generation)
    name, admin = identity
    return Caller(
        client_id=client_id,
        key_id=key_id,
        user_id=user_id,
        ip=ip,
        user_agent=user_agent,
        name=name,
        admin=admin,
    )


def _valid_credential(
    deps: Deps, client_id: str, key_id: str | None, user_id: str | None
) -> tuple[str, bool]:
    """The name a token's caller acts under (a user's username, "" for an API key) and
    whether it is an administrator of the client (an API key is: reference §1.2 issues it
    to the client's administrative account), or InvalidToken when its key is revoked or its
    user is gone or off."""
    with deps.uow(write=False) as uow:
        if key_id is not None:
            key = uow.api_keys.get(key_id)
            if key is None or key.revoked_at is not None or key.client_id != client_id:
                raise InvalidToken()
            return "", True
        user = uow.users.get(client_id, user_id or "")
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidToken()
        return user.username, user.is_admin


def _claims(deps: Deps, token: str) -> TokenClaims | None:
    raw = deps.cipher.open_token(token) if token else None
    if raw is None:
        return None
    try:
        claims = orjson.loads(raw)
        return TokenClaims(
            client_id=claims["c"],
            key_id=claims["k"],
            user_id=claims["u"],
            expires=datetime.fromtimestamp(int(claims["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None


def authenticate_user(deps: Deps, header: str, username: str, salt: str, ip: str) -> User:
    """AuthenticateUser: the header is `token:encryptedPassword`."""
    token, _, encrypted_password = header.partition(":")
    caller = authenticate(deps, token, ip)
    client_id = caller.client_id
    buckets = [f"ip:{ip}", _user_bucket(username, client_id), _client_bucket(client_id)]
    with deps.uow(write=False) as uow:
        _check_rate(deps, uow, buckets)
        found = uow.users.find_by_username(client_id, username)
        user = _password_user(deps, [found] if found else [], encrypted_password, salt)
    if user is None:
        _record_failure(deps, buckets)
        raise InvalidUserAccount()
    return user


def landing_url(deps: Deps) -> str:
    return deps.public_url.rstrip("/") + "/auth/AutoLogMeIn.aspx?"
