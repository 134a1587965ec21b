//! The one place that decides who may do what, where.
//!
//! - [`allowed`] is the permission table: `(role, action) -> allowed`. Deny by default.
//! - [`Scope`] is the scope filter: what the caller's assignments reach, for one action, as one
//!   SQL condition on any [`Scoped`] table. Lists filter with it; single objects are looked up
//!   with `id = ? AND <the same condition>`, so the per-object check and the list filter cannot
//!   disagree.
//! - Outside the caller's reach is 404; inside the reach of some role but not of one allowed
//!   the action is 403 ([`authorize_object`]).

use std::collections::BTreeSet;

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::platform::error::{AppError, AppResult};

pub use entity::role_assignment::{Role, ScopeType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StreetRead,
    StreetWrite,
    CommunityRead,
    CommunityWrite,
    CompoundRead,
    CompoundWrite,
    GridRead,
    GridWrite,
    BuildingRead,
    BuildingWrite,
    HouseholdRead,
    HouseholdWrite,
    PropertyCompanyRead,
    PropertyCompanyWrite,
    /// The roster, with personal data masked.
    ResidentRead,
    ResidentWrite,
    /// See one full phone or ID number (audited), or export the roster unmasked.
    ResidentReveal,
    /// Read the audit log of personal-data access.
    AuditRead,
    /// Approve or reject residents' requests to join a household.
    BindingReview,
    /// Create and list staff accounts.
    UserManage,
    /// Grant, list and revoke role assignments.
    RoleManage,
    /// See tickets (everyone also sees the tickets they filed).
    TicketRead,
    /// File a ticket for one's own household's compound (residents).
    TicketFileOwn,
    /// File a ticket on a resident's behalf (phone, visit, patrol, duty room).
    TicketFile,
    /// Give a ticket its colour, or reject it.
    TicketTriage,
    /// Dispatch a ticket to a property company or a staff member.
    TicketDispatch,
    /// Follow a ticket up (progress entries) without being its handler; be assigned as handler.
    TicketFollowUp,
    /// Work tickets dispatched to one's property company.
    TicketHandle,
    /// Change a community's ticket categories and deadline policy.
    TicketSettings,
    /// See the notification outbox and its delivery state.
    NotificationRead,
    /// See open tickets near a ticket and merge duplicates into one (a triage decision that
    /// closes a resident's ticket: not for property companies, which only work what they get).
    TicketMerge,
    /// Read notices: staff down their reach; residents, and anyone whose role reads upward,
    /// what is addressed to the places above them (see [`reads_upward`]).
    NoticeRead,
    /// Draft, publish, withdraw notices and see their receipts, within the downward reach.
    NoticePublish,
    /// Pass or send back what the content check held for review (the moderation queue).
    NoticeModerate,
    /// Keep a street's content-check keyword list (admins of the street; community staff for
    /// the street their community lies in).
    ContentKeywordManage,
    /// Check a text against the content check of a street the caller belongs to (everyone with
    /// a role: it is what publishing does for them anyway).
    ContentCheck,
    /// See the office terms (who holds which office where, when).
    OfficeRead,
    /// Appoint, end and hand over office terms (and the roles they grant).
    OfficeManage,
    /// See polls: staff and leaders down their reach (drafts included); residents, and every
    /// role that [`reads_upward`], the polls addressed to the places above them once scheduled.
    PollRead,
    /// Create, edit, schedule, open, close and cancel polls, see and change their rolls (staff;
    /// building and street leaders for their building or compound).
    PollManage,
    /// Cast a ballot: every role may, the roll decides (an object-level check in the service).
    PollVote,
    /// Keep paper boxes (流动票箱): mark voters issued a paper ballot, enter and confirm counts,
    /// recount. When a poll has officers, only its tellers and chair (an object-level check).
    PollTally,
    /// Read fund accounts (自治金), their ledger and expense requests: staff and leaders down
    /// their reach; residents, and leaders for the places above them, through the audience
    /// reach ([`reads_upward`]), with public names only.
    FundRead,
    /// Open and close fund accounts, record income and transfers, file and pay expense
    /// requests, reverse entries, export the ledger.
    FundRecord,
    /// Approve or reject expense requests (two people of different roles approve one).
    FundApprove,
    /// Request money of a fund account for a proposal (an allocation); approving it is
    /// [`Action::FundApprove`], releasing its rest is this again.
    FundAllocate,
    /// Pledge money, labour or materials to a proposal (民筹): residents for themselves, staff
    /// and leaders on a resident's behalf.
    PledgeCreate,
    /// Record a money pledge received (community staff, the treasurer). A proposal's lead
    /// confirms labour and materials: an object-level check, not this action.
    PledgeFulfil,
    /// See elections: staff down their reach (drafts only with [`Action::ElectionManage`]);
    /// residents and leaders those of the places above them, once the roll is published
    /// (see [`reads_upward`]).
    ElectionRead,
    /// Run elections (§A8: the street guides 居委会 elections, community staff run them).
    ElectionManage,
    /// See proposals (议题): staff and leaders down their reach; property staff those of the
    /// compounds they serve; residents, and every role that [`reads_upward`], the proposals
    /// addressed to the places above them.
    ProposalRead,
    /// Propose a matter for one's own building, compound or community (residents).
    ProposalCreate,
    /// Record a proposal on a resident's behalf (phone, visit, meeting, station), with the
    /// channel.
    ProposalCreateOnBehalf,
    /// Support (附议) a proposal, once per household (residents).
    ProposalSupport,
    /// Move a proposal through its steps: accept, reject, refer, merge, open and cancel the
    /// decision, start, accept the work, close (staff, council; leaders for `small` proposals of
    /// their building or compound: the service narrows it).
    ProposalAdvance,
    /// Report on an implementation: updates, milestones, complete (community staff; the
    /// proposal's lead by an object-level check).
    ProposalLead,
    /// Change a community's consultation policy.
    ConsultationPolicyManage,
    /// Comment on what one may read (a proposal, a notice): every role (§A8; property staff as
    /// 物业 on what concerns the compounds they serve). Reading the subject is the reach.
    CommentCreate,
    /// Hide, unhide and pass comments, and see the moderation queue (§A8: administrators,
    /// community staff, council members), down the reach.
    CommentModerate,
}

