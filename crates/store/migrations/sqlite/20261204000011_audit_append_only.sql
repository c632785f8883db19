-- The audit log is append-only: the database itself refuses to change or
-- remove an entry. Someone with the rights to drop these triggers can still
-- edit the file by hand; `onewindow audit verify` then names the first entry
-- the edit broke. Keep postgres/ in step.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be removed');
END;
