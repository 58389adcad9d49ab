"""ServerCipher's tokens: sealed with AES-GCM, opened only by the key that sealed them, and
remembered once opened (a client sends the same token with every request)."""

from __future__ import annotations

import os

from esign.identity.crypto import ServerCipher


def test_a_token_opens_again_and_again() -> None:
    cipher = ServerCipher(os.urandom(64))
    token = cipher.seal_token(b'{"c":"client"}')
    assert cipher.open_token(token) == b'{"c":"client"}'
    assert cipher.open_token(token) == b'{"c":"client"}'


def test_a_token_opened_by_one_key_is_refused_by_another() -> None:
    mine, theirs = ServerCipher(os.urandom(64)), ServerCipher(os.urandom(64))
    token = theirs.seal_token(b"payload")
    assert theirs.open_token(token) == b"payload"  # remembered by theirs, not by mine
    assert mine.open_token(token) is None


def test_forgeries_never_open_however_often_tried() -> None:
    cipher = ServerCipher(os.urandom(64))
    token = cipher.seal_token(b"payload")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for forged in (tampered, "", "x" * 40, token + "A"):
        assert cipher.open_token(forged) is None
        assert cipher.open_token(forged) is None
    assert cipher.open_token(token) == b"payload"


def test_the_memory_stays_bounded() -> None:
    cipher = ServerCipher(os.urandom(64), remembered_tokens=3)
    tokens = [cipher.seal_token(str(n).encode()) for n in range(10)]
    for n, token in enumerate(tokens):
        assert cipher.open_token(token) == str(n).encode()
    assert len(cipher._opened) <= 3
    assert [cipher.open_token(t) for t in tokens] == [str(n).encode() for n in range(10)]


def test_a_protected_secret_opens_only_with_its_key_and_context() -> None:
    mine, theirs = ServerCipher(os.urandom(64)), ServerCipher(os.urandom(64))
    stored = mine.protect("whsec_abc", "webhook-secret:client-1")
    assert "whsec_abc" not in stored
    assert mine.unprotect(stored, "webhook-secret:client-1") == "whsec_abc"
    assert mine.unprotect(stored, "webhook-secret:client-2") is None
    assert theirs.unprotect(stored, "webhook-secret:client-1") is None
    # A fresh nonce each time: equal secrets are not seen to be equal at rest.
    assert mine.protect("whsec_abc", "webhook-secret:client-1") != stored


def test_anything_else_is_not_a_protected_secret() -> None:
    cipher = ServerCipher(os.urandom(64))
    stored = cipher.protect("s", "c")
    for other in ("", "s", "v1.", "v1.!!!", "v1.AAAA", stored[:-3], stored.replace("v1.", "v2.")):
        assert cipher.unprotect(other, "c") is None
