"""Every Kafka message: one envelope, typed payloads, the topic list."""
