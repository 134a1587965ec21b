//! Roster import and export through spreadsheets.
//!
//! The template has one header row with Chinese column names ([`Column`]) in any order. An upload
//! (.xlsx, or .csv in UTF-8 or GBK) is read into a [`Table`], every row is validated against the roster's
//! rules and the compound's buildings ([`plan_import`]) and only a file without a single bad cell
//! is written, in one transaction, with batched lookups and inserts ([`execute_import`]). Residents
//! are matched to the roster by ID number (through its keyed hash) and updated in place.
//!
//! The export ([`load_export`], [`write_workbook`]) has the same columns, so an unmasked export can
//! be edited and imported again.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::access::policy::Scope;
use crate::platform::cell_text::{neutralize, unneutralize};
use crate::platform::error::FieldCode;
use crate::platform::error::ProblemCode;
use crate::platform::error::{is_unique_violation, AppError, AppResult, FieldError};
use crate::platform::lang::Text;
use crate::platform::pii::Pii;
use crate::platform::xlsx_read::{self, Limits, ReadError, Value, XlsxError};
use crate::residents::service::roster::{self as roster, Gender, ResidentData, ResidentInput};
use crate::territory::model::{Compound, Household};
use crate::territory::query::places;
use crate::territory::service::households as territory_households;
use entity::{resident, resident_tag};

/// Largest accepted upload.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows in one upload.
pub const MAX_ROWS: usize = 10_000;
/// Most residents in one export.
pub const MAX_EXPORT_ROWS: usize = 50_000;
/// Columns a row may fill: the template has ten. Each kept row is as wide as its last value,
/// so this bounds the table at `MAX_ROWS × MAX_COLUMNS` cells whatever the file claims.
const MAX_COLUMNS: usize = 100;
/// Imports that may read and write at once in one process. Each may hold a hundred MiB or so of
/// parsed workbook and a long transaction; two keep a 2-core server answering everyone else.
pub const CONCURRENT_IMPORTS: usize = 2;
/// Unit and room, as households store them.
const PART_MAX: usize = 20;
/// Ids or hashes per `IN (...)` list.
const LOOKUP_CHUNK: usize = 500;
/// Rows per multi-row INSERT: 24 resident columns × 400 stays well under the bind-parameter
/// limits of SQLite (32,766) and PostgreSQL (65,535).
const RESIDENT_CHUNK: usize = 400;
const TAG_CHUNK: usize = 2_000;
/// Separators accepted between tags in the 标签 column; the export joins with the first.
pub const TAG_SEPARATORS: [char; 5] = ['、', ',', '，', ';', '；'];

/// The columns of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Name,
    Gender,
    BirthDate,
    Phone,
    IdNumber,
    Building,
    Unit,
    Room,
    Relation,
    Tags,
}

impl Column {
    /// In the template's order.
    pub const ALL: [Column; 10] = [
        Column::Name,
        Column::Gender,
        Column::BirthDate,
        Column::Phone,
        Column::IdNumber,
        Column::Building,
        Column::Unit,
        Column::Room,
        Column::Relation,
        Column::Tags,
    ];

