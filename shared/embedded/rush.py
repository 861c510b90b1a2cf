"""`teleservices simulate-rush`: the back-to-school rush on this machine, and proof that nothing was lost.

A fresh embedded platform (own data folder, free ports) imports generated SIECLE exports for N establishments,
launches every establishment's two campaigns at once (pupils on paper; representatives by email where an address
is known, paper otherwise), lets synthetic families log in on the portal while the notifiers work, then checks:
every selected account notified exactly once in state, as many emails in the SMTP sink as letters sent by email,
no family holding two different passwords.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import ssl
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from teleservices.shared.embedded.brokers import free_port
from teleservices.shared.embedded.mailbox_store import MailStore, MessageSummary
from teleservices.shared.embedded.platform import EmbeddedPlatform
from teleservices.shared.messages.topics import NOTIFIER_JOBS

CAMPAIGNS = ({"population": "eleve", "mode": "Courrier papier seul"},
             {"population": "responsable", "mode": "Courrier électronique et courrier papier"})
JOBS_GROUP = "notifier.jobs"
"""The notifiers' consumer of campaign jobs, as their metrics name it."""
READING_TIME = timedelta(seconds=5)
"""How long after its arrival a family reads its email (the portal learns the password within seconds)."""
EXPORT_DATE = date(2026, 10, 1)
"""The generated exports' date (1 October of the 2026 school year)."""
_PORT_SETTINGS = ("TELESERVICES_GATEWAY_HTTP_PORT", "TELESERVICES_PORTAL_AUTH_HTTP_PORT",
                  "TELESERVICES_ACCOUNTS_HTTP_PORT", "TELESERVICES_SYNC_HTTP_PORT", "TELESERVICES_STATS_HTTP_PORT",
                  "TELESERVICES_MAILBOX_SMTP_PORT", "TELESERVICES_MAILBOX_HTTP_PORT", "TELESERVICES_BROKER_PORT")


@dataclass
class RushReport:
    """What the simulation did, how fast, and whether anything was lost or doubled."""

    establishments: int
    pupils_per_establishment: int
    notifiers: int
    broker: str
    families: bool = True
    """Whether synthetic families log in on the portal while the notifiers work."""
    accounts_selected: int = 0
    accounts_notified: int = 0
    letters_failed: dict[str, int] = field(default_factory=dict)
    notified_more_than_once: list[str] = field(default_factory=list)
    lost: int = 0
    emails_expected: int = 0
    emails_in_sink: int = 0
    duplicate_emails: list[str] = field(default_factory=list)
    families_with_two_passwords: list[str] = field(default_factory=list)
    import_s: float = 0.0
    notify_s: float = 0.0
    accounts_per_s: float = 0.0
    campaign_p50_s: float = 0.0
    campaign_p99_s: float = 0.0
    first_connections: int = 0
    activations: int = 0
    portal_requests: int = 0
    portal_p50_ms: float = 0.0
    portal_p99_ms: float = 0.0

    @property
    def nothing_lost(self) -> bool:
        """Every selected account has its one result, and nobody got two passwords."""
        return not (self.lost or self.notified_more_than_once or self.families_with_two_passwords
                    or self.emails_in_sink < self.emails_expected)

    def as_json(self) -> dict[str, Any]:
        """The report for scripts (`--json`)."""
        return {**asdict(self), "nothing_lost": self.nothing_lost}

    def text(self) -> str:
        """The report for people, in French."""
        failed = ", ".join(f"{n} {reason}" for reason, n in self.letters_failed.items()) or "aucun"
        return "\n".join([
            f"Rentrée simulée : {self.establishments} établissement(s) × {self.pupils_per_establishment} élèves, "
            f"{self.notifiers} notifier(s), broker {self.broker}",
            f"  Import : {self.import_s:.1f} s",
            f"  Comptes sélectionnés : {self.accounts_selected} ; notifiés : {self.accounts_notified} "
            f"en {self.notify_s:.1f} s ({self.accounts_per_s:.1f} comptes/s)",
            f"  Fin des campagnes après le lancement : p50 {self.campaign_p50_s:.1f} s, "
            f"p99 {self.campaign_p99_s:.1f} s",
            f"  Portail pendant la notification : {self.portal_requests} requêtes, "
            f"p50 {self.portal_p50_ms:.0f} ms, p99 {self.portal_p99_ms:.0f} ms ; premières connexions : "
            f"{self.first_connections}, comptes activés : {self.activations}" if self.families else
            "  Portail : aucune famille simulée (--no-families)",
            f"  Échecs (adresses invalides…) : {failed}",
            f"  Courriels : {self.emails_in_sink} dans la boîte pour {self.emails_expected} envois attendus ; "
            f"doublons : {len(self.duplicate_emails)}",
            f"  Notifiés plus d'une fois : {len(self.notified_more_than_once)} ; perdus : {self.lost} ; "
            f"familles avec deux mots de passe : {len(self.families_with_two_passwords)}",
            "  Rien de perdu, rien de doublé." if self.nothing_lost else "  ÉCHEC : voir le détail ci-dessus.",
        ])


