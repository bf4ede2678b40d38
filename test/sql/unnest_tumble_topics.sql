# Hot topics: hashtags exploded with UNNEST over a TUMBLE window, counted per topic per minute.
-- setup
CREATE TABLE weibo (uid BIGINT, `time` TIMESTAMP(3), text STRING, loc STRING,
  WATERMARK FOR `time` AS `time` - INTERVAL '5' SECOND) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING, posts BIGINT, bloggers BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT window_start, window_end, topic, COUNT(*) AS posts, COUNT(DISTINCT uid) AS bloggers
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
  CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t (topic)
GROUP BY window_start, window_end, topic
-- input weibo
{"uid": 1, "time": "2026-11-25 10:00:01.000", "text": "#a# #b# hi", "loc": "x"}
{"uid": 2, "time": "2026-11-25 10:00:30.000", "text": "#a#", "loc": "x"}
{"uid": 1, "time": "2026-11-25 10:00:40.000", "text": "#a# again", "loc": "x"}
-- input weibo
{"uid": 3, "time": "2026-11-25 10:00:58.000", "text": "none", "loc": "x"}
{"uid": 3, "time": "2026-11-25 10:01:10.000", "text": "#b# #c#", "loc": "x"}
-- input weibo
{"uid": 4, "time": "2026-11-25 10:00:20.000", "text": "#late#", "loc": "x"}
{"uid": 4, "time": "2026-11-25 10:02:10.000", "text": "#c#", "loc": "x"}
-- expected rowsort
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | a | 3 | 2
2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | b | 1 | 1
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | b | 1 | 1
2026-11-25 10:01:00.000 | 2026-11-25 10:02:00.000 | c | 1 | 1
2026-11-25 10:02:00.000 | 2026-11-25 10:03:00.000 | c | 1 | 1
-- plan
Project(window_start AS window_start, window_end AS window_end, topic AS topic, $agg0 AS posts, $agg1 AS bloggers)
  WindowAggregate(TUMBLE(size=60000ms), groupBy=[window_start, window_end, topic], aggs=[COUNT(*), COUNT(DISTINCT uid)])
    Unnest(REGEXP_EXTRACT_ALL(text, '#([^#]+)#') AS topic)
      Source(table=weibo, connector=kafka, topic=weibo, watermark=time: `time` - INTERVAL '5' SECOND)
