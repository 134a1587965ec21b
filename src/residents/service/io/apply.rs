//! Writing a checked file: missing households, new residents, updates of the matched ones and
//! their tags, in batches ([`execute_import`]).

use super::*;

pub(super) fn changed_meanwhile(e: sea_orm::DbErr) -> AppError {
    if is_unique_violation(&e) {
        AppError::conflict(
            ProblemCode::RosterChanged,
            Text::new(
                "导入期间名册被修改了，请重新导入",
                "the roster changed while the file was being imported; import it again",
            ),
        )
    } else {
        e.into()
    }
}

/// Writes a validated file: creates the missing households, inserts new residents and updates
/// the matched ones (only the columns the file has), and replaces their tags when the file has a
/// 标签 column. Run it inside a transaction.
pub async fn execute_import<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    plan: ImportPlan,
    now: DateTime<Utc>,
) -> AppResult<ImportSummary> {
    let c = &plan.compound;
    let mut summary = ImportSummary::default();

    // Households: every one of the buildings named in the file, then the missing ones.
    let building_ids: Vec<Uuid> = plan.rows.iter().map(|r| r.building_id).collect();
    let mut households = places::households_of_buildings(db, building_ids).await?;
    let mut new_households = Vec::new();
    for r in &plan.rows {
        let key = (r.building_id, r.unit.clone(), r.room.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = households.entry(key) {
            let id = *slot.insert(Uuid::now_v7());
            new_households.push(Household {
                id,
                street_id: c.street_id,
                community_id: c.community_id,
                compound_id: c.id,
                building_id: r.building_id,
                unit: r.unit.clone(),
                room: r.room.clone(),
            });
        }
    }
    summary.households_created = new_households.len() as u64;
    territory_households::insert_many(db, &new_households, now)
        .await
        .map_err(changed_meanwhile)?;

    let replace_tags = plan.present.contains(&Column::Tags);
    // The columns an update writes. A match within the household keeps the ID number (and what
    // it encodes) and its place.
    let mut household_columns = vec![
        resident::Column::Name,
        resident::Column::Gender,
        resident::Column::BirthDate,
        resident::Column::HouseholdId,
        resident::Column::UpdatedAt,
    ];
    if plan.present.contains(&Column::Relation) {
        household_columns.push(resident::Column::Relation);
    }
    if replace_tags {
        household_columns.push(resident::Column::TagsJoined);
    }
    if plan.present.contains(&Column::Phone) {
        household_columns.extend([
            resident::Column::PhoneCipher,
            resident::Column::PhoneKeyId,
            resident::Column::PhoneHash,
            resident::Column::PhoneMasked,
        ]);
    }
    let mut update_columns = household_columns.clone();
    update_columns.extend([
        resident::Column::IdNumberCipher,
        resident::Column::IdNumberKeyId,
        resident::Column::IdNumberHash,
        resident::Column::IdNumberMasked,
        resident::Column::StreetId,
        resident::Column::CommunityId,
        resident::Column::CompoundId,
        resident::Column::BuildingId,
    ]);
    let (mut matched_by_id_number, mut matched_in_household) = (0u64, 0u64);
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    let mut household_updates = Vec::new();
    let mut retagged: Vec<Uuid> = Vec::new();
    let mut tags: Vec<resident_tag::ActiveModel> = Vec::new();
    for r in plan.rows {
        let household_id = households
            .get(&(r.building_id, r.unit, r.room))
            .copied()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("household vanished")))?;
        let id = match r.existing {
            None => {
                let id = Uuid::now_v7();
                let mut am = resident::ActiveModel {
                    id: Set(id),
                    street_id: Set(c.street_id),
                    community_id: Set(c.community_id),
                    compound_id: Set(c.id),
                    building_id: Set(r.building_id),
                    household_id: Set(household_id),
                    user_id: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                roster::apply(pii, &mut am, &r.data)?;
                am.tags_joined = Set(roster::join_tags(&r.data.tags));
                inserts.push(am);
                id
            }
            Some((m, Matched::Household)) => {
                let id = m.id;
                matched_in_household += 1;
                let before = m.clone();
                let mut fresh = resident::ActiveModel::default();
                roster::apply(pii, &mut fresh, &r.data)?;
                let has_id_number = m.id_number_hash.is_some();
                let mut am = m.into_active_model();
                take_present_columns(&mut am, &fresh, &plan.present);
                am.name = fresh.name;
                // An ID number on the roster is kept, and with it what it encodes; else what the
                // row gives is taken, and a blank leaves what is there.
                if !has_id_number {
                    if r.data.gender.is_some() {
                        am.gender = fresh.gender;
                    }
                    if r.data.birth_date.is_some() {
                        am.birth_date = fresh.birth_date;
                    }
                }
                am.household_id = Set(household_id);
                am.updated_at = Set(now);
                if replace_tags {
                    am.tags_joined = Set(roster::join_tags(&r.data.tags));
                }
                if unchanged(&mut am, &before, &household_columns) {
                    continue;
                }
                if replace_tags {
                    retagged.push(id);
                }
                household_updates.push(am);
                id
            }
            Some((m, Matched::IdNumber)) => {
                let id = m.id;
                matched_by_id_number += 1;
                let before = m.clone();
                let mut fresh = resident::ActiveModel::default();
                roster::apply(pii, &mut fresh, &r.data)?;
                let mut am = m.into_active_model();
                take_present_columns(&mut am, &fresh, &plan.present);
                am.name = fresh.name;
                // With an ID number (always, for a match) gender and birth date are known.
                am.gender = fresh.gender;
                am.birth_date = fresh.birth_date;
                // Sealed again under the current key.
                am.id_number_cipher = fresh.id_number_cipher;
                am.id_number_key_id = fresh.id_number_key_id;
                am.id_number_hash = fresh.id_number_hash;
                am.id_number_masked = fresh.id_number_masked;
                am.street_id = Set(c.street_id);
                am.community_id = Set(c.community_id);
                am.compound_id = Set(c.id);
                am.building_id = Set(r.building_id);
                am.household_id = Set(household_id);
                am.updated_at = Set(now);
                if replace_tags {
                    am.tags_joined = Set(roster::join_tags(&r.data.tags));
                }
                if unchanged(&mut am, &before, &update_columns) {
                    continue;
                }
                if replace_tags {
                    retagged.push(id);
                }
                updates.push(am);
                id
            }
        };
        // Without a 标签 column there are none here, and a match keeps the tags it has.
        tags.extend(r.data.tags.iter().map(|t| resident_tag::ActiveModel {
            resident_id: Set(id),
            tag: Set(t.clone()),
        }));
    }
    summary.created = inserts.len() as u64;
    // A match the file leaves as it is counts as updated, but is not written.
    summary.matched_by_id_number = matched_by_id_number;
    summary.matched_in_household = matched_in_household;
    summary.updated = summary.matched_by_id_number + summary.matched_in_household;

    for chunk in inserts.chunks(RESIDENT_CHUNK) {
        resident::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .map_err(changed_meanwhile)?;
    }
    upsert(db, &updates, &update_columns).await?;
    upsert(db, &household_updates, &household_columns).await?;
    // Matched residents lose the tags they had (new ones have none); their `tags_joined` was
    // written with the row above, so the rows are not rewritten a second time for it.
    for chunk in retagged.chunks(LOOKUP_CHUNK) {
        resident_tag::Entity::delete_many()
            .filter(resident_tag::Column::ResidentId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    for chunk in tags.chunks(TAG_CHUNK) {
        resident_tag::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(summary)
}

/// Whether the update `am` of the resident `before` changes nothing among `columns` (its
/// `updated_at` aside): then it need not be written, nor its tags rewritten. A number sealed
/// again under the key it was sealed with (the same lookup hash and key id) is the same number
/// with a fresh nonce: `am` takes the stored ciphertext back, so only a changed number or a
/// rotated key counts as a change. Tags compare as sets.
pub(super) fn unchanged(
    am: &mut resident::ActiveModel,
    before: &resident::Model,
    columns: &[resident::Column],
) -> bool {
    use sea_orm::ActiveModelTrait;
    use sea_orm::ModelTrait;
    if am.phone_hash.as_ref() == &before.phone_hash
        && am.phone_key_id.as_ref() == &before.phone_key_id
    {
        am.phone_cipher = Set(before.phone_cipher.clone());
        am.phone_masked = Set(before.phone_masked.clone());
    }
    if am.id_number_hash.as_ref() == &before.id_number_hash
        && am.id_number_key_id.as_ref() == &before.id_number_key_id
    {
        am.id_number_cipher = Set(before.id_number_cipher.clone());
        am.id_number_masked = Set(before.id_number_masked.clone());
    }
    let stored_tags = roster::join_tags(&roster::split_tags_joined(before.tags_joined.as_deref()));
    columns.iter().all(|c| match c {
        resident::Column::UpdatedAt => true,
        resident::Column::TagsJoined => am.tags_joined.as_ref() == &stored_tags,
        c => am.get(*c).into_value() == Some(before.get(*c)),
    })
}

/// Sets on a matched resident the relation and phone of `fresh` when the file has those columns.
pub(super) fn take_present_columns(
    am: &mut resident::ActiveModel,
    fresh: &resident::ActiveModel,
    present: &HashSet<Column>,
) {
    if present.contains(&Column::Relation) {
        am.relation = fresh.relation.clone();
    }
    if present.contains(&Column::Phone) {
        am.phone_cipher = fresh.phone_cipher.clone();
        am.phone_key_id = fresh.phone_key_id.clone();
        am.phone_hash = fresh.phone_hash.clone();
        am.phone_masked = fresh.phone_masked.clone();
    }
}

/// Writes `updates` (whole rows of existing residents) by an upsert on the primary key, which
/// every row hits, changing only `columns`; in batches.
pub(super) async fn upsert<C: ConnectionTrait>(
    db: &C,
    updates: &[resident::ActiveModel],
    columns: &[resident::Column],
) -> AppResult<()> {
    for chunk in updates.chunks(RESIDENT_CHUNK) {
        resident::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(resident::Column::Id)
                    .update_columns(columns.iter().copied())
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await
            .map_err(changed_meanwhile)?;
    }
    Ok(())
}
