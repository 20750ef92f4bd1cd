DROP DATABASE IF EXISTS e2e_mm_miss_src;
CREATE DATABASE e2e_mm_miss_src;
CREATE TABLE e2e_mm_miss_src.present (id INT PRIMARY KEY);
INSERT INTO e2e_mm_miss_src.present VALUES (1);
