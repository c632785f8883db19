-- The audit head follows each appended entry by itself: the append is then one
-- statement to take the next sequence number (which locks the head) and one to
-- insert the entry, instead of three. Fewer round trips per transition.
-- Keep sqlite/ in step with this file.
CREATE FUNCTION audit_head_follows() RETURNS trigger AS $$
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_head_follows();
