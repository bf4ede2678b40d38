-- setup
CREATE TABLE posts (uid BIGINT, topic STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (a TIMESTAMP(3), b STRING, c BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT window_start, topic, COUNT(*)
FROM TABLE(TUMBLE(TABLE posts, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end
-- error: Column 'topic' must appear in GROUP BY @ 2:22
