-- setup
CREATE TABLE posts (uid BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid FROM posts
WHERE nope > 1
-- error: Column 'nope' not found @ 3:7
