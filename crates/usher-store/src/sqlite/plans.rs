//! Every statement of the audit log walks an index from its newest end,
//! narrowed by its filters and its id range: no scan of the table, no sort.

use sqlx::{AssertSqlSafe, Row};

use super::{SqliteStore, audit::LISTS};

#[tokio::test]
async fn every_audit_filter_walks_an_index_without_sorting() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let store = SqliteStore::connect(&url).await.expect("a new database");
    for sql in LISTS {
        let explain = sqlx::raw_sql(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
        let rows = explain.fetch_all(store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>("detail")).collect();
        let walk = plan.iter().find(|line| line.starts_with("SEARCH audit_events USING INDEX audit_events_"));
        let walk = walk.unwrap_or_else(|| panic!("no index walk for {sql}: {plan:?}"));
        assert!(walk.contains("=? AND ") && walk.contains("id>? AND id<?"), "{walk} for {sql}");
        assert!(!plan.iter().any(|line| line.contains("SCAN") || line.contains("TEMP B-TREE")), "{plan:?} for {sql}");
    }
}
