//! The WeChat server API client (jscode2session, access token, getuserphonenumber, subscribe
//! messages, msgSecCheck).
//!
//! Every answer of WeChat goes through one function, [`WeChatClient::check`], which turns
//! transport failures, HTTP statuses, unparsable bodies and WeChat `errcode`s into our errors.
//! The AppSecret, `session_key`, login codes and access tokens travel in URLs and bodies of these
//! calls only: errors are stripped of their URL before they can reach a log.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::platform::cache::SharedCache;
use crate::platform::config::{Secret, Settings};
use crate::platform::error::{AppError, AppResult};

/// Cache key of the mini-program access token, shared by all replicas.
const TOKEN_KEY: &str = "wechat:access_token";
/// Cache key of the cross-replica lock taken while one replica refreshes the token.
const LOCK_KEY: &str = "wechat:access_token:lock";
/// How often a replica that lost the lock looks for the token the winner stores.
const POLL_EVERY: Duration = Duration::from_millis(50);
/// What `Retry-After` says when WeChat rate-limits us (45011).
const RATE_LIMIT_RETRY: Duration = Duration::from_secs(10);
/// Largest answer read from WeChat; its answers are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// The name of the access-token endpoint in errors and logs.
const TOKEN_API: &str = "token";

/// The name of the text-check endpoint in errors and logs.
const SEC_CHECK_API: &str = "msgSecCheck";
/// The longest text msgSecCheck takes, in characters.
pub const SEC_CHECK_MAX_CHARS: usize = 2500;
/// The longest a text check waits for WeChat (less when `LINLI_WECHAT_TIMEOUT_MS` is less): a
/// resident is waiting for their post, and an unanswered check only keeps it for review.
const SEC_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// What msgSecCheck (version 2) suggests for a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggest {
    Pass,
    Review,
    Risky,
}

/// msgSecCheck's answer: its suggestion, its label (100 normal, 10001 ad, 20001 politics, …)
/// and the trace id WeChat keeps the check under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecCheck {
    pub suggest: Suggest,
    pub label: i64,
    pub trace_id: Option<String>,
}

/// WeChat's access-token error codes: invalid credential, expired, invalid access_token.
const TOKEN_REJECTED: [i64; 3] = [40001, 42001, 40014];

/// Subscribe-message errcodes no retry can fix, with what they mean.
const SEND_PERMANENT: [(i64, &str); 5] = [
    (
        43101,
        "the user refused or has not subscribed to this template",
    ),
    (40003, "invalid openid"),
    (40037, "invalid template id"),
    (47003, "template data does not match the template"),
    (41030, "invalid mini-program page"),
];

/// How one subscribe message fared. The reasons name WeChat's errcode and never carry the token
/// or the recipient's openid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// WeChat refused it for good (not subscribed, bad openid, template, data or page).
    Permanent(String),
    /// It may go through later (busy, timeout, 5xx, token trouble, anything unexpected).
    Transient(String),
}

/// The result of `jscode2session`. `session_key` stays on the server: it is never logged, stored
/// or answered to anyone.
#[derive(Debug)]
pub struct WxSession {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: Secret<String>,
}

pub struct WeChatClient {
    http: reqwest::Client,
    base: String,
    appid: Option<String>,
    secret: Option<Secret<String>>,
    cache: SharedCache,
    timeout: Duration,
    /// Coalesces the callers of this process that find the token missing or rejected: one of them
    /// refreshes, the others then find the fresh token in the cache.
    refresh_lock: Mutex<()>,
}

impl WeChatClient {
    pub fn new(settings: &Settings, cache: SharedCache) -> anyhow::Result<Self> {
        let timeout = settings.wechat_timeout;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()?;
        let appid = settings.wechat_appid.clone();
        let secret = settings.wechat_secret.clone();
        if appid.is_none() || secret.is_none() {
            tracing::info!("WeChat is not configured (LINLI_WECHAT_APPID, LINLI_WECHAT_SECRET): WeChat login answers 503");
        }
        Ok(Self {
            http,
            base: settings.wechat_api_base.trim_end_matches('/').to_string(),
            appid,
            secret,
            cache,
            timeout,
            refresh_lock: Mutex::new(()),
        })
    }

