DROP DATABASE IF EXISTS e2e_mp_cdc_src;
CREATE DATABASE e2e_mp_cdc_src;
CREATE TABLE e2e_mp_cdc_src.orders (id BIGINT UNSIGNED PRIMARY KEY, amount DECIMAL(14,2), note TEXT, flag TINYINT(1), at DATETIME(6), js JSON, tags SET('a','b'));
