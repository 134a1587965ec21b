//! The content check (§0.3): one trait, two backends.
//!
//! - [`WeChatCheck`]: WeChat's msgSecCheck (version 2) through the shared WeChat client and its
//!   access token. It needs the author's openid, so it checks what accounts with a WeChat
//!   identity write (residents; building and street leaders who signed in with WeChat), whenever
//!   WeChat is configured.
//! - [`KeywordCheck`]: the street's own keyword list (`content_keywords`), which staff keep
//!   through the API. It checks what accounts without a WeChat identity write (staff with a
//!   password), and everything when WeChat is not configured.
//!
//! [`check_text`] picks the backend. `pass` publishes; `review` keeps the content
//! `pending_review` (its author and moderators see it, nobody else); `risky` is refused with 400
//! `content_rejected` ([`reject_risky`]). WeChat down, slow or answering nonsense is `review`
//! with the label `check_unavailable`: never published unchecked, never a 5xx to the author.
//! The checked text is never logged, and no answer names a keyword.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::content_keyword;
/// A word of a street's list, and what a text containing it gets.
pub use entity::content_keyword::{KeywordVerdict, Model as ContentKeyword};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::error::{is_unique_violation, AppError, AppResult, ProblemCode};
use crate::platform::paging::PageParams;
use crate::platform::state::AppState;
use crate::platform::wechat::{self, Suggest, WeChatClient};

/// The WeChat scene a text is written in (msgSecCheck scenes 1–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scene {
    /// 资料: a profile (1).
    Profile,
    /// 评论: a comment (2).
    Comment,
    /// 论坛: a post (3).
    #[default]
    Forum,
    /// 社交日志: a social log (4).
    Social,
}

impl Scene {
    /// msgSecCheck's number for the scene.
    pub fn number(self) -> u8 {
        match self {
            Scene::Profile => 1,
            Scene::Comment => 2,
            Scene::Forum => 3,
            Scene::Social => 4,
        }
    }
}

/// Who wrote the text: the account, its WeChat openid if it has one, and the street whose
/// keyword list applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub user_id: Uuid,
    pub openid: Option<String>,
    pub street_id: Uuid,
}

/// What a check says about a text. `label` says why (never the text or a keyword): one of
/// [`LABELS`], `keyword` for the street's list, `check_unavailable` when WeChat did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Review {
        label: String,
        trace_id: Option<String>,
    },
    Risky {
        label: String,
        trace_id: Option<String>,
    },
}

/// The label of a `review` that no check produced: WeChat was down, slow or unusable.
pub const CHECK_UNAVAILABLE: &str = "check_unavailable";
/// The label of a verdict from the street's keyword list.
pub const KEYWORD: &str = "keyword";

/// WeChat's labels and the names we answer them with.
pub const LABELS: [(i64, &str); 10] = [
    (100, "normal"),
    (10001, "ad"),
    (20001, "politics"),
    (20002, "porn"),
    (20003, "abuse"),
    (20006, "crime"),
    (20008, "fraud"),
    (20012, "vulgar"),
    (20013, "copyright"),
    (21000, "other"),
];

/// The name of a WeChat label; `other` for one we do not know.
pub fn label_name(label: i64) -> &'static str {
    LABELS
        .iter()
        .find(|(n, _)| *n == label)
        .map_or("other", |(_, name)| name)
}

impl Verdict {
    /// `pass`, `review` or `risky`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Review { .. } => "review",
            Verdict::Risky { .. } => "risky",
        }
    }

    /// Why it is not `pass`.
    pub fn label(&self) -> Option<&str> {
        match self {
            Verdict::Pass => None,
            Verdict::Review { label, .. } | Verdict::Risky { label, .. } => Some(label),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Review { .. } => 1,
            Verdict::Risky { .. } => 2,
        }
    }

    /// The worst of several verdicts (the first of equals).
    fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().fold(
            Verdict::Pass,
            |w, v| if v.rank() > w.rank() { v } else { w },
        )
    }

    fn unavailable() -> Verdict {
        Verdict::Review {
            label: CHECK_UNAVAILABLE.to_string(),
            trace_id: None,
        }
    }
}

/// One backend of the content check.
#[async_trait::async_trait]
pub trait ContentCheck: Send + Sync {
    async fn text(
        &self,
        scene: Scene,
        author: &Author,
        title: Option<&str>,
        body: &str,
    ) -> AppResult<Verdict>;
}

