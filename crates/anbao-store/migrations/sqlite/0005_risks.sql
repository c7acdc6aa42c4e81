-- Risk register (R1.2) and the pre-launch gate (R1.7).

CREATE TABLE risks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_unit_id   INTEGER NOT NULL REFERENCES org_units(id),
    asset_id      INTEGER REFERENCES assets(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    threat        TEXT NOT NULL DEFAULT '',
    vulnerability TEXT NOT NULL DEFAULT '',
    asset_value   INTEGER NOT NULL,
    likelihood    INTEGER NOT NULL,
    severity      INTEGER NOT NULL,
    score         INTEGER NOT NULL,
    level         TEXT NOT NULL,
    treatment     TEXT NOT NULL,
    treatment_plan TEXT NOT NULL DEFAULT '',
    residual_level TEXT NOT NULL DEFAULT '',
    owner         TEXT NOT NULL,
    review_on     TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX risks_asset ON risks (asset_id);
CREATE INDEX risks_org_unit ON risks (org_unit_id);

-- How an asset passed the gate: its pre-launch risk assessment completed,
-- or an exception approved by a named person.
CREATE TABLE prelaunch_clearances (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id    INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX prelaunch_clearances_asset ON prelaunch_clearances (asset_id);
