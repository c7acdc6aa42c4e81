-- Import speed (issue #4): the two foreign keys of intel_provenance ran a
-- trigger per provenance row, each looking its parent row up and locking
-- it (FOR KEY SHARE, a WAL record on the indicator's page): measured, they
-- were two thirds of the cost of writing an import chunk's provenance.
-- Provenance rows are written only by the import (with the id of the
-- indicator the same transaction found or created, and the id of the run
-- it began), and removed by the one place that deletes an indicator
-- (Store::intel_delete_indicator, in the same transaction); imports are
-- never deleted. The store keeps the reference, as it does on SQLite,
-- where a foreign key costs one probe of a page already in the cache and
-- stays.
ALTER TABLE intel_provenance DROP CONSTRAINT IF EXISTS intel_provenance_indicator_id_fkey;
ALTER TABLE intel_provenance DROP CONSTRAINT IF EXISTS intel_provenance_import_id_fkey;
