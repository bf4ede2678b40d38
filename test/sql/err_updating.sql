# UNNEST cannot read an updating result (the window TVFs refuse one the same way, as Flink's group windows do).
-- setup
CREATE TABLE posts (uid BIGINT, tags ARRAY<STRING>) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (tag STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT x, n FROM (SELECT tags, COUNT(*) AS n FROM posts GROUP BY tags) CROSS JOIN UNNEST(tags) AS t(x)
-- error: UNNEST cannot read an updating result