    /// Whether the mini-program credentials are configured.
    pub fn is_configured(&self) -> bool {
        self.appid.is_some() && self.secret.is_some()
    }

    /// The mini-program credentials, or 503 when they are not configured.
    fn credentials(&self) -> AppResult<(&str, &str)> {
        match (&self.appid, &self.secret) {
            (Some(appid), Some(secret)) => Ok((appid, secret.expose())),
            _ => Err(AppError::Unavailable {
                retry_after: Duration::from_secs(60),
                source: Some(anyhow::anyhow!(
                    "WeChat is not configured: set LINLI_WECHAT_APPID and LINLI_WECHAT_SECRET"
                )),
            }),
        }
    }

    /// Exchanges a `wx.login` code for the user's openid (and unionid, when the mini-program is
    /// bound to an open platform account).
    pub async fn jscode2session(&self, code: &str) -> AppResult<WxSession> {
        let (appid, secret) = self.credentials()?;
        let sent = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", appid),
                ("secret", secret),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await;
        let body = self.check("jscode2session", sent).await?;
        let openid = string_field(&body, "openid")
            .ok_or_else(|| malformed("jscode2session", "openid is missing"))?;
        let session_key = string_field(&body, "session_key")
            .ok_or_else(|| malformed("jscode2session", "session_key is missing"))?;
        Ok(WxSession {
            openid,
            unionid: string_field(&body, "unionid"),
            session_key: Secret::new(session_key),
        })
    }

    /// The mini-program access token, shared by all replicas through the cache. When it must be
    /// fetched, one caller in the deployment fetches it and the others wait for it.
    pub async fn access_token(&self) -> AppResult<String> {
        self.credentials()?;
        if let Some(token) = self.cache.get(TOKEN_KEY).await? {
            return Ok(token);
        }
        self.refresh(None).await
    }

    /// The phone number verified by WeChat for a `getPhoneNumber` code. An access token WeChat
    /// rejects is refreshed once and the call retried once.
    pub async fn get_phone_number(&self, code: &str) -> AppResult<String> {
        let token = self.access_token().await?;
        match self.phone_number_with(&token, code).await? {
            Some(phone) => Ok(phone),
            None => {
                tracing::info!("WeChat rejected the cached access token; refreshing it");
                let fresh = self.refresh(Some(&token)).await?;
                match self.phone_number_with(&fresh, code).await? {
                    Some(phone) => Ok(phone),
                    None => Err(AppError::unavailable(anyhow::anyhow!(
                        "WeChat rejected a freshly fetched access token"
                    ))),
                }
            }
        }
    }

    /// Checks one text (at most [`SEC_CHECK_MAX_CHARS`] characters) written by `openid` with
    /// msgSecCheck version 2 in `scene` (1 profile, 2 comment, 3 forum, 4 social log). An access
    /// token WeChat rejects is refreshed once and the check retried once. Bounded by the shorter
    /// of 3 s and `LINLI_WECHAT_TIMEOUT_MS` per call. The text is never logged.
    pub async fn msg_sec_check(
        &self,
        openid: &str,
        scene: u8,
        title: Option<&str>,
        content: &str,
    ) -> AppResult<SecCheck> {
        let mut body = serde_json::json!({
            "version": 2,
            "openid": openid,
            "scene": scene,
            "content": content,
        });
        if let Some(t) = title {
            body["title"] = Value::from(t);
        }
        let token = self.access_token().await?;
        if let Some(r) = self.sec_check_with(&token, &body).await? {
            return Ok(r);
        }
        tracing::info!("WeChat rejected the cached access token; refreshing it");
        let fresh = self.refresh(Some(&token)).await?;
        match self.sec_check_with(&fresh, &body).await? {
            Some(r) => Ok(r),
            None => Err(AppError::unavailable(anyhow::anyhow!(
                "WeChat rejected a freshly fetched access token"
            ))),
        }
    }

