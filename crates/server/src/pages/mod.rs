//! Server-rendered pages in Chinese: the public portal (catalog, guides, online
//! application, case look-up) and the staff workbench (log-in, work queue, case
//! page with its action forms).
//!
//! Handlers here parse the form, call the same functions as the JSON API
//! (`api::cases::run_command`, `Store::submit_case`...) and render an askama
//! template whose view model is built in this module; templates only print
//! prepared strings, always through askama's HTML escaping. Every POST checks
//! that it comes from this site ([`SameOrigin`]); the session cookie is
//! SameSite=Lax as well.

mod admin;
mod dashboard;
mod portal;
mod public;
mod supervision;
mod work;

use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::calendar::china_zone;

use crate::AppState;
use crate::auth::MaybeUser;
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(public::home))
        .route("/items/{id}", get(public::guide))
        .route("/items/{id}/files/{file_id}", get(public::guide_file))
        .route(
            "/items/{id}/apply",
            get(public::apply_form).post(public::apply),
        )
        .route("/lookup", get(public::lookup_form).post(public::lookup))
        .route("/login", get(work::login_form).post(work::log_in))
        .route("/logout", post(work::log_out))
        .route("/work", get(work::queue))
        .route("/work/cases/{id}", get(work::case_page))
        .route("/work/cases/{id}/actions", post(work::act))
        .route(
            "/work/cases/{id}/documents/{file}",
            get(crate::documents::document_pdf),
        )
        .route("/work/notices", get(supervision::notices))
        .route("/work/notices/{id}/read", post(supervision::read_notice))
        .route("/supervision", get(supervision::list))
        .route("/supervision/dashboard", get(dashboard::page))
        .route(
            "/supervision/rules",
            get(supervision::rules).post(supervision::save_rules),
        )
        .route("/supervision/cards/{id}", get(supervision::card_page))
        .route("/supervision/cards/{id}/actions", post(supervision::act))
        .route(
            "/supervision/cards/{id}/accountability",
            post(supervision::record_accountability),
        )
        .route(
            "/supervision/cards/{id}/notice",
            get(supervision::notice_document),
        )
        .route("/admin/outbox", get(supervision::outbox))
        .route("/admin/outbox/{id}/resend", post(supervision::resend))
        .merge(admin::routes())
        .merge(portal::routes())
        .merge(work::routes())
        .layer(axum::middleware::map_response(page_headers))
        .route("/static/site.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .route("/static/dashboard.js", get(dashboard::script))
        .route("/static/vendor/echarts.min.js", get(dashboard::echarts))
}

// ---------------------------------------------------------------------------
// Static files, built into the binary.

/// The stylesheet: the site's common rules, then one section per part of the
/// site, served as one file.
const CSS: &str = concat!(
    include_str!("../../static/site.css"),
    include_str!("../../static/css/admin.css"),
    include_str!("../../static/css/work.css"),
    include_str!("../../static/css/portal.css"),
);
const FAVICON: &str = include_str!("../../static/favicon.svg");

/// The stylesheet's address with a digest of its content, so that it can be
/// cached for a year and still change with a new release.
fn stylesheet_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let digest = onewindow_core::audit::sm3_hex(CSS.as_bytes());
        format!("/static/site.css?v={}", &digest[..12])
    })
}

fn long_cached(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    long_cached("text/css; charset=utf-8", CSS)
}

async fn favicon() -> Response {
    long_cached("image/svg+xml", FAVICON)
}

