-- Import speed (issue #4). On PostgreSQL this migration drops the two
-- foreign keys of intel_provenance, whose per-row triggers (a lookup and a
-- row lock on the parent) were two thirds of the cost of writing an import
-- chunk's provenance. On SQLite a foreign-key check is one probe of a page
-- already in the cache (measured: no difference in an import's time), and
-- dropping one means rebuilding the table, so they stay; nothing to do.
SELECT 1;
