-- Deadlines that count alike share one computation. A schedule is a start
-- day, a limit and pauses on one region's calendar, with its due day; every
-- object's deadline points at one. A calendar change recomputes schedules
-- (thousands at most), not each object's row, and records each move once per
-- schedule; an object's deadline shows the moves of its schedule while it was
-- linked to it and open, and keeps the due day it ended with. The cases' own
-- copies of their due days go: due days live in one place. Keep postgres/ in step.

CREATE TABLE deadline_schedules (
    id        INTEGER PRIMARY KEY,
    region    TEXT NOT NULL,
    start_on  TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    unit      TEXT NOT NULL,
    pauses    TEXT NOT NULL,
    due_on    TEXT NOT NULL,
    UNIQUE (region, start_on, amount, unit, pauses)
);
CREATE INDEX deadline_schedules_by_due ON deadline_schedules(due_on);

INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on)
SELECT region, start_on, amount, unit, pauses, MAX(due_on)
FROM deadlines GROUP BY region, start_on, amount, unit, pauses;

CREATE TABLE object_deadlines (
    id          INTEGER PRIMARY KEY,
    object_kind TEXT NOT NULL,
    object_id   BIGINT NOT NULL,
    schedule_id BIGINT NOT NULL REFERENCES deadline_schedules(id),
    state       TEXT NOT NULL,          -- running | paused | ended
    -- Which schedule changes belong to this deadline: those after the last
    -- one recorded when it was linked to its schedule, up to the last one
    -- recorded when it ended.
    linked_after BIGINT NOT NULL,
    ended_after  BIGINT,
    final_due   TEXT,                   -- the due day it ended with (schedules move on)
    UNIQUE (object_kind, object_id)
);
CREATE INDEX object_deadlines_open ON object_deadlines(schedule_id) WHERE state <> 'ended';

INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, linked_after, ended_after, final_due)
SELECT d.object_kind, d.object_id, s.id, d.state, 0,
       CASE WHEN d.state = 'ended' THEN (SELECT COUNT(*) FROM deadline_changes) END,
       CASE WHEN d.state = 'ended' THEN d.due_on END
FROM deadlines d JOIN deadline_schedules s
  ON s.region = d.region AND s.start_on = d.start_on AND s.amount = d.amount
 AND s.unit = d.unit AND s.pauses = d.pauses;

CREATE TABLE schedule_changes (
    id          INTEGER PRIMARY KEY,
    schedule_id BIGINT NOT NULL REFERENCES deadline_schedules(id),
    old_due     TEXT NOT NULL,
    new_due     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX schedule_changes_by_schedule ON schedule_changes(schedule_id, id);

INSERT INTO schedule_changes (schedule_id, old_due, new_due, reason, changed_at)
SELECT DISTINCT s.id, c.old_due, c.new_due, c.reason, c.changed_at
FROM deadline_changes c
JOIN deadlines d ON d.id = c.deadline_id
JOIN deadline_schedules s
  ON s.region = d.region AND s.start_on = d.start_on AND s.amount = d.amount
 AND s.unit = d.unit AND s.pauses = d.pauses;

-- Cases accepted before deadlines were kept keep the due days recorded for
-- them: a schedule of 0 working days from that day, which no calendar change
-- moves.
INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on)
SELECT DISTINCT dep.region_code, c.promised_due, 0, 'working_days', '[]', c.promised_due
FROM cases c JOIN departments dep ON dep.id = c.department_id
WHERE c.promised_due IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM object_deadlines d WHERE d.object_kind = 'case_promised' AND d.object_id = c.id)
ON CONFLICT (region, start_on, amount, unit, pauses) DO NOTHING;
INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, linked_after, ended_after, final_due)
SELECT 'case_promised', c.id, s.id,
       CASE WHEN c.state IN ('handling', 'reviewing', 'approving', 'deciding') THEN 'running'
            WHEN c.state = 'suspended' THEN 'paused' ELSE 'ended' END,
       0,
       CASE WHEN c.state IN ('handling', 'reviewing', 'approving', 'deciding', 'suspended') THEN NULL
            ELSE 0 END,
       CASE WHEN c.state IN ('handling', 'reviewing', 'approving', 'deciding', 'suspended') THEN NULL
            ELSE c.promised_due END
FROM cases c JOIN departments dep ON dep.id = c.department_id
JOIN deadline_schedules s ON s.region = dep.region_code AND s.start_on = c.promised_due AND s.amount = 0
 AND s.unit = 'working_days' AND s.pauses = '[]'
WHERE c.promised_due IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM object_deadlines d WHERE d.object_kind = 'case_promised' AND d.object_id = c.id);
INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on)
SELECT DISTINCT dep.region_code, c.statutory_due, 0, 'working_days', '[]', c.statutory_due
FROM cases c JOIN departments dep ON dep.id = c.department_id
WHERE c.statutory_due IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM object_deadlines d WHERE d.object_kind = 'case_statutory' AND d.object_id = c.id)
ON CONFLICT (region, start_on, amount, unit, pauses) DO NOTHING;
INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, linked_after, ended_after, final_due)
SELECT 'case_statutory', c.id, s.id,
       CASE WHEN c.state IN ('handling', 'reviewing', 'approving', 'deciding') THEN 'running'
            WHEN c.state = 'suspended' THEN 'paused' ELSE 'ended' END,
       0,
       CASE WHEN c.state IN ('handling', 'reviewing', 'approving', 'deciding', 'suspended') THEN NULL
            ELSE 0 END,
       CASE WHEN c.state IN ('handling', 'reviewing', 'approving', 'deciding', 'suspended') THEN NULL
            ELSE c.statutory_due END
FROM cases c JOIN departments dep ON dep.id = c.department_id
JOIN deadline_schedules s ON s.region = dep.region_code AND s.start_on = c.statutory_due AND s.amount = 0
 AND s.unit = 'working_days' AND s.pauses = '[]'
WHERE c.statutory_due IS NOT NULL AND NOT EXISTS
  (SELECT 1 FROM object_deadlines d WHERE d.object_kind = 'case_statutory' AND d.object_id = c.id);

DROP TABLE deadline_changes;
DROP TABLE deadlines;
ALTER TABLE cases DROP COLUMN promised_due;
ALTER TABLE cases DROP COLUMN statutory_due;
