"""The guide's statistics (§5) from events published as the other services would, as JSON, .xlsx and CSV."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from teleservices.shared.messages import catalog, portal, siecle
from teleservices.shared.messages.envelope import Message
from teleservices.shared.security.staff import Menu, Role, StaffPrincipal
from tests.support.infrastructure import BrokerServer, session_timeout_ms
from tests.support.stats import StatsUnderTest, account, moved, pupil, running_stats, stats_settings

UAI, OTHER_UAI = "0540010K", "0540011L"
SIXIEME, CINQUIEME = ("10110001110", "6EME"), ("10210001110", "5EME")
T0 = datetime(2026, 10, 1, 8, tzinfo=UTC)
NN, NOTIFIE, EN_COURS, UTILISE = "Non notifié", "Notifié", "En cours d'activation", "Utilisé"


@pytest.fixture
async def stats(database_url: str, broker: BrokerServer, topic_prefix: str) -> AsyncIterator[StatsUnderTest]:
    settings = stats_settings(database_url, broker.bootstrap_servers, topic_prefix, broker.name == "kafka",
                              session_timeout_ms())
    async with running_stats(settings) as service:
        yield service


def chef(uai: str) -> StaffPrincipal:
    return StaffPrincipal(user_id=f"chef-{uai}", display_name="Chef", role=Role.chef, uais=(uai,))


def college() -> tuple[list[Message], dict[str, uuid.UUID]]:
    """A small collège: two MEF, 6B holding pupils of both, a grouped representative, a departure."""
    events: list[Message] = [
        catalog.EstablishmentCreated(uai=UAI, name="Collège Jules Ferry", academy="NANCY-METZ"),
        siecle.ImportApplied(uai=UAI, run_id=uuid.uuid4(), annee_scolaire=2026, changes={}),
    ]
    placement = {"p1": ("6A", SIXIEME), "p2": ("6A", SIXIEME), "p3": ("6A", SIXIEME), "p4": ("6B", SIXIEME),
                 "p5": ("6B", SIXIEME), "p6": ("5A", CINQUIEME), "p7": ("5A", CINQUIEME), "p8": ("6B", CINQUIEME),
                 "p9": ("6A", SIXIEME)}
    ids: dict[str, uuid.UUID] = {}
    for eleve_id, (division, (code, libelle)) in placement.items():
        events.append(pupil(UAI, eleve_id, division, code, libelle))
        ids[eleve_id], created = account(UAI, eleve_id, "eleve", T0)
        events += created

    def state(name: str, population: str, *steps: tuple[str, str, datetime]) -> None:
        for previous, new, at in steps:
            events.append(moved(ids[name], UAI, population, previous, new, at))

    later = T0 + timedelta(days=1)
    state("p1", "eleve", (NN, NOTIFIE, T0), (NOTIFIE, UTILISE, later))
    state("p2", "eleve", (NN, NOTIFIE, T0))
    state("p4", "eleve", (NN, NOTIFIE, T0))
    state("p5", "eleve", (NN, NOTIFIE, T0), (NOTIFIE, UTILISE, later))
    state("p8", "eleve", (NN, NOTIFIE, T0), (NOTIFIE, UTILISE, later))
    for name, eleve_id in [("R1", "p1"), ("R2", "p1"), ("R3", "p2"), ("R4", "p6"), ("R5", "p8"), ("R6", "p9"),
                           ("R7", "p3")]:
        ids[name], created = account(UAI, eleve_id, "responsable", T0, personne_id=f"pers-{name}")
        events += created
    events += [  # grouping: R1 also gives access to p4, R5 to p7
        catalog.AccountAttached(account_id=ids["R1"], uai=UAI, eleve_id="p4", personne_id="pers-R1",
                                population=catalog.Population.responsable, at=later),
        catalog.AccountAttached(account_id=ids["R5"], uai=UAI, eleve_id="p7", personne_id="pers-R5",
                                population=catalog.Population.responsable, at=later),
    ]
    last_year = datetime(2026, 6, 1, tzinfo=UTC)
    state("R1", "responsable", (NN, NOTIFIE, T0), (NOTIFIE, EN_COURS, later), (EN_COURS, UTILISE, later))
    state("R2", "responsable", (NN, NOTIFIE, T0))
    state("R3", "responsable", (NN, NOTIFIE, last_year), (NOTIFIE, EN_COURS, last_year + timedelta(days=1)))
    state("R5", "responsable", (NN, NOTIFIE, T0), (NOTIFIE, EN_COURS, later), (EN_COURS, UTILISE, later))
    events += [  # p9 leaves (his accounts are detached); R7 is closed
        siecle.EleveLeft(uai=UAI, eleve_id="p9"),
        catalog.AccountDetached(account_id=ids["p9"], uai=UAI, eleve_id="p9",
                                population=catalog.Population.eleve, at=later),
        catalog.AccountDetached(account_id=ids["R6"], uai=UAI, eleve_id="p9",
                                population=catalog.Population.responsable, at=later),
        catalog.AccountDetached(account_id=ids["R7"], uai=UAI, eleve_id="p3",
                                population=catalog.Population.responsable, at=later),
    ]
    return events, ids


def figures(table: dict[str, Any]) -> list[list[Any]]:
    """A table's rows (then its total) as lists of cells in column order."""
    keys = [c["key"] for c in table["columns"]]
    return [[row[k] for k in keys] for row in [*table["rows"], *([table["total"]] if table["total"] else [])]]


