-- Respond gaps (issue #7).

-- Suppression rules may also name a network range (IPv4 or IPv6 CIDR) that
-- a detection's source or destination address must fall in; empty: any.
ALTER TABLE alert_suppressions ADD COLUMN src_cidr TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_suppressions ADD COLUMN dst_cidr TEXT NOT NULL DEFAULT '';
