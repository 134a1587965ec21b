//! `linli seed demo`: a demo street named after the communities whose practice linli digitises.

use chrono::Utc;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

mod consultation;
mod election;
mod funds;
mod notices;
mod participation;
mod projects;
mod proposals;
mod tickets;

use crate::access::policy::Role;
use crate::platform::config::{Environment, Settings};
use crate::platform::storage::Storage;
use crate::territory::model::{CompoundKind, HouseholdKind};
use entity::{
    building, community, compound, grid, grid_area, household, property_company, role_assignment,
    street,
};

pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub scope: String,
}

/// Seeds into `settings`' database and prints the demo accounts.
///
/// Refused with `LINLI_ENV=prod` unless `force`: it creates accounts with well-known usernames
/// and prints their passwords, which then sit in a terminal's scrollback or a CI log.
pub async fn run_demo(settings: &Settings, force: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.env != Environment::Prod || force,
        "seed demo refused with LINLI_ENV=prod: it creates demo accounts and prints their \
         passwords; pass --force to seed anyway"
    );
    crate::migrate(settings).await?;
    let db = crate::platform::db::connect(settings).await?;
    let storage = crate::platform::storage::connect(&settings.upload_dir)?;
    let users = seed_demo(&db, storage.as_ref()).await?;
    println!("Demo data created: 紫阳街道 with 4 communities.");
    println!("{:<22} {:<18} {:<16} scope", "username", "password", "role");
    for u in users {
        println!(
            "{:<22} {:<18} {:<16} {}",
            u.username,
            u.password,
            u.role.as_str(),
            u.scope
        );
    }
    Ok(())
}

