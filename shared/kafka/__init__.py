"""Kafka on aiokafka: producer, topic creation, transactional outbox relay, idempotent consumers."""
