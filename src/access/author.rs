//! The author of a text as the content check sees it (`platform::content::Author`): the account,
//! its WeChat openid and the street whose keyword list applies. Here rather than beside the
//! check because the openid is the account's (`users.wechat_openid`), and `platform` reads no
//! domain's table.

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use uuid::Uuid;

use crate::platform::content::Author;
use crate::platform::error::{AppError, AppResult};

/// Loads the author `user_id` writing in `street_id`: 404 when there is no such account.
pub async fn author_of<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    street_id: Uuid,
) -> AppResult<Author> {
    use entity::user::{Column, Entity};
    let found: Option<Option<String>> = Entity::find_by_id(user_id)
        .select_only()
        .column(Column::WechatOpenid)
        .into_tuple()
        .one(db)
        .await?;
    let openid = found.ok_or(AppError::NotFound)?;
    Ok(Author {
        user_id,
        openid: openid.filter(|o| !o.is_empty()),
        street_id,
    })
}
