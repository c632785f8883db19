//! onewindow-server: the REST API under `/api/v1`, the OpenAPI document and the
//! server-rendered pages. Handlers parse, authorize, call core and store, and
//! render; they hold no SQL and no business rule.

pub mod alerts;
pub mod api;
pub mod auth;
pub mod background;
pub mod documents;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod pages;
pub mod search;
pub mod upload;
pub mod xlsx;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use onewindow_core::calendar::ChinaCalendar;
use onewindow_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The county's name as shown on pages, e.g. 衡山县.
    pub region_name: String,
    /// Largest accepted upload, in bytes (one file).
    pub max_upload_bytes: usize,
    /// How long a log-in lasts.
    pub session_hours: i64,
    /// Whether session cookies are marked Secure (behind HTTPS).
    pub secure_cookies: bool,
    /// The channels alerts go out on besides in-app notices.
    pub alerts: alerts::AlertConfig,
    /// Visits a department's window takes per appointment slot.
    pub appointment_capacity: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            region_name: "衡山县".into(),
            max_upload_bytes: 10 * 1024 * 1024,
            session_hours: 12,
            secure_cookies: false,
            alerts: alerts::AlertConfig::default(),
            appointment_capacity: 4,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    /// The public catalog search (an in-memory index of published items).
    pub search: Arc<search::CatalogSearch>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> Self {
        AppState {
            store,
            settings: Arc::new(settings),
            search: Arc::new(search::CatalogSearch::new()),
        }
    }

    /// The county's working-day calendar (shipped data and the overrides in
    /// force). A case is decided on its own department's region calendar.
    pub fn calendar(&self) -> Arc<ChinaCalendar> {
        self.store.calendar_for(self.store.region_code())
    }

    /// The current instant. The only clock read of the request path.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// The largest request body accepted. Multipart bodies hold several files;
/// the per-file limit is checked in `upload`, this bounds the whole request.
pub(crate) fn body_limit(settings: &Settings) -> usize {
    settings.max_upload_bytes.saturating_mul(8).max(1024 * 1024)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let body_limit = body_limit(&state.settings);
    // Idempotency-Key for the API routes whose handlers do not keep it.
    let api = api::routes().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        api::idempotency::guard,
    ));
    Router::new()
        .merge(api)
        .merge(pages::routes())
        .merge(openapi::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError::internal("a handler panicked").into_response()
        }))
        .with_state(state)
}

/// Unknown addresses: a JSON error under `/api`, a page elsewhere.
async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    let error = error::ApiError::not_found(format!("没有这个地址：{}", uri.path()));
    if uri.path().starts_with("/api/") {
        error.into_response()
    } else {
        pages::error_page(&state, None, &error)
    }
}

/// Serves until the process is stopped.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
