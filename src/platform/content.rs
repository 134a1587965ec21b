//! TEMPORARY (replaced by the content-check branch at merge): the interface only, passing
//! everything. Never lands on main as is.

use uuid::Uuid;

use crate::platform::error::AppResult;
use crate::platform::state::AppState;

pub enum Scene {
    Forum,
}
pub struct Author {
    pub user_id: Uuid,
    pub openid: Option<String>,
    pub street_id: Uuid,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Review {
        label: String,
        trace_id: Option<String>,
    },
    Risky {
        label: String,
        trace_id: Option<String>,
    },
}
pub async fn check_text(
    _state: &AppState,
    _author: &Author,
    _scene: Scene,
    _title: Option<&str>,
    _body: &str,
) -> AppResult<Verdict> {
    Ok(Verdict::Pass)
}
pub fn reject_risky(v: Verdict) -> AppResult<Verdict> {
    Ok(v)
}
pub async fn author_of<C: sea_orm::ConnectionTrait>(
    _db: &C,
    user_id: Uuid,
    street_id: Uuid,
) -> AppResult<Author> {
    Ok(Author {
        user_id,
        openid: None,
        street_id,
    })
}
