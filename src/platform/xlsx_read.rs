//! A small, strict reader for the first worksheet of an .xlsx workbook.
//!
//! An upload is hostile until read: a few KiB of ZIP can inflate to gigabytes, and the counts an
//! OOXML part declares (`count`, `uniqueCount`, `dimension`, the sizes in the ZIP headers) can
//! be anything. So nothing declared is trusted. Every part is inflated through a reader that
//! counts the bytes it actually produces and fails past [`Limits`]; the XML is read as a stream
//! of events, nesting depth and attributes per element are bounded, shared strings are kept in
//! one buffer as they come (capped by count and bytes, never reserved from a declared count),
//! and cells are handed to the caller one at a time.
//!
//! Only what a roster needs is read: `[Content_Types].xml` and `_rels/.rels` (to find the
//! workbook and check it is a spreadsheet), the workbook and its relationships (the first sheet
//! of type worksheet, in workbook order, and the 1904 date system flag), the styles (which
//! number formats are dates or durations), the shared strings and that one worksheet.

use std::borrow::Cow;
use std::cell::Cell as Flag;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Cursor, Read};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// What reading one workbook may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Inflated bytes of any one part.
    pub part_bytes: u64,
    /// Inflated bytes of all the parts read, together.
    pub total_bytes: u64,
    /// Entries of the shared-string table.
    pub shared_strings: usize,
    /// Bytes of text in the shared-string table.
    pub shared_string_bytes: usize,
    /// `<c>` elements in the worksheet, empty ones included.
    pub cells: usize,
    /// Bytes of text handed to the caller, counting a shared string each time a cell uses it
    /// (one long string referenced by every cell must not be copied a million times).
    pub text_bytes: usize,
}

/// The most text Excel keeps in one cell is 32,767 characters; in UTF-8 at most four bytes
/// each. Anything longer was not written by a spreadsheet.
const MAX_STRING_BYTES: usize = 32_767 * 4;
/// SpreadsheetML nests about seven deep (worksheet/sheetData/row/c/is/r/t); extensions a few
/// more. Bounding it keeps the parser's stack of open names small.
const MAX_DEPTH: usize = 64;
/// Excel writes about ten namespace declarations on a root element and a handful elsewhere.
const MAX_ATTRIBUTES: usize = 64;
/// Content types, relationships, sheets, number formats and cell formats per part: Excel
/// itself stops at 64,000 cell formats.
const MAX_ENTRIES: usize = 65_536;
const MAX_ROW: u32 = 1_048_576;
const MAX_COL: u32 = 16_384;
/// The serial number of 9999-12-31, the last day Excel shows.
const MAX_SERIAL_DAYS: i64 = 2_958_465;

/// Why a workbook was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XlsxError {
    #[error("not a readable .xlsx workbook: {0}")]
    Malformed(String),
    #[error("the workbook has no worksheet")]
    NoWorksheet,
    #[error("the workbook unpacks to more than allowed")]
    TooLarge,
    #[error("the workbook holds more text than allowed")]
    TooMuchText,
    #[error("the workbook holds more shared strings than allowed")]
    TooManyStrings,
    #[error("the worksheet has more cells than allowed")]
    TooManyCells,
}

/// Why [`read_first_worksheet`] stopped: the workbook, or the caller's callback.
#[derive(Debug)]
pub enum ReadError<E> {
    Xlsx(XlsxError),
    Stopped(E),
}

impl<E> From<XlsxError> for ReadError<E> {
    fn from(e: XlsxError) -> Self {
        ReadError::Xlsx(e)
    }
}

fn malformed(what: impl Into<String>) -> XlsxError {
    XlsxError::Malformed(what.into())
}

/// A cell's position, zero-based (`A1` is row 0, column 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub row: u32,
    pub col: u32,
}

