-- Flow mitigation (issue #6): one row per BGP rule (RTBH or FlowSpec) asked
-- for against one attack, from proposal to withdrawal. `state` is where the
-- rule is (proposed, announced, withdrawn, rejected, failed); `pending` what
-- the mitigation executor must still do (announce, withdraw or nothing), so
-- an approval given on any node reaches the node with the BGP speakers by
-- the table, and a restart loses nothing. Timestamps are RFC 3339 text in
-- UTC with milliseconds, so text order is time order.

CREATE TABLE flow_mitigations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    attack_key      TEXT NOT NULL,
    alert_id        INTEGER,
    group_name      TEXT NOT NULL,
    victim          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    mode            TEXT NOT NULL,
    rule            TEXT NOT NULL,
    announce_line   TEXT NOT NULL,
    withdraw_line   TEXT NOT NULL,
    hold_secs       INTEGER NOT NULL,
    state           TEXT NOT NULL,
    pending         TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    failed_change   TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   TEXT,
    proposed_at     TEXT NOT NULL,
    approved_by     TEXT,
    approved_at     TEXT,
    announced_at    TEXT,
    attack_ended_at TEXT,
    withdraw_at     TEXT,
    expires_at      TEXT NOT NULL,
    withdrawn_by    TEXT,
    withdrawn_at    TEXT,
    withdraw_reason TEXT NOT NULL DEFAULT '',
    rejected_by     TEXT,
    rejected_at     TEXT,
    reject_reason   TEXT NOT NULL DEFAULT '',
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX flow_mitigations_rule ON flow_mitigations (attack_key, kind);
CREATE INDEX flow_mitigations_state ON flow_mitigations (state, id);
CREATE INDEX flow_mitigations_pending ON flow_mitigations (pending, id);
