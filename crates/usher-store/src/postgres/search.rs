//! The directory's PostgreSQL parts: walks read only the sort index (ids and
//! keys, the search document included), the rows of the page afterwards; and
//! substring search through the pg_trgm GIN indexes.

use std::collections::HashMap;

use sqlx::Row;
use usher_core::{
    directory::{Candidates, Filter, SortColumn, SortKey},
    store::{DirectoryStore, StoreResult, User},
};
use usher_domain::{OrgId, UserId};

use super::{
    Db, DbRow,
    directory::{by_sort, exact_keys, keys},
    map_err,
    rows::{Query, run},
};

/// The most matches read from a trigram index before walking instead.
const CANDIDATES_MAX: u32 = 1000;

/// What a walk selects: the id only (with its key), so it is an index-only scan.
macro_rules! walk_columns {
    () => {
        "u.id"
    };
}
pub(super) use walk_columns;

/// No hint: the planner picks the sort index from the `ORDER BY`.
macro_rules! sort_index {
    ($index:literal) => {
        ""
    };
}
pub(super) use sort_index;

/// The search filter tested entry by entry ($2 kind, $3 needle, $4 field).
/// strpos, not LIKE, so the planner walks the sort index instead of the
/// trigram index.
macro_rules! row_filter {
    () => {
        "CASE $2 WHEN 0 THEN true \
          WHEN 1 THEN strpos(u.search_doc, $3) > 0 \
          ELSE EXISTS (SELECT 1 FROM user_metadata m \
                       WHERE m.user_id = u.id AND m.field = $4 AND strpos(m.value_key, $3) > 0) END"
    };
}
pub(super) use row_filter;

/// A time column's key, as stored (a user who never signed in sorts at 1970).
pub(super) fn time_key(row: &DbRow) -> Result<SortKey, sqlx::Error> {
    Ok(SortKey::Time(row.try_get("sort_key")?))
}

/// The users of a walk's rows (ids and keys), read by id, in the walk's order.
pub(super) async fn page(
    db: &Db,
    org_id: OrgId,
    found: &[DbRow],
    sort: SortColumn,
) -> StoreResult<Vec<(User, SortKey)>> {
    let keys = keys(found, sort)?;
    let ids: Vec<UserId> = keys.iter().map(|(id, _)| *id).collect();
    let mut users: HashMap<UserId, User> =
        db.users_by_ids(org_id, &ids).await?.into_iter().map(|u| (u.id, u)).collect();
    Ok(keys.into_iter().filter_map(|(id, key)| users.remove(&id).map(|u| (u, key))).collect())
}

/// Candidates: [names through the trigram index ($1 org, $2 LIKE pattern, $3
/// limit), metadata through the trigram index ($1 org, $2 field, $3 LIKE
/// pattern, $4 limit)].
macro_rules! candidates_sql {
    ($key:literal, $index:literal) => {
        [
            concat!(
                "SELECT u.id, ",
                $key,
                " AS sort_key FROM users u WHERE u.org_id = $1 AND u.search_doc LIKE $2 LIMIT $3"
            ),
            concat!(
                concat!("SELECT u.id, ", $key, " AS sort_key FROM user_metadata m JOIN users u ON u.id = m.user_id "),
                "WHERE m.org_id = $1 AND m.field = $2 AND m.value_key LIKE $3 LIMIT $4"
            ),
        ]
    };
}

/// Runs a trigram-index query without parallel workers: starting them costs
/// more than the few hundred rows such a query reads.
async fn trigram_rows(db: &Db, query: Query) -> StoreResult<Vec<DbRow>> {
    let mut tx = db.pool.begin().await.map_err(map_err)?;
    run(&mut *tx, sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")).await?;
    let found = query.fetch_all(&mut *tx).await.map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(found)
}

/// `%needle%` with LIKE's wildcards escaped.
fn contains_pattern(needle: &str) -> String {
    format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// Whether pg_trgm can take trigrams from the needle: it needs a run of three
/// letters or digits (other characters split words).
fn indexable(needle: &str) -> bool {
    needle.split(|c: char| !c.is_alphanumeric()).any(|word| word.chars().count() >= 3)
}

/// The users matching `filter` through the trigram indexes, when at most `limit`.
pub(super) async fn candidates(
    db: &Db,
    org_id: OrgId,
    filter: &Filter,
    sort: SortColumn,
    limit: u32,
) -> StoreResult<Candidates> {
    let sql: [&'static str; 2] = by_sort!(sort, candidates_sql);
    // Each candidate costs a row read here (SQLite counts on its index):
    // beyond this many, walking the sort index is cheaper.
    let over = i64::from(limit.min(CANDIDATES_MAX)) + 1;
    let query = match filter {
        Filter::All => return Ok(Candidates::NoIndex),
        Filter::Text { needle } | Filter::Metadata { needle, .. } if !indexable(needle) => {
            return Ok(Candidates::NoIndex);
        }
        Filter::Text { needle } => sqlx::query(sql[0]).bind(org_id).bind(contains_pattern(needle)).bind(over),
        Filter::Metadata { field, needle } => {
            sqlx::query(sql[1]).bind(org_id).bind(field).bind(contains_pattern(needle)).bind(over)
        }
    };
    let found = trigram_rows(db, query).await?;
    if found.len() as i64 >= over {
        return Ok(Candidates::TooMany);
    }
    let mut found = keys(&found, sort)?;
    // A name search also finds exact user IDs and emails.
    if let Filter::Text { needle } = filter {
        found.extend(exact_keys(db, org_id, needle, sort).await?);
    }
    Ok(Candidates::Found(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
    }

    #[test]
    fn trigrams_need_three_letters_or_digits_in_a_row() {
        assert!(indexable("ab1"));
        assert!(!indexable("a-b-c"));
        assert!(indexable("x.abc"));
    }
}
