//! Typed settings read from the environment once at start-up.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;

/// A value that must never be printed: `Debug` shows only that it is set.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Prod,
}

impl Environment {
    /// The value of `LINLI_ENV` (unset: development).
    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value {
            None | Some("dev") | Some("development") | Some("test") => Ok(Environment::Dev),
            Some("prod") | Some("production") => Ok(Environment::Prod),
            Some(other) => Err(invalid("LINLI_ENV", format!("unknown value {other:?}"))),
        }
    }
}

/// The PII key used when none is configured outside production. Public by design: it protects
/// nothing, and `LINLI_ENV=prod` refuses to start with it.
pub const DEV_PII_KEY_HEX: &str =
    "6c696e6c692d6465762d6f6e6c792d6b65792d6e6f742d612d73656372657421";

#[derive(Debug, Clone)]
pub struct Settings {
    pub env: Environment,
    pub bind: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    pub db_acquire_timeout: Duration,
    pub db_statement_timeout: Duration,
    /// Ping each connection before handing it out (off: see `db::connect`).
    pub db_ping_before_acquire: bool,
    pub redis_url: Option<String>,
    pub cache_prefix: String,
    pub jwt_secret: Secret<Vec<u8>>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub pii_key: Secret<[u8; 32]>,
    /// Earlier PII keys, still readable after a rotation (`LINLI_PII_PREVIOUS_KEYS`).
    pub pii_previous_keys: Vec<Secret<[u8; 32]>>,
    /// Key of the keyed hash used for exact lookups (`LINLI_PII_INDEX_KEY`; derived from the
    /// oldest PII key when unset). It must stay the same across key rotations.
    pub pii_index_key: Option<Secret<[u8; 32]>>,
    pub admin_username: Option<String>,
    pub admin_password: Option<Secret<String>>,
    pub wechat_appid: Option<String>,
    pub wechat_secret: Option<Secret<String>>,
    pub wechat_api_base: String,
    /// Time limit of one call to the WeChat server API (connect included).
    pub wechat_timeout: Duration,
    /// Subscribe-message template id per notification event (`LINLI_WECHAT_TEMPLATES`); events
    /// without one are not sent.
    pub wechat_templates: BTreeMap<String, String>,
    /// Mini-program page a subscribe message opens; `?id=<ticket id>` is appended.
    pub wechat_page: String,
    /// Mini-program page a notice's subscribe message opens; `?id=<notice id>` is appended.
    pub wechat_notice_page: String,
    /// Mini-program page a poll's subscribe message opens; `?id=<poll id>` is appended.
    pub wechat_poll_page: String,
    /// The mini-program page a proposal's messages open (`?id=<proposal id>` appended).
    pub wechat_proposal_page: String,
    pub job_interval: Duration,
    /// How long a message of the in-app message centre is kept once read
    /// (`LINLI_INBOX_RETENTION_DAYS`, default 90); unread ones are kept.
    pub inbox_retention: chrono::Duration,
    pub upload_dir: PathBuf,
    /// How long a signed photo URL is handed out for (`LINLI_ATTACHMENT_URL_TTL_SECS`); see
    /// `signed_urls`.
    pub attachment_url_ttl: Duration,
    pub json_limit: usize,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`LINLI_TRUSTED_PROXIES`); see `net`.
    pub trusted_proxies: Vec<crate::platform::net::IpNet>,
    /// How long a replica reports not-ready after SIGTERM before it closes its listener
    /// (`LINLI_DRAIN_SECS`).
    pub drain: std::time::Duration,
    /// Bearer token that `/metrics` requires (`LINLI_METRICS_TOKEN`); unset: `/metrics` is off.
    pub metrics_token: Option<Secret<String>>,
    /// Failed logins per username *and* client address before that pair waits (429); the owner
    /// signing in from elsewhere is never locked out by someone else's guesses.
    pub login_max_failures_per_user: u32,
    pub login_max_failures_per_ip: u32,
    pub login_failure_window: Duration,
    /// WeChat login attempts per client address per minute.
    pub wechat_login_max_per_ip: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is missing: it must be set when LINLI_ENV=prod")]
    MissingInProd(&'static str),
    #[error(
        "{0} is the development default or the .env.example placeholder: set a real secret \
         when LINLI_ENV=prod"
    )]
    DefaultInProd(&'static str),
    #[error(
        "{0} holds the .env.example placeholder password (change-me…): set a real password \
         when LINLI_ENV=prod"
    )]
    PlaceholderPasswordInProd(&'static str),
    #[error(
        "DATABASE_URL is SQLite, which LINLI_ENV=prod refuses: use PostgreSQL, or set \
         LINLI_ALLOW_SQLITE_IN_PROD=true for a deployment of one process"
    )]
    SqliteInProd,
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{name} names a file that cannot be read: {reason}")]
    SecretFile { name: String, reason: String },
}

