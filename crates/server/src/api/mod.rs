//! The REST API under `/api/v1`. Wire types live here, converted from core and
//! store types; every handler checks the role and the object it acts on.

pub mod admin;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod dashboard;
pub mod idempotency;
pub mod session;
pub mod supervision;

use axum::Router;
use axum::routing::{get, post, put};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/departments",
            get(catalog::list_departments).post(admin::create_department),
        )
        .route(
            "/api/v1/items",
            get(catalog::list_items).post(admin::create_item),
        )
        .route(
            "/api/v1/windows",
            get(admin::list_windows).post(admin::create_window),
        )
        .route(
            "/api/v1/items/{id}",
            get(catalog::get_item).put(admin::update_item),
        )
        .route("/api/v1/items/{id}/status", put(admin::set_item_status))
        .route("/api/v1/catalog/export", get(admin::export_catalog))
        .route("/api/v1/catalog/import", post(admin::import_catalog))
        .route(
            "/api/v1/staff",
            get(admin::list_staff).post(admin::create_staff),
        )
        .route("/api/v1/departments/{id}", put(admin::update_department))
        .route("/api/v1/windows/{id}", put(admin::update_window))
        .route("/api/v1/staff/{id}", put(admin::update_staff))
        .route("/api/v1/staff/{id}/password", put(admin::reset_password))
        .route("/api/v1/staff/{id}/backup", put(admin::set_backup))
        .route("/api/v1/staff/{id}/absence", put(admin::set_absence))
        .route("/api/v1/auth/login", post(session::log_in))
        .route("/api/v1/auth/logout", post(session::log_out))
        .route("/api/v1/me", get(session::me))
        .route("/api/v1/applications", post(cases::apply))
        .route("/api/v1/lookup", get(cases::lookup))
        .route("/api/v1/lookup/actions", post(cases::applicant_action))
        .route("/api/v1/lookup/rating", post(cases::rate))
        .route("/api/v1/queue", get(cases::queue))
        .route(
            "/api/v1/cases",
            get(cases::list_cases).post(cases::register_at_window),
        )
        .route("/api/v1/cases/{id}", get(cases::get_case))
        .route("/api/v1/cases/{id}/actions", post(cases::act))
        .route("/api/v1/files", post(cases::upload_file))
        .route("/api/v1/files/{id}", get(cases::download_file))
        .route("/api/v1/audit/verify", get(admin::verify_audit))
        .route("/api/v1/calendar/days", get(calendar::days))
        .route("/api/v1/calendar/due", get(calendar::due))
        .route(
            "/api/v1/calendar/overrides",
            get(calendar::list_overrides).post(calendar::add_override),
        )
        .route(
            "/api/v1/calendar/overrides/{id}/revoke",
            post(calendar::revoke_override),
        )
        .route("/api/v1/supervision/cards", get(supervision::list_cards))
        .route("/api/v1/supervision/cards/{id}", get(supervision::get_card))
        .route(
            "/api/v1/supervision/cards/{id}/actions",
            post(supervision::act_on_card),
        )
        .route(
            "/api/v1/supervision/departments",
            get(supervision::department_figures),
        )
        .route(
            "/api/v1/supervision/rules",
            get(supervision::get_rules).put(supervision::put_rules),
        )
        .route(
            "/api/v1/supervision/accountability",
            get(supervision::list_accountability).post(supervision::record_accountability),
        )
        .route("/api/v1/supervision/tick", post(supervision::tick))
        .route("/api/v1/supervision/dashboard", get(dashboard::dashboard))
        .route("/api/v1/notices", get(supervision::my_notices))
        .route("/api/v1/notices/{id}/read", post(supervision::read_notice))
        .route("/api/v1/outbox", get(supervision::list_outbox))
        .route("/api/v1/outbox/{id}/resend", post(supervision::resend))
}
