//! 评: the evaluation poll (subject `proposal_evaluation`): opened when the work is complete,
//! open (answers shown in aggregate), one per resident, the proposal's place, the policy's
//! `evaluation_days`. Question 1 满意/基本满意/不满意, question 2 one to five stars (optional).
//! Its close (in the poll-close transaction) records satisfaction = (满意 + 基本满意) / answers,
//! the mean stars and the number of answers on the proposal.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::load;
use crate::access::Actor;
use crate::platform::error::AppResult;
use crate::polls::model::{
    Eligibility, Preset, QuestionKind, ResultsVisibility, Rules, Secrecy, Subject, VoterUnit,
};
use crate::polls::service::{engine, notify as poll_notify};
use crate::proposals::model::Step;
use crate::proposals::service::decision::{note_in, poll_scope};
use entity::proposal;

/// The answers of question 1, in order; the first two count as satisfied.
pub const SATISFACTION: [&str; 3] = ["满意", "基本满意", "不满意"];

/// Creates and opens the evaluation poll of `p`; answers its id.
pub async fn open_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    p: &proposal::Model,
    days: i32,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let title: String = format!("效果评议：{}", p.title)
        .chars()
        .take(crate::polls::model::TITLE_MAX)
        .collect();
    let option = |l: &str| engine::NewOption {
        label: l.to_string(),
        candidate_id: None,
    };
    let preset = Preset::SimpleMajority;
    let rules = Rules::preset(preset).unwrap_or_else(unreachable_rules);
    let id = engine::create_in(
        conn,
        actor.id,
        engine::NewPoll {
            scope_type: poll_scope(p.scope_type),
            scope_id: p.scope_id,
            subject_type: Subject::ProposalEvaluation,
            subject_id: Some(p.id),
            title,
            description: "请对该议题的办理效果作出评价（满意度与星级），结果只以汇总公布。".into(),
            secrecy: Secrecy::Open,
            unit: VoterUnit::Resident,
            eligibility: Eligibility::default(),
            preset,
            rules,
            results_visibility: ResultsVisibility::AfterClose,
            opens_at: now,
            closes_at: now + Duration::days(i64::from(days.clamp(1, 60))),
            questions: vec![
                engine::NewQuestion {
                    title: "您对办理效果是否满意".into(),
                    kind: QuestionKind::Single,
                    min_choices: 1,
                    max_choices: 1,
                    seats: None,
                    options: SATISFACTION.iter().map(|l| option(l)).collect(),
                },
                engine::NewQuestion {
                    title: "请打分（1–5 星，可不选）".into(),
                    kind: QuestionKind::Single,
                    min_choices: 0,
                    max_choices: 1,
                    seats: None,
                    options: ["1", "2", "3", "4", "5"]
                        .iter()
                        .map(|l| option(l))
                        .collect(),
                },
            ],
            created_by_name: actor.display_name.clone(),
        },
        now,
    )
    .await?;
    engine::open_in(conn, id, now).await?;
    poll_notify::opened(conn, id, now).await?;
    Ok(id)
}

fn unreachable_rules() -> Rules {
    Rules {
        quorum_num: 0,
        quorum_den: 0,
        quorum_strict: true,
        threshold_num: 1,
        threshold_den: 2,
        threshold_strict: true,
        threshold_base: crate::polls::model::ThresholdBase::Valid,
        abstain_in_quorum: true,
        abstain_in_threshold_base: false,
    }
}

/// The satisfaction figures of tallied results: (satisfaction percent, stars × 100, answers).
pub fn figures(r: &engine::PollResults) -> (Option<i16>, Option<i32>, i32) {
    let q1 = r.questions.first();
    let count = |label: &str| {
        q1.and_then(|q| q.options.iter().find(|o| o.label == label))
            .map_or(0, |o| i64::from(o.votes))
    };
    let satisfied = count(SATISFACTION[0]) + count(SATISFACTION[1]);
    let answers = satisfied + count(SATISFACTION[2]);
    let pct = (answers > 0).then(|| ((satisfied * 100 + answers / 2) / answers) as i16);
    let (mut stars, mut n) = (0i64, 0i64);
    if let Some(q2) = r.questions.get(1) {
        for o in &q2.options {
            if let Ok(s) = o.label.parse::<i64>() {
                stars += s * i64::from(o.votes);
                n += i64::from(o.votes);
            }
        }
    }
    let avg = (n > 0).then(|| ((stars * 100 + n / 2) / n) as i32);
    (pct, avg, answers as i32)
}

/// Records the figures of the closed evaluation poll `poll_id` on proposal `pid` (still
/// `evaluating`, and this its evaluation poll), with an event.
pub async fn record_in<C: ConnectionTrait>(
    conn: &C,
    pid: Uuid,
    poll_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    use proposal::Column as P;
    let p = load(conn, pid).await?;
    if p.step != Step::Evaluating || p.evaluation_poll_id != Some(poll_id) {
        return Ok(());
    }
    let Some(results) = engine::results_in(conn, poll_id).await? else {
        return Ok(());
    };
    let (pct, avg, answers) = figures(&results);
    let sets = vec![
        (P::SatisfactionPct, Expr::value(pct)),
        (P::RatingAvgX100, Expr::value(avg)),
        (P::EvaluationAnswers, Expr::value(Some(answers))),
    ];
    if super::touch(conn, &p, sets, now).await? {
        let note = match pct {
            Some(v) => format!("满意度 {v}%（{answers} 人评价）"),
            None => "无人评价".to_string(),
        };
        note_in(conn, &p, "evaluated", Some(&note), now).await?;
    }
    Ok(())
}
