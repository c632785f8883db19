//! The working-day calendar: days, due dates with their explanation, and the
//! local overrides an administrator keeps.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use onewindow_core::calendar::{
    ChinaCalendar, LimitUnit, OverrideKind, TimeLimit, WorkCalendar, is_supported_day,
    supported_range_label,
};
use onewindow_core::clock::{Deadline, Explanation};
use onewindow_core::staff::Role;
use onewindow_store::clock::{DeadlineChange, DeadlineRecord, NewOverride, OverrideRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};

/// Longest range `/api/v1/calendar/days` lists, in days after `from`.
const MAX_DAYS: i64 = 3660;

/// Parses a date parameter, naming the field when it is not YYYY-MM-DD or
/// lies outside the supported range.
pub fn parse_day(field: &str, value: &str) -> Result<Date, ApiError> {
    let value = value.trim();
    if value.len() != 10 {
        return Err(ApiError::invalid(
            field,
            format!("日期格式应为 YYYY-MM-DD：{value}"),
        ));
    }
    let day = value
        .parse::<Date>()
        .map_err(|_| ApiError::invalid(field, format!("不是有效的日期：{value}")))?;
    if !is_supported_day(day) {
        return Err(ApiError::invalid(
            field,
            format!(
                "日期超出可办理的范围（{}）：{value}",
                supported_range_label()
            ),
        ));
    }
    Ok(day)
}

#[derive(Deserialize, IntoParams)]
pub struct DaysQuery {
    /// First date, YYYY-MM-DD.
    pub from: String,
    /// Last date, YYYY-MM-DD (at most 3660 days after `from`).
    pub to: String,
    /// A region code; default the county's.
    pub region: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DayView {
    pub date: String,
    /// workday | restday | holiday
    pub kind: String,
    /// The holiday period, adjusted working day or local override it belongs to.
    pub note: Option<String>,
    /// In a year without a published arrangement (counted as Saturday and Sunday off).
    pub provisional: bool,
}

/// Each date's kind and what made it so.
pub fn day_views(calendar: &ChinaCalendar, from: Date, to: Date) -> Vec<DayView> {
    let periods = calendar.periods_between(from, to);
    let adjusted = calendar.adjusted_workdays_between(from, to);
    let overrides = calendar.overrides_between(from, to);
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let kind = calendar.day_kind(day);
        let note = overrides
            .iter()
            .find(|o| o.date == day)
            .map(|o| format!("{}：{}", o.kind.label(), o.reason))
            .or_else(|| {
                adjusted
                    .iter()
                    .find(|(d, _)| *d == day)
                    .map(|(_, p)| format!("{}调休上班", p.name))
            })
            .or_else(|| {
                periods
                    .iter()
                    .find(|(_, p)| p.from <= day && day <= p.to)
                    .map(|(_, p)| p.name.clone())
            });
        out.push(DayView {
            date: day.to_string(),
            kind: day_kind_key(kind).into(),
            note,
            provisional: calendar.is_provisional(day.year()),
        });
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}

pub fn day_kind_key(kind: onewindow_core::calendar::DayKind) -> &'static str {
    use onewindow_core::calendar::DayKind;
    match kind {
        DayKind::Workday => "workday",
        DayKind::Restday => "restday",
        DayKind::Holiday => "holiday",
    }
}

/// Checks a `from`..`to` range of dates (any length inside the supported
/// range).
pub fn day_range(from: &str, to: &str) -> Result<(Date, Date), ApiError> {
    let (from, to) = (parse_day("from", from)?, parse_day("to", to)?);
    if to < from {
        return Err(ApiError::invalid("to", "结束日期不能早于开始日期"));
    }
    Ok((from, to))
}

