//! Voting: the caller's polls, casting a ballot, the caller's own ballot (open polls), the
//! results, and the anonymous ballots of a closed secret poll.
//!
//! The ballot handler logs nothing and is not instrumented with the caller: for a secret poll,
//! no log line may carry the poll together with the voter (the request line carries the path,
//! never the caller).

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::AuthUser;
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::{Page, PageParams};
use crate::platform::state::AppState;
use crate::polls::model::{self, Status};
use crate::polls::query::{self, AnonymousBallot, ChoiceView, PollSummary};
use crate::polls::service::casting::{self, Answer};
use crate::polls::service::tally::PollResults;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MyPollsQuery {
    /// Default `open`: what the caller can vote on now.
    pub status: Option<Status>,
    /// Page size, 1–100 (larger is clamped to 100). Default 20.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The polls whose roll lists the caller (as a resident, or a member of a household that
/// votes), newest first, each with where the caller stands (`my_status`).
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(MyPollsQuery),
    responses((status = 200, body = Page<PollSummary>)))]
#[get("/me/polls")]
pub async fn list_my_polls(
    state: web::Data<AppState>,
    user: AuthUser,
    q: Query<MyPollsQuery>,
) -> AppResult<HttpResponse> {
    let p = PageParams::new(q.limit, q.cursor.as_deref())?;
    let page = query::mine(&state.db, &user, q.status, p, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub question_id: Uuid,
    /// The chosen options of this question (between its `min_choices` and `max_choices`).
    #[schema(max_items = 50)]
    pub option_ids: Vec<Uuid>,
    /// A rating's scores, 1–10, one per chosen option in the same order.
    #[schema(max_items = 50, minimum = 1, maximum = 10)]
    #[serde(default, deserialize_with = "crate::platform::http::optional_integers")]
    pub scores: Option<Vec<i32>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastBallotRequest {
    /// One answer per question; a question left out is answered with no choice (allowed only
    /// when its `min_choices` is 0).
    #[schema(max_items = 10)]
    pub answers: Vec<AnswerRequest>,
}

#[derive(Serialize, ToSchema)]
pub struct CastResponse {
    /// Always `cast`. No ballot id: a receipt proving a choice would invite coercion.
    pub status: String,
}

/// Casts the caller's ballot: exactly one per voter key (the caller's resident entry, or in
/// household mode their household, as an adult member), also under concurrency. The response
/// carries no ballot id, and the route is never stored for `Idempotency-Key` replays (a second
/// cast answers 409 `already_voted`).
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = CastBallotRequest,
    responses(
        (status = 201, body = CastResponse),
        (status = 400, description = "Choices out of range, or an option not of its question (`errors[]` names each)"),
        (status = 403, description = "Not on the roll (`not_on_roll`)"),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Already voted, or the household has (`already_voted`); the poll is not open (`poll_not_open`)"),
    ))]
#[post("/polls/{id}/ballots")]
pub async fn cast_ballot(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CastBallotRequest>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    if b.answers.len() > model::QUESTIONS_MAX {
        return Err(AppError::Validation(vec![FieldError::too_many(
            "answers",
            model::QUESTIONS_MAX,
        )]));
    }
    let answers = b
        .answers
        .into_iter()
        .map(|a| Answer {
            question_id: a.question_id,
            option_ids: a.option_ids,
            // Out of range becomes 0, which the service refuses with the field named.
            scores: a.scores.map(|s| {
                s.into_iter()
                    .map(|v| i16::try_from(v).unwrap_or(0))
                    .collect()
            }),
        })
        .collect();
    casting::cast(&state.db, &user, *id, answers, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(CastResponse {
        status: "cast".into(),
    }))
}

/// The caller's own choices in an open (not secret) poll; a secret poll never shows them (404).
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<ChoiceView>),
        (status = 404, description = "Not found, secret, or the caller has no online ballot in it"),
    ))]
#[get("/polls/{id}/my-ballot")]
pub async fn get_my_ballot(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let c = query::my_ballot(&state.db, &user, *id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(c))
}

/// The results of a closed poll (its latest tally): E, P, abstentions, late additions, per
/// option the votes and rank, quorum met, outcome, the roll's size and hash. Before close: 409,
/// for everyone.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PollResults),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not closed yet (`wrong_status`)"),
    ))]
#[get("/polls/{id}/results")]
pub async fn get_poll_results(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::results(&state.db, &user, *id).await?))
}

/// The anonymous online ballots of a closed secret poll with at least 10 participants, in
/// random order and without ids, so anyone may recount it.
#[utoipa::path(tag = "polls", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<AnonymousBallot>),
        (status = 404, description = "Not found or not the caller's to see"),
        (status = 409, description = "Not a closed secret poll with at least 10 participants (`wrong_status`)"),
    ))]
#[get("/polls/{id}/ballots.json")]
pub async fn get_anonymous_ballots(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(query::anonymous_ballots(&state.db, &user, *id).await?))
}
