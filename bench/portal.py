"""portal.*: logins and activations through the running portal process (HTTP forms, sessions, events, argon2id).

- portal.logins_per_s: closed loop, 50 concurrent clients logging in, beside bare argon2id verifications per second
  on the same cores in the same run (one thread per core), in three alternating 5 s slices. Goal: ratio ≥ 0.8.
- portal.login_p99_ms: open loop at 70 % of the measured capacity, beside bare argon2id verifications at that rate.
  Goal ≤ 250 ms.
- portal.activation_p99_ms: the activation link opened then confirmed (GET + POST) at the same rate, beside the
  plain SQL of an activation at that rate.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx

from bench.harness import Row, Servers, benchmark
from bench.load import open_loop, percentile
from bench.services import service_env, start_service
from teleservices.shared.security.links import LinkPurpose, issue_link_token, read_link_token
from teleservices.shared.security.passwords import hash_password, verify_password

ACCOUNTS, AWAITING = 500, 3000
CLIENTS, CLOSED_S, OPEN_S = 50, 15.0, 15.0
PASSWORD = "Cartable2024"  # noqa: S105 — the benchmark's own accounts
_NO_COOKIE_JAR = CookieJar(DefaultCookiePolicy(allowed_domains=["nowhere.invalid"]))
"""Each simulated visitor sends its own cookie header; the shared client keeps none."""
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@benchmark("portal.")
async def portal(servers: Servers) -> list[Row]:
    """Login throughput and latency, activation latency."""
    url = servers.postgres.create_database("bench_portal")
    cores = os.cpu_count() or 1
    env = {**service_env(servers, url, "benchportal."), "TELESERVICES_PORTAL_AUTH_COOKIE_SECURE": "false",
           "TELESERVICES_PORTAL_AUTH_HASH_WORKERS": str(cores),
           "TELESERVICES_PORTAL_AUTH_THROTTLE_ADDRESS_FAILURES": "1000000"}
    link_key = env["TELESERVICES_SECRET_LINK_KEY"]
    with tempfile.TemporaryDirectory() as tmp:
        process = start_service("portal-auth", env, Path(tmp))
        try:
            password_hash = hash_password(PASSWORD)
            conn = await asyncpg.connect(url, server_settings={"search_path": "portal_auth"})
            try:
                links = await _seed(conn, password_hash, link_key)
                raw = RawConnections(process.url)
                async with httpx.AsyncClient(base_url=process.url, timeout=30, cookies=_NO_COOKIE_JAR,
                                             limits=httpx.Limits(max_connections=CLIENTS + 10)) as client:
                    logins_per_s, bare_rate = await _interleaved(client, raw, password_hash, cores)
                    rate = 0.7 * logins_per_s
                    login_p99 = await _open_loop_logins(client, raw, rate)
                    bare_p99 = await _bare_open_loop(password_hash, cores, rate)
                    activation_p99 = await _open_loop_activations(client, links, rate)
                raw.close()
                sql_p99 = await _plain_sql_activations(conn, rate)
            finally:
                await conn.close()
        finally:
            process.stop()
    return [
        Row("portal.logins_per_s", logins_per_s, "logins/s", bare_rate, "ratio ≥ 0.8 (50 clients)"),
        Row("portal.login_p99_ms", login_p99, "ms", bare_p99, f"≤ 250 ms at {rate:.0f}/s"),
        Row("portal.activation_p99_ms", activation_p99, "ms", sql_p99, f"at {rate:.0f}/s"),
    ]


async def _seed(conn: asyncpg.Connection, password_hash: str, link_key: str) -> list[str]:
    """Accounts in use with a chosen password, and representatives awaiting activation with their link."""
    await conn.executemany(
        "INSERT INTO credentials (account_id, identifiant, population, uai, state, password_hash)"
        " VALUES ($1, $2, 'responsable', '0540001A', 'Utilisé', $3)",
        [(uuid.uuid4(), f"banc.{n}", password_hash) for n in range(ACCOUNTS)])
    tokens, rows = [], []
    for n in range(AWAITING):
        account = uuid.uuid4()
        token = issue_link_token(link_key, account, LinkPurpose.activation, ttl_s=3600)
        tokens.append(token)
        rows.append((account, f"attente.{n}", read_link_token(link_key, token, LinkPurpose.activation).link_id))
    await conn.executemany(
        "INSERT INTO credentials (account_id, identifiant, population, uai, state, password_hash)"
        " VALUES ($1, $2, 'responsable', '0540001A', 'En cours d''activation', $3)",
        [(a, i, password_hash) for a, i, _ in rows])
    await conn.executemany("INSERT INTO links (link_id, account_id, purpose, email) VALUES ($1, $2, 'activation',"
                           " 'parent@exemple.fr')", [(link, a) for a, _, link in rows])
    return tokens


async def _form(client: httpx.AsyncClient, path: str) -> tuple[str, str]:
    """(seed cookie, form token) of a fresh visitor."""
    page = await client.get(path)
    seed = page.cookies["portail_csrf"]
    match = _CSRF.search(page.text)
    assert match, page.text
    return seed, match.group(1)


class RawConnections:
    """Keep-alive HTTP/1.1 connections posting the login form: a load generator light on the shared cores."""

    def __init__(self, url: str):
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post_form(self, path: str, cookie: str, form: dict[str, str]) -> int:
        """POST a form; the answer's status code (its body is read and dropped)."""
        body = urlencode(form).encode()
        request = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nCookie: {cookie}\r\n"
                   f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                   ).encode() + body
        while self.idle:  # a kept connection the server may have closed while idle (keep-alive timeout)
            reader, writer = self.idle.pop()
            try:
                return await self._exchange(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
        return await self._exchange(*await asyncio.open_connection(self.host, self.port), request)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        self.idle.append((reader, writer))
        return int(head.split(b" ", 2)[1])

    def close(self) -> None:
        """Close every idle connection."""
        for _, writer in self.idle:
            writer.close()


async def _login(raw: RawConnections, seed: str, token: str, n: int) -> None:
    status = await raw.post_form("/connexion", f"portail_csrf={seed}",
                                 {"csrf": token, "identifiant": f"banc.{n % ACCOUNTS}", "mot_de_passe": PASSWORD})
    assert status == 303, status


async def _interleaved(client: httpx.AsyncClient, raw: RawConnections, password_hash: str,
                       threads: int) -> tuple[float, float]:
    """Logins/s and bare verifications/s, measured in alternating slices so that both see the same machine."""
    forms = [await _form(client, "/connexion") for _ in range(CLIENTS)]
    slices = 3
    portal_rates, bare_rates = [], []
    for _ in range(slices):
        bare_rates.append(await _bare_verifications_per_s(password_hash, threads, CLOSED_S / slices))
        portal_rates.append(await _closed_loop_logins(raw, forms, CLOSED_S / slices))
    return sum(portal_rates) / slices, sum(bare_rates) / slices


async def _closed_loop_logins(raw: RawConnections, forms: list[tuple[str, str]], seconds: float) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal done
        seed, token = forms[k]
        while time.perf_counter() < deadline:
            await _login(raw, seed, token, k + done)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(CLIENTS)))
    return done / (time.perf_counter() - started)


