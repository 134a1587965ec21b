//! Which tags of a community its residents may see on the members of their own household.
//! Staff choose them; a tag that says something about someone's need or past (低保, 残疾,
//! 独居老人, …) can never be chosen, whatever a community's staff think.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::Action;
use crate::access::Actor;
use crate::platform::error::FieldCode;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::territory::query::places;
use entity::community_public_tag;

/// Tags that never show to residents. A tag *containing* one of these is refused too (e.g.
/// 低保户, 重度残疾).
pub const NEVER_PUBLIC: &[&str] = &[
    "低保",
    "特困",
    "困难",
    "残疾",
    "残障",
    "独居",
    "空巢",
    "失独",
    "孤寡",
    "精神",
    "重点人员",
    "矫正",
    "刑满",
    "吸毒",
    "戒毒",
    "信访",
    "上访",
    "病",
    "失业",
    "救助",
    "优抚",
];

/// At most this many public tags per community.
pub const PUBLIC_TAGS_MAX: usize = 30;

pub fn is_never_public(tag: &str) -> bool {
    NEVER_PUBLIC.iter().any(|s| tag.contains(s))
}

pub async fn of_community<C: ConnectionTrait>(db: &C, community: Uuid) -> AppResult<Vec<String>> {
    Ok(community_public_tag::Entity::find()
        .filter(community_public_tag::Column::CommunityId.eq(community))
        .order_by_asc(community_public_tag::Column::Tag)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect())
}

/// The public tags of the community `id`, for staff who read its roster (else 404).
pub async fn of_community_for<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Vec<String>> {
    let c = places::visible_community(db, actor, Action::ResidentRead, id).await?;
    of_community(db, c).await
}

/// Replaces the public tags of the community `id` for staff who maintain its roster (404 unless
/// they read it, 403 unless they maintain it); answers them as kept.
pub async fn replace_for<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    id: Uuid,
    tags: &[String],
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let c = places::visible_community(db, actor, Action::ResidentRead, id).await?;
    if !places::reaches_community(db, actor, Action::ResidentWrite, c).await? {
        return Err(AppError::Forbidden);
    }
    if tags.len() > PUBLIC_TAGS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many("tags", 30)]));
    }
    let tags = replace(db, c, tags, now).await?;
    tracing::info!(community = %c, by = %actor.id, n = tags.len(), "public tags changed");
    Ok(tags)
}

/// Replaces the community's public tags with `tags` (cleaned, deduplicated).
pub async fn replace<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    community: Uuid,
    tags: &[String],
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let mut errors = Vec::new();
    let mut clean: Vec<String> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim();
        let field = format!("tags.{i}");
        if t.is_empty() {
            errors.push(FieldError::required(&field));
        } else if t.chars().count() > crate::residents::service::roster::TAG_MAX {
            errors.push(FieldError::too_long(
                &field,
                crate::residents::service::roster::TAG_MAX,
            ));
        } else if !t.chars().all(crate::platform::text::single_line_ok) {
            errors.push(FieldError::of(
                &field,
                FieldCode::Invalid,
                crate::platform::text::bad_character(),
            ));
        } else if is_never_public(t) {
            errors.push(FieldError::of(
                &field,
                FieldCode::SensitiveTag,
                crate::text!(
                    "“{t}”涉及居民隐私，不能对居民公开",
                    "\"{t}\" is private to the resident and is never shown to residents"
                ),
            ));
        } else if !clean.iter().any(|c| c == t) {
            clean.push(t.to_string());
        }
    }
    if clean.len() > PUBLIC_TAGS_MAX {
        errors.push(FieldError::too_many("tags", PUBLIC_TAGS_MAX));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let txn = db.begin().await?;
    community_public_tag::Entity::delete_many()
        .filter(community_public_tag::Column::CommunityId.eq(community))
        .exec(&txn)
        .await?;
    for t in &clean {
        community_public_tag::ActiveModel {
            id: Set(Uuid::now_v7()),
            community_id: Set(community),
            tag: Set(t.clone()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    clean.sort();
    Ok(clean)
}

/// `tags` without those residents may not see in `community`.
pub fn visible(tags: Vec<String>, public: &HashSet<String>) -> Vec<String> {
    tags.into_iter()
        .filter(|t| public.contains(t) && !is_never_public(t))
        .collect()
}
