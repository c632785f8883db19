//! Extractors that turn bad input into [`ApiError`]s naming the problem.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use onewindow_store::idempotency::IdempotencyKey;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::Json`, with malformed bodies answered in our error format.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::invalid(
            "Content-Type",
            "请求须为JSON格式（Content-Type: application/json）",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::invalid("body", format!("JSON格式错误：{}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            // serde's message reads "...: <path>: <problem>"; the path names the field.
            let detail = text
                .split_once("target type: ")
                .map(|(_, d)| d)
                .unwrap_or(&text);
            let field = detail
                .split_once(": ")
                .map(|(f, _)| f.to_string())
                .unwrap_or_else(|| "body".into());
            let problem = translate_serde(detail);
            ApiError::invalid(field, format!("请求内容有误：{problem}"))
        }
        other => ApiError::invalid("body", format!("无法读取请求内容：{}", other.body_text())),
    }
}

/// Puts serde's usual English phrases into Chinese, keeping the details.
fn translate_serde(detail: &str) -> String {
    detail
        .replace("missing field", "缺少字段")
        .replace("unknown variant", "取值不在允许范围内")
        .replace("invalid type", "类型不正确")
        .replace("expected one of", "允许的取值为")
        .replace("expected", "应为")
        .replace("unknown field", "不认识的字段")
}

/// The optional `Idempotency-Key` header, with the digest of the request it
/// came with. The scope (who sent it) is filled in by the handler.
pub struct IdempotencyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyHeader(None)),
            Some(value) => {
                let key = value
                    .to_str()
                    .map_err(|_| ApiError::invalid("Idempotency-Key", "幂等键只能包含ASCII字符"))?;
                let key = key.trim();
                if key.is_empty() || key.len() > 200 {
                    return Err(ApiError::invalid(
                        "Idempotency-Key",
                        "幂等键长度须在1到200个字符之间",
                    ));
                }
                Ok(IdempotencyHeader(Some(key.to_string())))
            }
        }
    }
}

impl IdempotencyHeader {
    /// The key for the store, scoped to `scope`, bound to the request content.
    pub fn for_request(
        &self,
        scope: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Option<IdempotencyKey> {
        let key = self.0.as_ref()?;
        let canonical = format!(
            "{path}\n{}",
            serde_json::to_string(body).unwrap_or_default()
        );
        Some(IdempotencyKey {
            scope: scope.to_string(),
            key: key.clone(),
            request_hash: onewindow_core::audit::sm3_hex(canonical.as_bytes()),
        })
    }
}
