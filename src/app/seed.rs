//! `linli seed demo`: a demo street named after the communities whose practice linli digitises.

use chrono::Utc;
use rand::distributions::Alphanumeric;
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set, TransactionTrait,
};
use uuid::Uuid;

mod participation;
mod proposals;

use crate::access::policy::Role;
use crate::platform::config::{Environment, Settings};
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
    let users = seed_demo(&db).await?;
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

/// Fills an empty database; refuses one that already has streets.
pub async fn seed_demo<C>(db: &C) -> anyhow::Result<Vec<DemoUser>>
where
    C: ConnectionTrait + TransactionTrait,
{
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
        demo_tickets(&txn, id, display, household, now).await?;
    }
    demo_notices(&txn, &publishers, street_id, haichao, haichao_compound, now).await?;
    demo_funds(&txn, &publishers, haichao, now).await?;
    let staff = publishers
        .iter()
        .find(|p| p.2 == Role::CommunityStaff)
        .ok_or_else(|| anyhow::anyhow!("demo community staff missing"))?;
    let compound = haichao_compound.ok_or_else(|| anyhow::anyhow!("demo compound missing"))?;
    participation::demo_poll(&txn, (staff.0, staff.1), compound, now).await?;
    let resident = resident_user.map(|(id, _, household)| (id, household));
    proposals::demo_proposals(&txn, (staff.0, staff.1), resident, haichao, compound, now).await?;
    txn.commit().await?;
    // Every table it filled started empty: analyze them all.
    crate::platform::statistics::refresh(db, &[]).await?;
    Ok(out)
}

/// A few published notices, as their staff would write them: the street's flood season, the
/// community's free clinic (asking for a 回执), and the property company's water cut. Written
/// by the seed, they skip the content check (the seed's own text).
async fn demo_notices<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    publishers: &[(Uuid, &str, Role, Uuid)],
    street_id: Uuid,
    community_id: Uuid,
    compound_id: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use crate::access::actor::Assignment;
    use crate::notices::model::{Category, Place, Priority};
    use crate::notices::service::{self as notices, Checked, Draft};
    let compound_id = compound_id.ok_or_else(|| anyhow::anyhow!("demo compound missing"))?;
    let items = [
        (
            Role::Admin,
            Place::Street,
            street_id,
            Category::Safety,
            Priority::Urgent,
            false,
            "汛期安全提示",
            "近期进入主汛期，请居民朋友关注天气预报，暴雨期间减少外出，及时清理阳台杂物，\
             地下车库车辆请提前转移。如遇险情请拨打街道值班电话。",
        ),
        (
            Role::CommunityStaff,
            Place::Community,
            community_id,
            Category::Event,
            Priority::Normal,
            true,
            "本周六社区义诊",
            "本周六上午9点至11点，社区卫生服务中心医生在社区广场提供量血压、测血糖等义诊服务，\
             请需要的居民带好医保卡参加。收到请点击确认。",
        ),
        (
            Role::PropertyStaff,
            Place::Compound,
            compound_id,
            Category::Notice,
            Priority::Normal,
            false,
            "停水通知",
            "因二次供水设备检修，明天上午8点至12点候潮府小区全区停水，请提前储水。给您带来不便，敬请谅解。",
        ),
    ];
    for (role, place, place_id, category, priority, confirm, title, body) in items {
        let Some((id, display, _, scope_id)) = publishers.iter().find(|p| p.2 == role) else {
            continue;
        };
        let mut actor = crate::access::Actor::new(
            *id,
            vec![Assignment {
                id: Uuid::nil(),
                role,
                scope_type: role.scope_type(),
                scope_id: *scope_id,
                valid_until: None,
                source_term_id: None,
            }],
        );
        actor.display_name = (*display).into();
        let draft = Draft {
            place,
            place_id,
            audience_tags: Vec::new(),
            include_shops: true,
            category,
            title: title.into(),
            body: body.into(),
            priority,
            requires_confirmation: confirm,
            publish_at: None,
            expires_at: None,
            pinned_until: None,
            photo_ids: Vec::new(),
        };
        let n = notices::create(db, &actor, draft, now)
            .await
            .map_err(|e| anyhow::anyhow!("drafting the demo notice {title}: {e}"))?;
        notices::publish(db, &actor, n.id, None, Checked::Pass, now)
            .await
            .map_err(|e| anyhow::anyhow!("publishing the demo notice {title}: {e}"))?;
    }
    Ok(())
}

