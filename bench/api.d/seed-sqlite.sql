-- Seed for bench/api (SQLite). @USERS@ is replaced by the user count.
-- 31 province units under the root, then @USERS@ accounts spread over them.
-- All accounts share one (never used) argon2id hash; email and phone stay
-- '' (not set), so no sealing is needed.
BEGIN;
INSERT INTO org_units (parent_id, name, kind, code, created_at, updated_at)
WITH RECURSIVE p(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM p WHERE i < 31)
SELECT (SELECT id FROM org_units WHERE parent_id IS NULL), 'bench-province-' || i, 'province',
       printf('P%02d', i), '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
FROM p;

INSERT INTO users (username, display_name, role, org_unit_id, password_hash, created_at, updated_at)
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < @USERS@)
SELECT printf('user%06d', i),
       '测试用户 ' || i,
       CASE i % 3 WHEN 0 THEN 'analyst' WHEN 1 THEN 'responder' ELSE 'auditor' END,
       (SELECT min(id) FROM org_units WHERE name LIKE 'bench-province-%') + i % 31,
       '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0YmVuY2hzYWx0$5Q2wQ8oRkYH9bqk7m6kQ0mX0yqzQ0Yw0m7uQwQbYt3c',
       '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'
FROM s;
COMMIT;
