//! The one place where errors become HTTP responses.
//!
//! Which error type belongs where: `onewindow_core::DomainError` names a broken
//! rule (refused transition, bad field); `onewindow_store::StoreError` adds not
//! found, conflicts and backend failures; [`ApiError`] is what handlers return,
//! built from either or from the HTTP edge (bad JSON, bad upload, auth). Every
//! body is `{"error": {"code", "message", "field"?}}` with a stable code for
//! programs and a Chinese message for people. Backend details are logged, never
//! sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onewindow_core::DomainError;
use onewindow_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Every field problem of an `invalid_input`.
    pub problems: Vec<Problem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `transition_refused`.
    pub code: String,
    /// Message for people, in Chinese.
    pub message: String,
    /// The input field concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `invalid_input`: every field problem found, all of them when a
    /// whole form or guide was checked (the first is also `field` and leads
    /// `message`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

/// One field of the input and what is wrong with it, in Chinese.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            problems: Vec::new(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let (field, message) = (field.into(), message.into());
        ApiError {
            field: Some(field.clone()),
            problems: vec![Problem {
                field,
                message: message.clone(),
            }],
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A request with an `Idempotency-Key` whose first request has not
    /// answered yet; `unresolved` when that was long ago (its process likely
    /// ended before recording the outcome, which is then unknown).
    pub fn idempotency_in_progress(unresolved: bool) -> Self {
        let message = if unresolved {
            "使用该幂等键的首次请求未能记录处理结果，无法确定是否已生效；请先核实，如需重新提交请换用新的幂等键"
        } else {
            "使用该幂等键的首次请求仍在处理中，请稍后用同一幂等键重试"
        };
        ApiError {
            field: Some("Idempotency-Key".into()),
            ..ApiError::new(StatusCode::CONFLICT, "idempotency_key_in_progress", message)
        }
    }

    pub fn payload_too_large(limit: usize) -> Self {
        ApiError {
            field: Some("body".into()),
            ..ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("请求内容超过{}KB的上限", limit / 1024),
            )
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "系统内部错误，请稍后重试；如持续出现请联系管理员",
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                field: self.field.clone(),
                problems: self.problems.clone(),
            },
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match &e {
            DomainError::Invalid(_) | DomainError::InvalidFields(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DomainError::RoleRequired { .. } | DomainError::NotAssignee => StatusCode::FORBIDDEN,
            DomainError::TransitionRefused { .. }
            | DomainError::SecondSupplement
            | DomainError::DeemedAccepted
            | DomainError::ItemNotPublished
            | DomainError::CardRefused { .. }
            | DomainError::SecondAppeal => StatusCode::CONFLICT,
        };
        ApiError {
            status,
            code: e.code(),
            message: e.message(),
            field: e.field().map(str::to_string),
            problems: e
                .problems()
                .iter()
                .map(|p| Problem {
                    field: p.field.clone(),
                    message: p.message.clone(),
                })
                .collect(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => ApiError::not_found(match what {
                "case" => "未找到该办件，请核对办件编号和手机号码",
                "item" => "未找到该事项",
                "department" => "未找到该部门",
                "window" => "未找到该窗口",
                "staff" => "未找到该工作人员",
                "file" => "未找到该文件",
                "card" => "未找到该督办件",
                "notice" | "message" => "未找到该消息",
                _ => "未找到所请求的记录",
            }),
            StoreError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "version_conflict", message)
            }
            StoreError::Domain(d) => d.into(),
            StoreError::Forbidden(message) => ApiError::forbidden(message),
            StoreError::IdempotencyMismatch => ApiError {
                field: Some("Idempotency-Key".into()),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "该幂等键已用于另一个不同的请求，请更换幂等键",
                )
            },
            StoreError::Backend(detail) => ApiError::internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
