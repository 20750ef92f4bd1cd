DROP DATABASE IF EXISTS `e2e mm names-dst`;
CREATE DATABASE `e2e mm names-dst`;
USE `e2e mm names-dst`;
CREATE TABLE `select` (`from` INT PRIMARY KEY, `a``b` VARCHAR(20), `col "q"` INT, `ünïcødé 列` VARCHAR(20));
CREATE TABLE `tb.with.dots` (`k ey` VARCHAR(30) PRIMARY KEY, v INT);
CREATE TABLE `表` (id INT PRIMARY KEY, `值` TEXT);
