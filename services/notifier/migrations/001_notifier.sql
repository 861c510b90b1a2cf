-- One row per notification the notifier delivered or gave up on.
CREATE TABLE deliveries (
    notification_id uuid PRIMARY KEY,
    account_id      uuid        NOT NULL,
    uai             text        NOT NULL,
    channel         text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('delivered', 'failed')),
    message_id      text,
    reason          text,
    settled_at      timestamptz NOT NULL DEFAULT now()
);
