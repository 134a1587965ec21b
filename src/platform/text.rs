//! What text the API accepts. Control characters (NUL, `\r`, escape codes), bidirectional
//! overrides (U+202E turns `exe.txt` into `txt.exe` on screen), zero-width and other invisible
//! format characters have no place in a name, a title, a tag, a search or a login: they spoof
//! what staff read, and PostgreSQL refuses NUL in text outright.

/// Invisible format characters that change or hide what is displayed.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Whether `c` may appear in single-line text (names, titles, tags, filters, usernames).
pub fn single_line_ok(c: char) -> bool {
    !c.is_control() && !is_invisible_format(c)
}

/// Whether `c` may appear in multi-line free text (descriptions, notes): line breaks and tabs
/// are fine there, nothing else invisible is.
pub fn multi_line_ok(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\t') || single_line_ok(c)
}

/// The message for a field holding a character it may not.
pub fn bad_character() -> crate::platform::lang::Text {
    crate::platform::lang::Text::new(
        "不能包含控制字符或不可见的格式字符",
        "must not contain control characters or invisible formatting characters",
    )
}

/// A stated purpose (of a reveal or an unmasked export): 2 to 500 characters of which at least
/// two are letters or digits (in any script), so `..` or a run of invisible characters is not a
/// purpose.
pub fn purpose_of(raw: &str) -> Result<&str, crate::platform::lang::Text> {
    let p = raw.trim();
    if !p.chars().all(single_line_ok) {
        return Err(bad_character());
    }
    let n = p.chars().count();
    let meaningful = p.chars().filter(|c| c.is_alphanumeric()).count();
    if !(2..=500).contains(&n) || meaningful < 2 {
        return Err(crate::platform::lang::Text::new(
            "请用 2 到 500 个字说明用途，其中至少两个是文字或数字",
            "state the purpose in 2 to 500 characters, at least two of them letters or digits",
        ));
    }
    Ok(p)
}

/// Whether a JSON document carries an escaped NUL (`\u0000`) in a string: PostgreSQL cannot
/// store it, and no field of this API has a use for it. (A raw NUL byte is not valid JSON.)
pub fn json_has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u')
                && bytes
                    .get(i + 2..i + 6)
                    .is_some_and(|h| h.iter().all(|b| *b == b'0'))
            {
                return true;
            }
            // Skip the escaped character, so `\\u0000` (a backslash, then text) is not a NUL.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// A LIKE pattern matching values that contain `text` literally (`%`, `_` and `\` escaped with
/// `\`), lower-cased: compare it with the lower-cased column, since SQLite's LIKE ignores ASCII
/// case and PostgreSQL's does not.
pub fn contains_pattern(text: &str) -> sea_orm::sea_query::LikeExpr {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    sea_orm::sea_query::LikeExpr::new(out).escape('\\')
}

/// `column` lower-cased contains `text` (see `contains_pattern`).
pub fn column_contains<C: sea_orm::sea_query::IntoColumnRef>(
    column: C,
    text: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, Func};
    Expr::expr(Func::lower(Expr::col(column))).like(contains_pattern(text))
}

/// Validates a display name: trimmed, non-empty, at most `max` characters, no control characters.
pub fn clean_name(
    field: &str,
    value: &str,
    max: usize,
) -> crate::platform::error::AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(crate::platform::error::AppError::Validation(vec![
            crate::platform::error::FieldError::required(field),
        ]));
    }
    if v.chars().count() > max {
        return Err(crate::platform::error::AppError::Validation(vec![
            crate::platform::error::FieldError::too_long(field, max),
        ]));
    }
    if !v.chars().all(single_line_ok) {
        return Err(crate::platform::error::AppError::invalid(
            field,
            crate::platform::error::FieldCode::Invalid,
            bad_character(),
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_text_refuses_controls_and_invisible_formatting() {
        for bad in [
            '\0', '\r', '\n', '\t', '\u{202E}', '\u{200B}', '\u{FEFF}', '\u{2066}',
        ] {
            assert!(!single_line_ok(bad), "{bad:?}");
        }
        for good in ['a', '张', ' ', '·', '（', '—'] {
            assert!(single_line_ok(good), "{good:?}");
        }
        assert!(multi_line_ok('\n') && multi_line_ok('\t'));
        assert!(!multi_line_ok('\0') && !multi_line_ok('\u{202E}'));
    }

    #[test]
    fn a_purpose_needs_two_letters_or_digits() {
        assert_eq!(purpose_of("  上门核对  "), Ok("上门核对"));
        for bad in ["..", "a", "\u{200B}\u{200B}\u{200B}", "!!!!", "ok\u{202E}x"] {
            assert!(purpose_of(bad).is_err(), "{bad:?}");
        }
        assert!(purpose_of(&"x".repeat(501)).is_err());
    }

    #[test]
    fn escaped_nul_is_found_and_an_escaped_backslash_is_not_one() {
        assert!(json_has_nul_escape(br#"{"q":"a\u0000b"}"#));
        assert!(!json_has_nul_escape(br#"{"q":"a\\u0000b"}"#));
        assert!(json_has_nul_escape(br#"{"q":"a\\\u0000b"}"#));
        assert!(!json_has_nul_escape(br#"{"q":"a\u0001b"}"#));
    }
}
