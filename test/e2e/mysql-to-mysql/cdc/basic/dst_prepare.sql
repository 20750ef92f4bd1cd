DROP DATABASE IF EXISTS e2e_mm_cdc_dst;
CREATE DATABASE e2e_mm_cdc_dst;
USE e2e_mm_cdc_dst;
CREATE TABLE t_types (id BIGINT UNSIGNED PRIMARY KEY, ti TINYINT, dec1 DECIMAL(65,30), f FLOAT, d DOUBLE, b8 BIT(8), ch CHAR(10), vc VARCHAR(100),
  tx TEXT, bin VARBINARY(16), bl BLOB, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR, en ENUM('red','green','blue'),
  st SET('a','b','c'), js JSON);
CREATE TABLE t_comp (a INT, b VARCHAR(20), v INT, PRIMARY KEY (a, b));
