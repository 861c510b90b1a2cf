"""rush.accounts_per_s_{1,2,4}w: the same back-to-school campaigns with 1, 2 and 4 notifier processes.

Each run is `teleservices simulate-rush --json` (its own embedded platform: PostgreSQL, the run's broker kind,
the SMTP sink, every service) over the same generated establishments; value = accounts notified per second from
the first launch to the last « Notifié »; baseline = the 1-worker figure of the same run (ratio = speed-up).
Goals on these 2 cores, which also run PostgreSQL, the broker and the sink: 2 workers ≥ 1.5×, 4 not slower than 2.

The worker rows run without the synthetic families (`--no-families`): the families' portal traffic and the
simulator reading their mail are the same work whatever the number of workers, and on two shared cores they take
from the render processes the speed-up is about (in production they run on other machines). The rows
`rush.families_accounts_per_s_{1,2}w` run the full rush, families included, and show what that load costs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from bench.harness import Row, Servers, benchmark, median

ESTABLISHMENTS = int(os.environ.get("BENCH_RUSH_ESTABLISHMENTS", "3"))
PUPILS = int(os.environ.get("BENCH_RUSH_PUPILS", "300"))
ROUNDS = int(os.environ.get("BENCH_RUSH_ROUNDS", "5"))
"""Rounds of 1, 2 and 4 workers one after the other; each row is the median of its rounds (a run here varies by
±20 % with what else the shared machine does, so one run per count could order 2 and 4 workers either way: on
one noisy day three rounds gave 2 workers 1.46×, the next run's five rounds 1.53×)."""


async def _rush(workers: int, broker: str, families: bool) -> float:
    """One simulation; its accounts notified per second."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "teleservices.shared.cli", "simulate-rush", "--establishments", str(ESTABLISHMENTS),
        "--pupils-per-establishment", str(PUPILS), "--notifiers", str(workers), "--broker", broker, "--json",
        "--families" if families else "--no-families", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if b"{" not in out:
        raise RuntimeError(f"the rush with {workers} worker(s) printed no report:\n{err.decode()[-3000:]}")
    report: dict[str, object] = json.loads(out[out.index(b"{"):])
    if not report["nothing_lost"]:
        raise RuntimeError(f"the rush with {workers} worker(s) lost or doubled something: {report}")
    portal = f", portal p99 {report['portal_p99_ms']:.0f} ms" if families else ""
    print(f"  {workers} worker(s){' with families' if families else ''}: {report['accounts_notified']} accounts in "
          f"{report['notify_s']:.1f} s ({report['accounts_per_s']:.1f}/s), campaigns p99 "
          f"{report['campaign_p99_s']:.1f} s{portal}", flush=True)
    return float(str(report["accounts_per_s"]))


@benchmark("rush.")
async def rush(servers: Servers) -> list[Row]:
    """1, 2 and 4 notifier processes on the same campaigns, in rounds; then 1 and 2 with the families on the
    portal (one run each: information)."""
    runs: dict[int, list[float]] = {1: [], 2: [], 4: []}
    for _ in range(ROUNDS):
        for workers, rates_of in runs.items():
            rates_of.append(await _rush(workers, servers.broker_kind, families=False))
    rates = {workers: median(rates_of) for workers, rates_of in runs.items()}
    busy = {w: await _rush(w, servers.broker_kind, families=True) for w in (1, 2)}
    size = f"{ESTABLISHMENTS} × {PUPILS} pupils, median of {ROUNDS}"
    return [Row("rush.accounts_per_s_1w", rates[1], "accounts/s", rates[1], f"reference ({size})"),
            Row("rush.accounts_per_s_2w", rates[2], "accounts/s", rates[1], "ratio ≥ 1.5"),
            Row("rush.accounts_per_s_4w", rates[4], "accounts/s", rates[1], "not slower than 2 workers"),
            Row("rush.families_accounts_per_s_1w", busy[1], "accounts/s", rates[1], "families on the portal"),
            Row("rush.families_accounts_per_s_2w", busy[2], "accounts/s", busy[1], "information: ratio to 1w")]
