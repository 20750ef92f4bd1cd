DROP DATABASE IF EXISTS e2e_mm_ddl_src;
CREATE DATABASE e2e_mm_ddl_src;
CREATE TABLE e2e_mm_ddl_src.t (id INT PRIMARY KEY, a VARCHAR(20), old_col INT);