async def test_pupils_synthesis_per_establishment_mef_and_division(stats: StatsUnderTest) -> None:
    events, _ = college()
    await stats.publish(events)

    synthesis = await stats.synthesis(UAI, "eleves")

    establishment, sixieme, cinquieme = synthesis["tables"]
    assert [c["label"] for c in establishment["columns"]] == [
        "Nombre d'élèves", "Nombre de comptes non notifiés", "Nombre de comptes notifiés",
        "Nombre de comptes utilisés", "% d'élèves avec comptes utilisés"]
    assert figures(establishment) == [[8, 3, 2, 3, 37.5]]
    assert (sixieme["title"], sixieme["mef"]) == ("6EME", "10110001110")
    assert figures(sixieme) == [["6A", 3, 1, 1, 1, 33.33], ["6B", 2, 0, 1, 1, 50.0], ["Somme :", 5, 1, 2, 2, 40.0]]
    assert figures(cinquieme) == [["5A", 2, 2, 0, 0, 0.0], ["6B", 1, 0, 0, 1, 100.0],
                                  ["Somme :", 3, 2, 0, 1, 33.33]]


async def test_representatives_synthesis_counts_a_grouped_account_once(stats: StatsUnderTest) -> None:
    events, _ = college()
    await stats.publish(events)

    synthesis = await stats.synthesis(UAI, "responsables")

    establishment, sixieme, cinquieme = synthesis["tables"]
    assert [c["label"] for c in sixieme["columns"]] == [
        "Division", "Nombre de comptes responsables", "Nombre de comptes non notifiés",
        "Nombre de comptes notifiés ou en cours d'activation",
        "Nombre de comptes notifiés ou en cours d'activation année courante", "Nombre de comptes utilisés",
        "% de comptes resp. avec un compte utilisé", "% élèves ayant au moins un resp. avec un compte utilisé"]
    assert figures(establishment) == [[5, 1, 2, 1, 2, 40.0, 50.0]]
    assert figures(sixieme) == [["6A", 3, 0, 2, 1, 1, 33.33, 33.33], ["6B", 1, 0, 0, 0, 1, 100.0, 50.0],
                                ["Somme :", 3, 0, 2, 1, 1, 33.33, 40.0]]
    assert figures(cinquieme) == [["5A", 2, 1, 0, 0, 1, 50.0, 50.0], ["6B", 1, 0, 0, 0, 1, 100.0, 100.0],
                                  ["Somme :", 2, 1, 0, 0, 1, 50.0, 66.67]]


