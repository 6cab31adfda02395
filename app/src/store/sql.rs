//! What the store's statements share: chunk sizes, generated lists, and reading back the
//! names the database keeps.

use super::StoreError;
use crate::domain::SyncObject;

/// Keeps `in (…)` lists well inside both backends' limits on bound values.
pub(super) const CHUNK: usize = 500;

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

pub(super) fn parse_object(s: &str) -> super::Result<SyncObject> {
    SyncObject::parse(s).ok_or_else(|| corrupt("sync object", s))
}

/// `($1, …, $cols), ($cols+1, …)` for `rows` rows, the statement's only values.
pub(super) fn value_rows(style: Placeholders, rows: usize, cols: usize) -> String {
    let row = |r: usize| match style {
        Placeholders::Anonymous => vec!["?"; cols].join(", "),
        Placeholders::Numbered => placeholders(style, r * cols + 1, cols),
    };
    (0..rows).map(|r| format!("({})", row(r))).collect::<Vec<_>>().join(", ")
}

/// How a backend's statements mark the values of generated lists.
#[derive(Clone, Copy)]
pub(super) enum Placeholders {
    /// `$from, $from+1, …`
    Numbered,
    /// `?, ?, …` where the list holds all of a statement's values. SQLite finds a named
    /// value (`$n`) by walking the statement's list of names, and sqlx asks for each one:
    /// a 900-value insert took ~400k steps to bind; `?` takes none.
    Anonymous,
}

/// `$from, $from+1, …` for an `in (…)` list of `n` values, or `?`s when the style allows
/// and the list starts at the first value: sqlx counts `?` among `?`s only, so a `?` after
/// a `$1` would take the first value.
pub(super) fn placeholders(style: Placeholders, from: usize, n: usize) -> String {
    match style {
        Placeholders::Anonymous if from == 1 => vec!["?"; n].join(", "),
        _ => (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
    }
}