/// A cell's value as the workbook stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A shared string, an inline string or a formula's text result, as stored (not trimmed).
    Text(Cow<'a, str>),
    /// A number whose format is not a date, time or duration.
    Number(f64),
    /// A number formatted as a date or time, converted from its serial number; `None` when the
    /// serial is no calendar date Excel would show (negative, 1900-02-29, past 9999).
    DateTime(Option<NaiveDateTime>),
    /// A number formatted as elapsed time (`[h]:mm`), in days.
    Duration(f64),
    Bool(bool),
    /// An error value such as `#N/A`.
    Error(Cow<'a, str>),
    /// A date cell (`t="d"`): ISO 8601 text, as stored.
    Iso(Cow<'a, str>),
}

/// Reads the first worksheet of `bytes` (in workbook order, chart and dialog sheets skipped),
/// calling `on_cell` for every cell holding a value, in document order. Cells without a value
/// (formatting only) are counted against [`Limits::cells`] but not passed on.
pub fn read_first_worksheet<E>(
    bytes: &[u8],
    limits: &Limits,
    mut on_cell: impl FnMut(Pos, Value<'_>) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let mut book = Package::open(bytes, limits)?;
    let workbook_path = book.workbook_path()?;
    let (sheets, date1904) = book.parse(&workbook_path, WorkbookHandler::default())?;
    let rels = book.relationships(&workbook_path)?;
    let sheet_path = sheets
        .iter()
        .find_map(|id| {
            rels.iter()
                .find(|r| &r.id == id && r.kind.ends_with("/worksheet"))
        })
        .map(|r| r.target.clone())
        .ok_or(XlsxError::NoWorksheet)?;
    let styles = match rels.iter().find(|r| r.kind.ends_with("/styles")) {
        Some(r) if book.contains(&r.target) => {
            book.parse(&r.target, StylesHandler::default())?.kinds()
        }
        _ => Vec::new(),
    };
    let strings = match rels.iter().find(|r| r.kind.ends_with("/sharedStrings")) {
        Some(r) if book.contains(&r.target) => book.parse(
            &r.target,
            StringsHandler {
                limits: *limits,
                ..StringsHandler::default()
            },
        )?,
        _ => SharedStrings::default(),
    };
    let mut handler = SheetHandler {
        strings: &strings,
        styles: &styles,
        date1904,
        limits: *limits,
        on_cell: &mut on_cell,
        cells: 0,
        text_bytes: 0,
        row: None,
        next_row: 0,
        next_col: 0,
        cell: None,
        value: String::new(),
        inline: String::new(),
        stopped: None,
    };
    let outcome = book.walk(&sheet_path, &mut handler);
    match (handler.stopped.take(), outcome) {
        (Some(e), _) => Err(ReadError::Stopped(e)),
        (None, Err(e)) => Err(e.into()),
        (None, Ok(())) => Ok(()),
    }
}

/// Bytes still allowed across all parts, and whether a part ran past a cap (so that the
/// XML parser's I/O error is reported as what it is).
struct Budget {
    left: Flag<u64>,
    exceeded: Flag<bool>,
}

/// Inflates through `inner`, failing once more than the part's or the workbook's allowance has
/// come out, whatever the ZIP headers declared.
struct Counted<'b, R> {
    inner: R,
    part_left: u64,
    budget: &'b Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = n as u64;
        if got > self.part_left || got > self.budget.left.get() {
            self.budget.exceeded.set(true);
            return Err(io::Error::other("inflated past the cap"));
        }
        self.part_left -= got;
        self.budget.left.set(self.budget.left.get() - got);
        Ok(n)
    }
}

struct Package<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// Part names, lower-cased, to their index: OPC part names are case-insensitive.
    names: HashMap<String, usize>,
    limits: Limits,
    budget: Budget,
}

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8], limits: &Limits) -> Result<Self, XlsxError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| malformed(format!("not a ZIP archive: {e}")))?;
        let names = (0..zip.len())
            .filter_map(|i| Some((zip.name_for_index(i)?.to_ascii_lowercase(), i)))
            .collect();
        Ok(Self {
            zip,
            names,
            limits: *limits,
            budget: Budget {
                left: Flag::new(limits.total_bytes),
                exceeded: Flag::new(false),
            },
        })
    }

    fn contains(&self, path: &str) -> bool {
        self.names.contains_key(&path.to_ascii_lowercase())
    }

    /// Streams the part at `path` through `handler`.
    fn walk(&mut self, path: &str, handler: &mut impl Handler) -> Result<(), XlsxError> {
        let index = *self
            .names
            .get(&path.to_ascii_lowercase())
            .ok_or_else(|| malformed(format!("the part {path} is missing")))?;
        let file = self
            .zip
            .by_index(index)
            .map_err(|e| malformed(format!("{path}: {e}")))?;
        let counted = Counted {
            inner: file,
            part_left: self.limits.part_bytes,
            budget: &self.budget,
        };
        let mut xml = Reader::from_reader(BufReader::with_capacity(64 * 1024, counted));
        xml.config_mut().trim_text(false);
        let outcome = walk(&mut xml, handler);
        if self.budget.exceeded.get() {
            return Err(XlsxError::TooLarge);
        }
        outcome.map_err(|e| match e {
            XlsxError::Malformed(m) => malformed(format!("{path}: {m}")),
            other => other,
        })
    }

    fn parse<H: Handler + Finish>(&mut self, path: &str, mut h: H) -> Result<H::Output, XlsxError> {
        self.walk(path, &mut h)?;
        h.finish()
    }

    /// The relationships of the part at `path` (`xl/workbook.xml` → `xl/_rels/workbook.xml.rels`),
    /// targets resolved to part names.
    fn relationships(&mut self, path: &str) -> Result<Vec<Relationship>, XlsxError> {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        let rels = if dir.is_empty() {
            format!("_rels/{file}.rels")
        } else {
            format!("{dir}/_rels/{file}.rels")
        };
        if !self.contains(&rels) {
            return Ok(Vec::new());
        }
        let mut found = self.parse(&rels, RelsHandler::default())?;
        for r in &mut found {
            r.target = resolve(dir, &r.target)?;
        }
        Ok(found)
    }

    /// The workbook part named by the package relationships, checked to be a spreadsheet.
    fn workbook_path(&mut self) -> Result<String, XlsxError> {
        let types = self.parse("[Content_Types].xml", TypesHandler::default())?;
        let path = self
            .relationships("")?
            .into_iter()
            .find(|r| r.kind.ends_with("/officeDocument"))
            .map(|r| r.target)
            .ok_or_else(|| malformed("no office document in _rels/.rels"))?;
        const SPREADSHEETS: [&str; 4] = [
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            "application/vnd.ms-excel.template.macroEnabled.main+xml",
        ];
        match types.of(&path) {
            Some(t) if SPREADSHEETS.contains(&t) => Ok(path),
            Some(t) => Err(malformed(format!("the document is a {t}, not a workbook"))),
            None => Err(malformed(format!("{path} has no content type"))),
        }
    }
}

/// `target` relative to the folder `dir`, as a part name without the leading slash.
fn resolve(dir: &str, target: &str) -> Result<String, XlsxError> {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None if dir.is_empty() => target.to_string(),
        None => format!("{dir}/{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts
                    .pop()
                    .ok_or_else(|| malformed(format!("{target} leaves the package")))?;
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// The elements any of the parts read here care about, by local name (namespaces vary between
/// transitional and strict OOXML and prefixes are arbitrary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Types,
    Default,
    Override,
    Relationships,
    Relationship,
    Workbook,
    WorkbookPr,
    Sheets,
    Sheet,
    StyleSheet,
    NumFmts,
    NumFmt,
    CellXfs,
    Xf,
    Sst,
    Si,
    R,
    RPh,
    T,
    Worksheet,
    SheetData,
    Row,
    C,
    V,
    Is,
    Other,
}

fn tag_of(local: &str) -> Tag {
    match local {
        "Types" => Tag::Types,
        "Default" => Tag::Default,
        "Override" => Tag::Override,
        "Relationships" => Tag::Relationships,
        "Relationship" => Tag::Relationship,
        "workbook" => Tag::Workbook,
        "workbookPr" => Tag::WorkbookPr,
        "sheets" => Tag::Sheets,
        "sheet" => Tag::Sheet,
        "styleSheet" => Tag::StyleSheet,
        "numFmts" => Tag::NumFmts,
        "numFmt" => Tag::NumFmt,
        "cellXfs" => Tag::CellXfs,
        "xf" => Tag::Xf,
        "sst" => Tag::Sst,
        "si" => Tag::Si,
        "r" => Tag::R,
        "rPh" => Tag::RPh,
        "t" => Tag::T,
        "worksheet" => Tag::Worksheet,
        "sheetData" => Tag::SheetData,
        "row" => Tag::Row,
        "c" => Tag::C,
        "v" => Tag::V,
        "is" => Tag::Is,
        _ => Tag::Other,
    }
}

/// What a part's reader does with the events of its XML. `stack` holds the open ancestors of
/// the element or text at hand.
trait Handler {
    const ROOT: Tag;
    fn start(&mut self, stack: &[Tag], tag: Tag, e: &BytesStart<'_>) -> Result<(), XlsxError>;
    fn end(&mut self, _stack: &[Tag], _tag: Tag) -> Result<(), XlsxError> {
        Ok(())
    }
    fn text(&mut self, _stack: &[Tag], _text: &str) -> Result<(), XlsxError> {
        Ok(())
    }
}

trait Finish {
    type Output;
    fn finish(self) -> Result<Self::Output, XlsxError>;
}

fn xml_error(e: quick_xml::Error) -> XlsxError {
    malformed(e.to_string())
}

fn walk<R: BufRead, H: Handler>(xml: &mut Reader<R>, h: &mut H) -> Result<(), XlsxError> {
    let mut buf = Vec::new();
    let mut stack: Vec<Tag> = Vec::with_capacity(MAX_DEPTH);
    let mut seen_root = false;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).map_err(xml_error)? {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                return Err(malformed(format!(
                    "<{}> nests deeper than {MAX_DEPTH} elements",
                    e.local_name().as_ref()
                )))
            }
            Event::Start(e) => {
                let tag = open(&stack, &mut seen_root, &e, H::ROOT)?;
                h.start(&stack, tag, &e)?;
                stack.push(tag);
            }
            Event::Empty(e) => {
                let tag = open(&stack, &mut seen_root, &e, H::ROOT)?;
                h.start(&stack, tag, &e)?;
                h.end(&stack, tag)?;
            }
            Event::End(_) => {
                let tag = stack
                    .pop()
                    .ok_or_else(|| malformed("a closing tag without an opening one"))?;
                h.end(&stack, tag)?;
            }
            Event::Text(t) => {
                if stack.is_empty() {
                    if !t.trim().is_empty() {
                        return Err(malformed("text outside the root element"));
                    }
                } else {
                    h.text(&stack, &t.xml10_content())?;
                }
            }
            Event::CData(t) if !stack.is_empty() => h.text(&stack, &t.xml10_content())?,
            Event::GeneralRef(r) if !stack.is_empty() => {
                let mut one = [0u8; 4];
                let s: &str = match r.resolve_char_ref().map_err(xml_error)? {
                    Some(c) => c.encode_utf8(&mut one),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| malformed(format!("unknown entity &{};", &*r)))?,
                };
                h.text(&stack, s)?;
            }
            Event::CData(_) | Event::GeneralRef(_) => {
                return Err(malformed("content outside the root element"))
            }
            Event::DocType(_) => return Err(malformed("a document type declaration")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof if stack.is_empty() && seen_root => return Ok(()),
            Event::Eof => return Err(malformed("the XML ends early")),
        }
    }
}