impl Action {
    /// Ticket actions reach a property company's tickets by assignment only, not through the
    /// compounds the company serves.
    fn by_assignment_only(self) -> bool {
        matches!(
            self,
            Action::TicketRead
                | Action::TicketFile
                | Action::TicketTriage
                | Action::TicketDispatch
                | Action::TicketFollowUp
                | Action::TicketHandle
                | Action::TicketMerge
        )
    }
}

/// The permission table. Anything not listed is denied.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    let actions: &[Action] = match role {
        Role::Admin => &[
            StreetRead,
            StreetWrite,
            CommunityRead,
            CommunityWrite,
            CompoundRead,
            CompoundWrite,
            GridRead,
            GridWrite,
            BuildingRead,
            BuildingWrite,
            HouseholdRead,
            HouseholdWrite,
            PropertyCompanyRead,
            PropertyCompanyWrite,
            ResidentRead,
            ResidentWrite,
            ResidentReveal,
            AuditRead,
            BindingReview,
            UserManage,
            RoleManage,
            TicketRead,
            TicketFile,
            TicketTriage,
            TicketDispatch,
            TicketFollowUp,
            TicketSettings,
            NotificationRead,
            TicketMerge,
            NoticeRead,
            NoticePublish,
            NoticeModerate,
            ContentKeywordManage,
            ContentCheck,
            OfficeRead,
            OfficeManage,
            PollRead,
            PollManage,
            PollVote,
            PollTally,
            FundRead,
            FundRecord,
            FundApprove,
            FundAllocate,
            ElectionRead,
            ElectionManage,
            ProposalRead,
            ProposalCreateOnBehalf,
            ProposalAdvance,
            ConsultationPolicyManage,
            CommentCreate,
            CommentModerate,
        ],
        Role::CommunityStaff => &[
            CommunityRead,
            CompoundRead,
            CompoundWrite,
            GridRead,
            GridWrite,
            BuildingRead,
            BuildingWrite,
            HouseholdRead,
            HouseholdWrite,
            ResidentRead,
            ResidentWrite,
            ResidentReveal,
            AuditRead,
            BindingReview,
            TicketRead,
            TicketFile,
            TicketTriage,
            TicketDispatch,
            TicketFollowUp,
            TicketSettings,
            NotificationRead,
            TicketMerge,
            NoticeRead,
            NoticePublish,
            NoticeModerate,
            ContentKeywordManage,
            ContentCheck,
            OfficeRead,
            OfficeManage,
            PollRead,
            PollManage,
            PollVote,
            PollTally,
            FundRead,
            FundRecord,
            FundApprove,
            FundAllocate,
            PledgeCreate,
            PledgeFulfil,
            ElectionRead,
            ElectionManage,
            ProposalRead,
            ProposalCreateOnBehalf,
            ProposalAdvance,
            ProposalLead,
            ConsultationPolicyManage,
            CommentCreate,
            CommentModerate,
        ],
        Role::GridManager => &[
            GridRead,
            CompoundRead,
            BuildingRead,
            HouseholdRead,
            HouseholdWrite,
            ResidentRead,
            ResidentWrite,
            ResidentReveal,
            BindingReview,
            TicketRead,
            TicketFile,
            TicketTriage,
            TicketDispatch,
            TicketFollowUp,
            TicketMerge,
            NoticeRead,
            NoticePublish,
            ContentCheck,
            OfficeRead,
            PollRead,
            PollVote,
            FundRead,
            PledgeCreate,
            ElectionRead,
            ProposalRead,
            ProposalCreateOnBehalf,
            CommentCreate,
        ],
        // Property staff see the compounds they serve and their buildings; residents' households
        // only through tickets.
        Role::PropertyStaff => &[
            PropertyCompanyRead,
            CompoundRead,
            BuildingRead,
            TicketRead,
            TicketHandle,
            // Notices to the compounds they serve (停水停电).
            NoticeRead,
            NoticePublish,
            ContentCheck,
            PollVote,
            ProposalRead,
            CommentCreate,
        ],
        Role::CouncilMember => &[
            CommunityRead,
            CompoundRead,
            GridRead,
            BuildingRead,
            TicketRead,
            TicketTriage,
            // Publicity (公示) only: the notice service narrows it.
            NoticeRead,
            NoticePublish,
            ContentCheck,
            OfficeRead,
            PollRead,
            PollVote,
            FundRead,
            FundApprove,
            ElectionRead,
            ProposalRead,
            ProposalCreateOnBehalf,
            ProposalAdvance,
            CommentCreate,
            CommentModerate,
        ],
        // Resident leaders help their neighbours: the roster of their patch, masked; and
        // `normal` notices to it (the notice service narrows the priority).
        Role::BuildingLeader => &[
            BuildingRead,
            HouseholdRead,
            ResidentRead,
            NoticeRead,
            NoticePublish,
            ContentCheck,
            PollRead,
            PollManage,
            PollVote,
            FundRead,
            PledgeCreate,
            ElectionRead,
            ProposalRead,
            ProposalCreateOnBehalf,
            ProposalAdvance,
            CommentCreate,
        ],
        Role::StreetLeader => &[
            CompoundRead,
            BuildingRead,
            HouseholdRead,
            ResidentRead,
            NoticeRead,
            NoticePublish,
            ContentCheck,
            PollRead,
            PollManage,
            PollVote,
            FundRead,
            PledgeCreate,
            ElectionRead,
            ProposalRead,
            ProposalCreateOnBehalf,
            ProposalAdvance,
            CommentCreate,
        ],
        // A household's notices, polls, fund ledgers and elections come through the upward reach
        // ([`reads_upward`]).
        Role::Resident => &[
            HouseholdRead,
            TicketFileOwn,
            NoticeRead,
            ContentCheck,
            PollRead,
            PollVote,
            FundRead,
            PledgeCreate,
            ElectionRead,
            ProposalRead,
            ProposalCreate,
            ProposalSupport,
            CommentCreate,
        ],
    };
    actions.contains(&action)
}

