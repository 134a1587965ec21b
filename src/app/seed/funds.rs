//! The demo's 自治金 account.

use chrono::Duration;
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use crate::access::policy::Role;

/// The community's self-governance fund (自治金) of the year, opened 160 days ago (before the
/// demo's proposals spend from it): the street's allocation and a resident's anonymous gift
/// recorded by the community staff. Its id. (The proposals seed allocates and spends from it.)
pub(super) async fn demo_funds<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    publishers: &[(Uuid, &str, Role, Uuid)],
    community_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Uuid> {
    use crate::access::actor::Assignment;
    use crate::funds::model::{AccountKind, CounterpartyKind, EntryKind, Place};
    use crate::funds::service::{accounts, money};
    let Some((id, display, role, scope_id)) = publishers
        .iter()
        .find(|p| p.2 == Role::CommunityStaff && p.3 == community_id)
    else {
        anyhow::bail!("the demo fund: no community staff to open it");
    };
    let now = now - Duration::days(160);
    let day = crate::funds::service::today(now);
    let year = chrono::Datelike::year(&day);
    let mut staff = crate::access::Actor::new(
        *id,
        vec![Assignment {
            id: Uuid::nil(),
            role: *role,
            scope_type: role.scope_type(),
            scope_id: *scope_id,
            valid_until: None,
            source_term_id: None,
        }],
    );
    staff.display_name = (*display).into();
    let fail = |what: &str, e: crate::platform::error::AppError| {
        anyhow::anyhow!("the demo fund: {what}: {e}")
    };
    let account = accounts::open(
        db,
        &staff,
        accounts::NewAccount {
            place: Place::Community,
            place_id: community_id,
            name: format!("{year}年度社区自治金"),
            kind: AccountKind::SelfGovernance,
            fiscal_year: Some(year),
        },
        now,
    )
    .await
    .map_err(|e| fail("opening the account", e))?;
    let allocation_memo = format!("{year}年度社区自治金拨付");
    for (kind, amount, party, name, anonymous, memo) in [
        (
            EntryKind::Allocation,
            5_000_000,
            CounterpartyKind::Government,
            "上城区民政局",
            false,
            allocation_memo.as_str(),
        ),
        (
            EntryKind::Contribution,
            20_000,
            CounterpartyKind::Resident,
            "王建国",
            true,
            "居民捐赠：楼道改造",
        ),
    ] {
        let income = money::Income {
            kind,
            amount_fen: amount,
            counterparty_kind: party,
            counterparty_name: name.into(),
            anonymous,
            memo: Some(memo.into()),
            occurred_on: day,
            proposal_id: None,
            pledge_id: None,
            attachment_ids: Vec::new(),
        };
        money::income(db, &staff, account.id, income, now)
            .await
            .map_err(|e| fail("recording income", e))?;
    }
    Ok(account.id)
}
