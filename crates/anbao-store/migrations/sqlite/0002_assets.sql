-- Asset and responsibility registry (R1.3, R1.4, R1.5, R7.1, S3).

CREATE TABLE assets (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id               TEXT NOT NULL DEFAULT '',
    name                      TEXT NOT NULL,
    asset_type                TEXT NOT NULL,
    identifier                TEXT NOT NULL DEFAULT '',
    org_unit_id               INTEGER NOT NULL REFERENCES org_units(id),
    responsible_department_id INTEGER NOT NULL REFERENCES org_units(id),
    responsible_person        TEXT NOT NULL,
    operator_contact          TEXT NOT NULL DEFAULT '',
    oncall_phone_sealed       TEXT NOT NULL DEFAULT '',
    lifecycle                 TEXT NOT NULL,
    criticality               TEXT NOT NULL,
    attributes                TEXT NOT NULL DEFAULT '{}',
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE UNIQUE INDEX assets_external_id ON assets (external_id) WHERE external_id <> '';
CREATE INDEX assets_org_unit ON assets (org_unit_id);
CREATE INDEX assets_department ON assets (responsible_department_id);
CREATE INDEX assets_type ON assets (asset_type);
CREATE INDEX assets_identifier ON assets (identifier);

CREATE TABLE asset_components (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id       INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    vendor         TEXT NOT NULL DEFAULT '',
    product        TEXT NOT NULL,
    version        TEXT NOT NULL DEFAULT '',
    cpe            TEXT NOT NULL DEFAULT '',
    purl           TEXT NOT NULL DEFAULT '',
    end_of_support TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX asset_components_asset ON asset_components (asset_id);
CREATE INDEX asset_components_product ON asset_components (product);

CREATE TABLE security_domains (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    name        TEXT NOT NULL,
    zone_kind   TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (org_unit_id, name)
);

CREATE TABLE asset_domains (
    asset_id  INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    domain_id INTEGER NOT NULL REFERENCES security_domains(id) ON DELETE CASCADE,
    PRIMARY KEY (asset_id, domain_id)
);
CREATE INDEX asset_domains_domain ON asset_domains (domain_id);

CREATE TABLE domain_boundaries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_a        INTEGER NOT NULL REFERENCES security_domains(id) ON DELETE CASCADE,
    domain_b        INTEGER NOT NULL REFERENCES security_domains(id) ON DELETE CASCADE,
    device_asset_id INTEGER REFERENCES assets(id) ON DELETE SET NULL,
    controls        TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);

-- S3: the leader in charge of security, the security department and its staff.
CREATE TABLE accountability (
    org_unit_id            INTEGER PRIMARY KEY REFERENCES org_units(id),
    leader_name            TEXT NOT NULL,
    leader_title           TEXT NOT NULL DEFAULT '',
    security_department_id INTEGER REFERENCES org_units(id),
    staff                  TEXT NOT NULL DEFAULT '[]',
    updated_at             TEXT NOT NULL
);