/// Every problem found in the configuration, so an operator fixes them in one go instead of
/// one restart per mistake. Displayed one per line.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// The values `.env.example` ships for secrets and passwords all start with this; a deployment
/// that copied the file and forgot one must not start with a password anyone can read.
const PLACEHOLDER_PREFIX: &str = "change-me";

fn is_placeholder(value: &str) -> bool {
    value
        .trim()
        .get(..PLACEHOLDER_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PLACEHOLDER_PREFIX))
}

/// The password of `scheme://user:password@host/…`, if the URL has one.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _host) = authority.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

/// The key `DEV_PII_KEY_HEX` spells.
const DEV_PII_KEY: [u8; 32] = *b"linli-dev-only-key-not-a-secret!";

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

impl Settings {
    /// Read settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Read settings through `get`, so tests can build settings without touching the environment.
    ///
    /// Every problem is collected and reported together: a production start that fails lists
    /// all that must be fixed, not the first of them.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut r = Reader {
            raw: &get,
            problems: std::cell::RefCell::new(Vec::new()),
            prod: false,
        };
        let env = Environment::parse(r.get("LINLI_ENV").as_deref()).unwrap_or_else(|e| {
            r.fail(e);
            Environment::Dev
        });
        r.prod = env == Environment::Prod;

        let default_bind = SocketAddr::from(([127, 0, 0, 1], 8080));
        let bind = match r.get("LINLI_BIND") {
            None => default_bind,
            Some(b) => b.parse().unwrap_or_else(|_| {
                r.fail(invalid("LINLI_BIND", "expected host:port"));
                default_bind
            }),
        };
        let jwt_secret = r.jwt_secret();
        let (pii_key, pii_previous_keys, pii_index_key) = r.pii_keys();
        // Either may be set alone: `create-admin` takes the password without the username;
        // `serve` checks the pair (see `bootstrap_admin_problem`).
        let admin_username = r.get("LINLI_ADMIN_USERNAME");
        let admin_password = r.get("LINLI_ADMIN_PASSWORD").map(Secret::new);
        r.placeholder_in_prod(
            "LINLI_ADMIN_PASSWORD",
            admin_password.as_ref().map(|p| p.expose().as_str()),
        );
        let wechat_secret = r.get("LINLI_WECHAT_SECRET");
        r.placeholder_in_prod("LINLI_WECHAT_SECRET", wechat_secret.as_deref());
        let wechat_templates = parse_templates(r.get("LINLI_WECHAT_TEMPLATES").as_deref())
            .unwrap_or_else(|e| {
                r.fail(e);
                BTreeMap::new()
            });
        let wechat_page = r.wechat_page("LINLI_WECHAT_PAGE", "pages/tickets/detail");
        let wechat_notice_page = r.wechat_page("LINLI_WECHAT_NOTICE_PAGE", "pages/notices/detail");
        let wechat_poll_page = r.wechat_page("LINLI_WECHAT_POLL_PAGE", "pages/polls/detail");
        let wechat_proposal_page =
            r.wechat_page("LINLI_WECHAT_PROPOSAL_PAGE", "pages/proposals/detail");
        let trusted_proxies = r.trusted_proxies();
        let metrics_token = r.metrics_token();
        let attachment_url_ttl =
            r.num_in("LINLI_ATTACHMENT_URL_TTL_SECS", 600, 60..=3600, "seconds");
        let inbox_retention_days = r.num_in("LINLI_INBOX_RETENTION_DAYS", 90, 1..=3650, "days");
        let db_max_connections = r.num("LINLI_DB_MAX_CONNECTIONS", 0) as u32;
        let (database_url, redis_url) = r.stores();

        let settings = Settings {
            env,
            bind,
            db_max_connections,
            database_url,
            db_acquire_timeout: Duration::from_millis(r.num("LINLI_DB_ACQUIRE_TIMEOUT_MS", 3000)),
            db_statement_timeout: Duration::from_millis(
                r.num("LINLI_DB_STATEMENT_TIMEOUT_MS", 10_000),
            ),
            db_ping_before_acquire: flag(r.get("LINLI_DB_PING_BEFORE_ACQUIRE").as_deref()),
            redis_url,
            cache_prefix: r
                .get("LINLI_CACHE_PREFIX")
                .unwrap_or_else(|| "linli:".into()),
            jwt_secret: Secret::new(jwt_secret),
            jwt_issuer: "linli".into(),
            jwt_audience: "linli-api".into(),
            access_token_ttl: Duration::from_secs(r.num("LINLI_ACCESS_TOKEN_TTL_SECS", 900)),
            refresh_token_ttl: Duration::from_secs(
                r.num("LINLI_REFRESH_TOKEN_TTL_DAYS", 30) * 86_400,
            ),
            pii_key: Secret::new(pii_key),
            pii_previous_keys,
            pii_index_key,
            admin_username,
            admin_password,
            wechat_appid: r.get("LINLI_WECHAT_APPID"),
            wechat_secret: wechat_secret.map(Secret::new),
            wechat_api_base: r
                .get("LINLI_WECHAT_API_BASE")
                .unwrap_or_else(|| "https://api.weixin.qq.com".into()),
            wechat_timeout: Duration::from_millis(r.num("LINLI_WECHAT_TIMEOUT_MS", 5000).max(1)),
            wechat_templates,
            wechat_page,
            wechat_notice_page,
            wechat_poll_page,
            wechat_proposal_page,
            job_interval: Duration::from_secs(r.num("LINLI_JOB_INTERVAL_SECS", 60).max(1)),
            inbox_retention: chrono::Duration::days(inbox_retention_days.min(3650) as i64),
            upload_dir: r
                .get("LINLI_UPLOAD_DIR")
                .unwrap_or_else(|| "./uploads".into())
                .into(),
            attachment_url_ttl: Duration::from_secs(attachment_url_ttl),
            json_limit: r.num("LINLI_JSON_LIMIT_BYTES", 64 * 1024) as usize,
            workers: r.num("LINLI_WORKERS", 0) as usize,
            trusted_proxies,
            metrics_token,
            drain: Duration::from_secs(r.num("LINLI_DRAIN_SECS", 5).min(300)),
            login_max_failures_per_user: r.num("LINLI_LOGIN_MAX_FAILURES_PER_USER", 5) as u32,
            login_max_failures_per_ip: r.num("LINLI_LOGIN_MAX_FAILURES_PER_IP", 20) as u32,
            wechat_login_max_per_ip: r.num("LINLI_WECHAT_LOGIN_MAX_PER_IP", 60) as u32,
            login_failure_window: Duration::from_secs(
                r.num("LINLI_LOGIN_FAILURE_WINDOW_SECS", 900),
            ),
        };
        let problems = r.problems.into_inner();
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigErrors(problems))
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// `serve` creates the bootstrap admin from both variables; one without the other would
    /// silently create nobody. (`create-admin` takes the password alone.)
    pub fn bootstrap_admin_problem(&self) -> Option<ConfigError> {
        (self.admin_username.is_some() != self.admin_password.is_some()).then(|| {
            invalid(
                "LINLI_ADMIN_USERNAME",
                "LINLI_ADMIN_USERNAME and LINLI_ADMIN_PASSWORD must be set together to create \
                 the bootstrap admin at start",
            )
        })
    }

    /// What works but is worth an operator's attention: logged by `serve` at start.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.env == Environment::Prod && self.redis_url.is_none() {
            out.push(
                "REDIS_URL is unset: the cache is in-process, so token revocation, rate limits \
                 and the WeChat access token are not shared; run a single replica or set \
                 REDIS_URL",
            );
        }
        if self.env == Environment::Prod && self.is_sqlite() {
            out.push(
                "SQLite in production (LINLI_ALLOW_SQLITE_IN_PROD=true): run a single process \
                 and back up the database file",
            );
        }
        out
    }
}

