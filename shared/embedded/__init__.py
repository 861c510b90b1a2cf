"""Embedded infrastructure (Kafka-protocol brokers) for tests and local development."""
