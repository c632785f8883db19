-- The clock engine: every deadline of every supervised object in one table,
-- local calendar overrides, and the record of deadlines moved by a calendar
-- change. Keep postgres/ in step with this file.

-- What an accepted case's deadlines are computed from (core::case::CaseClock, JSON).
ALTER TABLE cases ADD COLUMN clock TEXT;

-- Local changes to the working-day calendar (a closure day, an extra working
-- day), per region ('' = every region). Revoked overrides stay as a record.
CREATE TABLE calendar_overrides (
    id            INTEGER PRIMARY KEY,
    region        TEXT NOT NULL DEFAULT '',
    day           TEXT NOT NULL,
    kind          TEXT NOT NULL,            -- closure | workday
    reason        TEXT NOT NULL,
    created_by    BIGINT REFERENCES staff(id),
    created_at    BIGINT NOT NULL,
    revoked_by    BIGINT REFERENCES staff(id),
    revoked_at    BIGINT,
    revoke_reason TEXT
);
CREATE UNIQUE INDEX calendar_overrides_in_force ON calendar_overrides(region, day) WHERE revoked_at IS NULL;

-- One row per deadline of an object (core::clock::TrackedDeadline).
CREATE TABLE deadlines (
    id          INTEGER PRIMARY KEY,
    object_kind TEXT NOT NULL,              -- case_acceptance | case_promised | ...
    object_id   BIGINT NOT NULL,
    region      TEXT NOT NULL,
    start_on    TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    unit        TEXT NOT NULL,              -- working_days | natural_days
    pauses      TEXT NOT NULL DEFAULT '[]', -- JSON of core::clock::Pause
    due_on      TEXT NOT NULL,
    state       TEXT NOT NULL,              -- running | paused | ended
    updated_at  BIGINT NOT NULL,
    UNIQUE (object_kind, object_id)
);
-- Open deadlines by due day: what a calendar change touches, what supervision watches.
CREATE INDEX deadlines_open_by_due ON deadlines(due_on) WHERE state <> 'ended';

-- A deadline moved by a calendar change: old due day -> new due day, and why.
CREATE TABLE deadline_changes (
    id          INTEGER PRIMARY KEY,
    deadline_id BIGINT NOT NULL REFERENCES deadlines(id),
    old_due     TEXT NOT NULL,
    new_due     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX deadline_changes_by_deadline ON deadline_changes(deadline_id, id);
