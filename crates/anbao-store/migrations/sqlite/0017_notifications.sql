-- Notifications (issue #7): channels an admin configures (their settings,
-- secrets included, sealed as one JSON text; `target` is a display form
-- without secrets), rules mapping events to channels, and the delivery
-- queue that records every notification with its attempts and outcome.

CREATE TABLE notify_channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE notify_rules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id     INTEGER NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
    event          TEXT NOT NULL,
    min_level      TEXT NOT NULL DEFAULT 'none',
    min_severity   INTEGER NOT NULL DEFAULT 0,
    minutes_before INTEGER NOT NULL DEFAULT 0,
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL
);
CREATE INDEX notify_rules_event ON notify_rules (event);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES notify_channels(id) ON DELETE CASCADE,
    rule_id         INTEGER,
    event           TEXT NOT NULL,
    dedup_key       TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_created ON notifications (created_at);
