-- The audit head follows each appended entry in sequence number as well as
-- hash, so a case transition on SQLite appends with one guarded insert
-- instead of an update of the head and an insert. Keep postgres/ in step.
DROP TRIGGER audit_head_follows;
CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
