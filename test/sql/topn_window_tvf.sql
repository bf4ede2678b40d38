# Window Top-N straight over a window TVF, partitioned by place too; the outer filter on att applies after
# ranking; of two rows with equal att the first to arrive ranks first (uid 2 before uid 6, which drops out).
-- setup
CREATE TABLE weibo (uid BIGINT, `time` TIMESTAMP(3), loc STRING, att INT,
  WATERMARK FOR `time` AS `time` - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (window_start TIMESTAMP(3), window_end TIMESTAMP(3), loc STRING, uid BIGINT, att INT, rn BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT window_start, window_end, loc, uid, att, rownum FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, loc ORDER BY att DESC) AS rownum
  FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
) WHERE rownum <= 2 AND att > 1
-- input weibo
{"uid": 1, "time": "2026-11-25 10:00:01.000", "loc": "bj", "att": 5}
{"uid": 2, "time": "2026-11-25 10:00:02.000", "loc": "bj", "att": 9}
{"uid": 3, "time": "2026-11-25 10:00:03.000", "loc": "bj", "att": 1}
{"uid": 4, "time": "2026-11-25 10:00:04.000", "loc": "sh", "att": 1}
{"uid": 5, "time": "2026-11-25 10:00:05.000", "loc": "sh", "att": 3}
{"uid": 6, "time": "2026-11-25 10:00:06.000", "loc": "bj", "att": 9}
{"uid": 7, "time": "2026-11-25 10:01:30.000", "loc": "bj", "att": 2}
{"uid": 8, "time": "2026-11-25 10:00:50.000", "loc": "bj", "att": 99}
-- expected rowsort
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | bj | 2 | 9 | 2
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | bj | 8 | 99 | 1
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | sh | 5 | 3 | 1
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | bj | 7 | 2 | 1
