//! A ticket's conversation as screens show it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::tickets::model::Side;
use crate::tickets::service::messages::Shown;

/// One message of a ticket's conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketMessageResponse {
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// Who speaks: the requester or staff.
    pub side: Side,
    /// Null for the requester of an anonymous ticket when the caller may not know who that is
    /// (the property company, for one), and for an erased account.
    pub author_user_id: Option<Uuid>,
    /// The author's name; `居民` for the requester of an anonymous ticket when the caller may
    /// not know who that is.
    pub author_name: String,
    pub body: String,
    /// Written by the caller (the chat bubble on the right).
    pub mine: bool,
    #[serde(serialize_with = "crate::platform::rfc3339::ms")]
    pub created_at: DateTime<Utc>,
}

impl From<Shown> for TicketMessageResponse {
    fn from(m: Shown) -> Self {
        Self {
            id: m.id,
            ticket_id: m.ticket_id,
            side: m.side,
            author_user_id: m.author_user_id,
            author_name: m.author_name,
            body: m.body,
            mine: m.mine,
            created_at: m.created_at,
        }
    }
}
