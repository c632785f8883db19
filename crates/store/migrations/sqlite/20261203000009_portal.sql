-- The public portal: the hall's announcements (通知公告) and appointments
-- booked for a visit to a department's window (预约办理).
-- Keep postgres/ in step with this file.
CREATE TABLE announcements (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    pinned       BIGINT NOT NULL DEFAULT 0,
    author_id    BIGINT NOT NULL REFERENCES staff(id),
    published_at BIGINT NOT NULL,
    withdrawn_at BIGINT
);
CREATE INDEX announcements_by_time ON announcements(published_at);

CREATE TABLE appointments (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    item_id       BIGINT NOT NULL REFERENCES service_items(id),
    department_id BIGINT NOT NULL REFERENCES departments(id),
    day           TEXT NOT NULL,
    slot          TEXT NOT NULL,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL,
    note          TEXT NOT NULL,
    booked_at     BIGINT NOT NULL,
    cancelled_at  BIGINT
);
CREATE INDEX appointments_by_slot ON appointments(department_id, day, slot);
