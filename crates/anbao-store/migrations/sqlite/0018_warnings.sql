-- Warnings (issue #7, R2.4): red / orange / yellow / blue warnings issued,
-- adjusted and lifted, with their scope (regions and asset types as JSON
-- text lists), required actions, every issue / adjust / lift kept as a
-- history row, and recipients (a user or an org unit) with who
-- acknowledged and when.

CREATE TABLE warnings (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    level            TEXT NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    scope_regions    TEXT NOT NULL DEFAULT '[]',
    scope_asset_types TEXT NOT NULL DEFAULT '[]',
    required_actions TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'issued',
    issued_by        TEXT NOT NULL,
    issued_at        TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    lifted_by        TEXT,
    lifted_at        TEXT,
    lift_reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX warnings_status ON warnings (status, id);

CREATE TABLE warning_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id INTEGER NOT NULL REFERENCES warnings(id) ON DELETE CASCADE,
    action     TEXT NOT NULL,
    level      TEXT NOT NULL,
    changes    TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX warning_history_warning ON warning_history (warning_id, id);

CREATE TABLE warning_recipients (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    warning_id  INTEGER NOT NULL REFERENCES warnings(id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id),
    org_unit_id INTEGER REFERENCES org_units(id),
    acked_at    TEXT,
    acked_by    TEXT,
    CHECK ((user_id IS NULL) <> (org_unit_id IS NULL))
);
CREATE UNIQUE INDEX warning_recipients_user ON warning_recipients (warning_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX warning_recipients_unit ON warning_recipients (warning_id, org_unit_id) WHERE org_unit_id IS NOT NULL;
