//! The export: the residents a filter selects, sorted and masked or opened, and the workbook in
//! the import template's columns.

use super::*;

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

/// The residents of an export, and where they are (for the audit log).
#[derive(Debug, Default)]
pub struct Export {
    pub rows: Vec<ExportRow>,
    /// The street and community of the residents when they all share one (else of the filter).
    pub street_id: Option<Uuid>,
    pub community_id: Option<Uuid>,
}

pub(super) fn only<T: Copy + Eq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|x| x == first).then_some(first)
}

/// Loads the residents `filter` selects within `read`, sorted by building, unit and room, with
/// their personal data masked, or opened with `unmask`. More than [`MAX_EXPORT_ROWS`] is a 400.
pub async fn load_export<C: ConnectionTrait>(
    db: &C,
    unmask: Option<&Pii>,
    read: &Scope,
    filter: &ExportFilter,
) -> AppResult<Export> {
    let models = resident::Entity::find()
        .filter(filter.condition())
        .filter(read.condition::<resident::Entity>())
        .order_by_asc(resident::Column::Id)
        .limit(MAX_EXPORT_ROWS as u64 + 1)
        .all(db)
        .await?;
    if models.len() > MAX_EXPORT_ROWS {
        return Err(AppError::Validation(vec![FieldError::of(
            "rows",
            FieldCode::TooManyRows,
            crate::text!(
                "超过 {MAX_EXPORT_ROWS} 位居民；请按社区、小区或楼栋分别导出",
                "more than {MAX_EXPORT_ROWS} residents; export one community, compound or building at a time"
            ),
        )
        .with_limit(MAX_EXPORT_ROWS)]));
    }
    let (mut street_id, mut community_id) = (
        only(models.iter().map(|m| m.street_id)),
        only(models.iter().map(|m| m.community_id)),
    );
    if models.is_empty() {
        (street_id, community_id) = places::street_and_community(
            db,
            filter.building_id,
            filter.compound_id,
            filter.community_id,
        )
        .await?;
    }

    let households =
        places::units_and_rooms(db, models.iter().map(|m| m.household_id).collect()).await?;
    let buildings =
        places::building_names(db, models.iter().map(|m| m.building_id).collect()).await?;
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let mut tags: HashMap<Uuid, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        tags.extend(roster::tags_of(db, chunk).await?);
    }

    let mut keyed = Vec::with_capacity(models.len());
    for m in models {
        let (unit, room) = households.get(&m.household_id).cloned().unwrap_or_default();
        let (phone, id_number) = match unmask {
            Some(pii) => (
                roster::open(pii, &m, "phone")?,
                roster::open(pii, &m, "id_number")?,
            ),
            None => (m.phone_masked.clone(), m.id_number_masked.clone()),
        };
        let row = ExportRow {
            building: buildings.get(&m.building_id).cloned().unwrap_or_default(),
            unit,
            room,
            tags: tags.remove(&m.id).unwrap_or_default(),
            gender: m.gender,
            birth_date: m.birth_date,
            phone,
            id_number,
            relation: m.relation,
            name: m.name,
        };
        keyed.push((m.compound_id, m.id, row));
    }
    keyed.sort_by(|(ca, ia, a), (cb, ib, b)| {
        (ca, &a.building, &a.unit, &a.room, ia).cmp(&(cb, &b.building, &b.unit, &b.room, ib))
    });
    Ok(Export {
        rows: keyed.into_iter().map(|(_, _, r)| r).collect(),
        street_id,
        community_id,
    })
}

pub(super) fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(anyhow::anyhow!("writing the workbook failed: {e}"))
}

/// The export as an .xlsx workbook: the template's header row, then one row per resident. Dates
/// are date cells; phone and ID numbers are text (so that a spreadsheet never turns them into
/// rounded numbers); text a spreadsheet would run as a formula is written behind an apostrophe
/// ([`neutralize`]), which the import takes off again.
pub fn write_workbook(rows: &[ExportRow]) -> AppResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
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
    let tag_separator = TAG_SEPARATORS[0].to_string();
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(AppError::internal)?;
        let mut put = |c: Column, v: Option<&str>| -> AppResult<()> {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                ws.write_string_with_format(row, c.index() as u16, neutralize(v), &text)
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
        put(Column::Tags, Some(&r.tags.join(&tag_separator)))?;
        if let Some(d) = r.birth_date {
            use chrono::Datelike;
            let dt = ExcelDateTime::from_ymd(
                u16::try_from(d.year()).map_err(AppError::internal)?,
                d.month() as u8,
                d.day() as u8,
            )
            .map_err(xlsx_error)?;
            ws.write_datetime_with_format(row, Column::BirthDate.index() as u16, &dt, &date)
                .map_err(xlsx_error)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_error)
}
