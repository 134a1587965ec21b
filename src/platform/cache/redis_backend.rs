use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, AsyncConnectionConfig, RedisResult};

use super::{Cache, CacheError, CacheResult};

/// Redis backend: one multiplexed connection per process, opened on first use and again after
/// any failure that is not Redis's own answer. Every step is bounded (connect 1 s, answer
/// 1.5 s), so a stopped or stalled Redis costs a request at most that before its 503, and the
/// first call after Redis returns connects afresh.
///
/// (redis-rs's `ConnectionManager` was tried first: after Redis had been stopped for a while it
/// kept a failed reconnect and never recovered without a restart of this process.)
#[derive(Clone)]
pub struct RedisCache {
    client: redis::Client,
    config: AsyncConnectionConfig,
    conn: Arc<tokio::sync::Mutex<Option<MultiplexedConnection>>>,
}

fn err(e: redis::RedisError) -> CacheError {
    CacheError(e.to_string())
}

// INCR, and start the window on the first increment; returns count and ms left.
const INCR_WINDOW: &str = r#"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"#;

// DECR only a live counter, keeping its expiry.
const DECR_WINDOW: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  redis.call('DECR', KEYS[1])
end
return 1
"#;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(1500);

impl RedisCache {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT);
        let cache = Self {
            client,
            config,
            conn: Arc::new(tokio::sync::Mutex::new(None)),
        };
        // Fail the start if Redis is not there at all: a misconfigured URL should not wait for
        // the first request to show.
        cache
            .connection()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach Redis: {e}"))?;
        Ok(cache)
    }

    async fn connection(&self) -> CacheResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.client
                .get_multiplexed_async_connection_with_config(&self.config),
        )
        .await
        .map_err(|_| CacheError("connecting to Redis timed out".into()))?
        .map_err(err)?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Runs one call on the connection; a failure that is not Redis answering with an error
    /// drops the connection, so the next call opens a new one.
    async fn run<T, F, Fut>(&self, call: F) -> CacheResult<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = RedisResult<T>>,
    {
        let c = self.connection().await?;
        match call(c).await {
            Ok(v) => Ok(v),
            Err(e) => {
                if !matches!(
                    e.kind(),
                    redis::ErrorKind::ResponseError | redis::ErrorKind::TypeError
                ) {
                    *self.conn.lock().await = None;
                }
                Err(err(e))
            }
        }
    }
}

fn ms(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> CacheResult<Option<String>> {
        self.run(|mut c| async move { c.get(key).await }).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        self.run(|mut c| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ms(ttl))
                .query_async(&mut c)
                .await
        })
        .await
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool> {
        let r: Option<String> = self
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms(ttl))
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(r.is_some())
    }

    async fn delete(&self, key: &str) -> CacheResult<()> {
        self.run(|mut c| async move { c.del::<_, ()>(key).await })
            .await
    }

    async fn exists_any(&self, keys: &[String]) -> CacheResult<bool> {
        if keys.is_empty() {
            return Ok(false);
        }
        let n: u64 = self
            .run(|mut c| async move { redis::cmd("EXISTS").arg(keys).query_async(&mut c).await })
            .await?;
        Ok(n > 0)
    }

    async fn get_many(&self, keys: &[String]) -> CacheResult<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.run(|mut c| async move { redis::cmd("MGET").arg(keys).query_async(&mut c).await })
            .await
    }

    async fn incr_window(&self, key: &str, ttl: Duration) -> CacheResult<(u64, Duration)> {
        let (n, left): (u64, i64) = self
            .run(|mut c| async move {
                redis::Script::new(INCR_WINDOW)
                    .key(key)
                    .arg(ms(ttl))
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((n, Duration::from_millis(left.max(0) as u64)))
    }

    async fn decr_window(&self, key: &str) -> CacheResult<()> {
        self.run(|mut c| async move {
            redis::Script::new(DECR_WINDOW)
                .key(key)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|_| ())
    }

    async fn incr_expire(&self, key: &str, ttl: Duration) -> CacheResult<u64> {
        let (n, _): (u64, i64) = self
            .run(|mut c| async move {
                redis::pipe()
                    .atomic()
                    .incr(key, 1)
                    .pexpire(key, ms(ttl) as i64)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(n)
    }

    async fn peek_window(&self, key: &str) -> CacheResult<(u64, Duration)> {
        let (v, left): (Option<u64>, i64) = self
            .run(|mut c| async move { redis::pipe().get(key).pttl(key).query_async(&mut c).await })
            .await?;
        Ok((v.unwrap_or(0), Duration::from_millis(left.max(0) as u64)))
    }

    async fn ping(&self) -> CacheResult<()> {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }
}
