# One-minute tumbling count per topic; rows out of order within the 5 s bound, one late row.
-- setup
CREATE TABLE posts (uid BIGINT, topic STRING, ts TIMESTAMP(3), att INT,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING, n BIGINT, likes INT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT window_start, window_end, topic, COUNT(*) AS n, SUM(att) AS likes
FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, topic
-- input posts
{"uid": 1, "topic": "a", "ts": "2026-11-25 10:00:01.000", "att": 3}
{"uid": 2, "topic": "b", "ts": "2026-11-25 10:00:30.000", "att": 1}
{"uid": 3, "topic": "a", "ts": "2026-11-25 10:00:59.999", "att": null}
{"uid": 4, "topic": "a", "ts": "2026-11-25 10:01:02.000", "att": 5}
-- input posts
{"uid": 5, "topic": "a", "ts": "2026-11-25 10:00:58.000", "att": 7}
{"uid": 6, "topic": null, "ts": "2026-11-25 10:01:30.000", "att": 2}
{"uid": 7, "topic": "b", "ts": "2026-11-25 10:02:10.000", "att": 1}
-- input posts
{"uid": 8, "topic": "a", "ts": "2026-11-25 10:00:50.000", "att": 100}
{"uid": 9, "topic": "b", "ts": "2026-11-25 10:01:59.000", "att": 4}
-- expected rowsort
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | a | 3 | 10
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | b | 1 | 1
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | a | 1 | 5
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | NULL | 1 | 2
2026-11-25 10:02:00.000 | 2026-11-25 10:03:00.000 | b | 1 | 1
-- plan
Project(window_start AS window_start, window_end AS window_end, topic AS topic, $agg0 AS n, $agg1 AS likes)
  WindowAggregate(TUMBLE(size=60000ms), groupBy=[window_start, window_end, topic], aggs=[COUNT(*), SUM(att)])
    Source(table=posts, connector=kafka, topic=posts, watermark=ts: ts - INTERVAL '5' SECOND)
