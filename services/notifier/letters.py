"""Letters as emails: rendering (pure) from the notification command and its clear password."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from teleservices.shared import letters as shared_letters
from teleservices.shared.messages.catalog import SendActivationEmail, SendFreeEmail, SendNotification

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
SUBJECT = "Accès aux services en ligne de l'établissement"


ACTIVATION_SUBJECT = "Activation de votre compte des services en ligne"


def message_id(notification_id: uuid.UUID, domain: str) -> str:
    """A Message-ID stable per notification, so a retried send is recognisably the same letter."""
    return f"<notification.{notification_id}@{domain}>"


def _email(notification_id: uuid.UUID, to: str, subject: str, body: str, sender: str, domain: str,
           now: datetime | None, reply_to: str | None = None) -> MIMEMultipart:
    """A multipart text + HTML email (the HTML part is the text, escaped).

    Built with the compat32 MIME classes: the same message, about ten times cheaper to build than an
    EmailMessage with the modern policy (which dominated a worker's time per email).
    """
    email = MIMEMultipart("alternative")
    email["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]  # compat32 takes a Header
    email["From"] = _address(sender)
    email["To"] = _address(to)
    if reply_to:
        email["Reply-To"] = _address(reply_to)
    email["Date"] = format_datetime(now or datetime.now(UTC))
    email["Message-ID"] = message_id(notification_id, domain)
    email.attach(MIMEText(body, "plain", "utf-8"))
    email.attach(MIMEText(_templates.get_template("email.html").render(subject=subject, body=body), "html", "utf-8"))
    return email


def _address(value: str) -> str:
    """An address header with a display name encoded if it is not ASCII."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def render_email(command: SendNotification, password: str | None, sender: str, domain: str,
                 now: datetime | None = None, templates: Mapping[str, str] | None = None) -> MIMEMultipart:
    """The notification letter as an email: the same body the paper letter prints (the establishment's text or
    the default), with the CNIL mention; no address block."""
    part = shared_letters.TemplatePart(f"{command.population.value}_{command.variant.value}")
    recipient = command.recipient
    values = {"Civilité": recipient.civilite, "Nom": recipient.nom, "Prénom": recipient.prenom,
              "Nom élève": command.eleve_nom, "Prénom élève": command.eleve_prenom, "Division": command.division,
              "Établissement": command.establishment_name, "Adresse des services": command.services_url,
              "Identifiant": command.identifiant, "Mot de passe": password}
    text = (templates or {}).get(part.value) or shared_letters.DEFAULTS[part]
    body = shared_letters.fill(f"[Civilité] [Nom] [Prénom]\n\n{text}", values) + f"\n\n{shared_letters.CNIL_MENTION}\n"
    return _email(command.notification_id, recipient.email or "", SUBJECT, body, sender, domain, now)


def render_activation_email(command: SendActivationEmail, sender: str, domain: str,
                            now: datetime | None = None) -> MIMEMultipart:
    """The email carrying a representative's activation link."""
    body = _templates.get_template("activation.txt").render({"c": command, "cnil": shared_letters.CNIL_MENTION})
    return _email(command.notification_id, command.email, ACTIVATION_SUBJECT, body, sender, domain, now)


def render_free_email(command: SendFreeEmail, sender: str, domain: str, now: datetime | None = None) -> MIMEMultipart:
    """A free email written by staff, as they typed it (never interpreted as a template), with the data notice."""
    body = f"{command.body}\n\n-- \n{shared_letters.CNIL_MENTION}\n"
    return _email(command.notification_id, command.email, command.subject, body, sender, domain, now,
                  reply_to=command.reply_to)