    /// One msgSecCheck call; `None` when WeChat rejects the access token.
    async fn sec_check_with(&self, token: &str, body: &Value) -> AppResult<Option<SecCheck>> {
        let sent = self
            .http
            .post(format!("{}/wxa/msg_sec_check", self.base))
            .query(&[("access_token", token)])
            .timeout(self.timeout.min(SEC_CHECK_TIMEOUT))
            .json(body)
            .send()
            .await;
        let answer = match self.check(SEC_CHECK_API, sent).await {
            Ok(b) => b,
            Err(e) if is_token_rejection(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let result = answer
            .get("result")
            .ok_or_else(|| malformed(SEC_CHECK_API, "result is missing"))?;
        let suggest = match result.get("suggest").and_then(Value::as_str) {
            Some("pass") => Suggest::Pass,
            Some("review") => Suggest::Review,
            Some("risky") => Suggest::Risky,
            _ => {
                return Err(malformed(
                    SEC_CHECK_API,
                    "result.suggest is missing or unknown",
                ))
            }
        };
        Ok(Some(SecCheck {
            suggest,
            label: result.get("label").and_then(Value::as_i64).unwrap_or(100),
            trace_id: string_field(&answer, "trace_id"),
        }))
    }

    /// Sends a subscribe message (`data` is the template's fields, `{"thing1": {"value": …}}`).
    /// An access token WeChat rejects is refreshed once and the send retried once.
    pub async fn send_subscribe_message(
        &self,
        openid: &str,
        template_id: &str,
        page: &str,
        data: Value,
    ) -> Delivery {
        let body = serde_json::json!({
            "touser": openid,
            "template_id": template_id,
            "page": page,
            "data": data,
            "miniprogram_state": "formal",
            "lang": "zh_CN",
        });
        let token = match self.access_token().await {
            Ok(t) => t,
            Err(e) => return Delivery::Transient(token_failure(&e)),
        };
        let first = match self.send_with(&token, openid, &body).await {
            Ok(delivery) => return delivery,
            Err(Rejected(code)) => code,
        };
        tracing::info!(
            errcode = first,
            "WeChat rejected the cached access token; refreshing it"
        );
        let fresh = match self.refresh(Some(&token)).await {
            Ok(t) => t,
            Err(e) => return Delivery::Transient(token_failure(&e)),
        };
        match self.send_with(&fresh, openid, &body).await {
            Ok(delivery) => delivery,
            Err(Rejected(code)) => Delivery::Transient(format!(
                "WeChat rejected a freshly fetched access token (errcode {code})"
            )),
        }
    }

    /// One subscribeMessage.send call.
    async fn send_with(
        &self,
        token: &str,
        openid: &str,
        body: &Value,
    ) -> Result<Delivery, Rejected> {
        let sent = self
            .http
            .post(format!("{}/cgi-bin/message/subscribe/send", self.base))
            .query(&[("access_token", token)])
            .json(body)
            .send()
            .await;
        // Errors lose their URL: it carries the access token.
        let res = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Ok(Delivery::Transient(format!("WeChat {SEND_API}: timed out")))
            }
            Err(e) => {
                return Ok(Delivery::Transient(format!(
                    "WeChat {SEND_API}: no answer ({})",
                    e.without_url()
                )))
            }
        };
        let status = res.status();
        match read_limited(res).await {
            Ok(Some(bytes)) => classify_send(status, &bytes, &[openid, token]),
            Ok(None) => Ok(Delivery::Transient(format!(
                "WeChat {SEND_API}: the answer is too large"
            ))),
            Err(e) => Ok(Delivery::Transient(format!(
                "WeChat {SEND_API}: reading the answer failed ({})",
                e.without_url()
            ))),
        }
    }

