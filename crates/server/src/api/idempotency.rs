//! `Idempotency-Key` on every POST, PUT, PATCH and DELETE under `/api/v1`:
//! the same request repeated with the same key has the effect of one and gets
//! the first answer again.
//!
//! The case handlers (applications, window registration, the applicant's and
//! the staff's commands) record the key in the same writer job as their
//! effect; [`guard`] does it for every other route. It scopes the key to the
//! caller (`staff:ID` from the bearer token or session cookie, else
//! `public`), digests the request (method, path and query, body), and
//! reserves the key before the handler runs. A repeat of a completed request
//! gets the recorded status, content type and body; the same key with another
//! request is refused (422 `idempotency_key_reused`); a repeat while the
//! first is still running gets 409 `idempotency_key_in_progress`. A request
//! that fails (4xx, 5xx) releases its key, so the corrected request can use
//! it. The handler runs in a task of its own: a client that hangs up does
//! not leave the key half-recorded.

use std::panic::AssertUnwindSafe;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use jiff::SignedDuration;
use onewindow_core::audit::sm3_hex;
use onewindow_store::idempotency::{IdempotencyKey, RecordedAnswer, Reservation};

use crate::AppState;
use crate::auth::{MaybeUser, StaffUser};
use crate::error::ApiError;
use crate::extract::idempotency_key_of;

/// Routes whose handlers keep the key themselves, in the job of their effect.
const KEPT_BY_HANDLER: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/applications"),
    (Method::POST, "/api/v1/cases"),
    (Method::POST, "/api/v1/lookup/actions"),
    (Method::POST, "/api/v1/cases/{id}/actions"),
];

/// Routes never replayed: a log-in answers with a new session's token, and
/// tokens are stored nowhere in clear (a repeated log-in opens another
/// session and has no other effect).
const NEVER_REPLAYED: &[(Method, &str)] = &[(Method::POST, "/api/v1/auth/login")];

/// Whether a method may have an effect (and so honours `Idempotency-Key`).
fn has_effect(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

/// A reservation older than this without an answer is taken for one whose
/// process ended before recording it.
const UNRESOLVED_AFTER: SignedDuration = SignedDuration::from_mins(10);

/// The responses header that marks a replayed answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The middleware. Requests without the header, or with a method without
/// effect, or to a route listed above, pass through untouched.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match guarded(state, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn guarded(state: AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    let method = request.method().clone();
    if !has_effect(&method) {
        return Ok(next.run(request).await);
    }
    let Some(key) = idempotency_key_of(request.headers())? else {
        return Ok(next.run(request).await);
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let listed =
        |routes: &[(Method, &str)]| routes.iter().any(|(m, r)| *m == method && *r == route);
    if listed(KEPT_BY_HANDLER) || listed(NEVER_REPLAYED) {
        return Ok(next.run(request).await);
    }

    let (mut parts, body) = request.into_parts();
    let scope = match MaybeUser::from_request_parts(&mut parts, &state).await {
        Ok(MaybeUser(Some(member))) => StaffUser(member).scope(),
        _ => "public".to_string(),
    };
    let limit = crate::body_limit(&state.settings);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))?;
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let probe = {
        let mut probe = Request::new(Body::from(bytes.clone()));
        *probe.headers_mut() = parts.headers.clone();
        *probe.extensions_mut() = parts.extensions.clone();
        probe
    };
    let key = IdempotencyKey {
        scope,
        key,
        request_hash: request_hash(&method, &target, probe).await,
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    // Reserve, run and record in a task of its own, so that a client hanging
    // up mid-way does not leave the key reserved for ever.
    tokio::spawn(run_once(state, key, request, next))
        .await
        .map_err(ApiError::internal)
}