/// Classifies an opening tag, checking that the document has one root of the expected kind.
fn open(
    stack: &[Tag],
    seen_root: &mut bool,
    e: &BytesStart<'_>,
    root: Tag,
) -> Result<Tag, XlsxError> {
    let tag = tag_of(e.local_name().as_ref());
    if stack.is_empty() {
        if *seen_root || tag != root {
            return Err(malformed(format!(
                "unexpected root element <{}>",
                e.name().as_ref()
            )));
        }
        *seen_root = true;
    }
    Ok(tag)
}

/// Calls `f` with the local name and value of each attribute of `e`, at most
/// [`MAX_ATTRIBUTES`] of them.
fn attributes(
    e: &BytesStart<'_>,
    mut f: impl FnMut(&str, Cow<'_, str>) -> Result<(), XlsxError>,
) -> Result<(), XlsxError> {
    for (i, a) in e.attributes().enumerate() {
        if i >= MAX_ATTRIBUTES {
            return Err(malformed(format!(
                "<{}> has more than {MAX_ATTRIBUTES} attributes",
                e.local_name().as_ref()
            )));
        }
        let a = a.map_err(|e| malformed(e.to_string()))?;
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(xml_error)?;
        f(a.key.local_name().as_ref(), value)?;
    }
    Ok(())
}

fn bounded_push<T>(v: &mut Vec<T>, item: T, what: &str) -> Result<(), XlsxError> {
    if v.len() >= MAX_ENTRIES {
        return Err(malformed(format!("more than {MAX_ENTRIES} {what}")));
    }
    v.push(item);
    Ok(())
}

/// `[Content_Types].xml`: content types by part name, and by extension for the rest.
#[derive(Default)]
struct TypesHandler {
    defaults: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
}

struct ContentTypes {
    defaults: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
}

impl ContentTypes {
    fn of(&self, part: &str) -> Option<&str> {
        let name = format!("/{part}");
        if let Some((_, t)) = self
            .overrides
            .iter()
            .find(|(p, _)| p.eq_ignore_ascii_case(&name))
        {
            return Some(t);
        }
        let ext = part.rsplit_once('.').map(|(_, e)| e)?;
        self.defaults
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(ext))
            .map(|(_, t)| t.as_str())
    }
}

impl Handler for TypesHandler {
    const ROOT: Tag = Tag::Types;
    fn start(&mut self, stack: &[Tag], tag: Tag, e: &BytesStart<'_>) -> Result<(), XlsxError> {
        if stack != [Tag::Types] || !matches!(tag, Tag::Default | Tag::Override) {
            return Ok(());
        }
        let (mut key, mut ct) = (String::new(), String::new());
        attributes(e, |k, v| {
            match k {
                "Extension" | "PartName" => key = v.into_owned(),
                "ContentType" => ct = v.into_owned(),
                _ => {}
            }
            Ok(())
        })?;
        let list = if tag == Tag::Default {
            &mut self.defaults
        } else {
            &mut self.overrides
        };
        bounded_push(list, (key, ct), "content types")
    }
}

impl Finish for TypesHandler {
    type Output = ContentTypes;
    fn finish(self) -> Result<ContentTypes, XlsxError> {
        Ok(ContentTypes {
            defaults: self.defaults,
            overrides: self.overrides,
        })
    }
}

struct Relationship {
    id: String,
    /// The relationship type URI (transitional or strict; compare by its last segment).
    kind: String,
    target: String,
}

#[derive(Default)]
struct RelsHandler {
    found: Vec<Relationship>,
}

impl Handler for RelsHandler {
    const ROOT: Tag = Tag::Relationships;
    fn start(&mut self, stack: &[Tag], tag: Tag, e: &BytesStart<'_>) -> Result<(), XlsxError> {
        if stack != [Tag::Relationships] || tag != Tag::Relationship {
            return Ok(());
        }
        let mut r = Relationship {
            id: String::new(),
            kind: String::new(),
            target: String::new(),
        };
        let mut external = false;
        attributes(e, |k, v| {
            match k {
                "Id" => r.id = v.into_owned(),
                "Type" => r.kind = v.into_owned(),
                "Target" => r.target = v.into_owned(),
                "TargetMode" => external = v == "External",
                _ => {}
            }
            Ok(())
        })?;
        if external {
            return Ok(());
        }
        bounded_push(&mut self.found, r, "relationships")
    }
}

impl Finish for RelsHandler {
    type Output = Vec<Relationship>;
    fn finish(self) -> Result<Vec<Relationship>, XlsxError> {
        Ok(self.found)
    }
}

/// `xl/workbook.xml`: the relationship ids of the sheets in workbook order, and whether dates
/// count from 1904.
#[derive(Default)]
struct WorkbookHandler {
    sheets: Vec<String>,
    date1904: bool,
}

impl Handler for WorkbookHandler {
    const ROOT: Tag = Tag::Workbook;
    fn start(&mut self, stack: &[Tag], tag: Tag, e: &BytesStart<'_>) -> Result<(), XlsxError> {
        match (stack, tag) {
            ([Tag::Workbook], Tag::WorkbookPr) => attributes(e, |k, v| {
                if k == "date1904" {
                    self.date1904 = matches!(v.as_ref(), "1" | "true");
                }
                Ok(())
            }),
            ([Tag::Workbook, Tag::Sheets], Tag::Sheet) => {
                let mut id = None;
                attributes(e, |k, v| {
                    if k == "id" {
                        id = Some(v.into_owned());
                    }
                    Ok(())
                })?;
                let id = id.ok_or_else(|| malformed("a <sheet> without a relationship id"))?;
                bounded_push(&mut self.sheets, id, "sheets")
            }
            _ => Ok(()),
        }
    }
}

impl Finish for WorkbookHandler {
    type Output = (Vec<String>, bool);
    fn finish(self) -> Result<(Vec<String>, bool), XlsxError> {
        Ok((self.sheets, self.date1904))
    }
}

/// How a number in a cell is meant, by its number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    DateTime,
    Duration,
}

