-- Regulator reports of incidents (issue #7, R2.4, R8.5, S1): the root cause
-- and lessons a final report needs; reports as immutable JSON snapshots with
-- their SHA-256; each submission to a recipient with its outcome; the
-- senders whose signed reports this instance accepts, and what it received.

ALTER TABLE incidents ADD COLUMN root_cause TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN lessons TEXT NOT NULL DEFAULT '';

CREATE TABLE incident_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    kind        TEXT NOT NULL,
    report_uid  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    body        TEXT NOT NULL,
    sha256      TEXT NOT NULL
);
CREATE INDEX incident_reports_incident ON incident_reports (incident_id, id);
CREATE TRIGGER incident_reports_no_update BEFORE UPDATE ON incident_reports
BEGIN SELECT RAISE(ABORT, 'incident reports are immutable'); END;
CREATE TRIGGER incident_reports_no_delete BEFORE DELETE ON incident_reports
BEGIN SELECT RAISE(ABORT, 'incident reports are immutable'); END;

CREATE TABLE report_submissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id    INTEGER NOT NULL REFERENCES incident_reports(id),
    recipient    TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    http_status  INTEGER,
    error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_submissions_report ON report_submissions (report_id, id);

CREATE TABLE report_senders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    key_id     TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    -- A revoked key no longer verifies anything; its past reports stay.
    revoked_at TEXT
);

CREATE TABLE received_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id   INTEGER NOT NULL REFERENCES report_senders(id),
    sender_name TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    report_uid  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    level       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source_ip   TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    UNIQUE (sender_id, report_uid)
);
CREATE INDEX received_reports_time ON received_reports (received_at);
