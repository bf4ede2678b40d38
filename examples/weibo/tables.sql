-- The Weibo feed and the topics the analytics write to. Safe to run again (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS weibo (
  uid BIGINT, tid BIGINT, `time` TIMESTAMP(3), text STRING, loc STRING,
  type STRING, rt BOOLEAN, rtid BIGINT, rtt TIMESTAMP(3), ret INT, mre INT, att INT,
  WATERMARK FOR `time` AS `time` - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka', 'topic' = 'weibo_data', 'format' = 'json',
  'scan.startup.mode' = 'earliest-offset',
  'dead-letter.topic' = 'weibo_dead_letters'
);

CREATE TABLE IF NOT EXISTS hot_bloggers (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), uid BIGINT, posts BIGINT, engagement INT
) WITH ('connector' = 'kafka', 'topic' = 'hot_bloggers', 'format' = 'json', 'key.format' = 'json', 'key.fields' = 'uid');

CREATE TABLE IF NOT EXISTS hot_topics (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), topic STRING, posts BIGINT, bloggers BIGINT
) WITH ('connector' = 'kafka', 'topic' = 'hot_topics', 'format' = 'json');

CREATE TABLE IF NOT EXISTS posts_by_loc (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), loc STRING, posts BIGINT
) WITH ('connector' = 'kafka', 'topic' = 'posts_by_loc', 'format' = 'json');

CREATE TABLE IF NOT EXISTS posts_by_type (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), originals BIGINT, forwards BIGINT
) WITH ('connector' = 'kafka', 'topic' = 'posts_by_type', 'format' = 'json');

-- The cleaned feed in a Parquet lake, one directory per day and hour (dt=2026-11-25/hr=08/part-*.parquet).
-- Files become visible at each checkpoint. The path is relative to the server's working directory: the
-- demo's data dir. Read it with DuckDB: read_parquet('.weir/demo/lake/**/*.parquet', hive_partitioning=true).
CREATE TABLE IF NOT EXISTS weibo_lake (
  uid BIGINT, tid BIGINT, `time` TIMESTAMP(3), text STRING, loc STRING, type STRING,
  rtid BIGINT, ret INT, mre INT, att INT, dt STRING, hr STRING
) PARTITIONED BY (dt, hr) WITH (
  'connector' = 'filesystem', 'path' = '.weir/demo/lake', 'format' = 'parquet',
  'sink.rolling-policy.file-size' = '64MB'
);
