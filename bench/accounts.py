"""accounts.list_division_p99_ms: one division's accounts of a 2,500-pupil establishment through the staff API.

Open loop at 20 requests/s against the accounts service running as its own process, beside the plain SQL query
returning the same rows at the same rate in the same run. Goal ≤ 50 ms.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import asyncpg
import httpx

from bench.harness import Row, Servers, benchmark
from bench.load import open_loop, percentile
from teleservices.accounts.queries import _LIST_SQL
from teleservices.shared.embedded.brokers import free_port
from teleservices.shared.embedded.processes import ServiceProcess
from teleservices.shared.security.staff import Role, StaffPrincipal, issue_staff_token

UAI = "0540001A"
PUPILS = 2_500
DIVISIONS = 84
RATE, DURATION_S = 20.0, 20.0

SEED_SQL = f"""
INSERT INTO academies (code) VALUES ('NANCY-METZ');
INSERT INTO establishments (uai, name, academy, activated_at) VALUES ('{UAI}', 'Lycée du banc', 'NANCY-METZ', now());
INSERT INTO eleves (uai, eleve_id, nom, prenom, division, code_mef, code_regime, email)
  SELECT '{UAI}', n::text, 'Nom' || n, 'Prénom' || n, 'D' || (n % {DIVISIONS}), '10310019110', (n % 7)::text,
         'eleve' || n || '@exemple.fr' FROM generate_series(1, {PUPILS}) n;
INSERT INTO personnes (uai, personne_id, civilite, nom, prenom, email, address_lines)
  SELECT '{UAI}', (100000 + n)::text, 'M.', 'Nom' || (n / 2), 'Parent' || n, 'parent' || n || '@exemple.fr',
         ARRAY['1 rue des Écoles', '54000 NANCY'] FROM generate_series(1, {2 * PUPILS}) n;
INSERT INTO identifiers (identifiant, academy, base, number)
  SELECT 'compte' || n, 'NANCY-METZ', 'compte', n FROM generate_series(1, {3 * PUPILS}) n;
INSERT INTO accounts (id, uai, population, identifiant, state)
  SELECT md5(n::text)::uuid, '{UAI}', CASE WHEN n <= {PUPILS} THEN 'eleve' ELSE 'responsable' END, 'compte' || n,
         'Non notifié' FROM generate_series(1, {3 * PUPILS}) n;
INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population)
  SELECT md5(n::text)::uuid, '{UAI}', n::text, NULL, 'eleve' FROM generate_series(1, {PUPILS}) n;
INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population)
  SELECT md5(n::text)::uuid, '{UAI}', (((n - {PUPILS} - 1) / 2) + 1)::text, (100000 + n - {PUPILS})::text,
         'responsable' FROM generate_series({PUPILS} + 1, {3 * PUPILS}) n;
ANALYZE;
"""


@benchmark("accounts.")
async def list_division(servers: Servers) -> list[Row]:
    """p99 of listing one division's representative accounts at 20 requests/s."""
    url = servers.postgres.create_database("bench_accounts")
    staff_key = secrets.token_urlsafe(48)
    env = {"TELESERVICES_ENVIRONMENT": "test", "TELESERVICES_DATABASE_URL": url,
           "TELESERVICES_KAFKA_BOOTSTRAP_SERVERS": servers.broker.bootstrap_servers,
           "TELESERVICES_KAFKA_TOPIC_PREFIX": "benchaccounts.", "TELESERVICES_SECRET_STAFF_TOKEN_KEY": staff_key,
           **{f"TELESERVICES_SECRET_{k}": secrets.token_urlsafe(48)
              for k in ("LINK_KEY", "TRANSIT_KEY", "AT_REST_KEY")},
           "TELESERVICES_LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory() as tmp:
        process = ServiceProcess("accounts", "accounts", {**env, "TELESERVICES_ACCOUNTS_HTTP_PORT": str(free_port())},
                                 0, Path(tmp) / "accounts.log")
        process.port = int(process.env["TELESERVICES_ACCOUNTS_HTTP_PORT"])
        process.start()
        try:
            process.wait_ready()
            conn = await asyncpg.connect(url, server_settings={"search_path": "accounts"})
            try:
                await conn.execute(SEED_SQL)
                baseline = await _plain_sql(conn)
            finally:
                await conn.close()
            token = issue_staff_token(StaffPrincipal(user_id="bench", display_name="Banc", role=Role.chef,
                                                     uais=(UAI,)), staff_key, ttl_s=3600)
            api = await _through_api(process.url, token)
        finally:
            process.stop()
    return [Row("accounts.list_division_p99_ms", api, "ms", baseline, "≤ 50 ms at 20 req/s")]


async def _through_api(url: str, token: str) -> float:
    async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=10) as client:
        params = {"population": "responsable", "division": "D7"}
        for _ in range(20):
            (await client.get(f"/api/v1/establishments/{UAI}/accounts", params=params)).raise_for_status()

        async def call() -> None:
            response = await client.get(f"/api/v1/establishments/{UAI}/accounts", params=params)
            assert len(response.json()["accounts"]) > 50

        return percentile(await open_loop(call, RATE, DURATION_S), 99)


async def _plain_sql(conn: asyncpg.Connection) -> float:
    args = (UAI, "responsable", ["D7"], None, None, None, None, None, None)
    for _ in range(20):
        await conn.fetch(_LIST_SQL, *args)

    async def call() -> None:
        assert len(await conn.fetch(_LIST_SQL, *args)) > 50

    return percentile(await open_loop(call, RATE, DURATION_S), 99)