/// Runs the request once under `key`, or answers for the run that had it.
async fn run_once(state: AppState, key: IdempotencyKey, request: Request, next: Next) -> Response {
    let now = state.now();
    match state.store.reserve_idempotency_key(&key, now).await {
        Err(error) => ApiError::from(error).into_response(),
        Ok(Reservation::Answered(answer)) => replay(answer),
        Ok(Reservation::Running { since }) => {
            ApiError::idempotency_in_progress(since + UNRESOLVED_AFTER < now).into_response()
        }
        Ok(Reservation::Reserved) => {
            let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
                Ok(response) => response,
                Err(_) => {
                    release(&state, &key).await;
                    return ApiError::internal("a handler panicked").into_response();
                }
            };
            let (parts, body) = response.into_parts();
            let bytes = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    release(&state, &key).await;
                    return ApiError::internal(format!("cannot read an answer: {e}"))
                        .into_response();
                }
            };
            if parts.status.is_success() {
                let answer = RecordedAnswer {
                    status: parts.status.as_u16(),
                    content_type: parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                    body: bytes.to_vec(),
                };
                // The effect is done either way; a key left reserved answers
                // its repeats "still running", never a second effect.
                if let Err(e) = state.store.complete_idempotency_key(&key, answer).await {
                    tracing::error!(key = %key.key, "cannot record an idempotent answer: {e}");
                }
            } else {
                release(&state, &key).await;
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

async fn release(state: &AppState, key: &IdempotencyKey) {
    if let Err(e) = state.store.release_idempotency_key(key).await {
        tracing::error!(key = %key.key, "cannot release an idempotency key: {e}");
    }
}

/// The first answer again, marked as a replay.
fn replay(answer: RecordedAnswer) -> Response {
    let status =
        axum::http::StatusCode::from_u16(answer.status).unwrap_or(axum::http::StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    if let Some(value) = answer
        .content_type
        .and_then(|t| HeaderValue::from_str(&t).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    marked(true, response)
}

/// `response`, marked as a replay when `replayed` (also for the routes whose
/// handlers keep the key themselves).
pub fn marked(replayed: bool, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// Fields whose values never reach the digest: the digest is stored, and a
/// fast hash of a password would undo the slow hash of the staff table. A
/// repeat that differs only in a password counts as the same request.
const SECRET_FIELDS: &[&str] = &["password", "password_again", "new_password"];

/// The digest of a request: its method, path and query, and its body —
/// JSON compared by value (spacing and key order do not matter), a multipart
/// form by its parts (name, file name, type and content; the boundary a
/// client picks anew for a retry does not matter), anything else byte for
/// byte.
pub async fn request_hash(method: &Method, target: &str, request: Request) -> String {
    let body = body_digest(request).await;
    sm3_hex(format!("{method} {target}\n{body}").as_bytes())
}

async fn body_digest(request: Request) -> String {
    let content_type = content_type(request.headers());
    if content_type.starts_with("multipart/form-data") {
        // A form that does not parse is refused by its handler and so never
        // recorded: its digest only has to be stable.
        let unreadable = || "multipart unreadable".to_string();
        return match Multipart::from_request(request, &()).await {
            Ok(multipart) => multipart_digest(multipart).await.unwrap_or_else(unreadable),
            Err(_) => unreadable(),
        };
    }
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let is_json = content_type.starts_with("application/json") || content_type.contains("+json");
    if is_json && let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        redact(&mut value);
        return format!("json {}", sm3_hex(value.to_string().as_bytes()));
    }
    format!("bytes {}", sm3_hex(&bytes))
}

async fn multipart_digest(mut multipart: Multipart) -> Option<String> {
    let mut digest = String::from("multipart");
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().unwrap_or("").to_string();
        let content_type = field.content_type().unwrap_or("").to_string();
        let bytes: Bytes = field.bytes().await.ok()?;
        let data = if SECRET_FIELDS.contains(&name.as_str()) {
            "redacted".to_string()
        } else {
            sm3_hex(&bytes)
        };
        digest.push_str(&format!(
            "\n{}\t{}\t{}\t{data}",
            escape(&name),
            escape(&file_name),
            escape(&content_type)
        ));
    }
    Some(digest)
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Replaces the values of secret fields, at any depth.
fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, inner) in map.iter_mut() {
                if SECRET_FIELDS.contains(&name.as_str()) {
                    *inner = serde_json::Value::String("redacted".into());
                } else {
                    redact(inner);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_request(body: &str) -> Request {
        let mut request = Request::new(Body::from(body.to_string()));
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request
    }

    async fn hash(method: Method, target: &str, body: &str) -> String {
        request_hash(&method, target, json_request(body)).await
    }

    #[tokio::test]
    async fn json_is_compared_by_value_and_the_method_and_path_count() {
        let a = hash(
            Method::POST,
            "/api/v1/departments",
            r#"{"a": 1, "b": [1, 2]}"#,
        )
        .await;
        let spaced = hash(
            Method::POST,
            "/api/v1/departments",
            "{ \"b\":[1,2],\n\"a\":1 }",
        )
        .await;
        assert_eq!(a, spaced);
        assert_ne!(
            a,
            hash(
                Method::POST,
                "/api/v1/departments",
                r#"{"a": 2, "b": [1, 2]}"#
            )
            .await
        );
        assert_ne!(
            a,
            hash(
                Method::PUT,
                "/api/v1/departments",
                r#"{"a": 1, "b": [1, 2]}"#
            )
            .await
        );
        assert_ne!(
            a,
            hash(Method::POST, "/api/v1/windows", r#"{"a": 1, "b": [1, 2]}"#).await
        );
    }

    #[tokio::test]
    async fn passwords_never_reach_the_digest() {
        let a = hash(
            Method::PUT,
            "/api/v1/staff/3/password",
            r#"{"password": "first-secret"}"#,
        )
        .await;
        let b = hash(
            Method::PUT,
            "/api/v1/staff/3/password",
            r#"{"password": "other-secret"}"#,
        )
        .await;
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn a_multipart_form_is_compared_by_its_parts_not_its_boundary() {
        fn form(boundary: &str, content: &str) -> Request {
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n{content}\r\n--{boundary}--\r\n"
            );
            let mut request = Request::new(Body::from(body));
            request.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
                    .unwrap(),
            );
            request
        }
        let target = "/api/v1/files";
        let a = request_hash(&Method::POST, target, form("aaaa1111", "%PDF-1.4 one")).await;
        let b = request_hash(&Method::POST, target, form("bbbb2222", "%PDF-1.4 one")).await;
        let c = request_hash(&Method::POST, target, form("aaaa1111", "%PDF-1.4 two")).await;
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
