-- Import speed (issue #4): the text columns of the indicator and provenance
-- indexes compare byte-wise. Under the database's default collation every
-- B-tree comparison went through the locale (PostgreSQL 15 treats only
-- "C" and "POSIX" as plain memcmp, not C.UTF-8 nor en_US.UTF-8), once per
-- level and binary-search step of every probe and insert: measured, a
-- tenth to a seventh of the server time of an import. The store only tests
-- these columns for equality (unaffected), groups kind and category (ASCII
-- names, the same order under any collation) and searches values with
-- LOWER(value COLLATE "default") LIKE, which keeps the database's case
-- rules. SQLite compares them byte-wise already (BINARY).
ALTER TABLE intel_indicators
    ALTER COLUMN kind TYPE TEXT COLLATE "C",
    ALTER COLUMN value TYPE TEXT COLLATE "C",
    ALTER COLUMN category TYPE TEXT COLLATE "C";
ALTER TABLE intel_provenance ALTER COLUMN source TYPE TEXT COLLATE "C";
