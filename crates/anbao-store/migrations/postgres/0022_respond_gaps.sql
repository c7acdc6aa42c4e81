-- Respond gaps (issue #7).

-- Suppression rules may also name a network range (IPv4 or IPv6 CIDR) that
-- a detection's source or destination address must fall in; empty: any.
ALTER TABLE alert_suppressions ADD COLUMN src_cidr TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_suppressions ADD COLUMN dst_cidr TEXT NOT NULL DEFAULT '';

-- Inbound incident reports: a token bucket per sender key, in the database
-- so that every node of a cluster draws from the same bucket. `tokens` in
-- thousandths of a request; `updated_at` when it was last refilled.
CREATE TABLE report_inbound_buckets (
    key_id     TEXT PRIMARY KEY,
    tokens     BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
