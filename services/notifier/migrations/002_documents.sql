-- The PDFs of paper letters, one per campaign job; kept for a retention period, downloads audited.
CREATE TABLE documents (
    id          uuid PRIMARY KEY,
    campaign_id uuid        NOT NULL,
    uai         text        NOT NULL,
    division    text        NOT NULL,
    chunk       int         NOT NULL,
    content     bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_campaign ON documents (campaign_id, division, chunk);