/// Whether `role` reads, for `action`, what is addressed to the places *above* its assignment
/// (the audience reach): a resident reads the notices of their building, compound, community and
/// street; a building leader those above the building they lead. Only reads of content
/// addressed to a place have it; writes keep the downward reach. Property staff have none: they
/// serve compounds, they are not addressed by them.
pub fn reads_upward(role: Role, action: Action) -> bool {
    matches!(
        action,
        Action::NoticeRead
            | Action::PollRead
            | Action::FundRead
            | Action::ElectionRead
            | Action::ProposalRead
    ) && matches!(
        role,
        Role::Resident
            | Role::BuildingLeader
            | Role::StreetLeader
            | Role::GridManager
            | Role::CouncilMember
            | Role::CommunityStaff
    )
}

/// Levels of the territory a scoped table can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Street,
    Community,
    Grid,
    Compound,
    Building,
    Household,
    PropertyCompany,
    /// Rows a user owns (the tickets they filed): the caller's own id.
    Owner,
    /// Content addressed to a place (`scope_id` of an audience-bearing table): the places at and
    /// above the caller's assignments, for a role that [`reads_upward`].
    Audience,
}

/// A table whose rows lie somewhere in the territory. `column(level)` names the column holding
/// the id at that level (the row's own id at its own level), or `None` when the table has none.
pub trait Scoped: EntityTrait {
    fn column(level: Level) -> Option<Self::Column>;
}

