//! A comment's typed values, its limits and the words screens show.

pub use entity::comment::{AuthorKind, Status, SubjectKind};
pub use entity::comment_report::Reason;

/// Characters of a comment (CONSUL's default, §A2).
pub const BODY_MAX: usize = 1000;
/// Characters of a moderator's reason or a reporter's note.
pub const REASON_MAX: usize = 500;
/// Characters of a reporter's note.
pub const NOTE_MAX: usize = 500;

/// What a screen shows in place of a hidden comment's body.
pub const HIDDEN_PLACEHOLDER: &str = "该评论已被隐藏";
/// What a screen shows in place of a deleted comment's body.
pub const DELETED_PLACEHOLDER: &str = "该评论已删除";
/// What the author of a comment held for review sees beside it.
pub const PENDING_LABEL: &str = "审核中";

/// Where a reported comment waits in the moderation queue: privacy first (residents do post
/// neighbours' names and rooms), then the rest.
pub const RANK_PRIVACY: i16 = 0;
pub const RANK_OTHER: i16 = 1;

/// A comment's stance on its subject.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[schema(as = CommentAlignment)]
pub enum Alignment {
    /// 支持.
    For,
    /// 反对.
    Against,
    /// 中立.
    Neutral,
}

impl Alignment {
    /// As stored: 1, -1, 0.
    pub fn value(self) -> i16 {
        match self {
            Alignment::For => 1,
            Alignment::Against => -1,
            Alignment::Neutral => 0,
        }
    }

    pub fn of(v: i16) -> Alignment {
        match v {
            1 => Alignment::For,
            -1 => Alignment::Against,
            _ => Alignment::Neutral,
        }
    }
}

/// The tag a screen shows beside an author who is not a resident.
pub fn author_tag(k: AuthorKind) -> Option<&'static str> {
    match k {
        AuthorKind::Resident => None,
        AuthorKind::Staff => Some("工作人员"),
        AuthorKind::Property => Some("物业"),
        AuthorKind::Council => Some("议事会"),
    }
}

/// A masked author: the building and the surname (`3栋 王**`), never the given name; at most
/// 20 characters.
pub fn masked_display(building: Option<&str>, name: Option<&str>) -> String {
    let surname = name
        .and_then(|n| n.trim().chars().next())
        .map_or_else(|| "居民".to_string(), |c| format!("{c}**"));
    let out = match building.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => format!("{b} {surname}"),
        None => surname,
    };
    out.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_author_is_shown_as_building_and_masked_surname_only() {
        assert_eq!(masked_display(Some("3栋"), Some("王小明")), "3栋 王**");
        assert_eq!(masked_display(Some("3栋"), Some("王")), "3栋 王**");
        assert_eq!(masked_display(None, Some("李四")), "李**");
        assert_eq!(masked_display(Some("5幢"), None), "5幢 居民");
        let long = "很长很长很长很长很长很长很长很长很长的楼名";
        assert!(masked_display(Some(long), Some("赵六")).chars().count() <= 20);
    }

    #[test]
    fn alignments_round_trip_through_their_stored_values() {
        for a in [Alignment::For, Alignment::Against, Alignment::Neutral] {
            assert_eq!(Alignment::of(a.value()), a);
        }
    }
}
