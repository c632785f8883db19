//! Who is asking: a staff session from the `ow_session` cookie (pages) or an
//! `Authorization: Bearer` token (API). Both are the same server-side session.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use onewindow_core::staff::Role;
use onewindow_store::staff::StaffMember;

use crate::AppState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "ow_session";

/// A logged-in staff member.
#[derive(Debug, Clone)]
pub struct StaffUser(pub StaffMember);

impl StaffUser {
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.0.has(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "需要“{}”岗位权限",
                role.label()
            )))
        }
    }

    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.0.has(*r)) {
            Ok(())
        } else {
            let names: Vec<_> = roles.iter().map(|r| r.label()).collect();
            Err(ApiError::forbidden(format!(
                "需要以下岗位之一的权限：{}",
                names.join("、")
            )))
        }
    }

    pub fn scope(&self) -> String {
        format!("staff:{}", self.0.id)
    }
}

fn token_of(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    CookieJar::from_headers(&parts.headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

async fn lookup(parts: &Parts, state: &AppState) -> Result<Option<StaffMember>, ApiError> {
    let Some(token) = token_of(parts) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    Ok(state.store.session(&token, state.now()).await?)
}

impl<S> FromRequestParts<S> for StaffUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        lookup(parts, &state)
            .await?
            .map(StaffUser)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// A logged-in staff member on a page: anonymous visitors are sent to the
/// log-in page and come back afterwards.
#[derive(Debug, Clone)]
pub struct PageUser(pub StaffMember);

pub struct ToLogin(String);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?next={}", urlencode(&self.0))).into_response()
    }
}

impl<S> FromRequestParts<S> for PageUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        match lookup(parts, &state).await {
            Ok(Some(member)) => Ok(PageUser(member)),
            Ok(None) => Err(ToLogin(parts.uri.path().to_string()).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The logged-in staff member, if any (for page headers).
pub struct MaybeUser(pub Option<StaffMember>);

impl<S> FromRequestParts<S> for MaybeUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(MaybeUser(lookup(parts, &state).await.ok().flatten()))
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
