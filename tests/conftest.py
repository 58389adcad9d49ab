"""Shared fixtures: a real database (SQLite, or PostgreSQL with ESIGN_TEST_DB=postgres), a real
blob store and queue in a temporary data dir, and an injected clock."""

from __future__ import annotations

import base64
import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from esign.app import Runtime, build_app, build_runtime
from esign.config import Settings
from esign.services import clients
from esign.storage.tables import metadata

POSTGRES_URL = os.environ.get("ESIGN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/postgres")


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def _postgres_database() -> str:
    """A fresh database for this test run on the PostgreSQL server, migrated once."""
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    name = f"esign_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    if os.environ.get("ESIGN_TEST_DB") != "postgres":
        yield None
        return
    url = _postgres_database()
    # One database for the whole run: every runtime and process on it must hold one secret
    # key (decision 0044), where each test's data dir would make its own.
    os.environ["ESIGN_SECRET_KEY"] = base64.urlsafe_b64encode(b"esign test key " * 3).decode()
    yield url
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(tmp_path: Path, database_url: str | None, clock: FakeClock) -> Iterator[Runtime]:
    settings = Settings.from_env(
        data_dir=tmp_path / "data",
        database_url=database_url,
        webhook_allow_private=True,
        public_url="http://esign.test",
        blob_grace_seconds=0,  # blobs go at once; tests/unit/test_blob_collection.py: the grace
    )
    rt = build_runtime(settings, clock=clock)
    if database_url:
        with rt.engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
    yield rt
    rt.engine.dispose()


def tiny_pdf(pages: int = 1) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))
    for n in range(pages):
        c.drawString(72, 720, f"Page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


@dataclass
class Api:
    """A logged-in integrator: a client, its admin and a token, over the real ASGI app."""

    http: TestClient
    rt: Runtime
    client_id: str
    api_key: str
    username: str
    token: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **kw: Any) -> dict[str, Any]:
        return self._json(self.http.get(path, headers=self.headers, **kw))

    def post(self, path: str, body: Any, **kw: Any) -> dict[str, Any]:
        return self._json(self.http.post(path, json=body, headers=self.headers, **kw))

    def put(self, path: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        return self._json(self.http.put(path, json=body, headers=self.headers, **kw))

    def delete(self, path: str) -> dict[str, Any]:
        return self._json(self.http.delete(path, headers=self.headers))

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        assert response.status_code == 200, (response.status_code, response.text)
        data: dict[str, Any] = response.json()
        return data

    def login(self) -> None:
        enc = self.http.get(f"/rest/v1/encrypt/{self.api_key}/s4lt").json()["ReturnValue"]
        answer = self.http.get("/rest/v1/gettoken/s4lt", headers={"Authorization": enc}).json()
        assert answer["Message"] == "Success", answer
        self.token = answer["ReturnValue"]
        self.headers = {"Authorization": self.token}

    def create_session(
        self,
        signers: list[dict[str, Any]] | None = None,
        documents: list[dict[str, Any]] | None = None,
        **info: Any,
    ) -> dict[str, Any]:
        body = {
            "userName": self.username,
            "session": {
                "SessionInfo": {"Title": "Offer on 12 Elm St", "TransactionId": "TX-1", **info},
                "Documents": documents if documents is not None else [pdf_document()],
                "Signers": signers if signers is not None else [signer("Seller 1")],
            },
        }
        answer = self.post("/rest/v1/sessions", body)
        assert answer["Message"] == "Success", answer
        return answer

    def drain(self) -> int:
        return self.rt.jobs.drain()


def pdf_document(name: str = "offer.pdf", pages: int = 1, **extra: Any) -> dict[str, Any]:
    return {"FileName": name, "FileBytes": base64.b64encode(tiny_pdf(pages)).decode(), **extra}


def signer(role: str, email: str | None = None, last: str = "Doe", **extra: Any) -> dict[str, Any]:
    slug = role.lower().replace(" ", "")
    return {
        "FirstName": "Pat",
        "LastName": last,
        "EmailAddress": email or f"{slug}@example.com",
        "SignerRole": role,
        **extra,
    }


def make_api(rt: Runtime, name: str = "Acme") -> Api:
    made = clients.create_client(rt.deps, name, f"admin@{name.lower()}.example.com")
    api = Api(TestClient(build_app(rt)), rt, made.client_id, made.api_key, made.admin_username)
    api.login()
    return api


@pytest.fixture
def api(runtime: Runtime) -> Api:
    return make_api(runtime)


@pytest.fixture
def other_api(runtime: Runtime) -> Api:
    return make_api(runtime, "Rival")
