"""What can go wrong while the composition root builds the runtime, as one clear line.

An operator who points esign at a file instead of a folder, at a database that is down or at
a malformed Redis URL gets `esign: <what is wrong>` and exit status 2, not a traceback
(SettingsError, which the CLI prints). Secrets in URLs are never printed.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from pathlib import Path

from alembic.util import CommandError
from huey import Huey
from redis.exceptions import RedisError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from esign.config import Settings, SettingsError
from esign.domain.ports import Cipher
from esign.identity.crypto import load_or_create_master_key
from esign.jobs.queue import make_huey
from esign.storage.database import make_engine
from esign.storage.migrate import revisions, upgrade
from esign.storage.server_state import key_matches

_SCHEMES = ("sqlite", "postgresql")


def ready_data_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise SettingsError(f"the data dir {path} (--data-dir, ESIGN_DATA_DIR) is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"the data dir {path} (--data-dir, ESIGN_DATA_DIR) cannot be used: {exc.strerror}"
        ) from None


def open_database(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(
            "ESIGN_DATABASE_URL (--database-url) is not a database URL; give "
            "postgresql://user:password@host/name, or nothing for SQLite in the data dir"
        ) from None
    if parsed.get_backend_name() not in _SCHEMES:
        raise SettingsError(
            f"ESIGN_DATABASE_URL (--database-url) names {parsed.get_backend_name()!r}; esign "
            "runs on postgresql:// or on SQLite (no URL)"
        )
    try:
        return make_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise SettingsError(f"ESIGN_DATABASE_URL (--database-url): {_first_line(exc)}") from None


def migrate(engine: Engine, cipher: Cipher) -> None:
    try:
        upgrade(engine, cipher.digest, cipher.protect)
    except CommandError:  # a revision this code does not know: a newer esign migrated it
        found = _found_revision(engine)
        raise SettingsError(
            f"the database schema is at revision {found}, which this esign does not know: "
            "a newer esign set it up; run that version (or restore a backup from before it)"
        ) from None
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = _first_line(getattr(exc, "orig", None) or exc)
        raise SettingsError(f"cannot use the database {where}: {reason}") from None


def _found_revision(engine: Engine) -> str:
    try:
        return str(revisions(engine)[0])
    except SQLAlchemyError:
        return "unknown"


def check_schema(engine: Engine) -> None:
    """A process that does not migrate (--no-migrate) must find the schema its code expects:
    on an older one it would misread what the migration has not yet moved (decision 0046)."""
    try:
        found, wanted = revisions(engine)
    except SQLAlchemyError as exc:
        reason = _first_line(exc)
        raise SettingsError(f"cannot read the database's schema revision: {reason}") from None
    if found != wanted:
        raise SettingsError(
            f"the database schema is at revision {found or 'none'} and this esign needs "
            f"{wanted}: run `esign migrate` first (or start without --no-migrate)"
        )


def check_key(engine: Engine, digest: Callable[[str], str], generated: Path | None = None) -> None:
    """Every process of an installation must hold the same secret key: with another one its
    tokens, signer links and audit seals would mean nothing to the others. `generated`: the
    key file this start made, removed when refused (it would refuse every later start)."""
    try:
        same = key_matches(engine, digest(_KEY_CHECK_TEXT))
    except SQLAlchemyError:  # a schema not migrated yet (--no-migrate): nothing to compare
        return
    if not same:
        removed = ""
        if generated is not None:
            generated.unlink(missing_ok=True)
            removed = f"; the key file {generated} this start made was removed"
        raise SettingsError(
            "the database was set up with another secret key: give this process the key "
            "of the first one (ESIGN_SECRET_KEY, or a copy of its data dir's secret.key)" + removed
        )


_KEY_CHECK_TEXT = "esign secret key check"


def key_file_to_make(settings: Settings) -> Path | None:
    """The key file master_key will generate, if it will (no key given, no file yet)."""
    path = settings.data_dir / "secret.key"
    return None if settings.secret_key or path.exists() else path


def master_key(settings: Settings) -> bytes:
    try:
        return load_or_create_master_key(settings.data_dir, settings.secret_key)
    except (ValueError, binascii.Error):  # not base64, or too short
        raise SettingsError(
            "ESIGN_SECRET_KEY must be URL-safe base64 of at least 32 random bytes "
            "(or unset: the data dir's secret.key is used)"
        ) from None
    except OSError as exc:
        where = settings.data_dir / "secret.key"
        raise SettingsError(f"the secret key file {where} cannot be used: {exc.strerror}") from None


def job_queue(settings: Settings) -> Huey:
    try:
        return make_huey(settings.data_dir, settings.redis_url, settings.queue_name)
    except ValueError as exc:  # redis.from_url: no redis:// scheme, a bad port or database
        raise SettingsError(f"ESIGN_REDIS_URL (--redis-url): {_first_line(exc)}") from None


def reach_queue(huey: Huey, redis_url: str | None) -> None:
    """A server or worker on a Redis queue checks it can reach it before it starts: else a
    worker would log one traceback per poll, forever, and a server would answer Success for
    changes whose jobs it cannot queue."""
    if not redis_url:
        return
    try:
        huey.storage.conn.ping()
    except RedisError as exc:
        where = _without_password(redis_url)
        raise SettingsError(f"cannot reach Redis at {where}: {_first_line(exc)}") from None


def _without_password(url: str) -> str:
    """A URL without its password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{host}" if user else f"{scheme}{sep}***@{host}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