/// The built-in number formats (ECMA-376 §18.8.30 and the East Asian ones): 14–22 dates and
/// times, 27–36 and 50–58 the East Asian dates, 45 and 47 minutes and seconds, 46 `[h]:mm:ss`.
fn builtin_kind(id: u32) -> Kind {
    match id {
        14..=22 | 27..=36 | 45 | 47 | 50..=58 => Kind::DateTime,
        46 => Kind::Duration,
        _ => Kind::Number,
    }
}

/// Whether a custom format code shows a date or time (`y`, `m`, `d`, `h`, `s` outside quoted
/// text, escapes and brackets) or elapsed time (`[h]`, `[mm]`, `[s]`). Only the first section
/// (the one for positive numbers) counts.
fn format_kind(code: &str) -> Kind {
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            // An escaped character, the character `_` pads with, the one `*` fills with.
            '\\' | '_' | '*' => {
                chars.next();
            }
            ';' => break,
            '[' => {
                let mut inner = String::new();
                for b in chars.by_ref() {
                    if b == ']' {
                        break;
                    }
                    inner.push(b.to_ascii_lowercase());
                }
                let elapsed = ['h', 'm', 's']
                    .iter()
                    .any(|u| !inner.is_empty() && inner.chars().all(|c| c == *u));
                if elapsed {
                    return Kind::Duration;
                }
            }
            'y' | 'Y' | 'm' | 'M' | 'd' | 'D' | 'h' | 'H' | 's' | 'S' => return Kind::DateTime,
            _ => {}
        }
    }
    Kind::Number
}

/// `xl/styles.xml`: the number format of every cell format (`s="…"` of a cell).
#[derive(Default)]
struct StylesHandler {
    custom: Vec<(u32, Kind)>,
    xfs: Vec<u32>,
}

fn number_attr(v: &str, what: &str) -> Result<u32, XlsxError> {
    v.trim()
        .parse()
        .map_err(|_| malformed(format!("{what} is not a number: {v}")))
}

impl Handler for StylesHandler {
    const ROOT: Tag = Tag::StyleSheet;
    fn start(&mut self, stack: &[Tag], tag: Tag, e: &BytesStart<'_>) -> Result<(), XlsxError> {
        match (stack, tag) {
            ([Tag::StyleSheet, Tag::NumFmts], Tag::NumFmt) => {
                let (mut id, mut kind) = (None, Kind::Number);
                attributes(e, |k, v| {
                    match k {
                        "numFmtId" => id = Some(number_attr(&v, "numFmtId")?),
                        "formatCode" => kind = format_kind(&v),
                        _ => {}
                    }
                    Ok(())
                })?;
                let id = id.ok_or_else(|| malformed("a <numFmt> without an id"))?;
                bounded_push(&mut self.custom, (id, kind), "number formats")
            }
            ([Tag::StyleSheet, Tag::CellXfs], Tag::Xf) => {
                let mut id = 0;
                attributes(e, |k, v| {
                    if k == "numFmtId" {
                        id = number_attr(&v, "numFmtId")?;
                    }
                    Ok(())
                })?;
                bounded_push(&mut self.xfs, id, "cell formats")
            }
            _ => Ok(()),
        }
    }
}

impl StylesHandler {
    fn kinds(self) -> Vec<Kind> {
        let custom: HashMap<u32, Kind> = self.custom.into_iter().collect();
        self.xfs
            .into_iter()
            .map(|id| custom.get(&id).copied().unwrap_or_else(|| builtin_kind(id)))
            .collect()
    }
}

impl Finish for StylesHandler {
    type Output = StylesHandler;
    fn finish(self) -> Result<StylesHandler, XlsxError> {
        Ok(self)
    }
}

/// Decodes the `_xHHHH_` escapes OOXML writes for characters XML cannot hold (`_x000D_` is a
/// carriage return; `_x005F_` a literal underscore).
fn unescape_ooxml(s: &str) -> Cow<'_, str> {
    if !s.contains("_x") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The shared strings, end to end in one buffer: a few bytes of bookkeeping per string however
/// many there are.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)? as usize,
        };
        self.text.get(start..end)
    }
}

/// Whether text at `stack` is the text of a string item: `<t>` directly in `<si>`/`<is>` or in
/// one of their rich-text runs `<r>` (not the phonetic guide `<rPh>`).
fn in_string_text(stack: &[Tag], item: Tag) -> bool {
    matches!(stack, [.., i, Tag::T] if *i == item)
        || matches!(stack, [.., i, Tag::R, Tag::T] if *i == item)
}

#[derive(Default)]
struct StringsHandler {
    limits: Limits,
    strings: SharedStrings,
    current: String,
}

impl Default for Limits {
    /// Caps sized for the roster import (10,000 rows). A full roster of ten columns unpacks to a
    /// worksheet of 2.9 MiB and shared strings of 0.9 MiB as rust_xlsxwriter writes it (Excel's
    /// markup is a little wordier; inline strings put the text in the sheet), with about
    /// 100,000 cells and 30,000 distinct strings. These leave ten times that room while bounding
    /// the worst case: 64 MiB inflated, 16 MiB of shared text plus 4 bytes per string, 32 MiB
    /// of text handed out.
    fn default() -> Self {
        Limits {
            part_bytes: 32 * 1024 * 1024,
            total_bytes: 64 * 1024 * 1024,
            shared_strings: 500_000,
            shared_string_bytes: 16 * 1024 * 1024,
            // Empty cells included: formatting a block writes an element for every cell of it.
            cells: 2_000_000,
            text_bytes: 32 * 1024 * 1024,
        }
    }
}

fn push_text(into: &mut String, text: &str) -> Result<(), XlsxError> {
    if into.len() + text.len() > MAX_STRING_BYTES {
        return Err(XlsxError::TooMuchText);
    }
    into.push_str(text);
    Ok(())
}

impl Handler for StringsHandler {
    const ROOT: Tag = Tag::Sst;
    fn start(&mut self, stack: &[Tag], tag: Tag, _: &BytesStart<'_>) -> Result<(), XlsxError> {
        if stack == [Tag::Sst] && tag == Tag::Si {
            self.current.clear();
        }
        Ok(())
    }

    fn end(&mut self, stack: &[Tag], tag: Tag) -> Result<(), XlsxError> {
        if stack != [Tag::Sst] || tag != Tag::Si {
            return Ok(());
        }
        let s = unescape_ooxml(&self.current);
        let strings = &mut self.strings;
        if strings.ends.len() >= self.limits.shared_strings {
            return Err(XlsxError::TooManyStrings);
        }
        if strings.text.len() + s.len() > self.limits.shared_string_bytes {
            return Err(XlsxError::TooMuchText);
        }
        strings.text.push_str(&s);
        let end = u32::try_from(strings.text.len()).map_err(|_| XlsxError::TooMuchText)?;
        strings.ends.push(end);
        Ok(())
    }

    fn text(&mut self, stack: &[Tag], text: &str) -> Result<(), XlsxError> {
        if stack.len() >= 2 && stack[..2] == [Tag::Sst, Tag::Si] && in_string_text(stack, Tag::Si) {
            push_text(&mut self.current, text)?;
        }
        Ok(())
    }
}

