"""Class lists (guide §4.3): identifier and temporary password per pupil, « Compte à notifier », ***** when used."""

from __future__ import annotations

import io
import uuid

from pypdf import PdfReader

from teleservices.shared.security.sealing import seal
from teleservices.shared.security.staff import Menu
from tests.support.accounts import AccountsUnderTest, chef, delegue
from tests.support.siecle import family

UAI, OTHER = "0540001A", "0540002B"


async def test_a_class_list_shows_what_each_pupil_needs(accounts: AccountsUnderTest) -> None:
    await accounts.establishment(UAI)
    await accounts.enrol(UAI, [family(nom="Caron", prenom="Zoé", division="3A"),
                               family(nom="Arnaud", prenom="Hugo", division="3A"),
                               family(nom="Blanc", prenom="Inès", division="3A"),
                               family(nom="Durand", prenom="Léo", division="3B")])
    pupils = {p["eleve"]["nom"]: p["id"] for p in await accounts.accounts(UAI, "eleve")}
    key = accounts.settings.secrets.at_rest_key.get_secret_value()
    async with accounts.app.state.runtime.db.transaction() as conn:
        await conn.execute("UPDATE accounts SET state = 'Notifié', notified_at = now(), sealed_temp_password = $2"
                           " WHERE id = $1", uuid.UUID(pupils["Arnaud"]),
                           seal(key, "k7m2p9x4", pupils["Arnaud"]))
        await conn.execute("UPDATE accounts SET state = 'Utilisé', notified_at = now(), sealed_temp_password = NULL"
                           " WHERE id = $1", uuid.UUID(pupils["Blanc"]))

    async with accounts.client(chef(UAI)) as api:
        listed = (await api.get(f"/api/v1/establishments/{UAI}/class-lists", params={"division": "3A"})).json()
        as_csv = await api.get(f"/api/v1/establishments/{UAI}/class-lists",
                               params={"division": "3A", "format": "csv"})
        trail = (await api.get(f"/api/v1/establishments/{UAI}/audit")).json()
    assert listed["summary"] == "3 élève(s) sélectionné(s)"
    assert [(line["Élève"], line["Identifiant du compte"], line["Mot de passe provisoire"]) for line in
            listed["lines"]] == [("Arnaud Hugo", "hugo.arnaud1", "k7m2p9x4"), ("Blanc Inès", "ines.blanc1", "*****"),
                                 ("Caron Zoé", "Compte à notifier", "")]
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = as_csv.text.lstrip("\ufeff").splitlines()
    assert rows[0].startswith("Élève;Division") and len(rows) == 4
    assert any(entry["action"] == "editer_liste_eleves" for entry in trail)
    async with accounts.client(chef(UAI)) as api:
        pdf = await api.get(f"/api/v1/establishments/{UAI}/class-lists", params={"division": "3A", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "hugo.arnaud1" in text and "k7m2p9x4" in text and "Compte à notifier" in text
    assert "3 élève(s) sélectionné(s)" in text

    await accounts.establishment(OTHER)
    async with accounts.client(chef(OTHER)) as intruder:
        refused = await intruder.get(f"/api/v1/establishments/{UAI}/class-lists", params={"division": "3A"})
        assert refused.status_code == 404
    async with accounts.client(delegue(UAI, Menu.acces_responsables)) as delegate:
        refused = await delegate.get(f"/api/v1/establishments/{UAI}/class-lists", params={"division": "3A"})
        assert refused.status_code == 403
