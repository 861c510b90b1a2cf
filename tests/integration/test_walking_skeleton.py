"""An account crosses the platform: accounts → Kafka → notifier → SMTP → Kafka → accounts (Notifié)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from typing import Any

import pytest

from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.shared.security.passwords import TEMPORARY_PASSWORD_ALPHABET
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import family
from tests.support.waiting import eventually

UAI = "0540001A"


async def _new_account(platform: PlatformUnderTest, email: str) -> str:
    async with platform.client("accounts") as api:
        created = await api.post("/api/v1/establishments", json={
            "uai": UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ"})
        assert created.status_code == 201, created.text
        assert (await api.post(f"/api/v1/establishments/{UAI}/activation")).status_code == 204
        await platform.enrol(UAI, [family(parents=(("Philippe", email),))])

        async def representative_account() -> list[dict[str, Any]]:
            listed = await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": "responsable"})
            return list(listed.json()["accounts"])

        [account] = await eventually(representative_account)
        assert account["identifiant"] == "philippe.dupont1"
        assert account["state"] == "Non notifié"
        return str(account["id"])


async def _notify(platform: PlatformUnderTest, account_id: str) -> str:
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/accounts/{account_id}/notifications", json={"channel": "email"})
        assert launched.status_code == 202, launched.text
        return str(launched.json()["notification_id"])


async def _account(platform: PlatformUnderTest, account_id: str) -> dict[str, Any]:
    async with platform.client("accounts") as api:
        response = await api.get(f"/api/v1/accounts/{account_id}")
        assert response.status_code == 200
        return dict(response.json())


async def _notified(platform: PlatformUnderTest, account_id: str) -> dict[str, Any] | None:
    account = await _account(platform, account_id)
    return account if account["state"] == "Notifié" else None


def _assert_one_letter(sink: SmtpSink, email: str, notification_id: str) -> None:
    letters = sink.store.list(to=email)
    assert len(letters) == 1, [m.subject for m in letters]
    letter = sink.store.get(letters[0].id)
    assert letter.header("Message-ID") == f"<notification.{notification_id}@teleservices.example>"
    text = letter.text or ""
    assert "Identifiant : philippe.dupont1" in text
    password = re.search(r"Mot de passe : (\S+)", text)
    assert password and len(password.group(1)) == 8
    assert set(password.group(1)) <= set(TEMPORARY_PASSWORD_ALPHABET)


async def test_an_account_notified_by_email_becomes_notifie(platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    email = f"parent.{uuid.uuid4().hex[:8]}@exemple.fr"
    account_id = await _new_account(platform, email)

    notification_id = await _notify(platform, account_id)
    account = await eventually(lambda: _notified(platform, account_id))

    assert account["notification_channel"] == "email"
    assert account["notified_at"] is not None
    assert [(h["previous_state"], h["state"]) for h in account["history"]] == [("Non notifié", "Notifié")]
    assert [a["action"] for a in account["audit"]] == ["notifier"]
    _assert_one_letter(smtp_sink, email, notification_id)


async def test_a_notifier_killed_before_the_send_loses_nothing(platform: PlatformUnderTest,
                                                              smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    email = f"parent.{uuid.uuid4().hex[:8]}@exemple.fr"
    account_id = await _new_account(platform, email)
    platform.kill("notifier")

    notification_id = await _notify(platform, account_id)

    async def command_on_the_broker() -> bool:
        async with platform.database("accounts") as db:
            return bool(await db.fetchval(
                "SELECT published_at IS NOT NULL FROM outbox WHERE envelope::jsonb->'payload'->>'notification_id' = $1",
                notification_id))

    await eventually(command_on_the_broker)
    await asyncio.sleep(1.0)
    assert (await _account(platform, account_id))["state"] == "Non notifié"
    assert smtp_sink.store.count() == 0

    platform.start("notifier")
    await eventually(lambda: _notified(platform, account_id))
    _assert_one_letter(smtp_sink, email, notification_id)


@pytest.fixture(autouse=True)
def _show_logs_on_failure(request: pytest.FixtureRequest, platform: PlatformUnderTest) -> Any:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for name, process in platform.processes.items():
            print(f"--- {name} ---\n{process.log_tail()}")


async def _duplicates_seen(platform: PlatformUnderTest, service: str) -> float:
    async with platform.client(service) as api:
        metrics = (await api.get("/metrics")).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("messages_consumed_total{") and 'outcome="duplicate"' in line)


async def test_a_replay_of_every_message_changes_nothing(platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    email = f"parent.{uuid.uuid4().hex[:8]}@exemple.fr"
    account_id = await _new_account(platform, email)
    notification_id = await _notify(platform, account_id)
    await eventually(lambda: _notified(platform, account_id))

    env = {**os.environ, **platform.env, "TELESERVICES_ACCOUNTS_URL": platform.processes["accounts"].url,
           "TELESERVICES_NOTIFIER_URL": platform.processes["notifier"].url}
    for service in ("accounts", "notifier"):
        replay = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "teleservices.shared.cli", "replay", service, "--since", "2020-01-01T00:00:00Z",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(replay.communicate(), 60)
        assert replay.returncode == 0, err.decode()
        assert "messages remis en publication" in out.decode()

    await eventually(lambda: _duplicates_seen(platform, "notifier"))
    await eventually(lambda: _duplicates_seen(platform, "accounts"))
    account = await _account(platform, account_id)
    assert [(h["previous_state"], h["state"]) for h in account["history"]] == [("Non notifié", "Notifié")]
    _assert_one_letter(smtp_sink, email, notification_id)
