//! How a comment's author is shown (§A2 rule 7): residents as their building and masked
//! surname (`3栋 王**`), property staff as `物业` on what concerns the compounds they serve,
//! staff and council members with their tag. Never a full name, never a phone: the display is
//! computed once, when the comment is written, and stored.

use sea_orm::ConnectionTrait;

use crate::access::policy::{self, Action, Role, ScopeType};
use crate::access::Actor;
use crate::deliberation::model::{masked_display, AuthorKind};
use crate::deliberation::service::subject::Subject;
use crate::platform::error::AppResult;
use crate::residents::service::linked_accounts;
use crate::territory::query::{homes, place_lookup};

/// Whether `actor`'s assignments of the roles `pick` selects reach the subject (down the tree).
async fn reach<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    s: &Subject,
    pick: impl Fn(Role) -> bool,
) -> AppResult<bool> {
    let roles: Vec<_> = actor
        .roles
        .iter()
        .filter(|a| pick(a.role))
        .cloned()
        .collect();
    if roles.is_empty() {
        return Ok(false);
    }
    let only = Actor::new(actor.id, roles);
    Ok(policy::scope(db, &only, Action::CommentCreate)
        .await?
        .contains(&s.places()))
}

/// The kind and display of `actor` writing on `s`.
pub async fn author<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    s: &Subject,
) -> AppResult<(AuthorKind, String)> {
    if reach(db, actor, s, |r| r == Role::PropertyStaff).await? {
        return Ok((AuthorKind::Property, "物业".into()));
    }
    if actor.is_superadmin {
        return Ok((AuthorKind::Staff, "工作人员".into()));
    }
    if reach(db, actor, s, |r| r == Role::Admin).await? {
        return Ok((AuthorKind::Staff, "街道工作人员".into()));
    }
    if reach(db, actor, s, |r| {
        matches!(r, Role::CommunityStaff | Role::GridManager)
    })
    .await?
    {
        return Ok((AuthorKind::Staff, "社区工作人员".into()));
    }
    let council = reach(db, actor, s, |r| r == Role::CouncilMember).await?;
    let masked = masked_resident(db, actor).await?;
    if council {
        return Ok((
            AuthorKind::Council,
            masked.unwrap_or_else(|| "议事会成员".into()),
        ));
    }
    if let Some(m) = masked {
        return Ok((AuthorKind::Resident, m));
    }
    // Someone reading the subject only through a role that does not reach it down the tree
    // (staff of a neighbouring patch reading upward): their role's words.
    let has = |f: fn(Role) -> bool| actor.roles.iter().any(|a| f(a.role));
    Ok(if has(|r| r == Role::PropertyStaff) {
        (AuthorKind::Property, "物业".into())
    } else if has(|r| matches!(r, Role::Admin | Role::CommunityStaff | Role::GridManager)) {
        (AuthorKind::Staff, "社区工作人员".into())
    } else if has(|r| r == Role::CouncilMember) {
        (AuthorKind::Council, "议事会成员".into())
    } else {
        (AuthorKind::Resident, masked_display(None, None))
    })
}

/// A resident's (or a leader's) masked display: the roster entry the account is linked to
/// (its building and surname), else the building of their household or building assignment
/// with `居民`; None when the account lives nowhere we know.
async fn masked_resident<C: ConnectionTrait>(db: &C, actor: &Actor) -> AppResult<Option<String>> {
    let linked = linked_accounts::of_user(db, actor.id).await?;
    let (building, name) = match linked {
        Some(r) => (Some(r.building_id), Some(r.name)),
        None => {
            let mut building = None;
            for a in &actor.roles {
                building = match a.scope_type {
                    ScopeType::Household => homes::household(db, a.scope_id)
                        .await?
                        .map(|h| h.building_id),
                    ScopeType::Building => Some(a.scope_id),
                    _ => None,
                };
                if building.is_some() {
                    break;
                }
            }
            (building, None)
        }
    };
    let is_resident_like = actor.roles.iter().any(|a| {
        matches!(
            a.role,
            Role::Resident | Role::BuildingLeader | Role::StreetLeader
        )
    });
    if building.is_none() && name.is_none() && !is_resident_like {
        return Ok(None);
    }
    let building_name = match building {
        Some(b) => place_lookup::building_names(db, [b]).await?.remove(&b),
        None => None,
    };
    Ok(Some(masked_display(
        building_name.as_deref(),
        name.as_deref(),
    )))
}
