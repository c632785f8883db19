//! The writer: one thread, one connection, group commit.
//!
//! A job is an async function of the connection. The writer takes every job
//! waiting in its queue (up to a batch limit), opens one transaction, runs each
//! job between `SAVEPOINT` and `RELEASE` (or `ROLLBACK TO` when the job fails),
//! commits once, and only then answers each job. A job's effects are therefore
//! all-or-nothing, every answer follows a durable commit, and N concurrent
//! requests cost one fsync instead of N.
//!
//! When a transaction cannot begin (the PostgreSQL session was ended by a
//! restart or a failover, the connection broke), the writer opens a new
//! connection and tries once more before failing the batch, so a lost
//! connection costs at most the batch in flight, not every later write.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::Executor;
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::db::{self, Backend, Conn};

type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A queued job: run on the connection, or, given the error that kept the
/// batch from starting, answered with it at once.
type Job = Box<
    dyn for<'c> FnOnce(Result<&'c mut Conn, StoreError>) -> BoxFuture<'c, (bool, Deliver)> + Send,
>;

enum Message {
    /// A job, and whether it keeps its own writes all-or-nothing (see
    /// [`Writer::run_self_contained`]).
    Job(Job, bool),
    Stop(oneshot::Sender<()>),
}

#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Message>,
}

impl Writer {
    /// Starts the writer task with a connection of its own; `url` opens (and
    /// reopens) it.
    pub(crate) async fn start(
        backend: Backend,
        url: String,
        max_batch: usize,
    ) -> Result<Writer, StoreError> {
        let (queue, receiver) = mpsc::channel(8192);
        let (ready, started) = oneshot::channel();
        // The writer runs on a thread of its own, with a runtime of its own:
        // every statement is a round trip to the connection, and the writer
        // resumes after each without queueing behind the request tasks of
        // the server's runtime.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StoreError::backend)?;
        std::thread::Builder::new()
            .name("onewindow-writer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match db::connect_one(backend, &url).await {
                        Ok(conn) => {
                            let _ = ready.send(Ok(()));
                            run(
                                Connection { conn, backend, url },
                                receiver,
                                max_batch.max(1),
                            )
                            .await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                });
            })
            .map_err(StoreError::backend)?;
        started
            .await
            .map_err(|_| StoreError::backend("the writer thread ended before starting"))??;
        Ok(Writer { queue })
    }

    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        self.enqueue(job, false).await
    }

    /// Runs a job that leaves nothing behind when it fails (one statement,
    /// or statements between its own savepoint and release that it rolls
    /// back on error): the writer opens no savepoint for it, which saves a
    /// round trip.
    pub(crate) async fn run_self_contained<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        self.enqueue(job, true).await
    }

    async fn enqueue<T, F>(&self, job: F, self_contained: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let conn = match conn {
                    Ok(conn) => conn,
                    Err(e) => {
                        let deliver: Deliver = Box::new(move |_| {
                            let _ = answer.send(Err(e));
                        });
                        return (false, deliver);
                    }
                };
                // A panicking job (a bug in a decision function, say) must not
                // end the writer task, which every later write waits on: it
                // fails alone, its savepoint is rolled back like any failure.
                let result = AssertUnwindSafe(async move { job(conn).await })
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| Err(job_panicked(panic.as_ref())));
                let ok = result.is_ok();
                let deliver: Deliver = Box::new(move |commit: Result<(), StoreError>| {
                    let _ = answer.send(commit.and(result));
                });
                (ok, deliver)
            })
        });
        self.queue
            .send(Message::Job(job, self_contained))
            .await
            .map_err(|_| StoreError::Backend("the writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Backend("the writer stopped before answering".into()))?
    }

    pub(crate) async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.queue.send(Message::Stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }
}

fn job_panicked(panic: &(dyn std::any::Any + Send)) -> StoreError {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(
        panic = message,
        "a write job panicked; its writes are rolled back"
    );
    StoreError::Backend(format!("the write job panicked: {message}"))
}

/// The writer's connection and how to open it again.
struct Connection {
    conn: Conn,
    backend: Backend,
    url: String,
}