/// What a caller reaches for one action: sets of ids per level, or everything.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    everything: bool,
    ids: std::collections::BTreeMap<Level, BTreeSet<Uuid>>,
}

impl Scope {
    pub fn everything() -> Self {
        Scope {
            everything: true,
            ids: Default::default(),
        }
    }

    fn add(&mut self, level: Level, ids: impl IntoIterator<Item = Uuid>) {
        self.ids.entry(level).or_default().extend(ids);
    }

    pub fn is_empty(&self) -> bool {
        !self.everything && self.ids.values().all(|s| s.is_empty())
    }

    /// Whether a row lying at these `(level, id)` places is reached: the in-memory twin of
    /// [`Scope::condition`], for deciding per row what a page may show.
    pub fn contains(&self, at: &[(Level, Uuid)]) -> bool {
        self.everything
            || at
                .iter()
                .any(|(level, id)| self.ids.get(level).is_some_and(|s| s.contains(id)))
    }

    /// The condition selecting exactly the rows of `E` this scope reaches.
    pub fn condition<E: Scoped>(&self) -> Condition {
        self.condition_on(E::column)
    }

    /// [`Scope::condition`] for a table whose columns at each level `column` names: one of
    /// several places a row lies (the two ends of a transfer).
    pub fn condition_on<C: ColumnTrait>(&self, column: impl Fn(Level) -> Option<C>) -> Condition {
        if self.everything {
            return Condition::all();
        }
        let mut any = Condition::any();
        let mut terms = 0;
        for (level, ids) in &self.ids {
            if ids.is_empty() {
                continue;
            }
            if let Some(col) = column(*level) {
                any = any.add(col.is_in(ids.iter().copied()));
                terms += 1;
            }
        }
        if terms == 0 {
            Condition::all().add(never())
        } else {
            any
        }
    }
}

