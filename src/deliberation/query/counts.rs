//! How many comments a subject shows, by alignment: published ones only (hidden, deleted and
//! held ones are never counted, §A2 rule 4). A leaf module other domains may call (the
//! proposals' 协商台账), importing nothing of theirs.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::deliberation::model::{Status, SubjectKind};
use crate::platform::error::AppResult;
use entity::comment;

/// The visible comments of a subject (replies included), by alignment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = CommentCounts)]
pub struct Counts {
    /// 支持.
    #[serde(rename = "for")]
    pub for_: i64,
    /// 反对.
    pub against: i64,
    /// 中立.
    pub neutral: i64,
    pub total: i64,
}

/// The counts of subject `(subject_type, subject_id)`, in one grouped statement.
pub async fn count_visible_in<C: ConnectionTrait>(
    conn: &C,
    subject_type: SubjectKind,
    subject_id: Uuid,
) -> AppResult<Counts> {
    let rows: Vec<(i16, i64)> = comment::Entity::find()
        .select_only()
        .column(comment::Column::Alignment)
        .column_as(Expr::col(comment::Column::Id).count(), "n")
        .filter(comment::Column::SubjectType.eq(subject_type))
        .filter(comment::Column::SubjectId.eq(subject_id))
        .filter(comment::Column::Status.eq(Status::Published))
        .group_by(comment::Column::Alignment)
        .into_tuple()
        .all(conn)
        .await?;
    let mut c = Counts::default();
    for (alignment, n) in rows {
        match alignment {
            1 => c.for_ += n,
            -1 => c.against += n,
            _ => c.neutral += n,
        }
        c.total += n;
    }
    Ok(c)
}

/// How many ids one statement of [`visible_totals_in`] names.
const IDS_PER_STATEMENT: usize = 500;

/// The visible comments (published, replies included) of each of `subject_ids` of kind
/// `subject_type`, in one grouped statement per 500 ids; a subject without any is absent.
pub async fn visible_totals_in<C: ConnectionTrait>(
    conn: &C,
    subject_type: SubjectKind,
    subject_ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in subject_ids.chunks(IDS_PER_STATEMENT) {
        let rows: Vec<(Uuid, i64)> = comment::Entity::find()
            .select_only()
            .column(comment::Column::SubjectId)
            .column_as(Expr::col(comment::Column::Id).count(), "n")
            .filter(comment::Column::SubjectType.eq(subject_type))
            .filter(comment::Column::SubjectId.is_in(chunk.iter().copied()))
            .filter(comment::Column::Status.eq(Status::Published))
            .group_by(comment::Column::SubjectId)
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}
