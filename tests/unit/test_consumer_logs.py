"""What a consumer's log lines say of an error: its kind and the fields at fault, never the values."""

from __future__ import annotations

import asyncpg
import pytest
from pydantic import BaseModel, ValidationError

from teleservices.shared.kafka.consumer import loggable


class Personne(BaseModel):
    """A message part with personal data."""

    telephone: int
    email: str


def test_invalid_data_names_the_fields_not_the_values() -> None:
    with pytest.raises(ValidationError) as raised:
        Personne.model_validate({"telephone": "06 12 34 56 78 (Mme Dupré)", "email": None})
    line = loggable(raised.value)
    assert line == "ValidationError on email, telephone"
    assert "Dupré" not in line and "06 12" not in line


def test_a_database_error_gives_its_code_not_the_conflicting_key() -> None:
    error = asyncpg.UniqueViolationError("duplicate key value violates unique constraint")
    error.detail = "Key (identifiant)=(claire.dupont1) already exists."  # type: ignore[attr-defined]
    line = loggable(error)
    assert line.startswith("UniqueViolationError") and "claire" not in line


def test_any_other_error_is_its_kind_only() -> None:
    assert loggable(KeyError("claire.dupont1")) == "KeyError"
