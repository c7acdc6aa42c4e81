-- Alert triage (issue #7): who works an alert (a user name; empty: nobody).
-- Comments are alert actions of kind `note`; bulk changes and allowlisting
-- of false positives write through the same audited store paths.

ALTER TABLE alerts ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_assignee ON alerts (assignee, last_seen);

-- Suppression rules: until `until`, new detections matching every non-empty
-- condition (rule, category, victim prefix, indicator glob with `*`) are
-- dropped by the store's upsert and counted here instead.
CREATE TABLE alert_suppressions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    rule              TEXT NOT NULL DEFAULT '',
    category          TEXT NOT NULL DEFAULT '',
    victim_prefix     TEXT NOT NULL DEFAULT '',
    indicator_pattern TEXT NOT NULL DEFAULT '',
    until             TEXT NOT NULL,
    reason            TEXT NOT NULL,
    suppressed        INTEGER NOT NULL DEFAULT 0,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX alert_suppressions_until ON alert_suppressions (until);
