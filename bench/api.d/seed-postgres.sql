-- Seed for bench/api (PostgreSQL). @USERS@ is replaced by the user count.
-- Same data as seed-sqlite.sql.
BEGIN;
INSERT INTO org_units (parent_id, name, kind, code, created_at, updated_at)
SELECT (SELECT id FROM org_units WHERE parent_id IS NULL), 'bench-province-' || i, 'province',
       'P' || lpad(i::text, 2, '0'), '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
FROM generate_series(1, 31) AS i;

INSERT INTO users (username, display_name, role, org_unit_id, password_hash, created_at, updated_at)
SELECT 'user' || lpad(i::text, 6, '0'),
       '测试用户 ' || i,
       CASE i % 3 WHEN 0 THEN 'analyst' WHEN 1 THEN 'responder' ELSE 'auditor' END,
       (SELECT min(id) FROM org_units WHERE name LIKE 'bench-province-%') + i % 31,
       '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0YmVuY2hzYWx0$5Q2wQ8oRkYH9bqk7m6kQ0mX0yqzQ0Yw0m7uQwQbYt3c',
       '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
FROM generate_series(1, @USERS@) AS i;
COMMIT;
