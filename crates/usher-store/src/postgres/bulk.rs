//! Big imports the way PostgreSQL's documentation advises for bulk loads
//! ("Populating a Database": remove indexes and foreign keys, load, create them
//! again). When an import at least doubles the directory, the secondary indexes
//! and the foreign keys of the tables it fills are dropped inside its
//! transaction and built again before it commits: one sorted pass per index
//! instead of a million insertions into each. Those tables stay locked until the
//! commit (requests that touch users wait), which suits a first load; smaller
//! imports write through the indexes and leave the directory usable meanwhile.
//! It is all one transaction: a failed import leaves every index and constraint
//! as it was.

use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};
use usher_core::store::StoreResult;

use super::map_err;

/// The tables an import fills.
const TABLES: [&str; 4] = ["users", "user_roles", "group_members", "user_metadata"];

/// Below this many new users, writing through the indexes is quick anyway.
pub(crate) const MIN_USERS: usize = 10_000;

/// Memory for each index build of a bulk import (PostgreSQL's default is 64 MB).
const BUILD_MEMORY: &str = "SET LOCAL maintenance_work_mem = '512MB'";

/// What a bulk import dropped, to create again.
pub(crate) struct Rebuild {
    /// `CREATE INDEX` statements, as the catalog prints them.
    indexes: Vec<String>,
    /// `ALTER TABLE .. ADD CONSTRAINT ..` statements.
    foreign_keys: Vec<String>,
}

impl Rebuild {
    /// Whether `new_users` at least doubles the users table.
    pub(crate) async fn pays_off(tx: &mut Transaction<'_, Postgres>, new_users: usize) -> StoreResult<bool> {
        if new_users < MIN_USERS {
            return Ok(false);
        }
        // The planner's estimate; a table never analyzed (-1) is counted.
        let estimate: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass")
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
        let existing = if estimate < 0.0 {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users").fetch_one(&mut **tx).await.map_err(map_err)?
                as f64
        } else {
            f64::from(estimate)
        };
        Ok(new_users as f64 >= existing)
    }

    /// Drops the secondary indexes (not primary keys nor indexes behind
    /// constraints) and the foreign keys of the filled tables.
    pub(crate) async fn drop_all(tx: &mut Transaction<'_, Postgres>) -> StoreResult<Self> {
        let tables: Vec<&str> = TABLES.to_vec();
        let rows = sqlx::query(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def \
             FROM pg_index i WHERE i.indrelid = ANY($1::text[]::regclass[]) AND NOT i.indisprimary \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
             ORDER BY 1",
        )
        .bind(&tables)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_err)?;
        let mut indexes = Vec::with_capacity(rows.len());
        let mut drops = Vec::with_capacity(rows.len());
        for r in rows {
            let name: String = r.try_get("name").map_err(map_err)?;
            indexes.push(r.try_get("def").map_err(map_err)?);
            drops.push(format!("DROP INDEX {name}"));
        }
        let rows = sqlx::query(
            "SELECT conrelid::regclass::text AS tbl, quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def \
             FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::text[]::regclass[]) ORDER BY 1, 2",
        )
        .bind(&tables)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_err)?;
        let mut foreign_keys = Vec::with_capacity(rows.len());
        for r in rows {
            let (table, name, def): (String, String, String) = (
                r.try_get("tbl").map_err(map_err)?,
                r.try_get("name").map_err(map_err)?,
                r.try_get("def").map_err(map_err)?,
            );
            foreign_keys.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
            drops.insert(0, format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
        }
        // Statements printed by the catalog, names quoted by it.
        run(tx, &drops).await?;
        Ok(Self { indexes, foreign_keys })
    }

    /// Builds the indexes and checks the foreign keys again.
    pub(crate) async fn restore(self, tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::raw_sql(BUILD_MEMORY).execute(&mut **tx).await.map_err(map_err)?;
        run(tx, &self.indexes).await?;
        run(tx, &self.foreign_keys).await
    }
}

async fn run(tx: &mut Transaction<'_, Postgres>, statements: &[String]) -> StoreResult<()> {
    for sql in statements {
        sqlx::raw_sql(AssertSqlSafe(sql.as_str())).execute(&mut **tx).await.map_err(map_err)?;
    }
    Ok(())
}