/// A boolean switch: `true` or `1` (anything else, or unset, is off).
/// Reads the variables of one start, collecting every problem instead of stopping at the first.
struct Reader<'a> {
    raw: &'a dyn Fn(&str) -> Option<String>,
    problems: std::cell::RefCell<Vec<ConfigError>>,
    prod: bool,
}

impl Reader<'_> {
    fn fail(&self, e: ConfigError) {
        self.problems.borrow_mut().push(e);
    }

    /// The variable, or the contents of the file its `_FILE` twin names (`LINLI_JWT_SECRET_FILE`,
    /// `DATABASE_URL_FILE`, …: Docker and Kubernetes secrets), so secrets need not sit in the
    /// environment. The variable itself wins when both are set.
    fn get(&self, k: &str) -> Option<String> {
        if let Some(v) = (self.raw)(k) {
            return Some(v);
        }
        let name = format!("{k}_FILE");
        let path = (self.raw)(&name)?;
        match std::fs::read_to_string(&path) {
            Ok(v) => Some(v.trim_end_matches(['\n', '\r']).to_string()).filter(|v| !v.is_empty()),
            Err(e) => {
                self.fail(ConfigError::SecretFile {
                    name,
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    /// A secret that still holds the .env.example placeholder, in production.
    fn placeholder_in_prod(&self, name: &'static str, value: Option<&str>) {
        if self.prod && value.is_some_and(is_placeholder) {
            self.fail(ConfigError::PlaceholderPasswordInProd(name));
        }
    }

    fn num(&self, name: &'static str, default: u64) -> u64 {
        match self.get(name) {
            None => default,
            Some(v) => v.parse::<u64>().unwrap_or_else(|_| {
                self.fail(invalid(name, "expected a whole number"));
                default
            }),
        }
    }

    /// [`Reader::num`] that must lie in `range` (in `unit`).
    fn num_in(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
        unit: &str,
    ) -> u64 {
        let n = self.num(name, default);
        if !range.contains(&n) {
            self.fail(invalid(
                name,
                format!("expected {} to {} {unit}", range.start(), range.end()),
            ));
        }
        n
    }

    fn jwt_secret(&self) -> Vec<u8> {
        let random_key = || {
            use rand::RngCore;
            let mut key = vec![0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            key
        };
        match self.get("LINLI_JWT_SECRET") {
            Some(s) if self.prod && is_placeholder(&s) => {
                self.fail(ConfigError::DefaultInProd("LINLI_JWT_SECRET"));
                random_key()
            }
            Some(s) if s.len() < 32 => {
                self.fail(invalid("LINLI_JWT_SECRET", "must be at least 32 bytes"));
                random_key()
            }
            Some(s) => s.into_bytes(),
            None if self.prod => {
                self.fail(ConfigError::MissingInProd("LINLI_JWT_SECRET"));
                random_key()
            }
            None => random_key(),
        }
    }

    /// The current PII key, the previous ones still readable, and the lookup-hash key.
    #[allow(clippy::type_complexity)]
    fn pii_keys(&self) -> ([u8; 32], Vec<Secret<[u8; 32]>>, Option<Secret<[u8; 32]>>) {
        let prod = self.prod;
        let current = match self.get("LINLI_PII_KEY") {
            Some(s) if prod && is_placeholder(&s) => {
                self.fail(ConfigError::DefaultInProd("LINLI_PII_KEY"));
                DEV_PII_KEY
            }
            Some(s) => match decode_key(&s) {
                Some(key) if prod && key == DEV_PII_KEY => {
                    self.fail(ConfigError::DefaultInProd("LINLI_PII_KEY"));
                    key
                }
                Some(key) => key,
                None => {
                    self.fail(invalid(
                        "LINLI_PII_KEY",
                        "expected 32 bytes as hex or base64",
                    ));
                    DEV_PII_KEY
                }
            },
            None if prod => {
                self.fail(ConfigError::MissingInProd("LINLI_PII_KEY"));
                DEV_PII_KEY
            }
            None => DEV_PII_KEY,
        };
        let previous = self
            .list("LINLI_PII_PREVIOUS_KEYS")
            .into_iter()
            .filter_map(|k| {
                let key = decode_key(&k).map(Secret::new);
                if key.is_none() {
                    self.fail(invalid(
                        "LINLI_PII_PREVIOUS_KEYS",
                        "each key: 32 bytes as hex or base64",
                    ));
                }
                key
            })
            .collect();
        let index = self.get("LINLI_PII_INDEX_KEY").and_then(|k| {
            let key = decode_key(&k).map(Secret::new);
            if key.is_none() {
                self.fail(invalid(
                    "LINLI_PII_INDEX_KEY",
                    "expected 32 bytes as hex or base64",
                ));
            }
            key
        });
        (current, previous, index)
    }

    /// The comma-separated items of a variable, trimmed, empty ones dropped.
    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A mini-program page path (`name`, else `default`): no query string, no spaces.
    fn wechat_page(&self, name: &'static str, default: &str) -> String {
        let page = self
            .get(name)
            .map(|p| p.trim().trim_start_matches('/').to_string())
            .unwrap_or_else(|| default.into());
        if page.is_empty()
            || page.contains('?')
            || page.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            self.fail(invalid(
                name,
                "expected a mini-program page path such as pages/tickets/detail (no query string)",
            ));
        }
        page
    }

    fn trusted_proxies(&self) -> Vec<crate::platform::net::IpNet> {
        if self.get("LINLI_TRUST_FORWARDED_FOR").is_some() {
            self.fail(invalid(
                "LINLI_TRUST_FORWARDED_FOR",
                "replaced by LINLI_TRUSTED_PROXIES (the addresses or ranges of your reverse \
                 proxies, e.g. 10.0.0.0/8): trusting every X-Forwarded-For let clients choose \
                 their own address",
            ));
        }
        self.list("LINLI_TRUSTED_PROXIES")
            .into_iter()
            .filter_map(|p| {
                let net = crate::platform::net::IpNet::parse(&p);
                if net.is_none() {
                    self.fail(invalid(
                        "LINLI_TRUSTED_PROXIES",
                        format!("{p:?} is not an address or a range such as 10.0.0.0/8"),
                    ));
                }
                net
            })
            .collect()
    }

    fn metrics_token(&self) -> Option<Secret<String>> {
        match self.get("LINLI_METRICS_TOKEN") {
            Some(t) if t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                self.fail(invalid(
                    "LINLI_METRICS_TOKEN",
                    "at least 16 visible characters",
                ));
                None
            }
            t => {
                self.placeholder_in_prod("LINLI_METRICS_TOKEN", t.as_deref());
                t.map(Secret::new)
            }
        }
    }

    /// `DATABASE_URL` (SQLite by default) and `REDIS_URL`.
    fn stores(&self) -> (String, Option<String>) {
        let database_url = self
            .get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://linli.db?mode=rwc".into());
        let sqlite = database_url.starts_with("sqlite:");
        if !(sqlite || database_url.starts_with("postgres")) {
            self.fail(invalid(
                "DATABASE_URL",
                "expected a sqlite:// or postgres:// URL",
            ));
        }
        // SQLite is one file on one machine with one writer: several replicas cannot share it,
        // and a container's filesystem is easily lost. A deliberate single-process deployment
        // may still say so.
        if self.prod && sqlite && !flag(self.get("LINLI_ALLOW_SQLITE_IN_PROD").as_deref()) {
            self.fail(ConfigError::SqliteInProd);
        }
        self.placeholder_in_prod("DATABASE_URL", url_password(&database_url));
        let redis_url = self.get("REDIS_URL");
        self.placeholder_in_prod("REDIS_URL", redis_url.as_deref().and_then(url_password));
        (database_url, redis_url)
    }
}

fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("1") | Some("true"))
}

/// `event=template_id,event=template_id`; every event must be one the outbox knows.
fn parse_templates(raw: Option<&str>) -> Result<BTreeMap<String, String>, ConfigError> {
    const NAME: &str = "LINLI_WECHAT_TEMPLATES";
    let mut out = BTreeMap::new();
    let Some(raw) = raw else {
        return Ok(out);
    };
    let known = || {
        crate::platform::notifications::Event::ALL
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for item in raw.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((event, template)) = item.split_once('=') else {
            return Err(invalid(
                NAME,
                format!("{item:?} is not event=template_id (e.g. ticket_status_changed=AbC123)"),
            ));
        };
        let (event, template) = (event.trim(), template.trim());
        if crate::platform::notifications::Event::parse(event).is_none() {
            return Err(invalid(
                NAME,
                format!("unknown event {event:?}; known events: {}", known()),
            ));
        }
        if template.is_empty()
            || template
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                NAME,
                format!("the template id of {event} is empty or contains spaces"),
            ));
        }
        if out
            .insert(event.to_string(), template.to_string())
            .is_some()
        {
            return Err(invalid(NAME, format!("{event} is configured twice")));
        }
    }
    Ok(out)
}

