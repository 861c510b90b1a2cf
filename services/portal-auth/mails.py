"""The emails the portal asks the notifier to send (notifier.urgent): activation and validation links, reset links,
identifiers.

The representative's activation link travels as the notifier's own SendActivationEmail; the other emails are
written here and travel as SendFreeEmail (a text the notifier sends as is), so the notifier needs no new command.
"""

from __future__ import annotations

import uuid

import asyncpg

from teleservices.portal_auth import store
from teleservices.shared.messages.catalog import SendActivationEmail, SendFreeEmail
from teleservices.shared.messages.topics import NOTIFIER_URGENT
from teleservices.shared.security.links import LinkPurpose, issue_link_token, read_link_token

CNIL = ("Les services en ligne ont fait l'objet de déclarations auprès de la commission nationale de l'informatique "
        "et des libertés en application de la loi n°78-17 du 6 janvier 1978 relative à l'informatique, aux fichiers "
        "et aux libertés.")


async def issue_link(conn: asyncpg.Connection, link_key: str, public_url: str, path: str, account_id: uuid.UUID,
                     purpose: LinkPurpose, ttl_s: int, email: str | None) -> str:
    """A fresh one-time link, recorded with the address it validates."""
    token = issue_link_token(link_key, account_id, purpose, ttl_s)
    claims = read_link_token(link_key, token, purpose)
    await store.link_issued(conn, claims.link_id, account_id, purpose.value, email)
    return f"{public_url}{path}?jeton={token}"


async def send_activation(conn: asyncpg.Connection, account_id: uuid.UUID, uai: str, identifiant: str,
                          establishment_name: str, email: str, url: str) -> None:
    """The representative's activation link (the notifier's activation email)."""
    notification_id = uuid.uuid4()
    await store.publish(conn, NOTIFIER_URGENT, str(notification_id), SendActivationEmail(
        notification_id=notification_id, account_id=account_id, uai=uai, identifiant=identifiant,
        establishment_name=establishment_name, email=email, activation_url=url), uai)


async def send_text(conn: asyncpg.Connection, account_id: uuid.UUID, uai: str, establishment_name: str, email: str,
                    subject: str, body: str) -> None:
    """Any other email of the portal, written here."""
    notification_id = uuid.uuid4()
    await store.publish(conn, NOTIFIER_URGENT, str(notification_id), SendFreeEmail(
        notification_id=notification_id, account_id=account_id, uai=uai, establishment_name=establishment_name,
        reply_to=None, email=email, subject=subject, body=f"Bonjour,\n\n{body}\n\n{CNIL}\n"), uai)


def validation_body(identifiant: str, url: str, hours: int) -> tuple[str, str]:
    """Subject and text of an email-address validation."""
    return ("Scolarité services : validez votre adresse de messagerie",
            f"Pour valider l'adresse de messagerie de votre compte « {identifiant} », cliquez sur le lien suivant :"
            f"\n\n{url}\n\nCe lien ne sert qu'une fois et expire dans {hours} heures. Si vous n'êtes pas à "
            "l'origine de cette demande, ignorez ce message.")


def reset_body(identifiant: str, url: str, minutes: int) -> tuple[str, str]:
    """Subject and text of a password reset."""
    return ("Scolarité services : choisir un nouveau mot de passe",
            f"Une demande de nouveau mot de passe a été faite pour votre compte « {identifiant} ». Pour choisir "
            f"un nouveau mot de passe, cliquez sur le lien suivant :\n\n{url}\n\nCe lien ne sert qu'une fois et "
            f"expire dans {minutes} minutes. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : "
            "votre mot de passe actuel reste valable.")


def identifiers_body(identifiants: list[str], login_url: str) -> tuple[str, str]:
    """Subject and text of a forgotten identifier."""
    listed = "\n".join(f"  - {i}" for i in identifiants)
    return ("Scolarité services : rappel de votre identifiant",
            f"Voici le ou les identifiants des comptes associés à cette adresse de messagerie :\n\n{listed}\n\n"
            f"Connectez-vous à Scolarité services : {login_url}\n\nSi vous n'êtes pas à l'origine de cette "
            "demande, ignorez ce message.")
