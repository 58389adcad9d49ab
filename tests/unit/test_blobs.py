"""LocalBlobStore: content addressing and atomic writes, for bytes and for files."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from esign.storage import blobs as blobs_module
from esign.storage.blobs import LocalBlobStore


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def test_put_file_stores_the_content_under_its_sha256(
    store: LocalBlobStore, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk, not a whole number of them
    source = tmp_path / "upload.pdf"
    source.write_bytes(data)
    key = store.put_file(source)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.get(key) == data and store.exists(key)
    assert files_under(tmp_path / "blobs") == [tmp_path / "blobs" / key[:2] / key[2:4] / key]
    assert source.read_bytes() == data  # the source is left where it was


def test_put_and_put_file_share_one_blob(store: LocalBlobStore, tmp_path: Path) -> None:
    source = tmp_path / "same.bin"
    source.write_bytes(b"same content")
    assert store.put(b"same content") == store.put_file(source) == store.put_file(source)
    assert len(files_under(tmp_path / "blobs")) == 1  # no temporary file left behind


def test_an_empty_file_is_a_blob_too(store: LocalBlobStore, tmp_path: Path) -> None:
    source = tmp_path / "empty"
    source.write_bytes(b"")
    key = store.put_file(source)
    assert key == hashlib.sha256(b"").hexdigest() and store.get(key) == b""


def test_a_failed_put_file_leaves_nothing(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "doc.pdf"
    source.write_bytes(b"%PDF-1.7 content")

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(blobs_module.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put_file(source)
    monkeypatch.undo()
    assert files_under(tmp_path / "blobs") == []  # neither the blob nor the temporary copy
    assert not store.exists(hashlib.sha256(b"%PDF-1.7 content").hexdigest())
    with pytest.raises(FileNotFoundError):
        store.put_file(tmp_path / "missing.pdf")
    assert files_under(tmp_path / "blobs") == []


def test_readers_never_see_a_partial_blob(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the copy is written, the blob's own path does not exist yet."""
    data = os.urandom(2 * 1024 * 1024 + 5)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    key = hashlib.sha256(data).hexdigest()
    seen: list[bool] = []
    real_replace = os.replace

    def replace(src: str, dst: Path) -> None:
        seen.append(store.exists(key))
        assert Path(src).read_bytes() == data  # complete before it is renamed into place
        real_replace(src, dst)

    monkeypatch.setattr(blobs_module.os, "replace", replace)
    assert store.put_file(source) == key
    assert seen == [False] and store.get(key) == data


def test_local_file_is_the_blob_to_read_in_place(store: LocalBlobStore) -> None:
    key = store.put(b"%PDF-1.7 blob")
    with store.local_file(key) as path:
        assert path.read_bytes() == b"%PDF-1.7 blob"
    with pytest.raises(KeyError), store.local_file(hashlib.sha256(b"nothing").hexdigest()):
        pass
    with pytest.raises(KeyError), store.local_file("../../etc/passwd"):
        pass


@pytest.mark.parametrize(
    "key", ["", "../" + "a" * 61, "A" * 64, "a" * 63, "a" * 64 + "\n", "g" * 64]
)
def test_only_a_sha256_in_hex_names_a_blob(store: LocalBlobStore, key: str) -> None:
    with pytest.raises(KeyError):
        store.get(key)


def test_put_stores_bytes_under_their_sha256_once(store: LocalBlobStore, tmp_path: Path) -> None:
    data = b"%PDF-1.7 " + os.urandom(50_000)
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    blob = tmp_path / "blobs" / key[:2] / key[2:4] / key
    assert files_under(tmp_path / "blobs") == [blob]
    assert blob.read_bytes() == data and blob.stat().st_mode & 0o777 == 0o600
    inode = blob.stat().st_ino
    assert store.put(data) == key  # already there: not written again (only its time is set)
    assert blob.stat().st_ino == inode and files_under(tmp_path / "blobs") == [blob]


