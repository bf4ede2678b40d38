-- Live leaderboards kept as materialized views in SQLite: query them any time with
--   curl -s localhost:8080/v1/query -H 'content-type: application/json' \
--     -d '{"sql": "SELECT * FROM leaderboard_bloggers ORDER BY window_start DESC, engagement DESC LIMIT 10"}'
-- or watch one change live: curl -N localhost:8080/v1/views/leaderboard_bloggers/changes
CREATE MATERIALIZED VIEW IF NOT EXISTS leaderboard_bloggers AS
SELECT window_start, window_end, uid, COUNT(*) AS posts, SUM(ret + att) AS engagement
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, uid;

CREATE MATERIALIZED VIEW IF NOT EXISTS posts_per_minute AS
SELECT window_start, window_end, type, COUNT(*) AS posts
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, type;

CREATE MATERIALIZED VIEW IF NOT EXISTS places_per_minute AS
SELECT window_start, window_end, loc, COUNT(*) AS posts
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, loc;

-- Every hashtag per minute (the hot-topics job's query, kept as a view): the demo dashboard's bar chart.
CREATE MATERIALIZED VIEW IF NOT EXISTS hot_topics_per_minute AS
SELECT window_start, window_end, topic, COUNT(*) AS posts, COUNT(DISTINCT uid) AS bloggers
FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
  CROSS JOIN UNNEST(REGEXP_EXTRACT_ALL(text, '#([^#]+)#')) AS t(topic)
GROUP BY window_start, window_end, topic;

-- The top 10 bloggers of every minute by engagement, ranked in the stream (a Window Top-N): one row per
-- minute and rank, final when the minute closes.
CREATE MATERIALIZED VIEW IF NOT EXISTS top_bloggers_per_minute AS
SELECT * FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY engagement DESC, posts DESC, uid) AS rownum
  FROM (
    SELECT window_start, window_end, uid, COUNT(*) AS posts, SUM(ret + att) AS engagement
    FROM TABLE(TUMBLE(TABLE weibo, DESCRIPTOR(`time`), INTERVAL '1' MINUTE))
    GROUP BY window_start, window_end, uid))
WHERE rownum <= 10;