async def test_excel_export_holds_every_table_with_numbers_and_formatted_percentages(stats: StatsUnderTest) -> None:
    events, _ = college()
    await stats.publish(events)

    async with stats.client() as api:
        answer = await api.get(f"/api/v1/establishments/{UAI}/stats/eleves/xlsx")
        csv_answer = await api.get(f"/api/v1/establishments/{UAI}/stats/responsables/csv")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Établissement", "6EME", "5EME"]
    sheet = book["Établissement"]
    assert [c.value for c in sheet[1]] == ["Nombre d'élèves", "Nombre de comptes non notifiés",
                                           "Nombre de comptes notifiés", "Nombre de comptes utilisés",
                                           "% d'élèves avec comptes utilisés"]
    assert [c.value for c in sheet[2]] == [8, 3, 2, 3, 0.375]
    assert sheet["E2"].number_format == "0.00 %"
    assert sheet.freeze_panes == "A2"
    sixieme = book["6EME"]
    assert sixieme.freeze_panes == "A2"
    assert [[c.value for c in row] for row in sixieme.iter_rows(min_row=2)] == [
        ["6A", 3, 1, 1, 1, pytest.approx(0.3333)], ["6B", 2, 0, 1, 1, 0.5], ["Somme :", 5, 1, 2, 2, 0.4]]
    assert isinstance(sixieme["B2"].value, int)

    assert csv_answer.status_code == 200
    lines = csv_answer.text.splitlines()
    assert lines[0] == "Synthèse des comptes responsables de l'établissement"
    assert lines[2] == "5;1;2;1;2;40 %;50 %"
    assert "6A;3;0;2;1;1;33.33 %;33.33 %" in lines


async def test_school_staff_see_their_establishment_and_only_operators_the_academy(stats: StatsUnderTest) -> None:
    events, _ = college()
    await stats.publish(events)
    delegate = StaffPrincipal(user_id="d", display_name="Délégué", role=Role.delegue, uais=(UAI,))
    granted = delegate.model_copy(update={"menus": (Menu.statistiques.value,)})
    elsewhere = StaffPrincipal(user_id="o", display_name="Op", role=Role.operateur_academique, academy="LYON")

    async with stats.client(chef(OTHER_UAI)) as api:
        assert (await api.get(f"/api/v1/establishments/{UAI}/stats/eleves")).status_code == 404
        assert (await api.get(f"/api/v1/establishments/{UAI}/stats/eleves/xlsx")).status_code == 404
    async with stats.client(delegate) as api:
        assert (await api.get(f"/api/v1/establishments/{UAI}/stats/eleves")).status_code == 403
    async with stats.client(granted) as api:
        assert (await api.get(f"/api/v1/establishments/{UAI}/stats/eleves")).status_code == 200
    async with stats.client(chef(UAI)) as api:
        assert (await api.get(f"/api/v1/establishments/{UAI}/stats/inconnue")).status_code == 422
        assert (await api.get("/api/v1/academies/NANCY-METZ/stats")).status_code == 403
        assert (await api.get("/api/v1/academies/NANCY-METZ/stats/xlsx")).status_code == 403
    async with stats.client(elsewhere) as api:
        assert (await api.get("/api/v1/academies/NANCY-METZ/stats")).status_code == 403
    async with stats.client() as api:
        assert (await api.get(f"/api/v1/establishments/{UAI}/stats/eleves")).status_code == 200
        academy = (await api.get("/api/v1/academies/NANCY-METZ/stats", params={"sort": "eleves"})).json()
        workbook = await api.get("/api/v1/academies/NANCY-METZ/stats/xlsx")
        assert (await api.get("/api/v1/academies/NANCY-METZ/stats", params={"sort": "x"})).status_code == 422
    [table] = academy["tables"]
    [row] = table["rows"]
    assert row["uai"] == UAI and row["etablissement"] == "Collège Jules Ferry"
    assert (row["eleves"], row["utilises"], row["comptes"], row["r_utilises"]) == (8, 3, 5, 2)
    assert row["taux_activation"] == 38.46  # (3 + 2) utilisés of 8 + 5 accounts
    assert table["total"]["etablissement"] == "Académie" and table["total"]["eleves"] == 8
    assert load_workbook(io.BytesIO(workbook.content)).active["A2"].value == UAI


