"""Email and web addresses typed by staff: syntax checks strict enough to keep junk and scripts out."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from teleservices.accounts.domain.model import ActionRefused

EMAIL_MAX_LENGTH = 254
URL_MAX_LENGTH = 2000
WEB_SCHEMES = frozenset({"http", "https"})

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[^\W_](?:[^\W_]|-){0,62}")
_TOP_LEVEL = re.compile(r"[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}")
_FORBIDDEN_IN_URL = frozenset('<>"`\\{}|^')


def _is_domain(name: str) -> bool:
    labels = name.split(".")
    return (
        len(labels) >= 2
        and len(name) <= 253
        and all(_LABEL.fullmatch(label) and not label.endswith("-") for label in labels)
        and _TOP_LEVEL.fullmatch(labels[-1]) is not None
    )


def validate_email(value: str | None, field: str) -> str:
    """The address with its domain lower-cased, or ActionRefused naming `field`."""
    address = (value or "").strip()
    if not address:
        raise ActionRefused(field, "L'adresse de messagerie est obligatoire.")
    local, at, domain = address.rpartition("@")
    if (
        not at
        or len(address) > EMAIL_MAX_LENGTH
        or len(local) > 64
        or not _LOCAL_PART.fullmatch(local)
        or not _is_domain(domain.lower())
    ):
        raise ActionRefused(field, "L'adresse de messagerie n'est pas valide.")
    return f"{local}@{domain.lower()}"


def _url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) address, or None when it is one."""
    if not url:
        return "L'adresse internet est obligatoire."
    if len(url) > URL_MAX_LENGTH:
        return f"L'adresse internet est limitée à {URL_MAX_LENGTH} caractères."
    if any(c.isspace() or c in _FORBIDDEN_IN_URL or unicodedata.category(c).startswith("C") for c in url):
        return "L'adresse internet ne doit contenir ni espace ni caractère de contrôle."
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed [IPv6] host
        return "L'adresse internet doit comporter un nom de domaine valide après http:// ou https://."
    if parts.scheme not in WEB_SCHEMES or not url.lower().startswith(f"{parts.scheme}://"):
        return "L'adresse internet doit commencer par http:// ou https://."
    if "@" in parts.netloc:
        return "L'adresse internet ne doit contenir ni identifiant ni mot de passe."
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "L'adresse internet n'est pas valide (port incorrect)."
    if port == 0:
        return "L'adresse internet n'est pas valide (port incorrect)."
    if not _is_host(host, bracketed=parts.netloc.startswith("[")):
        return "L'adresse internet doit comporter un nom de domaine valide après http:// ou https://."
    return None


def _is_host(host: str, bracketed: bool) -> bool:
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return _is_domain(host)


def is_web_url(value: str) -> bool:
    """Whether `value` (surrounding spaces ignored) is an absolute http or https address with a host."""
    return _url_problem(value.strip()) is None


def validate_url(value: str | None, field: str) -> str:
    """The trimmed http(s) address, or ActionRefused naming `field` (javascript:, ftp:, relative…)."""
    url = (value or "").strip()
    problem = _url_problem(url)
    if problem is not None:
        raise ActionRefused(field, problem)
    return url
