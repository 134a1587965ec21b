//! `Idempotency-Key` records: the first request with a key claims it, later ones with the same key
//! and body get the stored response, and the same key with another body is refused.
//!
//! The claim is a unique row `(user_id, idem_key)`, so of many concurrent requests exactly one
//! runs the handler; the others wait for its response. Keys live 24 hours. A claim left without a
//! response for a minute (its process died) may be taken over; the handler's effects and the stored
//! response are not one transaction, so a crash between the two can let one retry run again.
//! Ticket filing closes that window itself: the key is stored on the ticket, unique per filer,
//! in the filing transaction (services::tickets::file).
//!
//! A create whose object has since been deleted is not replayed as created: its `Location` would
//! name nothing. Once the object is deleted, the key answers 409 instead ([`object_deleted`]).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::platform::error::{is_unique_violation, AppError, AppResult, ProblemCode};
use crate::platform::lang::Text;
use entity::idempotency_key::{ActiveModel, Column, Entity};

pub const KEY_TTL_HOURS: i64 = 24;
pub const ABANDONED_AFTER_SECS: i64 = 60;

pub struct Stored {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
    pub location: Option<String>,
}

pub enum Claim {
    /// This request holds the key: run it, then `complete` or `release`.
    New(Uuid),
    /// A finished request with the same key and body: answer with its response.
    Replay(Stored),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

pub async fn claim<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    key: &str,
    path: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> AppResult<Claim> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::IdemKey.eq(key))
        .filter(
            Condition::any().add(Column::ExpiresAt.lt(now)).add(
                Condition::all()
                    .add(Column::StatusCode.is_null())
                    .add(Column::CreatedAt.lt(now - Duration::seconds(ABANDONED_AFTER_SECS))),
            ),
        )
        .exec(db)
        .await?;
    let id = Uuid::now_v7();
    let inserted = ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        idem_key: Set(key.to_string()),
        request_path: Set(path.to_string()),
        request_hash: Set(hash.to_string()),
        status_code: Set(None),
        response_body: Set(None),
        content_type: Set(None),
        location: Set(None),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(KEY_TTL_HOURS)),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(Claim::New(id)),
        Err(e) if is_unique_violation(&e) => {
            let Some(row) = Entity::find()
                .filter(Column::UserId.eq(user_id))
                .filter(Column::IdemKey.eq(key))
                .one(db)
                .await?
            else {
                // Released between our insert and this read: the caller may try again.
                return Ok(Claim::InProgress);
            };
            if row.request_path != path || row.request_hash != hash {
                return Ok(Claim::Mismatch);
            }
            Ok(match (row.status_code, row.response_body) {
                (Some(RETIRED), _) => Claim::Replay(retired()?),
                (Some(status), Some(body)) => Claim::Replay(Stored {
                    status: status as u16,
                    body,
                    content_type: row.content_type,
                    location: row.location,
                }),
                _ => Claim::InProgress,
            })
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn complete<C: ConnectionTrait>(db: &C, id: Uuid, stored: Stored) -> AppResult<()> {
    Entity::update_many()
        .col_expr(Column::StatusCode, Expr::value(stored.status as i32))
        .col_expr(Column::ResponseBody, Expr::value(stored.body))
        .col_expr(Column::ContentType, Expr::value(stored.content_type))
        .col_expr(Column::Location, Expr::value(stored.location))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives the key up (the request failed), so a retry runs afresh.
pub async fn release<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<()> {
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// What a retired key's record holds instead of a response: only successes are stored, so a
/// stored 409 is never an answer a handler gave.
const RETIRED: i32 = 409;

/// The object at `location` was deleted: every stored create that answered with it replays, from
/// now on, a 409 saying so (the client must use a new key to create it again).
pub async fn object_deleted<C: ConnectionTrait>(db: &C, location: &str) -> AppResult<()> {
    Entity::update_many()
        .col_expr(Column::StatusCode, Expr::value(RETIRED))
        .col_expr(Column::ResponseBody, Expr::value(String::new()))
        .col_expr(Column::ContentType, Expr::value(Option::<String>::None))
        .col_expr(Column::Location, Expr::value(Option::<String>::None))
        .filter(Column::Location.eq(location))
        .filter(Column::StatusCode.eq(201))
        .exec(db)
        .await?;
    Ok(())
}

/// The replay of a retired key, as this request's problem (its own request id).
fn retired() -> AppResult<Stored> {
    let problem = AppError::conflict(
        ProblemCode::Conflict,
        Text::new(
            "用这个 Idempotency-Key 创建的内容已被删除",
            "the object created with this Idempotency-Key has since been deleted",
        ),
    )
    .problem();
    Ok(Stored {
        status: problem.status,
        body: serde_json::to_string(&problem).map_err(AppError::internal)?,
        content_type: Some("application/problem+json".into()),
        location: None,
    })
}
