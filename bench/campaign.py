"""A whole establishment notified end to end on the embedded default, and what a second notifier worker brings.

- notifier.establishment_campaign_s: a 2,500-pupil establishment imported through sync, then both campaigns
  launched at once (pupils on paper, representatives by email where an address is known, paper otherwise) with
  2 notifier workers, from the first launch to the last account in state « Notifié ». Baseline: the bound from
  the two bare libraries measured in the same run for the same work spread over the 2 cores:
  emails ÷ bare aiosmtplib emails/s ÷ 2 + paper letters ÷ the letters/s of two bare WeasyPrint processes
  rendering at the same time (two at once render about 13 % slower each than one alone here: the bound is what
  the 2 cores deliver, not twice what one delivers alone). Goal: ratio ≤ 1.3.
- notifier.two_workers_speedup: the same campaign over a 600-pupil establishment (fresh database each time) with
  1 then 2 notifier workers; value = throughput with 2 ÷ with 1 (the ratio field repeats it). Goal ≥ 1.5.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.harness import Row, Servers, benchmark
from bench.notifier import bare_aiosmtplib_emails_per_s, bare_weasyprint_letters_per_s_together
from bench.services import service_env, smtp_sink, start_service
from bench.sync import _expected_accounts, _files, _token, _wait_accounts
from teleservices.shared.embedded.processes import ServiceProcess
from teleservices.sync.demo_export import write_demo_export

UAI = "0540001A"
CAMPAIGNS = ({"population": "eleve", "mode": "Courrier papier seul"},
             {"population": "responsable", "mode": "Courrier électronique et courrier papier"})


@dataclass(frozen=True)
class CampaignRun:
    """What one end-to-end run did and how long it took."""

    seconds: float
    emails: int
    paper: int

    @property
    def accounts(self) -> int:
        """Accounts notified."""
        return self.emails + self.paper


async def _run(servers: Servers, name: str, pupils: int, workers: int, smtp: int, tmp: Path) -> CampaignRun:
    """Import an establishment, launch both campaigns, wait for the last « Notifié »."""
    url = servers.postgres.create_database(f"bench_campaign_{name}")
    env = {**service_env(servers, url, f"bench{name}."), "TELESERVICES_NOTIFIER_SMTP_PORT": str(smtp),
           "TELESERVICES_DATA_DIR": str(tmp / name)}
    folder = tmp / name / "export"
    summary = write_demo_export(folder, uai=UAI, pupils=pupils, seed=7)
    expected = await _expected_accounts(folder, summary.date_export)
    processes: list[ServiceProcess] = []
    try:
        processes += [start_service("accounts", env, tmp / name), start_service("sync", env, tmp / name)]
        processes += [start_service("notifier", env, tmp / name, name=f"notifier-{n + 1}") for n in range(workers)]
        headers = {"authorization": f"Bearer {_token(env)}"}
        async with httpx.AsyncClient(base_url=processes[0].url, headers=headers, timeout=300) as accounts, \
                httpx.AsyncClient(base_url=processes[1].url, headers=headers, timeout=300) as sync:
            await accounts.post("/api/v1/establishments", json={"uai": UAI, "name": "Collège", "academy": "BENCH"})
            await accounts.post(f"/api/v1/establishments/{UAI}/activation")
            await asyncio.sleep(2)  # the sync service learns the establishment from the accounts events
            assert (await sync.post("/api/v1/imports", files=_files(folder))).json()["status"] == "appliqué"
            await _wait_accounts(url, UAI, expected)
            started = time.perf_counter()
            for selection in CAMPAIGNS:
                launched = await accounts.post(f"/api/v1/establishments/{UAI}/campaigns", json=selection)
                assert launched.status_code == 202, launched.text
            emails, paper, failed = await _wait_all_notified(url)
            seconds = time.perf_counter() - started
    finally:
        for process in reversed(processes):
            process.stop()
    print(f"  {name}: {emails + paper} accounts notified ({emails} emails, {paper} paper; {failed} failed: "
          f"invalid addresses) with {workers} worker(s) in {seconds:.1f} s", flush=True)
    return CampaignRun(seconds, emails, paper)


async def _wait_all_notified(url: str, within_s: float = 1800) -> tuple[int, int, int]:
    """Until every campaign letter has its result and every delivered one its « Notifié »; (emails, paper, failed).

    The demo's families include invalid email addresses on purpose: those letters fail, as they would for real."""
    conn = await asyncpg.connect(url, server_settings={"search_path": "accounts"})
    try:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE i.status = 'en_attente') AS pending,"
                " count(*) FILTER (WHERE i.status = 'echec') AS failed,"
                " count(*) FILTER (WHERE i.status = 'envoye') AS emails,"
                " count(*) FILTER (WHERE i.status = 'imprime') AS paper,"
                " count(*) FILTER (WHERE i.status IN ('envoye', 'imprime') AND a.state = 'Non notifié') AS waiting"
                " FROM campaign_items i JOIN accounts a ON a.id = i.account_id")
            if row["pending"] == 0 and row["waiting"] == 0:
                return int(row["emails"]), int(row["paper"]), int(row["failed"])
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise TimeoutError("the campaign did not finish")


@benchmark("notifier.establishment_campaign")
async def establishment_campaign(servers: Servers) -> list[Row]:
    """2,500 pupils with 2 workers, beside the bound from the bare libraries."""
    with tempfile.TemporaryDirectory() as tmp:
        async with smtp_sink(Path(tmp) / "mail") as smtp:
            run = await _run(servers, "establishment", 2_500, 2, smtp, Path(tmp))
            email_rate = await bare_aiosmtplib_emails_per_s(smtp)
        pdf_rate = await asyncio.to_thread(bare_weasyprint_letters_per_s_together, 2)
    bound = run.emails / email_rate / 2 + run.paper / pdf_rate
    print(f"  bound: {run.emails} emails at {email_rate:.0f}/s over 2 cores and {run.paper} letters at "
          f"{pdf_rate:.1f}/s (two bare WeasyPrint processes at once) = {bound:.1f} s", flush=True)
    return [Row("notifier.establishment_campaign_s", run.seconds, "s", bound,
                f"ratio ≤ 1.3 ({run.accounts} accounts, {100 * run.paper // run.accounts} % paper, 2 workers)")]


@benchmark("notifier.two_workers")
async def two_workers(servers: Servers) -> list[Row]:
    """The same 600-pupil campaign with 1 then 2 workers."""
    with tempfile.TemporaryDirectory() as tmp:
        async with smtp_sink(Path(tmp) / "mail") as smtp:
            one = await _run(servers, "one_worker", 600, 1, smtp, Path(tmp))
            two = await _run(servers, "two_workers", 600, 2, smtp, Path(tmp))
    speedup = (two.accounts / two.seconds) / (one.accounts / one.seconds)
    return [Row("notifier.two_workers_speedup", speedup, "×", 1.0,
                f"≥ 1.5 ({one.accounts} accounts: {one.seconds:.1f} s with 1 worker, {two.seconds:.1f} s with 2)")]
