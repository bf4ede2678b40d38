-- The continuous analytics. Each INSERT is one job, named by the SET before it.
SET 'pipeline.name' = 'hot-bloggers';
INSERT INTO hot_bloggers
SELECT window_start, window_end, uid, COUNT(*) AS posts, SUM(ret + att) AS engagement
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, uid;

-- Every hashtag of each post: UNNEST gives one row per #话题#, then a count per topic per minute.
SET 'pipeline.name' = 'hot-topics';
INSERT INTO hot_topics
SELECT window_start, window_end, topic, COUNT(*) AS posts, COUNT(DISTINCT uid) AS bloggers
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
  CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)
GROUP BY window_start, window_end, topic;

SET 'pipeline.name' = 'posts-by-location';
INSERT INTO posts_by_loc
SELECT window_start, window_end, loc, COUNT(*) AS posts
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, loc;

SET 'pipeline.name' = 'posts-by-type';
INSERT INTO posts_by_type
SELECT window_start, window_end,
       SUM(CASE WHEN type = 'original' THEN 1 ELSE 0 END) AS originals,
       SUM(CASE WHEN type = 'forward' THEN 1 ELSE 0 END) AS forwards
FROM TABLE(HOP(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;

-- The cleaned feed into the Parquet lake (tables.sql: weibo_lake, partitioned by dt and hr): valid rows
-- only, text trimmed, dt/hr from the post's time.
SET 'pipeline.name' = 'clean-feed';
INSERT INTO weibo_lake
SELECT uid, tid, `time`, TRIM(text) AS text, loc, type, rtid, ret, mre, att,
       DATE_FORMAT(`time`, 'yyyy-MM-dd') AS dt, DATE_FORMAT(`time`, 'HH') AS hr
FROM weibo
WHERE uid IS NOT NULL AND tid IS NOT NULL AND `time` IS NOT NULL AND text IS NOT NULL AND CHAR_LENGTH(TRIM(text)) > 0;
