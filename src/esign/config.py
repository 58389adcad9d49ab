"""Settings, from command-line options or ESIGN_* environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    queue_name: str = "esign"  # installations sharing one Redis each need a name of their own
    public_url: str = "http://127.0.0.1:8080"
    secret_key: str | None = None
    webhook_allow_private: bool = False
    webhook_allow_hosts: frozenset[str] = frozenset()
    max_body_mb: int = 160
    max_session_mb: int = 100
    max_pages: int = 500
    request_threads: int = 0  # 0: 2 on SQLite (GIL-bound), 8 on PostgreSQL (network waits)
    blob_grace_seconds: int = 600  # a blob stored or reused this recently is not collected yet

    @staticmethod
    def from_env(**overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "data_dir": env.get("ESIGN_DATA_DIR") or "./esign-data",
            "database_url": env.get("ESIGN_DATABASE_URL") or None,
            "redis_url": env.get("ESIGN_REDIS_URL") or None,
            "queue_name": env.get("ESIGN_QUEUE_NAME") or "esign",
            "public_url": env.get("ESIGN_PUBLIC_URL", "http://127.0.0.1:8080"),
            "secret_key": env.get("ESIGN_SECRET_KEY") or None,
            "webhook_allow_private": _flag(env, "ESIGN_WEBHOOK_ALLOW_PRIVATE"),
            "webhook_allow_hosts": frozenset(
                h.strip() for h in env.get("ESIGN_WEBHOOK_ALLOW_HOSTS", "").split(",") if h.strip()
            ),
            "max_body_mb": _whole(env, "ESIGN_MAX_BODY_MB", 160, least=1),
            "max_session_mb": _whole(env, "ESIGN_MAX_SESSION_MB", 100, least=1),
            "max_pages": _whole(env, "ESIGN_MAX_PAGES", 500, least=1),
            "request_threads": _whole(env, "ESIGN_REQUEST_THREADS", 0),
            "blob_grace_seconds": _whole(env, "ESIGN_BLOB_GRACE_SECONDS", 600),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not str(values["data_dir"]).strip():  # Path("") is the current directory
            raise SettingsError("the data dir (--data-dir) is empty: name a folder")
        data_dir = Path(str(values["data_dir"])).expanduser()
        values["data_dir"] = data_dir
        if not _QUEUE_NAME.fullmatch(str(values.get("queue_name", "esign"))):
            raise SettingsError("ESIGN_QUEUE_NAME must be 1 to 64 letters, digits or '_'")
        if not _WEB_ADDRESS.fullmatch(str(values["public_url"])):
            raise SettingsError(
                "ESIGN_PUBLIC_URL (--public-url) must be an http:// or https:// address, "
                f"not {str(values['public_url'])[:60]!r}"
            )
        return Settings(**values)  # type: ignore[arg-type]


class SettingsError(ValueError):
    """A setting the operator gave that cannot be used; the message names it."""


# What huey keeps of a queue's name in its Redis keys: two names differing in anything else
# would share a queue.
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


# What links to this server start with: a scheme and a host, with no query or fragment.
_WEB_ADDRESS = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?", re.IGNORECASE)


def _whole(env: os._Environ[str], name: str, default: int, least: int = 0) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < least:
        at_least = f" of at least {least}" if least else ""
        raise SettingsError(f"{name} must be a whole number{at_least}, not {text[:40]!r}")
    return int(text)


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(env: os._Environ[str], name: str) -> bool:
    return flag(name, env.get(name, ""))


def flag(name: str, text: str) -> bool:
    """An on/off variable's value; anything else stops the command, naming the variable."""
    text = text.strip().lower()
    if text not in _YES + _NO:
        raise SettingsError(f"{name} must be one of {', '.join(_YES)} or {', '.join(_NO[:-1])}")
    return text in _YES
