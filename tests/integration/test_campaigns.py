"""Mass notification over the real servers: a campaign over 3 divisions with mixed modes, its recap and relaunch."""

from __future__ import annotations

import asyncio
import io
import re

from pypdf import PdfReader

from teleservices.shared.embedded.mailbox import SmtpSink
from tests.support.campaigns import UAI, all_notified_once, finished, many_families, one_password_each
from tests.support.campaigns import establishment_with_five_families as _establishment
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually


async def test_a_campaign_notifies_every_division_by_email_and_paper(platform: PlatformUnderTest,
                                                                     smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    await _establishment(platform)
    selection = {"population": "responsable", "mode": "Courrier électronique et courrier papier"}
    async with platform.client("accounts") as api:
        preview = (await api.post(f"/api/v1/establishments/{UAI}/campaigns/preview", json=selection)).json()
        assert preview == {"selected": 5, "total": 5, "summary": "5 compte(s) sélectionné(s) sur 5",
                           "par_courriel": 3, "par_courrier": 2, "sans_moyen": 0}
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json=selection)
        assert launched.status_code == 202, launched.text

    progress = await eventually(lambda: finished(platform, launched.json()["id"]), within_s=90)
    assert progress["percent"] == 100 and progress["failures"] == []
    assert {d["division"]: (d["email"], d["paper"]) for d in progress["divisions"]} == {
        "3A": (2, 0), "3B": (1, 1), "3C": (0, 1)}
    assert sorted(m.recipients[0] for m in smtp_sink.store.list()) == [
        "ines.caron@exemple.fr", "luc.blanc@exemple.fr", "sophie.arnaud@exemple.fr"]

    campaign = launched.json()["id"]
    async with platform.client("notifier") as notifier:
        listed = (await notifier.get(f"/api/v1/campaigns/{campaign}/documents")).json()
        assert sorted(d["division"] for d in listed) == ["3B", "3C"]
        pdf = await notifier.get(f"/api/v1/campaigns/{campaign}/documents/3C.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    [page] = PdfReader(io.BytesIO(pdf.content)).pages
    text = page.extract_text()
    assert "EVRARD" in text.upper() and "lea.evrard1" in text
    assert re.search(r"Mot de passe\s*:\s*[2-9a-z]{8}", text), text
    async with platform.database("notifier") as db:
        assert await db.fetchval("SELECT count(*) FROM document_downloads") == 1

    async def all_notifie() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{UAI}/accounts",
                                   params={"population": "responsable", "etat": "Notifié"})
            return bool(listed.json()["selected"] == 5)

    await eventually(all_notifie)
    await _each_email_carries_the_password_in_force(platform, smtp_sink)
    async with platform.client("notifier") as notifier, platform.client("accounts") as api:
        worker = (await notifier.get("/metrics")).text
        accounts = (await api.get("/metrics")).text
    assert 'notifier_emails_total{outcome="sent"} 3.0' in worker and "notifier_pdf_letters_total 2.0" in worker
    assert 'notifier_jobs_in_flight{consumer="jobs"} 0.0' in worker
    assert 'campaign_letters_total{stage="selected"} 5.0' in accounts
    assert 'campaign_letters_total{stage="delivered"} 5.0' in accounts


