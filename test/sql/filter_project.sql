# Stateless: filter + projection with computed columns and Flink semantics (integer division, CONCAT with NULL).
-- setup
CREATE TABLE posts (uid BIGINT, text STRING, ret INT, att INT, epoch BIGINT,
  ts AS TO_TIMESTAMP_LTZ(epoch, 3)) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out (uid BIGINT, score INT, half INT, label STRING, tag STRING) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, ret + att AS score, att / 2, CONCAT('u', CAST(uid AS STRING), text),
       REGEXP_EXTRACT(text, '#([^#]+)#', 1)
FROM posts
WHERE att IS NOT NULL AND (ret > 0 OR text LIKE '%#%')
-- input posts
{"uid": 1, "text": "hello #天气# ok", "ret": 0, "att": 5, "epoch": 1764064800000}
{"uid": 2, "text": null, "ret": 3, "att": 4, "epoch": 1764064800000}
{"uid": 3, "text": "no tags", "ret": 0, "att": 9, "epoch": 1764064800000}
{"uid": 4, "text": "x", "ret": 1, "att": null, "epoch": 1764064800000}
{"uid": "5", "text": "#a# #b#", "ret": "2", "att": "7", "epoch": 1764064800000}
-- expected
1 | 5 | 2 | u1hello #天气# ok | 天气
2 | 7 | 2 | NULL | NULL
5 | 9 | 3 | u5#a# #b# | a