impl Connection {
    fn begin_statement(&self) -> &'static str {
        match self.backend {
            // IMMEDIATE takes the write lock at once, so a reader never has to
            // be upgraded half-way (which could fail with SQLITE_BUSY).
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// Begins a transaction, on a new connection if the current one fails.
    async fn begin(&mut self) -> Result<(), StoreError> {
        let begin = self.begin_statement();
        let first = match self.conn.execute(begin).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        tracing::warn!(error = %first, "could not begin a write transaction; reconnecting");
        let mut fresh = db::connect_one(self.backend, &self.url)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not reconnect the writer");
                StoreError::backend(format!("could not begin a write transaction: {first}"))
            })?;
        fresh.execute(begin).await.map_err(|e| {
            tracing::error!(error = %e, "could not begin a write transaction");
            StoreError::backend(format!("could not begin a write transaction: {e}"))
        })?;
        // The old connection is dropped, which rolls back anything it held.
        self.conn = fresh;
        Ok(())
    }
}

async fn run(mut connection: Connection, mut receiver: mpsc::Receiver<Message>, max_batch: usize) {
    let mut batch: Vec<(Job, bool)> = Vec::with_capacity(max_batch);
    let mut stop: Option<oneshot::Sender<()>> = None;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Job(job, self_contained) => batch.push((job, self_contained)),
            Message::Stop(done) => stop = Some(done),
        }
        while stop.is_none() && batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(Message::Job(job, self_contained)) => batch.push((job, self_contained)),
                Ok(Message::Stop(done)) => stop = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&mut connection, &mut batch).await;
        }
        if let Some(done) = stop.take() {
            // Closing (rather than dropping) lets SQLite checkpoint the WAL.
            let _ = sqlx::Connection::close(connection.conn).await;
            let _ = done.send(());
            return;
        }
    }
}

async fn commit_batch(connection: &mut Connection, batch: &mut Vec<(Job, bool)>) {
    if let Err(e) = connection.begin().await {
        for (job, _) in batch.drain(..) {
            let (_, deliver) = job(Err(e.clone())).await;
            deliver(Ok(()));
        }
        return;
    }
    let conn = &mut connection.conn;
    let started = std::time::Instant::now();
    let jobs = batch.len();
    let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
    // The `job` savepoint of the last job that needed one: None when none is
    // open, else whether that job succeeded. Closing one job's savepoint and
    // opening the next one's go together in one round trip, as do the last
    // close and the commit. A self-contained job runs without one (inside a
    // successful job's open savepoint, which is released later with it).
    let mut open: Option<bool> = None;
    for (job, self_contained) in batch.drain(..) {
        let statement = match (self_contained, open) {
            (true, Some(false)) => {
                open = None;
                Some("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
            }
            (true, _) => None,
            (false, None) => Some("SAVEPOINT job"),
            (false, Some(true)) => Some("RELEASE SAVEPOINT job; SAVEPOINT job"),
            (false, Some(false)) => {
                Some("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job; SAVEPOINT job")
            }
        };
        if let Some(statement) = statement
            && let Err(e) = conn.execute(statement).await
        {
            tracing::error!(error = %e, "savepoint failed");
        }
        let (ok, deliver) = job(Ok(&mut *conn)).await;
        if !self_contained {
            open = Some(ok);
        }
        delivers.push(deliver);
    }
    let close = match open {
        Some(false) => "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job; COMMIT",
        Some(true) => "RELEASE SAVEPOINT job; COMMIT",
        None => "COMMIT",
    };
    let commit = conn.execute(close).await.map(|_| ()).map_err(|e| {
        tracing::error!(error = %e, "commit failed");
        StoreError::backend(format!("commit failed: {e}"))
    });
    if commit.is_err() {
        let _ = conn.execute("ROLLBACK").await;
    }
    tracing::trace!(
        jobs,
        micros = started.elapsed().as_micros() as u64,
        "batch committed"
    );
    for deliver in delivers {
        deliver(commit.clone());
    }
}