    /// One getuserphonenumber call; `None` when WeChat rejects the access token.
    async fn phone_number_with(&self, token: &str, code: &str) -> AppResult<Option<String>> {
        let sent = self
            .http
            .post(format!("{}/wxa/business/getuserphonenumber", self.base))
            .query(&[("access_token", token)])
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await;
        let body = match self.check("getuserphonenumber", sent).await {
            Ok(b) => b,
            Err(e) if is_token_rejection(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let info = body
            .get("phone_info")
            .ok_or_else(|| malformed("getuserphonenumber", "phone_info is missing"))?;
        string_field(info, "purePhoneNumber")
            .or_else(|| string_field(info, "phoneNumber"))
            .map(Some)
            .ok_or_else(|| malformed("getuserphonenumber", "the phone number is missing"))
    }

    /// Fetches a new access token unless another caller already replaced `stale` (the token
    /// WeChat rejected; `None` when there was none). Local callers queue on the in-process mutex;
    /// across replicas, the one that takes the lock in the cache fetches and the others poll the
    /// cache for its result, for a bounded time.
    async fn refresh(&self, stale: Option<&str>) -> AppResult<String> {
        let (appid, secret) = self.credentials()?;
        let _local = self.refresh_lock.lock().await;
        let fresh = |cached: Option<String>| cached.filter(|t| Some(t.as_str()) != stale);
        if let Some(token) = fresh(self.cache.get(TOKEN_KEY).await?) {
            return Ok(token);
        }
        let lock_ttl = Duration::from_secs(10).max(self.timeout * 2);
        // The holder gives up after one call's timeout; wait for it a little longer than that.
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(5).max(self.timeout + Duration::from_secs(1));
        let owner = uuid::Uuid::now_v7().to_string();
        loop {
            if self.cache.set_nx(LOCK_KEY, &owner, lock_ttl).await? {
                let result = self.fetch_locked(appid, secret, stale).await;
                self.release(&owner).await;
                return result;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AppError::unavailable(anyhow::anyhow!(
                    "timed out waiting for another replica to refresh the WeChat access token"
                )));
            }
            tokio::time::sleep(POLL_EVERY).await;
            if let Some(token) = fresh(self.cache.get(TOKEN_KEY).await?) {
                return Ok(token);
            }
        }
    }

    /// Releases the cross-replica lock if it is still ours (it may have expired and been taken
    /// meanwhile). Best effort: a lock left behind expires on its own, and the token this caller
    /// fetched is good either way.
    async fn release(&self, owner: &str) {
        let released = match self.cache.get(LOCK_KEY).await {
            Ok(Some(holder)) if holder == owner => self.cache.delete(LOCK_KEY).await,
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release the WeChat access-token lock; it expires on its own");
        }
    }

    /// Holding the cross-replica lock: fetch the token and share it through the cache.
    async fn fetch_locked(
        &self,
        appid: &str,
        secret: &str,
        stale: Option<&str>,
    ) -> AppResult<String> {
        // Another replica may have stored a fresh token between our look and taking the lock.
        let cached = self.cache.get(TOKEN_KEY).await?;
        if let Some(token) = cached.as_deref().filter(|t| Some(*t) != stale) {
            return Ok(token.to_string());
        }
        if cached.is_some() {
            self.cache.delete(TOKEN_KEY).await?;
        }
        let sent = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", appid),
                ("secret", secret),
            ])
            .send()
            .await;
        let body = self.check(TOKEN_API, sent).await?;
        let token = string_field(&body, "access_token")
            .ok_or_else(|| malformed(TOKEN_API, "access_token is missing"))?;
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_i64)
            .filter(|s| *s > 0)
            .ok_or_else(|| malformed(TOKEN_API, "expires_in is missing or not positive"))?;
        self.cache
            .set(TOKEN_KEY, &token, cache_ttl(expires_in as u64))
            .await?;
        tracing::info!(expires_in, "WeChat access token refreshed");
        Ok(token)
    }

    /// The one mapping from what WeChat did to our errors. Returns the JSON body of a successful
    /// call.
    async fn check(
        &self,
        api: &'static str,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> AppResult<Value> {
        // Without the URL: it carries the AppSecret, the code or the access token.
        let res = sent.map_err(|e| {
            AppError::unavailable(
                anyhow::Error::new(e.without_url()).context(format!("WeChat {api}: no answer")),
            )
        })?;
        let status = res.status();
        let bytes = read_limited(res).await.map_err(|e| {
            AppError::unavailable(
                anyhow::Error::new(e.without_url())
                    .context(format!("WeChat {api}: reading the answer failed")),
            )
        })?;
        if status.is_server_error() {
            return Err(AppError::unavailable(anyhow::anyhow!(
                "WeChat {api}: HTTP {status}"
            )));
        }
        if !status.is_success() {
            return Err(malformed(api, &format!("HTTP {status}")));
        }
        let body: Value = bytes
            .as_deref()
            .ok_or_else(|| malformed(api, "the answer is too large"))
            .and_then(|b| serde_json::from_slice(b).map_err(|_| malformed(api, "not JSON")))?;
        if !body.is_object() {
            return Err(malformed(api, "not a JSON object"));
        }
        let errcode = match body.get("errcode") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| malformed(api, "errcode is not a number"))?,
        };
        if errcode == 0 {
            return Ok(body);
        }
        let errmsg: String = body
            .get("errmsg")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        Err(match errcode {
            // Invalid, expired or already used code.
            40029 | 40163 => {
                tracing::info!(api, errcode, %errmsg, "WeChat refused the code");
                AppError::WeChatCodeInvalid
            }
            40226 => {
                tracing::warn!(api, errcode, %errmsg, "WeChat flags the user as high-risk");
                AppError::WeChatUserBlocked
            }
            45011 => {
                tracing::warn!(api, errcode, %errmsg, "WeChat rate-limits this mini-program");
                AppError::rate_limited(RATE_LIMIT_RETRY)
            }
            -1 => AppError::unavailable(anyhow::anyhow!(
                "WeChat {api}: system busy (errcode -1: {errmsg})"
            )),
            // Our side is misconfigured: wrong AppID or AppSecret (40125 is "invalid appsecret";
            // 40001 from the token endpoint itself means the same), or this server's address is
            // not on the mini-program's IP whitelist. Nothing a user can fix, so not a 4xx.
            40013 | 40125 | 40164 | 41002 | 41004 | 40002 => misconfigured(api, errcode, &errmsg),
            40001 if api == TOKEN_API => misconfigured(api, errcode, &errmsg),
            c if TOKEN_REJECTED.contains(&c) => AppError::Unavailable {
                retry_after: Duration::from_secs(5),
                source: Some(anyhow::Error::new(TokenRejected).context(format!(
                    "WeChat {api}: access token rejected (errcode {c}: {errmsg})"
                ))),
            },
            45009 => AppError::Unavailable {
                retry_after: Duration::from_secs(600),
                source: Some(anyhow::anyhow!(
                    "WeChat {api}: daily API quota reached (errcode 45009: {errmsg})"
                )),
            },
            other => malformed(api, &format!("unexpected errcode {other}: {errmsg}")),
        })
    }
}

