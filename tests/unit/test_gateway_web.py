"""Pure helpers of the staff gateway: where sign-in may send back, dates, school year, service errors."""

from __future__ import annotations

import httpx

from teleservices.gateway.auth import safe_next
from teleservices.gateway.backend import BackendError
from teleservices.gateway.screens.statistiques import display
from teleservices.gateway.web import french_date, school_year


def test_sign_in_only_sends_back_to_a_path_of_this_site() -> None:
    assert safe_next("/etablissements/0540001A/services") == "/etablissements/0540001A/services"
    for hostile in ("https://evil.example", "//evil.example/x", "/\\evil.example", "", None, "javascript:alert(1)"):
        assert safe_next(hostile) == "/"


def test_dates_and_school_year_in_the_guide_s_form() -> None:
    assert french_date("2026-11-23T14:14:55.099Z") == "23/11/2026"
    assert french_date(None) == ""
    assert school_year(2026) == "Année 2026/2027"


def test_percentages_are_printed_as_the_guide_does() -> None:
    assert display("percent", 0.71) == "0.71 %"
    assert display("percent", 0.9) == "0.9 %"
    assert display("percent", 0) == "0 %"
    assert display("count", 12) == "12"


def test_a_service_refusal_names_its_field() -> None:
    named = BackendError.from_response(httpx.Response(422, json={"detail": {"field": "texte", "reason": "trop long"}}))
    assert (named.status, named.field, named.reason) == (422, "texte", "trop long")
    validation = BackendError.from_response(httpx.Response(422, json={"detail": [
        {"loc": ["body", "adresse_messagerie"], "msg": "value is not a valid email address"}]}))
    assert validation.field == "adresse_messagerie"
    plain = BackendError.from_response(httpx.Response(404, json={"detail": "Établissement inconnu."}))
    assert plain.field is None and plain.reason == "Établissement inconnu."