    pub fn header(self) -> &'static str {
        match self {
            Column::Name => "姓名",
            Column::Gender => "性别",
            Column::BirthDate => "出生日期",
            Column::Phone => "手机号",
            Column::IdNumber => "身份证号",
            Column::Building => "楼栋",
            Column::Unit => "单元",
            Column::Room => "房号",
            Column::Relation => "与户主关系",
            Column::Tags => "标签",
        }
    }

    /// Whether the header row must have this column (and each row a value in it).
    pub fn required(self) -> bool {
        matches!(self, Column::Name | Column::Building | Column::Room)
    }

    fn from_header(h: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.header() == h)
    }

    /// The column of a field named by [`roster::validate`].
    fn of_field(field: &str) -> Column {
        match field {
            "gender" => Column::Gender,
            "birth_date" => Column::BirthDate,
            "phone" => Column::Phone,
            "id_number" => Column::IdNumber,
            "relation" => Column::Relation,
            "tags" => Column::Tags,
            _ => Column::Name,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One cell as read from the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    /// A real date cell of a workbook.
    Date(NaiveDate),
    /// Something no column accepts (an error value, a duration), described.
    Invalid(Text),
}

/// A data row: its number as a spreadsheet shows it (the header is usually row 1) and its cells
/// by column position.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// An uploaded sheet: the header row and the non-empty rows below it.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

fn file_error(code: FieldCode, message: Text) -> AppError {
    AppError::invalid("file", code, message)
}

fn unreadable() -> AppError {
    file_error(
        FieldCode::Unreadable,
        Text::new(
            "无法读取文件：它既不是 .xlsx 工作簿，也不是 UTF-8 或 GBK（GB18030）编码的 .csv 文件",
            "the file is neither an .xlsx workbook nor a .csv file in UTF-8 or GBK (GB18030)",
        ),
    )
}

fn too_many_rows() -> AppError {
    AppError::Validation(vec![FieldError::of(
        "file",
        FieldCode::TooManyRows,
        crate::text!(
            "每个文件最多 {MAX_ROWS} 行数据，请拆分成几个文件",
            "at most {MAX_ROWS} data rows per file; split it into several files"
        ),
    )
    .with_limit(MAX_ROWS)])
}

/// Reads an upload: an .xlsx workbook (a ZIP archive) or else a CSV file in UTF-8 (a BOM is
/// fine) or in GBK/GB18030, which is what Excel on Chinese Windows saves "CSV" as.
pub fn read_table(bytes: &[u8]) -> AppResult<Table> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err(file_error(
            FieldCode::UnsupportedFormat,
            Text::new(
                "不支持旧版 .xls 工作簿，请另存为 .xlsx",
                "legacy .xls workbooks are not supported; save the file as .xlsx",
            ),
        ))
    } else {
        read_csv(bytes)
    }
}

fn too_large() -> AppError {
    file_error(
        FieldCode::TooLarge,
        Text::new(
            "工作簿解压后超过名册能容纳的大小",
            "the workbook unpacks to more than a roster can hold",
        ),
    )
}

fn too_wide() -> AppError {
    file_error(
        FieldCode::TooWide,
        crate::text!(
            "第 {} 列之后还有内容；模板只有 {} 列",
            "values beyond column {}; the template has {} columns",
            column_letter(MAX_COLUMNS - 1),
            Column::ALL.len()
        ),
    )
}

/// A text cell as the roster reads it: trimmed, and without the apostrophe an export puts in
/// front of what a spreadsheet would take for a formula.
fn text_cell(s: &str) -> Cell {
    match unneutralize(s.trim()).trim() {
        "" => Cell::Empty,
        t => Cell::Text(t.to_string()),
    }
}

fn cell_of(v: Value<'_>) -> Cell {
    match v {
        Value::Text(s) => text_cell(&s),
        // Phone numbers and room numbers typed into a General cell arrive as floats.
        Value::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Cell::Text(format!("{}", f as i64))
        }
        Value::Number(f) => Cell::Text(f.to_string()),
        Value::Bool(b) => Cell::Text(if b { "TRUE" } else { "FALSE" }.into()),
        Value::DateTime(Some(d)) => Cell::Date(d.date()),
        Value::DateTime(None) => Cell::Invalid(Text::new("不是有效的日期", "not a valid date")),
        Value::Duration(_) => Cell::Invalid(Text::new(
            "这是一个时长，不是数值",
            "holds a duration, not a value",
        )),
        Value::Iso(s) => s
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map_or_else(|| text_cell(&s), Cell::Date),
        Value::Error(e) => Cell::Invalid(crate::text!(
            "单元格是错误值 {}",
            "holds the error value {}",
            e.trim()
        )),
    }
}

