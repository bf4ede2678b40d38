# Non-windowed GROUP BY: an updating aggregate. Per input batch, the net change per key (+I new key,
# -U/+U before/after the batch); a HAVING that flips turns an update into +I (now passes) or -D (no longer).
-- setup
CREATE TABLE posts (uid BIGINT, att INT, loc STRING) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT, n BIGINT, total INT, hi INT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, COUNT(*), SUM(att), MAX(att) FROM posts
WHERE loc IS NOT NULL
GROUP BY uid
HAVING COUNT(*) >= 2 AND SUM(att) < 100
-- input posts
{"uid": 1, "att": 3, "loc": "a"}
{"uid": 1, "att": 4, "loc": "a"}
{"uid": 2, "att": 8, "loc": "b"}
{"uid": 2, "att": 1, "loc": null}
-- input posts
{"uid": 2, "att": 9, "loc": "b"}
{"uid": 1, "att": 5, "loc": "c"}
{"uid": 1, "att": 6, "loc": "c"}
-- input posts
{"uid": 1, "att": 90, "loc": "c"}
{"uid": null, "att": 1, "loc": "x"}
{"uid": null, "att": 2, "loc": "x"}
-- expected
+I | 1 | 2 | 7 | 4
+I | 2 | 2 | 17 | 9
-U | 1 | 2 | 7 | 4
+U | 1 | 4 | 18 | 6
-D | 1 | 4 | 18 | 6
+I | NULL | 2 | 3 | 2
-- plan
Project(uid AS uid, $agg0 AS EXPR$1, $agg1 AS EXPR$2, $agg2 AS EXPR$3)
  Filter((($agg0 >= 2) AND ($agg1 < 100)))
    GroupAggregate(groupBy=[uid], aggs=[COUNT(*), SUM(att), MAX(att)])
      Filter(IS NOT NULL(loc))
        Source(table=posts, connector=kafka, topic=posts)
