-- Detection alerts (R3.1–R3.3, R3.8): one row per dedup key (for intel
-- matches: victim and indicator), folded repeats counted. Machine-written
-- by the detection pipeline without an audit entry per upsert; what people
-- do with an alert (status, disposal actions) is audited.

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key    TEXT NOT NULL UNIQUE,
    rule         TEXT NOT NULL,
    category     TEXT NOT NULL,
    severity     INTEGER NOT NULL,
    victim       TEXT NOT NULL,
    indicator_id INTEGER REFERENCES intel_indicators(id) ON DELETE SET NULL,
    indicator    TEXT NOT NULL,
    match_how    TEXT NOT NULL DEFAULT '',
    field        TEXT NOT NULL DEFAULT '',
    observed     TEXT NOT NULL DEFAULT '',
    score        INTEGER,
    reason       TEXT NOT NULL DEFAULT '',
    count        INTEGER NOT NULL,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    sensor       TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'new',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX alerts_last_seen ON alerts (last_seen);
CREATE INDEX alerts_victim ON alerts (victim);
CREATE INDEX alerts_status ON alerts (status, last_seen);
CREATE INDEX alerts_indicator ON alerts (indicator_id);

-- Alerts per hour and category, for the charts; kept by the same upserts.
CREATE TABLE alert_hours (
    hour     TEXT NOT NULL,
    category TEXT NOT NULL,
    events   INTEGER NOT NULL,
    PRIMARY KEY (hour, category)
);

-- What was done about an alert: notification of the subscriber (R3.8),
-- disposal (R3.1: blocklist, RPZ, sinkhole), notes.
CREATE TABLE alert_actions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX alert_actions_alert ON alert_actions (alert_id);

-- Bus messages already applied (stream sequence numbers), written in the
-- same transaction as their alerts, so a message redelivered after a worker
-- died between commit and acknowledgement is not counted twice.
CREATE TABLE bus_applied (
    stream   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
);
