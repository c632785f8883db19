//! The hash-chained audit log: intact after a story, and any edit or removal
//! afterwards is found and named.

mod common;

use common::*;
use onewindow_core::audit::{AuditRecord, GENESIS_HASH, chain_hash};
use onewindow_store::audit::Verification;
use onewindow_store::{Backend, Store};

/// A department, its staff, an item and a case taken to completion.
async fn story(store: &Store) -> i64 {
    let world = World::new(store).await;
    let case = submit(store, world.item.id).await;
    let case = act(store, &world.clerk, &case, accept())
        .await
        .unwrap()
        .case;
    let case = act(store, &world.handler_a, &case, complete_step("同意"))
        .await
        .unwrap()
        .case;
    let case = act(store, &world.reviewer, &case, complete_step("同意"))
        .await
        .unwrap()
        .case;
    let case = act(store, &world.approver, &case, complete_step("同意"))
        .await
        .unwrap()
        .case;
    let case = act(store, &world.approver, &case, approve())
        .await
        .unwrap()
        .case;
    act(store, &world.clerk, &case, deliver()).await.unwrap();
    audit_entry_count(store).await
}

/// An audit_log row as stored.
#[derive(sqlx::FromRow)]
struct StoredRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object_kind: String,
    object_id: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

/// The triggers that keep the audit log append-only.
const GUARDS: [&str; 2] = ["audit_log_no_update", "audit_log_no_delete"];

/// Drops the append-only guard, as someone with the database owner's rights
/// could before editing the log by hand.
async fn unguard(store: &Store) {
    let on = match store.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " ON audit_log",
    };
    for guard in GUARDS {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {guard}{on}")))
            .execute(store.pool())
            .await
            .unwrap_or_else(|e| panic!("drop {guard}: {e}"));
    }
}

