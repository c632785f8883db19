-- The audit head follows each appended entry in sequence number as well as
-- hash, so a case transition on SQLite appends with one guarded insert
-- instead of an update of the head and an insert. Kept in step with sqlite/.
CREATE OR REPLACE FUNCTION audit_head_follows() RETURNS trigger AS $$
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
