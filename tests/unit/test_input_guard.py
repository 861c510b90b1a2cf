"""A NUL character in a request is refused with FastAPI's 422, naming the field, before the route runs."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from teleservices.shared.input_guard import nul_in_body, nul_in_query
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.settings import Environment, ServiceSettings
from teleservices.shared.web import create_service_app

calls: list[str] = []


class Body(BaseModel):
    nom: str
    enfants: list[dict[str, str]] = []


def _app() -> FastAPI:
    settings = ServiceSettings(environment=Environment.development)  # the app is never started: no secrets used
    app = create_service_app(ServiceRuntime("essai", settings), title="essai")

    @app.post("/echo")
    async def echo(body: Body) -> dict[str, str]:
        calls.append(body.nom)
        return {"nom": body.nom}

    @app.get("/cherche")
    async def search(nom: str = "") -> dict[str, str]:
        calls.append(nom)
        return {"nom": nom}

    return app


async def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://essai")


async def test_a_nul_in_a_json_field_is_refused_naming_it_and_the_route_never_runs() -> None:
    calls.clear()
    async with await _client() as client:
        refused = await client.post("/echo", json={"nom": "Léa", "enfants": [{"prenom": "a\x00b"}]})
        accepted = await client.post("/echo", json={"nom": "Léa"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "enfants", 0, "prenom"]
    assert "U+0000" in refused.json()["detail"][0]["msg"]
    assert accepted.status_code == 200 and calls == ["Léa"]


async def test_a_nul_in_the_query_is_refused_naming_the_parameter() -> None:
    calls.clear()
    async with await _client() as client:
        refused = await client.get("/cherche", params={"nom": "Du\x00pont"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "nom"]
    assert calls == []


def test_forms_and_plain_text_are_scanned_uploads_are_not() -> None:
    assert nul_in_body("application/x-www-form-urlencoded", b"identifiant=a%00b&x=1") == ["body", "identifiant"]
    assert nul_in_body("application/json", b'{"ok": "rien"}') is None
    assert nul_in_body("application/json", b"pas du json \\u0000") is None
    assert nul_in_query(b"a=1&b=2") is None
