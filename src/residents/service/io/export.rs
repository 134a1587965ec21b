//! The export: the residents a filter selects, sorted and masked or opened, and the workbook in
//! the import template's columns.
//!
//! An export streams: [`plan_export`] reads the selection's keys (ids and places, 64 bytes a
//! resident) in keyset batches and sorts them, then [`ExportOrder::next_rows`] reads the
//! residents themselves a batch at a time in that order, and [`ExportSheet`] writes each batch
//! into a constant-memory worksheet (rows go to a temporary file as they are written). Neither
//! the residents nor the worksheet are ever held whole.

use super::*;

/// Keys read per statement of [`plan_export`].
const KEY_BATCH: u64 = 5_000;
/// Residents read (and written) per batch of [`ExportOrder::next_rows`].
const ROW_BATCH: usize = 1_000;

/// Which residents to export (all conditions together; none means all the caller may read).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportFilter {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
}

impl ExportFilter {
    pub(super) fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(v) = self.community_id {
            c = c.add(resident::Column::CommunityId.eq(v));
        }
        if let Some(v) = self.compound_id {
            c = c.add(resident::Column::CompoundId.eq(v));
        }
        if let Some(v) = self.building_id {
            c = c.add(resident::Column::BuildingId.eq(v));
        }
        c
    }
}

/// Whether every resident `filter` selects within `read` is also within `reveal`.
pub async fn all_within<C: ConnectionTrait>(
    db: &C,
    filter: &ExportFilter,
    read: &Scope,
    reveal: &Scope,
) -> AppResult<bool> {
    let selected = resident::Entity::find()
        .filter(filter.condition())
        .filter(read.condition::<resident::Entity>());
    let all = selected.clone().count(db).await?;
    let revealable = selected
        .filter(reveal.condition::<resident::Entity>())
        .count(db)
        .await?;
    Ok(all == revealable)
}

/// One row of the export, in the template's columns.
#[derive(Debug, Clone, Default)]
pub struct ExportRow {
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub relation: Option<String>,
    pub tags: Vec<String>,
}

/// The one value every item seen so far shares, if any.
#[derive(Debug, Clone, Copy, Default)]
enum Same<T> {
    #[default]
    Nothing,
    One(T),
    Several,
}

impl<T: Copy + Eq> Same<T> {
    fn see(&mut self, v: T) {
        *self = match *self {
            Same::Nothing => Same::One(v),
            Same::One(x) if x == v => Same::One(x),
            _ => Same::Several,
        };
    }

    fn get(&self) -> Option<T> {
        match self {
            Same::One(x) => Some(*x),
            _ => None,
        }
    }
}

/// The residents of an export in the order they are written (by compound, building, unit, room
/// and id), read a batch at a time by [`ExportOrder::next_rows`].
#[derive(Debug)]
pub struct ExportOrder {
    ids: Vec<Uuid>,
    next: usize,
    households: HashMap<Uuid, (String, String)>,
    buildings: HashMap<Uuid, String>,
    filter: ExportFilter,
    read: Scope,
    /// The street and community of the residents when they all share one (else of the filter).
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
}

fn too_many_rows() -> AppError {
    AppError::Validation(vec![FieldError::of(
        "rows",
        FieldCode::TooManyRows,
        crate::text!(
            "超过 {MAX_EXPORT_ROWS} 位居民；请按社区、小区或楼栋分别导出",
            "more than {MAX_EXPORT_ROWS} residents; export one community, compound or building at a time"
        ),
    )
    .with_limit(MAX_EXPORT_ROWS)])
}

