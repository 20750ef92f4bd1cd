DROP SCHEMA IF EXISTS e2e_mp_types_dst CASCADE;
CREATE SCHEMA e2e_mp_types_dst;
-- the ape-dts MySQL -> PostgreSQL type mapping
CREATE TABLE e2e_mp_types_dst.t_types (
  id INT PRIMARY KEY,
  ti SMALLINT, si INT, mi INT, bi BIGINT, ubi NUMERIC(20,0),
  dec1 NUMERIC(65,30), f REAL, d DOUBLE PRECISION, b1 BIT(1), b8 BIT(8), bool1 SMALLINT,
  ch CHAR(10), vc VARCHAR(100), tx TEXT, bin BYTEA, bl BYTEA,
  dt DATE, tm INTERVAL, dtm TIMESTAMP(6), ts TIMESTAMP(6), yr SMALLINT,
  en VARCHAR(10), st VARCHAR(10), js JSONB
);
