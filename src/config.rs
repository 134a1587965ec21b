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
    pub job_interval: Duration,
    pub upload_dir: PathBuf,
    pub json_limit: usize,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Proxies whose `X-Forwarded-For` is believed (`LINLI_TRUSTED_PROXIES`); see `net`.
    pub trusted_proxies: Vec<crate::net::IpNet>,
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
    #[error("{0} is the development default: set a real secret when LINLI_ENV=prod")]
    DefaultInProd(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

impl Settings {
    /// Read settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Read settings through `get`, so tests can build settings without touching the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = match get("LINLI_ENV").as_deref() {
            None | Some("dev") | Some("development") | Some("test") => Environment::Dev,
            Some("prod") | Some("production") => Environment::Prod,
            Some(other) => return Err(invalid("LINLI_ENV", format!("unknown value {other:?}"))),
        };
        let prod = env == Environment::Prod;

        let parse_num = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .map_err(|_| invalid(name, "expected a whole number")),
            }
        };

        let bind = get("LINLI_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|_| invalid("LINLI_BIND", "expected host:port"))?;

        let jwt_secret = match get("LINLI_JWT_SECRET") {
            Some(s) if s.len() < 32 => {
                return Err(invalid("LINLI_JWT_SECRET", "must be at least 32 bytes"))
            }
            Some(s) if prod && s.starts_with("change-me") => {
                return Err(ConfigError::DefaultInProd("LINLI_JWT_SECRET"))
            }
            Some(s) => s.into_bytes(),
            None if prod => return Err(ConfigError::MissingInProd("LINLI_JWT_SECRET")),
            None => {
                use rand::RngCore;
                let mut key = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                key
            }
        };

        let pii_key = match get("LINLI_PII_KEY") {
            Some(s) => {
                let key = decode_key(&s).ok_or_else(|| {
                    invalid("LINLI_PII_KEY", "expected 32 bytes as hex or base64")
                })?;
                if prod && s.eq_ignore_ascii_case(DEV_PII_KEY_HEX) {
                    return Err(ConfigError::DefaultInProd("LINLI_PII_KEY"));
                }
                key
            }
            None if prod => return Err(ConfigError::MissingInProd("LINLI_PII_KEY")),
            None => {
                decode_key(DEV_PII_KEY_HEX).ok_or_else(|| invalid("LINLI_PII_KEY", "dev key"))?
            }
        };

        let pii_previous_keys = match get("LINLI_PII_PREVIOUS_KEYS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| {
                    decode_key(k).map(Secret::new).ok_or_else(|| {
                        invalid(
                            "LINLI_PII_PREVIOUS_KEYS",
                            "each key: 32 bytes as hex or base64",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let pii_index_key = match get("LINLI_PII_INDEX_KEY") {
            None => None,
            Some(k) => Some(Secret::new(decode_key(&k).ok_or_else(|| {
                invalid("LINLI_PII_INDEX_KEY", "expected 32 bytes as hex or base64")
            })?)),
        };

        let admin_username = get("LINLI_ADMIN_USERNAME");
        let admin_password = get("LINLI_ADMIN_PASSWORD").map(Secret::new);
        if admin_username.is_some() != admin_password.is_some() {
            return Err(invalid(
                "LINLI_ADMIN_USERNAME",
                "LINLI_ADMIN_USERNAME and LINLI_ADMIN_PASSWORD must be set together",
            ));
        }

        let wechat_templates = parse_templates(get("LINLI_WECHAT_TEMPLATES").as_deref())?;
        let wechat_page = get("LINLI_WECHAT_PAGE")
            .map(|p| p.trim().trim_start_matches('/').to_string())
            .unwrap_or_else(|| "pages/tickets/detail".into());
        if wechat_page.is_empty()
            || wechat_page.contains('?')
            || wechat_page
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "LINLI_WECHAT_PAGE",
                "expected a mini-program page path such as pages/tickets/detail (no query string)",
            ));
        }

        if get("LINLI_TRUST_FORWARDED_FOR").is_some() {
            return Err(invalid(
                "LINLI_TRUST_FORWARDED_FOR",
                "replaced by LINLI_TRUSTED_PROXIES (the addresses or ranges of your reverse \
                 proxies, e.g. 10.0.0.0/8): trusting every X-Forwarded-For let clients choose \
                 their own address",
            ));
        }
        let trusted_proxies = match get("LINLI_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    crate::net::IpNet::parse(p).ok_or_else(|| {
                        invalid(
                            "LINLI_TRUSTED_PROXIES",
                            format!("{p:?} is not an address or a range such as 10.0.0.0/8"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let metrics_token = match get("LINLI_METRICS_TOKEN") {
            Some(t) if t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(invalid(
                    "LINLI_METRICS_TOKEN",
                    "at least 16 visible characters",
                ))
            }
            t => t.map(Secret::new),
        };

        let db_max_connections = parse_num("LINLI_DB_MAX_CONNECTIONS", 0)? as u32;
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| "sqlite://linli.db?mode=rwc".into());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(invalid(
                "DATABASE_URL",
                "expected a sqlite:// or postgres:// URL",
            ));
        }

        Ok(Settings {
            env,
            bind,
            db_max_connections,
            database_url,
            db_acquire_timeout: Duration::from_millis(parse_num(
                "LINLI_DB_ACQUIRE_TIMEOUT_MS",
                3000,
            )?),
            db_statement_timeout: Duration::from_millis(parse_num(
                "LINLI_DB_STATEMENT_TIMEOUT_MS",
                10_000,
            )?),
            db_ping_before_acquire: matches!(
                get("LINLI_DB_PING_BEFORE_ACQUIRE").as_deref(),
                Some("1") | Some("true")
            ),
            redis_url: get("REDIS_URL"),
            cache_prefix: get("LINLI_CACHE_PREFIX").unwrap_or_else(|| "linli:".into()),
            jwt_secret: Secret::new(jwt_secret),
            jwt_issuer: "linli".into(),
            jwt_audience: "linli-api".into(),
            access_token_ttl: Duration::from_secs(parse_num("LINLI_ACCESS_TOKEN_TTL_SECS", 900)?),
            refresh_token_ttl: Duration::from_secs(
                parse_num("LINLI_REFRESH_TOKEN_TTL_DAYS", 30)? * 86_400,
            ),
            pii_key: Secret::new(pii_key),
            pii_previous_keys,
            pii_index_key,
            admin_username,
            admin_password,
            wechat_appid: get("LINLI_WECHAT_APPID"),
            wechat_secret: get("LINLI_WECHAT_SECRET").map(Secret::new),
            wechat_api_base: get("LINLI_WECHAT_API_BASE")
                .unwrap_or_else(|| "https://api.weixin.qq.com".into()),
            wechat_timeout: Duration::from_millis(
                parse_num("LINLI_WECHAT_TIMEOUT_MS", 5000)?.max(1),
            ),
            wechat_templates,
            wechat_page,
            job_interval: Duration::from_secs(parse_num("LINLI_JOB_INTERVAL_SECS", 60)?.max(1)),
            upload_dir: get("LINLI_UPLOAD_DIR")
                .unwrap_or_else(|| "./uploads".into())
                .into(),
            json_limit: parse_num("LINLI_JSON_LIMIT_BYTES", 64 * 1024)? as usize,
            workers: parse_num("LINLI_WORKERS", 0)? as usize,
            trusted_proxies,
            metrics_token,
            drain: Duration::from_secs(parse_num("LINLI_DRAIN_SECS", 5)?.min(300)),
            login_max_failures_per_user: parse_num("LINLI_LOGIN_MAX_FAILURES_PER_USER", 5)? as u32,
            login_max_failures_per_ip: parse_num("LINLI_LOGIN_MAX_FAILURES_PER_IP", 20)? as u32,
            wechat_login_max_per_ip: parse_num("LINLI_WECHAT_LOGIN_MAX_PER_IP", 60)? as u32,
            login_failure_window: Duration::from_secs(parse_num(
                "LINLI_LOGIN_FAILURE_WINDOW_SECS",
                900,
            )?),
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// `event=template_id,event=template_id`; every event must be one the outbox knows.
fn parse_templates(raw: Option<&str>) -> Result<BTreeMap<String, String>, ConfigError> {
    const NAME: &str = "LINLI_WECHAT_TEMPLATES";
    let mut out = BTreeMap::new();
    let Some(raw) = raw else {
        return Ok(out);
    };
    let known = || {
        crate::services::notifications::Event::ALL
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
        if crate::services::notifications::Event::parse(event).is_none() {
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

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
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
        ]);
        assert!(ok.is_ok());
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
    fn a_short_metrics_token_is_refused() {
        assert!(settings(&[("LINLI_METRICS_TOKEN", "short")]).is_err());
        let s = settings(&[("LINLI_METRICS_TOKEN", "a-long-enough-metrics-token")]).unwrap();
        assert!(s.metrics_token.is_some());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[("LINLI_JWT_SECRET", &"x".repeat(40))]).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains(&"x".repeat(40)));
    }
}
