# MAX over an updating input: the current max is retracted when its group moves on, and MAX falls back
# to the next largest value still present; COUNT(DISTINCT) counts values, not rows.
-- setup
CREATE TABLE posts (uid BIGINT, topic STRING) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (hi BIGINT, lo BIGINT, sizes BIGINT, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT MAX(cnt), MIN(cnt), COUNT(DISTINCT cnt), COUNT(*) FROM (
  SELECT topic, COUNT(*) AS cnt FROM posts GROUP BY topic
) WHERE cnt < 4
-- input posts
{"uid": 1, "topic": "a"}
{"uid": 1, "topic": "a"}
{"uid": 1, "topic": "a"}
{"uid": 1, "topic": "b"}
-- input posts
{"uid": 1, "topic": "a"}
-- input posts
{"uid": 1, "topic": "b"}
{"uid": 1, "topic": "c"}
-- expected
+I | 3 | 1 | 2 | 2
-U | 3 | 1 | 2 | 2
+U | 1 | 1 | 1 | 1
-U | 1 | 1 | 1 | 1
+U | 2 | 1 | 2 | 2
