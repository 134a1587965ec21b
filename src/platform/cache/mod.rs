//! A small key-value cache with expiry, behind one trait with two backends: Redis, for any
//! number of replicas sharing state, and an in-process map for a single process (`cargo run`).
//!
//! Token revocation, login rate limits and, later, the shared WeChat access token go through it,
//! so that replicas sharing one Redis behave as one.

mod memory;
mod redis_backend;

use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryCache;
pub use redis_backend::RedisCache;

#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

pub type CacheResult<T> = Result<T, CacheError>;

#[async_trait::async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> CacheResult<Option<String>>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()>;
    /// Sets the key only if it does not exist; true when this call set it.
    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool>;
    async fn delete(&self, key: &str) -> CacheResult<()>;
    /// Whether any of the keys exists (one round trip).
    async fn exists_any(&self, keys: &[String]) -> CacheResult<bool>;
    /// The values of the keys, in order (one round trip).
    async fn get_many(&self, keys: &[String]) -> CacheResult<Vec<Option<String>>>;
    /// Increments a counter; the first increment starts its window of `ttl`. Returns the new
    /// count and the time left in the window.
    async fn incr_window(&self, key: &str, ttl: Duration) -> CacheResult<(u64, Duration)>;
    /// Takes back one increment of a live counter (never creates one).
    async fn decr_window(&self, key: &str) -> CacheResult<()>;
    /// Increments a counter and (re)starts its expiry at `ttl` on every increment, so a
    /// counter lives `ttl` past its latest increment. Returns the new count.
    async fn incr_expire(&self, key: &str, ttl: Duration) -> CacheResult<u64>;
    /// Current counter value and time left, without incrementing.
    async fn peek_window(&self, key: &str) -> CacheResult<(u64, Duration)>;
    async fn ping(&self) -> CacheResult<()>;
}

/// A cache handle that prefixes every key, so that deployments (and test runs) sharing one
/// Redis do not see each other's keys.
#[derive(Clone)]
pub struct SharedCache {
    inner: Arc<dyn Cache>,
    prefix: Arc<str>,
}

impl SharedCache {
    pub fn new(inner: Arc<dyn Cache>, prefix: &str) -> Self {
        Self {
            inner,
            prefix: prefix.into(),
        }
    }

    fn k(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    pub async fn get(&self, key: &str) -> CacheResult<Option<String>> {
        bounded(self.inner.get(&self.k(key))).await
    }
    pub async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        bounded(self.inner.set(&self.k(key), value, ttl)).await
    }
    pub async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool> {
        bounded(self.inner.set_nx(&self.k(key), value, ttl)).await
    }
    pub async fn delete(&self, key: &str) -> CacheResult<()> {
        bounded(self.inner.delete(&self.k(key))).await
    }
    pub async fn exists_any(&self, keys: &[&str]) -> CacheResult<bool> {
        let keys: Vec<String> = keys.iter().map(|k| self.k(k)).collect();
        bounded(self.inner.exists_any(&keys)).await
    }
    pub async fn get_many(&self, keys: &[&str]) -> CacheResult<Vec<Option<String>>> {
        let keys: Vec<String> = keys.iter().map(|k| self.k(k)).collect();
        bounded(self.inner.get_many(&keys)).await
    }
    pub async fn incr_window(&self, key: &str, ttl: Duration) -> CacheResult<(u64, Duration)> {
        bounded(self.inner.incr_window(&self.k(key), ttl)).await
    }
    pub async fn decr_window(&self, key: &str) -> CacheResult<()> {
        bounded(self.inner.decr_window(&self.k(key))).await
    }
    pub async fn incr_expire(&self, key: &str, ttl: Duration) -> CacheResult<u64> {
        bounded(self.inner.incr_expire(&self.k(key), ttl)).await
    }
    pub async fn peek_window(&self, key: &str) -> CacheResult<(u64, Duration)> {
        bounded(self.inner.peek_window(&self.k(key))).await
    }
    pub async fn ping(&self) -> CacheResult<()> {
        bounded(self.inner.ping()).await
    }
}

/// The longest one cache call may take. The Redis client has timeouts of its own, but not on
/// every path (a reconnect after Redis went away was seen to hang for two minutes): this bound
/// holds whatever the client does, so a request that needs the cache answers 503 in time.
pub const CALL_DEADLINE: Duration = Duration::from_secs(2);

async fn bounded<T>(call: impl std::future::Future<Output = CacheResult<T>>) -> CacheResult<T> {
    match tokio::time::timeout(CALL_DEADLINE, call).await {
        Ok(r) => r,
        Err(_) => Err(CacheError(format!(
            "no answer within {} ms",
            CALL_DEADLINE.as_millis()
        ))),
    }
}

/// Connects the backend the settings ask for.
pub async fn connect(redis_url: Option<&str>, prefix: &str) -> anyhow::Result<SharedCache> {
    let inner: Arc<dyn Cache> = match redis_url {
        Some(url) => Arc::new(RedisCache::connect(url).await?),
        None => Arc::new(MemoryCache::new()),
    };
    Ok(SharedCache::new(inner, prefix))
}
