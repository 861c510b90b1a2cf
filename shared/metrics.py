"""Prometheus metrics common to every service (served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
MESSAGES_CONSUMED = Counter("messages_consumed_total", "Messages handled by a consumer group",
                            ["consumer", "type", "outcome"])
HANDLER_SECONDS = Histogram("message_handler_duration_seconds", "Time to handle one message", ["consumer"],
                            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30))
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Messages relayed from the outbox to Kafka", ["schema"])
OUTBOX_PENDING = Gauge("outbox_pending_messages", "Outbox messages not yet published", ["schema"])
