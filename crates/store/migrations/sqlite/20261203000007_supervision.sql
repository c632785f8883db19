-- Electronic supervision: the next day each open deadline's standing can
-- change (what a tick reads, through an index), the cards it issues with
-- their lifecycle, accountability records, in-app notices and the outbox
-- of alerts to other channels. Keep postgres/ in step with this file.

-- NULL: nothing to check (ended or paused). Running deadlines are checked
-- from the day they were written; the tick sets the next day.
ALTER TABLE object_deadlines ADD COLUMN next_check_on TEXT;
UPDATE object_deadlines SET next_check_on =
    (SELECT s.start_on FROM deadline_schedules s WHERE s.id = object_deadlines.schedule_id)
WHERE state = 'running';
CREATE INDEX object_deadlines_next_check ON object_deadlines(next_check_on)
    WHERE next_check_on IS NOT NULL;

ALTER TABLE staff ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- The supervisor's settings (core::supervision::SupervisionRules, JSON); no
-- row: the defaults.
CREATE TABLE supervision_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    rules      TEXT NOT NULL,
    updated_by BIGINT REFERENCES staff(id),
    updated_at BIGINT NOT NULL
);

-- Warnings and yellow and red cards. One per subject and condition: however
-- many ticks or nodes find a breach, it is issued once.
CREATE TABLE cards (
    id            INTEGER PRIMARY KEY,
    subject_kind  TEXT NOT NULL,            -- case | card
    subject_id    BIGINT NOT NULL,
    condition     TEXT NOT NULL,            -- core::supervision::Finding::condition
    deadline_kind TEXT NOT NULL,
    breach        TEXT NOT NULL,
    level         TEXT NOT NULL,            -- warning | yellow | red
    title         TEXT NOT NULL,
    case_id       BIGINT REFERENCES cases(id),
    department_id BIGINT NOT NULL REFERENCES departments(id),
    item_id       BIGINT REFERENCES service_items(id),
    handler_id    BIGINT REFERENCES staff(id),
    due_on        TEXT NOT NULL,
    found_on      TEXT NOT NULL,
    state         TEXT NOT NULL,
    appealed      INTEGER NOT NULL DEFAULT 0,
    issued_at     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    UNIQUE (subject_kind, subject_id, condition)
);
CREATE INDEX cards_by_issued ON cards(issued_at);
CREATE INDEX cards_by_department ON cards(department_id, issued_at);
CREATE INDEX cards_by_case ON cards(case_id);

CREATE TABLE card_events (
    id          INTEGER PRIMARY KEY,
    card_id     BIGINT NOT NULL REFERENCES cards(id),
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    actor_id    BIGINT REFERENCES staff(id),
    text        TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',  -- JSON array of file ids
    at          BIGINT NOT NULL
);
CREATE INDEX card_events_by_card ON card_events(card_id, id);

-- Accountability (R6.4): a person, their responsibility, the graded sanction
-- and its basis, linked to the card or case behind it.
CREATE TABLE accountability (
    id             INTEGER PRIMARY KEY,
    person_id      BIGINT NOT NULL REFERENCES staff(id),
    responsibility TEXT NOT NULL,           -- direct | leadership
    sanction       TEXT NOT NULL,
    basis          TEXT NOT NULL,
    card_id        BIGINT REFERENCES cards(id),
    case_id        BIGINT REFERENCES cases(id),
    decided_by     BIGINT REFERENCES staff(id),
    decided_at     BIGINT NOT NULL
);
CREATE INDEX accountability_by_person ON accountability(person_id);
CREATE INDEX accountability_by_card ON accountability(card_id);

-- In-app notices, written with the card.
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff(id),
    card_id    BIGINT REFERENCES cards(id),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notices_by_staff ON notices(staff_id, id);

-- Alerts to other channels, written in the same transaction as the card and
-- delivered at least once by the sender (message_id lets receivers drop a
-- repeat). A leased message is being sent by one node.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,           -- email | webhook | sms | wechat
    card_id         BIGINT REFERENCES cards(id),
    staff_id        BIGINT REFERENCES staff(id),
    address         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,           -- pending | sent | failed
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_by_card ON outbox(card_id);