/// Runs `sql` on entry `seq` by hand, past the append-only guard.
async fn execute(store: &Store, sql: &'static str, seq: i64) {
    unguard(store).await;
    sqlx::query(sql)
        .bind(seq)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn broken_seq(verification: Verification) -> i64 {
    match verification {
        Verification::Broken { seq, reason } => {
            assert!(!reason.is_empty());
            seq
        }
        intact => panic!("expected a broken chain, got {intact:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_is_intact_after_a_story() {
    for_each_backend(|store| async move {
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { entries: 0 }
        );
        let entries = story(&store).await;
        // Department, 5 people, backup, item, publication, 7 transitions.
        assert_eq!(entries, 16);
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { entries }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_entry_links_to_the_one_before_with_sm3() {
    for_each_backend(|store| async move {
        story(&store).await;
        let rows: Vec<StoredRow> = sqlx::query_as(
            "SELECT seq, at, actor, action, object_kind, object_id, detail, prev_hash, hash \
             FROM audit_log ORDER BY seq",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        let mut prev = GENESIS_HASH.to_string();
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.seq, i as i64 + 1);
            assert_eq!(row.prev_hash, prev);
            let record = AuditRecord {
                seq: row.seq,
                at: &row.at,
                actor: &row.actor,
                action: &row.action,
                object_kind: &row.object_kind,
                object_id: &row.object_id,
                detail: &row.detail,
            };
            assert_eq!(row.hash, chain_hash(&prev, &record));
            assert!(serde_json::from_str::<serde_json::Value>(&row.detail).is_ok());
            prev = row.hash.clone();
        }
        // Times are RFC 3339 UTC, from the caller's clock.
        assert_eq!(rows[0].at, "2026-11-23T02:00:00Z");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_refuses_to_change_or_remove_an_audit_entry() {
    for_each_backend(|store| async move {
        let entries = story(&store).await;
        for sql in [
            "UPDATE audit_log SET detail = '{}' WHERE seq = $1",
            "DELETE FROM audit_log WHERE seq = $1",
        ] {
            let refused = sqlx::query(sql).bind(3_i64).execute(store.pool()).await;
            let message = refused.expect_err(sql).to_string();
            assert!(message.contains("append-only"), "{sql}: {message}");
        }
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { entries }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_entry_breaks_the_chain_at_its_seq() {
    for_each_backend(|store| async move {
        story(&store).await;
        execute(
            &store,
            "UPDATE audit_log SET detail = '{\"opinion\":\"改过\"}' WHERE seq = $1",
            9,
        )
        .await;
        assert_eq!(broken_seq(store.verify_audit().await.unwrap()), 9);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() {
    for_each_backend(|store| async move {
        story(&store).await;
        // The forger recomputes the edited entry's own hash, but the next entry
        // still names the old one.
        let (at, actor, action, kind, id, prev_hash): (String, String, String, String, String, String) =
            sqlx::query_as(
                "SELECT at, actor, action, object_kind, object_id, prev_hash FROM audit_log WHERE seq = 5",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
        let forged_detail = "{}";
        let forged = chain_hash(
            &prev_hash,
            &AuditRecord {
                seq: 5,
                at: &at,
                actor: &actor,
                action: &action,
                object_kind: &kind,
                object_id: &id,
                detail: forged_detail,
            },
        );
        unguard(&store).await;
        sqlx::query("UPDATE audit_log SET detail = $1, hash = $2 WHERE seq = 5")
            .bind(forged_detail)
            .bind(&forged)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(broken_seq(store.verify_audit().await.unwrap()), 6);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_last_entry_breaks_the_chain() {
    for_each_backend(|store| async move {
        let entries = story(&store).await;
        execute(&store, "DELETE FROM audit_log WHERE seq = $1", entries).await;
        assert_eq!(broken_seq(store.verify_audit().await.unwrap()), entries);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_middle_entry_breaks_the_chain_at_its_seq() {
    for_each_backend(|store| async move {
        story(&store).await;
        execute(&store, "DELETE FROM audit_log WHERE seq = $1", 4).await;
        assert_eq!(broken_seq(store.verify_audit().await.unwrap()), 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_first_entry_breaks_the_chain() {
    for_each_backend(|store| async move {
        story(&store).await;
        execute(&store, "DELETE FROM audit_log WHERE seq = $1", 1).await;
        assert_eq!(broken_seq(store.verify_audit().await.unwrap()), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_appends_make_one_chain() {
    for_each_backend(|store| async move {
        story(&store).await;
        let item = store.item_by_code("000117001000").await.unwrap();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { submit(&store, item.id).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { entries: 66 }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verifying_while_entries_are_appended_finds_the_chain_intact() {
    for_each_backend(|store| async move {
        story(&store).await;
        let item = store.item_by_code("000117001000").await.unwrap();
        let writers: Vec<_> = (0..300)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { submit(&store, item.id).await })
            })
            .collect();
        let mut checks = 0;
        while writers.iter().any(|w| !w.is_finished()) {
            let verification = store.verify_audit().await.unwrap();
            assert!(
                matches!(verification, Verification::Intact { .. }),
                "{verification:?} while appending"
            );
            checks += 1;
        }
        for writer in writers {
            writer.await.unwrap();
        }
        assert!(checks > 0);
        assert_eq!(
            store.verify_audit().await.unwrap(),
            Verification::Intact { entries: 316 }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_last_entry_with_a_recomputed_hash_disagrees_with_the_head() {
    for_each_backend(|store| async move {
        let entries = story(&store).await;
        let (at, actor, action, kind, id, prev_hash): (String, String, String, String, String, String) =
            sqlx::query_as(
                "SELECT at, actor, action, object_kind, object_id, prev_hash FROM audit_log WHERE seq = $1",
            )
            .bind(entries)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let forged = chain_hash(
            &prev_hash,
            &AuditRecord {
                seq: entries,
                at: &at,
                actor: &actor,
                action: &action,
                object_kind: &kind,
                object_id: &id,
                detail: "{}",
            },
        );
        unguard(&store).await;
        sqlx::query("UPDATE audit_log SET detail = '{}', hash = $1 WHERE seq = $2")
            .bind(&forged)
            .bind(entries)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(broken_seq(store.verify_audit().await.unwrap()), entries);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transitions_interleaved_with_other_audited_changes_keep_one_chain() {
    for_each_backend(|store| async move {
        let world = World::new(&store).await;
        let first = submit(&store, world.item.id).await;
        let first = act(&store, &world.clerk, &first, accept())
            .await
            .unwrap()
            .case;
        // Another kind of audit entry moves the head between two transitions.
        store
            .set_absent(admin(), world.handler_a.id, true, now())
            .await
            .unwrap();
        let second = submit(&store, world.item.id).await;
        act(&store, &world.clerk, &second, accept()).await.unwrap();
        let step = act(&store, &world.handler_b, &first, complete_step("同意"))
            .await
            .unwrap();
        assert_eq!(step.event.on_behalf_of, Some(world.handler_a.id));
        match store.verify_audit().await.unwrap() {
            Verification::Intact { .. } => {}
            broken => panic!("{broken:?}"),
        }
    })
    .await;
}
