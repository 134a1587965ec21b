//! The language of what people read: Simplified Chinese unless the request asks for English.
//!
//! Residents and staff read Chinese; `Accept-Language: en` (or any English tag preferred over
//! Chinese) switches problem `title`, `detail` and field `message` to English for developers and
//! tooling. The language is chosen once per request by the request-context middleware and held in
//! a task-local, so code deep in a service builds a [`Text`] with both languages and never needs
//! the request to pick one.

use std::borrow::Cow;
use std::future::Future;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Reads an `Accept-Language` value: the highest-weighted tag that is Chinese or English
    /// wins; anything else, or nothing, is Chinese. Malformed parts are skipped.
    pub fn from_accept_language(value: Option<&str>) -> Lang {
        let Some(value) = value else {
            return Lang::Zh;
        };
        let mut best: Option<(u16, Lang)> = None;
        for part in value.split(',').take(16) {
            let mut pieces = part.split(';');
            let tag = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let mut weight: u16 = 1000;
            for param in pieces {
                let param = param.trim();
                if let Some(q) = param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                {
                    weight = parse_q(q).unwrap_or(0);
                }
            }
            let lang = if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else {
                continue;
            };
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// `q` values are at most three decimals between 0 and 1 (RFC 9110 §12.4.2), read as 0..=1000.
fn parse_q(q: &str) -> Option<u16> {
    let q = q.trim();
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut scale = 100;
    for b in frac.bytes() {
        v = v.checked_add(u16::from(b - b'0') * scale)?;
        scale /= 10;
    }
    (v <= 1000).then_some(v)
}

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being handled on this task (Chinese outside a request).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// Runs `f` with `lang` as the current language.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// Something a person reads, in both languages; rendered in the request's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    zh: Cow<'static, str>,
    en: Cow<'static, str>,
}

impl Text {
    pub fn new(zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// A fixed text, usable in a `const`.
    pub const fn fixed(zh: &'static str, en: &'static str) -> Self {
        Self {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    pub fn zh(&self) -> &str {
        &self.zh
    }

    pub fn en(&self) -> &str {
        &self.en
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// In the current request's language.
    pub fn current(&self) -> &str {
        self.get(current())
    }
}

impl std::fmt::Display for Text {
    /// Logs and `Display` use English: log search works the same whatever the client spoke.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.current())
    }
}

/// `Text::new(zh, en)`, with `format!` arguments allowed in both.
#[macro_export]
macro_rules! text {
    ($zh:literal, $en:literal $(,)?) => {
        $crate::platform::lang::Text::new(format!($zh), format!($en))
    };
    ($zh:literal, $en:literal, $($arg:expr),+ $(,)?) => {
        $crate::platform::lang::Text::new(format!($zh, $($arg),+), format!($en, $($arg),+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_chinese_and_english() {
        let cases = [
            (None, Lang::Zh),
            (Some(""), Lang::Zh),
            (Some("en"), Lang::En),
            (Some("en-US,en;q=0.9"), Lang::En),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh),
            (Some("fr,en;q=0.5"), Lang::En),
            (Some("fr"), Lang::Zh),
            (Some("en;q=0.2,zh;q=0.8"), Lang::Zh),
            (Some("zh;q=0.2,en;q=0.8"), Lang::En),
            (Some("en;q=0"), Lang::Zh),
            (Some("en;q=abc"), Lang::Zh),
            (Some("EN-gb"), Lang::En),
            (Some("*"), Lang::Zh),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }

    #[tokio::test]
    async fn text_is_rendered_in_the_scope_language() {
        let t = Text::new("必填", "required");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"必填\"");
        let en = scope(Lang::En, async { serde_json::to_string(&t).unwrap() }).await;
        assert_eq!(en, "\"required\"");
        assert_eq!(t.to_string(), "required");
    }
}
