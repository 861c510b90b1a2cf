-- The accounts service's state: academies, establishments and their settings, SIECLE people, accounts.

CREATE TABLE academies (
    code               text PRIMARY KEY,
    grouping_enabled   boolean NOT NULL DEFAULT true,
    mandatory_services text[]  NOT NULL DEFAULT '{}',
    academy_services   jsonb   NOT NULL DEFAULT '[]',
    ent_links          jsonb   NOT NULL DEFAULT '[]',
    tipi_reference     jsonb   NOT NULL DEFAULT '{}',
    informations       text    NOT NULL DEFAULT ''
);

CREATE TABLE establishments (
    uai            text PRIMARY KEY,
    name           text        NOT NULL,
    type           text,
    academy        text        NOT NULL REFERENCES academies (code),
    town           text,
    address_lines  text[]      NOT NULL DEFAULT '{}',
    phone          text,
    emails         text[]      NOT NULL DEFAULT '{}',
    chef_civilite  text,
    chef_nom       text,
    annee_scolaire int,
    modules        text[]      NOT NULL DEFAULT '{}',
    perimetres     text[]      NOT NULL DEFAULT '{}',
    open_services  text[]      NOT NULL DEFAULT '{}',
    settings       jsonb       NOT NULL DEFAULT '{}',
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

-- SIECLE people, as the sync service reported them (only the fields the platform uses).
CREATE TABLE eleves (
    uai            text NOT NULL REFERENCES establishments (uai),
    eleve_id       text NOT NULL,
    ine            text,
    nom            text NOT NULL,
    prenom         text NOT NULL,
    date_naissance date,
    division       text,
    groupes        text[] NOT NULL DEFAULT '{}',
    code_mef       text,
    libelle_mef    text,
    code_regime    text,
    email          text,
    left_at        timestamptz,
    PRIMARY KEY (uai, eleve_id)
);
CREATE INDEX eleves_division ON eleves (uai, division);
CREATE INDEX eleves_ine ON eleves (ine) WHERE ine IS NOT NULL;

CREATE TABLE personnes (
    uai           text NOT NULL REFERENCES establishments (uai),
    personne_id   text NOT NULL,
    civilite      text,
    nom           text NOT NULL,
    prenom        text NOT NULL,
    email         text,
    address_lines text[] NOT NULL DEFAULT '{}',
    telephones    text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (uai, personne_id)
);

CREATE TABLE liens (
    uai                   text NOT NULL,
    eleve_id              text NOT NULL,
    personne_id           text NOT NULL,
    niveau_responsabilite int,
    PRIMARY KEY (uai, eleve_id, personne_id)
);

CREATE TABLE accounts (
    id                   uuid PRIMARY KEY,
    uai                  text        NOT NULL REFERENCES establishments (uai),
    population           text        NOT NULL CHECK (population IN ('eleve', 'responsable')),
    identifiant          text        NOT NULL UNIQUE REFERENCES identifiers (identifiant),
    state                text        NOT NULL,
    email                text,
    email_validated      boolean     NOT NULL DEFAULT false,
    sealed_temp_password text,
    notified_at          timestamptz,
    notification_channel text,
    last_access_at       timestamptz,
    continuity           boolean     NOT NULL DEFAULT false,
    closed_at            timestamptz,
    version              int         NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now()
);

-- Which pupils an account gives access to, in which establishment (grouping adds rows; a departure detaches).
CREATE TABLE rattachements (
    account_id  uuid        NOT NULL REFERENCES accounts (id),
    uai         text        NOT NULL REFERENCES establishments (uai),
    eleve_id    text        NOT NULL,
    personne_id text,
    population  text        NOT NULL,
    detached_at timestamptz,
    PRIMARY KEY (account_id, uai, eleve_id)
);
CREATE UNIQUE INDEX rattachements_one_open_account
    ON rattachements (uai, eleve_id, population, coalesce(personne_id, ''))
    WHERE detached_at IS NULL;
CREATE INDEX rattachements_uai ON rattachements (uai) WHERE detached_at IS NULL;

CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    account_id      uuid        NOT NULL REFERENCES accounts (id),
    channel         text        NOT NULL,
    variant         text        NOT NULL,
    sealed_password text,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    reason          text,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz
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

-- Every staff action: who, when, what, on whom, from which establishment.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    text        NOT NULL,
    actor_name  text        NOT NULL,
    actor_role  text        NOT NULL,
    uai         text,
    action      text        NOT NULL,
    account_id  uuid,
    details     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_uai ON audit_log (uai, at);
CREATE INDEX audit_log_account ON audit_log (account_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);

-- A new account made by staff replaces the old one; the old one closes at the new one's first connection.
CREATE TABLE replacements (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    replaced_id uuid NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (account_id, replaced_id)
);
