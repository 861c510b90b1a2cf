-- Who downloaded which letters, when (the PDFs hold temporary passwords).
CREATE TABLE document_downloads (
    id          bigserial PRIMARY KEY,
    campaign_id uuid        NOT NULL,
    division    text        NOT NULL,
    uai         text        NOT NULL,
    actor_id    text        NOT NULL,
    actor_name  text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
