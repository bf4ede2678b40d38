# ROW_NUMBER() OVER without a Top-N bound in the outer query.
-- setup
CREATE TABLE weibo (uid BIGINT, `time` TIMESTAMP(3),
  WATERMARK FOR `time` AS `time` - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (uid BIGINT, rn BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, rownum FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY uid) AS rownum
  FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE)))
WHERE uid > 3
-- error: needs the outer query to keep the first rows: WHERE rownum <= N @ 3:13
