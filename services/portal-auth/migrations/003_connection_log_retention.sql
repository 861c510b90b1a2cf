-- The connection log is purged by age (housekeeping, TELESERVICES_RETENTION_CONNECTION_LOG_DAYS).
CREATE INDEX connection_log_at ON connection_log (at);