impl Scope {
    /// The same reach as [`Scope::condition`], as separate `column = id` terms whose union it
    /// is: None when the scope is everything. A keyset page can then walk one index per term
    /// (`(column, sort key)`) and merge, instead of sorting every row an OR of terms matches.
    pub fn terms<E: Scoped>(&self) -> Option<Vec<(E::Column, Uuid)>> {
        if self.everything {
            return None;
        }
        let mut out = Vec::new();
        for (level, ids) in &self.ids {
            if let Some(col) = E::column(*level) {
                out.extend(ids.iter().map(|id| (col, *id)));
            }
        }
        Some(out)
    }
}

impl Scope {
    /// [`Scope::terms`] with the level of each term.
    pub fn leveled_terms<E: Scoped>(&self) -> Option<Vec<(Level, E::Column, Uuid)>> {
        if self.everything {
            return None;
        }
        let mut out = Vec::new();
        for (level, ids) in &self.ids {
            if let Some(col) = E::column(*level) {
                out.extend(ids.iter().map(|id| (*level, col, *id)));
            }
        }
        Some(out)
    }
}

impl Level {
    /// How deep in the territory tree the level lies (street 0 … household 4); `None` for the
    /// levels beside it (grids, property companies, owners).
    pub fn depth(self) -> Option<u8> {
        match self {
            Level::Street => Some(0),
            Level::Community => Some(1),
            Level::Compound => Some(2),
            Level::Building => Some(3),
            Level::Household => Some(4),
            Level::Grid | Level::PropertyCompany | Level::Owner | Level::Audience => None,
        }
    }
}

/// Whether the territory object `lower` lies under `upper` (a shallower level), as one
/// uncorrelated `EXISTS` over `lower`'s own row: the database answers it once per statement (a
/// one-time filter), by primary key. `None` when `lower`'s level has no table of its own.
pub fn lies_under(lower: (Level, Uuid), upper: (Level, Uuid)) -> Option<SimpleExpr> {
    fn check<P: Scoped>(id: Uuid, upper: (Level, Uuid)) -> Option<SimpleExpr> {
        let own = id_column::<P>()?;
        let col = P::column(upper.0)?;
        Some(Expr::exists(
            sea_orm::sea_query::Query::select()
                .expr(Expr::val(1))
                .from(P::default())
                .and_where(own.eq(id))
                .and_where(col.eq(upper.1))
                .to_owned(),
        ))
    }
    match lower.0 {
        Level::Community => check::<entity::community::Entity>(lower.1, upper),
        Level::Compound => check::<entity::compound::Entity>(lower.1, upper),
        Level::Building => check::<entity::building::Entity>(lower.1, upper),
        Level::Household => check::<entity::household::Entity>(lower.1, upper),
        _ => None,
    }
}

fn never() -> SimpleExpr {
    Expr::val(1).eq(0)
}

