-- Case work on an incident (issue #7, R2.6): tasks with an assignee (an
-- active user's name; empty: nobody yet), a due time and a status, and
-- short messages shown on the command-and-dispatch board. Every change is
-- audited; task changes also write an automatic timeline entry.

CREATE TABLE incident_tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    assignee    TEXT NOT NULL DEFAULT '',
    due_at      TEXT,
    status      TEXT NOT NULL DEFAULT 'open',
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id, id);

CREATE TABLE incident_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX incident_messages_incident ON incident_messages (incident_id, id);
