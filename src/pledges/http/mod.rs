//! Pledges (民筹): a proposal's list and new pledges, fulfilling and cancelling one, and the
//! caller's own. The rules live in `pledges::service`, the read models in `pledges::query`.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::http::extract::{Json, JsonOrEmpty, Query};
use crate::platform::http::{clean_line, clean_optional, etag, if_match, Page, PageParams};
use crate::platform::signed_urls::Signer;
use crate::platform::state::AppState;
use crate::pledges::model::{self, Kind, PledgerKind, PublicDisplay, Status};
use crate::pledges::query::{self, PledgePage, PledgeResponse};
use crate::pledges::service::fulfil::{self, Received};
use crate::pledges::service::{self as svc, NewPledge, OnBehalf};

/// Registers this domain's handlers.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(list_proposal_pledges)
        .service(create_pledge)
        .service(list_my_pledges)
        .service(get_pledge)
        .service(fulfil_pledge)
        .service(cancel_pledge);
}

fn with_etag(mut res: actix_web::HttpResponseBuilder, r: &PledgeResponse) -> HttpResponse {
    res.insert_header((header::ETAG, etag(r.version))).json(r)
}

/// Who pledges when staff record it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnBehalfOf {
    pub pledger_kind: PledgerKind,
    /// 1 to 50 characters (a person is shown masked or anonymous, never by name).
    #[schema(max_length = 50, format = "text-line")]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePledgeRequest {
    pub kind: Kind,
    /// How the public list shows the pledger: `name` (organisations by name; a person is
    /// masked all the same), `masked` (王*), `anonymous` (匿名居民). Default `masked`.
    pub public_display: Option<PublicDisplay>,
    /// Money: 1 to 10,000,000,000 fen (required for `money`).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: Option<i64>,
    /// Labour: 1 to 43,200 minutes (required for `labour`).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 43200)]
    pub minutes: Option<i64>,
    /// Labour: the skill offered, at most 20 characters.
    #[schema(max_length = 20, format = "text-line")]
    pub skill: Option<String>,
    /// Materials: the item, 1 to 40 characters (required for `material`).
    #[schema(max_length = 40, format = "text-line")]
    pub item: Option<String>,
    /// Materials: 1 to 100,000 (required for `material`).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: Option<i64>,
    /// Materials: the unit, at most 10 characters.
    #[schema(max_length = 10, format = "text-line")]
    pub unit: Option<String>,
    /// Materials: the estimated value in fen (counts in the in-kind total once received).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 0, maximum = 10000000000_i64)]
    pub est_value_fen: Option<i64>,
    /// At most 200 characters.
    #[schema(max_length = 200, format = "text")]
    pub note: Option<String>,
    /// Staff and leaders recording a pledge for someone else; residents leave it out.
    pub on_behalf_of: Option<OnBehalfOf>,
}

fn range(field: &str, v: Option<i64>, min: i64, max: i64) -> AppResult<Option<i64>> {
    match v {
        Some(x) if !(min..=max).contains(&x) => Err(AppError::invalid(
            field,
            FieldCode::OutOfRange,
            crate::text!("须在 {} 到 {} 之间", "must be {} to {}", min, max),
        )),
        v => Ok(v),
    }
}

fn need(field: &str, present: bool, errors: &mut Vec<FieldError>) {
    if !present {
        errors.push(FieldError::required(field));
    }
}

