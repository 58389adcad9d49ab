"""The bare baseline that `make bench` measures esign against.

A plain Starlette app with no router, codec, auth, audit or PDF parsing. It does the
irreducible part of CreateSession: parse the same JSON with orjson, base64-decode the file,
check `%PDF-`, hash and store the bytes through esign's own `LocalBlobStore` (SHA-256,
temp file + fsync + os.replace under blobs/aa/bb/<hash>), insert one row into SQLite (WAL,
synchronous=NORMAL) and answer a small JSON. GET /documents/{id} reads one row back.

Blocking work runs in Starlette's thread pool, as esign's does, and uvicorn is started with
the same options as `esign serve` (one process; uvloop and httptools when installed).

Run: python bench/baseline_app.py --host 127.0.0.1 --port 8090 --data-dir /tmp/x
"""

from __future__ import annotations

import argparse
import base64
import binascii
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from esign.storage.blobs import LocalBlobStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL
)
"""


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.blobs = LocalBlobStore(data_dir / "blobs")
        self._db_path = data_dir / "baseline.db"
        self._local = threading.local()
        self._conn().execute(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        # One connection per pool thread, opened once, like a pooled engine.
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._db_path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def create(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            doc = orjson.loads(raw)["session"]["Documents"][0]
            name = str(doc["FileName"])
            data = base64.b64decode(doc["FileBytes"], validate=True)
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, binascii.Error) as exc:
            return 400, {"Message": "Error", "Details": [f"bad request: {exc!r}"]}
        if not data.lstrip()[:5].startswith(b"%PDF-"):
            return 400, {"Message": "Error", "Details": ["not a PDF"]}
        key = self.blobs.put(data)
        doc_id = str(uuid.uuid4())
        self._conn().execute(
            "INSERT INTO documents (id, file_name, blob_key, size, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (doc_id, name, key, len(data), time.time()),
        )
        return 200, {"Message": "Success", "ReturnValue": doc_id, "Sha256": key}

    def get(self, doc_id: str) -> tuple[int, dict[str, Any]]:
        row = (
            self._conn()
            .execute(
                "SELECT id, file_name, blob_key, size, created_at FROM documents WHERE id = ?",
                (doc_id,),
            )
            .fetchone()
        )
        if row is None:
            return 404, {"Message": "Error", "Details": ["not found"]}
        keys = ("Id", "FileName", "Sha256", "Size", "CreatedAt")
        return 200, {"Message": "Success", "Document": dict(zip(keys, row, strict=True))}


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


def build_app(data_dir: Path) -> Starlette:
    store = Store(data_dir)

    async def create(request: Request) -> Response:
        raw = await request.body()
        return _json(*await run_in_threadpool(store.create, raw))

    async def get(request: Request) -> Response:
        return _json(*await run_in_threadpool(store.get, request.path_params["id"]))

    async def health(request: Request) -> Response:
        return _json(200, {"Message": "Success"})

    return Starlette(
        routes=[
            Route("/documents", create, methods=["POST"]),
            Route("/documents/{id}", get, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--data-dir", required=True, type=Path)
    args = p.parse_args()
    # The same uvicorn options as `esign serve` (src/esign/cli.py, cmd_serve).
    config = uvicorn.Config(
        build_app(args.data_dir),
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