/// The residents `filter` selects within `read`, in the export's order: their keys read in
/// keyset batches of the `(place, id)` index, their households' units and rooms and their
/// buildings' names looked up, and sorted. More than [`MAX_EXPORT_ROWS`] is a 400.
pub async fn plan_export<C: ConnectionTrait>(
    db: &C,
    read: &Scope,
    filter: &ExportFilter,
) -> AppResult<ExportOrder> {
    use resident::Column as R;
    // (compound, building, household, id) of every selected resident.
    let mut keys: Vec<(Uuid, Uuid, Uuid, Uuid)> = Vec::new();
    let (mut street, mut community) = (Same::Nothing, Same::Nothing);
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = resident::Entity::find()
            .select_only()
            .columns([
                R::Id,
                R::StreetId,
                R::CommunityId,
                R::CompoundId,
                R::BuildingId,
                R::HouseholdId,
            ])
            .filter(filter.condition())
            .filter(read.condition::<resident::Entity>());
        if let Some(a) = after {
            q = q.filter(R::Id.gt(a));
        }
        let batch: Vec<(Uuid, Uuid, Uuid, Uuid, Uuid, Uuid)> = q
            .order_by_asc(R::Id)
            .limit(KEY_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let done = (batch.len() as u64) < KEY_BATCH;
        after = batch.last().map(|k| k.0);
        for (id, s, c, compound, building, household) in batch {
            street.see(s);
            community.see(c);
            keys.push((compound, building, household, id));
        }
        if keys.len() > MAX_EXPORT_ROWS {
            return Err(too_many_rows());
        }
        if done {
            break;
        }
    }
    let (street_id, community_id) = if keys.is_empty() {
        places::street_and_community(
            db,
            filter.building_id,
            filter.compound_id,
            filter.community_id,
        )
        .await?
    } else {
        (street.get(), community.get())
    };
    let households = places::units_and_rooms(db, keys.iter().map(|k| k.2).collect()).await?;
    let buildings = places::building_names(db, keys.iter().map(|k| k.1).collect()).await?;
    let empty = (String::new(), String::new());
    let building = |id: &Uuid| buildings.get(id).map_or("", String::as_str);
    let place = |id: &Uuid| households.get(id).unwrap_or(&empty);
    keys.sort_unstable_by(|a, b| {
        let (pa, pb) = (place(&a.2), place(&b.2));
        (a.0, building(&a.1), &pa.0, &pa.1, a.3).cmp(&(b.0, building(&b.1), &pb.0, &pb.1, b.3))
    });
    Ok(ExportOrder {
        ids: keys.into_iter().map(|k| k.3).collect(),
        next: 0,
        households,
        buildings,
        filter: *filter,
        read: read.clone(),
        street_id,
        community_id,
    })
}

impl ExportOrder {
    /// How many residents the export holds (some may have left the selection since).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The next batch of rows, in order, with personal data masked, or opened with `unmask`;
    /// `None` after the last. A resident who left the selection since [`plan_export`] (moved
    /// out of the filter or the caller's scope, or removed) is left out.
    pub async fn next_rows<C: ConnectionTrait>(
        &mut self,
        db: &C,
        unmask: Option<&Pii>,
    ) -> AppResult<Option<Vec<ExportRow>>> {
        if self.next >= self.ids.len() {
            return Ok(None);
        }
        let end = (self.next + ROW_BATCH).min(self.ids.len());
        let chunk = &self.ids[self.next..end];
        self.next = end;
        let mut models: HashMap<Uuid, resident::Model> = HashMap::with_capacity(chunk.len());
        for part in chunk.chunks(LOOKUP_CHUNK) {
            let found = resident::Entity::find()
                .filter(resident::Column::Id.is_in(part.iter().copied()))
                .filter(self.filter.condition())
                .filter(self.read.condition::<resident::Entity>())
                .all(db)
                .await?;
            models.extend(found.into_iter().map(|m| (m.id, m)));
        }
        // Moved to a household or building the keys did not name: look those up.
        let households: Vec<Uuid> = models
            .values()
            .map(|m| m.household_id)
            .filter(|h| !self.households.contains_key(h))
            .collect();
        if !households.is_empty() {
            self.households
                .extend(places::units_and_rooms(db, households).await?);
        }
        let buildings: Vec<Uuid> = models
            .values()
            .map(|m| m.building_id)
            .filter(|b| !self.buildings.contains_key(b))
            .collect();
        if !buildings.is_empty() {
            self.buildings
                .extend(places::building_names(db, buildings).await?);
        }
        let mut rows = Vec::with_capacity(chunk.len());
        for id in chunk {
            let Some(m) = models.remove(id) else { continue };
            let (unit, room) = self
                .households
                .get(&m.household_id)
                .cloned()
                .unwrap_or_default();
            let (phone, id_number) = match unmask {
                Some(pii) => (
                    roster::open(pii, &m, "phone")?,
                    roster::open(pii, &m, "id_number")?,
                ),
                None => (m.phone_masked.clone(), m.id_number_masked.clone()),
            };
            rows.push(ExportRow {
                building: self
                    .buildings
                    .get(&m.building_id)
                    .cloned()
                    .unwrap_or_default(),
                unit,
                room,
                tags: roster::split_tags_joined(m.tags_joined.as_deref()),
                gender: m.gender,
                birth_date: m.birth_date,
                phone,
                id_number,
                relation: m.relation,
                name: m.name,
            });
        }
        Ok(Some(rows))
    }
}