/// Refuses a range longer than one answer of `/api/v1/calendar/days` lists.
fn check_listed_span(from: Date, to: Date) -> Result<(), ApiError> {
    let days = from.until(to).map(|s| s.get_days()).unwrap_or(i32::MAX);
    if i64::from(days) > MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("一次最多查询{MAX_DAYS}天（约十年）：结束日期不能晚于开始日期后第{MAX_DAYS}天"),
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/calendar/days", tag = "calendar", params(DaysQuery),
    responses((status = 200, body = Vec<DayView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn days(
    State(state): State<AppState>,
    Query(query): Query<DaysQuery>,
) -> ApiResult<axum::Json<Vec<DayView>>> {
    let (from, to) = day_range(&query.from, &query.to)?;
    check_listed_span(from, to)?;
    let calendar = region_calendar(&state, query.region.as_deref());
    Ok(axum::Json(day_views(&calendar, from, to)))
}

fn region_calendar(state: &AppState, region: Option<&str>) -> std::sync::Arc<ChinaCalendar> {
    match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(region) => state.store.calendar_for(region),
        None => state.calendar(),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct DueQuery {
    /// The start day (not counted), YYYY-MM-DD.
    pub start: String,
    pub amount: u32,
    /// working_days (default) | natural_days
    pub unit: Option<String>,
    pub region: Option<String>,
}

/// A deadline and how it was computed.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DueView {
    pub due: String,
    /// Computed in a year without a published arrangement: may still change.
    pub provisional: bool,
    /// The explanation, line by line, in Chinese.
    pub explanation: Vec<String>,
    #[schema(value_type = Object)]
    pub detail: Explanation,
}

impl DueView {
    pub fn of(deadline: &Deadline, calendar: &ChinaCalendar) -> DueView {
        let explanation = deadline.explain(calendar);
        DueView {
            due: explanation.due.to_string(),
            provisional: explanation.is_provisional(),
            explanation: explanation.lines(),
            detail: explanation,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/calendar/due", tag = "calendar", params(DueQuery),
    responses((status = 200, body = DueView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn due(
    State(state): State<AppState>,
    Query(query): Query<DueQuery>,
) -> ApiResult<axum::Json<DueView>> {
    let start = parse_day("start", &query.start)?;
    let unit = match query.unit.as_deref() {
        None => LimitUnit::WorkingDays,
        Some(u) => LimitUnit::parse(u)
            .ok_or_else(|| ApiError::invalid("unit", "单位须为 working_days 或 natural_days"))?,
    };
    let limit = TimeLimit {
        amount: query.amount,
        unit,
    };
    limit
        .validate("amount")
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let calendar = region_calendar(&state, query.region.as_deref());
    Ok(axum::Json(DueView::of(
        &Deadline::new(start, limit),
        &calendar,
    )))
}

/// A deadline of a case, with its explanation.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadlineView {
    /// case_acceptance | case_promised | case_statutory | case_step | case_delivery
    pub kind: String,
    pub label: String,
    pub start: String,
    pub limit: String,
    pub due: String,
    /// running | paused | ended
    pub state: String,
    pub state_label: String,
    pub provisional: bool,
    pub explanation: Vec<String>,
}

impl DeadlineView {
    /// The view of `record`, explained on `calendar`; an ended deadline keeps
    /// the due day it ended with, whatever the calendar says now.
    pub fn of(record: &DeadlineRecord, calendar: &ChinaCalendar) -> DeadlineView {
        use onewindow_core::clock::DeadlineState;
        let explanation = record.deadline.explain(calendar);
        let explanation = match record.state {
            DeadlineState::Ended => explanation.ended_with(record.due),
            DeadlineState::Running | DeadlineState::Paused => explanation,
        };
        DeadlineView {
            kind: record.kind.key().into(),
            label: record.kind.label().into(),
            start: record.deadline.start.to_string(),
            limit: record.deadline.limit.label(),
            due: record.due.to_string(),
            state: record.state.key().into(),
            state_label: match record.state {
                DeadlineState::Running => "计时中",
                DeadlineState::Paused => "暂停计时",
                DeadlineState::Ended => "已结束",
            }
            .into(),
            provisional: explanation.is_provisional(),
            explanation: explanation.lines(),
        }
    }
}

/// A deadline moved by a calendar change.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DeadlineChangeView {
    pub label: String,
    pub old_due: String,
    pub new_due: String,
    pub reason: String,
    pub changed_at: String,
}

impl From<&DeadlineChange> for DeadlineChangeView {
    fn from(c: &DeadlineChange) -> Self {
        DeadlineChangeView {
            label: c.kind.label().into(),
            old_due: c.old_due.to_string(),
            new_due: c.new_due.to_string(),
            reason: c.reason.clone(),
            changed_at: crate::pages::datetime_text(c.changed_at),
        }
    }
}

/// The deadlines of a case and the calendar changes that moved them.
pub async fn case_deadlines(
    state: &AppState,
    case_id: i64,
) -> ApiResult<(Vec<DeadlineView>, Vec<DeadlineChangeView>)> {
    let records = state.store.case_deadlines(case_id).await?;
    let changes = state.store.case_deadline_changes(case_id).await?;
    let calendars = state.store.calendars();
    let views = records
        .iter()
        .map(|r| DeadlineView::of(r, &calendars.for_region(&r.region)))
        .collect();
    Ok((
        views,
        changes.iter().map(DeadlineChangeView::from).collect(),
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OverrideView {
    pub id: i64,
    /// The region code it applies to; empty for every region.
    pub region: String,
    pub date: String,
    /// closure | workday
    pub kind: String,
    pub kind_label: String,
    pub reason: String,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
}

impl From<&OverrideRecord> for OverrideView {
    fn from(o: &OverrideRecord) -> Self {
        OverrideView {
            id: o.day.id,
            region: o.day.region.clone(),
            date: o.day.date.to_string(),
            kind: o.day.kind.key().into(),
            kind_label: o.day.kind.label().into(),
            reason: o.day.reason.clone(),
            created_by: o.created_by,
            created_at: o.created_at.to_string(),
            revoked_at: o.revoked_at.map(|t| t.to_string()),
            revoke_reason: o.revoke_reason.clone(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/calendar/overrides", tag = "calendar",
    responses((status = 200, body = Vec<OverrideView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_overrides(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<Vec<OverrideView>>> {
    user.require_any(&[Role::Admin, Role::Supervisor, Role::AuditAdmin])?;
    let overrides = state.store.overrides().await?;
    Ok(axum::Json(
        overrides.iter().map(OverrideView::from).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct OverrideRequest {
    /// YYYY-MM-DD
    pub date: String,
    /// closure (停止办公) | workday (增加工作日)
    pub kind: String,
    pub reason: String,
    /// A region code; empty or absent for every region.
    #[serde(default)]
    pub region: String,
}

/// What an override did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OverrideResult {
    #[serde(rename = "override")]
    pub record: OverrideView,
    /// Open deadlines whose period contains the day.
    pub examined: u64,
    /// Those whose due day moved (each recorded on its object).
    pub moved: u64,
}

#[utoipa::path(post, path = "/api/v1/calendar/overrides", tag = "calendar", request_body = OverrideRequest,
    responses((status = 201, body = OverrideResult), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_override(
    State(state): State<AppState>,
    user: StaffUser,
    Json(request): Json<OverrideRequest>,
) -> ApiResult<Response> {
    user.require(Role::Admin)?;
    let date = parse_day("date", &request.date)?;
    let kind = OverrideKind::parse(request.kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            "调整类型须为 closure（停止办公）或 workday（增加工作日）",
        )
    })?;
    let applied = state
        .store
        .add_override(
            NewOverride {
                region: request.region,
                date,
                kind,
                reason: request.reason,
            },
            user.0.id,
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(OverrideResult {
            record: OverrideView::from(&applied.record),
            examined: applied.recomputed.examined,
            moved: applied.recomputed.moved,
        }),
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct RevokeRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/calendar/overrides/{id}/revoke", tag = "calendar", params(("id" = i64, Path)),
    request_body = RevokeRequest,
    responses((status = 200, body = OverrideResult), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn revoke_override(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<RevokeRequest>,
) -> ApiResult<axum::Json<OverrideResult>> {
    user.require(Role::Admin)?;
    let applied = state
        .store
        .revoke_override(id, &request.reason, user.0.id, state.now())
        .await?;
    Ok(axum::Json(OverrideResult {
        record: OverrideView::from(&applied.record),
        examined: applied.recomputed.examined,
        moved: applied.recomputed.moved,
    }))
}
