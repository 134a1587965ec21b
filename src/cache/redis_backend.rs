use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use super::{Cache, CacheError, CacheResult};

/// Redis backend: one multiplexed, self-reconnecting connection per process, with timeouts so a
/// stalled Redis answers 503 instead of hanging requests.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
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

impl RedisCache {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(2))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self { conn })
    }
}

fn ms(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> CacheResult<Option<String>> {
        let mut c = self.conn.clone();
        c.get(key).await.map_err(err)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        let mut c = self.conn.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut c)
            .await
            .map_err(err)
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool> {
        let mut c = self.conn.clone();
        let r: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(r.is_some())
    }

    async fn delete(&self, key: &str) -> CacheResult<()> {
        let mut c = self.conn.clone();
        c.del::<_, ()>(key).await.map_err(err)
    }

    async fn exists_any(&self, keys: &[String]) -> CacheResult<bool> {
        if keys.is_empty() {
            return Ok(false);
        }
        let mut c = self.conn.clone();
        let n: u64 = redis::cmd("EXISTS")
            .arg(keys)
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(n > 0)
    }

    async fn incr_window(&self, key: &str, ttl: Duration) -> CacheResult<(u64, Duration)> {
        let mut c = self.conn.clone();
        let (n, left): (u64, i64) = redis::Script::new(INCR_WINDOW)
            .key(key)
            .arg(ms(ttl))
            .invoke_async(&mut c)
            .await
            .map_err(err)?;
        Ok((n, Duration::from_millis(left.max(0) as u64)))
    }

    async fn decr_window(&self, key: &str) -> CacheResult<()> {
        let mut c = self.conn.clone();
        redis::Script::new(DECR_WINDOW)
            .key(key)
            .invoke_async::<i64>(&mut c)
            .await
            .map(|_| ())
            .map_err(err)
    }

    async fn peek_window(&self, key: &str) -> CacheResult<(u64, Duration)> {
        let mut c = self.conn.clone();
        let (v, left): (Option<u64>, i64) = redis::pipe()
            .get(key)
            .pttl(key)
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok((v.unwrap_or(0), Duration::from_millis(left.max(0) as u64)))
    }

    async fn ping(&self) -> CacheResult<()> {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map(|_| ())
            .map_err(err)
    }
}