/// Headers of every page: no caching of personal data, no framing, and a
/// content security policy that allows only this site's own files (the pages
/// use no inline script or style).
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let defaults = [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

// ---------------------------------------------------------------------------
// The frame of every page.

/// What the frame of every page shows: the hall's name and who is logged in.
pub struct Layout {
    /// 衡山县政务服务网
    pub site_name: String,
    /// 衡山县政务服务中心
    pub hall_name: String,
    pub title: String,
    pub user_name: Option<String>,
    pub stylesheet: &'static str,
    /// Which navigation link is the current page: home, lookup, work, login.
    pub section: &'static str,
}

impl Layout {
    pub fn new(
        state: &AppState,
        title: impl Into<String>,
        section: &'static str,
        user_name: Option<String>,
    ) -> Layout {
        let region = state.settings.region_name.trim();
        let site_name = if region.ends_with("政务服务网") {
            region.to_string()
        } else {
            format!("{region}政务服务网")
        };
        let hall_name = format!("{}政务服务中心", region.trim_end_matches("政务服务网"));
        Layout {
            site_name,
            hall_name,
            title: title.into(),
            user_name,
            stylesheet: stylesheet_href(),
            section,
        }
    }
}

/// The people's government whose name goes into a notice of the right to
/// reconsideration, e.g. 衡山县人民政府.
pub fn government_name(state: &AppState) -> String {
    format!(
        "{}人民政府",
        state
            .settings
            .region_name
            .trim()
            .trim_end_matches("政务服务网")
    )
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

/// An error as a page with the error's status code.
pub fn error_page(state: &AppState, user_name: Option<String>, error: &ApiError) -> Response {
    let heading = match error.status {
        StatusCode::NOT_FOUND => "未找到页面或记录",
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => "无权进行此操作",
        StatusCode::CONFLICT => "当前状态下不能办理",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "填写内容有误",
        _ => "系统暂时无法处理您的请求",
    };
    let page = ErrorPage {
        layout: Layout::new(state, heading, "", user_name),
        status: error.status.as_u16(),
        heading,
        message: error.message.clone(),
    };
    render(error.status, &page)
}

/// Renders a template with a status code; a template that fails to render
/// (which would be a bug) answers 500 with the generic message.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            let error = ApiError::internal(format!("template: {e}"));
            (
                error.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                error.message,
            )
                .into_response()
        }
    }
}

/// The name the frame shows for whoever is logged in, if anyone is.
pub fn user_name(user: &MaybeUser) -> Option<String> {
    user.0.as_ref().map(|m| m.name.clone())
}

/// The id in a page's address; anything but a positive number reads as a
/// missing record (`what` says which).
pub fn page_id(id: &str, what: &str) -> Result<i64, ApiError> {
    id.trim()
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0)
        .ok_or_else(|| ApiError::not_found(what))
}

/// The query of a page a POST redirects to: `?done=<key>` names what was
/// just done, for the page's notice.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub done: String,
}

/// A redirect after a POST (303, so the browser follows with a GET).
pub fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

// ---------------------------------------------------------------------------
// Cross-site requests.

/// Admits a request only when it comes from this site: when the browser sends
/// an `Origin` header (it does on every cross-site POST), its host must be the
/// `Host` the request was sent to. Put it first in every POST handler.
pub struct SameOrigin;

impl<S> FromRequestParts<S> for SameOrigin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(origin) = parts.headers.get(header::ORIGIN) else {
            return Ok(SameOrigin);
        };
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let same = match (origin.to_str().ok().and_then(origin_authority), host) {
            (Some(origin), Some(host)) => origin.eq_ignore_ascii_case(&without_default_port(host)),
            _ => false,
        };
        if same {
            return Ok(SameOrigin);
        }
        let state = AppState::from_ref(state);
        let error = ApiError::forbidden(
            "请求来源校验未通过：不接受来自其他网站的提交。请在本网站页面上重新操作。",
        );
        Err(error_page(&state, None, &error))
    }
}

/// `host[:port]` of an origin such as `https://zwfw.example.gov.cn`, with the
/// scheme's default port left out as browsers leave it out of `Host`.
fn origin_authority(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.is_empty() {
        return None;
    }
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    Some(
        authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_string(),
    )
}

fn without_default_port(host: &str) -> String {
    let host = host.trim();
    host.strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host)
        .to_string()
}

// ---------------------------------------------------------------------------
// Formats.

