//! Sign-in, refresh-token rotation with reuse detection, logout, access-token validation and the
//! login rate limits, all through HTTP.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::future::join_all;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

// ---------------------------------------------------------------------------------------------
// Helpers local to this file
// ---------------------------------------------------------------------------------------------

const WRONG_PASSWORD: &str = "not-the-password";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn refresh_of(pair: &Value) -> String {
    pair["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string()
}

async fn me(app: &TestApp, token: &str) -> Response {
    app.get("/api/v1/me", token).await
}

async fn me_without_token(app: &TestApp) -> Response {
    app.request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .expect("request")
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Response {
    app.request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .expect("request")
}

async fn logout(app: &TestApp, token: &str) -> Response {
    app.request(Method::POST, "/api/v1/auth/logout", Some(token))
        .send()
        .await
        .expect("request")
}

async fn login_raw(app: &TestApp, body: &Value) -> Response {
    app.request(Method::POST, "/api/v1/auth/login", None)
        .json(body)
        .send()
        .await
        .expect("request")
}

/// The id of the bootstrap administrator, read through /me.
async fn admin_id(app: &TestApp) -> Uuid {
    let token = app.admin_token().await;
    let res = me(app, &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    id_of(&res.json().await.expect("json"))
}

/// Claims exactly as the server issues them, for `sub`.
fn valid_claims(sub: Uuid) -> Value {
    let t = now();
    json!({
        "iss": "linli",
        "aud": "linli-api",
        "sub": sub,
        "exp": t + 600,
        "iat": t,
        "jti": Uuid::now_v7(),
        "fam": Uuid::now_v7(),
    })
}

/// HMAC algorithms a forged token may claim.
#[derive(Clone, Copy)]
enum Algorithm {
    HS256,
    HS384,
    HS512,
}

/// Builds a JWT by hand (not with the server's own library, whose process-wide provider signs
/// HS256 only), so tests can forge what an attacker would send.
fn sign_with(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let name = match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
    };
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": name, "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let sig = match alg {
        Algorithm::HS256 => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("key");
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Algorithm::HS384 => {
            let mut m = Hmac::<sha2::Sha384>::new_from_slice(secret).expect("key");
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Algorithm::HS512 => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(secret).expect("key");
            m.update(input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Signs `claims` as the server would: HS256 with the test secret.
fn sign(claims: &Value) -> String {
    sign_with(Algorithm::HS256, JWT_SECRET.as_bytes(), claims)
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().expect("object").remove(key);
    claims
}

/// Asserts that /me refuses `token` with 401 `invalid_token` and a `WWW-Authenticate: Bearer`.
async fn assert_token_refused(app: &TestApp, token: &str, what: &str) {
    let res = me(app, token).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "{what} must be refused"
    );
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}: WWW-Authenticate"
    );
    assert_problem(res, 401, "invalid_token").await;
}

async fn assert_token_accepted(app: &TestApp, token: &str, what: &str) -> Value {
    let res = me(app, token).await;
    let status = res.status();
    let body = res.text().await.expect("body");
    assert_eq!(status, StatusCode::OK, "{what} must be accepted: {body}");
    serde_json::from_str(&body).expect("json")
}

/// Asserts a 429 `rate_limited` with a `Retry-After` of a whole number of seconds in (0, window].
async fn assert_rate_limited(res: Response, window_secs: u64) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "rate limited");
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .expect("Retry-After header")
        .to_string();
    let secs: u64 = retry_after
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is whole seconds, got {retry_after:?}"));
    assert!(
        secs > 0 && secs <= window_secs,
        "Retry-After {secs} within (0, {window_secs}]"
    );
    assert_problem(res, 429, "login_locked").await;
}

async fn fail_login(app: &TestApp, username: &str) {
    let res = app.login_response(username, WRONG_PASSWORD).await;
    assert_problem(res, 401, "invalid_credentials").await;
}

// ---------------------------------------------------------------------------------------------
// 1. Login
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_with_the_right_password_returns_a_bearer_token_pair() {
    let app = spawn_app().await;
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let pair: Value = res.json().await.unwrap();

    let access = pair["access_token"].as_str().expect("access_token string");
    assert_eq!(access.split('.').count(), 3, "the access token is a JWT");
    let refresh_token = pair["refresh_token"]
        .as_str()
        .expect("refresh_token string");
    assert!(
        refresh_token.len() >= 32,
        "refresh token has enough entropy"
    );
    assert_ne!(access, refresh_token);
    assert_eq!(pair["token_type"], "Bearer");
    let expires_in = pair["expires_in"].as_i64().expect("expires_in integer");
    assert!((890..=900).contains(&expires_in), "expires_in {expires_in}");
    assert_eq!(
        pair.as_object().unwrap().len(),
        4,
        "exactly the four fields: {pair}"
    );
}

#[tokio::test]
async fn login_with_a_wrong_password_is_refused_as_invalid_credentials() {
    let app = spawn_app().await;
    let res = app.login_response(ADMIN_USERNAME, WRONG_PASSWORD).await;
    assert_problem(res, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn login_of_an_unknown_user_is_indistinguishable_from_a_wrong_password() {
    let app = spawn_app().await;
    let wrong_password = app.login_response(ADMIN_USERNAME, WRONG_PASSWORD).await;
    let wrong_password = assert_problem(wrong_password, 401, "invalid_credentials").await;
    let unknown = app.login_response("nobody-here", WRONG_PASSWORD).await;
    let unknown = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(unknown["title"], wrong_password["title"]);
    assert_eq!(unknown["detail"], wrong_password["detail"]);
}

#[tokio::test]
async fn login_without_a_password_is_a_bad_request() {
    let app = spawn_app().await;
    let res = login_raw(&app, &json!({ "username": ADMIN_USERNAME })).await;
    let body = assert_problem(res, 400, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "password", "{body}");

    let res = login_raw(&app, &json!({ "password": ADMIN_PASSWORD })).await;
    let body = assert_problem(res, 400, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "username", "{body}");
}

#[tokio::test]
async fn login_with_an_unknown_field_is_refused_as_invalid_body() {
    let app = spawn_app().await;
    let res = login_raw(
        &app,
        &json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "role": "admin" }),
    )
    .await;
    let body = assert_problem(res, 400, "invalid_body").await;
    assert_eq!(body["errors"][0]["field"], "role", "{body}");
}

// ---------------------------------------------------------------------------------------------
// 2. /me
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn me_with_a_token_shows_the_caller_and_their_roles() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = assert_token_accepted(&app, &admin, "admin token").await;
    assert!(
        body["id"].as_str().unwrap().parse::<Uuid>().is_ok(),
        "{body}"
    );
    assert!(body["display_name"].is_string(), "{body}");
    assert!(body["roles"].is_array(), "{body}");

    let t = small_territory(&app, &admin, "me").await;
    let staff = app
        .user_with_role(
            &admin,
            "staff-me",
            "community_staff",
            "community",
            t.community,
        )
        .await;
    let body = assert_token_accepted(&app, &staff, "staff token").await;
    assert_eq!(body["display_name"], "staff-me");
    let roles = body["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 1, "{body}");
    assert_eq!(roles[0]["role"], "community_staff");
    assert_eq!(roles[0]["scope_type"], "community");
    assert_eq!(roles[0]["scope_id"], t.community.to_string());
}

#[tokio::test]
async fn me_without_a_token_is_unauthorized_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let res = me_without_token(&app).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, 401, "unauthorized").await;

    // Another scheme is no token at all.
    let res = app
        .request(Method::GET, "/api/v1/me", None)
        .header("authorization", "Basic cm9vdDpyb290")
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let pair = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_token_refused(&app, &refresh_of(&pair), "a refresh token on /me").await;
    let res = refresh(&app, &token_of(&pair)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;
}