/// The community's 2026 self-governance fund (自治金): the street's allocation and a resident's
/// anonymous gift recorded by the community staff, and one expense request waiting for its two
/// approvals.
async fn demo_funds<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    publishers: &[(Uuid, &str, Role, Uuid)],
    community_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use crate::access::actor::Assignment;
    use crate::funds::model::{AccountKind, CounterpartyKind, EntryKind, Place};
    use crate::funds::service::{accounts, expenses, money};
    let Some((id, display, role, scope_id)) = publishers
        .iter()
        .find(|p| p.2 == Role::CommunityStaff && p.3 == community_id)
    else {
        return Ok(());
    };
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
            name: "2026年度社区自治金".into(),
            kind: AccountKind::SelfGovernance,
            fiscal_year: Some(2026),
        },
        now,
    )
    .await
    .map_err(|e| fail("opening the account", e))?;
    let day = crate::funds::service::today(now);
    for (kind, amount, party, name, anonymous, memo) in [
        (
            EntryKind::Allocation,
            5_000_000,
            CounterpartyKind::Government,
            "上城区民政局",
            false,
            "2026年度社区自治金拨付",
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
    let request = expenses::NewExpense {
        account_id: account.id,
        amount_fen: 380_000,
        payee_kind: CounterpartyKind::Business,
        payee_name: "杭州明亮照明工程有限公司".into(),
        anonymous: false,
        purpose: "3幢、5幢楼道声控灯更换".into(),
        proposal_id: None,
        attachment_ids: Vec::new(),
    };
    expenses::create(db, &staff, request, now)
        .await
        .map_err(|e| fail("filing the expense request", e))?;
    Ok(())
}

/// A few tickets from the demo resident, waiting for triage.
async fn demo_tickets<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    display: &str,
    household_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use crate::access::actor::Assignment;
    use crate::tickets::service::intake as tickets;
    use crate::tickets::service::settings as ticket_settings;
    let hh = household::Entity::find_by_id(household_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo household missing"))?;
    let community = crate::territory::query::place_lookup::community(db, hh.community_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo community missing"))?;
    let categories = ticket_settings::list_categories(db, &community, chrono::Utc::now()).await?;
    let mut resident = crate::access::Actor::new(
        user_id,
        vec![Assignment {
            id: Uuid::nil(),
            role: Role::Resident,
            scope_type: crate::access::ScopeType::Household,
            scope_id: household_id,
            valid_until: None,
            source_term_id: None,
        }],
    );
    resident.display_name = display.into();
    // Map points in GCJ-02, as `wx.chooseLocation` gives them, in 紫阳街道 (Hangzhou).
    for (category, title, description, building, place) in [
        (
            "设施维修",
            "楼道灯不亮",
            "1单元3楼到6楼的楼道灯坏了一周，晚上很黑。",
            true,
            Some((30.2379, 120.1762, "1单元楼道")),
        ),
        (
            "停车",
            "消防通道被占",
            "小区东门消防通道每天晚上都停满了车。",
            false,
            Some((30.2385, 120.1771, "小区东门消防通道")),
        ),
        (
            "建议",
            "增加健身器材",
            "希望在中心花园增加几件适合老人的健身器材。",
            false,
            None,
        ),
    ] {
        let category_id = categories
            .iter()
            .find(|c| c.name == category)
            .map(|c| c.id)
            .ok_or_else(|| anyhow::anyhow!("category {category} missing"))?;
        let input = tickets::NewTicket {
            category_id,
            title: title.into(),
            description: description.into(),
            compound_id: hh.compound_id,
            building_id: building.then_some(hh.building_id),
            location: place.map(|(_, _, address)| address.to_string()),
            coordinates: place.map(|(latitude, longitude, _)| tickets::GeoPoint {
                latitude,
                longitude,
            }),
            anonymous: false,
            attachment_ids: Vec::new(),
            channel: None,
            resident_id: None,
            requester_name: None,
            idempotency_key: None,
        };
        tickets::file(db, &resident, input, now)
            .await
            .map_err(|e| anyhow::anyhow!("filing the demo ticket {title}: {e}"))?;
    }
    Ok(())
}
