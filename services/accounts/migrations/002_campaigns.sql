-- Mass notification campaigns (guide §3.1, §4.1) and free emails to many: one staff action, followed live.
CREATE TABLE campaigns (
    id            uuid PRIMARY KEY,
    uai           text        NOT NULL REFERENCES establishments (uai),
    population    text        NOT NULL,
    mode          text        NOT NULL,
    reset_utilise boolean     NOT NULL DEFAULT false,
    selection     jsonb       NOT NULL,
    actor_id      text        NOT NULL,
    relaunch_of   uuid REFERENCES campaigns (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_uai ON campaigns (uai, created_at DESC);

CREATE TABLE campaign_items (
    campaign_id     uuid        NOT NULL REFERENCES campaigns (id),
    account_id      uuid        NOT NULL REFERENCES accounts (id),
    notification_id uuid        UNIQUE,
    division        text,
    channel         text,
    status          text        NOT NULL CHECK (status IN ('en_attente', 'envoye', 'imprime', 'echec')),
    reason          text,
    warning         text,
    settled_at      timestamptz,
    PRIMARY KEY (campaign_id, account_id)
);
CREATE INDEX campaign_items_progress ON campaign_items (campaign_id, status);
