-- Network units graded and filed under MIIT Order No. 11 (R1.1), with the
-- MLPS (GB/T 22239) level carried alongside.

CREATE TABLE network_units (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_unit_id                INTEGER NOT NULL REFERENCES org_units(id),
    name                       TEXT NOT NULL,
    main_function              TEXT NOT NULL DEFAULT '',
    responsible_person         TEXT NOT NULL,
    topology                   TEXT NOT NULL DEFAULT '',
    boundary                   TEXT NOT NULL DEFAULT '',
    key_facilities             TEXT NOT NULL DEFAULT '',
    mlps_level                 TEXT NOT NULL DEFAULT '',
    -- draft → graded → reviewed → filed
    status                     TEXT NOT NULL,
    level                      TEXT NOT NULL DEFAULT '',
    -- The wizard's proposal with its answers and reasoning (JSON), and any
    -- override of the proposed level with its reason.
    grading                    TEXT NOT NULL DEFAULT '',
    level_override_reason      TEXT NOT NULL DEFAULT '',
    review_passed              TEXT,
    reviewers                  TEXT NOT NULL DEFAULT '',
    review_opinion             TEXT NOT NULL DEFAULT '',
    filed                      TEXT,
    filing_number              TEXT NOT NULL DEFAULT '',
    last_change                TEXT,
    last_compliance_assessment TEXT,
    last_risk_assessment       TEXT,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    UNIQUE (org_unit_id, name)
);

CREATE TABLE network_unit_assets (
    network_unit_id INTEGER NOT NULL REFERENCES network_units(id) ON DELETE CASCADE,
    asset_id        INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    PRIMARY KEY (network_unit_id, asset_id)
);
CREATE INDEX network_unit_assets_asset ON network_unit_assets (asset_id);
