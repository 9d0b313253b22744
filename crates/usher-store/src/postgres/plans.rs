//! Every statement of the audit log walks an index from its newest end,
//! within its id range, with the generic plan PostgreSQL may settle on: no
//! scan of the table, no sort. Scans, bitmap scans and sorts are priced out,
//! so a plan that still has one has no index to walk instead.

use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

use super::{PostgresStore, audit::LISTS};

/// How many `$n` parameters a statement has.
fn parameters(sql: &str) -> usize {
    (1..20).take_while(|n| sql.contains(&format!("${n}"))).count()
}

#[tokio::test]
async fn every_audit_filter_walks_an_index_without_sorting() {
    let admin_url = std::env::var("USHER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let (server, _) = admin_url.rsplit_once('/').expect("USHER_TEST_POSTGRES_URL ends with /DATABASE");
    let name = format!("usher_plans_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url).await.expect("the test PostgreSQL server");
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.expect("create");
    let url = format!("{server}/{name}");
    let outcome = tokio::spawn(async move {
        PostgresStore::connect(&url).await.expect("migrate").pool().close().await;
        let mut conn = PgConnection::connect(&url).await.expect("connect");
        let settings = "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; \
                        SET enable_bitmapscan = off; SET enable_sort = off";
        sqlx::raw_sql(settings).execute(&mut conn).await.expect("settings");
        for (i, sql) in LISTS.iter().enumerate() {
            let nulls = vec!["NULL"; parameters(sql)].join(", ");
            let explain = format!("PREPARE list_{i} AS {sql}; EXPLAIN EXECUTE list_{i}({nulls})");
            let rows = sqlx::raw_sql(AssertSqlSafe(explain)).fetch_all(&mut conn).await;
            let rows = rows.unwrap_or_else(|e| panic!("{sql}: {e}"));
            let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
            let text = plan.join("\n");
            assert!(text.contains("Index Scan Backward using audit_events_"), "{text}\nfor {sql}");
            assert!(text.contains("(id >= $2) AND (id < $3)"), "{text}\nfor {sql}");
            assert!(!text.contains("Seq Scan") && !text.contains("Sort"), "{text}\nfor {sql}");
        }
    })
    .await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&mut admin).await.ok();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
