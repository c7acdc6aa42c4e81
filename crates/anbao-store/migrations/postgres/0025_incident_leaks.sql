-- Personal-data leaks (issue #7, R5.4): one row per incident that is a
-- leak (type data_leak, or records leaked), created in the same transaction
-- that makes it one, with the moment the reporting duty was flagged. The
-- data categories are fixed codes (anbao_model::incident::LeakCategory) as a
-- JSON text list; `sensitive` (0/1) is derived from them (PIPL art. 28).
-- `affected_users` counts people, not records (NULL: not known yet). The two
-- notified times record when each duty was met (NULL: not yet).

CREATE TABLE incident_leaks (
    incident_id             BIGINT PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    data_categories         TEXT NOT NULL DEFAULT '[]',
    affected_users          BIGINT,
    sensitive               BIGINT NOT NULL DEFAULT 0,
    duty_flagged_at         TEXT NOT NULL,
    individuals_notified_at TEXT,
    regulator_notified_at   TEXT,
    updated_at              TEXT NOT NULL,
    updated_by              TEXT NOT NULL
);
