"""Run the benchmarks (BENCH_ONLY=prefix for some), print the table, write .bench/results.json."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from bench import accounts, campaign, notifier, outbox, portal, rush, stats, sync  # noqa: F401 — they register
from bench.harness import BENCHMARKS, Row, servers, table, write_results


def main() -> int:
    """Entry point of `make bench`."""
    logging.basicConfig(level=logging.WARNING)
    only = os.environ.get("BENCH_ONLY", "")
    selected = ({p: fn for p, fn in BENCHMARKS.items() if p.startswith(only)}  # every benchmark under the prefix
                or {p: fn for p, fn in BENCHMARKS.items() if only.startswith(p)})  # else the one holding that row
    if not selected:
        print(f"no benchmark matches BENCH_ONLY={only!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    with servers() as running:
        print(f"broker: {running.broker_kind}", flush=True)
        for prefix, fn in selected.items():
            print(f"running {prefix}…", flush=True)
            rows += [r for r in asyncio.run(fn(running)) if r.name.startswith(only)]
    print(table(rows))
    write_results(rows)
    return 0


sys.exit(main())
