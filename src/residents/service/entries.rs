//! Writes of one roster entry, each in its own transaction and audited with it: register,
//! change, remove, and the audited reveal of one full phone or ID number.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::audit;
use crate::platform::cache::SharedCache;
use crate::platform::error::{AppError, AppResult, FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::limits;
use crate::platform::pii::Pii;
use crate::residents::model::RevealField;
use crate::residents::query::roster::{respond, ResidentResponse, View};
use crate::residents::service::limits::REVEALS;
use crate::residents::service::roster::{self as svc, ResidentData, ResidentInput};
use crate::territory::query::places;
use entity::resident;

fn invalid(e: Vec<crate::platform::error::FieldError>) -> AppError {
    AppError::Validation(e)
}

/// Audits a write of a roster entry (`resident_create`, `resident_update`, `resident_delete`),
/// naming the personal-data fields it set or changed.
async fn audit_write<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    action: audit::Action,
    r: &resident::Model,
    changed: &[&str],
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit::record(
        db,
        audit::Event {
            actor: user.into(),
            action,
            street_id: Some(r.street_id),
            community_id: Some(r.community_id),
            resident_id: Some(r.id),
            field: None,
            purpose: "",
            detail: (!changed.is_empty())
                .then(|| serde_json::json!({ "fields": changed }).to_string()),
        },
        now,
    )
    .await?;
    Ok(())
}

/// The personal-data fields of `data` that differ from `before` (all that are set, for a
/// new entry).
fn personal_fields(before: Option<&ResidentInput>, data: &ResidentData) -> Vec<&'static str> {
    let mut out = Vec::new();
    let differs = |a: Option<&str>, b: Option<&str>| a != b;
    let b_phone = before.and_then(|b| b.phone.as_deref());
    let b_id = before.and_then(|b| b.id_number.as_deref());
    let b_birth = before.and_then(|b| b.birth_date);
    if differs(b_phone, data.phone.as_deref()) {
        out.push("phone");
    }
    if differs(b_id, data.id_number.as_deref()) {
        out.push("id_number");
    }
    if b_birth != data.birth_date {
        out.push("birth_date");
    }
    if before.map(|b| &b.name) != Some(&data.name) {
        out.push("name");
    }
    if before.map(|b| &b.tags) != Some(&data.tags) {
        out.push("tags");
    }
    out
}

/// A resident the caller may change: 404 unless they read it, 403 unless they may write it.
async fn writable<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
) -> AppResult<resident::Model> {
    policy::authorize_object::<resident::Entity, _>(
        db,
        user,
        Action::ResidentRead,
        Action::ResidentWrite,
        id,
    )
    .await
}

/// Registers a resident in the household `household_id`, which the caller's role must reach
/// with [`Action::ResidentWrite`].
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    pii: &Pii,
    user: &Actor,
    household_id: Uuid,
    input: ResidentInput,
    now: DateTime<Utc>,
) -> AppResult<ResidentResponse> {
    let data = svc::validate(input, now).map_err(invalid)?;
    let hh = places::authorize_household(
        db,
        user,
        Action::HouseholdRead,
        Action::ResidentWrite,
        household_id,
    )
    .await?;
    let txn = db.begin().await?;
    let m = svc::insert(&txn, pii, hh, &data, now).await?;
    audit_write(
        &txn,
        user,
        audit::Action::ResidentCreate,
        &m,
        &personal_fields(None, &data),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(resident_id = %m.id, by = %user.id, "resident registered");
    Ok(respond(m, data.tags, &View::of(db, user, now).await?))
}

/// Changes a resident: `change` edits the entry as it is (decrypted), and the result is
/// validated as a whole.
pub async fn update<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    pii: &Pii,
    user: &Actor,
    id: Uuid,
    change: impl FnOnce(&mut ResidentInput),
    now: DateTime<Utc>,
) -> AppResult<ResidentResponse> {
    let m = writable(db, user, id).await?;
    let tags = svc::tags_of(db, &[m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    let mut input = svc::to_input(pii, &m, tags)?;
    let before = input.clone();
    change(&mut input);
    let data = svc::validate(input, now).map_err(invalid)?;
    let mut am = m.into_active_model();
    svc::apply(pii, &mut am, &data)?;
    am.updated_at = Set(now);
    let txn = db.begin().await?;
    let m = am.update(&txn).await.map_err(svc::duplicate_id_number)?;
    svc::set_tags(&txn, m.id, &data.tags).await?;
    let changed = personal_fields(Some(&before), &data);
    if !changed.is_empty() {
        audit_write(&txn, user, audit::Action::ResidentUpdate, &m, &changed, now).await?;
    }
    txn.commit().await?;
    Ok(respond(m, data.tags, &View::of(db, user, now).await?))
}

/// Removes a resident from the roster (and their tags); one bound to an account is 409.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    user: &Actor,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let m = writable(db, user, id).await?;
    if m.user_id.is_some() {
        return Err(AppError::conflict(
            ProblemCode::ResidentBoundToWechat,
            Text::new(
                "这位居民已绑定微信账号，请先解除绑定再删除",
                "a WeChat account is bound to this resident; unbind it first",
            ),
        ));
    }
    let txn = db.begin().await?;
    resident::Entity::delete_by_id(m.id).exec(&txn).await?;
    audit_write(&txn, user, audit::Action::ResidentDelete, &m, &[], now).await?;
    txn.commit().await?;
    Ok(())
}

/// A revealed value: the full value (if any is recorded) and the audit event recording it.
pub struct Revealed {
    pub value: Option<String>,
    pub audit_event_id: Uuid,
}

/// What a reveal asks for: one field of one resident, and why.
#[derive(Debug, Clone, Copy)]
pub struct RevealAsk<'a> {
    pub resident_id: Uuid,
    pub field: RevealField,
    pub purpose: &'a str,
}

/// Reveals one full phone or ID number of a resident, stating a purpose: at most
/// [`REVEALS_PER_HOUR`] an hour, audited before the value is handed back.
pub async fn reveal<C: ConnectionTrait>(
    db: &C,
    cache: &SharedCache,
    pii: &Pii,
    user: &Actor,
    ask: RevealAsk<'_>,
    now: DateTime<Utc>,
) -> AppResult<Revealed> {
    let RevealAsk {
        resident_id: id,
        field,
        purpose,
    } = ask;
    let purpose = crate::platform::text::purpose_of(purpose)
        .map_err(|m| AppError::invalid("purpose", FieldCode::Invalid, m))?;
    limits::per_user(cache, user.id, &REVEALS).await?;
    let m = policy::authorize_object::<resident::Entity, _>(
        db,
        user,
        Action::ResidentRead,
        Action::ResidentReveal,
        id,
    )
    .await?;
    let value = svc::open(pii, &m, field.as_str())?;
    // Written before the value leaves: no audit record, no reveal.
    let event = audit::record(
        db,
        audit::Event {
            actor: user.into(),
            action: audit::Action::Reveal,
            street_id: Some(m.street_id),
            community_id: Some(m.community_id),
            resident_id: Some(m.id),
            field: Some(field.as_str()),
            purpose,
            detail: None,
        },
        now,
    )
    .await?;
    tracing::info!(resident_id = %m.id, field = field.as_str(), audit_event = %event, "personal data revealed");
    Ok(Revealed {
        value,
        audit_event_id: event,
    })
}
