DROP DATABASE IF EXISTS e2e_pm_types_dst;
CREATE DATABASE e2e_pm_types_dst;
CREATE TABLE e2e_pm_types_dst.t_types (
  id BIGINT PRIMARY KEY, si SMALLINT, i INT, bi BIGINT, num DECIMAL(30,10), r FLOAT, d DOUBLE,
  b TINYINT(1), ch CHAR(5), vc VARCHAR(50), tx TEXT, ba LONGBLOB, dt DATE, tm TIME(6), ts DATETIME(6), tz DATETIME(6),
  js JSON, jb JSON, u VARCHAR(36), ip VARCHAR(43), arr TEXT
);