fn read_xlsx(bytes: &[u8]) -> AppResult<Table> {
    // Only rows with a value, each as wide as its last value.
    let mut grid: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    let read = xlsx_read::read_first_worksheet(bytes, &Limits::default(), |pos, value| {
        let v = cell_of(value);
        if v == Cell::Empty {
            return Ok(());
        }
        let col = pos.col as usize;
        if col >= MAX_COLUMNS {
            return Err(too_wide());
        }
        if !grid.contains_key(&pos.row) && grid.len() > MAX_ROWS {
            return Err(too_many_rows());
        }
        let row = grid.entry(pos.row).or_default();
        if row.len() <= col {
            row.resize(col + 1, Cell::Empty);
        }
        row[col] = v;
        Ok(())
    });
    match read {
        Ok(()) => {}
        Err(ReadError::Stopped(e)) => return Err(e),
        Err(ReadError::Xlsx(e)) => {
            return Err(match e {
                XlsxError::Malformed(reason) => {
                    tracing::debug!(%reason, "unreadable workbook");
                    unreadable()
                }
                XlsxError::NoWorksheet => file_error(
                    FieldCode::Empty,
                    Text::new("工作簿里没有工作表", "the workbook has no worksheet"),
                ),
                XlsxError::TooLarge | XlsxError::TooMuchText => too_large(),
                // A sheet with that many cells or strings has far more rows than allowed.
                XlsxError::TooManyCells | XlsxError::TooManyStrings => too_many_rows(),
            });
        }
    }
    let mut rows = grid.into_iter().map(|(r, cells)| Row {
        line: r as usize + 1,
        cells,
    });
    let header = rows.next().ok_or_else(|| {
        file_error(
            FieldCode::Empty,
            Text::new("工作表是空的", "the worksheet is empty"),
        )
    })?;
    Ok(Table {
        header: header_names(&header.cells),
        rows: rows.collect(),
    })
}

fn header_names(cells: &[Cell]) -> Vec<String> {
    cells
        .iter()
        .map(|c| match c {
            Cell::Text(s) => s.trim_start_matches('\u{feff}').trim().to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Empty | Cell::Invalid(_) => String::new(),
        })
        .collect()
}

fn read_csv(bytes: &[u8]) -> AppResult<Table> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.contains(&0) {
        return Err(unreadable());
    }
    // UTF-8 first: a file that is valid UTF-8 is taken as such (GB18030 would read most of
    // them too, wrongly). Otherwise GB18030, the superset of GBK and GB2312; bytes that are
    // not valid there either are refused rather than replaced.
    let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(body) {
        Ok(t) => t.into(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(unreadable)?,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    // The row a spreadsheet shows a record on: one per line, blank lines included, except the
    // line breaks inside quoted values. (The reader's own line numbers count from the end of
    // the previous record, before its terminator and any blank lines.)
    let (mut scanned, mut newlines, mut embedded) = (0usize, 0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(|e| {
            file_error(
                FieldCode::Unreadable,
                Text::new(
                    "不是有效的 CSV 文件",
                    format!("not a valid CSV file: {}", e.to_string().replace('\n', " ")),
                ),
            )
        })?;
        let mut start = record
            .position()
            .map_or(scanned, |p| usize::try_from(p.byte()).unwrap_or(scanned))
            .max(scanned);
        while body.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        newlines += body[scanned..start.min(body.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        scanned = start.min(body.len());
        let line = 1 + newlines - embedded.min(newlines);
        embedded += record
            .iter()
            .map(|f| f.matches('\n').count())
            .sum::<usize>();
        let mut cells: Vec<Cell> = record.iter().map(text_cell).collect();
        // Trailing separators are common; values far beyond the template are not a roster.
        while cells.last() == Some(&Cell::Empty) {
            cells.pop();
        }
        if cells.len() > MAX_COLUMNS {
            return Err(too_wide());
        }
        if cells.iter().all(|c| *c == Cell::Empty) {
            continue;
        }
        if header.is_none() {
            header = Some(header_names(&cells));
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(too_many_rows());
        }
        rows.push(Row { line, cells });
    }
    let header = header.ok_or_else(|| {
        file_error(
            FieldCode::Empty,
            Text::new("文件是空的", "the file is empty"),
        )
    })?;
    Ok(Table { header, rows })
}

/// `A`, `B`, …, `Z`, `AA`, … for a zero-based column position.
fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Maps header positions to template columns, reporting unknown, duplicate, missing and
/// unnamed-but-filled columns.
fn map_header(table: &Table) -> Result<Vec<Option<Column>>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut positions: Vec<Option<Column>> = Vec::with_capacity(table.header.len());
    let mut seen: HashSet<Column> = HashSet::new();
    let template = Column::ALL.map(Column::header).join("、");
    for (i, h) in table.header.iter().enumerate() {
        if h.is_empty() {
            positions.push(None);
            continue;
        }
        match Column::from_header(h) {
            Some(c) if !seen.insert(c) => {
                errors.push(FieldError::of(
                    "header",
                    FieldCode::DuplicateColumn,
                    crate::text!(
                        "「{h}」列出现了不止一次",
                        "the column 「{h}」 appears more than once"
                    ),
                ));
                positions.push(None);
            }
            Some(c) => positions.push(Some(c)),
            None => {
                errors.push(FieldError::of(
                    "header",
                    FieldCode::UnknownColumn,
                    crate::text!(
                        "「{h}」（第 {} 列）不是模板中的列；模板的列为：{template}",
                        "「{h}」 (column {}) is not a column of the template: {template}",
                        column_letter(i)
                    ),
                ));
                positions.push(None);
            }
        }
    }
    for c in Column::ALL {
        if c.required() && !seen.contains(&c) {
            errors.push(FieldError::of(
                "header",
                FieldCode::MissingColumn,
                crate::text!(
                    "缺少必需的「{}」列",
                    "the required column 「{}」 is missing",
                    c.header()
                ),
            ));
        }
    }
    let mut unnamed: Vec<usize> = Vec::new();
    for row in &table.rows {
        for (i, cell) in row.cells.iter().enumerate() {
            let named = table.header.get(i).is_some_and(|h| !h.is_empty());
            if !named && *cell != Cell::Empty && !unnamed.contains(&i) {
                unnamed.push(i);
            }
        }
    }
    unnamed.sort_unstable();
    for i in unnamed {
        errors.push(FieldError::of(
            "header",
            FieldCode::UnknownColumn,
            crate::text!(
                "第 {} 列有内容但没有表头",
                "column {} has values but no header",
                column_letter(i)
            ),
        ));
    }
    if errors.is_empty() {
        Ok(positions)
    } else {
        Err(errors)
    }
}

/// The problems of one file, each tied to its row and column.
struct RowErrors(Vec<(usize, Column, FieldError)>);

impl RowErrors {
    fn push(&mut self, line: usize, col: Column, code: FieldCode, message: Text) {
        self.0.push((
            line,
            col,
            FieldError::of(format!("rows[{line}].{}", col.header()), code, message),
        ));
    }

    fn push_of(&mut self, line: usize, col: Column, code: FieldCode, message: Text) {
        self.0.push((
            line,
            col,
            FieldError::of(format!("rows[{line}].{}", col.header()), code, message),
        ));
    }

    fn push_error(&mut self, line: usize, col: Column, mut error: FieldError) {
        error.field = format!("rows[{line}].{}", col.header());
        self.0.push((line, col, error));
    }

    fn into_error(mut self) -> AppError {
        self.0.sort_by_key(|(line, col, _)| (*line, *col));
        AppError::Validation(self.0.into_iter().map(|(_, _, e)| e).collect())
    }
}

/// A value of a text column; `Err` describes a cell no text column takes.
fn text_of(cell: &Cell) -> Result<Option<String>, Text> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Text(s) => Ok(Some(s.clone())),
        Cell::Date(d) => Ok(Some(d.to_string())),
        Cell::Invalid(m) => Err(m.clone()),
    }
}

