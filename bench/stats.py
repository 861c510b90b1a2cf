"""Statistics: the read models fed from the topics, and the syntheses read from them (stats as its own process).

- stats.events_per_s: the events of a 2,500-pupil establishment (arrivals, accounts, attachments, state changes)
  consumed into the read models, beside a bare aiokafka consumer loop reading the same topics in the same run;
  medians of 3 rounds, each a bare loop then a new stats service (own database) reading the topics again.
  Goal: ratio ≥ 0.5.
- stats.establishment_p99_ms: « Synthèse comptes élèves » and « responsables » of that establishment through the
  API (JSON), the slower of the two, beside the plain SQL counting the same figures. Goal ≤ 100 ms.
- stats.academy_p99_ms: the academy view over 60 establishments of 2,500 pupils through the API (each
  establishment's line is recomputed by the service within a second of its events), beside the plain SQL reading
  the same rows. Goal ≤ 1,000 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.harness import Row, Servers, benchmark
from bench.load import percentile
from bench.services import service_env, start_service
from teleservices.shared.kafka.broker import ensure_topics
from teleservices.shared.messages import catalog, siecle
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS, ALL_TOPICS, SYNC_EVENTS, Topic
from teleservices.shared.security.staff import Role, StaffPrincipal, issue_staff_token
from teleservices.shared.settings import KafkaSettings
from teleservices.stats.queries import ACADEMY_SQL, ELEVES_SQL, RESPONSABLES_SQL

UAI, ACADEMY = "0540001A", "NANCY-METZ"
PUPILS = 2_500
ESTABLISHMENTS, ACADEMY_PUPILS = 60, PUPILS  # the bench establishment and 59 seeded ones
REQUESTS = 100
ROUNDS = 3
STATES = ("Notifié", "En cours d'activation", "Utilisé")


def _establishment_events() -> list[tuple[Topic, str, Envelope]]:
    """What sync and accounts publish for a 2,500-pupil establishment: about 20,000 events."""
    at = datetime(2026, 9, 15, tzinfo=UTC)
    out: list[tuple[Topic, str, Envelope]] = []

    def add(topic: Topic, key: str, payload: catalog.Message) -> None:
        out.append((topic, key, Envelope.wrap(payload, uai=UAI)))

    add(ACCOUNTS_EVENTS, UAI, catalog.EstablishmentCreated(uai=UAI, name="Lycée du banc", academy=ACADEMY))
    for n in range(PUPILS):
        eleve_id = str(n)
        add(SYNC_EVENTS, UAI, siecle.EleveArrived(uai=UAI, eleve=siecle.EleveData(
            eleve_id=eleve_id, nom="Nom", prenom="Prénom", division=f"D{n % 90}", code_mef=f"1031001911{n % 9}",
            libelle_mef=f"MEF {n % 9}")))
    created, attached, changed = [], [], []  # as accounts emits them: the import's bulk, then the deliveries
    for n in range(PUPILS):
        for population, personne in [("eleve", None), ("responsable", f"p{n}a"), ("responsable", f"p{n}b")]:
            account_id, kind = uuid.uuid4(), catalog.Population(population)
            attached.append((account_id, catalog.AccountAttached(
                account_id=account_id, uai=UAI, eleve_id=str(n), personne_id=personne, population=kind, at=at)))
            created.append((account_id, catalog.AccountCreated(
                account_id=account_id, uai=UAI, population=kind, identifiant=f"c.{account_id.hex[:10]}")))
            if n % 3:
                changed.append((account_id, catalog.AccountStateChanged(
                    account_id=account_id, uai=UAI, population=kind, previous_state="Non notifié",
                    state=STATES[n % 3], cause="banc", changed_at=at + timedelta(days=1))))
    for account_id, payload in [*attached, *created, *changed]:
        add(ACCOUNTS_EVENTS, str(account_id), payload)
    return out


async def _publish(kafka: KafkaSettings, events: list[tuple[Topic, str, Envelope]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic.full_name(kafka.topic_prefix), value=envelope.to_bytes(),
                                       key=key.encode()) for topic, key, envelope in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _bare_consumer(kafka: KafkaSettings, expected: int) -> float:
    """Messages per second of a bare aiokafka loop reading the same topics (first record to last)."""
    consumer = AIOKafkaConsumer(*(t.full_name(kafka.topic_prefix) for t in (ACCOUNTS_EVENTS, SYNC_EVENTS)),
                                bootstrap_servers=kafka.bootstrap_servers, group_id=f"bare-{uuid.uuid4().hex[:6]}",
                                enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=1000)
    await consumer.start()
    try:
        seen, started = 0, 0.0
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                if not seen:
                    started = time.perf_counter()
                seen += len(records)
                await consumer.commit({tp: records[-1].offset + 1})
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def _consumed_rate(url: str, expected: int) -> float:
    """Events per second into the read models, from the first processed event to the last."""
    conn = await asyncpg.connect(url, server_settings={"search_path": "stats"})
    try:
        first_at, first = 0.0, 0
        while True:
            done = await conn.fetchval("SELECT count(*) FROM processed_messages")
            if done and not first_at:
                first_at, first = time.perf_counter(), done
            if done >= expected:
                return (done - first) / (time.perf_counter() - first_at)
            await asyncio.sleep(0.02)
    finally:
        await conn.close()


SEED_ACADEMY_SQL = f"""
INSERT INTO establishments (uai, name, academy)
  SELECT lpad(n::text, 7, '0') || 'B', 'Établissement ' || n, '{ACADEMY}'
  FROM generate_series(1, {ESTABLISHMENTS - 1}) n;
