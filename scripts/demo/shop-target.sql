-- ferry demo: target tables in PostgreSQL (ape-dts's MySQL -> PostgreSQL type mapping)
DROP SCHEMA IF EXISTS ferry_demo_shop CASCADE;
CREATE SCHEMA ferry_demo_shop;
SET search_path = ferry_demo_shop;
CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, name VARCHAR(80) NOT NULL, country CHAR(2),
  vip SMALLINT NOT NULL DEFAULT 0, created_at TIMESTAMP(6) NOT NULL);
CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, title VARCHAR(200) NOT NULL, price NUMERIC(12,2) NOT NULL, attrs JSONB,
  tags VARCHAR(20), color VARCHAR(10));
CREATE TABLE orders (id NUMERIC(20,0) PRIMARY KEY, customer_id BIGINT NOT NULL, sku VARCHAR(20) NOT NULL, qty SMALLINT NOT NULL,
  amount NUMERIC(14,2) NOT NULL, note TEXT, ordered_at TIMESTAMP(6) NOT NULL);
CREATE TABLE audit_log (at TIMESTAMP NOT NULL, msg VARCHAR(100));
