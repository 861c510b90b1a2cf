"""Notifier service: letters by email and PDF, executed as jobs fanned out over Kafka."""
