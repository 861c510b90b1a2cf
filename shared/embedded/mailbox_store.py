"""File-backed store of the e-mails received by the embedded SMTP sink (one ``.eml`` per message)."""

from __future__ import annotations

import asyncio
import builtins
import email.policy
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

log = logging.getLogger(__name__)

ENVELOPE_FROM_HEADER = "X-Mailbox-Envelope-From"
ENVELOPE_TO_HEADER = "X-Mailbox-Envelope-To"
_ID_RE = re.compile(r"\A[0-9]{20}-[0-9a-f]{32}\Z")
_ANGLE_RE = re.compile(r"<([^<>]*)>")
_SUFFIX = ".eml"


class MessageNotFound(KeyError):
    """No stored message has this id (or the id is malformed)."""


def is_message_id(value: str) -> bool:
    """Tell whether ``value`` has the shape of a store id (``<time_ns>-<uuid hex>``)."""
    return _ID_RE.match(value) is not None


def _clean(value: object) -> str:
    """Return text safe for JSON/HTML: surrogate-escaped 8-bit bytes are re-read as UTF-8."""
    text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _header_safe(address: str) -> str:
    return address.replace("\r", "").replace("\n", "").replace("<", "").replace(">", "")


@dataclass(frozen=True, slots=True)
class MessageSummary:
    """What the message list shows: envelope, main headers and size."""

    id: str
    received_at: datetime
    envelope_from: str
    recipients: tuple[str, ...]
    sender: str
    subject: str
    date: datetime
    message_id: str | None
    size: int

    def as_json(self) -> dict[str, object]:
        """Serialise for the JSON API (keys ``from`` and ``to`` as in the brief)."""
        return {
            "id": self.id,
            "from": self.sender,
            "envelope_from": self.envelope_from,
            "to": list(self.recipients),
            "subject": self.subject,
            "date": self.date.isoformat(),
            "received_at": self.received_at.isoformat(),
            "message_id": self.message_id,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class Attachment:
    """A non-body MIME part (letter PDF, inline image…)."""

    index: int
    filename: str | None
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        """Decoded size in bytes."""
        return len(self.content)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A stored message, decoded: headers, text and HTML bodies, attachments and raw bytes."""

    summary: MessageSummary
    headers: tuple[tuple[str, str], ...]
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    raw: bytes

    @property
    def id(self) -> str:
        """The store id."""
        return self.summary.id

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value.strip() for key, value in self.headers if key.lower() == wanted), None)

    def as_json(self) -> dict[str, object]:
        """Serialise for the JSON API."""
        return {
            **self.summary.as_json(),
            "headers": [{"name": key, "value": value} for key, value in self.headers],
            "text": self.text,
            "html": self.html,
            "attachments": [
                {"index": a.index, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                for a in self.attachments
            ],
        }


def _parse(data: bytes, *, headers_only: bool = False) -> EmailMessage:
    parser = BytesParser(_class=EmailMessage, policy=email.policy.default)
    message = parser.parsebytes(data, headersonly=headers_only)
    assert isinstance(message, EmailMessage)
    return message


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # pathological header: keep going
        return None
    return None if value is None else _clean(value).strip()


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError, AssertionError):
        content = None
    if isinstance(content, str):
        return _clean(content)
    return _decoded_payload(part)


def _decoded_payload(part: Message) -> str:
    """A part's payload, transfer-decoded then read in its charset (unknown charsets as UTF-8)."""
    payload = part.get_payload(decode=True)
    raw = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def _received_at(message_id: str) -> datetime:
    return datetime.fromtimestamp(int(message_id.split("-", 1)[0]) / 1e9, tz=UTC)


def _summary(message_id: str, message: Message, size: int) -> MessageSummary:
    received_at = _received_at(message_id)
    envelope_from = _header(message, ENVELOPE_FROM_HEADER) or ""
    recipients = tuple(_ANGLE_RE.findall(_header(message, ENVELOPE_TO_HEADER) or ""))
    if not recipients:  # file dropped by hand: fall back on the headers
        fields = [_header(message, name) or "" for name in ("To", "Cc")]
        recipients = tuple(addr for _, addr in getaddresses(fields) if addr)
    date = received_at
    raw_date = _header(message, "Date")
    if raw_date:
        try:
            parsed = parsedate_to_datetime(raw_date)
            date = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            pass
    return MessageSummary(
        id=message_id,
        received_at=received_at,
        envelope_from=_ANGLE_RE.sub(r"\1", envelope_from),
        recipients=recipients,
        sender=_header(message, "From") or envelope_from,
        subject=_header(message, "Subject") or "",
        date=date,
        message_id=_header(message, "Message-ID"),
        size=size,
    )


class MailStore:
    """Messages kept as ``<time_ns>-<uuid>.eml`` files in one directory, shared between processes."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._summaries: dict[str, MessageSummary] = {}  # files never change once written

    def _path(self, message_id: str) -> Path:
        if not is_message_id(message_id):
            raise MessageNotFound(message_id)
        return self.directory / f"{message_id}{_SUFFIX}"

    def _ids(self, after: str | None = None) -> list[str]:
        names = (entry.name[: -len(_SUFFIX)] for entry in os.scandir(self.directory) if entry.name.endswith(_SUFFIX))
        return sorted((name for name in names if (after is None or name > after) and is_message_id(name)),
                      reverse=True)

    def add(self, envelope_from: str, rcpt_tos: list[str], data: bytes) -> str:
        """Store one received message atomically and return its id."""
        message_id = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        envelope = (
            f"{ENVELOPE_FROM_HEADER}: <{_header_safe(envelope_from)}>\r\n"
            f"{ENVELOPE_TO_HEADER}: {', '.join(f'<{_header_safe(r)}>' for r in rcpt_tos)}\r\n"
        ).encode("utf-8", "surrogateescape")
        temporary = self.directory / f".{message_id}.tmp"
        with open(temporary, "xb") as file:
            file.write(envelope + data)
        os.replace(temporary, self._path(message_id))
        log.debug("message %s written (%d bytes)", message_id, len(envelope) + len(data))
        return message_id

    def _load_summary(self, message_id: str) -> MessageSummary | None:
        with self._lock:
            cached = self._summaries.get(message_id)
        if cached is not None:
            return cached
        path = self._path(message_id)
        try:
            with open(path, "rb") as file:
                headers = _parse(file.read(256 * 1024), headers_only=True)
            size = path.stat().st_size
        except FileNotFoundError:  # cleared by another process meanwhile
            return None
        summary = _summary(message_id, headers, size)
        with self._lock:
            self._summaries[message_id] = summary
        return summary

    def list(self, to: str | None = None, after: str | None = None) -> list[MessageSummary]:
        """Summaries, newest first; ``to`` keeps those with this envelope recipient (case-insensitive), ``after``
        those received after the message with this id (a reader following the mailbox reads only what is new)."""
        ids = self._ids(after)
        if after is None:
            with self._lock:
                for stale in self._summaries.keys() - set(ids):
                    del self._summaries[stale]
        wanted = to.strip().lower() if to else None
        result: list[MessageSummary] = []
        for message_id in ids:
            summary = self._load_summary(message_id)
            if summary is None:
                continue
            if wanted is None or wanted in (r.lower() for r in summary.recipients):
                result.append(summary)
        return result

    def get(self, message_id: str) -> ParsedMessage:
        """Parse one message fully; raise MessageNotFound if there is none with this id."""
        path = self._path(message_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise MessageNotFound(message_id) from None
        message = _parse(raw)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        attachments: builtins.list[Attachment] = []
        for part in message.walk():
            if part.is_multipart() or part is text_part or part is html_part:
                continue
            payload = part.get_payload(decode=True)
            attachments.append(Attachment(
                index=len(attachments),
                filename=_clean(part.get_filename()) if part.get_filename() else None,
                content_type=part.get_content_type(),
                content=payload if isinstance(payload, bytes) else b"",
            ))
        return ParsedMessage(
            summary=_summary(message_id, message, len(raw)),
            headers=tuple((_clean(key), _clean(value)) for key, value in message.items()),
            text=_part_text(text_part) if text_part is not None else None,
            html=_part_text(html_part) if html_part is not None else None,
            attachments=tuple(attachments),
            raw=raw,
        )

    def text(self, message_id: str) -> str | None:
        """Only the plain-text body (the first text/plain part), read with the legacy parser, which leaves headers
        unparsed: a program reading thousands of messages (the rush simulation) pays ~1 ms each instead of ~15."""
        message = email.message_from_bytes(self.raw(message_id), policy=email.policy.compat32)
        part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), None)
        return _decoded_payload(part) if part is not None else None

    def raw(self, message_id: str) -> bytes:
        """The ``.eml`` bytes as stored (envelope headers prepended to what the client sent)."""
        try:
            return self._path(message_id).read_bytes()
        except FileNotFoundError:
            raise MessageNotFound(message_id) from None

    def clear(self) -> int:
        """Delete every stored message; return how many were deleted."""
        deleted = 0
        for message_id in self._ids():
            try:
                self._path(message_id).unlink()
                deleted += 1
            except FileNotFoundError:
                pass
        with self._lock:
            self._summaries.clear()
        log.info("mailbox cleared (%d message(s) deleted)", deleted)
        return deleted

    def count(self) -> int:
        """Number of stored messages."""
        return len(self._ids())

    async def wait_for(
        self, *, to: str | None = None, count: int = 1, timeout: float = 10.0,  # noqa: ASYNC109
    ) -> builtins.list[MessageSummary]:
        """Poll until at least ``count`` messages (for ``to`` if given) are stored; newest first."""
        deadline = time.monotonic() + timeout
        while True:
            found = await asyncio.to_thread(self.list, to)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"expected {count} message(s) within {timeout} s, found {len(found)}")
            await asyncio.sleep(0.05)