INSERT INTO eleves (uai, eleve_id, division, code_mef, libelle_mef, present, version)
  SELECT lpad(u::text, 7, '0') || 'B', p::text, 'D' || (p % 30), '1031001911' || (p % 9), 'MEF', true, now()
  FROM generate_series(1, {ESTABLISHMENTS - 1}) u, generate_series(1, {ACADEMY_PUPILS}) p;
INSERT INTO accounts (account_id, uai, population, state)
  SELECT md5(u || ':' || p || ':' || k)::uuid, lpad(u::text, 7, '0') || 'B',
         CASE k WHEN 0 THEN 'eleve' ELSE 'responsable' END,
         (ARRAY['Non notifié', 'Notifié', 'En cours d''activation', 'Utilisé'])[1 + (p + k) % 4]
  FROM generate_series(1, {ESTABLISHMENTS - 1}) u, generate_series(1, {ACADEMY_PUPILS}) p, generate_series(0, 2) k;
INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population, attached, version, state)
  SELECT md5(u || ':' || p || ':' || k)::uuid, lpad(u::text, 7, '0') || 'B', p::text, NULL,
         CASE k WHEN 0 THEN 'eleve' ELSE 'responsable' END, true, now(),
         (ARRAY['Non notifié', 'Notifié', 'En cours d''activation', 'Utilisé'])[1 + (p + k) % 4]
  FROM generate_series(1, {ESTABLISHMENTS - 1}) u, generate_series(1, {ACADEMY_PUPILS}) p, generate_series(0, 2) k;
ANALYZE;
"""


async def _latencies(client: httpx.AsyncClient, paths: list[str]) -> list[float]:
    samples = []
    for i in range(REQUESTS):
        started = time.perf_counter()
        answer = await client.get(paths[i % len(paths)])
        answer.raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _sql_latencies(conn: asyncpg.Connection, queries: list[tuple[str, tuple[object, ...]]]) -> list[float]:
    """The plain SQL reading the same rows, each sample running every query once."""
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        for sql, args in queries:
            await conn.fetch(sql, *args)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


@benchmark("stats.")
async def stats(servers: Servers) -> list[Row]:
    """Consumption into the read models, and the syntheses' latency."""
    prefix = f"benchstats{uuid.uuid4().hex[:6]}."
    kafka = KafkaSettings(bootstrap_servers=servers.broker.bootstrap_servers, topic_prefix=prefix)
    await ensure_topics(kafka, ALL_TOPICS)
    events = _establishment_events()
    await _publish(kafka, events)
    bares, rates = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(ROUNDS):  # each round a bare loop, then a new stats service reading the topics again
            bares.append(await _bare_consumer(kafka, len(events)))
            url = servers.postgres.create_database(f"bench_stats_{run}")
            env = service_env(servers, url, prefix)
            process = start_service("stats", env, Path(tmp), name=f"stats-{run}")
            rates.append(await _consumed_rate(url, len(events)))
            if run < ROUNDS - 1:
                process.stop()
        bare, consumed = statistics.median(bares), statistics.median(rates)
        try:
            token = issue_staff_token(StaffPrincipal(user_id="bench", display_name="Banc",
                                                     role=Role.operateur_academique, academy=ACADEMY),
                                      env["TELESERVICES_SECRET_STAFF_TOKEN_KEY"], ttl_s=3600)
            conn = await asyncpg.connect(url, server_settings={"search_path": "stats"})
            try:
                await conn.execute(SEED_ACADEMY_SQL)
                await conn.execute("INSERT INTO dirty (uai) SELECT uai FROM establishments ON CONFLICT DO NOTHING")
                while await conn.fetchval("SELECT count(*) FROM dirty"):  # noqa: ASYNC110 — the service recomputes them
                    await asyncio.sleep(0.2)
                start = datetime(2026, 9, 1, tzinfo=UTC)
                sql_establishment = percentile(await _sql_latencies(conn, [(ELEVES_SQL, (UAI,))]), 99)
                sql_establishment = max(sql_establishment, percentile(await _sql_latencies(
                    conn, [(RESPONSABLES_SQL, (UAI, start))]), 99))
                sql_academy = percentile(await _sql_latencies(conn, [(ACADEMY_SQL, (ACADEMY,))]), 99)
            finally:
                await conn.close()
            async with httpx.AsyncClient(base_url=process.url, timeout=30,
                                         headers={"authorization": f"Bearer {token}"}) as client:
                establishment = max(
                    percentile(await _latencies(client, [f"/api/v1/establishments/{UAI}/stats/eleves"]), 99),
                    percentile(await _latencies(client, [f"/api/v1/establishments/{UAI}/stats/responsables"]), 99))
                academy = percentile(await _latencies(client, [f"/api/v1/academies/{ACADEMY}/stats"]), 99)
        finally:
            process.stop()
    return [
        Row("stats.events_per_s", consumed, "events/s", bare, "≥ 0.5 × bare aiokafka loop"),
        Row("stats.establishment_p99_ms", establishment, "ms", sql_establishment, "≤ 100 ms (2,500 pupils)"),
        Row("stats.academy_p99_ms", academy, "ms", sql_academy, f"≤ 1,000 ms ({ESTABLISHMENTS} establishments)"),
    ]
