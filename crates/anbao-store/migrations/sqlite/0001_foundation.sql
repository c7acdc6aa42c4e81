-- Foundation: organisation units, accounts, sessions, API tokens, audit log.
-- Timestamps are RFC 3339 UTC text with milliseconds; booleans are 0/1.

-- Every write transaction starts by bumping this row, so writers queue on
-- one lock (SQLite's write lock, or PostgreSQL's row lock across nodes) and
-- the audit chain gets one strict order.
CREATE TABLE write_lock (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO write_lock (id, n) VALUES (1, 0);

CREATE TABLE org_units (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id   INTEGER REFERENCES org_units(id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    code        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX org_units_sibling_name ON org_units (COALESCE(parent_id, 0), name);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    email_sealed         TEXT NOT NULL DEFAULT '',
    phone_sealed         TEXT NOT NULL DEFAULT '',
    role                 TEXT NOT NULL,
    org_unit_id          INTEGER NOT NULL REFERENCES org_units(id),
    password_hash        TEXT NOT NULL,
    totp_sealed          TEXT NOT NULL DEFAULT '',
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    last_login_at        TEXT
);
CREATE INDEX users_org_unit ON users (org_unit_id);

CREATE TABLE user_org_grants (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (user_id, org_unit_id)
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    mfa_pending  INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    source_ip    TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    org_unit_id  INTEGER NOT NULL REFERENCES org_units(id),
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    source_ip TEXT NOT NULL,
    username  TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX login_failures_ip_at ON login_failures (source_ip, at);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    source_ip   TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    org_unit_id INTEGER,
    before_json TEXT NOT NULL,
    after_json  TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_actor ON audit_log (actor);

-- Append-only as far as the application is concerned; someone with the
-- database file can drop these, which is what `anbao audit verify` is for.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