async def _each_email_carries_the_password_in_force(platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    """Each email names the pupil and the account, and its password is the one the account now holds."""
    async with platform.client("accounts") as api:
        listed = (await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": "responsable"})).json()
        by_identifier = {a["identifiant"]: a for a in listed["accounts"]}
        for summary in smtp_sink.store.list():
            text = smtp_sink.store.get(summary.id).text or ""
            identifier = re.search(r"Identifiant : (\S+)", text)
            password = re.search(r"Mot de passe : (\S+)", text)
            assert identifier and password, text
            account = by_identifier[identifier.group(1)]
            assert f"de {account['eleve']['prenom']} {account['eleve']['nom']}, élève de" in text
            in_force = (await api.get(f"/api/v1/accounts/{account['id']}/temporary-password")).json()
            assert in_force == {"temporary_password": password.group(1)}


async def test_email_only_reports_who_has_no_address_and_relaunches_them(platform: PlatformUnderTest,
                                                                        smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    await _establishment(platform)
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique seul", "divisions": ["3B", "3C"]})
    progress = await eventually(lambda: finished(platform, launched.json()["id"]), within_s=90)
    assert sorted(f["division"] for f in progress["failures"]) == ["3B", "3C"]
    assert all("aucune adresse" in f["reason"] for f in progress["failures"])
    assert len(smtp_sink.store.list()) == 1
    async with platform.client("accounts") as api:
        again = await api.post(f"/api/v1/campaigns/{launched.json()['id']}/relaunch")
        assert again.status_code == 202
    relaunched = await eventually(lambda: finished(platform, again.json()["id"]), within_s=90)
    assert relaunched["total"] == 2


async def _email_campaign_under_way(platform: PlatformUnderTest, smtp_sink: SmtpSink, count: int,
                                    sent: int) -> str:
    """An email-only campaign to `count` families, sent at 15 a second, once `sent` emails are in the sink; its id."""
    platform.env["TELESERVICES_NOTIFIER_SMTP_RATE_PER_S"] = "15"
    platform.start("accounts", "notifier")
    await many_families(platform, count)
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique seul"})

    async def some_sent() -> bool:
        return smtp_sink.store.count() >= sent

    await eventually(some_sent)
    return str(launched.json()["id"])


async def test_a_notifier_killed_mid_campaign_loses_nothing(platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    count = 45
    campaign = await _email_campaign_under_way(platform, smtp_sink, count, sent=5)
    platform.kill("notifier")
    assert smtp_sink.store.count() < count
    platform.start("notifier")
    progress = await eventually(lambda: finished(platform, campaign), within_s=180)
    assert progress["failures"] == [] and progress["done"] == count
    passwords = one_password_each(smtp_sink)
    assert len(passwords) == count and all(len(p) == 1 for p in passwords.values())
    await all_notified_once(platform, count)


async def test_a_job_interrupted_by_a_refusing_server_sends_again_only_what_was_not_accepted(
        platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    """Results are recorded in groups; those of the emails accepted before the job failed are recorded all the same."""
    count = 45
    platform.env["TELESERVICES_NOTIFIER_SMTP_MAX_ATTEMPTS"] = "1"  # the first refusal fails the job
    campaign = await _email_campaign_under_way(platform, smtp_sink, count, sent=10)
    smtp_sink.refuse(451, "4.3.0 Service temporairement indisponible")
    await asyncio.sleep(2)
    accepted_before = smtp_sink.store.count()
    assert accepted_before < count
    smtp_sink.accept()
    progress = await eventually(lambda: finished(platform, campaign), within_s=120)
    assert progress["failures"] == [] and progress["done"] == count
    message_ids = [m.message_id for m in smtp_sink.store.list()]
    assert len(message_ids) == len(set(message_ids)) == count
    await all_notified_once(platform, count)


async def test_an_smtp_outage_delays_the_campaign_and_loses_nothing(platform: PlatformUnderTest,
                                                                    smtp_sink: SmtpSink) -> None:
    count = 12
    platform.env["TELESERVICES_NOTIFIER_SMTP_BASE_DELAY_S"] = "0.05"
    platform.start("accounts", "notifier")
    await many_families(platform, count)
    smtp_sink.refuse(451, "4.3.0 Service temporairement indisponible")
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json={
            "population": "responsable", "mode": "Courrier électronique et courrier papier"})
    await asyncio.sleep(3)
    assert await finished(platform, launched.json()["id"]) is None
    assert smtp_sink.store.count() == 0
    smtp_sink.accept()
    progress = await eventually(lambda: finished(platform, launched.json()["id"]), within_s=120)
    assert progress["failures"] == [] and progress["done"] == count
    assert len(one_password_each(smtp_sink)) == count
    await all_notified_once(platform, count)


async def test_one_pupil_notified_on_paper_gets_a_printed_letter(platform: PlatformUnderTest) -> None:
    platform.start("accounts", "notifier")
    await _establishment(platform)
    async with platform.client("accounts") as api:
        pupils = (await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": "eleve",
                                                                             "division": "3C"})).json()["accounts"]
        launched = await api.post(f"/api/v1/accounts/{pupils[0]['id']}/notifications", json={"channel": "paper"})
        assert launched.status_code == 202, launched.text

    async def notifie() -> bool:
        async with platform.client("accounts") as api:
            return bool((await api.get(f"/api/v1/accounts/{pupils[0]['id']}")).json()["state"] == "Notifié")

    await eventually(notifie, within_s=90)
    async with platform.client("notifier") as notifier:
        letter = await notifier.get(f"/api/v1/campaigns/{launched.json()['notification_id']}/documents/3C.pdf")
    text = PdfReader(io.BytesIO(letter.content)).pages[0].extract_text()
    assert pupils[0]["identifiant"] in text and "Mot de passe (provisoire)" in text
