"""The Grafana dashboard (deploy/grafana/teleservices.json) queries only metrics, and labels, that the code
defines, and shows what academy operators watch during a rush."""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "teleservices.json"
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "topk", "bottomk", "quantile", "count_values", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "clamp_min", "clamp_max",
    "abs", "ceil", "floor", "round", "vector", "scalar", "time", "label_replace", "absent", "changes", "resets",
    "sum_over_time", "avg_over_time", "max_over_time", "min_over_time", "label_values", "inf", "nan",
}
# Labels Prometheus adds when it scrapes, and a histogram's bucket bound.
ADDED_LABELS = {"le", "job", "instance", "pod", "namespace", "container"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# A counter is exposed as name_total, a histogram as name_bucket/_sum/_count: never under its bare name.
EXPOSED_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def code_modules() -> list[str]:
    """The modules of shared/ and services/ that define Prometheus metrics."""
    modules = []
    for path in [*(ROOT / "shared").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        if "prometheus_client" not in path.read_text(encoding="utf-8"):
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[0] == "services":
            parts = parts[1:]
        parts[0] = parts[0].replace("-", "_")
        modules.append(".".join(["teleservices", *parts]))
    return modules


@cache
def defined_metrics() -> dict[str, set[str]]:
    """Every exposed sample name (…_total, …_bucket, …) defined by the code -> its label names."""
    for module in code_modules():
        importlib.import_module(module)
    # prometheus-client (pinned) keeps each exposed name's collector here; no public API lists label names.
    collectors = REGISTRY._names_to_collectors
    return {name: set(getattr(collector, "_labelnames", ())) for name, collector in collectors.items()
            if name.endswith(EXPOSED_SUFFIXES.get(getattr(collector, "_type", ""), ""))}


@cache
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panels() -> list[dict[str, Any]]:
    flat = []
    for panel in dashboard()["panels"]:
        flat.append(panel)
        flat.extend(panel.get("panels", []))
    return flat


def queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target and every query variable."""
    found = [(p["title"], t["expr"]) for p in panels() for t in p.get("targets", [])]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            found.append((f"${variable['name']}", query["query"] if isinstance(query, dict) else query))
    return found


def parse(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """Metric names -> labels their selectors use, and the labels of by()/without() clauses."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\$\{?\w+\}?", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    metrics: dict[str, set[str]] = {}
    for match in SELECTOR.finditer(text):
        labels = {m.group(1) for m in re.finditer(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", match.group(2))}
        if match.group(1):
            metrics.setdefault(match.group(1), set()).update(labels)
    text = SELECTOR.sub(lambda m: f" {m.group(1) or ''} ", text)
    grouping = {label.strip() for m in GROUPING.finditer(text) for label in m.group(1).split(",") if label.strip()}
    text = GROUPING.sub(" ", text)
    if text.lstrip().startswith("label_values("):
        inner = text.split("(", 1)[1].rsplit(")", 1)[0].split(",")
        if len(inner) == 2:
            grouping.add(inner[1].strip())
            text = inner[0]
    for word in IDENTIFIER.findall(text):
        if word.lower() not in PROMQL_WORDS:
            metrics.setdefault(word, set())
    return metrics, grouping


def test_the_parser_finds_metrics_and_labels() -> None:
    metrics, grouping = parse(
        'histogram_quantile(0.99, sum by (service, le) (rate(x_bucket{service=~"$service", a!="b"}[$__rate_interval])))'
        ' / sum(increase(y_total[1h])) > 0')
    assert metrics == {"x_bucket": {"service", "a"}, "y_total": set()}
    assert grouping == {"service", "le"}
    assert parse("label_values(http_requests_total, service)") == ({"http_requests_total": set()}, {"service"})


def test_the_dashboard_is_importable_grafana_json() -> None:
    data = dashboard()
    assert data["uid"] and data["title"] and data["schemaVersion"] >= 36
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in data["templating"]["list"]}
    assert "datasource" in variables, "the Prometheus source is chosen at import, not hard-wired"
    for panel in panels():
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], f"{panel['title']}: no query"


def test_every_metric_the_dashboard_queries_is_defined_in_the_code() -> None:
    defined = defined_metrics()
    assert "http_requests_total" in defined, "the code's metrics were not found"
    for title, expr in queries():
        metrics, grouping = parse(expr)
        assert metrics, f"{title}: no metric in {expr}"
        for metric, labels in metrics.items():
            assert metric in defined, f"{title}: {metric} is defined nowhere in shared/ or services/"
            unknown = labels - defined[metric] - ADDED_LABELS
            assert not unknown, f"{title}: {metric} has no label {unknown}"
        known = set().union(*(defined[m] for m in metrics)) | ADDED_LABELS
        assert grouping <= known, f"{title}: grouping by {grouping - known}, labels of none of {set(metrics)}"


def test_the_dashboard_shows_what_operators_watch() -> None:
    queried = {metric for _, expr in queries() for metric in parse(expr)[0]}
    for needed in (
        "http_requests_total", "http_request_duration_seconds_bucket",  # requests and latencies per service
        "kafka_consumer_lag_messages", "message_handler_duration_seconds_bucket", "messages_consumed_total",
        "notifier_jobs_in_flight", "notifier_emails_total", "notifier_pdf_letters_total",
        "campaign_letters_total", "campaign_letters_pending", "outbox_pending_messages",
    ):
        assert needed in queried, f"the dashboard lacks {needed}"
    dead = [expr for _, expr in queries() if 'outcome="dead_lettered"' in expr]
    assert dead, "the dashboard lacks dead letters"
