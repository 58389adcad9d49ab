"""Content-addressed blob store on the local filesystem. Document bytes never go to the database."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_CHUNK = 1024 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")  # a sha256 in hex: nothing else may name a path


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise KeyError(key)
        return self._root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        # Write beside the target then rename: readers see all of the file or none of it.
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except FileNotFoundError:  # the first blob of its fan-out directory
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def put_file(self, source: Path) -> str:
        """Store a file's content, a chunk at a time (a 100 MB PDF never sits in memory).

        The copy is hashed as it is written, so the key names exactly the bytes stored even if
        `source` changes meanwhile; it goes to a temporary file at the root (the same
        filesystem) and is renamed into place once complete and synced."""
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self._root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            path = self._path(key)
            if path.exists():
                Path(tmp).unlink()
                return key
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """The blob as a file to read in place: blobs are never rewritten, and a reader that
        has opened it keeps reading even if the blob is deleted meanwhile."""
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        yield path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()
