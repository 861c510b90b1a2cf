-- Local staff accounts (embedded default and demo); production signs staff in through the academy's OIDC.
CREATE TABLE staff_users (
    login         text PRIMARY KEY,
    display_name  text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('chef', 'delegue', 'operateur_academique')),
    academy       text,
    uais          text[]      NOT NULL DEFAULT '{}',
    menus         text[]      NOT NULL DEFAULT '{}',
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
