# Hot bloggers: the top 2 bloggers per minute by posts (ties by uid), a Window Top-N over a window aggregate.
-- setup
CREATE TABLE weibo (uid BIGINT, `time` TIMESTAMP(3), text STRING,
  WATERMARK FOR `time` AS `time` - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (window_start TIMESTAMP(3), window_end TIMESTAMP(3), uid BIGINT, posts BIGINT, rn BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT window_start, window_end, uid, posts, rownum FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY posts DESC, uid) AS rownum
  FROM (
    SELECT window_start, window_end, uid, COUNT(*) AS posts
    FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
    GROUP BY window_start, window_end, uid))
WHERE rownum <= 2
-- input weibo
{"uid": 3, "time": "2026-11-25 10:00:01.000", "text": "a"}
{"uid": 2, "time": "2026-11-25 10:00:10.000", "text": "b"}
{"uid": 1, "time": "2026-11-25 10:00:20.000", "text": "c"}
{"uid": 3, "time": "2026-11-25 10:00:30.000", "text": "d"}
{"uid": 1, "time": "2026-11-25 10:00:40.000", "text": "e"}
{"uid": 2, "time": "2026-11-25 10:00:50.000", "text": "f"}
{"uid": 4, "time": "2026-11-25 10:00:55.000", "text": "g"}
{"uid": 5, "time": "2026-11-25 10:01:10.000", "text": "h"}
{"uid": 6, "time": "2026-11-25 10:01:20.000", "text": "i"}
{"uid": 5, "time": "2026-11-25 10:01:30.000", "text": "j"}
{"uid": 9, "time": "2026-11-25 10:02:30.000", "text": "k"}
-- expected rowsort
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | 1 | 2 | 1
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | 2 | 2 | 2
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | 5 | 2 | 1
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | 6 | 1 | 2
2026-11-25 10:02:00.000 | 2026-11-25 10:03:00.000 | 9 | 1 | 1
-- plan
Project(window_start AS window_start, window_end AS window_end, uid AS uid, posts AS posts, rownum AS rownum)
  Project(window_start AS window_start, window_end AS window_end, uid AS uid, posts AS posts, rownum AS rownum)
    WindowTopN(partitionBy=[window_start, window_end], orderBy=[posts DESC, uid], limit=2, rowNumber=rownum)
      Project(window_start AS window_start, window_end AS window_end, uid AS uid, $agg0 AS posts)
        WindowAggregate(TUMBLE(size=60000ms), groupBy=[window_start, window_end, uid], aggs=[COUNT(*)])
          Source(table=weibo, connector=kafka, topic=weibo, watermark=time: `time` - INTERVAL '5' SECOND)
