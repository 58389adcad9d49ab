"""LocalBlobStore: content addressing and atomic writes, for bytes and for files."""

from __future__ import annotations

import hashlib
import os
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
