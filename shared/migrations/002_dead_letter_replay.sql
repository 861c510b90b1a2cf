-- An operator may put a dead letter back on its topic once its cause is fixed (operations page, /admin API).
ALTER TABLE dead_letters ADD COLUMN replayed_at timestamptz;