fn date_of(cell: &Cell) -> Result<Option<NaiveDate>, Text> {
    const BAD: Text = Text::fixed(
        "应为日期，写作 YYYY-MM-DD",
        "must be a date written YYYY-MM-DD",
    );
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Text(s) => ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
            .map(Some)
            .ok_or(BAD),
        Cell::Invalid(m) => Err(Text::new(
            format!("{}；{}", m.zh(), BAD.zh()),
            format!("{}; {}", m.en(), BAD.en()),
        )),
    }
}

/// Splits the 标签 column.
pub fn split_tags(s: &str) -> Vec<String> {
    s.split(TAG_SEPARATORS)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn clean_part(
    errors: &mut RowErrors,
    line: usize,
    col: Column,
    v: Option<String>,
) -> Option<String> {
    let v = v.unwrap_or_default();
    if v.chars().count() > PART_MAX {
        errors.push_error(line, col, FieldError::too_long("", PART_MAX));
        None
    } else if v.chars().any(char::is_control) {
        errors.push(
            line,
            col,
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        );
        None
    } else {
        Some(v)
    }
}

/// One row of a file that passed validation.
struct PlannedRow {
    data: ResidentData,
    building_id: Uuid,
    unit: String,
    room: String,
    /// The resident on the roster this row updates, and how it was found.
    existing: Option<(resident::Model, Matched)>,
}

/// How a row of a file was matched to a resident already on the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    /// By ID number, in the compound's community; or a row with an ID number matched by name to
    /// a resident of its household who has none yet. The row's ID number is written.
    IdNumber,
    /// A row without an ID number, by name (or phone) within its household. The resident's ID
    /// number, and the gender and birth date it encodes, are kept.
    Household,
}