fn password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// Fills an empty database; refuses one that already has streets. The photos of the demo's
/// proposals (progress, completion, invoices) are kept in `storage`.
pub async fn seed_demo(
    db: &DatabaseConnection,
    storage: &dyn Storage,
) -> anyhow::Result<Vec<DemoUser>> {
    anyhow::ensure!(
        street::Entity::find().count(db).await? == 0,
        "the database already has territory; seed demo only fills an empty database"
    );
    let txn = db.begin().await?;
    let now = Utc::now();
    let street_id = Uuid::now_v7();
    street::ActiveModel {
        id: Set(street_id),
        name: Set("紫阳街道".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let company_id = Uuid::now_v7();
    property_company::ActiveModel {
        id: Set(company_id),
        street_id: Set(street_id),
        name: Set("候潮物业服务有限公司".into()),
        contact_phone: Set(Some("0571-87000000".into())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;

    // (community, compounds)
    let plan: [(&str, &[&str]); 4] = [
        ("上羊市街社区", &["上羊市街小区"]),
        ("海潮社区", &["候潮府小区"]),
        ("劳动路社区", &["柳浪东苑"]),
        ("万家星城社区", &["万家星城一期"]),
    ];
    let mut communities = Vec::new();
    let mut first_building = None;
    let mut first_household = None;
    let mut haichao_compound = None;
    let mut grid_id = None;
    for (cname, compounds) in plan {
        let community_id = Uuid::now_v7();
        community::ActiveModel {
            id: Set(community_id),
            street_id: Set(street_id),
            name: Set(cname.into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        communities.push((cname, community_id));
        for kname in compounds {
            let compound_id = Uuid::now_v7();
            let served = *kname == "候潮府小区";
            compound::ActiveModel {
                id: Set(compound_id),
                street_id: Set(street_id),
                community_id: Set(community_id),
                property_company_id: Set(served.then_some(company_id)),
                name: Set((*kname).into()),
                address: Set(None),
                // Homes, and the shops along its street front that its 街面长 leads.
                kind: Set(if served {
                    CompoundKind::Mixed
                } else {
                    CompoundKind::Residential
                }),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            if served {
                haichao_compound = Some(compound_id);
                let g = Uuid::now_v7();
                grid::ActiveModel {
                    id: Set(g),
                    street_id: Set(street_id),
                    community_id: Set(community_id),
                    name: Set("海潮第一网格".into()),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
                grid_area::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    grid_id: Set(g),
                    compound_id: Set(Some(compound_id)),
                    building_id: Set(None),
                }
                .insert(&txn)
                .await?;
                grid_id = Some(g);
            }
            for b in 1..=3 {
                let building_id = Uuid::now_v7();
                building::ActiveModel {
                    id: Set(building_id),
                    street_id: Set(street_id),
                    community_id: Set(community_id),
                    compound_id: Set(compound_id),
                    name: Set(format!("{b}幢")),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
                if served && first_building.is_none() {
                    first_building = Some(building_id);
                }
                let mut rows = Vec::new();
                for unit in 1..=2 {
                    for floor in 1..=3 {
                        for door in 1..=2 {
                            let id = Uuid::now_v7();
                            if served && first_household.is_none() {
                                first_household = Some(id);
                            }
                            rows.push(household::ActiveModel {
                                id: Set(id),
                                street_id: Set(street_id),
                                community_id: Set(community_id),
                                compound_id: Set(compound_id),
                                building_id: Set(building_id),
                                unit: Set(format!("{unit}单元")),
                                room: Set(format!("{floor}0{door}")),
                                kind: Set(HouseholdKind::Dwelling),
                                created_at: Set(now),
                                updated_at: Set(now),
                            });
                        }
                    }
                }
                household::Entity::insert_many(rows).exec(&txn).await?;
            }
        }
    }

    let haichao = communities
        .iter()
        .find(|(n, _)| *n == "海潮社区")
        .map(|(_, id)| *id)
        .ok_or_else(|| anyhow::anyhow!("海潮社区 missing"))?;
    let wanjia = communities
        .iter()
        .find(|(n, _)| *n == "万家星城社区")
        .map(|(_, id)| *id)
        .ok_or_else(|| anyhow::anyhow!("万家星城社区 missing"))?;
    let missing = || anyhow::anyhow!("demo territory incomplete");
    let accounts: Vec<(&str, &str, Role, Uuid, &str)> = vec![
        (
            "ziyang_admin",
            "紫阳街道管理员",
            Role::Admin,
            street_id,
            "street 紫阳街道",
        ),
        (
            "haichao_staff",
            "海潮社区社工",
            Role::CommunityStaff,
            haichao,
            "community 海潮社区",
        ),
        (
            "haichao_grid",
            "海潮网格员",
            Role::GridManager,
            grid_id.ok_or_else(missing)?,
            "grid 海潮第一网格",
        ),
        (
            "houchao_property",
            "候潮物业",
            Role::PropertyStaff,
            company_id,
            "property company 候潮物业服务有限公司",
        ),
        (
            "wanjia_council",
            "万家星城议事员",
            Role::CouncilMember,
            wanjia,
            "community 万家星城社区",
        ),
        (
            "haichao_council",
            "海潮社区议事会成员",
            Role::CouncilMember,
            haichao,
            "community 海潮社区",
        ),
        (
            "houchao_building",
            "候潮府1幢楼组长",
            Role::BuildingLeader,
            first_building.ok_or_else(missing)?,
            "building 候潮府小区 1幢",
        ),
        (
            "houchao_street",
            "候潮府街面长",
            Role::StreetLeader,
            haichao_compound.ok_or_else(missing)?,
            "compound 候潮府小区",
        ),
        (
            "houchao_resident",
            "候潮府居民",
            Role::Resident,
            first_household.ok_or_else(missing)?,
            "household 候潮府小区 1幢1单元101",
        ),
    ];
    let mut out = Vec::new();
    let mut resident_user = None;
    let mut publishers = Vec::new();
    let mut everyone = Vec::new();
    for (username, display, role, scope_id, scope) in accounts {
        let pw = password();
        let u = crate::identity::service::auth::create_user(
            &txn,
            username,
            pw.clone(),
            display,
            false,
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating {username}: {e}"))?;
        role_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(u.id),
            role: Set(role),
            scope_type: Set(role.scope_type()),
            scope_id: Set(scope_id),
            street_id: Set(street_id),
            created_at: Set(now),
            valid_until: Set(None),
            source_term_id: Set(None),
        }
        .insert(&txn)
        .await?;
        if role == Role::Resident {
            resident_user = Some((u.id, display, scope_id));
        }
        everyone.push((u.id, display, role, scope_id));
        if matches!(
            role,
            Role::Admin | Role::CommunityStaff | Role::PropertyStaff
        ) {
            publishers.push((u.id, display, role, scope_id));
        }
        out.push(DemoUser {
            username: username.into(),
            password: pw,
            role,
            scope: scope.into(),
        });
    }
    if let Some((id, display, household)) = resident_user {
        participation::demo_roster_entry(&txn, id, display, household, now).await?;
        tickets::demo_tickets(&txn, id, display, household, now).await?;
    }
    notices::demo_notices(&txn, &publishers, street_id, haichao, haichao_compound, now).await?;
    let fund = funds::demo_funds(&txn, &publishers, haichao, now).await?;
    let staff = publishers
        .iter()
        .find(|p| p.2 == Role::CommunityStaff)
        .ok_or_else(|| anyhow::anyhow!("demo community staff missing"))?;
    let compound = haichao_compound.ok_or_else(|| anyhow::anyhow!("demo compound missing"))?;
    participation::demo_poll(&txn, (staff.0, staff.1), compound, now).await?;
    // 1幢's households: the demo resident's first, then six more with an adult on the roster
    // (the electorate of its building-leader election; the first two stand).
    let building = first_building.ok_or_else(missing)?;
    let homes: Vec<Uuid> = household::Entity::find()
        .filter(household::Column::BuildingId.eq(building))
        .order_by_asc(household::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    let mut neighbours = Vec::new();
    for (home, name) in
        homes
            .iter()
            .skip(1)
            .zip(["李秀英", "张伟", "刘芳", "陈静", "杨建国", "赵丽华"])
    {
        neighbours.push(participation::roster_entry(&txn, None, name, *home, now).await?);
    }
    let by_role = |role: Role| {
        everyone
            .iter()
            .find(|a| a.2 == role && (role != Role::CouncilMember || a.3 == haichao))
            .ok_or_else(|| anyhow::anyhow!("demo {role:?} missing"))
    };
    // The consultation (议事厅): 刘芳, 陈静, 杨建国 and 赵丽华 of 1幢 use it with accounts of
    // their own.
    let (cast, neighbour_users) = consultation::Cast::new(
        &txn,
        consultation::People {
            staff: by_role(Role::CommunityStaff)?,
            admin: by_role(Role::Admin)?,
            council: by_role(Role::CouncilMember)?,
            resident: by_role(Role::Resident)?,
            neighbours: &neighbours[2..],
        },
        compound,
        fund,
        storage,
        now,
    )
    .await?;
    out.extend(neighbour_users);
    proposals::demo_proposals(&txn, &cast, now).await?;
    txn.commit().await?;
    let cache = crate::platform::cache::connect(None, "linli-seed").await?;
    election::demo_election(
        db,
        &cache,
        by_role(Role::CommunityStaff)?,
        [
            by_role(Role::GridManager)?,
            by_role(Role::CommunityStaff)?,
            by_role(Role::Admin)?,
        ],
        by_role(Role::Resident)?,
        building,
        [neighbours[0], neighbours[1]],
        &homes,
        now,
    )
    .await?;
    // Every table it filled started empty: analyze them all.
    crate::platform::statistics::refresh(db, &[]).await?;
    Ok(out)
}
