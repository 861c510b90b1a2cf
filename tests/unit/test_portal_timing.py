"""A login costs the same argon2id work whether the identifier is unknown, a temporary password's (hashed with
lighter parameters) or a chosen password's: the time of an answer does not tell which accounts are Notifié."""

from __future__ import annotations

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


async def test_each_kind_of_login_does_one_full_strength_verification(portal: web.Portal,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = web.verify_password

    def counting(password_hash: str, password: str) -> Any:
        checked.append("full" if "m=19456" in password_hash else "light")
        return real(password_hash, password)

    monkeypatch.setattr(web, "verify_password", counting)
    cases = {"unknown": None, "temporary": hash_temporary_password("k7m2p9x4"),
             "chosen": hash_password("Cartable-2026")}
    work = {}
    for kind, stored in cases.items():
        checked.clear()
        await portal.verify(stored, "k7m2p9x4")
        work[kind] = checked.count("full")
    assert work == {"unknown": 1, "temporary": 1, "chosen": 1}
    assert await portal.verify(cases["temporary"], "k7m2p9x4") and not await portal.verify(None, "k7m2p9x4")