// ---------------------------------------------------------------------------------------------
// 3. Refresh rotation and reuse detection
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_returns_a_new_pair_whose_access_token_works() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = refresh(&app, &refresh_of(&first)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["token_type"], "Bearer");
    assert!(second["expires_in"].as_i64().unwrap() > 0);
    assert_ne!(
        refresh_of(&second),
        refresh_of(&first),
        "a new refresh token"
    );
    assert_ne!(token_of(&second), token_of(&first), "a new access token");
    let body = assert_token_accepted(&app, &token_of(&second), "the refreshed access token").await;
    assert_eq!(body["id"], admin_id(&app).await.to_string());

    // The new refresh token rotates again.
    let res = refresh(&app, &refresh_of(&second)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_with_a_spent_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let other_session = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = refresh(&app, &refresh_of(&first)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    assert_token_accepted(&app, &token_of(&second), "the refreshed access token").await;

    // The spent token is presented again: a sign of theft.
    let res = refresh(&app, &refresh_of(&first)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;

    // The newest refresh token of the family is refused too...
    let res = refresh(&app, &refresh_of(&second)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;
    // ...and so are the family's access tokens, old and new.
    assert_token_refused(
        &app,
        &token_of(&second),
        "the newest access token of the family",
    )
    .await;
    assert_token_refused(
        &app,
        &token_of(&first),
        "the first access token of the family",
    )
    .await;

    // Another session of the same user is a different family and unaffected.
    assert_token_accepted(&app, &token_of(&other_session), "another session").await;
    let res = refresh(&app, &refresh_of(&other_session)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_with_an_unknown_token_is_refused() {
    let app = spawn_app().await;
    for token in ["", "garbage", &"x".repeat(300)] {
        let res = refresh(&app, token).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "refresh token {token:?}"
        );
        assert_problem(res, 401, "invalid_refresh_token").await;
    }
}

#[tokio::test]
async fn refresh_with_an_unknown_field_is_refused_as_invalid_body() {
    let app = spawn_app().await;
    let pair = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({ "refresh_token": refresh_of(&pair), "user_id": Uuid::now_v7() }))
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "invalid_body").await;
    // The token was not spent by the refused request.
    let res = refresh(&app, &refresh_of(&pair)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn of_concurrent_refreshes_with_one_token_exactly_one_succeeds() {
    let app = spawn_app().await;
    let pair = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let spent = refresh_of(&pair);
    let results = join_all((0..5).map(|_| refresh(&app, &spent))).await;
    let mut ok = 0;
    for res in results {
        if res.status() == StatusCode::OK {
            ok += 1;
        } else {
            assert_problem(res, 401, "invalid_refresh_token").await;
        }
    }
    assert_eq!(ok, 1, "exactly one concurrent use of a refresh token wins");
}

// ---------------------------------------------------------------------------------------------
// 4. Logout
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_revokes_the_access_token_and_its_refresh_family_at_once() {
    let app = spawn_app().await;
    let session = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let other = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_token_accepted(&app, &token_of(&session), "before logout").await;

    let res = logout(&app, &token_of(&session)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");

    assert_token_refused(&app, &token_of(&session), "the logged-out access token").await;
    let res = refresh(&app, &refresh_of(&session)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;
    // Logging out twice with the same token is refused too.
    let res = logout(&app, &token_of(&session)).await;
    assert_problem(res, 401, "invalid_token").await;

    // The other session is untouched.
    assert_token_accepted(&app, &token_of(&other), "another session").await;
    let res = refresh(&app, &refresh_of(&other)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_also_revokes_earlier_access_tokens_of_the_same_family() {
    let app = spawn_app().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = refresh(&app, &refresh_of(&first)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    assert_token_accepted(&app, &token_of(&first), "the earlier access token").await;

    let res = logout(&app, &token_of(&second)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_token_refused(
        &app,
        &token_of(&first),
        "an earlier access token of the family",
    )
    .await;
    assert_token_refused(&app, &token_of(&second), "the logged-out access token").await;
    let res = refresh(&app, &refresh_of(&second)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_without_a_token_is_unauthorized() {
    let app = spawn_app().await;
    let res = app
        .request(Method::POST, "/api/v1/auth/logout", None)
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthorized").await;
}

// ---------------------------------------------------------------------------------------------
// 5. Forged and invalid access tokens
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_hand_crafted_token_with_all_valid_claims_is_accepted() {
    // The positive control: the negative tests below differ from this only in what they break.
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let token = sign(&valid_claims(sub));
    let body = assert_token_accepted(&app, &token, "a correctly signed token").await;
    assert_eq!(body["id"], sub.to_string());
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let token = sign_with(
        Algorithm::HS256,
        b"another-secret-another-secret-0123456789",
        &valid_claims(sub),
    );
    assert_token_refused(&app, &token, "a token signed with another secret").await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(valid_claims(sub).to_string());
    let token = format!("{header}.{payload}.");
    assert_token_refused(&app, &token, "alg none").await;

    // Same, with the signature of a genuine token pasted on.
    let genuine = sign(&valid_claims(sub));
    let signature = genuine.rsplit('.').next().unwrap();
    let token = format!("{header}.{payload}.{signature}");
    assert_token_refused(&app, &token, "alg none with a borrowed signature").await;
}

#[tokio::test]
async fn a_token_with_a_tampered_payload_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let genuine = sign(&valid_claims(Uuid::now_v7()));
    let mut parts = genuine.split('.');
    let (header, _, signature) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
    let payload = URL_SAFE_NO_PAD.encode(valid_claims(sub).to_string());
    let token = format!("{header}.{payload}.{signature}");
    assert_token_refused(&app, &token, "a payload swapped under a genuine signature").await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let t = now();
    let claims = with(
        with(valid_claims(sub), "exp", json!(t - 3600)),
        "iat",
        json!(t - 3600 - 900),
    );
    assert_token_refused(&app, &sign(&claims), "a token expired an hour ago").await;
}

#[tokio::test]
async fn a_token_missing_any_required_claim_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    for claim in ["iss", "aud", "sub", "exp", "iat", "jti", "fam"] {
        let token = sign(&without(valid_claims(sub), claim));
        assert_token_refused(&app, &token, &format!("a token without {claim}")).await;
    }
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    for iss in ["someone-else", "Linli", ""] {
        let token = sign(&with(valid_claims(sub), "iss", json!(iss)));
        assert_token_refused(&app, &token, &format!("iss {iss:?}")).await;
    }
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    for aud in ["linli-admin", "linli", ""] {
        let token = sign(&with(valid_claims(sub), "aud", json!(aud)));
        assert_token_refused(&app, &token, &format!("aud {aud:?}")).await;
    }
}

#[tokio::test]
async fn a_token_whose_exp_is_a_string_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let exp = (now() + 600).to_string();
    let token = sign(&with(valid_claims(sub), "exp", json!(exp)));
    assert_token_refused(&app, &token, "exp as a string").await;
}

#[tokio::test]
async fn a_token_signed_with_hs512_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let token = sign_with(Algorithm::HS512, JWT_SECRET.as_bytes(), &valid_claims(sub));
    assert_token_refused(&app, &token, "HS512 with the right secret").await;
    let token = sign_with(Algorithm::HS384, JWT_SECRET.as_bytes(), &valid_claims(sub));
    assert_token_refused(&app, &token, "HS384 with the right secret").await;
}

#[tokio::test]
async fn a_garbage_token_is_refused() {
    let app = spawn_app().await;
    for token in [
        "garbage",
        "a.b.c",
        "...",
        "eyJhbGciOiJIUzI1NiJ9..",
        "Bearer",
    ] {
        assert_token_refused(&app, token, &format!("token {token:?}")).await;
    }
}

#[tokio::test]
async fn a_token_for_a_user_that_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let token = sign(&valid_claims(Uuid::now_v7()));
    assert_token_refused(&app, &token, "sub of a non-existent user").await;
    let token = sign(&with(valid_claims(Uuid::now_v7()), "sub", json!("root")));
    assert_token_refused(&app, &token, "sub that is not a UUID").await;
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let app = spawn_app().await;
    let sub = admin_id(&app).await;
    let t = now();
    let claims = with(
        with(valid_claims(sub), "iat", json!(t + 3600)),
        "exp",
        json!(t + 3600 + 600),
    );
    assert_token_refused(&app, &sign(&claims), "iat an hour ahead").await;
}

// ---------------------------------------------------------------------------------------------
// 6. Login rate limiting
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sixth_attempt_for_a_username_is_rate_limited_even_with_the_right_password() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "alice", "alice-password-1").await;

    for _ in 0..5 {
        fail_login(&app, "alice").await;
    }
    let res = app.login_response("alice", WRONG_PASSWORD).await;
    assert_rate_limited(res, 900).await;
    let res = app.login_response("alice", "alice-password-1").await;
    assert_rate_limited(res, 900).await;

    // Other usernames from the same address are unaffected (5 < 20 failures per address).
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    fail_login(&app, "bob").await;
}

#[tokio::test]
async fn concurrent_attempts_cannot_exceed_the_username_limit() {
    // A burst of guesses sent at once must not get more than 5 evaluated.
    let app = spawn_app().await;
    let results =
        join_all((0..20).map(|_| app.login_response(ADMIN_USERNAME, WRONG_PASSWORD))).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    let evaluated = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(evaluated + limited, 20, "only 401 or 429: {statuses:?}");
    assert!(
        evaluated <= 5,
        "{evaluated} of 20 concurrent guesses were checked against the password, at most 5 may be: {statuses:?}"
    );
}

#[tokio::test]
async fn the_username_limit_cannot_be_sidestepped_by_changing_case() {
    let app = spawn_app().await;
    for name in ["Root", "ROOT", "rOOt", "RooT", "ROot"] {
        fail_login(&app, name).await;
    }
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_rate_limited(res, 900).await;
}

#[tokio::test]
async fn failures_on_different_usernames_from_one_address_hit_the_per_address_limit() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_LOGIN_MAX_FAILURES_PER_IP".into(), "3".into());
    })
    .await;
    fail_login(&app, "u1").await;
    fail_login(&app, "u2").await;
    // Below the address limit, another username still signs in.
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    fail_login(&app, "u3").await;

    // Now every username from this address is refused, the right password included.
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_rate_limited(res, 900).await;
    let res = app.login_response("u4", WRONG_PASSWORD).await;
    assert_rate_limited(res, 900).await;

    // An untrusted X-Forwarded-For does not give a fresh address.
    let res = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_rate_limited(res, 900).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_per_address_limit_uses_the_forwarded_address() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_LOGIN_MAX_FAILURES_PER_IP".into(), "2".into());
        // The test client connects from 127.0.0.1: that is "our proxy"; 10.x is a second tier.
        v.insert(
            "LINLI_TRUSTED_PROXIES".into(),
            "127.0.0.1, ::1, 10.0.0.0/8".into(),
        );
    })
    .await;
    let attempt = |ip: &'static str, user: &'static str, password: &'static str| {
        app.request(Method::POST, "/api/v1/auth/login", None)
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .json(&json!({ "username": user, "password": password }))
            .send()
    };
    for user in ["u1", "u2"] {
        let res = attempt("203.0.113.7", user, WRONG_PASSWORD).await.unwrap();
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = attempt("203.0.113.7", ADMIN_USERNAME, ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_rate_limited(res, 900).await;
    // 7. What the client writes to the left of the hop our proxies saw is not believed: a
    // made-up left-most entry does not buy a fresh address.
    for forged in ["1.1.1.1", "2.2.2.2, 3.3.3.3"] {
        let res = attempt(
            Box::leak(format!("{forged}, 203.0.113.7").into_boxed_str()),
            ADMIN_USERNAME,
            ADMIN_PASSWORD,
        )
        .await
        .unwrap();
        assert_rate_limited(res, 900).await;
    }
    let res = attempt("198.51.100.9", ADMIN_USERNAME, ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "another client address");
}

#[tokio::test]
async fn the_failure_window_is_configurable_and_reflected_in_retry_after() {
    let app = spawn_app_with(|v| {
        v.insert("LINLI_LOGIN_MAX_FAILURES_PER_USER".into(), "2".into());
        v.insert("LINLI_LOGIN_FAILURE_WINDOW_SECS".into(), "60".into());
    })
    .await;
    fail_login(&app, ADMIN_USERNAME).await;
    fail_login(&app, ADMIN_USERNAME).await;
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_rate_limited(res, 60).await;
}

// ---------------------------------------------------------------------------------------------
// 7. Two replicas sharing one Redis
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_failures_on_one_replica_rate_limit_the_other() {
    if redis_url().is_none() {
        eprintln!("skipped: needs TEST_REDIS_URL");
        return;
    }
    let a = spawn_app().await;
    let b = start(a.vars.clone()).await;
    for _ in 0..5 {
        fail_login(&a, ADMIN_USERNAME).await;
    }
    let res = b.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_rate_limited(res, 900).await;
    let res = a.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_rate_limited(res, 900).await;
}

#[tokio::test]
async fn logout_on_one_replica_revokes_the_token_on_the_other() {
    if redis_url().is_none() {
        eprintln!("skipped: needs TEST_REDIS_URL");
        return;
    }
    let a = spawn_app().await;
    let b = start(a.vars.clone()).await;
    let session = a.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_token_accepted(&b, &token_of(&session), "A's token on B").await;

    let res = logout(&a, &token_of(&session)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_token_refused(&b, &token_of(&session), "A's logged-out token on B").await;
    let res = refresh(&b, &refresh_of(&session)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn reuse_detected_on_one_replica_revokes_the_family_on_the_other() {
    if redis_url().is_none() {
        eprintln!("skipped: needs TEST_REDIS_URL");
        return;
    }
    let a = spawn_app().await;
    let b = start(a.vars.clone()).await;
    let first = a.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let res = b
        .request(Method::POST, "/api/v1/auth/refresh", None)
        .json(&json!({ "refresh_token": refresh_of(&first) }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.unwrap();
    assert_token_accepted(&a, &token_of(&second), "B's token on A").await;

    let res = refresh(&a, &refresh_of(&first)).await;
    assert_problem(res, 401, "invalid_refresh_token").await;
    assert_token_refused(&b, &token_of(&second), "the family's token on B").await;
}

// ---------------------------------------------------------------------------------------------
// 8. A successful login resets the username's failure count
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_successful_login_resets_the_failure_count_of_the_username() {
    let app = spawn_app().await;
    for _ in 0..4 {
        fail_login(&app, ADMIN_USERNAME).await;
    }
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    // Four more failures and a fifth are all plain 401s: the count started again.
    for _ in 0..5 {
        fail_login(&app, ADMIN_USERNAME).await;
    }
    // The sixth since the reset is limited.
    let res = app.login_response(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_rate_limited(res, 900).await;
}
