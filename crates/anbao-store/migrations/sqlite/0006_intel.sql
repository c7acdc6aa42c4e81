-- Threat intelligence (R3.5, R3.6, R6.5, R8.5): one row per indicator value,
-- one provenance row per source that stated it, import runs with their
-- counts and rejects, STIX objects kept as imported, and allowlists.

CREATE TABLE intel_imports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    format        TEXT NOT NULL,
    -- What was read: file names, URLs, as given.
    inputs        TEXT NOT NULL DEFAULT '',
    actor         TEXT NOT NULL,
    status        TEXT NOT NULL,          -- running, done, failed
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    accepted      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    not_matchable INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0,
    objects       INTEGER NOT NULL DEFAULT 0,
    -- JSON array of {location, value, reason}, the first MAX_KEPT_REJECTS.
    rejects       TEXT NOT NULL DEFAULT '[]',
    failure       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE intel_indicators (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    -- Derived from the provenance rows (see intel.rs, refresh_aggregates).
    category    TEXT NOT NULL,
    confidence  INTEGER,
    tlp_rank    INTEGER,
    first_seen  TEXT,
    last_seen   TEXT,
    valid_until TEXT,
    sources     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX intel_indicators_value ON intel_indicators (value);
CREATE INDEX intel_indicators_category ON intel_indicators (category, id);
CREATE INDEX intel_indicators_updated ON intel_indicators (updated_at);

CREATE TABLE intel_provenance (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL DEFAULT '',
    category     TEXT NOT NULL,
    confidence   INTEGER,
    tlp_rank     INTEGER,
    first_seen   TEXT,
    last_seen    TEXT,
    valid_until  TEXT,
    tags         TEXT NOT NULL DEFAULT '',   -- newline-separated
    context      TEXT NOT NULL DEFAULT '',
    import_id    INTEGER REFERENCES intel_imports(id),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (indicator_id, source)
);
CREATE INDEX intel_provenance_source ON intel_provenance (source);

-- STIX objects as imported (indicators, malware, threat actors,
-- relationships, sightings, markings), one row per id and version.
CREATE TABLE intel_objects (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    stix_id      TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    version      TEXT NOT NULL,
    body         TEXT NOT NULL,
    source       TEXT NOT NULL,
    import_id    INTEGER REFERENCES intel_imports(id),
    added_at     TEXT NOT NULL,
    UNIQUE (stix_id, version)
);
CREATE INDEX intel_objects_type ON intel_objects (object_type, id);

-- Allowlists in MISP warninglist form: type string, substring, hostname,
-- cidr or regex; entries newline-separated.
CREATE TABLE intel_allowlists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    list_type   TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    entries     TEXT NOT NULL,
    entry_count INTEGER NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Bumped on every change that affects matching, so index holders on every
-- node know when to rebuild.
CREATE TABLE intel_generation (
    id INTEGER PRIMARY KEY,
    n  INTEGER NOT NULL
);
INSERT INTO intel_generation (id, n) VALUES (1, 0);
