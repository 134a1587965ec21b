//! Roster import (`POST /residents/import`, .xlsx or .csv) and export (`GET /residents/export`,
//! .xlsx, masked unless an audited unmasked export is asked for).

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult};
use crate::platform::http::extract::Query;
use crate::platform::state::AppState;
use crate::residents::service::io::{self as svc, ExportFilter, MAX_FILE_BYTES};
use crate::residents::service::roster_files;

pub use crate::platform::http::XLSX_CONTENT_TYPE;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportResidentsQuery {
    /// The compound whose buildings the file's 楼栋 column names.
    pub compound_id: Uuid,
    /// Check the file and count what it would create and update, writing nothing (预览).
    /// Default false.
    pub dry_run: Option<bool>,
}

/// The upload: one part named `file`.
#[derive(ToSchema)]
pub struct ImportResidentsForm {
    /// The filled-in template, .xlsx or .csv (UTF-8 or GBK), at most 5 MiB and 10,000 data rows. Header
    /// row (any order): 姓名, 性别 (男/女), 出生日期 (YYYY-MM-DD), 手机号, 身份证号, 楼栋, 单元,
    /// 房号, 与户主关系, 标签 (separated by 、 , ， ; or ；). 姓名, 楼栋 and 房号 are required.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResidentsResponse {
    /// Residents added to the roster.
    pub created: u64,
    /// Residents already on the roster whose data was updated: `matched_by_id_number` +
    /// `matched_in_household` (a match the file leaves as it was counts too, and is not
    /// rewritten: its `updated_at` stays).
    pub updated: u64,
    /// Of `updated`: matched by ID number (within the compound's community).
    pub matched_by_id_number: u64,
    /// Of `updated`: rows matched within their household by name, or by phone when the name
    /// differs or several members share it (rows without an ID number; and rows with one, by
    /// name, to a member who has none yet).
    pub matched_in_household: u64,
    /// Households (building + 单元 + 房号) that did not exist and were created.
    pub households_created: u64,
    /// A preview (`dry_run=true`): the counts are what importing would do; nothing was written.
    pub dry_run: bool,
}

impl ImportResidentsResponse {
    fn of(s: svc::ImportSummary, dry_run: bool) -> Self {
        Self {
            created: s.created,
            updated: s.updated,
            matched_by_id_number: s.matched_by_id_number,
            matched_in_household: s.matched_in_household,
            households_created: s.households_created,
            dry_run,
        }
    }
}

fn blocking_failed(e: actix_web::error::BlockingError) -> AppError {
    AppError::internal(anyhow::anyhow!("spreadsheet work was cancelled: {e}"))
}

/// Import residents into a compound from the .xlsx or .csv template (all rows or none).
///
/// Every row is checked first; one bad cell anywhere and nothing is imported. Rows are matched
/// to the roster by ID number: a match is updated in place (name, gender, birth date, phone,
/// relation, tags and household; columns the file does not have are left as they are), anyone
/// else is added. A row without an ID number is matched within its household (楼栋 + 单元 +
/// 房号) by name, or by phone when the name differs or several members share it; such a match
/// keeps the resident's ID number. Residents a row cannot tell apart are a row error
/// (`ambiguous_match`), never a guess, so importing the same file twice adds nobody.
/// Households that do not exist yet are created. The whole file is written in one transaction.
/// With `dry_run=true` the file is checked and its counts are answered, and nothing is written.
///
/// A masked export fed back is refused: a masked phone or ID number cell is a row error
/// (`masked_value`), and a file whose every number is masked is one `file` error with that code.
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ImportResidentsQuery),
    request_body(content = ImportResidentsForm, content_type = "multipart/form-data",
        description = "One part named `file`: the filled-in template (.xlsx, or .csv in UTF-8 or GBK)"),
    responses(
        (status = 200, body = ImportResidentsResponse),
        (status = 400, description = "The file is not a spreadsheet, has unknown or missing \
            columns or too many rows, or has bad rows: then `errors` lists every bad cell as \
            `rows[<row number>].<column header>` and nothing was imported"),
        (status = 403, description = "The caller's role may not change residents in this compound"),
        (status = 404, description = "The compound is not found or outside the caller's scope"),
        (status = 409, description = "The roster changed while the file was being imported; import it again"),
        (status = 413, description = "The file is larger than 5 MiB"),
        (status = 415, description = "The body is not multipart/form-data"),
        (status = 503, description = "Two imports are already running on this server, or the \
            database or cache is unavailable; retry after `Retry-After` seconds"),
    ))]
