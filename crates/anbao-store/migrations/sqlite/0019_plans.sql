-- Emergency plans and drills (issue #7, R2.1 / R2.3): a plan's current
-- content, every edit kept as a full version row (with an optional
-- document stored as bytes), its review cycle and next review date
-- (YYYY-MM-DD, so text order is date order), and drills run against a plan,
-- optionally as an exercise incident.

CREATE TABLE emergency_plans (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    title               TEXT NOT NULL,
    owner               TEXT NOT NULL,
    scenarios           TEXT NOT NULL DEFAULT '[]',
    roles               TEXT NOT NULL DEFAULT '',
    contact_tree        TEXT NOT NULL DEFAULT '',
    steps               TEXT NOT NULL DEFAULT '',
    review_cycle_months INTEGER NOT NULL,
    last_reviewed_at    TEXT,
    next_review_due     TEXT NOT NULL,
    version             INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX emergency_plans_due ON emergency_plans (next_review_due);

CREATE TABLE plan_versions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id             INTEGER NOT NULL REFERENCES emergency_plans(id) ON DELETE CASCADE,
    version             INTEGER NOT NULL,
    title               TEXT NOT NULL,
    owner               TEXT NOT NULL,
    scenarios           TEXT NOT NULL,
    roles               TEXT NOT NULL,
    contact_tree        TEXT NOT NULL,
    steps               TEXT NOT NULL,
    review_cycle_months INTEGER NOT NULL,
    change_note         TEXT NOT NULL,
    actor               TEXT NOT NULL,
    at                  TEXT NOT NULL,
    doc_name            TEXT,
    doc_sha256          TEXT,
    doc_size            INTEGER,
    doc_content         BLOB
);
CREATE UNIQUE INDEX plan_versions_plan ON plan_versions (plan_id, version);

CREATE TABLE drills (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id      INTEGER NOT NULL REFERENCES emergency_plans(id),
    scenario     TEXT NOT NULL,
    scheduled_at TEXT NOT NULL,
    participants TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'planned',
    evaluation   TEXT NOT NULL DEFAULT '',
    findings     TEXT NOT NULL DEFAULT '',
    incident_id  INTEGER REFERENCES incidents(id),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX drills_plan ON drills (plan_id, scheduled_at);

-- A drill run as a tabletop incident on the same board: flagged so that it
-- stays out of statistics and is never reported to the regulator.
ALTER TABLE incidents ADD COLUMN exercise INTEGER NOT NULL DEFAULT 0;
