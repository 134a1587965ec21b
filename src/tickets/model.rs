//! A ticket's typed values. The enum columns of the ticket tables are defined with the tables
//! (an unknown stored value fails when the row is read, never passing for another value) and
//! are the API's enums; this module names them for the domain and says what they mean to it.

use sea_orm::ActiveEnum;

pub use entity::ticket::{Channel, Priority, Status};
pub use entity::ticket::{EscalationTarget, TimelineKind};
pub use entity::ticket_message::Side;

/// Not finished with: what may be merged, and what a merge may be merged into. Resolved
/// counts, as its requester has not confirmed it yet.
pub const LIVE: [Status; 5] = [
    Status::Submitted,
    Status::Triaged,
    Status::Assigned,
    Status::Accepted,
    Status::Resolved,
];

/// Still being worked on: deadlines run, escalation applies.
pub const OPEN: [Status; 4] = [
    Status::Submitted,
    Status::Triaged,
    Status::Assigned,
    Status::Accepted,
];

/// How the status reads to people: the API's `status_label`, the stats, the ledger export
/// and WeChat messages (at most 5 characters) all take it from here.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Submitted => "已提交",
        Status::Triaged => "已受理",
        Status::Assigned => "已派单",
        Status::Accepted => "处理中",
        Status::Resolved => "已办结",
        Status::Closed => "已关闭",
        Status::Cancelled => "已撤销",
        Status::Rejected => "不予受理",
        Status::Merged => "已合并",
    }
}

/// The highest escalation level: 0 handler, 1 grid manager, 2 community staff, 3 street admin.
pub const MAX_ESCALATION: i32 = 3;

/// [`escalation_target`] as staff read it.
pub fn escalation_label_zh(level: i32) -> &'static str {
    match level {
        0 => "处理人",
        1 => "网格员",
        2 => "社区工作人员",
        _ => "街道管理员",
    }
}

/// Whose level escalation `level` raises a ticket to: 0 handler, 1 grid manager, 2 community
/// staff, 3 (and above) street admin.
pub fn escalation_target(level: i32) -> EscalationTarget {
    match level {
        0 => EscalationTarget::Handler,
        1 => EscalationTarget::GridManager,
        2 => EscalationTarget::CommunityStaff,
        _ => EscalationTarget::StreetAdmin,
    }
}

/// The status named `name` as the API and the tables spell it (`submitted`, …), if there is one.
pub fn status_named(name: &str) -> Option<Status> {
    Status::try_from_value(&name.to_string()).ok()
}

/// The priority named `name` (`green`, `orange`, `red`), if there is one.
pub fn priority_named(name: &str) -> Option<Priority> {
    Priority::try_from_value(&name.to_string()).ok()
}
