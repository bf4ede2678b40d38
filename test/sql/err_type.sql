-- setup
CREATE TABLE posts (uid BIGINT, text STRING) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT, n TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, text FROM posts
-- error: sink column 'n' is TIMESTAMP(3)
