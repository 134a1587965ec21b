//! A poll's questions and options: their shape, and replacing them while the poll is a draft or
//! scheduled.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::platform::error::{AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::polls::model::{self, QuestionKind};
use crate::polls::service::rows::{before_open, bump_version, invalid, load};
use entity::{poll_option, poll_question};

/// A question and its options. For `yes_no_abstain` the options are made by the server (同意,
/// 反对, 弃权) and those given are ignored, as are `min_choices`/`max_choices` (1 and 1).
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub title: String,
    pub kind: QuestionKind,
    pub min_choices: i32,
    pub max_choices: i32,
    /// Seats to fill (`candidates`); at most this many choices.
    pub seats: Option<i32>,
    pub options: Vec<NewOption>,
}

#[derive(Debug, Clone)]
pub struct NewOption {
    pub label: String,
    pub candidate_id: Option<Uuid>,
}

/// The problems of a set of questions, each naming its field (`questions[i].…`).
pub fn check_questions(qs: &[NewQuestion]) -> Vec<FieldError> {
    let mut out = Vec::new();
    if qs.len() > model::QUESTIONS_MAX {
        out.push(FieldError::too_many("questions", model::QUESTIONS_MAX));
        return out;
    }
    for (i, q) in qs.iter().enumerate() {
        let f = |name: &str| format!("questions[{i}].{name}");
        let len = q.title.chars().count();
        if len == 0 {
            out.push(FieldError::required(f("title")));
        } else if len > model::TITLE_MAX {
            out.push(FieldError::too_long(f("title"), model::TITLE_MAX));
        }
        if q.kind == QuestionKind::YesNoAbstain {
            continue;
        }
        let n = q.options.len() as i32;
        if q.options.len() > model::OPTIONS_MAX {
            out.push(FieldError::too_many(f("options"), model::OPTIONS_MAX));
            continue;
        }
        for (j, o) in q.options.iter().enumerate() {
            let l = o.label.chars().count();
            if l == 0 {
                out.push(FieldError::required(format!(
                    "questions[{i}].options[{j}].label"
                )));
            } else if l > model::LABEL_MAX {
                out.push(FieldError::too_long(
                    format!("questions[{i}].options[{j}].label"),
                    model::LABEL_MAX,
                ));
            }
        }
        let range = |msg_zh: &str| {
            FieldError::of(
                f("max_choices"),
                FieldCode::OutOfRange,
                Text::new(msg_zh.to_string(), "choices out of range"),
            )
        };
        match q.kind {
            QuestionKind::Single => {
                if n < 2 {
                    out.push(FieldError::of(
                        f("options"),
                        FieldCode::TooShort,
                        Text::new("单选题至少要有 2 个选项", "at least 2 options"),
                    ));
                }
                if q.max_choices != 1 || !(0..=1).contains(&q.min_choices) {
                    out.push(range("单选题最多选 1 项，最少选 0 或 1 项"));
                }
            }
            QuestionKind::Multiple | QuestionKind::Rating => {
                if n < 1 {
                    out.push(FieldError::required(f("options")));
                }
                if q.max_choices < 1
                    || q.max_choices > n.max(1)
                    || q.min_choices < 0
                    || q.min_choices > q.max_choices
                {
                    out.push(range("可选项数须满足 0 ≤ 最少 ≤ 最多 ≤ 选项数"));
                }
            }
            QuestionKind::Candidates => {
                let seats = q.seats.unwrap_or(0);
                if !(1..=model::OPTIONS_MAX as i32).contains(&seats) {
                    out.push(FieldError::of(
                        f("seats"),
                        FieldCode::OutOfRange,
                        Text::new("应选名额须在 1 到 50 之间", "seats 1 to 50"),
                    ));
                }
                if q.max_choices < 1
                    || q.max_choices > seats
                    || q.min_choices < 0
                    || q.min_choices > q.max_choices
                {
                    out.push(range("可选人数须满足 0 ≤ 最少 ≤ 最多 ≤ 应选名额"));
                }
            }
            QuestionKind::YesNoAbstain => {}
        }
    }
    out
}

/// An option to write: its label, candidate, and whether it is the abstain option.
type OptionRow = (String, Option<Uuid>, bool);

pub(crate) async fn write_questions<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    qs: &[NewQuestion],
) -> AppResult<()> {
    for (i, q) in qs.iter().enumerate() {
        let qid = Uuid::now_v7();
        let (min, max, options): (i32, i32, Vec<OptionRow>) = match q.kind {
            QuestionKind::YesNoAbstain => (
                1,
                1,
                vec![
                    ("同意".into(), None, false),
                    ("反对".into(), None, false),
                    ("弃权".into(), None, true),
                ],
            ),
            _ => (
                q.min_choices,
                q.max_choices,
                q.options
                    .iter()
                    .map(|o| (o.label.clone(), o.candidate_id, false))
                    .collect(),
            ),
        };
        poll_question::ActiveModel {
            id: Set(qid),
            poll_id: Set(poll_id),
            position: Set(i as i32),
            title: Set(q.title.clone()),
            kind: Set(q.kind),
            min_choices: Set(min),
            max_choices: Set(max),
            seats: Set(q.seats.filter(|_| q.kind == QuestionKind::Candidates)),
        }
        .insert(conn)
        .await?;
        let rows: Vec<poll_option::ActiveModel> = options
            .into_iter()
            .enumerate()
            .map(
                |(j, (label, candidate_id, is_abstain))| poll_option::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    poll_id: Set(poll_id),
                    question_id: Set(qid),
                    position: Set(j as i32),
                    label: Set(label),
                    candidate_id: Set(candidate_id),
                    is_abstain: Set(is_abstain),
                },
            )
            .collect();
        if !rows.is_empty() {
            poll_option::Entity::insert_many(rows)
                .exec_without_returning(conn)
                .await?;
        }
    }
    Ok(())
}

/// Replaces all questions and options (draft or scheduled only).
pub async fn set_questions_in<C: ConnectionTrait>(
    conn: &C,
    poll_id: Uuid,
    questions: Vec<NewQuestion>,
) -> AppResult<()> {
    let p = load(conn, poll_id).await?;
    before_open(&p, "修改题目")?;
    invalid(check_questions(&questions))?;
    poll_option::Entity::delete_many()
        .filter(poll_option::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    poll_question::Entity::delete_many()
        .filter(poll_question::Column::PollId.eq(poll_id))
        .exec(conn)
        .await?;
    write_questions(conn, poll_id, &questions).await?;
    bump_version(conn, poll_id).await
}