def simulate_rush(data_dir: Path, establishments: int, pupils: int, notifiers: int, broker: str,
                  seed: int = 2026, activate_every: int = 5, within_s: float = 3600, families: bool = True
                  ) -> RushReport:
    """Start a platform in `data_dir`, run the rush, stop everything; return the report. Without `families`, no
    synthetic family uses the portal: the notifiers' throughput alone (the benchmark's measure)."""
    for setting in _PORT_SETTINGS:  # never the ports of a `make up` running beside it
        os.environ[setting] = str(free_port())
    platform = EmbeddedPlatform(data_dir, notifiers=notifiers, broker=broker, demo=False)
    previous = signal.signal(signal.SIGTERM, platform.on_signal)  # as Ctrl-C: the platform stops with the rush
    try:
        platform.start()
        rush = _Rush(platform, RushReport(establishments, pupils, notifiers, broker, families), seed, activate_every)
        return asyncio.run(rush.run(within_s))
    finally:
        platform.stop()
        signal.signal(signal.SIGTERM, previous)


class _Rush:
    def __init__(self, platform: EmbeddedPlatform, report: RushReport, seed: int, activate_every: int):
        self.platform = platform
        self.report = report
        self.seed = seed
        self.activate_every = activate_every
        self.latencies: list[float] = []
        self.awaiting_activation: set[str] = set()
        self.families_done = asyncio.Event()
        self.database_url = platform.postgres.url("teleservices")
        self.mailbox = MailStore(platform.data_dir / "mailbox")
        self._tls = ssl.create_default_context()

    def _family_browser(self) -> httpx.AsyncClient:
        """A family's own client (its own cookies) on the portal; the TLS context is built once for them all —
        building one per client loaded the CA bundle each time, half of what the simulation cost the machine."""
        return httpx.AsyncClient(base_url=self.url("portal-auth"), timeout=30, verify=self._tls)

    def url(self, name: str) -> str:
        return next(p.url for p in self.platform.processes if p.name == name)

    async def run(self, within_s: float) -> RushReport:
        from teleservices.shared.cli.client import operator_token
        from teleservices.sync.demo_export import academy_uais, write_academy_exports

        headers = {"authorization": f"Bearer {operator_token(self.platform.data_dir)}"}
        uais = academy_uais(self.report.establishments)
        folders = await asyncio.to_thread(write_academy_exports, self.platform.data_dir / "exports",
                                          self.report.establishments, self.report.pupils_per_establishment,
                                          self.seed)
        async with httpx.AsyncClient(base_url=self.url("accounts"), headers=headers, timeout=300) as accounts, \
                httpx.AsyncClient(base_url=self.url("sync"), headers=headers, timeout=600) as sync:
            started = time.perf_counter()
            for uai in uais:
                (await accounts.post("/api/v1/establishments", json={
                    "uai": uai, "name": f"Collège {uai}", "academy": "SIMULATION"})).raise_for_status()
                (await accounts.post(f"/api/v1/establishments/{uai}/activation")).raise_for_status()
            for folder in folders:
                await _import(sync, folder)
            await self._until_accounts_exist(sum([await asyncio.to_thread(expected_accounts, f) for f in folders]))
            self.report.import_s = time.perf_counter() - started
            await self._until_notifiers_share_the_jobs()
            launched_at = time.perf_counter()
            for uai in uais:
                for selection in CAMPAIGNS:
                    answer = await accounts.post(f"/api/v1/establishments/{uai}/campaigns", json=selection)
                    answer.raise_for_status()
        if not self.report.families:
            await self._until_settled(within_s)
            self.report.notify_s = time.perf_counter() - launched_at
            await self._check()
            return self.report
        portal = asyncio.create_task(self._families_on_the_portal())
        try:
            await self._until_settled(within_s)
            self.report.notify_s = time.perf_counter() - launched_at
            await asyncio.sleep(READING_TIME.total_seconds() + 1)  # the last letters are read too
        finally:
            self.families_done.set()
            try:
                await asyncio.wait_for(portal, 120)
            except TimeoutError:
                portal.cancel()
        await self._activations(within_s=120)
        if self.latencies:
            self.report.portal_requests = len(self.latencies)
            self.report.portal_p50_ms = statistics.median(self.latencies)
            self.report.portal_p99_ms = _percentile(self.latencies, 99)
        await self._check()
        return self.report

    async def _until_accounts_exist(self, expected: int, within_s: float = 1800) -> None:
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": "accounts"})
        try:
            deadline = time.monotonic() + within_s
            while time.monotonic() < deadline:
                if await conn.fetchval("SELECT count(*) FROM rattachements WHERE detached_at IS NULL") >= expected:
                    return
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        raise TimeoutError(f"les {expected} comptes attendus n'ont pas tous été créés")

    async def _until_notifiers_share_the_jobs(self, within_s: float = 120) -> None:
        """A running platform's notifiers hold the job partitions between them before the rush: wait until every
        worker has its share (workers started a moment ago are still joining their group, and a rebalance in the
        middle of the campaigns would stop them all for seconds)."""
        partitions = NOTIFIER_JOBS.partitions
        workers = [p.url for p in self.platform.processes if p.service == "notifier"]
        deadline, stable = time.monotonic() + within_s, 0
        async with httpx.AsyncClient(timeout=10) as client:
            while stable < 3:  # the same full assignment seen three times in a row
                held = [_assigned(await client.get(f"{url}/metrics"), JOBS_GROUP) for url in workers]
                stable = stable + 1 if sum(held) == partitions and all(held) else 0
                if time.monotonic() > deadline:
                    raise TimeoutError(f"les notifiers ne se partagent pas les {partitions} partitions : {held}")
                await asyncio.sleep(0.5)

    async def _until_settled(self, within_s: float) -> None:
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": "accounts"})
        try:
            deadline = time.monotonic() + within_s
            while time.monotonic() < deadline:
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM campaign_items i JOIN accounts a ON a.id = i.account_id"
                    " WHERE i.status = 'en_attente' OR (i.status <> 'echec' AND a.state = 'Non notifié')")
                if waiting == 0:
                    return
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    async def _families_on_the_portal(self) -> None:
        """Synthetic families take their letters' credentials to the portal while the campaigns run: every
        `activate_every`-th one goes through the first connection and clicks the activation link it gets."""
        unread: list[MessageSummary] = []  # oldest first
        listed: set[str] = set()
        since: str | None = None
        read = 0
        families: list[asyncio.Task[None]] = []
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": "accounts"})
        try:
            while not self.families_done.is_set():
                # only what is recent (the mailbox holds thousands): ids begin with their creation time, and the
                # sink stores messages side by side, so one may appear a moment after a newer one
                arrived = [m for m in self.mailbox.list(after=since) if m.id not in listed]
                listed.update(m.id for m in arrived)
                unread += sorted(arrived, key=lambda m: m.id)
                if arrived:
                    since = f"{int(unread[-1].id[:20]) - 10**10:020d}"  # ten seconds before the newest
                while unread and datetime.now(UTC) - unread[0].received_at >= READING_TIME:
                    summary = unread.pop(0)  # a family opens its mail a little after it arrives
                    read += 1
                    credentials = _credentials(self.mailbox.text(summary.id) or "")
                    if credentials is None:
                        continue
                    activate = read % self.activate_every == 0
                    birth = await conn.fetchval(
                        "SELECT e.date_naissance FROM accounts a JOIN rattachements r ON r.account_id = a.id"
                        " JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id WHERE a.identifiant = $1"
                        " LIMIT 1", credentials[0]) if activate else None
                    families.append(asyncio.create_task(
                        self._family(*credentials, summary.recipients[0], birth)))
                    if len(families) >= 50:  # a few dozen families at a time
                        await asyncio.gather(*families, return_exceptions=True)
                        families.clear()
                await asyncio.sleep(0.5)
            await asyncio.gather(*families, return_exceptions=True)
        finally:
            await conn.close()
            for task in families:
                task.cancel()

    async def _family(self, identifiant: str, password: str, email: str, birth: date | None) -> None:
        async with self._family_browser() as portal:
            started = time.perf_counter()
            landed = await _submit(portal, "/connexion", {"identifiant": identifiant, "mot_de_passe": password})
            self.latencies.append((time.perf_counter() - started) * 1000)
            if birth is None or landed.headers.get("location") != "/":
                return
            chosen = f"Cartable-{secrets.token_hex(4)}-2026"
            done = await _submit(portal, "/premiere-connexion", {
                "mot_de_passe": chosen, "confirmation": chosen, "date_naissance": birth.strftime("%d/%m/%Y"),
                "email": email})
            if done.status_code == 303:
                self.report.first_connections += 1
                self.awaiting_activation.add(email)

    async def _activations(self, within_s: float) -> None:
        """The families that gave their address click each activation link they receive (a parent of two
        children gets two)."""
        deadline = time.monotonic() + within_s
        clicked: set[str] = set()
        opened: set[str] = set()  # each message read once: the mailbox holds tens of thousands
        while len(clicked) < self.report.first_connections and time.monotonic() < deadline:
            for summary in self.mailbox.list():
                if summary.id in opened or summary.recipients[0] not in self.awaiting_activation:
                    continue
                opened.add(summary.id)
                link = re.search(r"/activation\?jeton=([A-Za-z0-9._~-]+)", self.mailbox.text(summary.id) or "")
                if link is None or link.group(1) in clicked:
                    continue
                clicked.add(link.group(1))
                async with self._family_browser() as portal:
                    started = time.perf_counter()
                    page = await portal.get("/activation", params={"jeton": link.group(1)})
                    answer = await _submit(portal, "/activation", {"jeton": link.group(1)}, page.text)
                    self.latencies.append((time.perf_counter() - started) * 1000)
                    if answer.status_code in (200, 303):
                        self.report.activations += 1
            await asyncio.sleep(0.5)

    async def _check(self) -> None:
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": "accounts"})
        try:
            items = await conn.fetch("SELECT i.account_id, i.status, i.reason, i.channel, a.identifiant, a.state"
                                     " FROM campaign_items i JOIN accounts a ON a.id = i.account_id")
            history = Counter(r["identifiant"] for r in await conn.fetch(
                "SELECT a.identifiant FROM account_history h JOIN accounts a ON a.id = h.account_id"
                " WHERE h.state = 'Notifié'"))
            spans = [r["seconds"] for r in await conn.fetch(
                "SELECT extract(epoch FROM max(i.settled_at) - c.created_at)::float8 AS seconds"
                " FROM campaigns c JOIN campaign_items i ON i.campaign_id = c.id GROUP BY c.id")]
        finally:
            await conn.close()
        report = self.report
        report.accounts_selected = len(items)
        delivered = [r for r in items if r["status"] in ("envoye", "imprime")]
        report.accounts_notified = sum(1 for r in delivered if r["state"] != "Non notifié")
        report.letters_failed = dict(Counter(r["reason"] for r in items if r["status"] == "echec"))
        report.lost = sum(1 for r in items if r["status"] == "en_attente") + len(delivered) - report.accounts_notified
        report.notified_more_than_once = sorted(i for i, n in history.items() if n > 1)
        report.emails_expected = sum(1 for r in items if r["status"] == "envoye")
        report.accounts_per_s = len(delivered) / report.notify_s if report.notify_s else 0.0
        report.campaign_p50_s = statistics.median(spans) if spans else 0.0
        report.campaign_p99_s = _percentile(spans, 99) if spans else 0.0
        passwords: dict[str, set[str]] = {}
        seen: Counter[str] = Counter()
        for summary in self.mailbox.list():
            credentials = _credentials(self.mailbox.text(summary.id) or "")
            if credentials is None:  # an activation link, not a campaign letter
                continue
            report.emails_in_sink += 1
            seen[summary.message_id or summary.id] += 1
            passwords.setdefault(credentials[0], set()).add(credentials[1])
        report.duplicate_emails = sorted(m for m, n in seen.items() if n > 1)
        report.families_with_two_passwords = sorted(i for i, p in passwords.items() if len(p) > 1)


