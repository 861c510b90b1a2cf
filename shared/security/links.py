"""One-time links: random, expiring, bound to an account and a purpose; the consumer records their use."""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from teleservices.shared.security.signing import BadSignature, derive_key, sign, unsign


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
    claims = {"id": secrets.token_urlsafe(16), "acc": str(account_id), "p": purpose.value, "exp": expires}
    return sign(claims, derive_key(secret, "one-time-link"))


def read_link_token(secret: str, token: str, purpose: LinkPurpose, now: float | None = None) -> LinkClaims:
    """Check a link's signature, purpose and expiry (not its use: that is the consumer's record)."""
    try:
        claims = unsign(token, derive_key(secret, "one-time-link"))
        parsed = LinkClaims(link_id=str(claims["id"]), account_id=uuid.UUID(str(claims["acc"])),
                            purpose=LinkPurpose(claims["p"]), expires_at=int(claims["exp"]))
    except (BadSignature, KeyError, ValueError) as exc:
        raise LinkRejected("invalid") from exc
    if parsed.purpose is not purpose:
        raise LinkRejected("invalid")
    if parsed.expires_at <= (now if now is not None else time.time()):
        raise LinkRejected("expired")
    return parsed
