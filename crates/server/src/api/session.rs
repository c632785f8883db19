//! Log-in and log-out.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, StaffUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

#[derive(Deserialize, ToSchema)]
pub struct LogInRequest {
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct StaffView {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub department_id: i64,
    /// Role keys: window_clerk, handler, reviewer, approver, supervisor, admin, security_admin, audit_admin.
    pub roles: Vec<String>,
    pub backup_id: Option<i64>,
    pub absent: bool,
}

impl From<&onewindow_store::staff::StaffMember> for StaffView {
    fn from(m: &onewindow_store::staff::StaffMember) -> Self {
        StaffView {
            id: m.id,
            login: m.login.clone(),
            name: m.name.clone(),
            department_id: m.department_id,
            roles: m.roles.iter().map(|r| r.key().to_string()).collect(),
            backup_id: m.backup_id,
            absent: m.absent,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LogInResponse {
    /// Bearer token for `Authorization: Bearer …`; the same session is also set as a cookie.
    pub token: String,
    pub staff: StaffView,
}

/// The session cookie: HttpOnly, SameSite=Lax, gone when the browser closes
/// (the server ends the session after `session_hours` in any case) (a cross-site form post carries
/// no session, which is the CSRF guard of the pages).
pub fn session_cookie(token: String, state: &AppState) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies)
        .path("/")
        .build()
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LogInRequest,
    responses((status = 200, body = LogInResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn log_in(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(request): Json<LogInRequest>,
) -> ApiResult<Response> {
    if request.login.trim().is_empty() {
        return Err(ApiError::invalid("login", "请输入登录名"));
    }
    if request.password.is_empty() {
        return Err(ApiError::invalid("password", "请输入密码"));
    }
    let (token, member) = state
        .store
        .log_in(
            &request.login,
            &request.password,
            state.now(),
            state.settings.session_hours,
        )
        .await
        .map_err(|e| match e {
            onewindow_store::StoreError::Forbidden(message) => ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                message,
            ),
            other => other.into(),
        })?;
    let jar = jar.add(session_cookie(token.clone(), &state));
    Ok((
        jar,
        axum::Json(LogInResponse {
            token,
            staff: StaffView::from(&member),
        }),
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session", responses((status = 204)))]
pub async fn log_out(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    if let Some(token) = bearer.or_else(|| jar.get(SESSION_COOKIE).map(|c| c.value().to_string())) {
        state.store.log_out(&token).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/").build());
    Ok((jar, axum::http::StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = StaffView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(user: StaffUser) -> axum::Json<StaffView> {
    axum::Json(StaffView::from(&user.0))
}