fn new_pledge(b: CreatePledgeRequest) -> AppResult<NewPledge> {
    use crate::funds::model::AMOUNT_MAX;
    let amount = range("amount_fen", b.amount_fen, 1, AMOUNT_MAX)?;
    let minutes = range("minutes", b.minutes, 1, model::MINUTES_MAX)?;
    let quantity = range("quantity", b.quantity, 1, model::QUANTITY_MAX)?;
    let est = range("est_value_fen", b.est_value_fen, 0, AMOUNT_MAX)?;
    let item = b
        .item
        .as_deref()
        .map(|v| clean_line("item", v, model::ITEM_MAX))
        .transpose()?;
    let mut errors = Vec::new();
    match b.kind {
        Kind::Money => need("amount_fen", amount.is_some(), &mut errors),
        Kind::Labour => need("minutes", minutes.is_some(), &mut errors),
        Kind::Material => {
            need("item", item.is_some(), &mut errors);
            need("quantity", quantity.is_some(), &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let on_behalf = b
        .on_behalf_of
        .map(|o| -> AppResult<OnBehalf> {
            Ok(OnBehalf {
                pledger_kind: o.pledger_kind,
                name: clean_line("on_behalf_of.name", &o.name, model::NAME_MAX)?,
            })
        })
        .transpose()?;
    let money = b.kind == Kind::Money;
    let labour = b.kind == Kind::Labour;
    let material = b.kind == Kind::Material;
    Ok(NewPledge {
        kind: b.kind,
        public_display: b.public_display.unwrap_or(PublicDisplay::Masked),
        amount_fen: amount.filter(|_| money),
        minutes: minutes.filter(|_| labour).map(|m| m as i32),
        skill: clean_optional("skill", &b.skill, model::SKILL_MAX)?.filter(|_| labour),
        item: item.filter(|_| material),
        quantity: quantity.filter(|_| material).map(|q| q as i32),
        unit: clean_optional("unit", &b.unit, model::UNIT_MAX)?.filter(|_| material),
        est_value_fen: est.filter(|_| material),
        note: clean_optional("note", &b.note, model::NOTE_MAX)?,
        on_behalf,
    })
}

/// Pledges money, labour or materials to a proposal while it raises or is implemented (409
/// `wrong_step` otherwise). Residents pledge as themselves; staff and leaders record pledges on
/// someone's behalf (`on_behalf_of`).
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CreatePledgeRequest,
    responses(
        (status = 201, body = PledgeResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Invalid fields, or what the kind needs is missing"),
        (status = 403, description = "The caller may read the proposal but not pledge"),
        (status = 404, description = "The proposal is not found or not the caller's to see"),
        (status = 409, description = "The proposal is not raising or implementing (`wrong_step`)"),
    ))]
#[post("/proposals/{id}/pledges")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn create_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CreatePledgeRequest>,
) -> AppResult<HttpResponse> {
    let n = new_pledge(body.into_inner())?;
    let now = state.clock.now();
    let x = svc::create(&state.db, &user, *id, n, now).await?;
    let urls = Signer::from_settings(&state.settings);
    let r = query::pledge_response(&state.db, &user, x, &urls, now).await?;
    let location = format!("/api/v1/pledges/{}", r.id);
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .take();
    Ok(with_etag(res, &r))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPledgesQuery {
    pub status: Option<Status>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A proposal's pledges, newest first, with the totals: everyone who may read the proposal
/// sees each pledger as they chose (organisations by name, people masked or `匿名居民`, never
/// a phone); staff of its place also the names.
#[utoipa::path(tag = "pledges", security(("bearer" = [])),
    params(("id" = Uuid, Path), ListPledgesQuery),
    responses(
        (status = 200, body = PledgePage),
        (status = 404, description = "The proposal is not found or not the caller's to see"),
    ))]
#[get("/proposals/{id}/pledges")]
#[tracing::instrument(skip_all, fields(user = %user.id, proposal = %id))]
pub async fn list_proposal_pledges(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    q: Query<ListPledgesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let urls = Signer::from_settings(&state.settings);
    let page =
        query::of_proposal(&state.db, &user, *id, q.status, p, &urls, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMyPledgesQuery {
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The caller's own pledges, newest first.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(ListMyPledgesQuery),
    responses((status = 200, body = Page<PledgeResponse>)))]
#[get("/me/pledges")]
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn list_my_pledges(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<ListMyPledgesQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let urls = Signer::from_settings(&state.settings);
    let page = query::mine(&state.db, &user, p, &urls, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One pledge.
#[utoipa::path(tag = "pledges", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PledgeResponse, headers(("ETag" = String))),
        (status = 404, description = "Not found or not the caller's to see"),
    ))]
#[get("/pledges/{id}")]
pub async fn get_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let urls = Signer::from_settings(&state.settings);
    let r = query::pledge(&state.db, &user, *id, &urls, state.clock.now()).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FulfilPledgeRequest {
    /// Money: the fund account it was paid into (required).
    pub account_id: Option<Uuid>,
    /// Money received, in fen (default: as pledged).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 10000000000_i64)]
    pub amount_fen: Option<i64>,
    /// Money: the day it arrived (default: today); not in the future.
    pub occurred_on: Option<NaiveDate>,
    /// Labour: minutes worked (default: as pledged).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 43200)]
    pub minutes: Option<i64>,
    /// Materials: how many arrived (default: as pledged).
    #[serde(default, deserialize_with = "crate::platform::http::optional_integer")]
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: Option<i64>,
    /// Receipts (the caller's own uploads, at most 9); materials need at least one.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub attachment_ids: Vec<Uuid>,
}

/// Fulfils a pledge. Money (community staff of the proposal's place): a `contribution` entry on
/// the account with the pledge and the proposal, raising its `received_fen`. Labour (the
/// proposal's lead): the minutes count in `labour_done_minutes`. Materials (the lead): with a
/// receipt photo; the estimated value counts in the in-kind total.
#[utoipa::path(tag = "pledges", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The pledge's ETag; a stale one answers 412")),
    request_body(content = Option<FulfilPledgeRequest>, description = "What was received; empty means as pledged (money needs `account_id`)"),
    responses(
        (status = 200, body = PledgeResponse, headers(("ETag" = String))),
        (status = 400, description = "Invalid fields; no account for money; no receipt photo for materials"),
        (status = 403, description = "Not the treasurer (money) or the lead (labour, materials)"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `pledged` (`wrong_status`), the proposal not raising or implementing (`wrong_step`), or the account not active"),
        (status = 412, description = "If-Match does not match the pledge's current ETag"),
    ))]
