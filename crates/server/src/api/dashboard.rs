//! The supervision centre's dashboard as JSON: today's and this month's
//! figures, the departments ranked, and the twelve months' trends. The page
//! `/supervision/dashboard` renders the same view and its script fetches this
//! every minute.
//!
//! Satisfaction comes from the applicants' ratings (好差评): the share rated
//! 基本满意 or better. Complaints have no module yet: `null` (暂未接入), never
//! made up.

use axum::extract::State;
use onewindow_core::calendar::civil_date;
use onewindow_core::staff::Role;
use onewindow_store::dashboard::{Dashboard, DepartmentDashboard, Figures};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::calendar::parse_day;
use crate::AppState;
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;

/// What the dashboard says of figures that have no source yet.
pub const NOT_CONNECTED: &str = "暂未接入";

#[derive(Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// The day, YYYY-MM-DD (Asia/Shanghai); default today.
    pub date: Option<String>,
}

/// The counts of a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FiguresView {
    /// Applications received.
    pub received: i64,
    /// Cases completed (办结: delivered).
    pub completed: i64,
    /// Completed without a standing yellow card for the promised limit.
    pub completed_on_time: i64,
    /// Percent, one decimal; null when nothing was completed.
    pub on_time_rate: Option<f64>,
    /// Cards found in the period; revoked cards are not counted.
    pub warnings: i64,
    pub yellow: i64,
    pub red: i64,
    /// Applicants' ratings given in the period.
    pub rated: i64,
    /// Percent of ratings 基本满意 (3) or better, one decimal; null without ratings.
    pub satisfaction_rate: Option<f64>,
}

impl From<&Figures> for FiguresView {
    fn from(f: &Figures) -> Self {
        FiguresView {
            received: f.received,
            completed: f.completed,
            completed_on_time: f.completed_on_time,
            on_time_rate: f.on_time_rate().map(|r| (r * 10.0).round() / 10.0),
            warnings: f.warnings,
            yellow: f.yellow,
            red: f.red,
            rated: f.rated,
            satisfaction_rate: f.satisfaction_rate().map(|r| (r * 10.0).round() / 10.0),
        }
    }
}

/// One month of the trends.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonthView {
    /// YYYY-MM.
    pub month: String,
    /// 12月, or 2026年1月 for a January.
    pub label: String,
    pub figures: FiguresView,
}

/// Where each number of a row leads: the staff's case list
/// (`/work/cases`) for the received, completed and overdue cases, counted
/// there as here; the supervision card list for the cards.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DrillLinks {
    /// The cases received (submitted) in the period.
    pub received: String,
    /// The cases completed (delivered) in the period; the on-time count is
    /// a part of them.
    pub completed: String,
    /// The period's cards (the list these numbers linked to before the case
    /// list existed).
    pub cases: String,
    /// Open cases past their promised deadline, now.
    pub overdue: String,
    pub warnings: String,
    pub yellow: String,
    pub red: String,
}

impl DrillLinks {
    /// Links for a department (or all, `None`) over `from`..=`to`.
    pub fn new(department_id: Option<i64>, from: &str, to: &str) -> DrillLinks {
        let department = department_id
            .map(|id| format!("department_id={id}&"))
            .unwrap_or_default();
        let cards =
            |level: &str| format!("/supervision?{department}level={level}&from={from}&to={to}");
        DrillLinks {
            received: format!("/work/cases?{department}received_from={from}&received_to={to}"),
            completed: format!("/work/cases?{department}completed_from={from}&completed_to={to}"),
            cases: format!("/supervision?{department}from={from}&to={to}"),
            overdue: format!("/work/cases?{department}overdue=1"),
            warnings: cards("warning"),
            yellow: cards("yellow"),
            red: cards("red"),
        }
    }
}

/// A department in the ranking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DepartmentRankView {
    /// 1 is best: highest on-time rate this month, then fewest cards.
    pub rank: i64,
    pub department_id: i64,
    pub department_name: String,
    pub today: FiguresView,
    pub month: FiguresView,
    pub year: FiguresView,
    /// Open cases past their promised deadline.
    pub overdue: i64,
    /// This month's lists.
    pub links: DrillLinks,
}

