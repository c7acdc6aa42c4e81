-- The malware sample library (R3.5): files stored content-addressed in the
-- database (never as files on a disk where they could be run), with their
-- hashes, basic type and family, linked to the hash indicators made from
-- them.

CREATE TABLE intel_samples (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256     TEXT NOT NULL UNIQUE,
    sha1       TEXT NOT NULL,
    md5        TEXT NOT NULL,
    size       INTEGER NOT NULL,
    file_type  TEXT NOT NULL,
    file_name  TEXT NOT NULL DEFAULT '',
    family     TEXT NOT NULL DEFAULT '',
    notes      TEXT NOT NULL DEFAULT '',
    content    BLOB NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX intel_samples_md5 ON intel_samples (md5);
CREATE INDEX intel_samples_sha1 ON intel_samples (sha1);
CREATE INDEX intel_samples_family ON intel_samples (family);

CREATE TABLE intel_sample_indicators (
    sample_id    INTEGER NOT NULL REFERENCES intel_samples(id) ON DELETE CASCADE,
    indicator_id INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    PRIMARY KEY (sample_id, indicator_id)
);
CREATE INDEX intel_sample_indicators_indicator ON intel_sample_indicators (indicator_id);
