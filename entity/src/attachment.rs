use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub uploader_user_id: Uuid,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    /// Set on rows attached to a ticket before attachments had subjects (migration 018 copied it
    /// into `subject_id`); no longer written.
    pub ticket_id: Option<Uuid>,
    /// The timeline entry it was attached with.
    pub event_id: Option<Uuid>,
    /// What it is attached to; both null until the upload is attached.
    pub subject_type: Option<crate::subject::SubjectType>,
    pub subject_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// The smaller copy made on upload (`thumbnail::make`); null when none could be made.
    pub thumbnail_key: Option<String>,
    pub thumbnail_content_type: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
