-- What the platform holds from SIECLE, per establishment, as of the last applied import; and every run.

CREATE TABLE establishments (
    uai             text PRIMARY KEY,
    name            text NOT NULL,
    academy         text NOT NULL,
    annee_scolaire  int,
    last_horodatage timestamp,
    last_run_id     uuid
);

CREATE TABLE eleves (
    uai            text  NOT NULL,
    eleve_id       text  NOT NULL,
    ine            text,
    nom            text  NOT NULL,
    prenom         text  NOT NULL,
    date_naissance date,
    data           jsonb NOT NULL,
    PRIMARY KEY (uai, eleve_id)
);
CREATE INDEX eleves_ine ON eleves (ine) WHERE ine IS NOT NULL;
CREATE INDEX eleves_identity ON eleves (lower(nom), lower(prenom), date_naissance);

CREATE TABLE personnes (
    uai         text  NOT NULL,
    personne_id text  NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (uai, personne_id)
);

CREATE TABLE liens (
    uai         text NOT NULL,
    eleve_id    text NOT NULL,
    personne_id text NOT NULL,
    niveau      int,
    PRIMARY KEY (uai, eleve_id, personne_id)
);

-- Pupils who left an establishment: where an arriving pupil certainly (same INE) or maybe comes from.
CREATE TABLE departures (
    uai            text        NOT NULL,
    eleve_id       text        NOT NULL,
    ine            text,
    nom            text        NOT NULL,
    prenom         text        NOT NULL,
    date_naissance date,
    left_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (uai, eleve_id)
);
CREATE INDEX departures_ine ON departures (ine) WHERE ine IS NOT NULL;
CREATE INDEX departures_identity ON departures (lower(nom), lower(prenom), date_naissance);

CREATE TABLE runs (
    id             uuid PRIMARY KEY,
    uai            text,
    status         text        NOT NULL,
    dry_run        boolean     NOT NULL,
    forced         boolean     NOT NULL,
    annee_scolaire int,
    horodatage     timestamp,
    report         jsonb       NOT NULL,
    actor          text        NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_uai ON runs (uai, started_at DESC);

-- Arrivals that look like a pupil of another establishment without a certain match: staff decide.
CREATE TABLE continuity_reviews (
    id                 bigserial PRIMARY KEY,
    uai                text        NOT NULL,
    eleve_id           text        NOT NULL,
    candidate_uai      text        NOT NULL,
    candidate_eleve_id text        NOT NULL,
    reason             text        NOT NULL,
    status             text        NOT NULL DEFAULT 'à examiner',
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (uai, eleve_id, candidate_uai, candidate_eleve_id)
);
