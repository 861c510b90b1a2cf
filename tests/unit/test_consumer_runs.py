"""How a batch consumer groups a poll's messages into runs of one type, one statement each."""

from __future__ import annotations

from teleservices.shared.kafka.consumer import _runs
from teleservices.shared.messages.envelope import Envelope


def _envelope(kind: str, n: int) -> Envelope:
    return Envelope(type=kind, schema_version=1, payload={"n": n})


def _labels(runs: list[list[Envelope]]) -> list[list[tuple[str, int]]]:
    return [[(e.type, e.payload["n"]) for e in run] for run in runs]


def test_same_type_heads_of_every_partition_make_one_run() -> None:
    partition_a = [_envelope("created", 1), _envelope("created", 2), _envelope("changed", 3)]
    partition_b = [_envelope("created", 10), _envelope("changed", 11)]

    runs = _runs([partition_a, partition_b])

    assert _labels(runs) == [[("created", 1), ("created", 2), ("created", 10)], [("changed", 3), ("changed", 11)]]


def test_each_partition_keeps_its_order_when_the_types_alternate_differently() -> None:
    partition_a = [_envelope("created", 1), _envelope("changed", 2), _envelope("created", 3)]
    partition_b = [_envelope("changed", 10), _envelope("created", 11)]

    runs = _runs([partition_a, partition_b])

    flattened = [label for run in _labels(runs) for label in run]
    assert [n for _, n in flattened if n < 10] == [1, 2, 3]
    assert [n for _, n in flattened if n >= 10] == [10, 11]
    assert all(len({kind for kind, _ in run}) == 1 for run in _labels(runs))
    assert sorted(flattened) == sorted((e.type, e.payload["n"]) for e in partition_a + partition_b)


def test_empty_partitions_make_no_runs() -> None:
    assert _runs([[], []]) == []
