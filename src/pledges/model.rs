//! A pledge's typed values, its limits and the names the public see.

use crate::platform::pii;

pub use entity::pledge::{Kind, PledgerKind, PublicDisplay, Status};

/// What the public see for a pledger who chose to stay anonymous.
pub const ANONYMOUS: &str = "匿名居民";
/// Characters of a skill (labour), an item (materials), a unit.
pub const SKILL_MAX: usize = 20;
pub const ITEM_MAX: usize = 40;
pub const UNIT_MAX: usize = 10;
/// Characters of a note.
pub const NOTE_MAX: usize = 200;
/// Characters of a pledger's name given by staff on their behalf.
pub const NAME_MAX: usize = 50;
/// At most this many minutes in one labour pledge (a month of full days).
pub const MINUTES_MAX: i64 = 30 * 24 * 60;
/// At most this many of an item.
pub const QUANTITY_MAX: i64 = 100_000;

/// What the public see of a pledger: organisations and businesses by name when they chose
/// `name`; a person always masked (王*) unless anonymous; anonymous: 匿名居民.
pub fn public_name(kind: PledgerKind, display: PublicDisplay, name: &str) -> String {
    match (display, kind) {
        (PublicDisplay::Anonymous, _) => ANONYMOUS.to_string(),
        (PublicDisplay::Name, PledgerKind::Organization | PledgerKind::Business) => {
            name.to_string()
        }
        _ => pii::mask_name(name),
    }
}

pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Money => "出钱",
        Kind::Labour => "出力",
        Kind::Material => "出物",
    }
}

pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pledged => "已认筹",
        Status::Fulfilled => "已兑现",
        Status::PartiallyFulfilled => "部分兑现",
        Status::Cancelled => "已取消",
        Status::Lapsed => "已失效",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_never_named_in_public() {
        use PledgerKind::*;
        use PublicDisplay as D;
        assert_eq!(public_name(Resident, D::Name, "王小明"), "王*");
        assert_eq!(public_name(Household, D::Masked, "李四"), "李*");
        assert_eq!(public_name(Resident, D::Anonymous, "王小明"), ANONYMOUS);
        assert_eq!(
            public_name(Organization, D::Name, "爱心基金会"),
            "爱心基金会"
        );
        assert_eq!(
            public_name(Business, D::Masked, "某某公司"),
            pii::mask_name("某某公司")
        );
        assert_eq!(public_name(Business, D::Anonymous, "某某公司"), ANONYMOUS);
    }
}
