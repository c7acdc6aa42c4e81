-- Flow bus mode (issue #6, R8.4). Each flow node (a collector: `anbao flow
-- collect` or `anbao serve` with flow_listen; or an `anbao flow worker`)
-- writes its status snapshot every few seconds, one row per node (upsert by
-- node id), so `anbao serve` on any node shows the whole deployment on
-- /flows, /api/v1/flows and /metrics. `snapshot` is anbao-flow's
-- FlowSnapshot as JSON; `updated_at` RFC 3339 text in UTC with
-- milliseconds (text order is time order), by the writing node's clock.

CREATE TABLE flow_nodes (
    node_id     TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    name        TEXT NOT NULL,
    bus_partition BIGINT,
    snapshot    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Failed withdrawals are retried by the executor with a growing delay:
-- `withdraw_failures` counts the failed attempts of the rule's withdrawal,
-- `retry_at` is when the next one is due (NULL: none scheduled).
ALTER TABLE flow_mitigations ADD COLUMN withdraw_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE flow_mitigations ADD COLUMN retry_at TEXT;
