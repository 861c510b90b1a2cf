"""rush.accounts_per_s_{1,2,4}w: the same back-to-school rush with 1, 2 and 4 notifier processes.

Each run is `teleservices simulate-rush --json` (its own embedded platform: PostgreSQL, the run's broker kind,
the SMTP sink, every service) over the same generated establishments; value = accounts notified per second from
the first launch to the last « Notifié »; baseline = the 1-worker figure of the same run (ratio = speed-up).
Goals on these 2 cores, which also run PostgreSQL, the broker and the sink: 2 workers ≥ 1.5×, 4 not slower than 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from bench.harness import Row, Servers, benchmark

ESTABLISHMENTS = int(os.environ.get("BENCH_RUSH_ESTABLISHMENTS", "3"))
PUPILS = int(os.environ.get("BENCH_RUSH_PUPILS", "300"))


async def _rush(workers: int, broker: str) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "teleservices.shared.cli", "simulate-rush", "--establishments", str(ESTABLISHMENTS),
        "--pupils-per-establishment", str(PUPILS), "--notifiers", str(workers), "--broker", broker, "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if b"{" not in out:
        raise RuntimeError(f"the rush with {workers} worker(s) printed no report:\n{err.decode()[-3000:]}")
    report: dict[str, object] = json.loads(out[out.index(b"{"):])
    if not report["nothing_lost"]:
        raise RuntimeError(f"the rush with {workers} worker(s) lost or doubled something: {report}")
    print(f"  {workers} worker(s): {report['accounts_notified']} accounts in {report['notify_s']:.1f} s "
          f"({report['accounts_per_s']:.1f}/s), campaigns p99 {report['campaign_p99_s']:.1f} s, "
          f"portal p99 {report['portal_p99_ms']:.0f} ms", flush=True)
    return report


@benchmark("rush.")
async def rush(servers: Servers) -> list[Row]:
    """1, 2 and 4 notifier processes on the same rush."""
    rates = {w: float(str((await _rush(w, servers.broker_kind))["accounts_per_s"])) for w in (1, 2, 4)}
    size = f"{ESTABLISHMENTS} × {PUPILS} pupils"
    return [Row("rush.accounts_per_s_1w", rates[1], "accounts/s", rates[1], f"reference ({size})"),
            Row("rush.accounts_per_s_2w", rates[2], "accounts/s", rates[1], "ratio ≥ 1.5"),
            Row("rush.accounts_per_s_4w", rates[4], "accounts/s", rates[1], "not slower than 2 workers")]