def expected_accounts(folder: Path, today: date = EXPORT_DATE) -> int:
    """Present pupils plus their légal representatives' links in an export: one account each."""
    from teleservices.sync.domain.snapshot import snapshot_of
    from teleservices.sync.siecle.export import parse_export

    snapshot = snapshot_of(parse_export(folder, today=today))
    return len(snapshot.eleves) + sum(1 for niveau in snapshot.liens.values() if niveau == 1)


def _files(folder: Path) -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir()) if p.is_file()]


async def _import(sync: httpx.AsyncClient, folder: Path) -> None:
    files = await asyncio.to_thread(_files, folder)
    deadline = time.monotonic() + 60
    while True:  # the sync service learns a new establishment from the accounts events
        report = (await sync.post("/api/v1/imports", files=files)).json()
        if report["status"] == "appliqué":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"import de {folder.name} : {report}")
        await asyncio.sleep(0.5)


def _credentials(text: str) -> tuple[str, str] | None:
    identifier = re.search(r"Identifiant : (\S+)", text)
    password = re.search(r"Mot de passe : (\S+)", text)
    return (identifier.group(1), password.group(1)) if identifier and password else None


async def _submit(portal: httpx.AsyncClient, path: str, fields: dict[str, str],
                  page: str | None = None) -> httpx.Response:
    """Fill a portal form as a browser would: the CSRF token from the form's page, the session cookie kept."""
    if page is None:
        page = (await portal.get(path)).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    return await portal.post(path, data={**fields, "csrf": token.group(1) if token else ""})


def _assigned(metrics: httpx.Response, consumer: str) -> int:
    """The partitions a consumer holds, from a service's Prometheus exposition."""
    samples = (s for family in text_string_to_metric_families(metrics.text) for s in family.samples)
    return int(sum(s.value for s in samples
                   if s.name == "kafka_consumer_assigned_partitions" and s.labels.get("consumer") == consumer))


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]
