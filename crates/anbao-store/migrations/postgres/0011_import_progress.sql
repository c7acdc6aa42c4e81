-- When an import last made progress (begun, or a chunk written). A run
-- still `running` with no progress for IMPORT_STALE (anbao_store) belongs to
-- a process that died or was killed, and is reported as `interrupted`.
ALTER TABLE intel_imports ADD COLUMN progress_at TEXT;
