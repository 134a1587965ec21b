//! A proposal's typed values and limits, and the step arithmetic (pure).

pub use entity::proposal::{Channel, ScopeType, Step, Tier};
pub use entity::proposal_acceptance::Verdict;
pub use entity::proposal_target::TargetKind;
pub use entity::proposal_update::UpdateKind;

/// Characters of a title.
pub const TITLE_MAX: usize = 50;
/// Characters of a body.
pub const BODY_MAX: usize = 5_000;
/// Characters of a category.
pub const CATEGORY_MAX: usize = 20;
/// Characters of a reason or a verb's note.
pub const REASON_MAX: usize = 500;
/// Characters of an update's note.
pub const NOTE_MAX: usize = 1_000;
/// Photos of an update (and of a proposal).
pub const PHOTOS_MAX: usize = 9;
/// Milestones of an implementation.
pub const MILESTONES_MAX: usize = 20;
/// Characters of a milestone's title.
pub const MILESTONE_TITLE_MAX: usize = 50;
/// Targets (money, labour, materials) of a proposal.
pub const TARGETS_MAX: usize = 20;
/// The largest budget: 100 million yuan.
pub const BUDGET_MAX_FEN: i64 = 10_000_000_000;
/// Deliberation days an accept may ask for.
pub const DELIBERATION_DAYS_MAX: i32 = 90;

/// The six steps in order, with their Chinese character (the step tracker).
pub const SIX_STEPS: [(Step, &str); 6] = [
    (Step::Proposed, "提"),
    (Step::Deliberating, "议"),
    (Step::Deciding, "决"),
    (Step::Raising, "筹"),
    (Step::Implementing, "办"),
    (Step::Evaluating, "评"),
];

/// What a step is called, in Chinese (messages).
pub fn step_label(s: Step) -> &'static str {
    match s {
        Step::Proposed => "提议",
        Step::Deliberating => "协商",
        Step::Deciding => "表决",
        Step::Raising => "筹集",
        Step::Implementing => "实施",
        Step::Evaluating => "评议",
        Step::Closed => "已办结",
        Step::Rejected => "未受理",
        Step::Referred => "已转交",
        Step::Merged => "已合并",
        Step::Failed => "未通过",
        Step::Withdrawn => "已撤回",
        Step::Cancelled => "已取消",
    }
}

/// What a tier is called (小事, 普通事, 大事; 未分级 when not set).
pub fn tier_label(t: Option<Tier>) -> &'static str {
    match t {
        Some(Tier::Small) => "小事",
        Some(Tier::Ordinary) => "普通事",
        Some(Tier::Major) => "大事",
        None => "未分级",
    }
}

/// The position of `s` among the six steps (0..6), None for the ends (the step tracker).
pub fn position(s: Step) -> Option<usize> {
    SIX_STEPS.iter().position(|(x, _)| *x == s)
}

/// The steps that are not terminal.
pub const OPEN_STEPS: [Step; 6] = [
    Step::Proposed,
    Step::Deliberating,
    Step::Deciding,
    Step::Raising,
    Step::Implementing,
    Step::Evaluating,
];

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn six_open_steps_and_seven_ends() {
        let ends: Vec<Step> = Step::iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(ends.len(), 7);
        for s in OPEN_STEPS {
            assert!(!s.is_terminal());
            assert!(position(s).is_some());
        }
        assert_eq!(position(Step::Evaluating), Some(5));
        assert_eq!(step_label(Step::Failed), "未通过");
    }
}
