"""Compact HMAC-SHA256 signed tokens: base64url(JSON claims) "." base64url(signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class BadSignature(ValueError):
    """The token was not signed with our key, or was altered."""


def b64url(data: bytes) -> str:
    """base64url without padding, as in signed tokens and link ids."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, purpose: str) -> bytes:
    """A sub-key per purpose, so one secret never signs two kinds of token alike."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def sign(claims: dict[str, Any], key: bytes) -> str:
    """Serialise and sign claims."""
    body = b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def unsign(token: str, key: bytes) -> dict[str, Any]:
    """Check the signature and return the claims."""
    body, _, signature = token.partition(".")
    expected = b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        raise BadSignature("signature mismatch")
    try:
        claims = json.loads(_unb64(body))
    except ValueError as exc:
        raise BadSignature("malformed token") from exc
    if not isinstance(claims, dict):
        raise BadSignature("malformed token")
    return claims
