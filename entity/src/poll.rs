use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "polls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub street_id: Uuid,
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    pub scope_type: PollScope,
    pub scope_id: Uuid,
    pub subject_type: Subject,
    pub subject_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub secrecy: Secrecy,
    pub unit: VoterUnit,
    /// JSON `{min_age, tags_any, tags_all, include_shops, include_needs_review}`.
    pub eligibility: String,
    pub preset: Preset,
    pub quorum_num: i32,
    /// 0: no quorum.
    pub quorum_den: i32,
    pub quorum_strict: bool,
    pub threshold_num: i32,
    pub threshold_den: i32,
    pub threshold_strict: bool,
    pub threshold_base: ThresholdBase,
    pub abstain_in_quorum: bool,
    pub abstain_in_threshold_base: bool,
    pub results_visibility: ResultsVisibility,
    pub opens_at: DateTimeUtc,
    pub closes_at: DateTimeUtc,
    pub status: Status,
    pub roll_built_at: Option<DateTimeUtc>,
    pub roll_size: Option<i32>,
    pub roll_sha256: Option<String>,
    pub late_additions: i32,
    pub ballots_cast: i32,
    pub paper_issued: i32,
    pub latest_tally_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    pub opened_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub close_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_by_name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The level of the place a poll's roll is drawn from. No doc comment: it would become the schema's description.
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
#[schema(as = PollScopeType)]
pub enum PollScope {
    #[sea_orm(string_value = "street")]
    Street,
    #[sea_orm(string_value = "community")]
    Community,
    #[sea_orm(string_value = "compound")]
    Compound,
    #[sea_orm(string_value = "building")]
    Building,
}

// What a poll decides: a stand-alone vote, or the vote of another domain's object.
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
#[schema(as = PollSubjectType)]
pub enum Subject {
    #[sea_orm(string_value = "standalone")]
    Standalone,
    #[sea_orm(string_value = "election")]
    Election,
    #[sea_orm(string_value = "proposal_decision")]
    ProposalDecision,
    #[sea_orm(string_value = "proposal_evaluation")]
    ProposalEvaluation,
}

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
#[schema(as = PollSecrecy)]
pub enum Secrecy {
    /// Who voted how is recorded (for the voter's own view; never published).
    #[sea_orm(string_value = "open")]
    Open,
    /// Ballots carry no voter, no time, and random ids.
    #[sea_orm(string_value = "secret")]
    Secret,
}

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
#[schema(as = PollVoterUnit)]
pub enum VoterUnit {
    /// One vote per eligible resident.
    #[sea_orm(string_value = "resident")]
    Resident,
    /// One vote per household (一户一票), cast by an adult member.
    #[sea_orm(string_value = "household")]
    Household,
}

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
#[schema(as = PollPreset)]
pub enum Preset {
    /// 居民会议: more than half of the eligible participate, more than half of the participants agree.
    #[sea_orm(string_value = "residents_meeting")]
    ResidentsMeeting,
    /// No quorum; more than half of the valid votes.
    #[sea_orm(string_value = "simple_majority")]
    SimpleMajority,
    /// No quorum; two thirds of the valid votes or more (三分之二以上).
    #[sea_orm(string_value = "two_thirds")]
    TwoThirds,
    /// The rule fields as given.
    #[sea_orm(string_value = "custom")]
    Custom,
}

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
#[schema(as = PollThresholdBase)]
pub enum ThresholdBase {
    /// Voters who took part (abstentions included only with `abstain_in_threshold_base`).
    #[sea_orm(string_value = "participants")]
    Participants,
    /// Votes for an option other than abstain.
    #[sea_orm(string_value = "valid")]
    Valid,
    /// Everyone on the roll.
    #[sea_orm(string_value = "eligible")]
    Eligible,
}

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
#[schema(as = PollResultsVisibility)]
pub enum ResultsVisibility {
    /// Per-option counts only once closed (always for secret polls).
    #[sea_orm(string_value = "after_close")]
    AfterClose,
    /// Open polls only: counts while voting.
    #[sea_orm(string_value = "live")]
    Live,
}

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
#[schema(as = PollStatus)]
pub enum Status {
    #[sea_orm(string_value = "draft")]
    Draft,
    /// Opens at `opens_at` (the job).
    #[sea_orm(string_value = "scheduled")]
    Scheduled,
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

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
#[schema(as = PollOutcome)]
pub enum Outcome {
    #[sea_orm(string_value = "passed")]
    Passed,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "no_quorum")]
    NoQuorum,
    #[sea_orm(string_value = "void")]
    Void,
}

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
#[schema(as = PollQuestionKind)]
pub enum QuestionKind {
    #[sea_orm(string_value = "single")]
    Single,
    #[sea_orm(string_value = "multiple")]
    Multiple,
    /// Options 同意, 反对, 弃权, made by the server.
    #[sea_orm(string_value = "yes_no_abstain")]
    YesNoAbstain,
    /// Each chosen option gets a score 1–10.
    #[sea_orm(string_value = "rating")]
    Rating,
    /// Options are candidates; up to `seats` choices.
    #[sea_orm(string_value = "candidates")]
    Candidates,
}

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
#[schema(as = PollRollStatus)]
pub enum RollStatus {
    #[sea_orm(string_value = "eligible")]
    Eligible,
    #[sea_orm(string_value = "voted")]
    Voted,
    #[sea_orm(string_value = "struck")]
    Struck,
    /// No birth date on the roster: not counted until admitted.
    #[sea_orm(string_value = "needs_review")]
    NeedsReview,
}

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
#[schema(as = PollChannel)]
pub enum Channel {
    #[sea_orm(string_value = "online")]
    Online,
    #[sea_orm(string_value = "paper")]
    Paper,
    #[sea_orm(string_value = "proxy")]
    Proxy,
    #[sea_orm(string_value = "staff")]
    Staff,
}

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
#[schema(as = PollBallotSource)]
pub enum BallotSource {
    #[sea_orm(string_value = "online")]
    Online,
    #[sea_orm(string_value = "paper_box")]
    PaperBox,
}

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
#[schema(as = PollBoxStatus)]
pub enum BoxStatus {
    #[sea_orm(string_value = "open")]
    Open,
    /// Counts entered by one teller.
    #[sea_orm(string_value = "counted")]
    Counted,
    /// Counts confirmed by a second teller.
    #[sea_orm(string_value = "confirmed")]
    Confirmed,
}

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
#[schema(as = PollTallyKind)]
pub enum TallyKind {
    #[sea_orm(string_value = "close")]
    Close,
    #[sea_orm(string_value = "recount")]
    Recount,
    #[sea_orm(string_value = "paper")]
    Paper,
    #[sea_orm(string_value = "correction")]
    Correction,
}

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
#[schema(as = PollOfficerRole)]
pub enum OfficerRole {
    #[sea_orm(string_value = "chair")]
    Chair,
    #[sea_orm(string_value = "teller")]
    Teller,
    #[sea_orm(string_value = "scrutineer")]
    Scrutineer,
}
