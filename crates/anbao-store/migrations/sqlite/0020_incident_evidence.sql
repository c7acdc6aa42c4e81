-- Evidence files and observables on an incident (issue #7, R2.6).
-- Files are stored content-addressed in `evidence_blobs` (0004, shared
-- with assessment evidence): one blob per SHA-256, however many incidents
-- attach it; a blob goes when nothing refers to it any more. Observables
-- are typed indicator values (the intel store's kinds, normalised the same
-- way) with a note and an IOC flag; publishing one records the indicator
-- it became.

CREATE TABLE incident_evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    sha256      TEXT NOT NULL REFERENCES evidence_blobs(sha256),
    file_name   TEXT NOT NULL,
    size        INTEGER NOT NULL,
    file_type   TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX incident_evidence_incident ON incident_evidence (incident_id, id);
CREATE INDEX incident_evidence_sha256 ON incident_evidence (sha256);

CREATE TABLE incident_observables (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    ioc          INTEGER NOT NULL DEFAULT 0,
    origin       TEXT NOT NULL DEFAULT 'manual',
    indicator_id INTEGER REFERENCES intel_indicators(id) ON DELETE SET NULL,
    published_by TEXT NOT NULL DEFAULT '',
    published_at TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (incident_id, kind, value)
);