impl Finish for StringsHandler {
    type Output = SharedStrings;
    fn finish(self) -> Result<SharedStrings, XlsxError> {
        Ok(self.strings)
    }
}

/// The cell being read: where it is, its type and its format's kind.
struct OpenCell {
    pos: Pos,
    t: CellType,
    kind: Kind,
    has_v: bool,
    has_is: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellType {
    Number,
    Shared,
    Str,
    Inline,
    Bool,
    Error,
    Date,
}

struct SheetHandler<'s, F, E> {
    strings: &'s SharedStrings,
    styles: &'s [Kind],
    date1904: bool,
    limits: Limits,
    on_cell: &'s mut F,
    cells: usize,
    text_bytes: usize,
    row: Option<u32>,
    next_row: u32,
    next_col: u32,
    cell: Option<OpenCell>,
    /// The text of the open cell's `<v>`.
    value: String,
    /// The text of the open cell's `<is>`.
    inline: String,
    stopped: Option<E>,
}

/// `A1` → row 0, column 0.
fn parse_ref(r: &str) -> Option<Pos> {
    let split = r.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = r.split_at(split);
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return None;
    }
    let col = letters.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row: u32 = digits.parse().ok()?;
    if !(1..=MAX_COL).contains(&col) || !(1..=MAX_ROW).contains(&row) {
        return None;
    }
    Some(Pos {
        row: row - 1,
        col: col - 1,
    })
}

/// An Excel serial number as a date and time (to the millisecond, as Excel rounds).
fn serial_datetime(serial: f64, date1904: bool) -> Option<NaiveDateTime> {
    if !serial.is_finite() || serial < 0.0 || serial > (MAX_SERIAL_DAYS + 1) as f64 {
        return None;
    }
    const DAY_MS: i64 = 86_400_000;
    let ms = (serial * DAY_MS as f64).round() as i64;
    let (days, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let date = if date1904 {
        NaiveDate::from_ymd_opt(1904, 1, 1)? + Duration::days(days)
    } else if days >= 61 {
        NaiveDate::from_ymd_opt(1899, 12, 30)? + Duration::days(days)
    } else if days == 60 {
        // Lotus 1-2-3 took 1900 for a leap year and Excel kept the day that never was.
        return None;
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 31)? + Duration::days(days)
    };
    if date > NaiveDate::from_ymd_opt(9999, 12, 31)? {
        return None;
    }
    date.and_hms_opt(0, 0, 0)
        .map(|d| d + Duration::milliseconds(in_day))
}

impl<F, E> SheetHandler<'_, F, E>
where
    F: FnMut(Pos, Value<'_>) -> Result<(), E>,
{
    fn emit(&mut self, cell: &OpenCell) -> Result<(), XlsxError> {
        let v = self.value.trim();
        let value = match cell.t {
            CellType::Inline if cell.has_is => {
                Value::Text(Cow::Owned(unescape_ooxml(&self.inline).into_owned()))
            }
            CellType::Inline | CellType::Str if cell.has_v => {
                Value::Text(Cow::Owned(std::mem::take(&mut self.value)))
            }
            _ if !cell.has_v || v.is_empty() => return Ok(()),
            // Both handled above, whenever they hold anything.
            CellType::Inline | CellType::Str => return Ok(()),
            CellType::Shared => {
                let i: usize = v
                    .parse()
                    .map_err(|_| malformed(format!("shared string index {v}")))?;
                let s = self
                    .strings
                    .get(i)
                    .ok_or_else(|| malformed(format!("no shared string {i}")))?;
                Value::Text(Cow::Borrowed(s))
            }
            CellType::Number => {
                let n: f64 = v
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| malformed(format!("{v} is not a number")))?;
                match cell.kind {
                    Kind::Number => Value::Number(n),
                    Kind::DateTime => Value::DateTime(serial_datetime(n, self.date1904)),
                    Kind::Duration => Value::Duration(n),
                }
            }
            CellType::Bool => Value::Bool(match v {
                "1" | "true" => true,
                "0" | "false" => false,
                other => return Err(malformed(format!("{other} is not a boolean"))),
            }),
            CellType::Error => Value::Error(Cow::Owned(v.to_string())),
            CellType::Date => Value::Iso(Cow::Owned(v.to_string())),
        };
        let len = match &value {
            Value::Text(s) | Value::Error(s) | Value::Iso(s) => s.len(),
            _ => 0,
        };
        self.text_bytes += len;
        if self.text_bytes > self.limits.text_bytes {
            return Err(XlsxError::TooMuchText);
        }
        if let Err(e) = (self.on_cell)(cell.pos, value) {
            self.stopped = Some(e);
            // Unwinds the walk; the caller reports `stopped`.
            return Err(malformed("stopped"));
        }
        Ok(())
    }
}