async def _open_loop_logins(client: httpx.AsyncClient, raw: RawConnections, rate: float) -> float:
    seed, token = await _form(client, "/connexion")
    counter = iter(range(10**9))
    return percentile(await open_loop(lambda: _login(raw, seed, token, next(counter)), rate, OPEN_S), 99)


async def _open_loop_activations(client: httpx.AsyncClient, tokens: list[str], rate: float) -> float:
    remaining = iter(tokens)

    async def activate() -> None:
        jeton = next(remaining)
        page = await client.get(f"/activation?jeton={jeton}")
        seed, match = page.cookies["portail_csrf"], _CSRF.search(page.text)
        assert match, page.text
        answer = await client.post("/activation", headers={"cookie": f"portail_csrf={seed}"},
                                   data={"csrf": match.group(1), "jeton": jeton})
        assert "Votre compte est activ" in answer.text

    return percentile(await open_loop(activate, rate, min(OPEN_S, len(tokens) / rate * 0.9)), 99)


async def _bare_verifications_per_s(password_hash: str, threads: int, seconds: float) -> float:
    loop = asyncio.get_running_loop()
    done = 0
    deadline = time.perf_counter() + seconds
    with ThreadPoolExecutor(max_workers=threads) as pool:
        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                assert await loop.run_in_executor(pool, verify_password, password_hash, PASSWORD)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(threads)))
        return done / (time.perf_counter() - started)


async def _bare_open_loop(password_hash: str, threads: int, rate: float) -> float:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        async def verify() -> None:
            assert await loop.run_in_executor(pool, verify_password, password_hash, PASSWORD)

        return percentile(await open_loop(verify, rate, OPEN_S), 99)


async def _plain_sql_activations(conn: asyncpg.Connection, rate: float) -> float:
    ids = [uuid.uuid4() for _ in range(int(rate * OPEN_S) + 10)]
    await conn.executemany("INSERT INTO credentials (account_id, identifiant, state) VALUES ($1, $2,"
                           " 'En cours d''activation')", [(a, f"sql.{a}") for a in ids])
    remaining = iter(ids)

    async def activate() -> None:
        account = next(remaining)
        async with conn.transaction():
            await conn.execute("INSERT INTO links (link_id, account_id, purpose, used_at) VALUES ($1, $2,"
                               " 'activation', now())", secrets.token_urlsafe(16), account)
            await conn.execute("UPDATE credentials SET state = 'Utilisé', email_validated = true"
                               " WHERE account_id = $1", account)

    lock = asyncio.Lock()

    async def serialised() -> None:  # one connection: one transaction at a time
        async with lock:
            await activate()

    return percentile(await open_loop(serialised, rate, OPEN_S), 99)