/// Resolves what `user` reaches for `action`: the union over the assignments whose role allows
/// it. Grids and property companies expand to the compounds and buildings they cover.
pub async fn scope<C: ConnectionTrait>(db: &C, user: &Actor, action: Action) -> AppResult<Scope> {
    if user.is_superadmin {
        return Ok(Scope::everything());
    }
    let mut s = Scope::default();
    if action == Action::TicketRead {
        s.add(Level::Owner, [user.id]);
    }
    for a in user.roles.iter().filter(|a| allowed(a.role, action)) {
        if reads_upward(a.role, action) {
            let above = upward(db, a.scope_type, a.scope_id).await?;
            s.add(Level::Audience, above.into_iter().map(|(_, id)| id));
        }
        match a.scope_type {
            ScopeType::Street => s.add(Level::Street, [a.scope_id]),
            ScopeType::Community => s.add(Level::Community, [a.scope_id]),
            ScopeType::Compound => s.add(Level::Compound, [a.scope_id]),
            ScopeType::Building => s.add(Level::Building, [a.scope_id]),
            ScopeType::Household => s.add(Level::Household, [a.scope_id]),
            ScopeType::Grid => {
                use entity::grid_area::{Column, Entity};
                s.add(Level::Grid, [a.scope_id]);
                let areas: Vec<(Option<Uuid>, Option<Uuid>)> = Entity::find()
                    .select_only()
                    .column(Column::CompoundId)
                    .column(Column::BuildingId)
                    .filter(Column::GridId.eq(a.scope_id))
                    .into_tuple()
                    .all(db)
                    .await?;
                s.add(Level::Compound, areas.iter().filter_map(|(c, _)| *c));
                s.add(Level::Building, areas.iter().filter_map(|(_, b)| *b));
            }
            ScopeType::PropertyCompany => {
                use entity::compound::{Column, Entity};
                s.add(Level::PropertyCompany, [a.scope_id]);
                if action.by_assignment_only() {
                    continue;
                }
                let compounds: Vec<Uuid> = Entity::find()
                    .select_only()
                    .column(Column::Id)
                    .filter(Column::PropertyCompanyId.eq(a.scope_id))
                    .into_tuple()
                    .all(db)
                    .await?;
                s.add(Level::Compound, compounds);
            }
        }
    }
    Ok(s)
}

/// The place `(scope_type, id)` and every place above it in the territory, with their levels
/// (a grid: its community and street; a household: its building and above), by one primary-key
/// read; empty when the place no longer exists, and for a property company (it serves places,
/// it lies in none).
async fn upward<C: ConnectionTrait>(
    db: &C,
    scope_type: ScopeType,
    id: Uuid,
) -> AppResult<Vec<(Level, Uuid)>> {
    use entity::{building, community, compound, grid, household};
    use Level as L;
    Ok(match scope_type {
        ScopeType::Street => vec![(L::Street, id)],
        ScopeType::PropertyCompany => Vec::new(),
        ScopeType::Community => community::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| vec![(L::Community, id), (L::Street, c.street_id)])
            .unwrap_or_default(),
        ScopeType::Compound => compound::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|c| {
                vec![
                    (L::Compound, id),
                    (L::Community, c.community_id),
                    (L::Street, c.street_id),
                ]
            })
            .unwrap_or_default(),
        ScopeType::Building => building::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|b| {
                vec![
                    (L::Building, id),
                    (L::Compound, b.compound_id),
                    (L::Community, b.community_id),
                    (L::Street, b.street_id),
                ]
            })
            .unwrap_or_default(),
        // Nothing is addressed to one household: its building and what lies above.
        ScopeType::Household => household::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|h| {
                vec![
                    (L::Building, h.building_id),
                    (L::Compound, h.compound_id),
                    (L::Community, h.community_id),
                    (L::Street, h.street_id),
                ]
            })
            .unwrap_or_default(),
        ScopeType::Grid => grid::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|g| vec![(L::Community, g.community_id), (L::Street, g.street_id)])
            .unwrap_or_default(),
    })
}

/// Every place at and above the caller's assignments (their household's building, compound,
/// community and street; a leader's patch and what lies above it): where what is addressed *to*
/// them, or held *for* them (the offices of their building, compound and community), lies.
/// Property companies add none.
pub async fn places_above<C: ConnectionTrait>(db: &C, user: &Actor) -> AppResult<Vec<Uuid>> {
    let mut out = BTreeSet::new();
    for a in &user.roles {
        out.extend(
            upward(db, a.scope_type, a.scope_id)
                .await?
                .into_iter()
                .map(|(_, id)| id),
        );
    }
    Ok(out.into_iter().collect())
}

impl Scope {
    /// The places whose content the audience reach reads ([`Level::Audience`]).
    pub fn audience(&self) -> Vec<Uuid> {
        self.ids(Level::Audience)
    }

