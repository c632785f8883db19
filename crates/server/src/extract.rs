//! Extractors that turn bad input into [`ApiError`]s naming the problem.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
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
            let detail = text
                .split_once("target type: ")
                .map(|(_, d)| d)
                .unwrap_or(&text);
            let (field, problem) = describe_serde(detail, "body");
            ApiError::invalid(field, format!("请求内容有误：{problem}"))
        }
        other => ApiError::invalid("body", format!("无法读取请求内容：{}", other.body_text())),
    }
}

/// The field and a Chinese description of a serde error message such as
/// "applicant: missing field `phone` at line 1 column 72": the path before the
/// first ": " names the field, and a missing field is named inside it.
fn describe_serde(detail: &str, default_field: &str) -> (String, String) {
    let detail = match detail.find(" at line ") {
        Some(i) => &detail[..i],
        None => detail,
    };
    let (path, problem) = match detail.split_once(": ") {
        Some((path, problem)) if !path.contains(' ') => (path, problem),
        _ => ("", detail),
    };
    let missing = problem
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let field = match (path, missing) {
        ("", Some(name)) => name.to_string(),
        (path, Some(name)) => format!("{path}.{name}"),
        ("", None) => default_field.to_string(),
        (path, None) => path.to_string(),
    };
    (field, translate_serde(problem))
}

/// Puts serde's usual English phrases into Chinese, keeping the details.
fn translate_serde(detail: &str) -> String {
    detail
        .replace("missing field", "缺少字段")
        .replace("unknown variant", "取值不在允许范围内")
        .replace("invalid type", "类型不正确")
        .replace("invalid digit found in string", "应为数字")
        .replace("cannot parse integer from empty string", "不能为空")
        .replace("expected one of", "允许的取值为")
        .replace("expected", "应为")
        .replace("unknown field", "不认识的字段")
}

/// `axum::extract::Query`, with bad query strings answered in our error format.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let detail = text
                    .split_once("query string: ")
                    .map(|(_, d)| d)
                    .unwrap_or(&text);
                let (field, problem) = describe_serde(detail, "query");
                Err(ApiError::invalid(field, format!("查询参数有误：{problem}")))
            }
        }
    }
}

/// `axum::extract::Path`, with bad path segments answered in our error format
/// (an id that is not a number reads as "no such record").
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(ApiError::not_found(format!(
                "没有这个地址：{}",
                parts.uri.path()
            ))),
        }
    }
}

/// The optional `Idempotency-Key` header, with the digest of the request it
/// came with. The scope (who sent it) is filled in by the handler.
pub struct IdempotencyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        idempotency_key_of(&parts.headers).map(IdempotencyHeader)
    }
}

/// The `Idempotency-Key` header of a request, if it has one: 1 to 200 ASCII
/// characters (spaces around it do not count).
pub fn idempotency_key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| ApiError::invalid("Idempotency-Key", "幂等键只能包含ASCII字符"))?
        .trim();
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "幂等键长度须在1到200个字符之间",
        ));
    }
    Ok(Some(key.to_string()))
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

#[cfg(test)]
mod tests {
    use super::describe_serde;

    #[test]
    fn serde_messages_name_the_field() {
        assert_eq!(
            describe_serde("missing field `reasons` at line 1 column 40", "body").0,
            "reasons"
        );
        assert_eq!(
            describe_serde(
                "applicant: missing field `phone` at line 1 column 72",
                "body"
            )
            .0,
            "applicant.phone"
        );
        assert_eq!(
            describe_serde("page: invalid digit found in string", "query").0,
            "page"
        );
        assert_eq!(describe_serde("expected value", "body").0, "body");
    }
}
