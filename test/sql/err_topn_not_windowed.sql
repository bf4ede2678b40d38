# A Top-N that is not partitioned by a window would be an updating query.
-- setup
CREATE TABLE weibo (uid BIGINT, `time` TIMESTAMP(3),
  WATERMARK FOR `time` AS `time` - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (uid BIGINT, rn BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, rownum FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY uid ORDER BY `time`) AS rownum
  FROM weibo)
WHERE rownum <= 1
-- error: must PARTITION BY window_start, window_end @ 3:45
