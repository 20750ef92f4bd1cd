DROP DATABASE IF EXISTS e2e_mm_basic_src;
CREATE DATABASE e2e_mm_basic_src;
USE e2e_mm_basic_src;
-- integer key, cut by min/max
CREATE TABLE t_int (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(30), pad VARCHAR(60), d DECIMAL(12,3), ts DATETIME(6));
INSERT INTO t_int SELECT seq, seq % 97, CONCAT('c-', seq), REPEAT('p', seq % 50), seq / 7, TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq SECOND + INTERVAL seq MICROSECOND FROM seq_1_to_3000;
-- a gap-heavy integer key
CREATE TABLE t_sparse (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(10));
INSERT INTO t_sparse SELECT seq * 1000003, 'x' FROM seq_1_to_700;
INSERT INTO t_sparse VALUES (18446744073709551615, 'max');
-- composite key, cut by walking the key
CREATE TABLE t_comp (a INT, b VARCHAR(20), v TEXT, PRIMARY KEY (a, b));
INSERT INTO t_comp SELECT seq % 13, CONCAT('b', seq), CONCAT('v', seq) FROM seq_1_to_1500;
-- string key with mixed case and emoji (collation-ordered by the server)
CREATE TABLE t_str (code VARCHAR(40) PRIMARY KEY, n INT);
INSERT INTO t_str SELECT CONCAT(ELT(1 + seq % 4, 'a', 'B', 'é', '😀'), seq), seq FROM seq_1_to_900;
-- keyless table with duplicate rows
CREATE TABLE t_nokey (x INT, y VARCHAR(10));
INSERT INTO t_nokey SELECT seq % 10, 'dup' FROM seq_1_to_400;
-- empty table
CREATE TABLE t_empty (id INT PRIMARY KEY, v INT);
-- only a nullable unique key: NULL-key rows get their own chunk
CREATE TABLE t_nullable_uk (u INT NULL, v VARCHAR(10), UNIQUE KEY uk (u));
INSERT INTO t_nullable_uk SELECT seq, 'v' FROM seq_1_to_300;
INSERT INTO t_nullable_uk VALUES (NULL, 'n1'), (NULL, 'n2');
ANALYZE TABLE t_int, t_sparse, t_comp, t_str, t_nokey, t_nullable_uk;