/// A moment as people in the hall read it: 2026年11月23日 10:05 (Beijing time).
pub fn datetime_text(at: Timestamp) -> String {
    let local = at.to_zoned_datetime(china_zone());
    format!(
        "{}年{}月{}日 {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// A date as 2026年11月23日.
pub fn date_text(date: Date) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// A date given as `2026-11-23` (as the API views carry it) as 2026年11月23日.
pub fn date_string_text(text: &str) -> String {
    text.parse::<Date>()
        .map(date_text)
        .unwrap_or_else(|_| text.to_string())
}

/// A moment given in RFC 3339 (as the API views carry it), in Beijing time.
pub fn timestamp_string_text(text: &str) -> String {
    text.parse::<Timestamp>()
        .map(datetime_text)
        .unwrap_or_else(|_| text.to_string())
}

/// Percent-encodes a query parameter value.
pub fn query_value(text: &str) -> String {
    crate::auth::urlencode(text).replace('/', "%2F")
}

/// One line of an event's details, e.g. 理由：材料不全.
pub struct DetailLine {
    pub label: &'static str,
    pub text: String,
    /// Shown as a notice block (reasons, rights notice).
    pub emphasis: bool,
}

/// One entry of a case's timeline.
pub struct TimelineEntry {
    pub title: String,
    pub state_label: String,
    pub at: String,
    /// Who acted (staff pages only), with "（代A角 X 办理）" when B acted for A.
    pub actor: Option<String>,
    pub lines: Vec<DetailLine>,
    /// The one-time supplement notice: material and what to do about it.
    pub supplement: Vec<(String, String)>,
}

/// The readable lines of an event's detail JSON, in a fixed order.
pub fn detail_lines(detail: &serde_json::Value) -> (Vec<DetailLine>, Vec<(String, String)>) {
    let text = |key: &str| -> Option<String> {
        match detail.get(key)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut lines = Vec::new();
    let mut push = |label: &'static str, value: Option<String>, emphasis: bool| {
        if let Some(text) = value {
            lines.push(DetailLine {
                label,
                text,
                emphasis,
            });
        }
    };
    push(
        "申报方式",
        text("channel").map(|c| {
            if c == "window" {
                "窗口申报".into()
            } else {
                "网上申报".into()
            }
        }),
        false,
    );
    push(
        "上传材料",
        text("materials")
            .filter(|n| n != "0")
            .map(|n| format!("{n}份")),
        false,
    );
    push("环节", text("step_name"), false);
    push(
        "决定",
        text("outcome").map(|o| {
            onewindow_core::case::Outcome::parse(&o)
                .map(|outcome| outcome.label().to_string())
                .unwrap_or(o)
        }),
        false,
    );
    push("意见", text("opinion"), false);
    push(
        "特别程序",
        text("procedure_label")
            .or_else(|| text("procedure").map(|p| procedure_label(&p).to_string())),
        false,
    );
    push(
        "计划用时",
        text("planned_days").map(|d| format!("{d}个工作日")),
        false,
    );
    push(
        "特别程序用时",
        text("paused_working_days").map(|d| format!("{d}个工作日（不计入办理时限）")),
        false,
    );
    push("事由", text("reason"), false);
    push("送达方式", text("method"), false);
    push("说明", text("note"), false);
    if detail.get("deemed_accepted").and_then(|v| v.as_bool()) == Some(true) {
        push(
            "视为受理",
            Some("5个工作日内未作出受理决定，依法自收到申请材料之日起视为受理".into()),
            true,
        );
    }
    push("理由", text("reasons"), true);
    push("救济权利告知", text("rights_notice"), true);
    let supplement = detail
        .get("items")
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    let field =
                        |k: &str| i.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    (field("material"), field("problem"))
                })
                .collect()
        })
        .unwrap_or_default();
    (lines, supplement)
}

/// Special procedures whose time does not count (Administrative Licensing Law
/// art. 45), by their API key.
pub const PROCEDURES: &[(&str, &str)] = &[
    ("hearing", "听证"),
    ("tendering", "招标"),
    ("auction", "拍卖"),
    ("testing", "检验检测"),
    ("quarantine", "检疫"),
    ("expert_review", "专家评审"),
    ("site_inspection", "现场勘验"),
];

fn procedure_label(key: &str) -> &str {
    PROCEDURES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_by_host_and_port() {
        assert_eq!(
            origin_authority("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            origin_authority("https://zwfw.example.cn").as_deref(),
            Some("zwfw.example.cn")
        );
        assert_eq!(
            origin_authority("https://zwfw.example.cn:443").as_deref(),
            Some("zwfw.example.cn")
        );
        assert_eq!(origin_authority("null"), None);
        assert_eq!(
            without_default_port("zwfw.example.cn:443"),
            "zwfw.example.cn"
        );
    }

    #[test]
    fn moments_read_in_beijing_time() {
        let at: Timestamp = "2026-11-23T02:05:00Z".parse().unwrap();
        assert_eq!(datetime_text(at), "2026年11月23日 10:05");
        assert_eq!(date_string_text("2026-01-05"), "2026年1月5日");
    }

    #[test]
    fn supplement_items_and_reasons_are_read_from_the_detail() {
        let detail = serde_json::json!({
            "items": [{"material": "营业执照", "problem": "缺少副本"}],
            "reasons": "材料不全", "note": ""
        });
        let (lines, items) = detail_lines(&detail);
        assert_eq!(
            items,
            vec![("营业执照".to_string(), "缺少副本".to_string())]
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].label, "理由");
    }
}
