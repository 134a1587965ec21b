//! Reading an upload (.xlsx, or .csv in UTF-8 or GBK) into a [`Table`] of cells, within the
//! limits on size, rows and columns.

use super::*;

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

pub(super) fn file_error(code: FieldCode, message: Text) -> AppError {
    AppError::invalid("file", code, message)
}

pub(super) fn unreadable() -> AppError {
    file_error(
        FieldCode::Unreadable,
        Text::new(
            "无法读取文件：它既不是 .xlsx 工作簿，也不是 UTF-8 或 GBK（GB18030）编码的 .csv 文件",
            "the file is neither an .xlsx workbook nor a .csv file in UTF-8 or GBK (GB18030)",
        ),
    )
}

pub(super) fn too_many_rows() -> AppError {
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

pub(super) fn too_large() -> AppError {
    file_error(
        FieldCode::TooLarge,
        Text::new(
            "工作簿解压后超过名册能容纳的大小",
            "the workbook unpacks to more than a roster can hold",
        ),
    )
}

pub(super) fn too_wide() -> AppError {
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
pub(super) fn text_cell(s: &str) -> Cell {
    match unneutralize(s.trim()).trim() {
        "" => Cell::Empty,
        t => Cell::Text(t.to_string()),
    }
}

pub(super) fn cell_of(v: Value<'_>) -> Cell {
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

pub(super) fn read_xlsx(bytes: &[u8]) -> AppResult<Table> {
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

pub(super) fn header_names(cells: &[Cell]) -> Vec<String> {
    cells
        .iter()
        .map(|c| match c {
            Cell::Text(s) => s.trim_start_matches('\u{feff}').trim().to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Empty | Cell::Invalid(_) => String::new(),
        })
        .collect()
}

pub(super) fn read_csv(bytes: &[u8]) -> AppResult<Table> {
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
pub(super) fn column_letter(mut i: usize) -> String {
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