/// Why no access token could be had, for a delivery's `last_error` (the cause chain names the
/// API and errcode; URLs were stripped before the error was made).
pub(crate) fn token_failure(e: &AppError) -> String {
    let mut out = format!("no access token: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

/// The name of the subscribe-message endpoint in delivery errors.
const SEND_API: &str = "subscribeMessage.send";

/// WeChat rejected the access token of a send (with this errcode).
#[derive(Debug)]
struct Rejected(i64);

/// What a subscribe-message answer means. `hide` (the openid and the token) is masked out of
/// WeChat's `errmsg` before it becomes part of a stored reason.
fn classify_send(
    status: reqwest::StatusCode,
    bytes: &[u8],
    hide: &[&str],
) -> Result<Delivery, Rejected> {
    let transient = |what: String| Ok(Delivery::Transient(format!("WeChat {SEND_API}: {what}")));
    if !status.is_success() {
        return transient(format!("HTTP {status}"));
    }
    let Some(body) = serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
    else {
        return transient("the answer is not a JSON object".into());
    };
    let code = match body.get("errcode") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_i64() {
            Some(c) => c,
            None => return transient("errcode is not a number".into()),
        },
    };
    if code == 0 {
        return Ok(Delivery::Sent);
    }
    if TOKEN_REJECTED.contains(&code) {
        return Err(Rejected(code));
    }
    if let Some((_, meaning)) = SEND_PERMANENT.iter().find(|(c, _)| *c == code) {
        return Ok(Delivery::Permanent(format!(
            "WeChat {SEND_API}: {meaning} (errcode {code})"
        )));
    }
    if code == -1 {
        return transient("system busy (errcode -1)".into());
    }
    let mut errmsg = body
        .get("errmsg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for h in hide.iter().filter(|h| !h.is_empty()) {
        errmsg = errmsg.replace(h, "***");
    }
    let errmsg: String = errmsg.chars().take(200).collect();
    transient(format!("errcode {code}: {errmsg}"))
}

/// Marks an error as WeChat's rejection of the access token, so the caller can refresh it.
#[derive(Debug, thiserror::Error)]
#[error("access token rejected")]
struct TokenRejected;

fn is_token_rejection(e: &AppError) -> bool {
    matches!(e, AppError::Unavailable { source: Some(s), .. } if s.downcast_ref::<TokenRejected>().is_some())
}

/// How long a token of `expires_in` seconds is shared: five minutes less (half the lifetime for
/// short-lived ones), so no replica uses one that is about to expire.
fn cache_ttl(expires_in: u64) -> Duration {
    let margin = if expires_in > 600 {
        300
    } else {
        expires_in / 2
    };
    Duration::from_secs((expires_in - margin).max(1))
}

fn misconfigured(api: &str, errcode: i64, errmsg: &str) -> AppError {
    AppError::Unavailable {
        retry_after: Duration::from_secs(60),
        source: Some(anyhow::anyhow!(
            "WeChat {api}: the server's WeChat credentials or IP whitelist are wrong \
             (errcode {errcode}: {errmsg}); check LINLI_WECHAT_APPID and LINLI_WECHAT_SECRET"
        )),
    }
}

fn malformed(api: &str, what: &str) -> AppError {
    AppError::BadGateway(anyhow::anyhow!("WeChat {api}: unusable answer: {what}"))
}

fn string_field(v: &Value, name: &str) -> Option<String> {
    v.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The body, or `None` when it is larger than [`MAX_BODY`].
async fn read_limited(mut res: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = res.chunk().await? {
        if out.len() + chunk.len() > MAX_BODY {
            return Ok(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_answers_are_classified() {
        use reqwest::StatusCode as S;
        let ok = |b: &str| classify_send(S::OK, b.as_bytes(), &["oOPENID", "TOKEN"]);
        assert_eq!(
            ok(r#"{"errcode":0,"errmsg":"ok"}"#).unwrap(),
            Delivery::Sent
        );
        assert!(matches!(ok(r#"{"errcode":42001}"#), Err(Rejected(42001))));
        for c in [43101, 40003, 40037, 47003, 41030] {
            let d = ok(&format!(r#"{{"errcode":{c},"errmsg":"x"}}"#)).unwrap();
            assert!(
                matches!(d, Delivery::Permanent(ref r) if r.contains(&c.to_string())),
                "{d:?}"
            );
        }
        let d = ok(r#"{"errcode":45009,"errmsg":"bad oOPENID with TOKEN"}"#).unwrap();
        assert!(
            matches!(d, Delivery::Transient(ref r) if r.contains("45009") && !r.contains("oOPENID") && !r.contains("TOKEN")),
            "{d:?}"
        );
        assert!(matches!(
            ok(r#"{"errcode":-1}"#).unwrap(),
            Delivery::Transient(_)
        ));
        assert!(matches!(ok("<html>").unwrap(), Delivery::Transient(_)));
        let d = classify_send(S::BAD_GATEWAY, b"{}", &[]).unwrap();
        assert!(
            matches!(d, Delivery::Transient(ref r) if r.contains("502")),
            "{d:?}"
        );
    }

    #[test]
    fn shared_tokens_expire_before_wechat_expires_them() {
        assert_eq!(cache_ttl(7200), Duration::from_secs(6900));
        assert_eq!(cache_ttl(600), Duration::from_secs(300));
        assert_eq!(cache_ttl(1), Duration::from_secs(1));
    }
}
