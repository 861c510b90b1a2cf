"""A login takes the time of a full-strength argon2id check whether the identifier is unknown, a temporary
password's (hashed with lighter parameters, the rest of the time waited out) or a chosen password's: the time of an
answer does not tell which accounts are Notifié."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from teleservices.portal_auth import web
from teleservices.portal_auth.settings import PortalAuthSettings
from teleservices.shared.security.passwords import hash_password, hash_temporary_password
from teleservices.shared.settings import Environment


@pytest.fixture
def portal() -> web.Portal:
    settings = PortalAuthSettings(environment=Environment.development)
    return web.Portal(db=None, settings=settings, accounts=None, policy=None,  # type: ignore[arg-type]
                      hashing=ThreadPoolExecutor(1))


async def test_each_kind_of_login_takes_one_full_strength_check_or_waits_out_its_time(
        portal: web.Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    waited: list[float] = []
    real = web.verify_password

    def counting(password_hash: str, password: str) -> Any:
        checked.append("full" if "m=19456" in password_hash else "light")
        return real(password_hash, password)

    monkeypatch.setattr(web, "verify_password", counting)
    monkeypatch.setattr(web, "wait", waited.append)
    cases = {"unknown": None, "chosen": hash_password("Cartable-2026"),
             "temporary": hash_temporary_password("k7m2p9x4")}
    work = {}
    for kind, stored in cases.items():
        checked.clear()
        started = time.perf_counter()
        await portal.verify(stored, "k7m2p9x4")
        work[kind] = (list(checked), time.perf_counter() - started)
    assert work["unknown"][0] == work["chosen"][0] == ["full"] and work["temporary"][0] == ["light"]
    [padding] = waited  # its answer comes as late as a full check's, as long as they take now
    assert padding > 0 and work["temporary"][1] + padding >= portal._full_check_s * 0.95
    assert await portal.verify(cases["temporary"], "k7m2p9x4") and not await portal.verify(None, "k7m2p9x4")
