//! The demo resident's tickets.

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::access::policy::Role;
use entity::household;

/// A few tickets from the demo resident, waiting for triage.
pub(super) async fn demo_tickets<C: ConnectionTrait>(
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
