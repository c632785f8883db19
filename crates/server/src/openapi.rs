//! The OpenAPI 3 document at `/api/openapi.json` and a browsable page of it at
//! `/api/docs` (Swagger UI, served from the binary: it works offline).

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_swagger_ui::SwaggerUi;

use crate::AppState;
use crate::api::{admin, calendar, cases, catalog, dashboard, session, supervision};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "onewindow API",
        description = "政务服务与电子监察系统接口。错误统一返回 {\"error\": {\"code\", \"message\", \"field\"}}：code 为稳定的英文错误码，message 为中文说明。工作人员先调用 /api/v1/auth/login 获取 token，再以 Authorization: Bearer <token> 调用其他接口。带同一 Idempotency-Key 头重复提交的 POST、PUT 请求只生效一次：重复提交得到首次的结果（非办件接口另带响应头 idempotent-replayed: true），同一键用于不同请求返回 422 idempotency_key_reused，首次请求尚未完成时返回 409 idempotency_key_in_progress。"
    ),
    paths(
        catalog::list_departments, catalog::list_items, catalog::get_item,
        cases::apply, cases::lookup, cases::applicant_action, cases::rate, cases::queue, cases::list_cases,
        cases::register_at_window, cases::get_case, cases::act, cases::download_file, cases::upload_file,
        session::log_in, session::log_out, session::me,
        admin::create_department, admin::update_department, admin::list_windows, admin::create_window, admin::update_window,
        admin::create_item, admin::update_item, admin::set_item_status,
        admin::list_staff, admin::create_staff, admin::update_staff, admin::reset_password, admin::set_backup, admin::set_absence,
        admin::export_catalog, admin::import_catalog, admin::verify_audit,
        calendar::days, calendar::due, calendar::list_overrides, calendar::add_override, calendar::revoke_override,
        supervision::list_cards, supervision::get_card, supervision::act_on_card, supervision::department_figures,
        supervision::get_rules, supervision::put_rules, supervision::record_accountability,
        supervision::list_accountability, supervision::tick, supervision::my_notices, supervision::read_notice,
        supervision::list_outbox, supervision::resend,
        dashboard::dashboard,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "事项目录与办事指南"),
        (name = "cases", description = "申请、受理与办件"),
        (name = "session", description = "工作人员登录"),
        (name = "admin", description = "系统管理"),
        (name = "calendar", description = "工作日历、期限计算与本地调整"),
        (name = "supervision", description = "电子监察：预警、黄红牌、问责、提醒消息"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi()))
}
