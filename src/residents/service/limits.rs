//! How often one staff member may look residents up by phone or reveal their personal data.

use crate::access::Actor;
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult, ProblemCode};

/// Phone lookups (`GET /residents?phone=`) one staff member may make per hour.
pub const PHONE_LOOKUPS_PER_HOUR: u64 = 100;
/// Reveals one staff member may make per hour.
pub const REVEALS_PER_HOUR: u64 = 100;
const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// Counts one `what` by the caller; past `max` in the hour, 429 with `Retry-After`.
pub async fn limit_per_user(
    cache: &SharedCache,
    user: &Actor,
    what: &str,
    max: u64,
) -> AppResult<()> {
    let (n, left) = cache
        .incr_window(&format!("limit:{what}:user:{}", user.id), HOUR)
        .await?;
    if n > max {
        let (code, what_zh, what_en) = match what {
            "phone_lookup" => (ProblemCode::LookupLimit, "按手机号查找", "phone lookups"),
            "reveal" => (ProblemCode::RateLimited, "查看完整信息", "reveals"),
            _ => (ProblemCode::RateLimited, "这个操作", "attempts"),
        };
        return Err(AppError::limited(
            left,
            code,
            crate::text!(
                "{what_zh}每小时最多 {max} 次，请稍后再试",
                "at most {max} {what_en} an hour; retry later"
            ),
        ));
    }
    Ok(())
}