    /// The ids the scope reaches at `level` (empty for everything: ask [`Scope::is_everything`]).
    pub fn ids(&self, level: Level) -> Vec<Uuid> {
        self.ids
            .get(&level)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether the scope is everything (a superadmin).
    pub fn is_everything(&self) -> bool {
        self.everything
    }
}

/// The streets an action reaches: every street, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streets {
    All,
    Some(BTreeSet<Uuid>),
}

impl Streets {
    pub fn contains(&self, street: Uuid) -> bool {
        match self {
            Streets::All => true,
            Streets::Some(s) => s.contains(&street),
        }
    }
}

/// The streets `user`'s assignments that allow `action` lie in: for settings kept per street
/// (the content-check keyword list) that staff below the street act on. One primary-key
/// lookup per assignment; a property company's streets are those of the compounds it serves.
pub async fn streets<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    action: Action,
) -> AppResult<Streets> {
    if user.is_superadmin {
        return Ok(Streets::All);
    }
    let mut out = BTreeSet::new();
    for a in user.roles.iter().filter(|a| allowed(a.role, action)) {
        use entity::compound;
        let found: Vec<Uuid> = match a.scope_type {
            // A property company's streets are those of the compounds it serves.
            ScopeType::PropertyCompany => {
                compound::Entity::find()
                    .select_only()
                    .column(compound::Column::StreetId)
                    .filter(compound::Column::PropertyCompanyId.eq(a.scope_id))
                    .into_tuple()
                    .all(db)
                    .await?
            }
            _ => upward(db, a.scope_type, a.scope_id)
                .await?
                .into_iter()
                .filter(|(level, _)| *level == Level::Street)
                .map(|(_, id)| id)
                .collect(),
        };
        out.extend(found);
    }
    Ok(Streets::Some(out))
}

/// Whether the caller may do `action` at all, anywhere (for actions not tied to an object).
pub fn can_anywhere(user: &Actor, action: Action) -> bool {
    user.is_superadmin || user.roles.iter().any(|a| allowed(a.role, action))
}

/// Loads the object `id` of `E` if `read` reaches it, else 404.
pub async fn find_visible<E, C>(db: &C, user: &Actor, read: Action, id: Uuid) -> AppResult<E::Model>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let s = scope(db, user, read).await?;
    find_in::<E, C>(db, &s, id).await?.ok_or(AppError::NotFound)
}

async fn find_in<E, C>(db: &C, s: &Scope, id: Uuid) -> AppResult<Option<E::Model>>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let Some(id_col) = id_column::<E>() else {
        return Ok(None);
    };
    Ok(E::find()
        .filter(id_col.eq(id))
        .filter(s.condition::<E>())
        .one(db)
        .await?)
}

/// The column holding a table's own id: its (single-column) primary key.
pub fn id_column<E: Scoped>() -> Option<E::Column> {
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    E::PrimaryKey::iter().next().map(|k| k.into_column())
}

/// Whether `action` reaches the object `id` of `E` for `user` (no 404/403 distinction).
pub async fn reaches<E, C>(db: &C, user: &Actor, action: Action, id: Uuid) -> AppResult<bool>
where
    E: Scoped,
    E::Model: Sync,
    C: ConnectionTrait,
{
    if !can_anywhere(user, action) && action != Action::TicketRead {
        return Ok(false);
    }
    let s = scope(db, user, action).await?;
    Ok(match id_column::<E>() {
        Some(id_col) => {
            E::find()
                .filter(id_col.eq(id))
                .filter(s.condition::<E>())
                .count(db)
                .await?
                > 0
        }
        None => false,
    })
}

