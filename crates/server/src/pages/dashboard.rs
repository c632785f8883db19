//! The supervision dashboard (监察大屏): one screen for the supervision
//! centre. The page carries every number server-side (it is useful without
//! script); `static/dashboard.js` draws the charts with the vendored ECharts
//! and refreshes numbers and charts from `/api/v1/supervision/dashboard`
//! every minute.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onewindow_core::staff::Role;
use serde::Deserialize;

use super::{Layout, date_string_text, error_page, long_cached, query_value, render};
use crate::AppState;
use crate::api::dashboard::{DashboardView, FiguresView, MonthView, NOT_CONNECTED, dashboard_view};
use crate::auth::{PageUser, StaffUser};
use crate::error::ApiError;

const SCRIPT: &str = include_str!("../../static/dashboard.js");
const ECHARTS: &str = include_str!("../../static/vendor/echarts.min.js");

/// A static file's address with a digest of its content (cached for a year).
fn digested(path: &str, body: &str) -> String {
    let digest = onewindow_core::audit::sm3_hex(body.as_bytes());
    format!("{path}?v={}", &digest[..12])
}

fn script_src() -> &'static str {
    static SRC: OnceLock<String> = OnceLock::new();
    SRC.get_or_init(|| digested("/static/dashboard.js", SCRIPT))
}

fn echarts_src() -> &'static str {
    static SRC: OnceLock<String> = OnceLock::new();
    SRC.get_or_init(|| digested("/static/vendor/echarts.min.js", ECHARTS))
}

pub async fn script() -> Response {
    long_cached("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn echarts() -> Response {
    long_cached("text/javascript; charset=utf-8", ECHARTS)
}

/// One figure of the tiles: `key` is its path in the JSON the script reads.
pub struct Tile {
    pub key: String,
    /// The JSON path of a percentage the value shows instead.
    pub pct_key: String,
    pub label: &'static str,
    pub value: String,
    pub link: Option<String>,
    /// A line under the number (the rate, or why there is none).
    pub sub: String,
    /// The JSON path of the rate the line shows, if it shows one.
    pub rate_key: String,
    /// plain, good, soon, overdue, muted
    pub tone: &'static str,
}

/// A department's row of the ranking, as printed.
pub struct RankRow {
    pub rank: i64,
    pub department_id: i64,
    pub name: String,
    pub received: i64,
    pub completed: i64,
    pub on_time: i64,
    pub rate: String,
    pub overdue: i64,
    pub warnings: i64,
    pub yellow: i64,
    pub red: i64,
    pub satisfaction: String,
    pub received_link: String,
    pub completed_link: String,
    pub overdue_link: String,
    pub warnings_link: String,
    pub yellow_link: String,
    pub red_link: String,
}

/// A month of the trend table.
pub struct MonthRow {
    pub label: String,
    pub received: i64,
    pub completed: i64,
    pub rate: String,
    pub warnings: i64,
    pub yellow: i64,
    pub red: i64,
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.1}%"))
        .unwrap_or_else(|| "—".into())
}