/// Whether a phone or ID number cell holds what an export writes instead of the number
/// (`138******34`, `**************002X`): never a number, and never "leave it as it is".
pub fn is_masked(v: &str) -> bool {
    v.contains(['*', '＊'])
}

fn masked_cell() -> Text {
    Text::new(
        "这是导出时脱敏的号码，不能作为导入数据；请填写完整号码或留空",
        "This is a number masked by an export and cannot be imported; enter the full number or leave the cell empty",
    )
}

fn masked_file() -> AppError {
    AppError::invalid(
        "file",
        FieldCode::MaskedValue,
        Text::new(
            "这个文件看起来是脱敏导出的名单：其中的手机号、身份证号都已打码，不能作为导入数据。请导入填写了完整号码的名单，或把打码的单元格清空后再导入",
            "This file looks like a masked export: its phone and ID numbers are masked and cannot be imported. Import a roster with full numbers, or clear the masked cells first",
        ),
    )
}

/// A validated file, ready to be written by [`execute_import`].
pub struct ImportPlan {
    compound: Compound,
    present: HashSet<Column>,
    rows: Vec<PlannedRow>,
}

impl ImportPlan {
    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: u64,
    pub updated: u64,
    /// Of `updated`: found by ID number.
    pub matched_by_id_number: u64,
    /// Of `updated`: found by name or phone within the household.
    pub matched_in_household: u64,
    pub households_created: u64,
}

/// Validates every row of `table` for import into `compound` (nothing is written): the roster's
/// rules, the building names, ID numbers repeated within the file, and residents already on the
/// roster outside `write_scope`. Any problem answers with every bad cell.
pub async fn plan_import<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    compound: Compound,
    write_scope: &Scope,
    table: Table,
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
            .and_then(|raw| roster::parse_id_number(raw).ok())
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
        let validated = roster::validate(ResidentInput {
            name: name.unwrap_or_default(),
            gender,
            birth_date,
            phone,
            id_number,
            relation,
            tags: tags.as_deref().map(split_tags).unwrap_or_default(),
            moved_in_on: None,
            moved_out_on: None,
        });
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

/// A row of the file still to be matched within its (existing) household.
struct OpenRow<'a> {
    line: usize,
    row: &'a PlannedRow,
    household: Uuid,
    how: Matched,
    phone_hash: Option<String>,
}

