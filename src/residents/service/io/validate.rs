//! The header and the cells of a roster file: which column is which, what each cell holds,
//! masked numbers, and the errors a file answers with.

use super::*;

/// Maps header positions to template columns, reporting unknown, duplicate, missing and
/// unnamed-but-filled columns.
pub(super) fn map_header(table: &Table) -> Result<Vec<Option<Column>>, Vec<FieldError>> {
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
pub(super) struct RowErrors(pub(super) Vec<(usize, Column, FieldError)>);

impl RowErrors {
    pub(super) fn push(&mut self, line: usize, col: Column, code: FieldCode, message: Text) {
        self.0.push((
            line,
            col,
            FieldError::of(format!("rows[{line}].{}", col.header()), code, message),
        ));
    }

    pub(super) fn push_of(&mut self, line: usize, col: Column, code: FieldCode, message: Text) {
        self.0.push((
            line,
            col,
            FieldError::of(format!("rows[{line}].{}", col.header()), code, message),
        ));
    }

    pub(super) fn push_error(&mut self, line: usize, col: Column, mut error: FieldError) {
        error.field = format!("rows[{line}].{}", col.header());
        self.0.push((line, col, error));
    }

    pub(super) fn into_error(mut self) -> AppError {
        self.0.sort_by_key(|(line, col, _)| (*line, *col));
        AppError::Validation(self.0.into_iter().map(|(_, _, e)| e).collect())
    }
}

/// A value of a text column; `Err` describes a cell no text column takes.
pub(super) fn text_of(cell: &Cell) -> Result<Option<String>, Text> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Text(s) => Ok(Some(s.clone())),
        Cell::Date(d) => Ok(Some(d.to_string())),
        Cell::Invalid(m) => Err(m.clone()),
    }
}

pub(super) fn date_of(cell: &Cell) -> Result<Option<NaiveDate>, Text> {
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

pub(super) fn clean_part(
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
pub(super) struct PlannedRow {
    pub(super) data: ResidentData,
    pub(super) building_id: Uuid,
    pub(super) unit: String,
    pub(super) room: String,
    /// The resident on the roster this row updates, and how it was found.
    pub(super) existing: Option<(resident::Model, Matched)>,
}

/// How a row of a file was matched to a resident already on the roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Matched {
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

pub(super) fn masked_cell() -> Text {
    Text::new(
        "这是导出时脱敏的号码，不能作为导入数据；请填写完整号码或留空",
        "This is a number masked by an export and cannot be imported; enter the full number or leave the cell empty",
    )
}

pub(super) fn masked_file() -> AppError {
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
    pub(super) compound: Compound,
    pub(super) present: HashSet<Column>,
    pub(super) rows: Vec<PlannedRow>,
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
