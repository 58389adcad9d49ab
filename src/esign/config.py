"""Settings, from command-line options or ESIGN_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    secret_key: str | None = None
    webhook_allow_private: bool = False
    webhook_allow_hosts: frozenset[str] = frozenset()
    max_body_mb: int = 160
    max_session_mb: int = 100
    max_pages: int = 500
    request_threads: int = 0  # 0: 2 on SQLite (GIL-bound), 8 on PostgreSQL (network waits)

    @staticmethod
    def from_env(**overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "data_dir": Path(env.get("ESIGN_DATA_DIR", "./esign-data")),
            "database_url": env.get("ESIGN_DATABASE_URL") or None,
            "redis_url": env.get("ESIGN_REDIS_URL") or None,
            "public_url": env.get("ESIGN_PUBLIC_URL", "http://127.0.0.1:8080"),
            "secret_key": env.get("ESIGN_SECRET_KEY") or None,
            "webhook_allow_private": env.get("ESIGN_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true"),
            "webhook_allow_hosts": frozenset(
                h.strip() for h in env.get("ESIGN_WEBHOOK_ALLOW_HOSTS", "").split(",") if h.strip()
            ),
            "max_body_mb": int(env.get("ESIGN_MAX_BODY_MB", "160")),
            "max_session_mb": int(env.get("ESIGN_MAX_SESSION_MB", "100")),
            "max_pages": int(env.get("ESIGN_MAX_PAGES", "500")),
            "request_threads": int(env.get("ESIGN_REQUEST_THREADS", "0")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        data_dir = Path(str(values["data_dir"])).expanduser()
        values["data_dir"] = data_dir
        return Settings(**values)  # type: ignore[arg-type]
