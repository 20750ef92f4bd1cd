DROP SCHEMA IF EXISTS e2e_mp_cdc_dst CASCADE;
CREATE SCHEMA e2e_mp_cdc_dst;
CREATE TABLE e2e_mp_cdc_dst.orders (id NUMERIC(20,0) PRIMARY KEY, amount NUMERIC(14,2), note TEXT, flag SMALLINT, at TIMESTAMP(6), js JSONB, tags VARCHAR(10));
