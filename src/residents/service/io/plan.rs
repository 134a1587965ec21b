//! Checking every row of a file against the roster's rules, the compound's buildings and the
//! roster itself, before anything is written ([`plan_import`]).

use super::*;

/// Validates every row of `table` for import into `compound` (nothing is written): the roster's
/// rules, the building names, ID numbers repeated within the file, and residents already on the
/// roster outside `write_scope`. Any problem answers with every bad cell.
pub async fn plan_import<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    compound: Compound,
    write_scope: &Scope,
    table: Table,
    now: DateTime<Utc>,
) -> AppResult<ImportPlan> {
    let positions = map_header(&table).map_err(AppError::Validation)?;
    if table.rows.is_empty() {
        return Err(file_error(
            FieldCode::Empty,
            Text::new(
                "文件只有表头，没有居民",
                "the file has a header row but no residents",
            ),
        ));
    }
    let mut at = [None::<usize>; 10];
    for (i, c) in positions.iter().enumerate() {
        if let Some(c) = c {
            at[c.index()] = Some(i);
        }
    }
    let present: HashSet<Column> = positions.iter().flatten().copied().collect();
    let buildings = places::buildings_by_name(db, compound.id).await?;

    let mut errors = RowErrors(Vec::new());
    let mut planned: Vec<(usize, PlannedRow)> = Vec::with_capacity(table.rows.len());
    // Normalised ID number → the first row holding it.
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    // Lookup hash → rows holding a well-formed ID number, for the roster check below.
    let mut rows_of_hash: HashMap<String, Vec<usize>> = HashMap::new();
    // Masked phone or ID number cells, and real ones: a file with the first and none of the
    // second is a masked export fed back, answered once for the file.
    let (mut masked_cells, mut real_numbers) = (0usize, 0usize);
    const EMPTY: Cell = Cell::Empty;
    for row in &table.rows {
        let line = row.line;
        let cell = |c: Column| {
            at[c.index()]
                .and_then(|i| row.cells.get(i))
                .unwrap_or(&EMPTY)
        };
        let before = errors.0.len();
        let text = |c: Column, errors: &mut RowErrors| match text_of(cell(c)) {
            Ok(v) => v,
            Err(m) => {
                errors.push(line, c, FieldCode::Invalid, m);
                None
            }
        };
        let name = text(Column::Name, &mut errors);
        let gender_text = text(Column::Gender, &mut errors);
        let mut phone = text(Column::Phone, &mut errors);
        let mut id_number = text(Column::IdNumber, &mut errors);
        for (col, value) in [
            (Column::Phone, &mut phone),
            (Column::IdNumber, &mut id_number),
        ] {
            match value.as_deref() {
                Some(v) if is_masked(v) => {
                    errors.push_of(line, col, FieldCode::MaskedValue, masked_cell());
                    masked_cells += 1;
                    *value = None;
                }
                Some(_) => real_numbers += 1,
                None => {}
            }
        }
        let building_name = text(Column::Building, &mut errors);
        let unit = text(Column::Unit, &mut errors);
        let room = text(Column::Room, &mut errors);
        let relation = text(Column::Relation, &mut errors);
        let tags = text(Column::Tags, &mut errors);
        let gender = match gender_text.as_deref() {
            None => None,
            Some(g) => match Gender::parse(g) {
                Some(g) => Some(g),
                None => {
                    errors.push(
                        line,
                        Column::Gender,
                        FieldCode::Invalid,
                        Text::new("应填“男”或“女”", "must be 男 or 女"),
                    );
                    None
                }
            },
        };
        let birth_date = match date_of(cell(Column::BirthDate)) {
            Ok(d) => d,
            Err(m) => {
                errors.push(line, Column::BirthDate, FieldCode::Invalid, m);
                None
            }
        };
        let building_id = match building_name.as_deref() {
            None => {
                errors.push_error(line, Column::Building, FieldError::required(""));
                None
            }
            Some(b) => match buildings.get(b) {
                Some(id) => Some(*id),
                None => {
                    errors.push(
                        line,
                        Column::Building,
                        FieldCode::UnknownBuilding,
                        crate::text!(
                            "这个小区没有名为「{b}」的楼栋",
                            "this compound has no building named 「{b}」"
                        ),
                    );
                    None
                }
            },
        };
        let unit = clean_part(&mut errors, line, Column::Unit, unit);
        let room = match room {
            None => {
                errors.push_error(line, Column::Room, FieldError::required(""));
                None
            }
            r => clean_part(&mut errors, line, Column::Room, r),
        };
        if let Some(id) = id_number
            .as_deref()
            .and_then(|raw| roster::parse_id_number(raw, now).ok())
        {
            match first_row_of.get(&id.normalized) {
                Some(first) => errors.push(
                    line,
                    Column::IdNumber,
                    FieldCode::Duplicate,
                    crate::text!(
                        "与第 {first} 行的身份证号相同",
                        "the same ID number is on row {first}"
                    ),
                ),
                None => {
                    first_row_of.insert(id.normalized.clone(), line);
                    rows_of_hash
                        .entry(pii.lookup_hash("id_number", &id.normalized))
                        .or_default()
                        .push(line);
                }
            }
        }
        let validated = roster::validate(
            ResidentInput {
                name: name.unwrap_or_default(),
                gender,
                birth_date,
                phone,
                id_number,
                relation,
                tags: tags.as_deref().map(split_tags).unwrap_or_default(),
                moved_in_on: None,
                moved_out_on: None,
            },
            now,
        );
        match validated {
            Err(fes) => {
                for fe in fes {
                    errors.push_error(line, Column::of_field(&fe.field), fe);
                }
            }
            Ok(data) if errors.0.len() == before => {
                if let (Some(building_id), Some(unit), Some(room)) = (building_id, unit, room) {
                    planned.push((
                        line,
                        PlannedRow {
                            data,
                            building_id,
                            unit,
                            room,
                            existing: None,
                        },
                    ));
                }
            }
            Ok(_) => {}
        }
    }

    if masked_cells > 0 && real_numbers == 0 {
        return Err(masked_file());
    }

    // Residents already on this community's roster, matched by ID number. Other communities'
    // rosters are not consulted: an ID number is unique per community, and whether it is
    // registered anywhere else is not this caller's to learn.
    let hashes: Vec<String> = rows_of_hash.keys().cloned().collect();
    let mut existing: HashMap<String, resident::Model> = HashMap::new();
    for chunk in hashes.chunks(LOOKUP_CHUNK) {
        for m in resident::Entity::find()
            .filter(resident::Column::CommunityId.eq(compound.community_id))
            .filter(resident::Column::IdNumberHash.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            if let Some(h) = m.id_number_hash.clone() {
                existing.insert(h, m);
            }
        }
    }
    let ids: Vec<Uuid> = existing.values().map(|m| m.id).collect();
    let mut writable: HashSet<Uuid> = HashSet::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let reached: Vec<Uuid> = resident::Entity::find()
            .select_only()
            .column(resident::Column::Id)
            .filter(resident::Column::Id.is_in(chunk.iter().copied()))
            .filter(write_scope.condition::<resident::Entity>())
            .into_tuple()
            .all(db)
            .await?;
        writable.extend(reached);
    }
    let mut match_of_line: HashMap<usize, (resident::Model, Matched)> = HashMap::new();
    for (hash, m) in existing {
        for line in rows_of_hash.remove(&hash).unwrap_or_default() {
            if writable.contains(&m.id) {
                match_of_line.insert(line, (m.clone(), Matched::IdNumber));
            } else {
                errors.push(
                    line,
                    Column::IdNumber,
                    FieldCode::NotAllowed,
                    Text::new(
                        "本社区已登记这个身份证号的居民，但不在您负责的范围内",
                        "a resident with this ID number is registered in this community, outside your area",
                    ),
                );
            }
        }
    }
    match_in_households(
        db,
        pii,
        write_scope,
        &planned,
        &mut match_of_line,
        &mut errors,
    )
    .await?;
    if !errors.0.is_empty() {
        return Err(errors.into_error());
    }
    let rows = planned
        .into_iter()
        .map(|(line, mut r)| {
            r.existing = match_of_line.remove(&line);
            r
        })
        .collect();
    Ok(ImportPlan {
        compound,
        present,
        rows,
    })
}
