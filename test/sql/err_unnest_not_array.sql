# UNNEST needs an array.
-- setup
CREATE TABLE posts (uid BIGINT, text STRING) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT, x STRING) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, x FROM posts CROSS JOIN UNNEST(text) AS t(x)
-- error: UNNEST needs an ARRAY, not STRING @ 2:44
