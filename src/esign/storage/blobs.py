"""Content-addressed blob store on the local filesystem. Document bytes never go to the database."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_CHUNK = 1024 * 1024
_KEY = re.compile(r"[0-9a-f]{64}")  # a sha256 in hex: nothing else may name a path
# Owner-only, as tempfile makes them; O_EXCL: never write into a file someone else made.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE |= getattr(os, "O_BINARY", 0)
_numbers = itertools.count()


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._base = os.fspath(root)
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise KeyError(key)
        return self._root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        """Store `data` under its sha256. One system call a step and no tempfile or pathlib
        objects: each call drops the GIL, and a request thread that drops it waits to get it
        back behind every other thread."""
        key = hashlib.sha256(data).hexdigest()
        directory = os.path.join(self._base, key[:2], key[2:4])
        path = os.path.join(directory, key)
        if _reuse(path):
            return key
        # Write beside the target then rename: readers see all of the file or none of it.
        fd, tmp = _new_temporary(directory)
        try:
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        return key

    def put_file(self, source: Path) -> str:
        """Store a file's content, a chunk at a time (a 100 MB PDF never sits in memory).

        The copy is hashed as it is written, so the key names exactly the bytes stored even if
        `source` changes meanwhile; it goes to a temporary file at the root (the same
        filesystem) and is renamed into place once complete and synced."""
        digest = hashlib.sha256()
        fd, tmp = _new_temporary(self._base)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            path = self._path(key)
            if _reuse(os.fspath(path)):
                os.unlink(tmp)
                return key
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
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

    def delete_unless_recent(self, key: str, recent: float) -> bool:
        """Delete the blob unless it was stored, or found by a `put`, within the last `recent`
        seconds; True when it is gone.

        The caller found no reference to it, but a `put` that found it may not have committed
        its reference yet. The file is moved out of sight before its time is read: a `put`
        before the move has refreshed it (it is put back), a `put` after the move finds
        nothing and writes it anew."""
        path = os.fspath(self._path(key))
        aside = os.path.join(os.path.dirname(path), _private_name(_ASIDE))
        try:
            if time.time() - os.stat(path).st_mtime < recent:
                return False
            os.rename(path, aside)
        except FileNotFoundError:
            return True
        if time.time() - os.stat(aside).st_mtime < recent:
            with suppress(FileExistsError):  # else a put wrote it anew meanwhile
                os.link(aside, path)
            os.unlink(aside)
            return False
        os.unlink(aside)
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def recover_leftovers(self, older_than: float) -> list[str]:
        """Walks every fan-out directory: meant for a daily sweep, not a request."""
        restored: set[str] = set()
        for directory in (self._base, *_fan_out_directories(self._base)):
            for entry in _leftovers(directory, older_than):
                if not entry.name.startswith(_ASIDE):  # an unfinished write
                    with suppress(FileNotFoundError):
                        os.unlink(entry.path)
                elif key := self._put_back(entry.path):
                    restored.add(key)
        return sorted(restored)

    def _put_back(self, aside: str) -> str | None:
        """The key of a blob set aside (its content names it, like every blob's) if it had
        to be put back; None if it was there already."""
        digest = hashlib.sha256()
        try:
            with open(aside, "rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:  # another sweep took it
            return None
        key = digest.hexdigest()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(aside, path)
            put_back: str | None = key
        except FileExistsError:  # stored anew, or put back by another sweep, meanwhile
            put_back = None
        with suppress(FileNotFoundError):
            os.unlink(aside)
        return put_back


_TEMPORARY, _ASIDE = ".tmp-", ".gone-"


def _fan_out_directories(base: str) -> Iterator[str]:
    for top in _subdirectories(base):
        yield top
        yield from _subdirectories(top)


def _subdirectories(directory: str) -> Iterator[str]:
    with os.scandir(directory) as entries:
        paths = [e.path for e in entries if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]
    return iter(sorted(paths))


def _leftovers(directory: str, older_than: float) -> list[os.DirEntry[str]]:
    """Temporary and set-aside files not written, renamed or moved for `older_than` seconds
    (a rename sets the change time)."""
    now = time.time()
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if not entry.name.startswith((_TEMPORARY, _ASIDE)):
                continue
            with suppress(FileNotFoundError):
                info = entry.stat(follow_symlinks=False)
                if now - max(info.st_mtime, info.st_ctime) >= older_than:
                    found.append(entry)
    return found


def _reuse(path: str) -> bool:
    """Whether the blob is already stored; if so it counts as stored now (its time is set),
    so that a collector that found no reference to it yet spares it (delete_unless_recent)."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    except PermissionError:  # another user's file: there, though its time cannot be set
        return True
    return True


def _new_temporary(directory: str) -> tuple[int, str]:
    """A new file of a name unique in this process, made without a random draw (os.urandom
    is a system call too). Other processes have other pids; a name left by a crashed process
    that had this pid is skipped."""
    for _ in range(1000):
        tmp = os.path.join(directory, _private_name(_TEMPORARY))
        try:
            return os.open(tmp, _NEW_FILE, 0o600), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:  # the first blob of its fan-out directory
            os.makedirs(directory, exist_ok=True)
    raise FileExistsError(f"no free temporary name in {directory}")


def _private_name(prefix: str) -> str:
    """A hidden name no other thread of this process will make."""
    return f"{prefix}{os.getpid()}-{threading.get_ident()}-{next(_numbers)}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
