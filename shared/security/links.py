"""One-time links: random, expiring, bound to an account and a purpose; the consumer records their use.

A link's token is 54 bytes in base64url (72 characters): a format byte, the purpose, the expiry (seconds since
1970, 32 bits), the account, a random link id, then the first 16 bytes of their HMAC-SHA256. Binary rather than
signed JSON because the first-connection link is printed as a QR code on every new-account letter: at 72 characters
the code is a version 8 symbol (49 × 49 modules) instead of version 12 (65 × 65) — easier to read from paper with
a phone, and cheaper to draw for every letter of a campaign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from teleservices.shared.security.signing import b64url, derive_key


class LinkPurpose(StrEnum):
    """What a link lets its holder do."""

    first_connection = "first_connection"
    activation = "activation"
    email_validation = "email_validation"
    password_reset = "password_reset"  # noqa: S105 — not a secret
    simulation = "simulation"


class LinkRejected(ValueError):
    """The link is forged, for another purpose, or expired (the message says which)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_FORMAT = 1
_CLAIMS = struct.Struct(">BBI16s16s")
"""Format, purpose code, expiry, account id, link id."""
_MAC_BYTES = 16
_TOKEN_CHARS = (_CLAIMS.size + _MAC_BYTES) * 4 // 3
_PURPOSE_CODES = {LinkPurpose.first_connection: 1, LinkPurpose.activation: 2, LinkPurpose.email_validation: 3,
                  LinkPurpose.password_reset: 4, LinkPurpose.simulation: 5}
_PURPOSES = {code: purpose for purpose, code in _PURPOSE_CODES.items()}


@dataclass(frozen=True)
class LinkClaims:
    """What a valid link says. `link_id` is what the consumer records to make it single-use."""

    link_id: str
    account_id: uuid.UUID
    purpose: LinkPurpose
    expires_at: int


def issue_link_token(secret: str, account_id: uuid.UUID, purpose: LinkPurpose, ttl_s: int,
                     now: float | None = None) -> str:
    """A fresh token for a one-time link."""
    expires = int((now if now is not None else time.time()) + ttl_s)
    claims = _CLAIMS.pack(_FORMAT, _PURPOSE_CODES[purpose], expires, account_id.bytes, secrets.token_bytes(16))
    return base64.urlsafe_b64encode(claims + _mac(secret, claims)).decode()


def read_link_token(secret: str, token: str, purpose: LinkPurpose, now: float | None = None) -> LinkClaims:
    """Check a link's signature, purpose and expiry (not its use: that is the consumer's record)."""
    if len(token) != _TOKEN_CHARS:
        raise LinkRejected("invalid")
    try:
        raw = base64.urlsafe_b64decode(token)
    except (binascii.Error, ValueError) as exc:  # ValueError: not ASCII
        raise LinkRejected("invalid") from exc
    claims, mac = raw[:_CLAIMS.size], raw[_CLAIMS.size:]
    canonical = base64.urlsafe_b64encode(raw).decode() == token  # the decoder skips characters it does not know
    if not canonical or not hmac.compare_digest(mac, _mac(secret, claims)):
        raise LinkRejected("invalid")
    version, code, expires, account, link = _CLAIMS.unpack(claims)
    if version != _FORMAT or _PURPOSES.get(code) is not purpose:
        raise LinkRejected("invalid")
    if expires <= (now if now is not None else time.time()):
        raise LinkRejected("expired")
    return LinkClaims(link_id=b64url(link),
                      account_id=uuid.UUID(bytes=account), purpose=purpose, expires_at=expires)


def _mac(secret: str, claims: bytes) -> bytes:
    return hmac.new(derive_key(secret, "one-time-link"), claims, hashlib.sha256).digest()[:_MAC_BYTES]
