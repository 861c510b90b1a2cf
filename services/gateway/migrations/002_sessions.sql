-- Server-side staff sessions: the cookie carries a random id, the table keeps its SHA-256 only.
CREATE TABLE staff_sessions (
    id_hash      bytea       PRIMARY KEY,
    principal    jsonb,
    csrf         text        NOT NULL,
    data         jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);
