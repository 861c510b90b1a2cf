"""The message d'accueil shown to pupils and legal representatives in Scolarité services (guide §2.7)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from teleservices.accounts.domain.model import ActionRefused
from teleservices.accounts.domain.web_addresses import is_web_url

MESSAGE_MAX_LENGTH = 2000
ALLOWED_TAGS = frozenset({"a", "p", "br", "strong", "em", "ul", "ol", "li"})
VOID_TAGS = frozenset({"br"})
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "template", "iframe", "noscript", "object", "textarea", "title", "xmp", "noembed",
    "noframes", "svg", "math",
})
"""Tags whose content is not text for the reader: removed with everything inside them."""
LINK_ATTRIBUTES = ' rel="noopener noreferrer" target="_blank"'
_SCRIPT_SCHEME = re.compile(r"(javascript):", re.IGNORECASE)


@dataclass(frozen=True)
class MessageAccueil:
    """The message as typed by the establishment, and the HTML that Scolarité services displays."""

    texte: str
    html: str


class _Sanitiser(HTMLParser):
    """Rebuilds the message from scratch: only allowed tags, no attribute except a checked href."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[tuple[str, bool]] = []
        """Allowed tags still open, each with whether it was written out (a link with a bad href is not)."""
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
            return
        if tag in DROPPED_WITH_CONTENT:
            self.skipping.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            return
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}>")
            return
        self._close_implied(tag)
        if tag == "a":
            href = next((value for name, value in attrs if name == "href"), None)
            if href is None or not is_web_url(href):
                self.open.append(("a", False))
                return
            self.out.append(f'<a href="{html.escape(href.strip(), quote=True)}"{LINK_ATTRIBUTES}>')
        else:
            self.out.append(f"<{tag}>")
        self.open.append((tag, True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        self._close(tag)

    def _close_implied(self, tag: str) -> None:
        """Close what HTML closes by itself: link before link, paragraph before block, list item before list item."""
        if tag == "a":
            self._close("a")
        elif tag in {"p", "ul", "ol"} and "p" in self._open_names(after=("li",)):
            self._close("p")
        elif tag == "li" and "li" in self._open_names(after=("ul", "ol")):
            self._close("li")

    def _open_names(self, after: tuple[str, ...]) -> list[str]:
        """The open tags inside the innermost of `after` (all of them when none of `after` is open)."""
        names = [name for name, _ in self.open]
        starts = [position for position, name in enumerate(names) if name in after]
        return names[starts[-1] + 1:] if starts else names

    def _close(self, tag: str) -> None:
        """Close `tag` and whatever is still open inside it, keeping the output well nested."""
        if all(name != tag for name, _ in self.open):
            return
        while self.open:
            name, written = self.open.pop()
            if written:
                self.out.append(f"</{name}>")
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(html.escape(data, quote=True))

    def result(self) -> str:
        self.close()
        while self.open:
            name, written = self.open.pop()
            if written:
                self.out.append(f"</{name}>")
        # Harmless as text, but neither reader nor reviewer should ever meet "javascript:" in the output.
        return _SCRIPT_SCHEME.sub(r"\1&#58;", "".join(self.out))


def sanitise_message_html(texte: str) -> str:
    """The message as safe HTML: links (http/https, opened in a new tab), paragraphs, lists, bold, italics."""
    sanitiser = _Sanitiser()
    try:
        sanitiser.feed(texte)
        return sanitiser.result()
    except AssertionError:
        # html.parser gives up on some malformed declarations (« <![foo[ »): keep the whole message as plain text.
        return _SCRIPT_SCHEME.sub(r"\1&#58;", html.escape(texte, quote=True))


def write_message_accueil(texte: str) -> MessageAccueil:
    """The new message d'accueil, or ActionRefused("message") past 2000 characters as typed."""
    typed = texte.replace("\r\n", "\n")
    if len(typed) > MESSAGE_MAX_LENGTH:
        raise ActionRefused("message", f"Le message d'accueil est limité à {MESSAGE_MAX_LENGTH} caractères "
                                       f"({len(typed)} saisis).")
    return MessageAccueil(typed, sanitise_message_html(typed))
