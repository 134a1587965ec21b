use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Cache, CacheError, CacheResult};

/// In-process cache for a single replica. Expired entries are dropped lazily and swept when the
/// map grows, so memory stays bounded by what is live.
pub struct MemoryCache {
    map: Mutex<HashMap<String, (String, Instant)>>,
}

const SWEEP_AT: usize = 10_000;

impl MemoryCache {
    pub fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, (String, Instant)>, Instant) -> T,
    ) -> CacheResult<T> {
        let mut map = self
            .map
            .lock()
            .map_err(|_| CacheError("in-process cache poisoned".into()))?;
        let now = Instant::now();
        if map.len() >= SWEEP_AT {
            map.retain(|_, (_, exp)| *exp > now);
        }
        Ok(f(&mut map, now))
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new()
    }
}

fn live<'a>(
    map: &'a HashMap<String, (String, Instant)>,
    key: &str,
    now: Instant,
) -> Option<&'a (String, Instant)> {
    map.get(key).filter(|(_, exp)| *exp > now)
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> CacheResult<Option<String>> {
        self.with(|m, now| live(m, key, now).map(|(v, _)| v.clone()))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<()> {
        self.with(|m, now| {
            m.insert(key.to_string(), (value.to_string(), now + ttl));
        })
    }

    async fn set_nx(&self, key: &str, value: &str, ttl: Duration) -> CacheResult<bool> {
        self.with(|m, now| {
            if live(m, key, now).is_some() {
                false
            } else {
                m.insert(key.to_string(), (value.to_string(), now + ttl));
                true
            }
        })
    }

    async fn delete(&self, key: &str) -> CacheResult<()> {
        self.with(|m, _| {
            m.remove(key);
        })
    }

    async fn exists_any(&self, keys: &[String]) -> CacheResult<bool> {
        self.with(|m, now| keys.iter().any(|k| live(m, k, now).is_some()))
    }

    async fn get_many(&self, keys: &[String]) -> CacheResult<Vec<Option<String>>> {
        self.with(|m, now| {
            keys.iter()
                .map(|k| live(m, k, now).map(|(v, _)| v.clone()))
                .collect()
        })
    }

    async fn incr_window(&self, key: &str, ttl: Duration) -> CacheResult<(u64, Duration)> {
        self.with(|m, now| {
            let (count, exp) = match live(m, key, now) {
                Some((v, exp)) => (v.parse::<u64>().unwrap_or(0) + 1, *exp),
                None => (1, now + ttl),
            };
            m.insert(key.to_string(), (count.to_string(), exp));
            (count, exp.saturating_duration_since(now))
        })
    }

    async fn decr_window(&self, key: &str) -> CacheResult<()> {
        self.with(|m, now| {
            if let Some((v, exp)) = live(m, key, now).cloned() {
                let n = v.parse::<u64>().unwrap_or(0).saturating_sub(1);
                m.insert(key.to_string(), (n.to_string(), exp));
            }
        })
    }

    async fn incr_expire(&self, key: &str, ttl: Duration) -> CacheResult<u64> {
        self.with(|m, now| {
            let count = live(m, key, now).map_or(0, |(v, _)| v.parse::<u64>().unwrap_or(0)) + 1;
            m.insert(key.to_string(), (count.to_string(), now + ttl));
            count
        })
    }

    async fn peek_window(&self, key: &str) -> CacheResult<(u64, Duration)> {
        self.with(|m, now| match live(m, key, now) {
            Some((v, exp)) => (v.parse().unwrap_or(0), exp.saturating_duration_since(now)),
            None => (0, Duration::ZERO),
        })
    }

    async fn ping(&self) -> CacheResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn window_counts_until_expiry() {
        let c = MemoryCache::new();
        let ttl = Duration::from_millis(1000);
        assert_eq!(c.incr_window("k", ttl).await.unwrap().0, 1);
        assert_eq!(c.incr_window("k", ttl).await.unwrap().0, 2);
        assert_eq!(c.peek_window("k").await.unwrap().0, 2);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(c.peek_window("k").await.unwrap().0, 0);
        assert_eq!(c.incr_window("k", ttl).await.unwrap().0, 1);
    }

    #[tokio::test]
    async fn incr_expire_restarts_the_expiry_on_every_increment() {
        let c = MemoryCache::new();
        let ttl = Duration::from_millis(600);
        assert_eq!(c.incr_expire("k", ttl).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(c.incr_expire("k", ttl).await.unwrap(), 2);
        // Past the first increment's expiry, within the second's.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some("2"));
        c.decr_window("k").await.unwrap();
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some("1"));
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(c.get("k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn set_nx_only_sets_once() {
        let c = MemoryCache::new();
        assert!(c.set_nx("a", "1", Duration::from_secs(5)).await.unwrap());
        assert!(!c.set_nx("a", "2", Duration::from_secs(5)).await.unwrap());
        assert_eq!(c.get("a").await.unwrap().as_deref(), Some("1"));
        assert!(c.exists_any(&["x".into(), "a".into()]).await.unwrap());
        c.delete("a").await.unwrap();
        assert!(!c.exists_any(&["a".into()]).await.unwrap());
    }
}
