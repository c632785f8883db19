-- The audit head follows each appended entry by itself: the append is then one
-- statement to take the next sequence number (which locks the head) and one to
-- insert the entry, instead of three. Fewer round trips per transition.
-- Keep postgres/ in step with this file.
CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq;
END;
