-- setup
CREATE TABLE posts (uid BIGINT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, COUNT(*) FROM posts GROUP BY uid
-- error: updating query @ 2:42
