"""Imports of SIECLE/BEE exports, each figure beside the bare libraries doing the same work in the same run.

- sync.import_establishment_s: a 2,500-pupil establishment, upload to the last account created (accounts and sync
  as their own processes); baseline: iterparse of the same files and COPY of the same rows. Goal < 5 s.
- sync.import_academy_persons_per_s: 60 establishments × 2,500 pupils through the importer (pupils and persons
  per second); baseline: PostgreSQL COPY of the same rows. Goal ratio ≥ 0.2.
- sync.import_peak_rss_mb.*: the sync process's peak memory for one establishment and for the academy batch,
  beside its memory before the import. Goal: flat in the number of pupils.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import asyncpg
import httpx

from bench.harness import Row, Servers, benchmark, median
from bench.services import peak_rss_mb, rss_mb, service_env, start_service
from teleservices.shared.security.staff import Role, StaffPrincipal, issue_staff_token
from teleservices.sync.demo_export import academy_uais, write_academy_exports, write_demo_export

UAI = "0540001A"
PUPILS = 2_500
ESTABLISHMENTS = int(os.environ.get("BENCH_ACADEMY_ESTABLISHMENTS", "60"))
ROUNDS = 3


def _token(env: dict[str, str]) -> str:
    principal = StaffPrincipal(user_id="bench", display_name="Banc", role=Role.operateur_academique)
    return issue_staff_token(principal, env["TELESERVICES_SECRET_STAFF_TOKEN_KEY"], ttl_s=7200)


def _files(folder: Path) -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir()) if p.is_file()]


def _bare_rows(folder: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """iterparse of the pupils and persons files, keeping ids and names: the bare library doing the reading."""
    pupils, persons = [], []
    for name, tag, key, into in (("ElevesAvecAdresses.xml", "ELEVE", "ELEVE_ID", pupils),
                                 ("ResponsablesAvecAdresses.xml", "PERSONNE", "PERSONNE_ID", persons)):
        for _, element in ET.iterparse(folder / name):  # noqa: S314 — our own generated files
            if element.tag == tag:
                into.append((element.get(key) or "", element.findtext("NOM_DE_FAMILLE") or "",
                             element.findtext("PRENOM") or ""))
                element.clear()
    return pupils, persons


async def _copy(url: str, pupils: list[tuple[str, ...]], persons: list[tuple[str, ...]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TEMP TABLE bare (id text, nom text, prenom text)")
        await conn.copy_records_to_table("bare", records=[*pupils, *persons])
    finally:
        await conn.close()


async def _wait_accounts(url: str, uai: str, expected: int, within_s: float = 600) -> None:
    """Until the establishment has every expected account (pupils' and légal representatives')."""
    conn = await asyncpg.connect(url, server_settings={"search_path": "accounts"})
    try:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if await conn.fetchval("SELECT count(*) FROM rattachements WHERE uai = $1", uai) >= expected:
                return
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise TimeoutError("accounts did not appear")


async def _expected_accounts(folder: Path, today: object) -> int:
    """Present pupils plus their légal representatives' links: one account each."""
    from teleservices.sync.domain.snapshot import snapshot_of
    from teleservices.sync.siecle.export import parse_export

    snapshot = snapshot_of(await asyncio.to_thread(parse_export, folder, today=today))  # type: ignore[arg-type]
    return len(snapshot.eleves) + sum(1 for niveau in snapshot.liens.values() if niveau == 1)


@benchmark("sync.")
async def imports(servers: Servers) -> list[Row]:
    """The three sync rows."""
    rows = await _establishment(servers)
    rows += await _academy(servers)
    return rows