/// msgSecCheck. A body over 2,500 characters is checked in pieces, at once; the worst piece's
/// verdict is the text's. The title goes with the first piece. Errors are WeChat's (outage,
/// timeout, refusal): [`check_text`] turns them into `review`.
pub struct WeChatCheck<'a> {
    pub client: &'a WeChatClient,
}

#[async_trait::async_trait]
impl ContentCheck for WeChatCheck<'_> {
    async fn text(
        &self,
        scene: Scene,
        author: &Author,
        title: Option<&str>,
        body: &str,
    ) -> AppResult<Verdict> {
        let Some(openid) = author.openid.as_deref() else {
            return Err(AppError::internal(anyhow::anyhow!(
                "the WeChat content check needs the author's openid"
            )));
        };
        let title = title.map(str::trim).filter(|t| !t.is_empty());
        let (title, pieces) = if body.trim().is_empty() {
            // msgSecCheck wants content: a title alone is checked as the content.
            match title {
                Some(t) => (None, pieces(t)),
                None => return Ok(Verdict::Pass),
            }
        } else {
            (title, pieces(body))
        };
        let calls = pieces.iter().enumerate().map(|(i, piece)| {
            let title = if i == 0 { title } else { None };
            self.client
                .msg_sec_check(openid, scene.number(), title, piece)
        });
        let mut verdicts = Vec::with_capacity(pieces.len());
        for answer in futures_util::future::join_all(calls).await {
            let a = answer?;
            let label = label_name(a.label).to_string();
            verdicts.push(match a.suggest {
                Suggest::Pass => Verdict::Pass,
                Suggest::Review => Verdict::Review {
                    label,
                    trace_id: a.trace_id,
                },
                Suggest::Risky => Verdict::Risky {
                    label,
                    trace_id: a.trace_id,
                },
            });
        }
        Ok(Verdict::worst(verdicts))
    }
}

/// `text` cut into pieces msgSecCheck takes.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(wechat::SEC_CHECK_MAX_CHARS)
        .map(|c| c.iter().collect())
        .collect()
}

/// The street's keyword list: a text containing a `risky` word is risky, else one containing a
/// `review` word is for review. Case, full-width letters, whitespace and punctuation between
/// the characters do not hide a word (`敏 感`, `敏-感` and `敏感` are one word).
pub struct KeywordCheck<'a> {
    pub db: &'a DatabaseConnection,
}

#[async_trait::async_trait]
impl ContentCheck for KeywordCheck<'_> {
    async fn text(
        &self,
        _scene: Scene,
        author: &Author,
        title: Option<&str>,
        body: &str,
    ) -> AppResult<Verdict> {
        let words = street_words(self.db, author.street_id).await?;
        Ok(match_words(&words, title, body))
    }
}

/// The verdict of a keyword list on a title and body.
pub fn match_words(words: &[(String, KeywordVerdict)], title: Option<&str>, body: &str) -> Verdict {
    let texts: Vec<String> = title.into_iter().chain([body]).map(squash).collect();
    let found = |verdict: KeywordVerdict| {
        words.iter().any(|(w, v)| {
            let w = squash(w);
            *v == verdict && !w.is_empty() && texts.iter().any(|t| t.contains(&w))
        })
    };
    if found(KeywordVerdict::Risky) {
        Verdict::Risky {
            label: KEYWORD.to_string(),
            trace_id: None,
        }
    } else if found(KeywordVerdict::Review) {
        Verdict::Review {
            label: KEYWORD.to_string(),
            trace_id: None,
        }
    } else {
        Verdict::Pass
    }
}

/// What the app calls: the WeChat check when WeChat is configured and the author has an
/// openid, the street's keyword list otherwise. A WeChat outage, error or timeout is
/// `review` (`check_unavailable`), logged as a warning without the text; a database error is
/// still an error.
pub async fn check_text(
    state: &AppState,
    author: &Author,
    scene: Scene,
    title: Option<&str>,
    body: &str,
) -> AppResult<Verdict> {
    if !(state.wechat.is_configured() && author.openid.is_some()) {
        return KeywordCheck { db: &state.db }
            .text(scene, author, title, body)
            .await;
    }
    // Each call is bounded; this bounds the whole (a token fetch, the check, one retry).
    let per_call = state.settings.wechat_timeout.min(Duration::from_secs(3));
    let bound = per_call * 3 + Duration::from_secs(1);
    let check = WeChatCheck {
        client: &state.wechat,
    };
    match tokio::time::timeout(bound, check.text(scene, author, title, body)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(
                author = %author.user_id,
                error = %chain(&e),
                "content check: WeChat gave no verdict; the text is kept for review"
            );
            Ok(Verdict::unavailable())
        }
        Err(_) => {
            tracing::warn!(
                author = %author.user_id,
                bound_ms = bound.as_millis() as u64,
                "content check: WeChat did not answer in time; the text is kept for review"
            );
            Ok(Verdict::unavailable())
        }
    }
}

