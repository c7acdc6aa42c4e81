-- TAXII 2.1 (issue #4): collections with their read/write roles and
-- publish filter, the STIX objects each holds (one row per id and
-- version), and the status resources of add-objects requests.

CREATE TABLE taxii_collections (
    -- A UUID; the id in TAXII URLs.
    id                 TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    -- Usable in URLs in place of the id; NULL when none.
    alias              TEXT UNIQUE,
    -- Comma-separated role names.
    can_read           TEXT NOT NULL DEFAULT '',
    can_write          TEXT NOT NULL DEFAULT '',
    -- Publishing of indicators: 0/1, comma-separated categories ('' = all),
    -- and the most restrictive TLP rank published (NULL = any).
    publish            INTEGER NOT NULL DEFAULT 0,
    publish_categories TEXT NOT NULL DEFAULT '',
    publish_max_tlp    INTEGER,
    -- The newest date_added ever given in this collection ('' = none), so
    -- date_added keeps increasing even after the newest object is deleted.
    last_date_added    TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE taxii_objects (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id TEXT NOT NULL REFERENCES taxii_collections(id) ON DELETE CASCADE,
    stix_id       TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    spec_version  TEXT NOT NULL,
    -- The version as the object states it (modified, else created), or
    -- date_added for objects without either.
    version       TEXT NOT NULL,
    -- The same instant as fixed-width UTC text with nanoseconds, so text
    -- order is time order.
    version_key   TEXT NOT NULL,
    -- RFC 3339 UTC with microseconds, strictly increasing per collection.
    date_added    TEXT NOT NULL,
    body          TEXT NOT NULL,
    UNIQUE (collection_id, date_added),
    UNIQUE (collection_id, stix_id, version_key)
);
CREATE INDEX taxii_objects_type ON taxii_objects (collection_id, object_type, date_added);

CREATE TABLE taxii_statuses (
    -- A UUID; the id in the status URL.
    id                TEXT PRIMARY KEY,
    collection_id     TEXT NOT NULL REFERENCES taxii_collections(id) ON DELETE CASCADE,
    status            TEXT NOT NULL,          -- complete, pending
    request_timestamp TEXT NOT NULL,
    total_count       INTEGER NOT NULL,
    success_count     INTEGER NOT NULL,
    failure_count     INTEGER NOT NULL,
    pending_count     INTEGER NOT NULL,
    -- JSON arrays of {id, version, message}.
    successes         TEXT NOT NULL DEFAULT '[]',
    failures          TEXT NOT NULL DEFAULT '[]',
    pendings          TEXT NOT NULL DEFAULT '[]',
    created_by        TEXT NOT NULL
);
CREATE INDEX taxii_statuses_collection ON taxii_statuses (collection_id);
-- Statuses are kept for a while (taxii.rs, STATUS_RETENTION), then pruned.
CREATE INDEX taxii_statuses_time ON taxii_statuses (request_timestamp);