/// For an action on one existing object: 404 unless `read` reaches it, 403 unless `action` does.
pub async fn authorize_object<E, C>(
    db: &C,
    user: &Actor,
    read: Action,
    action: Action,
    id: Uuid,
) -> AppResult<E::Model>
where
    E: Scoped,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let model = find_visible::<E, C>(db, user, read, id).await?;
    let s = scope(db, user, action).await?;
    let reached = match id_column::<E>() {
        Some(id_col) => {
            E::find()
                .filter(id_col.eq(id))
                .filter(s.condition::<E>())
                .count(db)
                .await?
                > 0
        }
        None => false,
    };
    if reached {
        Ok(model)
    } else {
        Err(AppError::Forbidden)
    }
}

/// For creating a child under `parent_id` of table `P`: the parent must be visible to the caller
/// (`parent_read`, else 404) and reached by `action` (else 403).
pub async fn authorize_parent<P, C>(
    db: &C,
    user: &Actor,
    parent_read: Action,
    action: Action,
    parent_id: Uuid,
) -> AppResult<P::Model>
where
    P: Scoped,
    P::Model: Sync,
    C: ConnectionTrait,
{
    authorize_object::<P, C>(db, user, parent_read, action, parent_id).await
}

/// Declares which column of a table holds its place at each level (`Scoped`); each domain's
/// `policy` declares its own tables.
macro_rules! scoped {
    ($entity:path, $($level:ident => $col:ident),+ $(,)?) => {
        impl Scoped for $entity {
            fn column(level: Level) -> Option<Self::Column> {
                #[allow(unused_imports)]
                use sea_orm::EntityTrait as _;
                type Col = <$entity as EntityTrait>::Column;
                match level {
                    $(Level::$level => Some(Col::$col),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use scoped;

scoped!(entity::audit_event::Entity, Street => StreetId, Community => CommunityId);
scoped!(entity::notification::Entity, Street => StreetId, Community => CommunityId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_name() {
        use sea_orm::ActiveEnum;
        for r in Role::ALL {
            assert_eq!(Role::try_from_value(&r.as_str().to_string()).ok(), Some(r));
            assert_eq!(
                ScopeType::try_from_value(&r.scope_type().as_str().to_string()).ok(),
                Some(r.scope_type())
            );
        }
        assert!(Role::try_from_value(&"root".to_string()).is_err());
    }

    #[test]
    fn only_admins_manage_staff_and_roles() {
        for r in Role::ALL {
            assert_eq!(allowed(r, Action::RoleManage), r == Role::Admin);
            assert_eq!(allowed(r, Action::UserManage), r == Role::Admin);
        }
    }

    #[test]
    fn only_admins_and_community_staff_keep_keyword_lists_and_everyone_checks_text() {
        for r in Role::ALL {
            assert_eq!(
                allowed(r, Action::ContentKeywordManage),
                matches!(r, Role::Admin | Role::CommunityStaff)
            );
            assert!(allowed(r, Action::ContentCheck), "{r:?}");
        }
    }

    #[test]
    fn only_admins_and_community_staff_manage_offices() {
        for r in Role::ALL {
            assert_eq!(
                allowed(r, Action::OfficeManage),
                matches!(r, Role::Admin | Role::CommunityStaff)
            );
            assert_eq!(
                allowed(r, Action::OfficeRead),
                matches!(
                    r,
                    Role::Admin | Role::CommunityStaff | Role::GridManager | Role::CouncilMember
                )
            );
        }
    }

    #[test]
    fn fund_actions_follow_the_design_table() {
        use Role::*;
        for r in Role::ALL {
            assert_eq!(allowed(r, Action::FundRead), r != PropertyStaff, "{r:?}");
            assert_eq!(
                allowed(r, Action::FundRecord),
                matches!(r, Admin | CommunityStaff),
                "{r:?}"
            );
            assert_eq!(
                allowed(r, Action::FundApprove),
                matches!(r, Admin | CommunityStaff | CouncilMember),
                "{r:?}"
            );
        }
    }

    #[test]
    fn property_staff_never_read_households() {
        assert!(!allowed(Role::PropertyStaff, Action::HouseholdRead));
    }
}
