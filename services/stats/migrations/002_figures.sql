-- Each establishment's line of the academy view, recomputed shortly after its events (dirty marks).
CREATE TABLE figures (
    uai                 text PRIMARY KEY,
    eleves              int NOT NULL,
    non_notifies        int NOT NULL,
    notifies            int NOT NULL,
    utilises            int NOT NULL,
    comptes             int NOT NULL,
    r_non_notifies      int NOT NULL,
    r_notifies          int NOT NULL,
    r_utilises          int NOT NULL,
    eleves_resp_utilise int NOT NULL,
    computed_at         timestamptz NOT NULL DEFAULT now()
);

-- Establishments whose figures changed since they were last computed (marked in the handler's transaction).
CREATE TABLE dirty (
    uai       text PRIMARY KEY,
    marked_at timestamptz NOT NULL DEFAULT now()
);

-- Each attachment carries its account's state (copied when either changes), so a synthesis reads one table.
ALTER TABLE rattachements ADD COLUMN state text, ADD COLUMN since timestamptz;
