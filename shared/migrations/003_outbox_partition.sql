-- A message may name its partition (campaign jobs spread round-robin over the notifier workers); NULL: by key.
ALTER TABLE outbox ADD COLUMN partition int;
