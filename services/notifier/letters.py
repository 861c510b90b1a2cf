"""Letters as emails: rendering (pure) from the notification command and its clear password."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from teleservices.shared.messages.catalog import SendNotification

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
SUBJECT = "Accès aux services en ligne de l'établissement"


def message_id(command: SendNotification, domain: str) -> str:
    """A Message-ID stable per notification, so a retried send is recognisably the same letter."""
    return f"<notification.{command.notification_id}@{domain}>"


def render_email(command: SendNotification, password: str | None, sender: str, domain: str,
                 now: datetime | None = None) -> EmailMessage:
    """The notification letter as a multipart text + HTML email."""
    context = {"c": command, "r": command.recipient, "password": password}
    email = EmailMessage()
    email["Subject"] = SUBJECT
    email["From"] = sender
    email["To"] = command.recipient.email or ""
    email["Date"] = format_datetime(now or datetime.now(UTC))
    email["Message-ID"] = message_id(command, domain)
    body = _templates.get_template(f"{command.variant.value}.txt").render(context)
    email.set_content(body)
    email.add_alternative(_templates.get_template("email.html").render(subject=SUBJECT, body=body), subtype="html")
    return email

