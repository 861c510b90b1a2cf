"""Identifiers: normalised `prenom.nom` plus the smallest number making it unique in the academy."""

from __future__ import annotations

import re
import unicodedata

PART_MAX_LENGTH = 30
EMPTY_PART = "x"
"""Stands for a name with no letter or digit left after normalisation."""
_LETTERS = str.maketrans({
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ẞ": "ss",
    "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ħ": "h", "Ħ": "h", "ı": "i",
})
"""Ligatures expanded, and letters with a stroke (which Unicode does not decompose) given their base letter."""
_DROPPED = re.compile(r"[^a-z0-9-]")


def normalise_part(text: str) -> str:
    """Lower case, no diacritics, ligatures expanded, apostrophes and spaces removed, hyphens kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS).lower()
    return _DROPPED.sub("", bare)[:PART_MAX_LENGTH]


def first_given_name(prenom: str) -> str:
    """The first given name of SIECLE's PRENOM (which may hold several, space- or comma-separated)."""
    return re.split(r"[\s,]+", prenom.strip(), maxsplit=1)[0] if prenom.strip() else ""


def identifier_base(prenom: str, nom_usage: str) -> str:
    """`prenom.nom` before its number."""
    prenom_part = normalise_part(first_given_name(prenom)) or EMPTY_PART
    nom_part = normalise_part(nom_usage) or EMPTY_PART
    return f"{prenom_part}.{nom_part}"


def identifier(base: str, number: int) -> str:
    """The identifier for a base and its order number (1, 2, …)."""
    if number < 1:
        raise ValueError("identifier numbers start at 1")
    return f"{base}{number}"
