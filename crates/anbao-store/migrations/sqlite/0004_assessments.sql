-- Compliance assessments against the protection-requirement catalogue
-- (R1.2), their evidence (content-addressed, kept in the database so every
-- node of a cluster sees it), and the remediation tasks findings become.

CREATE TABLE assessments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    network_unit_id INTEGER NOT NULL REFERENCES network_units(id) ON DELETE CASCADE,
    level_tier      INTEGER NOT NULL,
    assessor        TEXT NOT NULL,
    status          TEXT NOT NULL,
    started_on      TEXT NOT NULL,
    completed_on    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX assessments_unit ON assessments (network_unit_id);

CREATE TABLE assessment_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id  INTEGER NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    requirement_id TEXT NOT NULL,
    result         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    assessed_by    TEXT NOT NULL DEFAULT '',
    assessed_on    TEXT,
    UNIQUE (assessment_id, requirement_id)
);

CREATE TABLE evidence_blobs (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE item_evidence (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    INTEGER NOT NULL REFERENCES assessment_items(id) ON DELETE CASCADE,
    sha256     TEXT REFERENCES evidence_blobs(sha256),
    file_name  TEXT NOT NULL DEFAULT '',
    media_type TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',
    added_by   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX item_evidence_item ON item_evidence (item_id);

CREATE TABLE remediation_tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
    item_id       INTEGER NOT NULL REFERENCES assessment_items(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    owner         TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    status        TEXT NOT NULL,
    closed_on     TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX remediation_tasks_status ON remediation_tasks (status, due_on);
