//! Keeping a street's keyword list, and the author a check is run for.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::access::policy::Action;
use crate::access::{author_of, Actor};
use crate::moderation::policy::{authorize_existing_street, authorize_street};
use crate::platform::content::{self, Author, ContentKeyword, KeywordVerdict, MAX_KEYWORD_CHARS};
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::platform::paging::{cut_page, PageParams};

/// A keyword as it will be stored and matched: normalised, 1–20 characters, one line, and not
/// only punctuation or spaces (which would match every text).
pub fn clean_word(raw: &str) -> AppResult<String> {
    // What surrounds the word is trimmed away, as for every one-line field.
    if !raw
        .trim()
        .chars()
        .all(|c| c == '\u{3000}' || crate::platform::text::single_line_ok(c))
    {
        return Err(AppError::invalid(
            "word",
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
    }
    let word = content::normalize_word(raw);
    if word.is_empty() {
        return Err(AppError::Validation(vec![FieldError::required("word")]));
    }
    if word.chars().count() > MAX_KEYWORD_CHARS {
        return Err(AppError::Validation(vec![FieldError::too_long(
            "word",
            MAX_KEYWORD_CHARS,
        )]));
    }
    if !content::is_matchable(&word) {
        return Err(AppError::invalid(
            "word",
            FieldCode::Invalid,
            Text::new(
                "关键词不能只有标点或空格",
                "a keyword cannot be only punctuation or spaces",
            ),
        ));
    }
    Ok(word)
}

/// One page of a street's list (404/403 as [`authorize_street`] decides).
pub async fn list_keywords<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    street_id: Uuid,
    page: PageParams,
) -> AppResult<(Vec<ContentKeyword>, Option<String>)> {
    authorize_street(db, user, Action::ContentKeywordManage, street_id).await?;
    let rows = content::keyword_page(db, street_id, page).await?;
    Ok(cut_page(rows, page.limit, |m| m.id))
}

/// Adds a word (raw, as typed) to a street's list.
pub async fn add_keyword<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    street_id: Uuid,
    word: &str,
    verdict: KeywordVerdict,
    now: DateTime<Utc>,
) -> AppResult<ContentKeyword> {
    let word = clean_word(word)?;
    authorize_existing_street(db, user, Action::ContentKeywordManage, street_id).await?;
    let m = content::add_keyword(db, street_id, word, verdict, user.id, now).await?;
    tracing::info!(street = %street_id, keyword = %m.id, by = %user.id, "content keyword added");
    Ok(m)
}

/// Removes a word from its street's list: 404 when it is gone or its street is not the
/// caller's, 403 when the caller may not keep that street's list.
pub async fn remove_keyword<C: ConnectionTrait>(db: &C, user: &Actor, id: Uuid) -> AppResult<()> {
    let m = content::find_keyword(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorize_street(db, user, Action::ContentKeywordManage, m.street_id).await?;
    if !content::delete_keyword(db, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(street = %m.street_id, keyword = %id, by = %user.id, "content keyword removed");
    Ok(())
}

/// The caller as the author of a text in `street_id`, if they belong to that street (else 404).
pub async fn checking_author<C: ConnectionTrait>(
    db: &C,
    user: &Actor,
    street_id: Uuid,
) -> AppResult<Author> {
    authorize_existing_street(db, user, Action::ContentCheck, street_id).await?;
    author_of(db, user.id, street_id).await
}
