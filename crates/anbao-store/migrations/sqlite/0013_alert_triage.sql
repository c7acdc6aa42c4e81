-- Alert triage (issue #7): who works an alert (a user name; empty: nobody).
-- Comments are alert actions of kind `note`; bulk changes and allowlisting
-- of false positives write through the same audited store paths.

ALTER TABLE alerts ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_assignee ON alerts (assignee, last_seen);
