"""Code common to every Téléservices service: settings, messages, Kafka, PostgreSQL, logging, security."""
