-- The initial schema. Conventions (both backends):
-- * instants are BIGINT microseconds since the Unix epoch, UTC (`*_at`);
-- * civil dates in Asia/Shanghai are TEXT 'YYYY-MM-DD' (`*_on`, `*_due`), which sort;
-- * flags are INTEGER 0/1, since sqlx's Any driver decodes no BOOLEAN on SQLite;
-- * structured values with no query of their own (an item's guide, a case's
--   form) are JSON text.
-- Keep postgres/ in step with this file: same tables, same columns.

CREATE TABLE departments (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    level           TEXT NOT NULL,           -- county | township | village
    parent_id       BIGINT REFERENCES departments(id),
    region_code     TEXT NOT NULL,
    window_location TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT ''
);

-- The counters of the hall (窗口).
CREATE TABLE windows (
    id            INTEGER PRIMARY KEY,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    name          TEXT NOT NULL,
    location      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    roles         TEXT NOT NULL,             -- comma-separated role keys
    password_hash TEXT NOT NULL,
    -- The B of this person's post (R3.4): sees and handles the work while this
    -- person is absent.
    backup_id     BIGINT REFERENCES staff(id),
    absent        INTEGER NOT NULL DEFAULT 0,
    phone         TEXT NOT NULL DEFAULT '',
    window_id     BIGINT REFERENCES windows(id)
);
CREATE INDEX staff_by_department ON staff(department_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,             -- SM3 of the token; the token itself is never stored
    staff_id   BIGINT NOT NULL REFERENCES staff(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE service_items (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    implementing_code TEXT NOT NULL,
    name              TEXT NOT NULL,
    department_id     BIGINT NOT NULL REFERENCES departments(id),
    status            TEXT NOT NULL,         -- draft | published | suspended
    category          TEXT NOT NULL,
    item_type         TEXT NOT NULL,
    target            TEXT NOT NULL,
    guide             TEXT NOT NULL,         -- JSON of core::catalog::Guide
    version           BIGINT NOT NULL DEFAULT 1,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX items_by_department ON service_items(department_id, status);

-- Uploaded files: material templates and samples, applicants' materials.
CREATE TABLE files (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sm3          TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE cases (
    id                   INTEGER PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,
    item_id              BIGINT NOT NULL REFERENCES service_items(id),
    department_id        BIGINT NOT NULL REFERENCES departments(id),
    channel              TEXT NOT NULL,
    applicant_name       TEXT NOT NULL,
    applicant_phone      TEXT NOT NULL,
    applicant_id_number  TEXT NOT NULL DEFAULT '',
    applicant_org        TEXT NOT NULL DEFAULT '',
    form                 TEXT NOT NULL,
    state                TEXT NOT NULL,
    step_index           BIGINT NOT NULL DEFAULT 0,
    received_on          TEXT NOT NULL,
    supplement_requested INTEGER NOT NULL DEFAULT 0,
    deemed_accepted      INTEGER NOT NULL DEFAULT 0,
    clock_start          TEXT,
    promised_due         TEXT,
    statutory_due        TEXT,
    paused_working_days  BIGINT NOT NULL DEFAULT 0,
    suspension           TEXT,               -- JSON of core::case::Suspension while suspended
    outcome              TEXT,
    -- The role whose work is due next (window_clerk, handler...), and the A
    -- post holder it is assigned to (NULL: anyone of the department holding
    -- the role, as for the window's queue).
    pending_role         TEXT,
    assignee_id          BIGINT REFERENCES staff(id),
    version              BIGINT NOT NULL DEFAULT 1,
    submitted_at         BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX cases_by_assignee ON cases(assignee_id, state);
CREATE INDEX cases_by_department ON cases(department_id, pending_role, state);
CREATE INDEX cases_by_number_phone ON cases(applicant_phone);
CREATE INDEX cases_by_submitted ON cases(submitted_at);

CREATE TABLE case_materials (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES cases(id),
    material_name TEXT NOT NULL,
    file_id       BIGINT NOT NULL REFERENCES files(id),
    added_at      BIGINT NOT NULL
);
CREATE INDEX case_materials_by_case ON case_materials(case_id);

-- The timeline of a case: one row per transition.
CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES cases(id),
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    actor_id      BIGINT REFERENCES staff(id),   -- NULL: the applicant or the system
    on_behalf_of  BIGINT REFERENCES staff(id),   -- the absent A when B acted
    at            BIGINT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX case_events_by_case ON case_events(case_id, id);

-- Append-only audit log, hash-chained with SM3 (core::audit).
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_by_object ON audit_log(object_kind, object_id);
-- The head of the chain, one row. Every append updates it first, which on
-- PostgreSQL takes its row lock: appends from several nodes are serialised
-- without a table lock.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Sequences by name, e.g. case numbers per region and day.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- A repeated POST with the same Idempotency-Key gets the first answer.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,             -- who sent it: staff:ID or public
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    response      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
