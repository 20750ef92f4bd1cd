-- ferry demo: a small shop in MariaDB (source)
DROP DATABASE IF EXISTS ferry_demo_shop;
CREATE DATABASE ferry_demo_shop CHARACTER SET utf8mb4;
USE ferry_demo_shop;
CREATE TABLE customers (
  id INT UNSIGNED PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name VARCHAR(80) NOT NULL,
  country CHAR(2),
  vip BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL
);
INSERT INTO customers
SELECT seq, CONCAT('user', seq, '@example.com'), CONCAT(ELT(1 + seq % 5, 'Ana', 'Bo', 'Chloé', 'Dmitri', '李'), ' ', seq),
       ELT(1 + seq % 4, 'DE', 'FR', 'US', 'JP'), seq % 17 = 0,
       TIMESTAMP('2023-01-01') + INTERVAL seq MINUTE + INTERVAL (seq * 37) % 1000000 MICROSECOND
FROM seq_1_to_20000;
CREATE TABLE products (
  sku VARCHAR(20) PRIMARY KEY,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(12,2) NOT NULL,
  attrs JSON,
  tags SET('new','sale','eco'),
  color ENUM('red','green','blue')
);
INSERT INTO products
SELECT CONCAT('SKU-', LPAD(seq, 6, '0')), CONCAT('Product ', seq, IF(seq % 10 = 0, ' 🚀', '')), ROUND(seq * 1.37, 2),
       JSON_OBJECT('weight_g', seq % 900, 'fragile', seq % 3 = 0), ELT(1 + seq % 4, 'new', 'sale', 'eco', 'new,eco'),
       ELT(1 + seq % 3, 'red', 'green', 'blue')
FROM seq_1_to_2000;
CREATE TABLE orders (
  id BIGINT UNSIGNED PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  sku VARCHAR(20) NOT NULL,
  qty SMALLINT NOT NULL,
  amount DECIMAL(14,2) NOT NULL,
  note TEXT,
  ordered_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY orders_by_customer (customer_id, ordered_at),
  KEY orders_by_sku (sku)
);
INSERT INTO orders
SELECT seq, 1 + seq % 20000, CONCAT('SKU-', LPAD(1 + seq % 2000, 6, '0')), 1 + seq % 5, ROUND((1 + seq % 5) * (1 + seq % 2000) * 1.37, 2),
       IF(seq % 11 = 0, NULL, CONCAT('note ', seq)), TIMESTAMP('2024-01-01') + INTERVAL seq SECOND
FROM seq_1_to_150000;
CREATE TABLE audit_log (at DATETIME NOT NULL, msg VARCHAR(100));
INSERT INTO audit_log SELECT TIMESTAMP('2024-06-01') + INTERVAL seq HOUR, CONCAT('event ', seq) FROM seq_1_to_500;
ANALYZE TABLE customers, products, orders, audit_log;
