# HOP (slide 30 s, size 1 min) with a WHERE, HAVING, COUNT(DISTINCT), MIN/MAX/AVG (AVG of INT stays INT).
-- setup
CREATE TABLE posts (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (ws TIMESTAMP(3), we TIMESTAMP(3), n BIGINT, users BIGINT, lo INT, hi INT, mean INT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT window_start, window_end, COUNT(*), COUNT(DISTINCT uid), MIN(att), MAX(att), AVG(att)
FROM TABLE(HOP(TABLE posts, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '1' MINUTE))
WHERE topic <> 'spam'
GROUP BY window_start, window_end
HAVING COUNT(*) > 1
-- input posts
{"uid": 1, "topic": "a", "ts": "2026-11-25 10:00:10", "att": 3}
{"uid": 1, "topic": "a", "ts": "2026-11-25 10:00:40", "att": 4}
{"uid": 2, "topic": "spam", "ts": "2026-11-25 10:00:41", "att": 1000}
{"uid": 2, "topic": "b", "ts": "2026-11-25 10:00:50", "att": 8}
-- input posts
{"uid": 3, "topic": "b", "ts": "2026-11-25 10:01:20", "att": 1}
{"uid": 3, "topic": "b", "ts": "2026-11-25 10:02:00", "att": 2}
-- expected
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | 3 | 2 | 3 | 8 | 5
2026-11-25 10:00:30.000 | 2026-11-25 10:01:30.000 | 3 | 3 | 1 | 8 | 4
-- plan
Project(window_start AS window_start, window_end AS window_end, $agg0 AS EXPR$2, $agg1 AS EXPR$3, $agg2 AS EXPR$4, $agg3 AS EXPR$5, $agg4 AS EXPR$6)
  Filter(($agg0 > 1))
    WindowAggregate(HOP(slide=30000ms, size=60000ms), groupBy=[window_start, window_end], aggs=[COUNT(*), COUNT(DISTINCT uid), MIN(att), MAX(att), AVG(att)])
      Filter((topic <> 'spam'))
        Source(table=posts, connector=kafka, topic=posts, watermark=ts: ts - INTERVAL '1' SECOND)
