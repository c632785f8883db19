//! The group-commit writer: each job in its own savepoint, answered after the
//! commit, and one failing or panicking job never takes the others down.

mod common;

use common::*;
use onewindow_store::StoreError;
use sqlx::Row;

async fn insert_counter(conn: &mut onewindow_store::Conn, name: String) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 1)")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_job_undoes_only_its_own_writes() {
    for_each_backend(|store| async move {
        let kept = store
            .write(|conn| Box::pin(async move { insert_counter(conn, "kept".into()).await }))
            .await;
        assert!(kept.is_ok());
        let undone = store
            .write(|conn| {
                Box::pin(async move {
                    insert_counter(conn, "undone".into()).await?;
                    Err::<(), _>(StoreError::Conflict("refused after writing".into()))
                })
            })
            .await;
        assert!(matches!(undone, Err(StoreError::Conflict(_))));
        // A failing statement (a duplicate key) is undone too, and on
        // PostgreSQL the transaction is usable again after it.
        let duplicate = store
            .write(|conn| Box::pin(async move { insert_counter(conn, "kept".into()).await }))
            .await;
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{duplicate:?}"
        );
        let after = store
            .write(|conn| Box::pin(async move { insert_counter(conn, "after".into()).await }))
            .await;
        assert!(after.is_ok(), "{after:?}");
        let names: Vec<String> = sqlx::query("SELECT name FROM counters ORDER BY name")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name"))
            .collect();
        assert_eq!(names, ["after", "kept"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_jobs_with_failures_among_them_commit_the_rest() {
    for_each_backend(|store| async move {
        let jobs: Vec<_> = (0..100)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .write(move |conn| {
                            Box::pin(async move {
                                insert_counter(conn, format!("job-{i:03}")).await?;
                                if i % 3 == 0 {
                                    // A duplicate key: the statement fails.
                                    insert_counter(conn, format!("job-{i:03}")).await?;
                                }
                                Ok(i)
                            })
                        })
                        .await
                })
            })
            .collect();
        let mut committed = 0;
        for (i, job) in jobs.into_iter().enumerate() {
            match job.await.unwrap() {
                Ok(n) => {
                    assert_eq!(n, i);
                    committed += 1;
                }
                Err(StoreError::Conflict(_)) => assert_eq!(i % 3, 0),
                Err(other) => panic!("job {i}: {other:?}"),
            }
        }
        assert_eq!(committed, 66);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM counters").await, 66);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_job_fails_alone_and_the_writer_carries_on() {
    for_each_backend(|store| async move {
        let panicked = store
            .write(|conn| {
                Box::pin(async move {
                    insert_counter(conn, "before-panic".into()).await?;
                    if std::hint::black_box(true) {
                        panic!("a bug in a decision function");
                    }
                    Ok(())
                })
            })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Backend(_))),
            "{panicked:?}"
        );
        let after = store
            .write(|conn| Box::pin(async move { insert_counter(conn, "after".into()).await }))
            .await;
        assert!(after.is_ok(), "{after:?}");
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM counters WHERE name = 'before-panic'"
            )
            .await,
            0
        );
        // A real store operation works as well.
        let world = World::new(&store).await;
        submit(&store, world.item.id).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_writer_reconnects_after_its_connection_is_lost() {
    for_each_backend(|store| async move {
        if !is_postgres(&store) {
            return;
        }
        let world = World::new(&store).await;
        // A server restart or failover ends every session of the database.
        let mut admin = store.pool().acquire().await.unwrap();
        let ended = count_ended(&mut admin).await;
        assert!(ended >= 1, "the writer's session was ended");
        drop(admin);
        // The next write reopens the writer's connection and succeeds; so do
        // the reads after it.
        let case = store
            .submit_case(application(world.item.id), None, now())
            .await
            .expect("a write after the connection was lost");
        assert_eq!(store.case(case.case.id).await.unwrap(), case.case);
        submit(&store, world.item.id).await;
    })
    .await;
}

async fn count_ended(conn: &mut sqlx::AnyConnection) -> i64 {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS ended",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap()
    .get("n")
}
