DROP DATABASE IF EXISTS e2e_mm_fr_dst;
CREATE DATABASE e2e_mm_fr_dst;
USE e2e_mm_fr_dst;
CREATE TABLE orders_copy (id INT PRIMARY KEY, total DECIMAL(10,2), status VARCHAR(10));
CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20));
CREATE TABLE tmp_keep (id INT PRIMARY KEY);
