-- Remote intelligence sources pulled on demand or on a schedule (issue #4):
-- TAXII 2.1 collections, MISP feeds and plain URLs, each with where the
-- last pull left off.

CREATE TABLE intel_sources (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,              -- taxii, misp_feed, url
    -- taxii: the API root URL; misp_feed: the feed's base URL or its
    -- manifest.json; url: the document's URL.
    url              TEXT NOT NULL,
    collection_id    TEXT NOT NULL DEFAULT '',   -- taxii only
    username         TEXT NOT NULL DEFAULT '',
    -- Sealed with the secrets-file key ('' = none); never audited or listed.
    password_sealed  TEXT NOT NULL DEFAULT '',
    format           TEXT NOT NULL DEFAULT 'auto',
    -- For indicators the feed gives no category; NULL = other.
    category         TEXT,
    include_non_ids  INTEGER NOT NULL DEFAULT 0,
    -- 0 = pulled only on demand.
    interval_minutes INTEGER NOT NULL DEFAULT 0,
    enabled          INTEGER NOT NULL DEFAULT 1,
    -- taxii: the last X-TAXII-Date-Added-Last; misp_feed: JSON {uuid:
    -- timestamp} of events imported; url: JSON {etag, last_modified}.
    cursor           TEXT NOT NULL DEFAULT '',
    -- When the last pull ended ('' = never); while one runs, when it claimed
    -- or last renewed the source. Claims compare and set it.
    last_pull_at     TEXT NOT NULL DEFAULT '',
    -- running, ok, not_modified or "failed: …".
    last_status      TEXT NOT NULL DEFAULT '',
    last_import_id   INTEGER REFERENCES intel_imports(id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
