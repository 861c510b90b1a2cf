"""One-time links as the portal reads and sends them: signature, purpose, expiry, single use, the address."""

from __future__ import annotations

from typing import Any

import asyncpg

from teleservices.portal_auth import mails, store
from teleservices.portal_auth.accounts_client import AccountsUnavailable
from teleservices.portal_auth.web import Portal
from teleservices.shared.security.links import LinkClaims, LinkPurpose, LinkRejected, read_link_token


async def send_link(portal: Portal, conn: asyncpg.Connection, row: Any, view: dict[str, Any], address: str,
                     purpose: LinkPurpose) -> None:
    """Email an activation (representative) or validation (other address) link."""
    settings = portal.settings
    name = view["etablissement"]["name"]
    if purpose is LinkPurpose.activation:
        url = await mails.issue_link(conn, portal.link_key, settings.public_url, "/activation", row["account_id"],
                                     purpose, settings.activation_link_ttl_s, address)
        await mails.send_activation(conn, row["account_id"], row["uai"], row["identifiant"], name, address, url)
    else:
        url = await mails.issue_link(conn, portal.link_key, settings.public_url, "/validation-courriel",
                                     row["account_id"], purpose, settings.email_validation_link_ttl_s, address)
        subject, body = mails.validation_body(row["identifiant"], url, settings.email_validation_link_ttl_s // 3600)
        await mails.send_text(conn, row["account_id"], row["uai"], name, address, subject, body)


def read_link(portal: Portal, token: str, purpose: LinkPurpose) -> LinkClaims | str:
    try:
        return read_link_token(portal.link_key, token, purpose)
    except LinkRejected as rejected:
        return rejected.reason


async def link_problem(portal: Portal, token: str, purpose: LinkPurpose) -> tuple[LinkClaims | None, str | None]:
    """The link's claims, or why it cannot be used ('invalid', 'expired', 'used', 'replaced')."""
    claims = read_link(portal, token, purpose)
    if isinstance(claims, str):
        return None, claims
    async with portal.db.connection() as conn:
        recorded = await store.issued_link(conn, claims.link_id)
    if recorded is not None and recorded["used_at"] is not None:
        return claims, "used"
    if recorded is not None and recorded["replaced_at"] is not None:
        return claims, "replaced"
    return claims, None


async def link_address(portal: Portal, claims: LinkClaims) -> str | None:
    """The address a link validates: as the portal recorded it, else (a link staff sent) as accounts holds it."""
    async with portal.db.connection() as conn:
        recorded = await store.issued_link(conn, claims.link_id)
    if recorded is not None and recorded["email"]:
        return str(recorded["email"])
    try:
        email = (await portal.accounts.view(claims.account_id)).get("email")
    except AccountsUnavailable:
        return None
    return str(email) if email else None
