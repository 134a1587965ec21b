//! Residents report comments: once per user and comment; privacy reports go first in the
//! queue; at the community's `reports_to_hide` the comment is hidden until a moderator decides.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sea_orm::{DbErr, TransactionTrait};
use uuid::Uuid;

use super::{reload, subject, visible, Comment};
use crate::access::Actor;
use crate::deliberation::model::{self, Reason, Status};
use crate::platform::error::{is_unique_violation, AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use entity::{comment, comment_report};

/// The reason the comments hidden by reports carry (a moderator's decision replaces it).
pub const REPORTS_REASON: &str = "reports";

/// `actor` reports the published comment `id`. 409 `already_reported` the second time; 400 for
/// one's own comment. Answers the comment as it is afterwards (hidden when this report reached
/// the policy's count).
pub async fn report<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    reason: Reason,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Comment> {
    let txn = db.begin().await?;
    let (c, s, _) = visible(&txn, actor, id, now).await?;
    if c.author_user_id == actor.id {
        return Err(AppError::invalid(
            "comment",
            FieldCode::NotAllowed,
            Text::new("不能举报自己的评论", "one cannot report one's own comment"),
        ));
    }
    if c.status != Status::Published {
        return Err(AppError::conflict(
            ProblemCode::WrongStatus,
            Text::new(
                "该评论已被隐藏或正在审核，无需举报",
                "the comment is hidden or held for review already",
            ),
        ));
    }
    let inserted = comment_report::ActiveModel {
        comment_id: Set(id),
        user_id: Set(actor.id),
        reason: Set(reason),
        note: Set(note),
        created_at: Set(now),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(already_reported()),
        Err(DbErr::RecordNotInserted) => return Err(already_reported()),
        Err(e) => return Err(e.into()),
    }
    // Privacy first; a comment already queued keeps the better of the two ranks.
    let rank: SimpleExpr = if reason == Reason::Privacy {
        Expr::value(model::RANK_PRIVACY)
    } else {
        Func::coalesce([
            Expr::col(comment::Column::QueueRank).into(),
            Expr::value(model::RANK_OTHER),
        ])
        .into()
    };
    comment::Entity::update_many()
        .col_expr(
            comment::Column::ReportsCount,
            Expr::col(comment::Column::ReportsCount).add(1),
        )
        .col_expr(comment::Column::QueueRank, rank)
        .col_expr(comment::Column::UpdatedAt, Expr::value(now))
        .filter(comment::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let limits = subject::limits(&txn, &s).await?;
    // Exactly once, however many reports arrive together: only a published comment moves.
    let hidden = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(Status::Hidden))
        .col_expr(
            comment::Column::HiddenReason,
            Expr::value(Some(REPORTS_REASON.to_string())),
        )
        .col_expr(comment::Column::HiddenAt, Expr::value(Some(now)))
        .col_expr(
            comment::Column::Version,
            Expr::col(comment::Column::Version).add(1),
        )
        .filter(comment::Column::Id.eq(id))
        .filter(comment::Column::Status.eq(Status::Published))
        .filter(
            comment::Column::ReportsCount
                .gte(i32::try_from(limits.reports_to_hide).unwrap_or(i32::MAX)),
        )
        .exec(&txn)
        .await?;
    if hidden.rows_affected == 1 {
        super::count_reply(&txn, c.parent_id, -1).await?;
        tracing::info!(comment = %id, "comment hidden by reports, pending a moderator");
    }
    txn.commit().await?;
    reload(db, id).await
}

fn already_reported() -> AppError {
    AppError::conflict(
        ProblemCode::AlreadyReported,
        Text::new(
            "您已举报过这条评论",
            "you have reported this comment already",
        ),
    )
}