async def test_accesses_funnel_expiry_and_campaign_results(stats: StatsUnderTest) -> None:
    events, ids = college()
    now = datetime.now(UTC)
    campaign, letters = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    job = catalog.NotifyBatch(
        campaign_id=campaign, uai=UAI, division="6A", chunk=0,
        establishment=catalog.EstablishmentHeader(name="Collège", academy="NANCY-METZ"),
        letters=tuple(catalog.SendNotification(
            notification_id=n, account_id=ids[name], uai=UAI, population=catalog.Population.responsable,
            channel=catalog.Channel.email, variant=catalog.LetterVariant.nouveau_compte, identifiant="x",
            establishment_name="Collège", services_url="http://x", recipient=catalog.Recipient(nom="N", prenom="P"))
            for n, name in zip(letters, ["R1", "R2", "R3"], strict=True)))
    events += [
        portal.ServiceOpened(account_id=ids["R1"], uai=UAI, service="notes", at=datetime(2026, 10, 2, tzinfo=UTC)),
        portal.ServiceOpened(account_id=ids["R1"], uai=UAI, service="notes", at=datetime(2026, 10, 3, tzinfo=UTC)),
        portal.ServiceOpened(account_id=ids["p8"], uai=UAI, service="vie_scolaire",
                             at=datetime(2026, 11, 3, tzinfo=UTC)),
        job,
        catalog.NotificationDelivered(notification_id=letters[0], account_id=ids["R1"],
                                      channel=catalog.Channel.email, delivered_at=now),
        catalog.NotificationFailed(notification_id=letters[1], account_id=ids["R2"], channel=catalog.Channel.email,
                                   reason="boîte inexistante", permanent=True),
        # notified 85 and 80 days ago: they expire within 15 days (92 days after the notification)
        moved(ids["p6"], UAI, "eleve", NN, NOTIFIE, now - timedelta(days=85)),
        moved(ids["R4"], UAI, "responsable", NN, NOTIFIE, now - timedelta(days=90)),
        catalog.TemporaryCredentialIssued(account_id=ids["R4"], identifiant="x", password_hash="h",
                                          issued_at=now - timedelta(days=80)),
    ]
    await stats.publish(events, uai=UAI)

    months, categories, mefs = (await stats.synthesis(UAI, "acces"))["tables"]
    assert figures(months) == [["2026-10", 0, 2, 2], ["2026-11", 1, 0, 1], ["Somme :", 1, 2, 3]]
    assert figures(categories) == [["Notes", 0, 2, 2], ["Vie scolaire", 1, 0, 1], ["Somme :", 1, 2, 3]]
    assert figures(mefs) == [["10110001110", "6EME", 0, 2, 2], ["10210001110", "5EME", 1, 0, 1]]

    pupils, representatives = (await stats.synthesis(UAI, "activation"))["tables"]
    assert figures(representatives)[1] == ["6A", 3, 0, 1, 1, 1, 100.0, 66.67, 50.0, 33.33]
    assert figures(pupils)[-1][:6] == ["Somme :", 8, 2, 3, 0, 3]

    [expiring] = (await stats.synthesis(UAI, "expiration"))["tables"]
    assert figures(expiring) == [["5A", 1, 1, (now + timedelta(days=7)).date().isoformat()],
                                 ["6A", 0, 1, "2026-09-01"],  # overdue: the next nightly run deletes it
                                 ["Somme :", 1, 2, "2026-09-01"]]

    by_campaign, reasons = (await stats.synthesis(UAI, "campagnes"))["tables"]
    assert [row[2:] for row in figures(by_campaign)] == [[3, 1, 1, 1, 33.33]]
    assert figures(reasons) == [[str(campaign), "boîte inexistante", 1]]
