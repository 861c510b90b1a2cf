-- Free emails to many (« Écrire à plusieurs responsables », guide §3.1 point 7) are followed like campaigns.
ALTER TABLE campaigns ADD COLUMN kind text NOT NULL DEFAULT 'notification'
    CHECK (kind IN ('notification', 'courriel_libre'));
-- What staff wrote, kept for the relaunch of those it could not reach.
ALTER TABLE campaigns ADD COLUMN message jsonb;
-- When the campaign's stuck jobs were last sent again (services/accounts/redrive.py).
ALTER TABLE campaigns ADD COLUMN redriven_at timestamptz;
-- The letters still awaiting their result, for progress, the stuck-campaign watcher and its gauges.
CREATE INDEX campaign_items_pending ON campaign_items (campaign_id) WHERE status = 'en_attente';
-- When a single letter (sent from an account's page) without result was last sent again.
ALTER TABLE notifications ADD COLUMN redriven_at timestamptz;
CREATE INDEX notifications_pending ON notifications (requested_at) WHERE status = 'pending';
