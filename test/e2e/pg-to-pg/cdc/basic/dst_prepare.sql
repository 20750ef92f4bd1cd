DROP SCHEMA IF EXISTS e2e_pp_cdc_dst CASCADE;
CREATE SCHEMA e2e_pp_cdc_dst;
SET search_path = e2e_pp_cdc_dst;
CREATE TABLE t_types (id BIGINT PRIMARY KEY, i INT, n NUMERIC, n2 NUMERIC(65,30), r REAL, d DOUBLE PRECISION, b BOOLEAN, bits BIT(8),
  vc VARCHAR(50), tx TEXT, ba BYTEA, dt DATE, tm TIME(6), ts TIMESTAMP(6), tz TIMESTAMPTZ, iv INTERVAL, u UUID, ip INET,
  js JSON, jb JSONB, arr TEXT[]);
CREATE TABLE t_comp (a INT, b TEXT, v INT, PRIMARY KEY (a, b));
CREATE TABLE t_big (id INT PRIMARY KEY, small INT, huge TEXT);
INSERT INTO t_big VALUES (1, 0, repeat('toast!', 50000));
