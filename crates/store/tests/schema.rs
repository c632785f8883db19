//! Migrations: they run on a fresh database of each backend, and both folders
//! describe the same tables and columns.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{for_each_backend, is_postgres};
use onewindow_store::Store;
use sqlx::Row;

type Schema = BTreeMap<String, BTreeSet<String>>;

/// Applies the tables and columns a migration file creates or drops to `schema`.
fn read_migration(schema: &mut Schema, sql: &str) {
    let mut table: Option<String> = None;
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
            let mut words = rest.split_whitespace();
            let name = words.next().expect("a table name");
            let columns = schema.get_mut(name).expect("a table created earlier");
            match (words.next(), words.next(), words.next()) {
                (Some("ADD"), Some("COLUMN"), Some(column)) => {
                    columns.insert(column.to_string());
                }
                (Some("DROP"), Some("COLUMN"), Some(column)) => {
                    columns.remove(column.trim_end_matches(';'));
                }
                _ => {}
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("DROP TABLE ") {
            schema.remove(rest.trim_end_matches(';').trim());
            continue;
        }
        if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            let name = rest.split_whitespace().next().expect("a table name");
            table = Some(name.to_string());
            schema.insert(name.to_string(), BTreeSet::new());
            continue;
        }
        let Some(name) = table.as_ref() else { continue };
        if line.starts_with(");") {
            table = None;
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if first.is_empty()
            || ["PRIMARY", "UNIQUE", "FOREIGN", "CONSTRAINT", "CHECK"].contains(&first)
        {
            continue;
        }
        schema
            .get_mut(name)
            .expect("the current table")
            .insert(first.to_string());
    }
}

fn migration_schema(backend: &str) -> Schema {
    let folder = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("the migrations folder")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    let mut schema = Schema::new();
    for file in files {
        let sql = std::fs::read_to_string(&file).expect("a migration file");
        read_migration(&mut schema, &sql);
    }
    schema
}

/// Tables and columns as the live database has them.
async fn live_schema(store: &Store) -> Schema {
    let sql = if is_postgres(store) {
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name::text <> '_sqlx_migrations'"
    } else {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
    };
    let mut schema = Schema::new();
    for row in sqlx::query(sql).fetch_all(store.pool()).await.expect(sql) {
        let table: String = row.get("t");
        let column: String = row.get("c");
        schema.entry(table).or_default().insert(column);
    }
    schema
}

#[test]
fn both_migration_folders_define_the_same_tables_and_columns() {
    let sqlite = migration_schema("sqlite");
    let postgres = migration_schema("postgres");
    assert!(sqlite.contains_key("cases") && sqlite.contains_key("audit_log"));
    assert_eq!(sqlite, postgres);
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_build_the_whole_schema_on_a_fresh_database() {
    for_each_backend(|store| async move {
        assert_eq!(live_schema(&store).await, migration_schema("sqlite"));
        // The audit chain starts at its genesis head.
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(head.get::<i64, _>("seq"), 0);
        assert_eq!(
            head.get::<String, _>("hash"),
            onewindow_core::audit::GENESIS_HASH
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn migrating_twice_changes_nothing() {
    for_each_backend(|store| async move {
        store.migrate().await.expect("a second migrate");
        assert_eq!(live_schema(&store).await, migration_schema("sqlite"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bundled_sqlite_is_at_least_3_51_3() {
    for_each_backend(|store| async move {
        if is_postgres(&store) {
            return;
        }
        let version: String = sqlx::query("SELECT sqlite_version() AS v")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("v");
        let parts: Vec<u32> = version
            .split('.')
            .map(|p| p.parse().expect("a numeric version part"))
            .collect();
        assert!(
            parts.as_slice() >= [3, 51, 3].as_slice(),
            "SQLite {version} is older than 3.51.3"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_connections_use_wal_and_full_synchronous_commits() {
    for_each_backend(|store| async move {
        if is_postgres(&store) {
            return;
        }
        let mut conn = store.pool().acquire().await.unwrap();
        let journal: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(journal.to_lowercase(), "wal");
        let synchronous: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(synchronous, 2, "synchronous = FULL");
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(foreign_keys, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_integer_column_is_bigint_on_postgres() {
    for_each_backend(|store| async move {
        if !is_postgres(&store) {
            return;
        }
        let narrow: Vec<String> = sqlx::query(
            "SELECT (table_name::text || '.' || column_name::text) AS c FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type::text IN ('integer', 'smallint', 'boolean') \
             AND table_name::text <> '_sqlx_migrations' ORDER BY 1",
        )
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("c"))
        .collect();
        assert!(narrow.is_empty(), "not BIGINT: {narrow:?}");
    })
    .await;
}
