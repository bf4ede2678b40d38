# An aggregate over an aggregate consumes retractions: how many users have posted n times; MAX/MIN of
# the inner counts stay right when the current extremum is retracted.
-- setup
CREATE TABLE posts (uid BIGINT, att INT) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (n BIGINT, users BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT cnt, COUNT(*) FROM (SELECT uid, COUNT(*) AS cnt FROM posts GROUP BY uid) GROUP BY cnt
-- input posts
{"uid": 1, "att": 1}
{"uid": 2, "att": 1}
{"uid": 3, "att": 1}
-- input posts
{"uid": 1, "att": 1}
-- input posts
{"uid": 1, "att": 1}
{"uid": 2, "att": 1}
# Last block: user 1 goes 2 -> 3 posts and user 2 goes 1 -> 2: the group cnt=2 loses one user and gains
# one in the same batch, so it emits nothing (updates within a batch are collapsed).
-- expected
+I | 1 | 3
-U | 1 | 3
+U | 1 | 2
+I | 2 | 1
+I | 3 | 1
-U | 1 | 2
+U | 1 | 1
