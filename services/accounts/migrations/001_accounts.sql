CREATE TABLE establishments (
    uai            text PRIMARY KEY,
    name           text        NOT NULL,
    academy        text        NOT NULL,
    town           text,
    activated_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Identifiers are never reused: a row stays here after its account is gone.
CREATE TABLE identifiers (
    identifiant text PRIMARY KEY,
    academy     text NOT NULL,
    base        text NOT NULL,
    number      int  NOT NULL CHECK (number > 0),
    UNIQUE (academy, base, number)
);

CREATE TABLE accounts (
    id                    uuid PRIMARY KEY,
    uai                   text        NOT NULL REFERENCES establishments (uai),
    population            text        NOT NULL CHECK (population IN ('eleve', 'responsable')),
    identifiant           text        NOT NULL UNIQUE REFERENCES identifiers (identifiant),
    state                 text        NOT NULL,
    civilite              text,
    nom                   text        NOT NULL,
    prenom                text        NOT NULL,
    email                 text,
    address_lines         text[]      NOT NULL DEFAULT '{}',
    sealed_temp_password  text,
    notified_at           timestamptz,
    notification_channel  text,
    version               int         NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_uai ON accounts (uai);

CREATE TABLE notifications (
    id             uuid PRIMARY KEY,
    account_id     uuid        NOT NULL REFERENCES accounts (id),
    channel        text        NOT NULL,
    variant        text        NOT NULL,
    sealed_password text,
    status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    reason         text,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    settled_at     timestamptz
);
CREATE INDEX notifications_account ON notifications (account_id);

CREATE TABLE account_history (
    id             bigserial PRIMARY KEY,
    account_id     uuid        NOT NULL REFERENCES accounts (id),
    previous_state text        NOT NULL,
    state          text        NOT NULL,
    cause          text        NOT NULL,
    actor          text        NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX account_history_account ON account_history (account_id, at);