async def _establishment(servers: Servers) -> list[Row]:
    url = servers.postgres.create_database("bench_sync_establishment")
    env = service_env(servers, url, "benchsync.")
    uais = academy_uais(ROUNDS)
    with tempfile.TemporaryDirectory() as tmp:
        accounts = start_service("accounts", env, Path(tmp))
        sync = start_service("sync", env, Path(tmp))
        before = rss_mb(sync.proc.pid)  # type: ignore[union-attr]
        timings, bare = [], []
        try:
            headers = {"authorization": f"Bearer {_token(env)}"}
            async with httpx.AsyncClient(base_url=accounts.url, headers=headers, timeout=120) as acc, \
                    httpx.AsyncClient(base_url=sync.url, headers=headers, timeout=300) as syn:
                for n, uai in enumerate(uais):
                    folder = Path(tmp) / uai
                    summary = write_demo_export(folder, uai=uai, pupils=PUPILS, seed=n)
                    expected = await _expected_accounts(folder, summary.date_export)
                    await acc.post("/api/v1/establishments", json={"uai": uai, "name": uai, "academy": "BENCH"})
                    await acc.post(f"/api/v1/establishments/{uai}/activation")
                    await asyncio.sleep(2)  # the sync service learns the establishment from the accounts events
                    started = time.perf_counter()
                    report = (await syn.post("/api/v1/imports", files=_files(folder))).json()
                    assert report["status"] == "appliqué", report
                    applied = time.perf_counter() - started
                    await _wait_accounts(url, uai, expected)
                    timings.append(time.perf_counter() - started)
                    print(f"  {uai}: import applied after {applied:.1f} s, {expected} accounts after "
                          f"{timings[-1]:.1f} s")
                    started = time.perf_counter()
                    pupils, persons = _bare_rows(folder)
                    await _copy(url, pupils, persons)
                    bare.append(time.perf_counter() - started)
            peak = peak_rss_mb(sync.proc.pid)  # type: ignore[union-attr]
        finally:
            sync.stop()
            accounts.stop()
    return [Row("sync.import_establishment_s", median(timings), "s", median(bare), "< 5 s end to end"),
            Row("sync.import_peak_rss_mb.establishment", peak, "MiB", before, "flat in the number of pupils")]


async def _academy(servers: Servers) -> list[Row]:
    url = servers.postgres.create_database("bench_sync_academy")
    env = service_env(servers, url, "benchacademy.")
    with tempfile.TemporaryDirectory() as tmp:
        folders = write_academy_exports(Path(tmp) / "academy", ESTABLISHMENTS, PUPILS, seed=3)
        sync = start_service("sync", env, Path(tmp))
        try:
            conn = await asyncpg.connect(url, server_settings={"search_path": "sync"})
            await conn.executemany("INSERT INTO establishments (uai, name, academy) VALUES ($1, $1, 'BENCH')",
                                   [(uai,) for uai in academy_uais(ESTABLISHMENTS)])
            await conn.close()
            headers = {"authorization": f"Bearer {_token(env)}"}
            before = rss_mb(sync.proc.pid)  # type: ignore[union-attr]
            people = 0
            async with httpx.AsyncClient(base_url=sync.url, headers=headers, timeout=600) as client:
                started = time.perf_counter()
                for folder in folders:
                    report = (await client.post("/api/v1/imports", files=_files(folder))).json()
                    assert report["status"] == "appliqué", report
                    people += report["counts"]["eleves_arrives"] + report["counts"]["personnes_nouvelles_ou_modifiees"]
                elapsed = time.perf_counter() - started
            peak = peak_rss_mb(sync.proc.pid)  # type: ignore[union-attr]
        finally:
            sync.stop()
        started = time.perf_counter()
        for folder in folders:
            pupils, persons = _bare_rows(folder)
            await _copy(url, pupils, persons)
        bare = time.perf_counter() - started
    return [Row("sync.import_academy_persons_per_s", people / elapsed, "persons/s", people / bare,
                "ratio ≥ 0.2 (COPY of the same rows)"),
            Row("sync.import_peak_rss_mb.academy", peak, "MiB", before, "flat: ≈ the establishment's peak")]