#[post("/residents/import")]
pub async fn import_residents(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ImportResidentsQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let compound = roster_files::authorize_import(&state.db, &user, q.compound_id).await?;
    let bytes =
        crate::platform::http::upload::read_file_part(&req, payload, MAX_FILE_BYTES, "spreadsheet")
            .await?;
    let size = bytes.len();
    // Taken once the upload is in (a slow client holds no slot), held while the file is parsed
    // and written. It travels into the blocking task and back, so that a client who hangs up
    // mid-parse does not free the slot while the parse still runs.
    let slot = state.imports.try_take()?;
    let (table, slot) = web::block(move || (svc::read_table(&bytes), slot))
        .await
        .map_err(blocking_failed)?;
    let table = table?;
    let dry_run = q.dry_run == Some(true);
    let (summary, rows) = roster_files::import(
        &state.db,
        &state.pii,
        &user,
        compound,
        table,
        dry_run,
        state.clock.now(),
    )
    .await?;
    drop(slot);
    if dry_run {
        return Ok(HttpResponse::Ok().json(ImportResidentsResponse::of(summary, true)));
    }
    tracing::info!(
        compound_id = %q.compound_id,
        by = %user.id,
        bytes = size,
        rows,
        created = summary.created,
        updated = summary.updated,
        households_created = summary.households_created,
        "residents imported"
    );
    Ok(HttpResponse::Ok().json(ImportResidentsResponse::of(summary, false)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportResidentsQuery {
    pub community_id: Option<Uuid>,
    pub compound_id: Option<Uuid>,
    pub building_id: Option<Uuid>,
    /// Full phone and ID numbers instead of masked ones: only for roles that may reveal them,
    /// for every exported resident, with a `purpose`. Default false.
    pub unmasked: Option<bool>,
    /// Why the export is needed, 2 to 500 characters; required when `unmasked=true`. Recorded in
    /// the audit log.
    #[param(max_length = 500, format = "purpose-or-blank")]
    pub purpose: Option<String>,
}

/// The export file: an .xlsx workbook.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct XlsxFile(Vec<u8>);

/// Export residents as .xlsx in the import template's columns (masked unless `unmasked=true`).
///
/// Only residents the caller may read are exported, sorted by building, unit and room. Every
/// export, masked or not, is written to the audit log (`export` or `export_unmasked`).
#[utoipa::path(tag = "residents", security(("bearer" = [])), params(ExportResidentsQuery),
    responses(
        (status = 200, description = "The workbook (`Content-Disposition: attachment; filename=\"residents.xlsx\"`)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = XlsxFile),
        (status = 400, description = "Invalid query parameter, a missing purpose for an unmasked \
            export, or more than 100,000 residents selected (export one community, compound or building at a time)"),
        (status = 403, description = "The caller's role may not read residents, or (unmasked) may \
            not reveal the personal data of every selected resident"),
    ))]
#[get("/residents/export")]
pub async fn export_residents(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ExportResidentsQuery>,
) -> AppResult<HttpResponse> {
    let unmasked = q.unmasked.unwrap_or(false);
    let filter = ExportFilter {
        community_id: q.community_id,
        compound_id: q.compound_id,
        building_id: q.building_id,
    };
    let mut export =
        roster_files::prepare_export(&state.db, &user, filter, unmasked, q.purpose.as_deref())
            .await?;
    // Read a batch of residents, write it into the worksheet on a blocking thread, repeat: the
    // residents and the worksheet are never held whole.
    let mut sheet = web::block(svc::ExportSheet::new)
        .await
        .map_err(blocking_failed)??;
    while let Some(rows) = export.next_rows(&state.db, &state.pii).await? {
        let (back, written) = web::block(move || {
            let written = sheet.append(&rows);
            (sheet, written)
        })
        .await
        .map_err(blocking_failed)?;
        written?;
        sheet = back;
    }
    let count = sheet.rows();
    let bytes = web::block(move || sheet.finish())
        .await
        .map_err(blocking_failed)??;
    let event =
        roster_files::record_export(&state.db, &user, &export, count, state.clock.now()).await?;
    tracing::info!(by = %user.id, rows = count, unmasked, audit_event = %event, "residents exported");
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"residents.xlsx\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