pub(super) fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the workbook failed: {e}"))
}

/// The export's workbook being written: the template's header row, then one row per resident,
/// appended a batch at a time. Dates are date cells; phone and ID numbers are text (so that a
/// spreadsheet never turns them into rounded numbers); text a spreadsheet would run as a formula
/// is written behind an apostrophe ([`neutralize`]), which the import takes off again.
///
/// The worksheet is in rust_xlsxwriter's constant-memory mode: each finished row goes to a
/// temporary file (in the system's temporary directory, `TMPDIR`) with its strings inline, so
/// the memory it holds does not grow with the rows; [`ExportSheet::finish`] zips it.
pub struct ExportSheet {
    wb: Workbook,
    rows: u32,
    text: Format,
    date: Format,
    tag_separator: String,
}

impl ExportSheet {
    pub fn new() -> AppResult<Self> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let text = Format::new().set_num_format("@");
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let ws = wb.add_worksheet_with_constant_memory();
        ws.set_name("居民").map_err(xlsx_error)?;
        for (i, c) in Column::ALL.into_iter().enumerate() {
            let col = i as u16;
            ws.write_string_with_format(0, col, c.header(), &bold)
                .map_err(xlsx_error)?;
            let width = match c {
                Column::IdNumber => 22,
                Column::Phone | Column::BirthDate | Column::Relation => 14,
                Column::Tags => 24,
                _ => 10,
            };
            ws.set_column_width(col, width).map_err(xlsx_error)?;
            if matches!(
                c,
                Column::Phone | Column::IdNumber | Column::Unit | Column::Room
            ) {
                ws.set_column_format(col, &text).map_err(xlsx_error)?;
            } else if c == Column::BirthDate {
                ws.set_column_format(col, &date).map_err(xlsx_error)?;
            }
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(Self {
            wb,
            rows: 0,
            text,
            date,
            tag_separator: TAG_SEPARATORS[0].to_string(),
        })
    }

    /// Rows written so far (the header not counted).
    pub fn rows(&self) -> usize {
        self.rows as usize
    }

    /// Writes `rows` after those already written.
    pub fn append(&mut self, rows: &[ExportRow]) -> AppResult<()> {
        let ws = self.wb.worksheet_from_index(0).map_err(xlsx_error)?;
        let (text, date) = (&self.text, &self.date);
        for r in rows {
            let row = self
                .rows
                .checked_add(1)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("the export ran out of rows")))?;
            if let Some(d) = r.birth_date {
                use chrono::Datelike;
                let dt = ExcelDateTime::from_ymd(
                    u16::try_from(d.year()).map_err(AppError::internal)?,
                    d.month() as u8,
                    d.day() as u8,
                )
                .map_err(xlsx_error)?;
                ws.write_datetime_with_format(row, Column::BirthDate.index() as u16, &dt, date)
                    .map_err(xlsx_error)?;
            }
            let mut put = |c: Column, v: Option<&str>| -> AppResult<()> {
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    ws.write_string_with_format(row, c.index() as u16, neutralize(v), text)
                        .map_err(xlsx_error)?;
                }
                Ok(())
            };
            put(Column::Name, Some(&r.name))?;
            put(
                Column::Gender,
                r.gender.map(|g| match g {
                    Gender::Male => "男",
                    Gender::Female => "女",
                }),
            )?;
            put(Column::Phone, r.phone.as_deref())?;
            put(Column::IdNumber, r.id_number.as_deref())?;
            put(Column::Building, Some(&r.building))?;
            put(Column::Unit, Some(&r.unit))?;
            put(Column::Room, Some(&r.room))?;
            put(Column::Relation, r.relation.as_deref())?;
            put(Column::Tags, Some(&r.tags.join(&self.tag_separator)))?;
            self.rows = row;
        }
        Ok(())
    }

    /// The finished .xlsx file.
    pub fn finish(mut self) -> AppResult<Vec<u8>> {
        self.wb.save_to_buffer().map_err(xlsx_error)
    }
}

/// `rows` as an .xlsx workbook (an [`ExportSheet`] written in one go).
pub fn write_workbook(rows: &[ExportRow]) -> AppResult<Vec<u8>> {
    let mut sheet = ExportSheet::new()?;
    sheet.append(rows)?;
    sheet.finish()
}
