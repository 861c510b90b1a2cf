-- Credentials of the families' portal, fed by accounts.events; the chosen password hash is the portal's own.
CREATE TABLE credentials (
    account_id          uuid PRIMARY KEY,
    identifiant         text UNIQUE,
    population          text,
    uai                 text,
    state               text        NOT NULL DEFAULT 'Non notifié',
    state_changed_at    timestamptz NOT NULL DEFAULT '-infinity',
    temp_password_hash  text,
    password_hash       text,
    email               text,
    email_validated     boolean     NOT NULL DEFAULT false
);
CREATE INDEX credentials_email ON credentials (lower(email)) WHERE email_validated;

-- Server-side sessions: the cookie holds a random token, the table its SHA-256.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    account_id   uuid        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('premiere_connexion', 'normale', 'simulation')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- One-time links: those the portal issued (with the address they validate) and every link used.
CREATE TABLE links (
    link_id     text PRIMARY KEY,
    account_id  uuid        NOT NULL,
    purpose     text        NOT NULL,
    email       text,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz
);

-- Throttling counters by identifier ('id:…') and client address ('ip:…').
CREATE TABLE throttle (
    key            text PRIMARY KEY,
    failures       int         NOT NULL DEFAULT 0,
    window_start   timestamptz NOT NULL DEFAULT now(),
    last_failure   timestamptz NOT NULL DEFAULT now(),
    locked_until   timestamptz
);

-- Connections (real, simulated, first connection), for the last connection date and the audit.
CREATE TABLE connection_log (
    id          bigserial PRIMARY KEY,
    account_id  uuid        NOT NULL,
    kind        text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connection_log_account ON connection_log (account_id, at);