def test_a_failed_put_leaves_nothing(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(blobs_module.os, "fsync", crash)
    with pytest.raises(OSError, match="I/O error"):
        store.put(b"%PDF-1.7 lost")
    monkeypatch.undo()
    assert files_under(tmp_path / "blobs") == []
    assert not store.exists(hashlib.sha256(b"%PDF-1.7 lost").hexdigest())


def test_put_is_whole_before_it_is_visible(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(300_000)
    key = hashlib.sha256(data).hexdigest()
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        assert not store.exists(key)
        assert Path(src).read_bytes() == data and Path(src).name.startswith(".tmp-")
        real_replace(src, dst)

    monkeypatch.setattr(blobs_module.os, "replace", replace)
    assert store.put(data) == key and store.get(key) == data


def test_put_skips_a_temporary_name_left_by_a_crash(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process restarted with the pid of one that crashed mid-write finds its names taken."""
    data = b"%PDF-1.7 after a crash"
    key = hashlib.sha256(data).hexdigest()
    directory = tmp_path / "blobs" / key[:2] / key[2:4]
    directory.mkdir(parents=True)
    numbers = iter(range(5))
    monkeypatch.setattr(blobs_module, "_numbers", numbers)
    leftovers = [directory / f".tmp-{os.getpid()}-{threading.get_ident()}-{n}" for n in (0, 1)]
    for leftover in leftovers:
        leftover.write_bytes(b"half a file")
    assert store.put(data) == key and store.get(key) == data
    assert [p.read_bytes() for p in leftovers] == [b"half a file"] * 2  # not overwritten


def test_concurrent_puts_of_the_same_bytes_make_one_blob(
    store: LocalBlobStore, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: store.put(data), range(32)))
    assert keys == {hashlib.sha256(data).hexdigest()}
    assert len(files_under(tmp_path / "blobs")) == 1


def _age(store: LocalBlobStore, key: str, seconds: float = 3600) -> None:
    with store.local_file(key) as path:
        then = time.time() - seconds
        os.utime(path, (then, then))


def test_delete_unless_recent(store: LocalBlobStore, tmp_path: Path) -> None:
    key = store.put(b"%PDF-1.7 kept a while")
    assert store.delete_unless_recent(key, 60) is False and store.exists(key)  # just stored
    _age(store, key)
    assert store.delete_unless_recent(key, 60) is True and not store.exists(key)
    assert store.delete_unless_recent(key, 60) is True  # nothing there: gone already
    assert files_under(tmp_path / "blobs") == []  # nothing set aside is left behind


def test_bytes_found_by_a_put_count_as_stored_now(store: LocalBlobStore) -> None:
    key = store.put(b"%PDF-1.7 reused")
    _age(store, key)
    assert store.put(b"%PDF-1.7 reused") == key
    assert store.delete_unless_recent(key, 60) is False and store.exists(key)


def _put_during_the_move(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch, data: bytes, *, before: bool
) -> str:
    """An aged blob of `data`, and a put of the same bytes just before (or just after) the
    collector moves it aside; the put must answer the blob's key either way."""
    key = store.put(data)
    _age(store, key)
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        if before:
            assert store.put(data) == key  # found, and refreshed
        real_rename(src, dst)
        if not before:
            assert store.put(data) == key  # finds nothing: writes it

    monkeypatch.setattr(blobs_module.os, "rename", rename)
    return key


def test_a_put_racing_the_collector_keeps_its_blob(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector saw an old blob; a put finds it before the collector moves it aside."""
    data = b"%PDF-1.7 raced"
    key = _put_during_the_move(store, monkeypatch, data, before=True)
    assert store.delete_unless_recent(key, 60) is False
    assert store.get(key) == data and len(files_under(tmp_path / "blobs")) == 1


def test_a_put_after_the_collector_moved_the_blob_writes_it_anew(
    store: LocalBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"%PDF-1.7 written again"
    key = _put_during_the_move(store, monkeypatch, data, before=False)
    assert store.delete_unless_recent(key, 60) is True  # the old copy went...
    assert store.get(key) == data  # ...the put's copy stays
    assert len(files_under(tmp_path / "blobs")) == 1


def _set_aside(store: LocalBlobStore, key: str, name: str) -> Path:
    """What a crash between `delete_unless_recent`'s move and its unlink leaves."""
    with store.local_file(key) as path:
        aside = path.with_name(name)
        path.rename(aside)
    return aside


def test_leftovers_of_a_crash_are_cleared(store: LocalBlobStore, tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    kept = store.put(b"%PDF-1.7 kept")
    lost = store.put(b"%PDF-1.7 set aside by a crash")
    twice = store.put(b"%PDF-1.7 set aside, then stored anew")
    aside = _set_aside(store, lost, ".gone-1-2-3")
    _set_aside(store, twice, ".gone-1-2-4")
    assert store.put(b"%PDF-1.7 set aside, then stored anew") == twice
    with store.local_file(kept) as path:
        unfinished = [path.with_name(".tmp-1-2-5"), root / ".tmp-1-2-6"]
    for leftover in unfinished:
        leftover.write_bytes(b"half a file")
    assert store.recover_leftovers(3600) == []  # all of it just made: perhaps still at work
    assert aside.exists() and all(p.exists() for p in unfinished)
    assert store.recover_leftovers(0) == [lost]
    assert store.get(lost) == b"%PDF-1.7 set aside by a crash"
    assert store.get(kept) == b"%PDF-1.7 kept"
    assert store.get(twice) == b"%PDF-1.7 set aside, then stored anew"
    assert sorted(p.name for p in files_under(root)) == sorted([kept, lost, twice])


def test_recovering_an_empty_store_finds_nothing(store: LocalBlobStore) -> None:
    assert store.recover_leftovers(0) == []
