//! onewindow-store: every SQL statement of onewindow, on SQLite or PostgreSQL.
//!
//! Reads go through a connection pool. Writes go through one writer task per
//! process that commits the jobs of many concurrent requests in one transaction,
//! each job in its own savepoint, and answers each job only after the commit
//! (group commit): a refused job undoes only itself, and many transitions share
//! one fsync. See [`writer`].

pub mod admin;
pub mod audit;
mod cache;
pub mod cards;
pub mod cases;
pub mod catalog;
pub mod clock;
pub mod dashboard;
mod db;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod outbox;
pub mod portal;
pub mod ratings;
pub mod staff;
pub mod supervision;
pub mod writer;

pub use db::{Backend, Conn};
pub use error::StoreError;

use std::sync::Arc;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

/// The store: a read pool and the writer.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: writer::Writer,
    region_code: Arc<str>,
    caches: Arc<cache::Caches>,
    /// The calendar in force: shipped data plus the overrides loaded.
    calendars: clock::CalendarSlot,
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite:PATH` or `postgres://...`.
    pub database_url: String,
    /// The region code that case numbers start with (e.g. 430423).
    pub region_code: String,
    /// Most jobs committed in one transaction.
    pub max_batch: usize,
}

impl StoreOptions {
    pub fn new(database_url: impl Into<String>) -> Self {
        StoreOptions {
            database_url: database_url.into(),
            region_code: "430423".into(),
            max_batch: 256,
        }
    }
}

impl Store {
    /// Connects, creating the SQLite file if needed. Does not migrate.
    pub async fn connect(options: &StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = db::normalize_url(&options.database_url)?;
        // On PostgreSQL a pooled connection is pinged before use, so reads
        // survive a server restart or failover. SQLite's connections cannot
        // break that way, and there every statement is a hop to the
        // connection's own thread: no ping. A few SQLite readers beside the
        // writer keep those threads from crowding out the writer on a small
        // machine (WAL lets them all read at once).
        let pool_options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    db::prepare_connection(backend, conn, db::READER_CACHE_MIB).await
                })
            });
        let pool = pool_options
            .connect(&url)
            .await
            .map_err(StoreError::backend)?;
        let writer = writer::Writer::start(backend, url, options.max_batch).await?;
        Ok(Store {
            caches: Arc::default(),
            calendars: Arc::default(),
            pool,
            backend,
            writer,
            region_code: options.region_code.clone().into(),
        })
    }

    /// Applies the embedded migrations that have not run yet, then loads the
    /// calendar overrides.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration failed: {e}")))?;
        self.load_calendar().await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn region_code(&self) -> &str {
        &self.region_code
    }

    /// Runs `job` in the writer's transaction and returns its result once it
    /// is durably committed.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> futures::future::BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.writer.run(job).await
    }

    /// Closes the pool and stops the writer after its queued jobs.
    pub async fn close(&self) {
        self.writer.stop().await;
        self.pool.close().await;
    }
}
