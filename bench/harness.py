"""Benchmark rows, the registry, and the servers they run on."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from teleservices.shared.embedded.brokers import ApacheKafkaBroker, Broker, TansuBroker, java_available
from teleservices.shared.embedded.postgres import EmbeddedPostgres


@dataclass(frozen=True)
class Row:
    """One benchmark figure beside its baseline; ratio = value ÷ baseline."""

    name: str
    value: float
    unit: str
    baseline: float
    goal: str

    @property
    def ratio(self) -> float:
        """value ÷ baseline."""
        return self.value / self.baseline if self.baseline else float("nan")

    def as_json(self) -> dict[str, object]:
        """The row as written to .bench/results.json."""
        return {**asdict(self), "ratio": round(self.ratio, 3)}


@dataclass(frozen=True)
class Servers:
    """The real servers a benchmark runs against."""

    postgres: EmbeddedPostgres
    broker: Broker
    broker_kind: str


Benchmark = Callable[[Servers], Awaitable[list[Row]]]
BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(prefix: str) -> Callable[[Benchmark], Benchmark]:
    """Register a benchmark producing rows whose names start with `prefix`."""

    def register(fn: Benchmark) -> Benchmark:
        BENCHMARKS[prefix] = fn
        return fn

    return register


def median(samples: list[float]) -> float:
    """The median of the samples."""
    return statistics.median(samples)


@contextmanager
def servers() -> Iterator[Servers]:
    """Embedded PostgreSQL and a broker (Apache Kafka where a JDK is present) for the run."""
    with tempfile.TemporaryDirectory(prefix="teleservices-bench-") as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "pg")
        postgres.start()
        kind = os.environ.get("TELESERVICES_BENCH_BROKER") or ("kafka" if java_available() else "tansu")
        broker: Broker = ApacheKafkaBroker(Path(tmp) / "kafka") if kind == "kafka" else TansuBroker()
        broker.start()
        try:
            yield Servers(postgres, broker, kind)
        finally:
            broker.stop()
            postgres.stop()


def write_results(rows: list[Row], path: Path = Path(".bench/results.json")) -> None:
    """Write the rows as a JSON list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_json() for r in rows], indent=2, ensure_ascii=False))


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width table."""
    header = f"{'benchmark':<42} {'value':>12} {'baseline':>12} {'ratio':>7}  {'unit':<10} goal"
    lines = [header, "-" * len(header)]
    lines += [f"{r.name:<42} {r.value:>12.1f} {r.baseline:>12.1f} {r.ratio:>7.2f}  {r.unit:<10} {r.goal}"
              for r in rows]
    return "\n".join(lines)