fn decode_key(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(s).ok()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(s).ok()?
    };
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn prod_refuses_to_start_without_a_jwt_secret_and_names_it() {
        let err = settings(&[("LINLI_ENV", "prod"), ("LINLI_PII_KEY", &"ab".repeat(32))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("LINLI_JWT_SECRET"), "{err}");
    }

    #[test]
    fn prod_refuses_the_dev_pii_key_and_a_missing_one() {
        let secret = "s".repeat(40);
        let err = settings(&[("LINLI_ENV", "prod"), ("LINLI_JWT_SECRET", &secret)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("LINLI_PII_KEY") && err.contains("missing"),
            "{err}"
        );
        let err = settings(&[
            ("LINLI_ENV", "prod"),
            ("LINLI_JWT_SECRET", &secret),
            ("LINLI_PII_KEY", DEV_PII_KEY_HEX),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("LINLI_PII_KEY") && err.contains("default"),
            "{err}"
        );
    }

    #[test]
    fn prod_starts_with_real_secrets_and_dev_starts_with_none() {
        let ok = settings(&[
            ("LINLI_ENV", "prod"),
            ("LINLI_JWT_SECRET", &"s".repeat(40)),
            ("LINLI_PII_KEY", &"ab".repeat(32)),
            (
                "DATABASE_URL",
                "postgres://linli:a-real-password@db:5432/linli",
            ),
        ]);
        assert!(ok.is_ok(), "{:?}", ok.err());
        let dev = settings(&[]).unwrap();
        assert_eq!(dev.env, Environment::Dev);
        assert_eq!(dev.jwt_secret.expose().len(), 32);
        assert!(dev.is_sqlite());
    }

    #[test]
    fn short_jwt_secret_is_refused() {
        assert!(settings(&[("LINLI_JWT_SECRET", "short")]).is_err());
    }

    #[test]
    fn wechat_templates_are_read_per_event_and_bad_ones_refused() {
        let s = settings(&[(
            "LINLI_WECHAT_TEMPLATES",
            " ticket_status_changed=tmplA , ticket_escalated=tmplB,",
        )])
        .unwrap();
        assert_eq!(s.wechat_templates.len(), 2);
        assert_eq!(s.wechat_templates["ticket_status_changed"], "tmplA");
        assert_eq!(s.wechat_templates["ticket_escalated"], "tmplB");
        assert_eq!(s.wechat_page, "pages/tickets/detail");
        assert_eq!(s.wechat_notice_page, "pages/notices/detail");
        assert!(settings(&[]).unwrap().wechat_templates.is_empty());
        for bad in [
            "ticket_status_changed",
            "ticket_closed=tmplA",
            "ticket_urged=",
            "ticket_urged=a b",
            "ticket_urged=a,ticket_urged=b",
        ] {
            let err = settings(&[("LINLI_WECHAT_TEMPLATES", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.contains("LINLI_WECHAT_TEMPLATES"), "{bad}: {err}");
        }
        let err = settings(&[("LINLI_WECHAT_TEMPLATES", "ticket_closed=x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ticket_status_changed"), "{err}");
    }

    #[test]
    fn wechat_page_is_a_path_without_a_query() {
        let s = settings(&[("LINLI_WECHAT_PAGE", "/pages/t/d")]).unwrap();
        assert_eq!(s.wechat_page, "pages/t/d");
        assert!(settings(&[("LINLI_WECHAT_PAGE", "pages/t?id=1")]).is_err());
        let s = settings(&[("LINLI_WECHAT_NOTICE_PAGE", "/pages/n/d")]).unwrap();
        assert_eq!(s.wechat_notice_page, "pages/n/d");
        let err = settings(&[("LINLI_WECHAT_NOTICE_PAGE", "pages/n d")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("LINLI_WECHAT_NOTICE_PAGE"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_ranges_and_the_old_switch_is_refused_by_name() {
        let s = settings(&[("LINLI_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        let err = settings(&[("LINLI_TRUSTED_PROXIES", "10.0.0.0/40")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("LINLI_TRUSTED_PROXIES"), "{err}");
        let err = settings(&[("LINLI_TRUST_FORWARDED_FOR", "true")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("LINLI_TRUSTED_PROXIES"), "{err}");
    }

    #[test]
    fn secrets_can_come_from_files_and_an_unreadable_file_is_named() {
        let dir = std::env::temp_dir().join(format!("linli-secret-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("jwt");
        std::fs::write(&file, format!("{}\n", "f".repeat(40))).unwrap();
        let s = settings(&[("LINLI_JWT_SECRET_FILE", file.to_str().unwrap())]).unwrap();
        assert_eq!(s.jwt_secret.expose(), &"f".repeat(40).into_bytes());
        let missing = dir.join("nope");
        let err = settings(&[("LINLI_PII_KEY_FILE", missing.to_str().unwrap())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("LINLI_PII_KEY_FILE"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_short_metrics_token_is_refused() {
        assert!(settings(&[("LINLI_METRICS_TOKEN", "short")]).is_err());
        let s = settings(&[("LINLI_METRICS_TOKEN", "a-long-enough-metrics-token")]).unwrap();
        assert!(s.metrics_token.is_some());
    }

    /// The variables `docker compose` hands the container when `.env` is `.env.example` as it
    /// ships, with the commented bootstrap admin switched on.
    fn env_example_in_compose() -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = include_str!("../../.env.example")
            .lines()
            .filter_map(|l| {
                // The file's settings, and the bootstrap admin's, which it ships commented out.
                let line = match l.strip_prefix("# ") {
                    Some(rest) if rest.starts_with("LINLI_ADMIN_") => rest,
                    _ => l,
                };
                let (k, v) = line.split_once('=').filter(|_| !line.starts_with('#'))?;
                (!v.is_empty()).then(|| (k.to_string(), v.to_string()))
            })
            .collect();
        let postgres_password = vars
            .iter()
            .find(|(k, _)| k == "POSTGRES_PASSWORD")
            .map(|(_, v)| v.clone())
            .unwrap();
        // docker-compose.yml's `environment:`.
        vars.push((
            "DATABASE_URL".into(),
            format!("postgres://linli:{postgres_password}@db:5432/linli"),
        ));
        vars.push(("REDIS_URL".into(), "redis://redis:6379".into()));
        vars.push(("LINLI_ENV".into(), "prod".into()));
        vars.push(("LINLI_BIND".into(), "0.0.0.0:8080".into()));
        vars
    }

    fn settings_owned(vars: &[(String, String)]) -> Result<Settings, ConfigErrors> {
        let map: HashMap<String, String> = vars.iter().cloned().collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn prod_lists_every_problem_at_once_one_per_line() {
        let err = settings(&[("LINLI_ENV", "prod")]).unwrap_err();
        assert_eq!(err.0.len(), 3, "{err}");
        let printed = err.to_string();
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 3, "{printed}");
        assert!(lines[0].contains("LINLI_JWT_SECRET"), "{printed}");
        assert!(lines[1].contains("LINLI_PII_KEY"), "{printed}");
        assert!(
            lines[2].contains("SQLite") && lines[2].contains("LINLI_ALLOW_SQLITE_IN_PROD"),
            "{printed}"
        );
    }

    #[test]
    fn prod_refuses_every_placeholder_of_env_example_and_compose_together() {
        let vars = env_example_in_compose();
        assert!(
            vars.iter().any(|(k, _)| k == "LINLI_ADMIN_PASSWORD"),
            "{vars:?}"
        );
        let printed = settings_owned(&vars).unwrap_err().to_string();
        for name in [
            "LINLI_JWT_SECRET",
            "LINLI_PII_KEY",
            "DATABASE_URL",
            "LINLI_ADMIN_PASSWORD",
        ] {
            assert_eq!(
                printed.lines().filter(|l| l.starts_with(name)).count(),
                1,
                "{name} once in:\n{printed}"
            );
        }
        assert_eq!(printed.lines().count(), 4, "{printed}");

        // With real values the same file starts.
        let real: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "LINLI_JWT_SECRET" => (k, "j".repeat(48)),
                "LINLI_PII_KEY" => (k, "cd".repeat(32)),
                "LINLI_ADMIN_PASSWORD" => (k, "a-real-admin-password".into()),
                "DATABASE_URL" => (k, "postgres://linli:0a1b2c3d@db:5432/linli".into()),
                _ => (k, v),
            })
            .collect();
        let s = settings_owned(&real).unwrap();
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn a_placeholder_password_is_refused_in_prod_only() {
        let prod = [
            ("LINLI_ENV", "prod"),
            ("LINLI_JWT_SECRET", &"s".repeat(40)),
            ("LINLI_PII_KEY", &"ab".repeat(32)),
            ("LINLI_ADMIN_USERNAME", "admin"),
            ("LINLI_ADMIN_PASSWORD", "Change-Me-admin-password"),
            (
                "DATABASE_URL",
                "postgres://linli:change-me-postgres-password@db:5432/linli",
            ),
            ("REDIS_URL", "redis://:change-me@redis:6379"),
            ("LINLI_WECHAT_SECRET", "change-me"),
            ("LINLI_METRICS_TOKEN", "change-me-metrics-token"),
        ];
        let printed = settings(&prod).unwrap_err().to_string();
        for name in [
            "LINLI_ADMIN_PASSWORD",
            "DATABASE_URL",
            "REDIS_URL",
            "LINLI_WECHAT_SECRET",
            "LINLI_METRICS_TOKEN",
        ] {
            assert!(
                printed
                    .lines()
                    .any(|l| l.starts_with(name) && l.contains("placeholder")),
                "{name}: {printed}"
            );
        }
        assert!(
            !printed.contains("change-me-postgres-password"),
            "{printed}"
        );
        assert!(settings(&prod[3..]).is_ok(), "dev takes them");
    }

    #[test]
    fn prod_refuses_sqlite_unless_allowed_and_warns_without_redis() {
        let secrets = [
            ("LINLI_ENV", "prod"),
            ("LINLI_JWT_SECRET", &"s".repeat(40)),
            ("LINLI_PII_KEY", &"ab".repeat(32)),
        ];
        let err = settings(&secrets).unwrap_err();
        assert!(matches!(err.0[..], [ConfigError::SqliteInProd]), "{err}");
        let mut allowed = secrets.to_vec();
        allowed.push(("LINLI_ALLOW_SQLITE_IN_PROD", "false"));
        assert!(settings(&allowed).is_err());
        allowed.pop();
        allowed.push(("LINLI_ALLOW_SQLITE_IN_PROD", "true"));
        let s = settings(&allowed).unwrap();
        let warnings = s.warnings();
        assert!(
            warnings.iter().any(|w| w.starts_with("REDIS_URL")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("SQLite")),
            "{warnings:?}"
        );

        allowed.pop();
        allowed.push(("DATABASE_URL", "postgres://linli:pw@db/linli"));
        allowed.push(("REDIS_URL", "redis://redis:6379"));
        assert!(settings(&allowed).unwrap().warnings().is_empty());
        // Development warns about neither.
        assert!(settings(&[]).unwrap().warnings().is_empty());
    }

    #[test]
    fn the_dev_pii_key_is_refused_in_prod_in_any_spelling() {
        assert_eq!(decode_key(DEV_PII_KEY_HEX), Some(DEV_PII_KEY));
        let b64 = base64::engine::general_purpose::STANDARD.encode(DEV_PII_KEY);
        let err = settings(&[
            ("LINLI_ENV", "prod"),
            ("LINLI_JWT_SECRET", &"s".repeat(40)),
            ("LINLI_PII_KEY", &b64),
            ("LINLI_ALLOW_SQLITE_IN_PROD", "true"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("LINLI_PII_KEY") && err.contains("default"),
            "{err}"
        );
    }

    #[test]
    fn malformed_values_are_all_reported_too() {
        let err = settings(&[
            ("LINLI_BIND", "nowhere"),
            ("LINLI_WORKERS", "two"),
            ("LINLI_JWT_SECRET", "short"),
            ("LINLI_TRUSTED_PROXIES", "10.0.0.0/40"),
            ("DATABASE_URL", "mysql://x"),
        ])
        .unwrap_err()
        .to_string();
        for name in [
            "LINLI_BIND",
            "LINLI_WORKERS",
            "LINLI_JWT_SECRET",
            "LINLI_TRUSTED_PROXIES",
            "DATABASE_URL",
        ] {
            assert!(err.lines().any(|l| l.starts_with(name)), "{name}: {err}");
        }
    }

    #[test]
    fn the_admin_password_may_come_alone_and_serve_checks_the_pair() {
        let alone = settings(&[("LINLI_ADMIN_PASSWORD", "a-long-password")]).unwrap();
        assert!(alone.admin_password.is_some());
        let problem = alone.bootstrap_admin_problem().unwrap().to_string();
        assert!(problem.contains("set together"), "{problem}");
        let name_only = settings(&[("LINLI_ADMIN_USERNAME", "admin")]).unwrap();
        assert!(name_only.bootstrap_admin_problem().is_some());
        let both = settings(&[
            ("LINLI_ADMIN_USERNAME", "admin"),
            ("LINLI_ADMIN_PASSWORD", "a-long-password"),
        ])
        .unwrap();
        assert!(both.bootstrap_admin_problem().is_none());
        assert!(settings(&[]).unwrap().bootstrap_admin_problem().is_none());
    }

    #[test]
    fn url_passwords_are_found_where_they_are() {
        assert_eq!(url_password("postgres://u:p@h:5432/d"), Some("p"));
        assert_eq!(url_password("postgres://u:p:q@h/d?x=@"), Some("p:q"));
        assert_eq!(url_password("postgres://u@h/d"), None);
        assert_eq!(url_password("redis://:secret@r:6379"), Some("secret"));
        assert_eq!(url_password("sqlite://linli.db?mode=rwc"), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[("LINLI_JWT_SECRET", &"x".repeat(40))]).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains(&"x".repeat(40)));
    }
}
