-- Failed announcements are retried by the executor as failed withdrawals
-- are (0027), with the same growing delay, while the rule's attack goes on
-- (issue #6): during a DDoS a rule that could not be announced is still
-- wanted. `announce_failures` counts the failed attempts of the rule's
-- announcement; `retry_at` (0027) is when the next attempt of whichever
-- change failed (`failed_change`) is due.
ALTER TABLE flow_mitigations ADD COLUMN announce_failures BIGINT NOT NULL DEFAULT 0;

-- Announcements that failed before this version waited for a person: those
-- whose attack is still going on are tried again at the next pass (their
-- retry due since they failed). Expired ones are withdrawn first by the
-- executor, as before.
UPDATE flow_mitigations SET announce_failures = 1, retry_at = updated_at
 WHERE state = 'failed' AND failed_change = 'announce' AND pending = '' AND attack_ended_at IS NULL;
