//! Text cells that a spreadsheet program would run as a formula.
//!
//! An .xlsx text cell is inert, but once someone saves the sheet as CSV (or copies it into
//! another sheet) a value starting with `=`, `+`, `-` or `@` is evaluated, and a tab or carriage
//! return in front hides the same. Exports therefore write such values behind an apostrophe,
//! the usual neutraliser, and imports take exactly that apostrophe off again, so that an export
//! edited and imported round-trips every value.

use std::borrow::Cow;

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `s` is any number of apostrophes followed by a formula trigger.
fn guarded_shape(s: &str) -> bool {
    s.trim_start_matches('\'').starts_with(TRIGGERS)
}

/// `value` as an export writes it: behind one more apostrophe when it starts with a formula
/// trigger, or with apostrophes and then one (so that [`unneutralize`] gives back the original,
/// apostrophes included).
pub fn neutralize(value: &str) -> Cow<'_, str> {
    if guarded_shape(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// An imported value with the apostrophe [`neutralize`] added taken off again; anything else
/// (an apostrophe before ordinary text included) is left as it is.
pub fn unneutralize(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if guarded_shape(rest) => rest,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_are_guarded_and_nothing_else() {
        for v in ["=1+1", "+8613800000001", "-5", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(neutralize(v), format!("'{v}"));
        }
        for v in ["张三", "13800000001", "1幢", "a=b", " =1", "", "'quoted"] {
            assert_eq!(neutralize(v), v);
        }
    }

    #[test]
    fn every_value_round_trips() {
        for v in [
            "=1+1", "'=1+1", "''=1", "+86", "'+86", "'", "''", "'abc", "abc", "", "-", "'-",
        ] {
            assert_eq!(unneutralize(&neutralize(v)), v, "{v:?}");
        }
    }

    #[test]
    fn an_apostrophe_typed_before_a_trigger_is_taken_off() {
        assert_eq!(unneutralize("'=HYPERLINK(\"x\")"), "=HYPERLINK(\"x\")");
        assert_eq!(unneutralize("'+8613800000001"), "+8613800000001");
        assert_eq!(unneutralize("'O'Neill"), "'O'Neill");
        assert_eq!(unneutralize("1幢"), "1幢");
    }
}
