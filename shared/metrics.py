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

# Scale and delivery (issue 9): the Grafana dashboard (deploy/grafana/teleservices.json) reads them.
CONSUMER_LAG = Gauge("kafka_consumer_lag_messages", "Messages between a group's position and a partition's end",
                     ["consumer", "topic", "partition"])
ASSIGNED_PARTITIONS = Gauge("kafka_consumer_assigned_partitions",
                            "Partitions this process's consumer of a group holds now (0 while the group rebalances)",
                            ["consumer"])
JOBS_IN_FLIGHT = Gauge("notifier_jobs_in_flight", "Campaign jobs this notifier worker is delivering now",
                       ["consumer"])  # labelled: only notifier processes expose it (one series per worker)
EMAILS = Counter("notifier_emails_total", "Emails accepted by the SMTP server (sent) or given up (failed)",
                 ["outcome"])
PDF_LETTERS = Counter("notifier_pdf_letters_total", "Paper letters rendered into PDF documents")
PDF_SLOT_WAIT = Counter("notifier_pdf_render_slot_wait_seconds_total",
                        "Time jobs waited for a render slot (every core of the host already rendering)")
PDF_SECONDS = Histogram("notifier_pdf_render_duration_seconds", "Time to render one job's PDF document",
                        buckets=(0.1, 0.5, 1, 2.5, 5, 10, 20, 40))
CAMPAIGN_LETTERS = Counter("campaign_letters_total", "Campaign letters by stage: selected, delivered, failed",
                           ["stage"])
CAMPAIGNS_RUNNING = Gauge("campaigns_running", "Campaigns with letters not delivered or failed yet")
CAMPAIGN_LETTERS_PENDING = Gauge("campaign_letters_pending", "Letters of running campaigns not settled yet")
