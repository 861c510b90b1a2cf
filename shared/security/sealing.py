"""Field-level authenticated encryption (AES-256-GCM) for temporary passwords in transit and at rest."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class UnsealError(ValueError):
    """The sealed value was altered, sealed for another context, or with another key."""


def _aead(secret: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"teleservices-seal:" + secret.encode()).digest())


def seal(secret: str, plaintext: str, context: str) -> str:
    """Encrypt `plaintext`, bound to `context` (e.g. the account id) so it cannot be moved elsewhere."""
    nonce = os.urandom(12)
    sealed = _aead(secret).encrypt(nonce, plaintext.encode(), context.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(secret: str, token: str, context: str) -> str:
    """Decrypt a value sealed by `seal` for the same context."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        return _aead(secret).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise UnsealError("cannot unseal") from exc
