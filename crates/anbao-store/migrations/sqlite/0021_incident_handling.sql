-- Incident handling times and follow-ups (issue #7): when an incident was
-- first acknowledged (explicitly, or implied by the first status change or
-- task assignment), first contained (or closed without containment) and
-- closed (a reopen clears it); follow-up tasks from the post-incident
-- review; the plan version a drill tested.

ALTER TABLE incidents ADD COLUMN acknowledged_at TEXT;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN contained_at TEXT;
ALTER TABLE incidents ADD COLUMN closed_at TEXT;

-- Backfill from the automatic timeline entries: "status A → B" for status
-- changes, "task #N …" for task work (which implies someone took it on).
UPDATE incidents SET acknowledged_at = (
    SELECT MIN(t.at) FROM incident_timeline t
    WHERE t.incident_id = incidents.id AND t.kind = 'auto' AND (t.entry LIKE 'status %' OR t.entry LIKE 'task #%')
);
UPDATE incidents SET contained_at = (
    SELECT MIN(t.at) FROM incident_timeline t
    WHERE t.incident_id = incidents.id AND t.kind = 'auto'
      AND (t.entry LIKE 'status % → contained' OR t.entry LIKE 'status % → closed')
);
UPDATE incidents SET closed_at = (
    SELECT MAX(t.at) FROM incident_timeline t
    WHERE t.incident_id = incidents.id AND t.kind = 'auto' AND t.entry LIKE 'status % → closed'
) WHERE status = 'closed';
CREATE INDEX incidents_discovered ON incidents (exercise, discovered_at);

-- `task` (case work) or `follow_up` (an action from the post-incident review).
ALTER TABLE incident_tasks ADD COLUMN kind TEXT NOT NULL DEFAULT 'task';

-- The plan version in force when the drill was scheduled; backfilled with
-- the newest version written before the drill was created.
ALTER TABLE drills ADD COLUMN plan_version INTEGER;
UPDATE drills SET plan_version = (
    SELECT MAX(v.version) FROM plan_versions v WHERE v.plan_id = drills.plan_id AND v.at <= drills.created_at
);
