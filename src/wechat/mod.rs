//! The WeChat server API client (jscode2session, access token, getuserphonenumber).

use std::time::Duration;

use crate::cache::SharedCache;
use crate::config::{Secret, Settings};

#[allow(dead_code)] // filled in by the WeChat client work in progress
pub struct WeChatClient {
    http: reqwest::Client,
    base: String,
    appid: Option<String>,
    secret: Option<Secret<String>>,
    cache: SharedCache,
}

impl WeChatClient {
    pub fn new(settings: &Settings, cache: SharedCache) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .build()?;
        Ok(Self {
            http,
            base: settings.wechat_api_base.trim_end_matches('/').to_string(),
            appid: settings.wechat_appid.clone(),
            secret: settings.wechat_secret.clone(),
            cache,
        })
    }
}
