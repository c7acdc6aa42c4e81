-- Alerts an incident was opened from (issue #6: a DDoS attack alert that
-- matches the incident rule opens a large-scale DDoS incident). An alert
-- opens at most one incident: alert_id is unique.

CREATE TABLE incident_alerts (
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    alert_id    INTEGER NOT NULL UNIQUE REFERENCES alerts(id) ON DELETE CASCADE,
    linked_at   TEXT NOT NULL
);
CREATE INDEX incident_alerts_incident ON incident_alerts (incident_id);
