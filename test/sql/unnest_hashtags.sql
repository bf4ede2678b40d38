# CROSS JOIN UNNEST of every hashtag of a post (stateless); posts without tags and NULL text give no row.
-- setup
CREATE TABLE weibo (uid BIGINT, tid BIGINT, text STRING, loc STRING, att INT) WITH ('connector' = 'kafka', 'topic' = 'weibo');
CREATE TABLE out (uid BIGINT, topic STRING, att INT) WITH ('connector' = 'kafka', 'topic' = 'out');
-- query
INSERT INTO out
SELECT uid, t.topic, att
FROM weibo CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)
WHERE t.topic <> '天气'
-- input weibo
{"uid": 1, "tid": 10, "text": "#双十一# #世界杯# 太精彩了", "loc": "x", "att": 3}
{"uid": 2, "tid": 11, "text": "no tags", "loc": "x", "att": 1}
{"uid": 3, "tid": 12, "text": null, "loc": "x", "att": 1}
-- input weibo
{"uid": 4, "tid": 13, "text": "#天气# #高考# ok", "loc": "x", "att": 5}
-- expected
1 | 双十一 | 3
1 | 世界杯 | 3
4 | 高考 | 5
-- plan
Project(uid AS uid, topic AS topic, att AS att)
  Filter((topic <> '天气'))
    Unnest(REGEXP_EXTRACT_ALL(text, '#([^#]+)#') AS topic)
      Source(table=weibo, connector=kafka, topic=weibo)
