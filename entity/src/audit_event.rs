use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
    pub actor_id: Uuid,
    /// Who acted, as they were named when they acted (kept when the account is erased).
    pub actor_name: Option<String>,
    pub actor_username: Option<String>,
    pub action: Action,
    pub resident_id: Option<Uuid>,
    pub field: Option<String>,
    pub purpose: String,
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What an audit event records; the one list of them.
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
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
#[schema(as = AuditAction)]
pub enum Action {
    /// A personal-data field shown in full, with a purpose.
    #[sea_orm(string_value = "reveal")]
    Reveal,
    /// A masked roster export.
    #[sea_orm(string_value = "export")]
    Export,
    /// An unmasked roster export, with a purpose.
    #[sea_orm(string_value = "export_unmasked")]
    ExportUnmasked,
    /// A search by full phone number.
    #[sea_orm(string_value = "phone_lookup")]
    PhoneLookup,
    #[sea_orm(string_value = "resident_create")]
    ResidentCreate,
    #[sea_orm(string_value = "resident_update")]
    ResidentUpdate,
    #[sea_orm(string_value = "resident_delete")]
    ResidentDelete,
    /// A roster import.
    #[sea_orm(string_value = "import")]
    Import,
    /// A WeChat account linked to a resident.
    #[sea_orm(string_value = "binding_link")]
    BindingLink,
    /// A ticket ledger export.
    #[sea_orm(string_value = "tickets_export")]
    TicketsExport,
    #[sea_orm(string_value = "account_update")]
    AccountUpdate,
    #[sea_orm(string_value = "password_reset")]
    PasswordReset,
    #[sea_orm(string_value = "account_unlock")]
    AccountUnlock,
    #[sea_orm(string_value = "wechat_bind")]
    WechatBind,
    #[sea_orm(string_value = "wechat_unbind")]
    WechatUnbind,
    /// A resident's transfer to another household filed (迁出).
    #[sea_orm(string_value = "transfer_file")]
    TransferFile,
    /// A transfer accepted: the resident moved (迁入).
    #[sea_orm(string_value = "transfer_accept")]
    TransferAccept,
    #[sea_orm(string_value = "transfer_refuse")]
    TransferRefuse,
    #[sea_orm(string_value = "transfer_cancel")]
    TransferCancel,
    /// An office term started by appointment (任命), with the role it granted if any.
    #[sea_orm(string_value = "term_appoint")]
    TermAppoint,
    /// An office term ended early by staff; its role revoked.
    #[sea_orm(string_value = "term_end")]
    TermEnd,
    /// An office term handed over to a successor (荣退交接).
    #[sea_orm(string_value = "term_handover")]
    TermHandover,
    /// A term-bound role expired and was removed by the expiry job; the term ended.
    #[sea_orm(string_value = "term_expire")]
    TermExpire,
    /// A voter added to a poll's roll by staff (a late addition while open), with the reason.
    #[sea_orm(string_value = "poll_roll_add")]
    PollRollAdd,
    /// A voter struck from a poll's roll, with the reason.
    #[sea_orm(string_value = "poll_roll_strike")]
    PollRollStrike,
    /// A `needs_review` entry of a poll's roll admitted as eligible.
    #[sea_orm(string_value = "poll_roll_admit")]
    PollRollAdmit,
    /// A fund account opened (自治金账户).
    #[sea_orm(string_value = "fund_account_open")]
    FundAccountOpen,
    /// A fund account closed (at balance 0).
    #[sea_orm(string_value = "fund_account_close")]
    FundAccountClose,
    /// Income recorded on a fund account (allocation, contribution, transfer in).
    #[sea_orm(string_value = "fund_income")]
    FundIncome,
    /// Money moved between two fund accounts.
    #[sea_orm(string_value = "fund_transfer")]
    FundTransfer,
    /// An expense request filed.
    #[sea_orm(string_value = "fund_expense_request")]
    FundExpenseRequest,
    /// An approval of an expense request (the second reserves the money).
    #[sea_orm(string_value = "fund_expense_approve")]
    FundExpenseApprove,
    #[sea_orm(string_value = "fund_expense_reject")]
    FundExpenseReject,
    /// An approved or submitted request cancelled (a reservation released).
    #[sea_orm(string_value = "fund_expense_cancel")]
    FundExpenseCancel,
    /// An expense paid: the `expense` entry written.
    #[sea_orm(string_value = "fund_expense_pay")]
    FundExpensePay,
    /// An entry reversed.
    #[sea_orm(string_value = "fund_reverse")]
    FundReverse,
    /// A fund ledger (自治金台账) exported.
    #[sea_orm(string_value = "fund_export")]
    FundExport,
    /// Money of a fund account requested for a proposal (an allocation).
    #[sea_orm(string_value = "fund_allocation_request")]
    FundAllocationRequest,
    /// An approval of an allocation (the second reserves the money).
    #[sea_orm(string_value = "fund_allocation_approve")]
    FundAllocationApprove,
    #[sea_orm(string_value = "fund_allocation_reject")]
    FundAllocationReject,
    /// The unspent rest of an allocation released (its reservation freed).
    #[sea_orm(string_value = "fund_allocation_release")]
    FundAllocationRelease,
    /// Leftover contributions to a proposal refunded when it closed.
    #[sea_orm(string_value = "fund_refund")]
    FundRefund,
    /// A pledge (民筹) fulfilled: money received, labour minutes or materials confirmed.
    #[sea_orm(string_value = "pledge_fulfil")]
    PledgeFulfil,
    /// A step of an election (§A4.3): the verb is in `purpose`, the election and the
    /// change in `detail`.
    #[sea_orm(string_value = "election_step")]
    ElectionStep,
    /// An accepted roll objection edited an election's voter roll.
    #[sea_orm(string_value = "election_roll_edit")]
    ElectionRollEdit,
    /// An office term started by an election's published result, with its role.
    #[sea_orm(string_value = "term_elect")]
    TermElect,
    /// An election's result sheet (.xlsx) downloaded.
    #[sea_orm(string_value = "election_results_export")]
    ElectionResultsExport,
    /// A verb of a proposal (§A1): the verb is in `purpose`, the proposal and the move in
    /// `detail`.
    #[sea_orm(string_value = "proposal_step")]
    ProposalStep,
    /// A community's consultation policy changed.
    #[sea_orm(string_value = "consultation_policy_change")]
    ConsultationPolicyChange,
    /// The 协商台账 (.xlsx) exported.
    #[sea_orm(string_value = "proposal_export")]
    ProposalExport,
    /// A comment hidden by a moderator, with the reason.
    #[sea_orm(string_value = "comment_hide")]
    CommentHide,
    /// A hidden comment shown again by a moderator, with the reason.
    #[sea_orm(string_value = "comment_unhide")]
    CommentUnhide,
    /// A comment held for review, or reported, passed by a moderator.
    #[sea_orm(string_value = "comment_approve")]
    CommentApprove,
}

impl Action {
    /// The stored and answered name.
    pub fn as_str(self) -> String {
        self.to_value()
    }

    pub fn parse(s: &str) -> Option<Action> {
        Self::try_from_value(&s.to_string()).ok()
    }
}
