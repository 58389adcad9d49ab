"""The server's cryptography: EncryptString, opaque tokens, keyed digests and password hashes.

One master secret (64 random bytes, kept in the data dir or given by ESIGN_SECRET_KEY) is
split by label into independent keys, so no key serves two purposes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    text = text.strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_master_key(data_dir: Path, configured: str | None) -> bytes:
    if configured:
        key = _b64d(configured)
        if len(key) < 32:
            raise ValueError("ESIGN_SECRET_KEY must decode to at least 32 bytes")
        return key
    path = data_dir / "secret.key"
    if path.exists():
        return _b64d(path.read_text())
    key = secrets.token_bytes(64)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(_b64e(key))
    return key


def _derive(master: bytes, label: str, size: int) -> bytes:
    out = b""
    counter = 1
    while len(out) < size:
        out += hmac.new(master, f"{label}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return out[:size]


# What a protected secret starts with: its format's version.
_PROTECTED = "v1."


class ServerCipher:
    def __init__(self, master_key: bytes, remembered_tokens: int = 10_000) -> None:
        self._siv = AESSIV(_derive(master_key, "encrypt-string", 64))
        self._gcm = AESGCM(_derive(master_key, "token", 32))
        self._stored = AESGCM(_derive(master_key, "stored-secret", 32))
        self._digest_key = _derive(master_key, "digest", 32)
        # Tokens this key opened, with what they hold: a client sends the same token with
        # every request, and a token's content never changes. Forgeries are never kept.
        self._opened: dict[str, bytes] = {}
        self._remembered = remembered_tokens

    def encrypt(self, plaintext: str, salt: str) -> str:
        # Deterministic on purpose: the same key and salt always give the same ciphertext,
        # as the vendor's EncryptString does; the salt is bound as associated data.
        return _b64e(self._siv.encrypt(plaintext.encode(), [salt.encode()]))

    def decrypt(self, ciphertext: str, salt: str) -> str | None:
        try:
            return self._siv.decrypt(_b64d(ciphertext), [salt.encode()]).decode()
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            return None

    def seal_token(self, payload: bytes) -> str:
        nonce = secrets.token_bytes(12)
        return _b64e(nonce + self._gcm.encrypt(nonce, payload, b"esign-token"))

    def open_token(self, token: str) -> bytes | None:
        payload = self._opened.get(token)
        if payload is not None:
            return payload
        try:
            raw = _b64d(token)
            if len(raw) < 29:
                return None
            payload = self._gcm.decrypt(raw[:12], raw[12:], b"esign-token")
        except (InvalidTag, ValueError, binascii.Error):
            return None
        if len(self._opened) >= self._remembered:
            self._opened.clear()
        self._opened[token] = payload
        return payload

    def protect(self, secret: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._stored.encrypt(nonce, secret.encode(), context.encode())
        return _PROTECTED + _b64e(nonce + sealed)

    def unprotect(self, stored: str, context: str) -> str | None:
        if not stored.startswith(_PROTECTED):
            return None
        try:
            raw = _b64d(stored[len(_PROTECTED) :])
            return self._stored.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            return None

    def random_secret(self, nbytes: int = 24) -> str:
        return secrets.token_urlsafe(nbytes)

    def digest(self, secret: str) -> str:
        return hmac.new(self._digest_key, secret.encode(), hashlib.sha256).hexdigest()


class ScryptPasswordHasher:
    """scrypt from the standard library: slow, salted, memory-hard; parameters kept per hash."""

    def __init__(self, n: int = 2**14, r: int = 8, p: int = 1) -> None:
        self._n, self._r, self._p = n, r, p

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        dk = hashlib.scrypt(password.encode(), salt=salt, n=self._n, r=self._r, p=self._p, dklen=32)
        return f"scrypt${self._n}${self._r}${self._p}${_b64e(salt)}${_b64e(dk)}"

    def verify(self, password: str, hashed: str) -> bool:
        try:
            scheme, n, r, p, salt, dk = hashed.split("$")
            if scheme != "scrypt":
                return False
            got = hashlib.scrypt(
                password.encode(), salt=_b64d(salt), n=int(n), r=int(r), p=int(p), dklen=32
            )
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(got, _b64d(dk))