/// Matches the rows no ID number matched to residents already in their household, each
/// resident to one row at most, in three rounds, so that the order of the rows does not decide:
/// name and phone together; then name (a row with an ID number only to a member without one:
/// the roster first imported without them); then, for rows without an ID number, phone (the
/// name was changed). Members a row cannot tell apart are a row error, never a guess; so are two
/// rows of the file that nothing could tell apart the next time.
async fn match_in_households<C: ConnectionTrait>(
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

fn changed_meanwhile(e: sea_orm::DbErr) -> AppError {
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
) -> AppResult<ImportSummary> {
    let now = Utc::now();
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
                inserts.push(am);
                id
            }
            Some((m, Matched::Household)) => {
                let id = m.id;
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
                household_updates.push(am);
                if replace_tags {
                    retagged.push(id);
                }
                id
            }
            Some((m, Matched::IdNumber)) => {
                let id = m.id;
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
                updates.push(am);
                if replace_tags {
                    retagged.push(id);
                }
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
    summary.matched_by_id_number = updates.len() as u64;
    summary.matched_in_household = household_updates.len() as u64;
    summary.updated = summary.matched_by_id_number + summary.matched_in_household;

    for chunk in inserts.chunks(RESIDENT_CHUNK) {
        resident::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .map_err(changed_meanwhile)?;
    }
    // Updates in batches: an upsert on the primary key, which every row hits. A match within
    // the household keeps the ID number (and what it encodes) and its place.
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
    upsert(db, &updates, &update_columns).await?;
    upsert(db, &household_updates, &household_columns).await?;
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

/// Sets on a matched resident the relation and phone of `fresh` when the file has those columns.
fn take_present_columns(
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
async fn upsert<C: ConnectionTrait>(
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

/// Which residents to export (all conditions together; none means all the caller may read).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportFilter {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
}

impl ExportFilter {
    fn condition(&self) -> Condition {
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

fn only<T: Copy + Eq>(mut it: impl Iterator<Item = T>) -> Option<T> {
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
            gender: m.gender.as_deref().and_then(Gender::parse),
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

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_table(s: &str) -> Table {
        read_table(s.as_bytes()).unwrap()
    }

    #[test]
    fn csv_saved_by_excel_on_chinese_windows_reads_as_gbk() {
        let utf8 = "姓名,楼栋,房号\r\n张三,1幢,101\r\n欧阳娜娜,2幢,302\r\n";
        let (gbk, _, lossy) = encoding_rs::GBK.encode(utf8);
        assert!(!lossy);
        assert!(
            std::str::from_utf8(&gbk).is_err(),
            "the test needs non-UTF-8 bytes"
        );
        let (a, b) = (read_csv(&gbk).unwrap(), csv_table(utf8));
        assert_eq!(a.header, b.header);
        assert_eq!(format!("{:?}", a.rows), format!("{:?}", b.rows));
        assert!(format!("{:?}", a.rows).contains("欧阳娜娜"));
        // Bytes that are neither UTF-8 nor GB18030 are refused, not guessed at.
        assert!(read_csv(&[0xFF, 0xFF, 0x2C, 0x41]).is_err());
    }

    #[test]
    fn csv_with_a_bom_and_blank_lines_keeps_line_numbers() {
        let t = csv_table("\u{feff}姓名,楼栋,房号\n张三,1幢,101\n\n李四,1幢,102\n");
        assert_eq!(t.header, vec!["姓名", "楼栋", "房号"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[1].line, 4);
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let t =
            csv_table("姓名,楼栋,房号\r\n张三,1幢,101\r\n\r\n\"李\n四\",1幢,102\r\n王五,1幢,103");
        let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert_eq!(t.rows[1].cells[0], Cell::Text("李\n四".into()));
    }

    #[test]
    fn headers_are_checked() {
        let t = csv_table("姓名,楼栋,备注,姓名\n张三,1幢,x,y\n");
        let errs = map_header(&t).unwrap_err();
        let codes: Vec<String> = errs.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            ["unknown_column", "duplicate_column", "missing_column"]
        );
        assert!(errs[0].message.zh().contains("备注"));
        assert!(errs[2].message.zh().contains("房号"));
    }

    #[test]
    fn binary_files_are_not_tables() {
        assert!(read_table(&[0x89, b'P', b'N', b'G', 0, 0, 0xff]).is_err());
        assert!(read_table(b"PK\x03\x04garbage").is_err());
        assert!(read_table(&[0xD0, 0xCF, 0x11, 0xE0, 1, 2]).is_err());
    }

    #[test]
    fn tags_split_on_every_separator() {
        assert_eq!(
            split_tags("党员、志愿者,退休，低保;独居老人； 居民代表 "),
            ["党员", "志愿者", "退休", "低保", "独居老人", "居民代表"]
        );
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn a_written_workbook_reads_back() {
        let rows = vec![ExportRow {
            name: "张三".into(),
            gender: Some(Gender::Female),
            birth_date: NaiveDate::from_ymd_opt(1949, 12, 31),
            phone: Some("13812341234".into()),
            id_number: Some("11010519491231002X".into()),
            building: "1幢".into(),
            unit: "1单元".into(),
            room: "101".into(),
            relation: Some("户主".into()),
            tags: vec!["党员".into(), "退休".into()],
        }];
        let bytes = write_workbook(&rows).unwrap();
        let t = read_table(&bytes).unwrap();
        assert_eq!(t.header, Column::ALL.map(Column::header));
        assert_eq!(t.rows[0].line, 2);
        let c = &t.rows[0].cells;
        assert_eq!(
            c[Column::BirthDate.index()],
            Cell::Date(NaiveDate::from_ymd_opt(1949, 12, 31).unwrap())
        );
        assert_eq!(
            c[Column::IdNumber.index()],
            Cell::Text("11010519491231002X".into())
        );
        assert_eq!(c[Column::Tags.index()], Cell::Text("党员、退休".into()));
    }
}
