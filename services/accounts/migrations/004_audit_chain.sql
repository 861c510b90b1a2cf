-- The staff audit trail becomes tamper-evident: one hash chain per establishment (the academy's own actions,
-- without an establishment, form the chain '*'). Each entry commits to the previous one of its chain:
--   hash = SHA-256(UTF-8 of the canonical form), canonical form = the JSON array
--   [chain, seq, prev_hash, id, at (UTC, microseconds), actor_id, actor_name, actor_role, uai, action,
--    account_id, details (jsonb text)]
-- (teleservices.accounts.audit.canonical builds the same text in Python to verify).
-- Entries are sealed at COMMIT by a deferred trigger, whatever path inserted them (one action or a bulk), so the
-- chain head of the establishment is the last lock a transaction takes: parallel writers of one establishment
-- queue on it for an instant, writers of different establishments never meet, and no lock-order deadlock can
-- arise with the account locks taken earlier in the transaction.

ALTER TABLE audit_log
    ADD COLUMN chain     text,
    ADD COLUMN seq       bigint,
    ADD COLUMN prev_hash text,
    ADD COLUMN hash      text;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The last sealed entry of each chain: a deletion at the end of a chain shows as a head ahead of the entries.
CREATE TABLE audit_chain_heads (
    chain      text PRIMARY KEY,
    seq        bigint      NOT NULL,
    hash       text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION audit_canonical(e audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_array(e.chain, e.seq, e.prev_hash, e.id,
                            to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                            e.actor_id, e.actor_name, e.actor_role, e.uai, e.action, e.account_id::text,
                            e.details::text)::text
$$;

CREATE FUNCTION audit_seal_entry(entry_id bigint) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    entry audit_log;
    head  audit_chain_heads;
BEGIN
    SELECT * INTO entry FROM audit_log WHERE id = entry_id;
    IF entry.hash IS NOT NULL THEN
        RETURN;
    END IF;
    entry.chain := coalesce(entry.uai, '*');
    INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (entry.chain, 0, repeat('0', 64))
        ON CONFLICT (chain) DO NOTHING;
    SELECT * INTO head FROM audit_chain_heads WHERE chain = entry.chain FOR UPDATE;
    entry.seq := head.seq + 1;
    entry.prev_hash := head.hash;
    entry.hash := encode(sha256(convert_to(audit_canonical(entry), 'UTF8')), 'hex');
    PERFORM set_config('teleservices.audit_sealing', 'on', true);
    UPDATE audit_log SET chain = entry.chain, seq = entry.seq, prev_hash = entry.prev_hash, hash = entry.hash
        WHERE id = entry_id;
    PERFORM set_config('teleservices.audit_sealing', 'off', true);
    UPDATE audit_chain_heads SET seq = entry.seq, hash = entry.hash, updated_at = now() WHERE chain = entry.chain;
END
$$;

CREATE FUNCTION audit_seal() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM audit_seal_entry(NEW.id);
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit_log_seal AFTER INSERT ON audit_log
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_seal();

-- Append-only for the application: only the sealing may fill in an entry's chain fields, once.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL AND current_setting('teleservices.audit_sealing', true) = 'on' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The entries written before this migration join their chains in the order they were written.
DO $$
DECLARE
    entry_id bigint;
BEGIN
    FOR entry_id IN SELECT id FROM audit_log WHERE hash IS NULL ORDER BY id LOOP
        PERFORM audit_seal_entry(entry_id);
    END LOOP;
END
$$;
