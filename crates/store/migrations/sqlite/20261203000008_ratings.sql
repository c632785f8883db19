-- The applicant's rating of a finished case (好差评): one per case. The
-- rating is also a case event ('rate'), so it shows on the timeline and the
-- supervision rules read it (a poor grade earns a card for the department).
-- Keep postgres/ in step with this file.
CREATE TABLE ratings (
    case_id  INTEGER PRIMARY KEY REFERENCES cases(id),
    score    BIGINT NOT NULL,
    comment  TEXT NOT NULL,
    rated_at BIGINT NOT NULL
);
CREATE INDEX ratings_by_time ON ratings(rated_at);