#[post("/pledges/{id}/fulfil")]
#[tracing::instrument(skip_all, fields(user = %user.id, pledge = %id))]
pub async fn fulfil_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonOrEmpty<FulfilPledgeRequest>,
) -> AppResult<HttpResponse> {
    use crate::funds::model::AMOUNT_MAX;
    let b = body.0;
    let r = Received {
        account_id: b.account_id,
        amount_fen: range("amount_fen", b.amount_fen, 1, AMOUNT_MAX)?,
        occurred_on: b.occurred_on,
        minutes: range("minutes", b.minutes, 1, model::MINUTES_MAX)?.map(|m| m as i32),
        quantity: range("quantity", b.quantity, 1, model::QUANTITY_MAX)?.map(|q| q as i32),
        attachment_ids: b.attachment_ids,
    };
    let now = state.clock.now();
    let x = fulfil::fulfil(&state.db, &user, *id, if_match(&req)?, r, now).await?;
    let urls = Signer::from_settings(&state.settings);
    let r = query::pledge_response(&state.db, &user, x, &urls, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}

/// Cancels a pledge not yet fulfilled (its pledger, or whoever recorded it). No body.
#[utoipa::path(tag = "pledges", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The pledge's ETag; a stale one answers 412")),
    responses(
        (status = 200, body = PledgeResponse, headers(("ETag" = String))),
        (status = 403, description = "Not the caller's pledge"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not `pledged` (`wrong_status`)"),
        (status = 412, description = "If-Match does not match the pledge's current ETag"),
    ))]
#[post("/pledges/{id}/cancel")]
#[tracing::instrument(skip_all, fields(user = %user.id, pledge = %id))]
pub async fn cancel_pledge(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    let x = svc::cancel(&state.db, &user, *id, if_match(&req)?, now).await?;
    let urls = Signer::from_settings(&state.settings);
    let r = query::pledge_response(&state.db, &user, x, &urls, now).await?;
    Ok(with_etag(HttpResponse::Ok(), &r))
}
