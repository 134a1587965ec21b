//! Roster import and export through spreadsheets.
//!
//! The template has one header row with Chinese column names ([`Column`]) in any order. An upload
//! (.xlsx, or .csv in UTF-8 or GBK) is read into a [`Table`], every row is validated against the roster's
//! rules and the compound's buildings ([`plan_import`]) and only a file without a single bad cell
//! is written, in one transaction, with batched lookups and inserts ([`execute_import`]). Residents
//! are matched to the roster by ID number (through its keyed hash) and updated in place.
//!
//! The export ([`plan_export`], [`ExportOrder`], [`ExportSheet`]) has the same columns, so an unmasked export can
//! be edited and imported again.
//!
//! One concern per file: [`read`] turns the upload into a [`Table`], [`validate`] checks cells
//! and the header, [`plan`] checks every row against the roster ([`plan_import`]), [`matching`]
//! finds residents a row without an ID number means, [`apply`] writes the plan
//! ([`execute_import`]), and [`export`] loads and writes the export.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
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
/// Most residents in one export. The export streams (see [`export`]), so this bounds the time
/// one request takes (a few seconds) and the sort keys it holds (64 bytes a resident), not a
/// workbook in memory.
pub const MAX_EXPORT_ROWS: usize = 100_000;
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

mod apply;
mod export;
mod matching;
mod plan;
mod read;
mod validate;

use matching::*;
use read::*;
use validate::*;

pub use apply::execute_import;
pub use export::{
    all_within, plan_export, write_workbook, ExportFilter, ExportOrder, ExportRow, ExportSheet,
};
pub use plan::plan_import;
pub use read::{read_table, Cell, Row, Table};
pub use validate::{is_masked, split_tags, ImportPlan, ImportSummary};

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
