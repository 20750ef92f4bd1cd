DROP DATABASE IF EXISTS e2e_mm_miss_dst;
CREATE DATABASE e2e_mm_miss_dst;
