"""Gathering a person's data and a breach report across services, with fake services answering."""

from __future__ import annotations

from typing import Any

import pytest

from teleservices.shared.privacy.access import ServiceRefused, access_pdf, assemble, gather
from teleservices.shared.privacy.breach import gather_breach
from teleservices.shared.privacy.retention import current_retention

ACCOUNTS = {"personne": {"nom": "Martin", "email_validated": True}, "comptes": [{"id": "a1"}],
            "campagnes": [{"campaign_id": "c1", "division": "3A"}, {"campaign_id": "c1", "division": "3A"}]}
NOTIFIER = {"envois": [{"notification_id": "n1"}],
            "courriers_pdf": [{"campaign_id": "c1", "division": "3A"}, {"campaign_id": "c1", "division": "3B"}]}


def services(answers: dict[str, tuple[int, Any]], asked: list[tuple[str, dict[str, Any]]]) -> Any:
    async def fetch(service: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        asked.append((service, params))
        if isinstance(answers[service], Exception):
            raise answers[service]
        return answers[service]
    return fetch


async def test_gather_asks_each_service_and_keeps_only_the_person_s_letters() -> None:
    asked: list[tuple[str, dict[str, Any]]] = []
    parts = await gather(services({"accounts": (200, ACCOUNTS), "sync": (404, {"detail": "Aucune donnée."}),
                                   "notifier": (200, NOTIFIER)}, asked), "0540001A", "5001")
    assert parts is not None and parts["imports_siecle"] is None
    assert parts["notifications"]["courriers_pdf"] == [{"campaign_id": "c1", "division": "3A"}]
    assert asked[-1] == ("notifier", {"compte": ["a1"], "campagne": ["c1"]})
    document = assemble("0540001A", "5001", parts, current_retention())
    assert "90 jours" in document["vos_droits"]["effacement"]
    assert access_pdf(document).startswith(b"%PDF")


async def test_nothing_anywhere_and_refusals() -> None:
    nothing = (404, {"detail": "Aucune donnée pour cette personne dans cet établissement."})
    assert await gather(services({"accounts": nothing, "sync": nothing}, []), "0540001A", "1") is None
    with pytest.raises(ServiceRefused) as refused:
        await gather(services({"accounts": (403, {"detail": {"field": "role"}}), "sync": nothing}, []), "U", "1")
    assert refused.value.service == "accounts" and refused.value.status == 403


async def test_a_breach_report_says_when_the_notifier_could_not_be_checked() -> None:
    report = {"enregistrements": {}, "etablissements": [], "personnes": []}
    asked: list[tuple[str, dict[str, Any]]] = []
    result = await gather_breach(services({"notifier": ConnectionError("notifier"), "accounts": (200, report)},
                                          asked), {"acteur": "chef-1"})
    assert result["avertissements"] and result["telechargements"] == []
    assert asked[-1] == ("accounts", {"acteur": "chef-1", "courrier": []})
