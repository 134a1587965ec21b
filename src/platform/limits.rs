//! Per-user hourly limits, counted in the shared cache so every replica counts together.

use std::time::Duration;

use uuid::Uuid;

use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult, ProblemCode};

const HOUR: Duration = Duration::from_secs(3600);

/// What is limited: the cache key's name, how many an hour, the code a client switches on, and
/// the words for it in the refusal (Chinese, English).
pub struct Hourly {
    pub key: &'static str,
    pub max: u64,
    pub code: ProblemCode,
    pub zh: &'static str,
    pub en: &'static str,
}

/// Counts one `limit.key` by `user`; past `limit.max` in the hour, 429 with `Retry-After`.
pub async fn per_user(cache: &SharedCache, user: Uuid, limit: &Hourly) -> AppResult<()> {
    let (n, left) = cache
        .incr_window(&format!("limit:{}:user:{user}", limit.key), HOUR)
        .await?;
    if n > limit.max {
        let (max, zh, en) = (limit.max, limit.zh, limit.en);
        return Err(AppError::limited(
            left,
            limit.code,
            crate::text!(
                "{zh}每小时最多 {max} 次，请稍后再试",
                "at most {max} {en} an hour; retry later"
            ),
        ));
    }
    Ok(())
}
