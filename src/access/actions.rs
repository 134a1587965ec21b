//! The permission table: every action, and which roles may take it (`allowed`), deny by default;
//! and which reads also reach the places above an assignment (`reads_upward`). The scope filter
//! that turns an allowed action into SQL is in [`crate::access::policy`].

use entity::role_assignment::Role;

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
    pub(crate) fn by_assignment_only(self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use entity::role_assignment::ScopeType;

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
