//! Matching rows without an ID number to residents already in their household, by name and
//! phone.

use super::*;

/// A row of the file still to be matched within its (existing) household.
pub(super) struct OpenRow<'a> {
    pub(super) line: usize,
    pub(super) row: &'a PlannedRow,
    pub(super) household: Uuid,
    pub(super) how: Matched,
    pub(super) phone_hash: Option<String>,
}

/// Matches the rows no ID number matched to residents already in their household, each
/// resident to one row at most, in three rounds, so that the order of the rows does not decide:
/// name and phone together; then name (a row with an ID number only to a member without one:
/// the roster first imported without them); then, for rows without an ID number, phone (the
/// name was changed). Members a row cannot tell apart are a row error, never a guess; so are two
/// rows of the file that nothing could tell apart the next time.
pub(super) async fn match_in_households<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    write_scope: &Scope,
    planned: &[(usize, PlannedRow)],
    match_of_line: &mut HashMap<usize, (resident::Model, Matched)>,
    errors: &mut RowErrors,
) -> AppResult<()> {
    // Rows of one household with one name and no ID number: each needs a phone of its own.
    type Alike<'a> = HashMap<(Uuid, &'a str, &'a str, &'a str), Vec<(usize, Option<&'a str>)>>;
    let mut alike: Alike<'_> = HashMap::new();
    for (line, r) in planned {
        if r.data.id_number.is_some() {
            continue;
        }
        let key = (
            r.building_id,
            r.unit.as_str(),
            r.room.as_str(),
            r.data.name.as_str(),
        );
        let seen = alike.entry(key).or_default();
        let phone = r.data.phone.as_deref();
        let twin = seen
            .iter()
            .find(|(_, p)| p.is_none() || phone.is_none() || *p == phone);
        if let Some((first, _)) = twin {
            errors.push_of(
                *line,
                Column::Name,
                FieldCode::Duplicate,
                crate::text!(
                    "与第 {first} 行同户同名，都没有身份证号，手机号也不能区分两人；请填写身份证号或各自的手机号，或删去重复的行",
                    "row {first} has the same name in the same household, neither has an ID number and no phones tell them apart; add ID numbers or their own phones, or remove the repeated row"
                ),
            );
        }
        seen.push((*line, phone));
    }

    let open: Vec<&(usize, PlannedRow)> = planned
        .iter()
        .filter(|(line, _)| !match_of_line.contains_key(line))
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    let building_ids: Vec<Uuid> = open.iter().map(|(_, r)| r.building_id).collect();
    let households = places::households_of_buildings(db, building_ids).await?;
    let rows: Vec<OpenRow<'_>> = open
        .iter()
        .filter_map(|(line, r)| {
            let household = *households.get(&(r.building_id, r.unit.clone(), r.room.clone()))?;
            Some(OpenRow {
                line: *line,
                row: r,
                household,
                how: if r.data.id_number.is_some() {
                    Matched::IdNumber
                } else {
                    Matched::Household
                },
                phone_hash: r.data.phone.as_deref().map(|p| pii.lookup_hash("phone", p)),
            })
        })
        .collect();
    let mut household_ids: Vec<Uuid> = rows.iter().map(|o| o.household).collect();
    household_ids.sort_unstable();
    household_ids.dedup();
    let mut members: HashMap<Uuid, Vec<resident::Model>> = HashMap::new();
    for chunk in household_ids.chunks(LOOKUP_CHUNK) {
        for m in resident::Entity::find()
            .filter(resident::Column::HouseholdId.is_in(chunk.iter().copied()))
            .filter(write_scope.condition::<resident::Entity>())
            .all(db)
            .await?
        {
            members.entry(m.household_id).or_default().push(m);
        }
    }

    let mut claimed: HashSet<Uuid> = match_of_line.values().map(|(m, _)| m.id).collect();
    // The members a row may still be matched to, that `pick` accepts.
    let candidates = |o: &OpenRow<'_>,
                      claimed: &HashSet<Uuid>,
                      pick: &dyn Fn(&resident::Model) -> bool|
     -> Vec<resident::Model> {
        members
            .get(&o.household)
            .into_iter()
            .flatten()
            .filter(|m| o.how == Matched::Household || m.id_number_hash.is_none())
            .filter(|m| !claimed.contains(&m.id) && pick(m))
            .cloned()
            .collect()
    };
    let ambiguous = |o: &OpenRow<'_>, n: usize, col: Column, errors: &mut RowErrors| {
        let name = &o.row.data.name;
        errors.push_of(
            o.line,
            col,
            FieldCode::AmbiguousMatch,
            crate::text!(
                "该户已有 {n} 位居民与这一行对得上（姓名「{name}」或手机号相同），无法确定是哪一位；请填写身份证号或手机号加以区分",
                "{n} residents of this household match this row (the name 「{name}」 or the phone), and nothing tells which one; add an ID number or a phone to tell them apart"
            ),
        );
    };
    let mut take = |o: &OpenRow<'_>, m: resident::Model, claimed: &mut HashSet<Uuid>| {
        claimed.insert(m.id);
        match_of_line.insert(o.line, (m, o.how));
    };

    let mut by_name = Vec::new();
    for o in rows {
        let found = candidates(&o, &claimed, &|m| {
            m.name == o.row.data.name && o.phone_hash.is_some() && m.phone_hash == o.phone_hash
        });
        match <[resident::Model; 1]>::try_from(found) {
            Ok([one]) => take(&o, one, &mut claimed),
            Err(_) => by_name.push(o),
        }
    }
    let mut by_phone = Vec::new();
    for o in by_name {
        let mut found = candidates(&o, &claimed, &|m| m.name == o.row.data.name);
        match found.len() {
            0 if o.how == Matched::Household && o.phone_hash.is_some() => by_phone.push(o),
            0 => {}
            1 => take(&o, found.remove(0), &mut claimed),
            n => ambiguous(&o, n, Column::Name, errors),
        }
    }
    for o in by_phone {
        let mut found = candidates(&o, &claimed, &|m| m.phone_hash == o.phone_hash);
        match found.len() {
            0 => {}
            1 => take(&o, found.remove(0), &mut claimed),
            n => ambiguous(&o, n, Column::Phone, errors),
        }
    }
    Ok(())
}
