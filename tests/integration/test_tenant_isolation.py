"""Tenant isolation, route by route: for every staff route of every service that names an establishment, the head
of establishment A asking for establishment B gets 403 or 404 — whatever the method, whatever the body (a body
FastAPI itself finds invalid is refused with its 422 before any data is read)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support.accounts import chef
from tests.support.platform import PlatformUnderTest

A, B = "0540001A", "0540002B"
REFUSED = (403, 404)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", ["accounts", "sync", "notifier", "stats"])
def test_the_head_of_a_never_reaches_b(platform: PlatformUnderTest, service: str) -> None:
    platform.start(*dict.fromkeys(["accounts", service]))
    with httpx.Client(base_url=platform.processes["accounts"].url,
                      headers={"authorization": f"Bearer {platform.token()}"}) as operator:
        for uai in (A, B):
            assert operator.post("/api/v1/establishments", json={
                "uai": uai, "name": f"Collège {uai}", "academy": "NANCY-METZ"}).status_code == 201
            assert operator.post(f"/api/v1/establishments/{uai}/activation").status_code == 204
    url = platform.processes[service].url
    headers = {"authorization": f"Bearer {platform.token(chef(A))}"}
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    leaks: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if "{uai}" not in operation.path:
            continue
        checked += 1

        @settings(max_examples=3, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE))
        def ask_for_b(case: schemathesis.Case) -> None:
            case.path_parameters = {**(case.path_parameters or {}), "uai": B}
            response = case.call(base_url=url, headers=headers, timeout=30)
            invalid_request = response.status_code == 422 and isinstance(response.json().get("detail"), list)
            if response.status_code not in REFUSED and not invalid_request:  # FastAPI's 422 looks at no data
                leaks.append(f"{case.method} {case.formatted_path} → {response.status_code}")

        ask_for_b()
    assert checked, f"{service}: no route names an establishment"
    assert not leaks, "\n".join(sorted(set(leaks)))