/// `risky` becomes the 400 `content_rejected` (with the label in `errors[]`); `pass` and
/// `review` are returned as they are.
pub fn reject_risky(v: Verdict) -> AppResult<Verdict> {
    match v {
        Verdict::Risky { label, .. } => Err(AppError::ContentRejected { label }),
        other => Ok(other),
    }
}

/// An error and its causes on one line (URLs were stripped before the WeChat client made it).
fn chain(e: &AppError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The keyword list (the `content_keywords` table)
// ---------------------------------------------------------------------------------------------

/// Most words a street's list holds.
pub const MAX_KEYWORDS_PER_STREET: u64 = 2000;
/// Longest word, in characters (after normalising).
pub const MAX_KEYWORD_CHARS: usize = 20;

/// Full-width ASCII (ＡＢＣ，１２３) as half-width, the ideographic space as a space.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// A word as stored: full-width folded, lowercase, trimmed, inner whitespace collapsed.
pub fn normalize_word(word: &str) -> String {
    let folded: String = word.chars().map(fold).collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Characters that may stand between a word's characters to hide it.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || crate::platform::text::is_invisible_format(c)
        || matches!(
            c,
            '、' | '。'
                | '·'
                | '・'
                | '—'
                | '–'
                | '…'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '《'
                | '》'
                | '【'
                | '】'
                | '「'
                | '」'
                | '〔'
                | '〕'
                | '※'
                | '★'
                | '☆'
        )
}

/// A text as matched: normalised, without separators.
fn squash(text: &str) -> String {
    text.chars()
        .map(fold)
        .flat_map(char::to_lowercase)
        .filter(|c| !is_separator(*c))
        .collect()
}

/// Whether a normalised word can be matched at all (a word of separators only would match
/// every text).
pub fn is_matchable(word: &str) -> bool {
    !squash(word).is_empty()
}

/// Every word of a street's list with its verdict.
async fn street_words<C: ConnectionTrait>(
    db: &C,
    street_id: Uuid,
) -> AppResult<Vec<(String, KeywordVerdict)>> {
    use content_keyword::{Column, Entity};
    Ok(Entity::find()
        .select_only()
        .column(Column::Word)
        .column(Column::Verdict)
        .filter(Column::StreetId.eq(street_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// One page of a street's list, oldest first (by id), read as `limit` + 1 rows.
pub async fn keyword_page<C: ConnectionTrait>(
    db: &C,
    street_id: Uuid,
    page: PageParams,
) -> AppResult<Vec<ContentKeyword>> {
    use content_keyword::{Column, Entity};
    let mut q = Entity::find().filter(Column::StreetId.eq(street_id));
    if let Some(after) = page.after {
        q = q.filter(Column::Id.gt(after));
    }
    Ok(q.order_by_asc(Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?)
}

/// Adds a normalised word to a street's list: 409 `already_exists` when the street has it,
/// 409 `too_many_keywords` when the list is full.
pub async fn add_keyword<C: ConnectionTrait>(
    db: &C,
    street_id: Uuid,
    word: String,
    verdict: KeywordVerdict,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<ContentKeyword> {
    use content_keyword::{Column, Entity};
    let count = Entity::find()
        .filter(Column::StreetId.eq(street_id))
        .count(db)
        .await?;
    if count >= MAX_KEYWORDS_PER_STREET {
        return Err(AppError::conflict(
            ProblemCode::TooManyKeywords,
            crate::text!(
                "本街道的关键词已达上限（{MAX_KEYWORDS_PER_STREET} 个），请先删除不再需要的",
                "the street's list already has {MAX_KEYWORDS_PER_STREET} words; delete some first"
            ),
        ));
    }
    let row = content_keyword::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(street_id),
        word: Set(word),
        verdict: Set(verdict),
        created_by: Set(created_by),
        created_at: Set(now),
    };
    row.insert(db).await.map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(
                ProblemCode::AlreadyExists,
                crate::platform::lang::Text::new(
                    "本街道已有这个关键词",
                    "the street's list already has this word",
                ),
            )
        } else {
            e.into()
        }
    })
}

/// One word of any street's list.
pub async fn find_keyword<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> AppResult<Option<ContentKeyword>> {
    Ok(content_keyword::Entity::find_by_id(id).one(db).await?)
}

/// Removes one word; false when it was already gone.
pub async fn delete_keyword<C: ConnectionTrait>(db: &C, id: Uuid) -> AppResult<bool> {
    Ok(content_keyword::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(words: &[(&str, KeywordVerdict)]) -> Vec<(String, KeywordVerdict)> {
        words.iter().map(|(w, v)| (normalize_word(w), *v)).collect()
    }

    #[test]
    fn words_are_stored_folded_lowercase_and_collapsed() {
        assert_eq!(normalize_word("  Ｆｏｏ   Bar\u{3000}"), "foo bar");
        assert_eq!(normalize_word("敏感"), "敏感");
        assert!(!is_matchable(" ，。、 "));
        assert!(is_matchable("敏 感"));
    }

    #[test]
    fn separators_case_and_full_width_do_not_hide_a_word() {
        use KeywordVerdict::*;
        let words = list(&[("敏 感", Review), ("Spam", Risky)]);
        let review = |t: &str| match_words(&words, None, t).name();
        assert_eq!(review("这里有敏感词"), "review");
        assert_eq!(review("这里有敏-感词"), "review");
        assert_eq!(review("这里有敏。感词"), "review");
        assert_eq!(review("这里有敏\u{200B}感词"), "review");
        assert_eq!(review("买 ＳＰＡＭ 吧"), "risky");
        assert_eq!(review("s.p.a.m"), "risky");
        assert_eq!(review("敏捷的感觉"), "pass");
        assert_eq!(match_words(&words, Some("敏感"), "正文").name(), "review");
    }

    #[test]
    fn risky_words_win_over_review_words_and_the_label_names_no_word() {
        use KeywordVerdict::*;
        let words = list(&[("甲", Review), ("乙", Risky)]);
        let v = match_words(&words, Some("甲"), "乙");
        assert_eq!(
            v,
            Verdict::Risky {
                label: KEYWORD.into(),
                trace_id: None
            }
        );
    }

    #[test]
    fn long_texts_are_cut_into_pieces_wechat_takes() {
        let text = "字".repeat(wechat::SEC_CHECK_MAX_CHARS * 2 + 1);
        let p = pieces(&text);
        assert_eq!(p.len(), 3);
        assert!(p
            .iter()
            .all(|s| s.chars().count() <= wechat::SEC_CHECK_MAX_CHARS));
        assert_eq!(p.concat(), text);
    }

    #[test]
    fn the_worst_verdict_wins_and_risky_is_refused() {
        let review = Verdict::Review {
            label: "ad".into(),
            trace_id: None,
        };
        let risky = Verdict::Risky {
            label: "politics".into(),
            trace_id: Some("t".into()),
        };
        assert_eq!(
            Verdict::worst([Verdict::Pass, review.clone(), Verdict::Pass]),
            review
        );
        assert_eq!(Verdict::worst([review.clone(), risky.clone()]), risky);
        assert_eq!(Verdict::worst([]), Verdict::Pass);
        assert_eq!(reject_risky(review.clone()).ok(), Some(review));
        let e = reject_risky(risky).err();
        assert!(
            matches!(e, Some(AppError::ContentRejected { ref label }) if label == "politics"),
            "{e:?}"
        );
        assert_eq!(label_name(20001), "politics");
        assert_eq!(label_name(99999), "other");
    }

    #[test]
    fn a_refusal_is_a_400_content_rejected_naming_the_label_in_chinese() {
        use actix_web::ResponseError;
        let e = AppError::ContentRejected {
            label: "politics".into(),
        };
        assert_eq!(e.status_code().as_u16(), 400);
        let p = serde_json::to_value(e.problem()).unwrap_or_default();
        assert_eq!(p["code"], "content_rejected");
        assert_eq!(p["title"], "内容未通过安全检测");
        assert!(
            p["detail"].as_str().unwrap_or_default().contains("涉政"),
            "{p}"
        );
        assert_eq!(p["errors"][0]["code"], "content_risky");
        assert_eq!(p["errors"][0]["label"], "politics");
    }
}
