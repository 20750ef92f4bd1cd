USE e2e_mp_cdc_src;
INSERT INTO orders SELECT seq, seq * 1.25, IF(seq % 7 = 0, NULL, CONCAT('n', seq)), seq % 2, TIMESTAMP('2024-01-01') + INTERVAL seq SECOND + INTERVAL seq MICROSECOND,
  JSON_OBJECT('seq', seq), IF(seq % 3 = 0, 'a,b', 'a') FROM seq_1_to_2000;
UPDATE orders SET amount = amount + 0.01, at = at + INTERVAL 1 MICROSECOND WHERE id % 10 = 0;
DELETE FROM orders WHERE id % 9 = 0;
UPDATE orders SET id = id + 100000 WHERE id < 50;
INSERT INTO orders VALUES (18446744073709551615, 0.01, 'max', 1, '2024-12-31 23:59:59.999999', '[]', '');
