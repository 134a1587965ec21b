//! Who keeps a street's keyword list and who checks text against a street's content check.
//!
//! A keyword list is kept per street, but community staff keep it too: an action reaches the
//! streets its assignments lie in (`access::policy::streets`). A street the caller reaches
//! with no role that may keep its list is 403; a street it does not reach at all is 404.

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::territory::query::place_lookup;

/// The street `street_id` if `user` may do `action` there: 404 unless the caller belongs to it
/// (`ContentCheck` reaches every street a caller has a role in), 403 when it does but `action`
/// does not reach it. A street that does not exist is reached only by the deployment's
/// superadmin, whose list of it is empty; writes ask [`authorize_existing_street`].
pub async fn authorize_street<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    action: Action,
    street_id: Uuid,
) -> AppResult<Uuid> {
    let seen = policy::streets(db, user, Action::ContentCheck).await?;
    if !seen.contains(street_id) {
        return Err(AppError::NotFound);
    }
    if action == Action::ContentCheck
        || policy::streets(db, user, action).await?.contains(street_id)
    {
        Ok(street_id)
    } else {
        Err(AppError::Forbidden)
    }
}

/// [`authorize_street`] for a street that must exist (404 when it does not).
pub async fn authorize_existing_street<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    action: Action,
    street_id: Uuid,
) -> AppResult<Uuid> {
    authorize_street(db, user, action, street_id).await?;
    if place_lookup::street_exists(db, street_id).await? {
        Ok(street_id)
    } else {
        Err(AppError::NotFound)
    }
}
