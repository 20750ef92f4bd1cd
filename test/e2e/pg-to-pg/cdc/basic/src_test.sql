SET search_path = e2e_pp_cdc_src;
INSERT INTO t_types VALUES
 (1, -2147483648, 'NaN', '-12345678901234567890123456789012345.123456789012345678901234567890', 'Infinity', '-Infinity', TRUE, B'10100101',
  'emoji 😀', 'x', '\x00ff00', '2024-02-29', '23:59:59.999999', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.654321+05:30', '1 year 2 mons 3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.0/24', '{"a": [1, 2]}', '{"b": {"c": null}}', '{"x","y z"}'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (9223372036854775807, 0, 0.1, 0, 0, 0, FALSE, B'00000000', '', '', '\x', '1970-01-01', '00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', '0', '00000000-0000-0000-0000-000000000000', '::1', '[]', '{}', '{}');
UPDATE t_types SET vc = 'updated', ts = ts + INTERVAL '0.000001 second' WHERE id = 1;
UPDATE t_types SET id = 3 WHERE id = 2;
INSERT INTO t_comp SELECT g % 5, 'k' || g, g FROM generate_series(1, 2000) g;
BEGIN;
DELETE FROM t_comp WHERE a = 1;
UPDATE t_comp SET v = -v WHERE a = 2;
UPDATE t_comp SET b = b || '-moved' WHERE a = 3 AND v < 100;
UPDATE t_big SET small = 42 WHERE id = 1;
COMMIT;
DELETE FROM t_types WHERE id = 9223372036854775807;
