"""Web mailbox (French HTML pages + JSON API) over a MailStore; untrusted mail content is always escaped."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from teleservices.shared.embedded.mailbox_store import MailStore, MessageNotFound, ParsedMessage

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
IFRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
MAIL_HTML_CSP = (
    f"sandbox {IFRAME_SANDBOX}; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
_SAFE_ATTACHMENT_TYPES = {
    "application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain", "text/calendar",
}
PAGE_LIMIT = 500  # newest messages shown on the HTML list (the JSON API returns all)
_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»'\""

try:
    _PARIS: tzinfo = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # pragma: no cover - minimal images without tzdata
    _PARIS = UTC


def linkify(text: str) -> Markup:
    """Escape ``text`` and turn its http(s) URLs into links; nothing else of the mail survives as HTML."""
    pieces: list[str] = []
    position = 0
    for match in _URL_RE.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        pieces.append(str(escape(text[position:match.start()])))
        pieces.append(f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>')
        position = end
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))  # noqa: S704 - every piece above is escaped


def french_date(value: datetime) -> str:
    """Format a date as ``23/11/2025 à 11:36`` in Paris time."""
    return value.astimezone(_PARIS).strftime("%d/%m/%Y à %H:%M")


def human_size(size: int) -> str:
    """Format a byte count in French (``12,3 ko``)."""
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} ko".replace(".", ",")
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


class _LinkCollector(HTMLParser):
    """Collect (url, label) of http(s) links of an HTML body, so they can be shown outside the iframe."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._current: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if href and _URL_RE.fullmatch(href.strip()):
            self._current = (href.strip(), [])

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            url, label = self._current
            self.links.append((url, " ".join("".join(label).split()) or url))
            self._current = None


def html_links(body: str) -> list[tuple[str, str]]:
    """The http(s) links (url, label) of an HTML body, in order, without duplicates."""
    collector = _LinkCollector()
    collector.feed(body)
    collector.close()
    return list(dict.fromkeys(collector.links))


_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
_env.filters.update(linkify=linkify, french_date=french_date, human_size=human_size)
_ERROR_TEMPLATE = _env.from_string(
    '{% extends "mailbox_base.html" %}{% block content %}<h1>{{ title }}</h1><p>{{ detail }}</p>'
    '<p><a href="{{ base }}/">Retour à la boîte de réception</a></p>{% endblock %}'
)


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    base = str(request.scope.get("root_path", "")).rstrip("/")
    body = _env.get_template(template).render(base=base, **context)
    return HTMLResponse(body, status_code=status_code)


def create_mailbox_app(store: MailStore) -> FastAPI:
    """Build the web mailbox: HTML pages in French and a JSON API under /api."""
    app = FastAPI(title="Boîte aux lettres de test", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]],
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(MessageNotFound)
    async def not_found(request: Request, exc: MessageNotFound) -> Response:
        if request.url.path.startswith(request.scope.get("root_path", "") + "/api/"):
            return JSONResponse({"detail": "message introuvable"}, status_code=404)
        base = str(request.scope.get("root_path", "")).rstrip("/")
        page = _ERROR_TEMPLATE.render(
            base=base, title="Message introuvable", page_title="Message introuvable",
            detail="Ce message n'existe pas ou la boîte a été vidée.",
        )
        return HTMLResponse(page, status_code=404)

    # ---- HTML pages -------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, to: str | None = None) -> HTMLResponse:
        to = (to or "").strip() or None
        messages = store.list(to)
        return _render(request, "mailbox_index.html", messages=messages[:PAGE_LIMIT], matching=len(messages),
                       to=to, total=store.count(), page_title="Boîte de réception")

    @app.get("/messages/{message_id}", response_class=HTMLResponse)
    def message_page(request: Request, message_id: str) -> HTMLResponse:
        message: ParsedMessage = store.get(message_id)
        return _render(request, "mailbox_message.html", message=message, summary=message.summary,
                       links=html_links(message.html) if message.html else [], sandbox=IFRAME_SANDBOX,
                       page_title=message.summary.subject or "(sans objet)")

    @app.get("/messages/{message_id}/html")
    def message_html(message_id: str) -> Response:
        body = store.get(message_id).html
        if body is None:
            raise MessageNotFound(message_id)
        # Links leave the sandboxed frame for the whole tab (activation links must work on click).
        document = '<base target="_top">' + body
        return HTMLResponse(document, headers={"Content-Security-Policy": MAIL_HTML_CSP})

    @app.get("/messages/{message_id}/attachments/{index}")
    def attachment(message_id: str, index: int) -> Response:
        parts = store.get(message_id).attachments
        if not 0 <= index < len(parts):
            raise MessageNotFound(message_id)
        part = parts[index]
        safe = part.content_type in _SAFE_ATTACHMENT_TYPES
        media_type = part.content_type if safe else "application/octet-stream"
        filename = part.filename or f"piece-jointe-{index + 1}"
        return Response(part.content, media_type=media_type, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        })

    @app.post("/clear")
    def clear_page(request: Request) -> Response:
        if request.headers.get("sec-fetch-site", "same-origin") not in {"same-origin", "none"}:
            return HTMLResponse("Requête refusée (origine différente).", status_code=403)
        store.clear()
        base = str(request.scope.get("root_path", "")).rstrip("/")
        return RedirectResponse(f"{base}/", status_code=303)

    # ---- JSON API ---------------------------------------------------------------------------------------
    @app.get("/api/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "count": store.count()})

    @app.get("/api/messages")
    def api_list(to: str | None = None) -> JSONResponse:
        return JSONResponse([summary.as_json() for summary in store.list(to)])

    @app.get("/api/messages/{message_id}")
    def api_get(message_id: str) -> JSONResponse:
        return JSONResponse(store.get(message_id).as_json())

    @app.get("/api/messages/{message_id}/raw")
    def api_raw(message_id: str) -> Response:
        return Response(store.raw(message_id), media_type="message/rfc822", headers={
            "Content-Disposition": f'attachment; filename="{message_id}.eml"',
        })

    @app.delete("/api/messages")
    def api_clear() -> JSONResponse:
        return JSONResponse({"deleted": store.clear()})

    return app


__all__ = ["create_mailbox_app", "french_date", "html_links", "human_size", "linkify"]
