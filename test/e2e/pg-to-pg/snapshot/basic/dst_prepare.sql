DROP SCHEMA IF EXISTS e2e_pp_basic_dst CASCADE;
CREATE SCHEMA e2e_pp_basic_dst;
SET search_path = e2e_pp_basic_dst;
CREATE TABLE t_int (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(30), d NUMERIC, ts TIMESTAMP(6), tz TIMESTAMPTZ);
CREATE TABLE t_comp (a INT, b TEXT, v JSONB, PRIMARY KEY (a, b));
CREATE TABLE t_uuid (id UUID PRIMARY KEY, n BIGINT);
CREATE TABLE t_nokey (x INT, y TEXT);
CREATE TABLE t_empty (id INT PRIMARY KEY);
CREATE TABLE "Mixed Case ""quoted""" ("Id" INT PRIMARY KEY, "select" TEXT, "ünï" TEXT);