impl<F, E> Handler for SheetHandler<'_, F, E>
where
    F: FnMut(Pos, Value<'_>) -> Result<(), E>,
{
    const ROOT: Tag = Tag::Worksheet;

    fn start(&mut self, stack: &[Tag], tag: Tag, e: &BytesStart<'_>) -> Result<(), XlsxError> {
        match (stack, tag) {
            ([Tag::Worksheet, Tag::SheetData], Tag::Row) => {
                let mut row = None;
                attributes(e, |k, v| {
                    if k == "r" {
                        row = Some(number_attr(&v, "a row number")?);
                    }
                    Ok(())
                })?;
                let row = match row {
                    Some(r) if (1..=MAX_ROW).contains(&r) => r - 1,
                    Some(r) => return Err(malformed(format!("row number {r}"))),
                    None if self.next_row < MAX_ROW => self.next_row,
                    None => return Err(malformed("more rows than a worksheet has")),
                };
                self.row = Some(row);
                self.next_row = row + 1;
                self.next_col = 0;
            }
            ([Tag::Worksheet, Tag::SheetData, Tag::Row], Tag::C) => {
                self.cells += 1;
                if self.cells > self.limits.cells {
                    return Err(XlsxError::TooManyCells);
                }
                let (mut r, mut t, mut s) = (None, CellType::Number, 0u32);
                attributes(e, |k, v| {
                    match k {
                        "r" => {
                            r = Some(
                                parse_ref(&v)
                                    .ok_or_else(|| malformed(format!("cell reference {v}")))?,
                            )
                        }
                        "t" => {
                            t = match v.as_ref() {
                                "n" => CellType::Number,
                                "s" => CellType::Shared,
                                "str" => CellType::Str,
                                "inlineStr" => CellType::Inline,
                                "b" => CellType::Bool,
                                "e" => CellType::Error,
                                "d" => CellType::Date,
                                other => return Err(malformed(format!("cell type {other}"))),
                            }
                        }
                        "s" => s = number_attr(&v, "a cell format")?,
                        _ => {}
                    }
                    Ok(())
                })?;
                let row = self.row.ok_or_else(|| malformed("a cell outside a row"))?;
                let pos = match r {
                    Some(p) if p.row == row => p,
                    Some(p) => {
                        return Err(malformed(format!(
                            "cell in row {} listed in row {}",
                            p.row + 1,
                            row + 1
                        )))
                    }
                    None if self.next_col < MAX_COL => Pos {
                        row,
                        col: self.next_col,
                    },
                    None => return Err(malformed("more cells than a row has")),
                };
                self.next_col = pos.col + 1;
                let kind = match usize::try_from(s).ok().and_then(|s| self.styles.get(s)) {
                    Some(k) => *k,
                    None if s == 0 => Kind::Number,
                    None => return Err(malformed(format!("no cell format {s}"))),
                };
                self.value.clear();
                self.inline.clear();
                self.cell = Some(OpenCell {
                    pos,
                    t,
                    kind,
                    has_v: false,
                    has_is: false,
                });
            }
            ([Tag::Worksheet, Tag::SheetData, Tag::Row, Tag::C], Tag::V | Tag::Is) => {
                if let Some(c) = &mut self.cell {
                    c.has_v |= tag == Tag::V;
                    c.has_is |= tag == Tag::Is;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, stack: &[Tag], tag: Tag) -> Result<(), XlsxError> {
        if stack == [Tag::Worksheet, Tag::SheetData, Tag::Row] && tag == Tag::C {
            if let Some(cell) = self.cell.take() {
                self.emit(&cell)?;
            }
        }
        Ok(())
    }

    fn text(&mut self, stack: &[Tag], text: &str) -> Result<(), XlsxError> {
        let Some(cell) = &self.cell else {
            return Ok(());
        };
        if stack == [Tag::Worksheet, Tag::SheetData, Tag::Row, Tag::C, Tag::V] {
            push_text(&mut self.value, text)?;
        } else if cell.t == CellType::Inline
            && matches!(
                stack,
                [Tag::Worksheet, Tag::SheetData, Tag::Row, Tag::C, ..]
            )
            && in_string_text(stack, Tag::Is)
        {
            push_text(&mut self.inline, text)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    use zip::write::SimpleFileOptions;

    use super::*;

    /// Every value of the first worksheet, with its position, as owned values.
    fn cells_with(bytes: &[u8], limits: &Limits) -> Result<Vec<(Pos, Value<'static>)>, XlsxError> {
        let mut out = Vec::new();
        let read = read_first_worksheet(bytes, limits, |pos, v| {
            let owned = match v {
                Value::Text(s) => Value::Text(Cow::Owned(s.into_owned())),
                Value::Error(s) => Value::Error(Cow::Owned(s.into_owned())),
                Value::Iso(s) => Value::Iso(Cow::Owned(s.into_owned())),
                Value::Number(n) => Value::Number(n),
                Value::DateTime(d) => Value::DateTime(d),
                Value::Duration(d) => Value::Duration(d),
                Value::Bool(b) => Value::Bool(b),
            };
            out.push((pos, owned));
            Ok::<(), ()>(())
        });
        match read {
            Ok(()) => Ok(out),
            Err(ReadError::Xlsx(e)) => Err(e),
            Err(ReadError::Stopped(())) => unreachable!(),
        }
    }

    fn cells(bytes: &[u8]) -> Vec<(Pos, Value<'static>)> {
        cells_with(bytes, &Limits::default()).unwrap()
    }

    fn at(row: u32, col: u32) -> Pos {
        Pos { row, col }
    }

    fn text(s: &str) -> Value<'static> {
        Value::Text(Cow::Owned(s.to_string()))
    }

    fn datetime(y: i32, m: u32, d: u32, h: u32, min: u32) -> Value<'static> {
        Value::DateTime(NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 0)))
    }

    /// A workbook of one worksheet holding "x" in A1, as rust_xlsxwriter writes it.
    fn base() -> Vec<u8> {
        let mut wb = Workbook::new();
        wb.add_worksheet().write_string(0, 0, "x").unwrap();
        wb.save_to_buffer().unwrap()
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    /// `bytes` with the parts named in `replace` swapped for new contents (or added).
    fn repack(bytes: &[u8], replace: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..zip.len() {
            let file = zip.by_index(i).unwrap();
            if !replace.iter().any(|(n, _)| *n == file.name()) {
                out.raw_copy_file(file).unwrap();
            }
        }
        for (name, content) in replace {
            out.start_file(*name, SimpleFileOptions::default()).unwrap();
            out.write_all(content).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    const SHEET_NS: &str = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;

    /// The base workbook with `sheet_data` as the body of its worksheet's `<sheetData>`.
    fn with_sheet_data(sheet_data: &str) -> Vec<u8> {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet {SHEET_NS}><sheetData>{sheet_data}</sheetData></worksheet>"#
        );
        repack(&base(), &[("xl/worksheets/sheet1.xml", xml.as_bytes())])
    }

    #[test]
    fn values_written_by_rust_xlsxwriter_read_back() {
        let mut wb = Workbook::new();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let stamp = Format::new().set_num_format("yyyy\\-mm\\-dd hh:mm");
        let cn_date = Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
        let elapsed = Format::new().set_num_format("[h]:mm");
        let money = Format::new().set_num_format("#,##0.00 \"元\"");
        let red = Format::new().set_font_color("#FF0000");
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "  张三 ").unwrap();
        ws.write_number(0, 1, 13_800_000_001.0).unwrap();
        ws.write_number(0, 2, 2.5).unwrap();
        ws.write_number_with_format(0, 3, 1234.5, &money).unwrap();
        let d = ExcelDateTime::from_ymd(1949, 12, 31).unwrap();
        ws.write_datetime_with_format(1, 0, &d, &date).unwrap();
        let t = ExcelDateTime::from_ymd(2026, 3, 1)
            .unwrap()
            .and_hms(8, 30, 0)
            .unwrap();
        ws.write_datetime_with_format(1, 1, &t, &stamp).unwrap();
        ws.write_datetime_with_format(1, 2, &d, &cn_date).unwrap();
        ws.write_number_with_format(1, 3, 1.5, &elapsed).unwrap();
        ws.write_rich_string(2, 0, &[(&Format::default(), "党员"), (&red, "、志愿者")])
            .unwrap();
        ws.write_boolean(2, 1, true).unwrap();
        ws.write_boolean(2, 2, false).unwrap();
        ws.write_formula(3, 0, Formula::new("=\"a\"&\"b\"").set_result("ab"))
            .unwrap();
        ws.write_formula(3, 1, Formula::new("=1/0").set_result("#DIV/0!"))
            .unwrap();
        ws.write_formula(3, 2, Formula::new("=1=1").set_result("TRUE"))
            .unwrap();
        ws.write_formula(3, 3, Formula::new("=1+1").set_result("2"))
            .unwrap();
        // Formatting alone is no value.
        ws.write_blank(4, 0, &date).unwrap();
        ws.write_string(9, 27, "AB10").unwrap();
        let bytes = wb.save_to_buffer().unwrap();

        assert_eq!(
            cells(&bytes),
            vec![
                (at(0, 0), text("  张三 ")),
                (at(0, 1), Value::Number(13_800_000_001.0)),
                (at(0, 2), Value::Number(2.5)),
                (at(0, 3), Value::Number(1234.5)),
                (at(1, 0), datetime(1949, 12, 31, 0, 0)),
                (at(1, 1), datetime(2026, 3, 1, 8, 30)),
                (at(1, 2), datetime(1949, 12, 31, 0, 0)),
                (at(1, 3), Value::Duration(1.5)),
                (at(2, 0), text("党员、志愿者")),
                (at(2, 1), Value::Bool(true)),
                (at(2, 2), Value::Bool(false)),
                (at(3, 0), text("ab")),
                (at(3, 1), Value::Error(Cow::Borrowed("#DIV/0!"))),
                (at(3, 2), Value::Bool(true)),
                (at(3, 3), Value::Number(2.0)),
                (at(9, 27), text("AB10")),
            ]
        );
    }

    #[test]
    fn inline_strings_iso_dates_implicit_positions_and_escapes() {
        let bytes = with_sheet_data(concat!(
            r#"<row r="1"><c t="inlineStr"><is><t xml:space="preserve">甲 </t></is></c>"#,
            r#"<c t="inlineStr"><is><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r>"#,
            r#"<rPh sb="0" eb="1"><t>ふ</t></rPh></is></c>"#,
            r#"<c r="E1" t="d"><v>2024-02-29T00:00:00</v></c><c><v>7</v></c></row>"#,
            r#"<row><c t="s"><v>0</v></c><c t="str"><v>a&amp;b&#x4E2D;&lt;</v></c>"#,
            r#"<c t="inlineStr"><is><t>line_x000D_break_x005F_x000D_</t></is></c>"#,
            r#"<c><f>SUM(A1)</f></c><c t="e"><v>#N/A</v></c><c t="n"><v> </v></c></row>"#,
            r#"<row r="5"><c r="B5" t="b"><v>0</v></c></row>"#,
        ));
        assert_eq!(
            cells(&bytes),
            vec![
                (at(0, 0), text("甲 ")),
                (at(0, 1), text("富文本")),
                (at(0, 4), Value::Iso(Cow::Borrowed("2024-02-29T00:00:00"))),
                (at(0, 5), Value::Number(7.0)),
                (at(1, 0), text("x")),
                (at(1, 1), text("a&b中<")),
                (at(1, 2), text("line\rbreak_x000D_")),
                (at(1, 4), Value::Error(Cow::Borrowed("#N/A"))),
                (at(4, 1), Value::Bool(false)),
            ]
        );
    }

    #[test]
    fn the_first_worksheet_in_workbook_order_is_read() {
        let mut wb = Workbook::new();
        wb.add_worksheet().write_string(0, 0, "first").unwrap();
        wb.add_worksheet().write_string(0, 0, "second").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        assert_eq!(cells(&bytes), vec![(at(0, 0), text("first"))]);

        // Declared a chart sheet, the first is skipped.
        let rels = part(&bytes, "xl/_rels/workbook.xml.rels").replacen(
            "relationships/worksheet\" Target=\"worksheets/sheet1.xml\"",
            "relationships/chartsheet\" Target=\"worksheets/sheet1.xml\"",
            1,
        );
        assert!(rels.contains("chartsheet"), "{rels}");
        let skipped = repack(&bytes, &[("xl/_rels/workbook.xml.rels", rels.as_bytes())]);
        assert_eq!(cells(&skipped), vec![(at(0, 0), text("second"))]);

        // With no worksheet at all, there is nothing to read.
        let none = rels.replace("relationships/worksheet", "relationships/dialogsheet");
        let none = repack(&bytes, &[("xl/_rels/workbook.xml.rels", none.as_bytes())]);
        assert_eq!(
            cells_with(&none, &Limits::default()),
            Err(XlsxError::NoWorksheet)
        );
    }

    #[test]
    fn dates_count_from_1904_when_the_workbook_says_so() {
        let mut wb = Workbook::new();
        let date = Format::new().set_num_format("d/m/yy");
        wb.add_worksheet()
            .write_number_with_format(0, 0, 0.0, &date)
            .unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        assert_eq!(
            cells(&bytes),
            vec![(at(0, 0), datetime(1899, 12, 31, 0, 0))]
        );
        let book =
            part(&bytes, "xl/workbook.xml").replace("<workbookPr", "<workbookPr date1904=\"1\"");
        let bytes = repack(&bytes, &[("xl/workbook.xml", book.as_bytes())]);
        assert_eq!(cells(&bytes), vec![(at(0, 0), datetime(1904, 1, 1, 0, 0))]);
    }

    #[test]
    fn serial_numbers_become_calendar_dates() {
        let day = |s: f64| serial_datetime(s, false).map(|d| d.date().to_string());
        assert_eq!(day(1.0).as_deref(), Some("1900-01-01"));
        assert_eq!(day(59.0).as_deref(), Some("1900-02-28"));
        assert_eq!(day(60.0), None, "1900-02-29 never was");
        assert_eq!(day(61.0).as_deref(), Some("1900-03-01"));
        assert_eq!(day(18_264.0).as_deref(), Some("1950-01-01"));
        // 23:59:59.9996 is rounded to the millisecond, as Excel shows it.
        assert_eq!(day(18_264.999_999_995).as_deref(), Some("1950-01-02"));
        assert_eq!(day(2_958_465.5).as_deref(), Some("9999-12-31"));
        assert_eq!(day(2_958_466.0), None);
        assert_eq!(day(-1.0), None);
        assert_eq!(day(f64::NAN), None);
    }

    #[test]
    fn number_formats_are_dates_times_durations_or_numbers() {
        for code in [
            "yyyy-mm-dd",
            "DD/MM/YY",
            "yyyy\"年\"m\"月\"d\"日\"",
            "[$-804]yyyy/m/d",
            "[Red]d-mmm",
            "H:MM:SS;@",
            "m\"M\"d\"D\";@",
            "ha/p\\\\m",
        ] {
            assert_eq!(format_kind(code), Kind::DateTime, "{code}");
        }
        for code in [
            "[h]:mm:ss",
            "[mm]:ss",
            "[s].000",
            "[Blue]\\+[h]:mm;[Red]\\-[h]:mm",
        ] {
            assert_eq!(format_kind(code), Kind::Duration, "{code}");
        }
        for code in [
            "General",
            "0.00",
            "#,##0 \"元\"",
            "\"Y: \"0.00\"m\";\"Y: \"-0.00\"m\"",
            "#,##0\\ [$\\u20bd-46D]",
            "\\Y000000",
            "0_ ;[Red]\\-0\\ ",
            "[>=100][Magenta]General",
            "@",
        ] {
            assert_eq!(format_kind(code), Kind::Number, "{code}");
        }
        assert_eq!(builtin_kind(14), Kind::DateTime);
        assert_eq!(builtin_kind(31), Kind::DateTime);
        assert_eq!(builtin_kind(57), Kind::DateTime);
        assert_eq!(builtin_kind(46), Kind::Duration);
        assert_eq!(builtin_kind(49), Kind::Number);
        assert_eq!(builtin_kind(2), Kind::Number);
    }

    #[test]
    fn cell_references_are_checked() {
        assert_eq!(parse_ref("A1"), Some(at(0, 0)));
        assert_eq!(parse_ref("XFD1048576"), Some(at(1_048_575, 16_383)));
        assert_eq!(parse_ref("XFE1"), None);
        assert_eq!(parse_ref("A1048577"), None);
        assert_eq!(parse_ref("A0"), None);
        assert_eq!(parse_ref("1"), None);
        assert_eq!(parse_ref("AAAA1"), None);
        assert_eq!(parse_ref("A1B"), None);
    }

    fn small(f: impl FnOnce(&mut Limits)) -> Limits {
        let mut l = Limits::default();
        f(&mut l);
        l
    }

    #[test]
    fn inflated_bytes_are_counted_not_taken_from_the_headers() {
        // A sheet larger than any other part, so that it alone meets the cap.
        let bytes = with_sheet_data(&format!("<row>{}</row>", "<c><v>1</v></c>".repeat(2000)));
        let sheet = part(&bytes, "xl/worksheets/sheet1.xml").len() as u64;
        let per_part = small(|l| l.part_bytes = sheet - 1);
        assert_eq!(cells_with(&bytes, &per_part), Err(XlsxError::TooLarge));
        assert!(cells_with(&bytes, &small(|l| l.part_bytes = sheet)).is_ok());
        let total = small(|l| l.total_bytes = sheet);
        assert_eq!(cells_with(&bytes, &total), Err(XlsxError::TooLarge));
    }

    #[test]
    fn shared_strings_are_capped_by_count_and_bytes_whatever_they_declare() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for i in 0..100u32 {
            ws.write_string(i, 0, format!("居民{i}")).unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();
        assert_eq!(cells(&bytes).len(), 100);
        let lying = part(&bytes, "xl/sharedStrings.xml").replace(
            "count=\"100\" uniqueCount=\"100\"",
            "count=\"2000000000\" uniqueCount=\"2000000000\"",
        );
        assert!(lying.contains("2000000000"));
        let lying = repack(&bytes, &[("xl/sharedStrings.xml", lying.as_bytes())]);
        assert_eq!(cells(&lying).len(), 100);
        let few = small(|l| l.shared_strings = 99);
        assert_eq!(cells_with(&bytes, &few), Err(XlsxError::TooManyStrings));
        let short = small(|l| l.shared_string_bytes = 500);
        assert_eq!(cells_with(&bytes, &short), Err(XlsxError::TooMuchText));
    }

    #[test]
    fn a_long_string_used_by_many_cells_is_not_copied_past_the_text_cap() {
        let many = "<c t=\"s\"><v>0</v></c>".repeat(1000);
        let long = "长".repeat(10_000);
        let sst = format!(
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>{long}</t></si></sst>"#
        );
        let xml =
            format!("<worksheet {SHEET_NS}><sheetData><row>{many}</row></sheetData></worksheet>");
        let bytes = repack(
            &base(),
            &[
                ("xl/worksheets/sheet1.xml", xml.as_bytes()),
                ("xl/sharedStrings.xml", sst.as_bytes()),
            ],
        );
        assert_eq!(
            cells_with(&bytes, &Limits::default()).map(|c| c.len()),
            Ok(1000)
        );
        let capped = small(|l| l.text_bytes = 10 * long.len());
        assert_eq!(cells_with(&bytes, &capped), Err(XlsxError::TooMuchText));
        // One cell longer than Excel allows is not a spreadsheet's.
        let huge = "a".repeat(MAX_STRING_BYTES + 1);
        let bytes = with_sheet_data(&format!(
            r#"<row><c t="inlineStr"><is><t>{huge}</t></is></c></row>"#
        ));
        assert_eq!(
            cells_with(&bytes, &Limits::default()),
            Err(XlsxError::TooMuchText)
        );
    }

    #[test]
    fn cells_are_counted_empty_ones_included() {
        let bytes = with_sheet_data(&format!("<row>{}</row>", "<c s=\"0\"/>".repeat(1000)));
        assert_eq!(
            cells_with(&bytes, &small(|l| l.cells = 1000)).map(|c| c.len()),
            Ok(0)
        );
        assert_eq!(
            cells_with(&bytes, &small(|l| l.cells = 999)),
            Err(XlsxError::TooManyCells)
        );
    }

    fn is_malformed(bytes: &[u8]) -> bool {
        matches!(
            cells_with(bytes, &Limits::default()),
            Err(XlsxError::Malformed(_))
        )
    }

    #[test]
    fn malformed_parts_are_refused() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        let attrs: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"1\""))
            .collect();
        for data in [
            deep.as_str(),
            &format!("<row><c{attrs}><v>1</v></c></row>"),
            "<row><c t=\"s\"><v>5</v></c></row>",
            "<row><c t=\"s\"><v>x</v></c></row>",
            "<row><c><v>NaN</v></c></row>",
            "<row><c><v>1e999</v></c></row>",
            "<row><c t=\"b\"><v>2</v></c></row>",
            "<row><c t=\"q\"><v>1</v></c></row>",
            "<row><c s=\"99\"><v>1</v></c></row>",
            "<row r=\"2\"><c r=\"A3\"><v>1</v></c></row>",
            "<row r=\"0\"/>",
            "<row><c r=\"A1x\"><v>1</v></c></row>",
            "<row><c><v>&bogus;</v></c></row>",
            "<row><c><v>1</v></row>",
        ] {
            assert!(is_malformed(&with_sheet_data(data)), "{data}");
        }
        let doctype = format!(
            "<!DOCTYPE worksheet [<!ENTITY a \"b\">]><worksheet {SHEET_NS}><sheetData/></worksheet>"
        );
        let bytes = repack(&base(), &[("xl/worksheets/sheet1.xml", doctype.as_bytes())]);
        assert!(is_malformed(&bytes));
        let two_roots = format!("<worksheet {SHEET_NS}/><worksheet {SHEET_NS}/>");
        let bytes = repack(
            &base(),
            &[("xl/worksheets/sheet1.xml", two_roots.as_bytes())],
        );
        assert!(is_malformed(&bytes));
        let wrong_root = "<sst xmlns=\"x\"/>";
        let bytes = repack(
            &base(),
            &[("xl/worksheets/sheet1.xml", wrong_root.as_bytes())],
        );
        assert!(is_malformed(&bytes));
        assert!(is_malformed(b"PK\x03\x04 not a zip"));
    }

    #[test]
    fn a_zip_that_is_not_a_spreadsheet_is_refused() {
        let bytes = base();
        let types = part(&bytes, "[Content_Types].xml").replace(
            "spreadsheetml.sheet.main+xml",
            "wordprocessingml.document.main+xml",
        );
        let docx = repack(&bytes, &[("[Content_Types].xml", types.as_bytes())]);
        assert!(is_malformed(&docx));
        // A relationship out of the package.
        let rels = part(&bytes, "_rels/.rels")
            .replace("Target=\"xl/workbook.xml\"", "Target=\"../../etc/passwd\"");
        let escaping = repack(&bytes, &[("_rels/.rels", rels.as_bytes())]);
        assert!(is_malformed(&escaping));
        assert_eq!(
            resolve("xl", "worksheets/sheet1.xml").unwrap(),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve("xl", "/xl/worksheets/../sharedStrings.xml").unwrap(),
            "xl/sharedStrings.xml"
        );
        assert_eq!(
            resolve("xl/worksheets", "../styles.xml").unwrap(),
            "xl/styles.xml"
        );
    }
}
