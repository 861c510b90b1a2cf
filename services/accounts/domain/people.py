"""Pure rules about pupils and their representatives as staff see them in the lists."""

from __future__ import annotations

import re
from enum import StrEnum


class RegimeCategory(StrEnum):
    """The three régime categories of the notification filters (guide §3.1)."""

    externe = "Externe"
    demi_pensionnaire = "Demi-pensionnaire"
    interne = "Interne"


_CATEGORY_BY_FIRST_DIGIT = {"0": RegimeCategory.externe, "1": RegimeCategory.externe,
                            "2": RegimeCategory.demi_pensionnaire, "6": RegimeCategory.demi_pensionnaire,
                            "3": RegimeCategory.interne, "4": RegimeCategory.interne, "5": RegimeCategory.interne}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def regime_category(code_regime: str | None) -> RegimeCategory | None:
    """The category of a SIECLE régime code, from its first digit: 0–1 externe, 2 and 6 DP, 3–5 interne."""
    return _CATEGORY_BY_FIRST_DIGIT.get((code_regime or "")[:1])


def first_digits_of(categories: set[RegimeCategory]) -> list[str]:
    """The first digits of the régime codes in these categories (for filtering in SQL)."""
    return sorted(d for d, c in _CATEGORY_BY_FIRST_DIGIT.items() if c in categories)


def email_looks_valid(email: str | None) -> bool:
    """Whether an address has a plausible format (an invalid one shows a pictogram, guide §3.1)."""
    return bool(email and _EMAIL.match(email))


def adresse_ou_courriel(account_email: str | None, email_validated: bool, siecle_email: str | None,
                        address_lines: list[str] | tuple[str, ...]) -> str:
    """The « Adresse / Courriel » column: the account's validated email, else SIECLE's, else the postal address."""
    if account_email and email_validated:
        return account_email
    if siecle_email:
        return siecle_email
    return ", ".join(line for line in address_lines if line)
