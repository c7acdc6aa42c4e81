-- Two indexes no query reads (issue #4, import speed): the indicator
-- search is a substring match on LOWER(value), which neither a plain nor a
-- text_pattern_ops index serves, exact lookups go through UNIQUE (kind,
-- value), and nothing orders or filters indicators by updated_at. Each one
-- cost a B-tree insert per new indicator and a B-tree update per changed one.
DROP INDEX IF EXISTS intel_indicators_value;
DROP INDEX IF EXISTS intel_indicators_updated;
