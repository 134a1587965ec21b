//! A notice's typed values and its limits.

pub use entity::notice::{Category, Place, Priority, Status};
pub use entity::notice_household_reach::Reach;

/// Characters of a title (WeChat's subscribe message shows 20 of them).
pub const TITLE_MAX: usize = 50;
/// Characters of a body.
pub const BODY_MAX: usize = 10_000;
/// Tags a notice may be addressed to (residents carrying any of them).
pub const TAGS_MAX: usize = 10;
/// Characters of a tag (as the roster's tags).
pub const TAG_MAX: usize = 20;
/// Characters of a reason (withdrawing, sending back) or an offline-reach note.
pub const REASON_MAX: usize = 500;
pub const NOTE_MAX: usize = 200;
/// How far ahead a notice may be scheduled.
pub const SCHEDULE_MAX_DAYS: i64 = 366;

/// The Chinese label a screen shows for a category.
pub fn category_label(c: Category) -> &'static str {
    match c {
        Category::Notice => "通知",
        Category::Publicity => "公示",
        Category::Event => "活动",
        Category::Safety => "安全提示",
        Category::Policy => "政策",
        Category::FundReport => "资金公开",
    }
}

/// The Chinese label a screen shows for a status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "草稿",
        Status::PendingReview => "待审核",
        Status::Scheduled => "待发布",
        Status::Published => "已发布",
        Status::Withdrawn => "已撤回",
    }
}

/// The tags of a notice as stored (a JSON array).
pub fn tags_of(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}
