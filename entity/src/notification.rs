use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_type: Event,
    /// Set for a ticket's notifications (also as `subject_id`).
    pub ticket_id: Option<Uuid>,
    /// What the notification is about (`ticket`, …) and its id; null only on rows written
    /// before subjects existed and not about a ticket (none are).
    pub subject_type: Option<crate::subject::SubjectType>,
    pub subject_id: Option<Uuid>,
    pub recipient_user_id: Uuid,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    /// JSON: what the message says (title, status, time, note).
    pub payload: String,
    pub status: DeliveryStatus,
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

/// Where a notification's delivery stands (the spec's list of `status` values).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "skipped")]
    Skipped,
}

/// What happened, as configured templates are keyed (`LINLI_WECHAT_TEMPLATES`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationEvent)]
pub enum Event {
    /// To the requester: the ticket's status changed.
    #[sea_orm(string_value = "ticket_status_changed")]
    TicketStatusChanged,
    /// To the handler(s): a ticket was dispatched to them.
    #[sea_orm(string_value = "ticket_assigned")]
    TicketAssigned,
    /// To the handler(s): the requester urged the ticket.
    #[sea_orm(string_value = "ticket_urged")]
    TicketUrged,
    /// To the staff of the level a ticket was escalated to.
    #[sea_orm(string_value = "ticket_escalated")]
    TicketEscalated,
    /// To the other side of a ticket's conversation: a new message (the requester's go to the
    /// handlers, staff's to the requester).
    #[sea_orm(string_value = "ticket_message")]
    TicketMessage,
    /// To each recipient of a notice, when it is published.
    #[sea_orm(string_value = "notice_published")]
    NoticePublished,
    /// To the accounts on a poll's roll: voting has opened.
    #[sea_orm(string_value = "poll_opened")]
    PollOpened,
    /// To the accounts on a poll's roll: the poll closed and its result is out.
    #[sea_orm(string_value = "poll_result")]
    PollResult,
    /// To the author, the supporting households' accounts, the lead and the building leaders of its place: a proposal moved to another step.
    #[sea_orm(string_value = "proposal_stepped")]
    ProposalStepped,
    /// To the same: a proposal's decision poll opened.
    #[sea_orm(string_value = "proposal_poll_open")]
    ProposalPollOpen,
    /// To the same: a proposal's decision poll closed (passed, failed).
    #[sea_orm(string_value = "proposal_result")]
    ProposalResult,
    /// To the author and the supporting households' accounts: the lead reported progress.
    #[sea_orm(string_value = "proposal_progress")]
    ProposalProgress,
    /// To the author, supporters and lead: the work is complete and its evaluation (评议) is open.
    #[sea_orm(string_value = "proposal_evaluation_open")]
    ProposalEvaluationOpen,
    /// To the lead and the community's council and staff: a closed proposal's 回头看 review is due.
    #[sea_orm(string_value = "proposal_review_due")]
    ProposalReviewDue,
    /// To a proposal's author (a new comment) or a comment's author (a reply to it): a comment on
    /// a proposal was published.
    #[sea_orm(string_value = "proposal_commented")]
    ProposalCommented,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::TicketStatusChanged => "ticket_status_changed",
            Event::TicketAssigned => "ticket_assigned",
            Event::TicketUrged => "ticket_urged",
            Event::TicketEscalated => "ticket_escalated",
            Event::TicketMessage => "ticket_message",
            Event::NoticePublished => "notice_published",
            Event::PollOpened => "poll_opened",
            Event::PollResult => "poll_result",
            Event::ProposalStepped => "proposal_stepped",
            Event::ProposalPollOpen => "proposal_poll_open",
            Event::ProposalResult => "proposal_result",
            Event::ProposalProgress => "proposal_progress",
            Event::ProposalEvaluationOpen => "proposal_evaluation_open",
            Event::ProposalReviewDue => "proposal_review_due",
            Event::ProposalCommented => "proposal_commented",
        }
    }

    /// Every event, for validating configuration and filters.
    pub const ALL: [Event; 15] = [
        Event::TicketStatusChanged,
        Event::TicketAssigned,
        Event::TicketUrged,
        Event::TicketEscalated,
        Event::TicketMessage,
        Event::NoticePublished,
        Event::PollOpened,
        Event::PollResult,
        Event::ProposalStepped,
        Event::ProposalPollOpen,
        Event::ProposalResult,
        Event::ProposalProgress,
        Event::ProposalEvaluationOpen,
        Event::ProposalReviewDue,
        Event::ProposalCommented,
    ];

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}
