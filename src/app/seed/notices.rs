//! The demo's published notices.

use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use crate::access::policy::Role;

/// A few published notices, as their staff would write them: the street's flood season, the
/// community's free clinic (asking for a 回执), and the property company's water cut. Written
/// by the seed, they skip the content check (the seed's own text).
pub(super) async fn demo_notices<C: ConnectionTrait + TransactionTrait>(
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
