//! What the store's statements share: chunk sizes, generated lists, and reading back the
//! names the database keeps.

use sqlx::{Database, Encode, QueryBuilder, Type};

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

/// Appends `(v1, v2, …)` to `query`, each value bound. The builder writes each backend's
/// own placeholders: `$n` on PostgreSQL, `?` on SQLite, which finds a named value (`$n`)
/// by walking the statement's list of names while sqlx asks for each one (a 900-value
/// insert took ~400k steps to bind; `?` takes none). sqlx counts a `?` among `?`s only,
/// so a statement with a generated list binds all its values through the builder.
pub(super) fn push_list<'args, DB, T>(query: &mut QueryBuilder<'args, DB>, values: impl IntoIterator<Item = T>)
where
    DB: Database,
    T: 'args + Encode<'args, DB> + Type<DB>,
{
    let mut list = query.separated(", ");
    list.push_unseparated("(");
    for value in values {
        list.push_bind(value);
    }
    list.push_unseparated(")");
}

pub(super) fn unique_violation(err: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        _ => StoreError::Database(err),
    }
}
