# The comma form of UNNEST, with SELECT * over a window TVF: Flink's column order (window columns, then the element).
-- setup
CREATE TABLE posts (uid BIGINT, tags ARRAY<STRING>, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT, tags ARRAY<STRING>, ts TIMESTAMP(3), window_start TIMESTAMP(3), window_end TIMESTAMP(3), window_time TIMESTAMP(3), tag STRING) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT * FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE)), UNNEST(tags) AS u(tag)
-- input posts
{"uid": 1, "tags": ["x", "y"], "ts": "2026-11-25 10:00:01.000"}
{"uid": 2, "tags": [], "ts": "2026-11-25 10:00:02.000"}
-- expected
1 | ["x","y"] | 2026-11-25 10:00:01.000 | 2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | 2026-11-25 10:00:59.999 | x
1 | ["x","y"] | 2026-11-25 10:00:01.000 | 2026-11-25 10:00:00.000 | 2026-11-25 10:01:00.000 | 2026-11-25 10:00:59.999 | y
