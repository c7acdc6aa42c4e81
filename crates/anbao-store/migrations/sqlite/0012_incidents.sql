-- Incidents graded by the MIIT emergency plan (issue #7, R2.5): the facts
-- as entered (JSON), the computed level and the criterion that decided it,
-- an optional override with its reason (audited), the reporting clock, and
-- a timeline of automatic and manual entries.

CREATE TABLE incidents (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    org_unit_id           INTEGER NOT NULL REFERENCES org_units(id),
    incident_type         TEXT NOT NULL,
    title                 TEXT NOT NULL,
    summary               TEXT NOT NULL DEFAULT '',
    facts                 TEXT NOT NULL,
    level                 TEXT NOT NULL,
    criterion             TEXT NOT NULL DEFAULT '',
    rules_version         TEXT NOT NULL,
    level_override        TEXT NOT NULL DEFAULT '',
    override_reason       TEXT NOT NULL DEFAULT '',
    operator_category     TEXT NOT NULL,
    discovered_at         TEXT NOT NULL,
    report_within_minutes INTEGER,
    report_by             TEXT,
    report_immediately    INTEGER NOT NULL DEFAULT 0,
    status                TEXT NOT NULL DEFAULT 'open',
    created_by            TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX incidents_org_unit ON incidents (org_unit_id);
CREATE INDEX incidents_status ON incidents (status, discovered_at);

CREATE TABLE incident_timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entry       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at);
