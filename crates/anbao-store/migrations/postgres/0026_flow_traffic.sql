-- Flow traffic history (issue #6): one row per minute of each host group
-- (scope 'group', host '') and of the hosts the collector recorded in it
-- that minute (scope 'host': its top hosts by bytes and those under
-- attack). `minute` is unix seconds at the start of the minute; the counts
-- are the minute's totals over `seconds` seconds (60, fewer for the minute
-- a collector started in), so averages are exact and minutes add up into
-- longer points: pps = packets / seconds, bps = 8 × bytes / seconds. The
-- protocol split, SYN-only and amplification counts are packets; peaks are
-- the highest one-second rates of the minute. A minute sent again replaces
-- the row. Rows older than flow_traffic_retention_days are purged.

CREATE TABLE flow_traffic (
    scope         TEXT NOT NULL CHECK (scope IN ('group', 'host')),
    group_name    TEXT NOT NULL,
    host          TEXT NOT NULL DEFAULT '',
    minute        BIGINT NOT NULL,
    seconds       BIGINT NOT NULL,
    packets       BIGINT NOT NULL,
    bytes         BIGINT NOT NULL,
    flows         BIGINT NOT NULL,
    peak_pps      BIGINT NOT NULL,
    peak_bps      BIGINT NOT NULL,
    tcp           BIGINT NOT NULL,
    udp           BIGINT NOT NULL,
    icmp          BIGINT NOT NULL,
    other         BIGINT NOT NULL,
    syn           BIGINT NOT NULL,
    amplification BIGINT NOT NULL,
    attacked      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, group_name, host, minute)
);
CREATE INDEX flow_traffic_host ON flow_traffic (host, minute);
CREATE INDEX flow_traffic_minute ON flow_traffic (minute);
