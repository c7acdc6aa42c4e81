-- Import speed (issue #4). On PostgreSQL this migration makes the indexed
-- text columns of intel_indicators and intel_provenance compare byte-wise
-- (COLLATE "C"). SQLite's default collation (BINARY) is that already;
-- nothing to do.
SELECT 1;