/// The whole dashboard.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DashboardView {
    /// The day, YYYY-MM-DD.
    pub date: String,
    /// First day of the day's month.
    pub month_start: String,
    /// First day of the trends' first month.
    pub year_start: String,
    /// When these figures were read (RFC 3339).
    pub generated_at: String,
    /// HH:MM Beijing time of `generated_at`.
    pub generated_time: String,
    pub today: FiguresView,
    pub month: FiguresView,
    /// Open cases past their promised deadline, now.
    pub overdue: i64,
    /// Complaints: no module yet, always null (暂未接入).
    pub complaints: Option<i64>,
    /// Lists behind today's numbers.
    pub today_links: DrillLinks,
    /// Lists behind this month's numbers.
    pub month_links: DrillLinks,
    /// Twelve months, oldest first.
    pub months: Vec<MonthView>,
    /// Departments with anything to show in the twelve months, ranked.
    pub departments: Vec<DepartmentRankView>,
}

fn month_label(start: jiff::civil::Date, first: bool) -> String {
    if first || start.month() == 1 {
        format!("{}年{}月", start.year(), start.month())
    } else {
        format!("{}月", start.month())
    }
}

/// The order of the ranking: on-time rate this month (none last), then
/// fewest red, yellow cards and warnings, then fewest overdue, then most
/// completed, then name.
fn rank_order(a: &DepartmentDashboard, b: &DepartmentDashboard) -> std::cmp::Ordering {
    let rate = |d: &DepartmentDashboard| d.month.on_time_rate().unwrap_or(-1.0);
    rate(b)
        .total_cmp(&rate(a))
        .then(a.month.red.cmp(&b.month.red))
        .then(a.month.yellow.cmp(&b.month.yellow))
        .then(a.month.warnings.cmp(&b.month.warnings))
        .then(a.overdue.cmp(&b.overdue))
        .then(b.month.completed.cmp(&a.month.completed))
        .then(a.department_name.cmp(&b.department_name))
}

impl DashboardView {
    pub fn new(board: &Dashboard, at: jiff::Timestamp) -> DashboardView {
        let date = board.date.to_string();
        let month_start = board.month_start.to_string();
        let mut active: Vec<&DepartmentDashboard> =
            board.departments.iter().filter(|d| d.is_active()).collect();
        active.sort_by(|a, b| rank_order(a, b));
        let local = at.to_zoned_datetime(onewindow_core::calendar::china_zone());
        DashboardView {
            generated_at: at.to_string(),
            generated_time: format!("{:02}:{:02}", local.hour(), local.minute()),
            today: (&board.today()).into(),
            month: (&board.month()).into(),
            overdue: board.overdue(),
            complaints: None,
            today_links: DrillLinks::new(None, &date, &date),
            month_links: DrillLinks::new(None, &month_start, &date),
            months: board
                .month_starts
                .iter()
                .zip(board.months())
                .enumerate()
                .map(|(i, (start, f))| MonthView {
                    month: format!("{:04}-{:02}", start.year(), start.month()),
                    label: month_label(*start, i == 0),
                    figures: (&f).into(),
                })
                .collect(),
            departments: active
                .iter()
                .enumerate()
                .map(|(i, d)| DepartmentRankView {
                    rank: i as i64 + 1,
                    department_id: d.department_id,
                    department_name: d.department_name.clone(),
                    today: (&d.today).into(),
                    month: (&d.month).into(),
                    year: (&d.year).into(),
                    overdue: d.overdue,
                    links: DrillLinks::new(Some(d.department_id), &month_start, &date),
                })
                .collect(),
            year_start: board.year_start.to_string(),
            month_start,
            date,
        }
    }
}

/// The dashboard of `date` (default today), for supervisors.
pub async fn dashboard_view(
    state: &AppState,
    user: &StaffUser,
    date: Option<&str>,
) -> Result<DashboardView, ApiError> {
    user.require(Role::Supervisor)?;
    let now = state.now();
    let day = match date.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => parse_day("date", d)?,
        None => civil_date(now),
    };
    let board = state.store.dashboard(day).await?;
    Ok(DashboardView::new(&board, now))
}

#[utoipa::path(get, path = "/api/v1/supervision/dashboard", tag = "supervision", params(DashboardQuery),
    responses((status = 200, body = DashboardView), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    user: StaffUser,
    Query(query): Query<DashboardQuery>,
) -> ApiResult<axum::Json<DashboardView>> {
    Ok(axum::Json(
        dashboard_view(&state, &user, query.date.as_deref()).await?,
    ))
}
