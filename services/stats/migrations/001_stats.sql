-- Read models of the stats service, fed only by events (accounts, sync, portal, notifier).
-- Each row keeps the time of the event that set it: a late or repeated event never overwrites a newer fact,
-- so the figures do not depend on the order in which the topics are read.

CREATE TABLE establishments (
    uai            text PRIMARY KEY,
    name           text,
    academy        text,
    annee_scolaire int,          -- the school year of the establishment's last applied import
    annee_version  timestamptz
);
CREATE INDEX establishments_academy ON establishments (academy);

-- SIECLE pupils as sync reported them (no names: the statistics need MEF and division only).
CREATE TABLE eleves (
    uai         text        NOT NULL,
    eleve_id    text        NOT NULL,
    division    text,
    code_mef    text,
    libelle_mef text,
    present     boolean     NOT NULL,
    version     timestamptz NOT NULL,
    PRIMARY KEY (uai, eleve_id)
);
CREATE INDEX eleves_present ON eleves (uai) WHERE present;

CREATE TABLE accounts (
    account_id     uuid PRIMARY KEY,
    uai            text,
    population     text,
    state          text        NOT NULL DEFAULT 'Non notifié',
    state_at       timestamptz,  -- when the account entered `state` (NULL: never changed since its creation)
    state_version  timestamptz,  -- envelope time of that change, to order two changes of the same instant
    notified_at    timestamptz,  -- last delivered notification (Notifié, or a temporary password issued)
    last_access_at timestamptz
);

-- Which pupils each account gives access to (accounts.AccountAttached / AccountDetached).
CREATE TABLE rattachements (
    account_id  uuid        NOT NULL,
    uai         text        NOT NULL,
    eleve_id    text        NOT NULL,
    personne_id text,
    population  text        NOT NULL,
    attached    boolean     NOT NULL,
    version     timestamptz NOT NULL,
    PRIMARY KEY (account_id, uai, eleve_id)
);
CREATE INDEX rattachements_eleve ON rattachements (uai, eleve_id) WHERE attached;

-- portal.ServiceOpened, counted per account, service and month (each event counted once: processed ids).
CREATE TABLE accesses (
    uai        text NOT NULL,
    account_id uuid NOT NULL,
    service    text NOT NULL,
    month      date NOT NULL,
    count      int  NOT NULL,
    PRIMARY KEY (uai, account_id, service, month)
);

-- The letters of each campaign (notifier.NotifyBatch), to file delivery results by campaign.
CREATE TABLE letters (
    notification_id uuid PRIMARY KEY,
    campaign_id     uuid        NOT NULL,
    uai             text        NOT NULL,
    division        text,
    channel         text        NOT NULL,
    launched_at     timestamptz NOT NULL
);
CREATE INDEX letters_campaign ON letters (uai, campaign_id);

-- notifier.NotificationDelivered / NotificationFailed; a delivery outranks a failure of the same letter.
CREATE TABLE deliveries (
    notification_id uuid PRIMARY KEY,
    account_id      uuid NOT NULL,
    uai             text,
    channel         text NOT NULL,
    delivered       boolean NOT NULL,
    reason          text
);
CREATE INDEX deliveries_uai ON deliveries (uai);

-- The consumer group reading the topics; a new schema (a rebuild) reads them again from the start.
CREATE TABLE consumer_generation (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation text NOT NULL DEFAULT to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS')
);
INSERT INTO consumer_generation DEFAULT VALUES;