impl From<&MonthView> for MonthRow {
    fn from(m: &MonthView) -> Self {
        MonthRow {
            label: m.label.clone(),
            received: m.figures.received,
            completed: m.figures.completed,
            rate: rate_text(m.figures.on_time_rate),
            warnings: m.figures.warnings,
            yellow: m.figures.yellow,
            red: m.figures.red,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    date: String,
    date_label: String,
    month_label: String,
    updated: String,
    api: String,
    today: Vec<Tile>,
    month: Vec<Tile>,
    rows: Vec<RankRow>,
    months: Vec<MonthRow>,
    not_connected: &'static str,
    script_src: &'static str,
    echarts_src: &'static str,
}

fn tiles(
    prefix: &'static str,
    f: &FiguresView,
    links: &crate::api::dashboard::DrillLinks,
    overdue: Option<i64>,
) -> Vec<Tile> {
    let key = |k: &str| format!("{prefix}.{k}");
    let mut tiles = vec![
        Tile {
            pct_key: String::new(),
            key: key("received"),
            label: "受理",
            value: f.received.to_string(),
            link: Some(links.received.clone()),
            sub: "收到的申请".into(),
            rate_key: String::new(),
            tone: "plain",
        },
        Tile {
            pct_key: String::new(),
            key: key("completed"),
            label: "办结",
            value: f.completed.to_string(),
            link: Some(links.completed.clone()),
            sub: "已送达办结".into(),
            rate_key: String::new(),
            tone: "plain",
        },
        Tile {
            pct_key: String::new(),
            key: key("completed_on_time"),
            label: "按时办结",
            value: f.completed_on_time.to_string(),
            link: Some(links.completed.clone()),
            sub: format!("按时率 {}", rate_text(f.on_time_rate)),
            rate_key: key("on_time_rate"),
            tone: "good",
        },
    ];
    if let Some(overdue) = overdue {
        tiles.push(Tile {
            pct_key: String::new(),
            key: "overdue".into(),
            label: "逾期未办结",
            value: overdue.to_string(),
            link: Some(links.overdue.clone()),
            sub: "超过承诺期限仍在办".into(),
            rate_key: String::new(),
            tone: "overdue",
        });
    }
    tiles.extend([
        Tile {
            pct_key: String::new(),
            key: key("warnings"),
            label: "预警",
            value: f.warnings.to_string(),
            link: Some(links.warnings.clone()),
            sub: "临近或超过环节期限".into(),
            rate_key: String::new(),
            tone: "soon",
        },
        Tile {
            pct_key: String::new(),
            key: key("yellow"),
            label: "黄牌",
            value: f.yellow.to_string(),
            link: Some(links.yellow.clone()),
            sub: "不含已撤销".into(),
            rate_key: String::new(),
            tone: "yellow",
        },
        Tile {
            pct_key: String::new(),
            key: key("red"),
            label: "红牌",
            value: f.red.to_string(),
            link: Some(links.red.clone()),
            sub: "不含已撤销".into(),
            rate_key: String::new(),
            tone: "overdue",
        },
        Tile {
            pct_key: String::new(),
            key: String::new(),
            label: "投诉",
            value: "—".into(),
            link: None,
            sub: NOT_CONNECTED.into(),
            rate_key: String::new(),
            tone: "muted",
        },
        Tile {
            pct_key: format!("{prefix}.satisfaction_rate"),
            key: String::new(),
            label: "满意度",
            value: rate_text(f.satisfaction_rate),
            link: None,
            sub: "评价为基本满意及以上".into(),
            rate_key: String::new(),
            tone: "good",
        },
    ]);
    tiles
}

#[derive(Debug, Default, Deserialize)]
pub struct DashboardForm {
    #[serde(default)]
    pub date: String,
}

pub async fn page(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(form): Query<DashboardForm>,
) -> Response {
    let name = member.name.clone();
    if !member.has(Role::Supervisor) {
        let error = ApiError::forbidden("监察大屏仅供电子监察人员查看。");
        return error_page(&state, Some(name), &error);
    }
    let user = StaffUser(member);
    match dashboard_view(&state, &user, Some(&form.date)).await {
        Ok(view) => render(StatusCode::OK, &build(&state, name, &form.date, &view)),
        Err(e) => error_page(&state, Some(name), &e),
    }
}

fn build(state: &AppState, name: String, asked: &str, view: &DashboardView) -> DashboardPage {
    let api = if asked.trim().is_empty() {
        "/api/v1/supervision/dashboard".to_string()
    } else {
        format!(
            "/api/v1/supervision/dashboard?date={}",
            query_value(asked.trim())
        )
    };
    DashboardPage {
        layout: Layout::new(state, "监察大屏", "supervision", Some(name)),
        date: view.date.clone(),
        date_label: date_string_text(&view.date),
        month_label: format!(
            "{} 至 {}",
            date_string_text(&view.month_start),
            date_string_text(&view.date)
        ),
        updated: view.generated_time.clone(),
        api,
        today: tiles("today", &view.today, &view.today_links, Some(view.overdue)),
        month: tiles("month", &view.month, &view.month_links, None),
        rows: view
            .departments
            .iter()
            .map(|d| RankRow {
                rank: d.rank,
                department_id: d.department_id,
                name: d.department_name.clone(),
                received: d.month.received,
                completed: d.month.completed,
                on_time: d.month.completed_on_time,
                rate: rate_text(d.month.on_time_rate),
                overdue: d.overdue,
                warnings: d.month.warnings,
                yellow: d.month.yellow,
                red: d.month.red,
                satisfaction: rate_text(d.month.satisfaction_rate),
                received_link: d.links.received.clone(),
                completed_link: d.links.completed.clone(),
                overdue_link: d.links.overdue.clone(),
                warnings_link: d.links.warnings.clone(),
                yellow_link: d.links.yellow.clone(),
                red_link: d.links.red.clone(),
            })
            .collect(),
        months: view.months.iter().map(MonthRow::from).collect(),
        not_connected: NOT_CONNECTED,
        script_src: script_src(),
        echarts_src: echarts_src(),
    }
}
