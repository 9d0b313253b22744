//! The directory's SQLite parts: walks hinted onto their sort index, whose
//! extra columns (name keys, phone) the filter reads, so a table row is read
//! only for an entry that matches; and substring search through the FTS5
//! trigram indexes.

use sqlx::Row;
use usher_core::{
    directory::{Candidates, Filter, SortColumn, SortKey},
    store::{StoreResult, User},
};
use usher_domain::{OrgId, UserId};

use super::{
    Db, DbRow,
    directory::{by_sort, exact_keys, fetch, keys, users_with_keys},
    id_list, rows,
};

/// What a walk selects: the whole user, read from the table for the entries
/// that pass the filter only.
macro_rules! walk_columns {
    () => {
        user_columns!()
    };
}
pub(super) use walk_columns;

/// A walk reads the sort index it is written for, never another SQLite might prefer.
macro_rules! sort_index {
    ($index:literal) => {
        concat!(" INDEXED BY ", $index)
    };
}
pub(super) use sort_index;

/// The search filter tested entry by entry ($2 kind, $3 needle, $4 field). It
/// reads only columns of the sort indexes (and the metadata index), so entries
/// that do not match never cost a table row.
macro_rules! row_filter {
    () => {
        "($2 = 0 \
          OR ($2 = 1 AND (instr(u.first_name_key, $3) > 0 OR instr(u.last_name_key, $3) > 0 \
                          OR instr(u.phone_sort, $3) > 0)) \
          OR ($2 = 2 AND EXISTS (SELECT 1 FROM user_metadata m INDEXED BY user_metadata_user_field \
                                 WHERE m.user_id = u.id AND m.field = $4 AND instr(m.value_key, $3) > 0)))"
    };
}
pub(super) use row_filter;

/// A time column's key: times are stored as text, and a user who never signed
/// in sorts by `''`.
pub(super) fn time_key(row: &DbRow) -> Result<SortKey, sqlx::Error> {
    Ok(SortKey::Text(row.try_get::<Option<String>, _>("sort_key")?.unwrap_or_default()))
}

/// The users of a walk's rows, which carry them.
pub(super) async fn page(_: &Db, _: OrgId, found: &[DbRow], sort: SortColumn) -> StoreResult<Vec<(User, SortKey)>> {
    users_with_keys(found, sort)
}

/// The rowids of the name documents that match: $1 match, $2 at most.
const MATCH_NAMES: &str = "SELECT rowid FROM user_search_fts WHERE user_search_fts MATCH $1 LIMIT $2";
/// The users whose metadata field matches: $1 match, $2 at most, $3 org, $4 field, $5 needle.
const MATCH_METADATA: &str = "SELECT m.user_id FROM user_metadata_fts f \
     CROSS JOIN user_metadata m ON m.id = f.rowid \
     WHERE user_metadata_fts MATCH $1 AND m.org_id = $3 AND m.field = $4 AND instr(m.value_key, $5) > 0 LIMIT $2";

/// Sort keys of what the indexes found: [by name-document rowids ($1 JSON
/// array, $2 org), by user ids ($1 id list, $2 org)].
macro_rules! keys_sql {
    ($key:literal, $index:literal) => {
        [
            concat!(
                concat!("SELECT u.id, ", $key, " AS sort_key FROM json_each($1) j CROSS JOIN user_search s "),
                "ON s.id = j.value CROSS JOIN users u ON u.id = s.user_id WHERE u.org_id = $2"
            ),
            concat!(
                concat!("SELECT u.id, ", $key, " AS sort_key FROM json_each($1) j "),
                "CROSS JOIN users u ON u.id = unhex(j.value) WHERE u.org_id = $2"
            ),
        ]
    };
}

/// An FTS5 query for a substring: one quoted phrase (trigrams in sequence).
fn phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

/// The users matching `filter` through the FTS5 indexes, when at most `limit`.
pub(super) async fn candidates(
    db: &Db,
    org_id: OrgId,
    filter: &Filter,
    sort: SortColumn,
    limit: u32,
) -> StoreResult<Candidates> {
    let sql: [&'static str; 2] = by_sort!(sort, keys_sql);
    // The index is asked once, for at most one more than wanted; keys are
    // read only when few matched.
    let over = i64::from(limit) + 1;
    match filter {
        Filter::All => Ok(Candidates::NoIndex),
        Filter::Text { needle } | Filter::Metadata { needle, .. } if needle.chars().count() < 3 => {
            Ok(Candidates::NoIndex)
        }
        Filter::Text { needle } => {
            let rowids =
                db.all(|| sqlx::query(MATCH_NAMES).bind(phrase(needle)).bind(over), rows::first::<i64>).await?;
            if rowids.len() as i64 >= over {
                return Ok(Candidates::TooMany);
            }
            let rowids = serde_json::to_string(&rowids).unwrap_or_default();
            let mut found = keys(&fetch(db, || sqlx::query(sql[0]).bind(&rowids).bind(org_id)).await?, sort)?;
            found.extend(exact_keys(db, org_id, needle, sort).await?);
            Ok(Candidates::Found(found))
        }
        Filter::Metadata { field, needle } => {
            let query =
                || sqlx::query(MATCH_METADATA).bind(phrase(needle)).bind(over).bind(org_id).bind(field).bind(needle);
            let users = db.all(query, rows::first::<UserId>).await?;
            if users.len() as i64 >= over {
                return Ok(Candidates::TooMany);
            }
            let users = id_list(users.iter().map(|u| u.uuid()));
            Ok(Candidates::Found(keys(&fetch(db, || sqlx::query(sql[1]).bind(&users).bind(org_id)).await?, sort)?))
        }
    }
}
