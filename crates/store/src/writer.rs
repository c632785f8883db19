//! The writer: one task, one connection, group commit.
//!
//! A job is an async function of the connection. The writer takes every job
//! waiting in its queue (up to a batch limit), opens one transaction, runs each
//! job between `SAVEPOINT` and `RELEASE` (or `ROLLBACK TO` when the job fails),
//! commits once, and only then answers each job. A job's effects are therefore
//! all-or-nothing, every answer follows a durable commit, and N concurrent
//! requests cost one fsync instead of N.

use futures::future::BoxFuture;
use sqlx::Executor;
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::db::{Backend, Conn};

type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, (bool, Deliver)> + Send>;

enum Message {
    Job(Job),
    Stop(oneshot::Sender<()>),
}

#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Message>,
}

impl Writer {
    pub(crate) fn start(conn: Conn, backend: Backend, max_batch: usize) -> Writer {
        let (queue, receiver) = mpsc::channel(8192);
        tokio::spawn(run(conn, backend, receiver, max_batch.max(1)));
        Writer { queue }
    }

    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = job(conn).await;
                let ok = result.is_ok();
                let deliver: Deliver = Box::new(move |commit: Result<(), StoreError>| {
                    let _ = answer.send(commit.and(result));
                });
                (ok, deliver)
            })
        });
        self.queue
            .send(Message::Job(job))
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

async fn run(
    mut conn: Conn,
    backend: Backend,
    mut receiver: mpsc::Receiver<Message>,
    max_batch: usize,
) {
    let begin = match backend {
        // IMMEDIATE takes the write lock at once, so a reader never has to be
        // upgraded half-way (which could fail with SQLITE_BUSY).
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    };
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut stop: Option<oneshot::Sender<()>> = None;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Job(job) => batch.push(job),
            Message::Stop(done) => stop = Some(done),
        }
        while stop.is_none() && batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                Ok(Message::Stop(done)) => stop = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&mut conn, begin, &mut batch).await;
        }
        if let Some(done) = stop.take() {
            let _ = done.send(());
            return;
        }
    }
}

async fn commit_batch(conn: &mut Conn, begin: &'static str, batch: &mut Vec<Job>) {
    let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
    if let Err(e) = conn.execute(begin).await {
        // Dropping the jobs answers each of them with an error.
        tracing::error!(error = %e, "could not begin a write transaction");
        batch.clear();
        return;
    }
    for job in batch.drain(..) {
        if let Err(e) = conn.execute("SAVEPOINT job").await {
            tracing::error!(error = %e, "savepoint failed");
        }
        let (ok, deliver) = job(conn).await;
        let end = if ok {
            "RELEASE SAVEPOINT job"
        } else {
            "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job"
        };
        if let Err(e) = conn.execute(end).await {
            tracing::error!(error = %e, "savepoint release failed");
        }
        delivers.push(deliver);
    }
    let commit = conn.execute("COMMIT").await.map(|_| ()).map_err(|e| {
        tracing::error!(error = %e, "commit failed");
        StoreError::backend(format!("commit failed: {e}"))
    });
    if commit.is_err() {
        let _ = conn.execute("ROLLBACK").await;
    }
    for deliver in delivers {
        deliver(commit.clone());
    }
}
