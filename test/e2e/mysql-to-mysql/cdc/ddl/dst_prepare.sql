DROP DATABASE IF EXISTS e2e_mm_ddl_dst;
CREATE DATABASE e2e_mm_ddl_dst;
CREATE TABLE e2e_mm_ddl_dst.t (id INT PRIMARY KEY, a VARCHAR(20), old_col INT);
