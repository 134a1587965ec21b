use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_type: String,
    /// Set for a ticket's notifications (also as `subject_id`).
    pub ticket_id: Option<Uuid>,
    /// What the notification is about (`ticket`, …) and its id; null only on rows written
    /// before subjects existed and not about a ticket (none are).
    pub subject_type: Option<String>,
    pub subject_id: Option<Uuid>,
    pub recipient_user_id: Uuid,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    /// JSON: what the message says (title, status, time, note).
    pub payload: String,
    /// `pending`, `sent`, `failed` or `skipped`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A worker holds the row until then (so two replicas never send it twice at once).
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
