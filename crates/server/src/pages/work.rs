//! The staff workbench: log-in and log-out, the work queue, and the case page
//! with a form for every action the case allows now.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use onewindow_core::calendar::{ACCEPTANCE_WINDOW, ChinaCalendar, WorkCalendar, civil_date};
use onewindow_core::case::{
    Action, Case, CaseState, Command, FeeCharged, Outcome, SpecialProcedure, SupplementItem,
    default_rights_notice,
};
use onewindow_core::catalog::DESCRIPTION_KEY;
use onewindow_core::staff::Role;
use onewindow_store::cases::CaseListFilter;
use onewindow_store::catalog::ServiceItem;
use onewindow_store::staff::StaffMember;
use serde::Deserialize;

use super::{
    Layout, PROCEDURES, SameOrigin, TimelineEntry, date_string_text, date_text, detail_lines,
    error_page, government_name, page_id, query_value, render, see_other, timestamp_string_text,
};
use crate::AppState;
use crate::api::cases::{
    CaseView, CommandRequest, can_view, case_view, run_command, sees_all_departments, summaries,
};
use crate::api::session::session_cookie;
use crate::auth::{MaybeUser, PageUser, SESSION_COOKIE, StaffUser};
use crate::error::ApiError;
use crate::extract::IdempotencyHeader;

// ---------------------------------------------------------------------------
// Log-in and log-out.

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    login: String,
    next: String,
    error: Option<String>,
    error_field: &'static str,
}

/// Where to go after logging in: a path on this site only. `//host` and
/// `/\host` would leave the site, so they fall back to the workbench.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if local && next.len() <= 512 {
        next
    } else {
        "/work"
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(form): Query<LoginForm>,
) -> Response {
    let page = LoginPage {
        layout: Layout::new(&state, "工作人员登录", "login", user.0.map(|m| m.name)),
        login: String::new(),
        next: safe_next(&form.next).to_string(),
        error: None,
        error_field: "",
    };
    render(StatusCode::OK, &page)
}

pub async fn log_in(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let login = form.login.trim().to_string();
    let next = safe_next(&form.next).to_string();
    let failure = |error: ApiError, field: &'static str| {
        let page = LoginPage {
            layout: Layout::new(&state, "工作人员登录", "login", None),
            login: login.clone(),
            next: next.clone(),
            error: Some(error.message.clone()),
            error_field: field,
        };
        render(error.status, &page)
    };
    if login.is_empty() {
        return failure(ApiError::invalid("login", "请输入登录名"), "login");
    }
    if form.password.is_empty() {
        return failure(ApiError::invalid("password", "请输入密码"), "password");
    }
    match state
        .store
        .log_in(
            &login,
            &form.password,
            state.now(),
            state.settings.session_hours,
        )
        .await
    {
        Ok((token, _member)) => {
            (jar.add(session_cookie(token, &state)), see_other(&next)).into_response()
        }
        Err(e) => failure(e.into(), "password"),
    }
}

pub async fn log_out(_: SameOrigin, State(state): State<AppState>, jar: CookieJar) -> Response {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        // The session ends on the server too; a failure here still clears the
        // browser's cookie, and the session expires on its own.
        if let Err(e) = state.store.log_out(cookie.value()).await {
            tracing::warn!(error = %e, "log-out could not end the session");
        }
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/").build());
    (jar, see_other("/")).into_response()
}

// ---------------------------------------------------------------------------
// The work queue.

/// A supervision card mark beside a case: its level and how many.
pub struct CardMark {
    /// warning | yellow | red (the colour).
    pub level: &'static str,
    /// 预警, 黄牌, or 黄牌2张.
    pub text: String,
}

/// The marks of each case, most serious first.
async fn card_marks(
    state: &AppState,
    case_ids: &[i64],
) -> Result<HashMap<i64, Vec<CardMark>>, ApiError> {
    let mut marks: HashMap<i64, Vec<CardMark>> = HashMap::new();
    for cards in state.store.case_cards(case_ids).await?.iter().rev() {
        let text = if cards.count > 1 {
            format!("{}{}张", cards.level.label(), cards.count)
        } else {
            cards.level.label().to_string()
        };
        marks.entry(cards.case_id).or_default().push(CardMark {
            level: cards.level.key(),
            text,
        });
    }
    Ok(marks)
}

/// The tooltip of the mark 临时 beside a due day counted through a year
/// without a published holiday arrangement (Saturday and Sunday off until
/// the State Council publishes it), or `None` when every year of the period
/// from `start` to `due` is published.
pub(crate) fn provisional_note(
    calendar: &ChinaCalendar,
    start: jiff::civil::Date,
    due: jiff::civil::Date,
) -> Option<String> {
    provisional_years_note(&calendar.provisional_years(start.min(due), due))
}

/// The tooltip of the mark 临时 for these unpublished years, if any.
pub(crate) fn provisional_years_note(years: &[i16]) -> Option<String> {
    if years.is_empty() {
        return None;
    }
    let years: Vec<String> = years.iter().map(|y| format!("{y}年")).collect();
    Some(format!(
        "{}节假日安排尚未发布，暂按周末休息计算，发布后自动重算",
        years.join("、")
    ))
}

/// Where a case stands against the deadline it runs on now.
struct Standing {
    due_kind: &'static str,
    due: Option<jiff::civil::Date>,
    /// Why the due day is provisional, when it is (see [`provisional_note`]).
    provisional: Option<String>,
    /// Working days left, for the order (negative: overdue); none when the
    /// case's clock is not running (paused, decided, closed, or no due day).
    remaining: Option<i64>,
    text: String,
    /// overdue | soon | ok | paused | none
    urgency: &'static str,
}

fn standing(
    state: &AppState,
    calendar: &ChinaCalendar,
    case: &Case,
    today: jiff::civil::Date,
) -> Standing {
    let (due_kind, due, remaining) = queue_deadline(state, calendar, case, today);
    // The acceptance window counts from receipt, the handling limits from
    // the day the clock started.
    let start = match case.facts.state {
        CaseState::Submitted => case.facts.received_on,
        _ => case.facts.clock_start.unwrap_or(case.facts.received_on),
    };
    let provisional = due.and_then(|due| provisional_note(calendar, start, due));
    let (text, urgency) = match (case.facts.state, remaining) {
        (CaseState::Suspended, _) => ("特别程序中，暂停计时".to_string(), "paused"),
        (CaseState::AwaitingSupplement, _) => ("等待申请人补正".to_string(), "paused"),
        (CaseState::Decided, _) => ("待送达".to_string(), "none"),
        (s, _) if s.is_closed() => ("—".to_string(), "none"),
        (_, Some(days)) => remaining_text(days),
        (_, None) => ("—".to_string(), "none"),
    };
    let remaining = remaining.filter(|_| urgency != "paused" && urgency != "none");
    Standing {
        due_kind,
        due,
        provisional,
        remaining,
        text,
        urgency,
    }
}

pub struct QueueRow {
    pub id: i64,
    pub number: String,
    pub item_name: String,
    pub applicant: String,
    pub state: &'static str,
    pub state_label: String,
    pub received_on: String,
    pub due_kind: &'static str,
    pub due: String,
    /// The tooltip of the mark 临时 when the due day is provisional.
    pub provisional: Option<String>,
    pub remaining: String,
    /// overdue | soon | ok | paused | none
    pub urgency: &'static str,
    /// The absent A whose work this is, when the person backs them up.
    pub backup_for: Option<String>,
    pub cards: Vec<CardMark>,
}

impl QueueRow {
    fn is_urgent(&self) -> bool {
        self.urgency == "overdue" || self.urgency == "soon"
    }
}

/// The queue's filters as typed (a GET form, kept on the page).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    pub state: String,
    /// Part of the item's name.
    #[serde(default)]
    pub item: String,
    /// Part of the case number or the applicant's name.
    #[serde(default)]
    pub q: String,
    /// "1": overdue or due within two working days only.
    #[serde(default)]
    pub urgent: String,
    /// "1": only the work of absent colleagues the person backs up.
    #[serde(default)]
    pub backup: String,
    #[serde(default)]
    pub page: String,
}

/// The filter a count leaves out, so that each option shows how many cases
/// choosing it would list with the other filters as they are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Facet {
    None,
    State,
    Urgent,
    Backup,
}

impl QueueForm {
    fn urgent_only(&self) -> bool {
        !self.urgent.trim().is_empty()
    }

    fn backup_only(&self) -> bool {
        !self.backup.trim().is_empty()
    }

    fn keeps(&self, row: &QueueRow, state: Option<CaseState>, leave_out: Facet) -> bool {
        let contains = |haystack: &str, needle: &str| {
            let needle = needle.trim().to_lowercase();
            needle.is_empty() || haystack.to_lowercase().contains(&needle)
        };
        (leave_out == Facet::State || state.is_none_or(|s| s.key() == row.state))
            && (leave_out == Facet::Urgent || !self.urgent_only() || row.is_urgent())
            && (leave_out == Facet::Backup || !self.backup_only() || row.backup_for.is_some())
            && contains(&row.item_name, &self.item)
            && (contains(&row.number, &self.q) || contains(&row.applicant, &self.q))
    }

    fn is_filtered(&self) -> bool {
        !(self.state.trim().is_empty()
            && self.item.trim().is_empty()
            && self.q.trim().is_empty()
            && !self.urgent_only()
            && !self.backup_only())
    }

    fn link(&self, page: usize) -> String {
        format!(
            "/work?state={}&item={}&q={}&urgent={}&backup={}&page={page}",
            query_value(self.state.trim()),
            query_value(self.item.trim()),
            query_value(self.q.trim()),
            if self.urgent_only() { "1" } else { "" },
            if self.backup_only() { "1" } else { "" },
        )
    }
}

/// A choice of the state filter with how many cases it would list.
pub struct StateOption {
    pub key: &'static str,
    pub label: &'static str,
    pub count: usize,
    pub selected: bool,
}

/// The page links under a list.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    /// The rows shown, 1-based, e.g. 51 to 100.
    pub first: usize,
    pub last: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Page `asked` (1-based, clamped) of `total` rows, `per_page` a page.
    fn new(asked: usize, total: usize, per_page: usize, link: impl Fn(usize) -> String) -> Pager {
        let pages = total.div_ceil(per_page).max(1);
        let page = asked.clamp(1, pages);
        Pager {
            page,
            pages,
            first: if total == 0 {
                0
            } else {
                (page - 1) * per_page + 1
            },
            last: (page * per_page).min(total),
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }

    fn offset(&self, per_page: usize) -> usize {
        (self.page - 1) * per_page
    }
}

/// The highest page number read from an address: a list's offset stays far
/// from overflowing whatever number is typed.
const MAX_PAGE: usize = 1_000_000;

/// A page number as typed (at most [`MAX_PAGE`]); anything else is the first
/// page.
fn page_number(text: &str) -> usize {
    text.trim().parse::<usize>().unwrap_or(1).clamp(1, MAX_PAGE)
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    layout: Layout,
    name: String,
    department: String,
    roles: String,
    absent: bool,
    /// The rows of this page.
    rows: Vec<QueueRow>,
    /// The whole queue, unfiltered.
    total: usize,
    /// Rows the filters keep.
    matched: usize,
    overdue: usize,
    soon: usize,
    /// Work of absent colleagues in the whole queue.
    backup_total: usize,
    states: Vec<StateOption>,
    /// How many the two check boxes would keep.
    urgent_count: usize,
    backup_count: usize,
    f: QueueForm,
    filtered: bool,
    error: Option<String>,
    pager: Pager,
    /// The store's limit was reached: only the most urgent are listed.
    truncated: bool,
    /// In-app notices not yet signed for.
    unread: usize,
    supervisor: bool,
    admin: bool,
    sees_all: bool,
}

impl WorkPage {
    /// Whether a row of this page shows the mark 临时 (the legend explains it).
    fn any_provisional(&self) -> bool {
        self.rows.iter().any(|r| r.provisional.is_some())
    }
}

/// How many queue rows a page shows.
const QUEUE_PAGE: usize = 50;
/// How many cases of a queue are read at most (the most urgent by due day).
const QUEUE_LIMIT: i64 = 1000;

/// "剩余3个工作日", "今日到期" or "已超期2个工作日", and its urgency: due
/// today or within two working days is near (临期).
fn remaining_text(days: i64) -> (String, &'static str) {
    match days {
        d if d < 0 => (format!("已超期{}个工作日", -d), "overdue"),
        0 => ("今日到期".into(), "soon"),
        d if d <= 2 => (format!("剩余{d}个工作日"), "soon"),
        d => (format!("剩余{d}个工作日"), "ok"),
    }
}

/// The deadline a case in the queue runs against: the acceptance decision
/// for a new application (5 working days, Administrative Licensing Law art.
/// 32), else the promised limit.
fn queue_deadline(
    state: &AppState,
    calendar: &ChinaCalendar,
    case: &Case,
    today: jiff::civil::Date,
) -> (&'static str, Option<jiff::civil::Date>, Option<i64>) {
    match case.facts.state {
        CaseState::Submitted => {
            let due = ACCEPTANCE_WINDOW.due_date(calendar, case.facts.received_on);
            (
                "受理期限",
                Some(due),
                Some(calendar.working_days_between(today, due)),
            )
        }
        CaseState::Decided | CaseState::Suspended => ("承诺期限", case.facts.promised_due, None),
        _ => (
            "承诺期限",
            case.facts.promised_due,
            crate::api::cases::remaining_days(calendar, case, state.now()),
        ),
    }
}

pub async fn queue(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(form): Query<QueueForm>,
) -> Response {
    match queue_page(&state, &member, form).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

async fn queue_page(
    state: &AppState,
    member: &StaffMember,
    form: QueueForm,
) -> Result<WorkPage, ApiError> {
    let department = state.store.department(member.department_id).await?;
    let cases = state.store.queue(member, QUEUE_LIMIT).await?;
    let truncated = cases.len() as i64 >= QUEUE_LIMIT;
    let summaries = summaries(state, &cases).await?;
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let mut marks = card_marks(state, &ids).await?;
    // The absent colleagues whose work this person does: by their id.
    let backed_up: HashMap<i64, String> = state
        .store
        .staff(Some(member.department_id))
        .await?
        .into_iter()
        .filter(|s| s.absent && s.backup_id == Some(member.id))
        .map(|s| (s.id, s.name))
        .collect();
    let today = civil_date(state.now());
    let calendar = state.calendar();
    let mut rows: Vec<(Option<i64>, QueueRow)> = cases
        .iter()
        .zip(summaries)
        .map(|(case, summary)| {
            let s = standing(state, &calendar, case, today);
            let row = QueueRow {
                id: case.id,
                number: summary.number,
                item_name: summary.item_name,
                applicant: summary.applicant_name,
                state: case.facts.state.key(),
                state_label: summary.state_label,
                received_on: date_text(case.facts.received_on),
                due_kind: s.due_kind,
                due: s.due.map(date_text).unwrap_or_else(|| "—".into()),
                provisional: s.provisional,
                remaining: s.text,
                urgency: s.urgency,
                backup_for: case
                    .assignee_id
                    .filter(|a| *a != member.id)
                    .and_then(|a| backed_up.get(&a).cloned()),
                cards: marks.remove(&case.id).unwrap_or_default(),
            };
            (s.remaining, row)
        })
        .collect();
    // Most urgent first: overdue, then the fewest working days left; cases
    // without a running clock last. The sort is stable, so the store's order
    // (by due day) breaks ties.
    rows.sort_by_key(|(remaining, _)| (remaining.is_none(), remaining.unwrap_or(0)));
    let rows: Vec<QueueRow> = rows.into_iter().map(|(_, row)| row).collect();

    let (state_filter, error) = match form.state.trim() {
        "" => (None, None),
        key => match CaseState::parse(key) {
            Some(s) => (Some(s), None),
            None => (
                None,
                Some(format!(
                    "筛选条件有误：办件状态“{key}”不存在，已列出全部状态"
                )),
            ),
        },
    };
    let count = |leave_out: Facet, extra: &dyn Fn(&QueueRow) -> bool| {
        rows.iter()
            .filter(|r| form.keeps(r, state_filter, leave_out) && extra(r))
            .count()
    };
    let mut states: Vec<StateOption> = Vec::new();
    for row in &rows {
        if states.iter().any(|o| o.key == row.state) {
            continue;
        }
        let Some(s) = CaseState::parse(row.state) else {
            continue;
        };
        states.push(StateOption {
            key: s.key(),
            label: s.label(),
            count: count(Facet::State, &|r| r.state == row.state),
            selected: state_filter == Some(s),
        });
    }
    if let Some(s) = state_filter.filter(|s| !states.iter().any(|o| o.key == s.key())) {
        states.push(StateOption {
            key: s.key(),
            label: s.label(),
            count: 0,
            selected: true,
        });
    }
    states.sort_by_key(|o| CaseState::ALL.iter().position(|s| s.key() == o.key));
    let urgent_count = count(Facet::Urgent, &|r| r.is_urgent());
    let backup_count = count(Facet::Backup, &|r| r.backup_for.is_some());

    let total = rows.len();
    let overdue = rows.iter().filter(|r| r.urgency == "overdue").count();
    let soon = rows.iter().filter(|r| r.urgency == "soon").count();
    let backup_total = rows.iter().filter(|r| r.backup_for.is_some()).count();
    let kept: Vec<QueueRow> = rows
        .into_iter()
        .filter(|r| form.keeps(r, state_filter, Facet::None))
        .collect();
    let matched = kept.len();
    let pager = Pager::new(page_number(&form.page), matched, QUEUE_PAGE, |p| {
        form.link(p)
    });
    let rows: Vec<QueueRow> = kept
        .into_iter()
        .skip(pager.offset(QUEUE_PAGE))
        .take(QUEUE_PAGE)
        .collect();

    let unread = state
        .store
        .notices(member.id, 500)
        .await?
        .iter()
        .filter(|n| n.read_at.is_none())
        .count();
    Ok(WorkPage {
        unread,
        supervisor: member.has(Role::Supervisor),
        admin: member.has(Role::Admin),
        sees_all: sees_all_departments(member),
        layout: Layout::new(state, "我的工作台", "work", Some(member.name.clone())),
        name: member.name.clone(),
        department: department.name,
        roles: member
            .roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join("、"),
        absent: member.absent,
        total,
        matched,
        overdue,
        soon,
        backup_total,
        states,
        urgent_count,
        backup_count,
        filtered: form.is_filtered(),
        f: form,
        error,
        pager,
        truncated,
        rows,
    })
}

// ---------------------------------------------------------------------------
// The case page.

/// What a form field held, kept when the action is refused so nothing typed
/// is lost.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub opinion: String,
    pub reasons: String,
    pub rights_notice: String,
    pub outcome: String,
    pub method: String,
    pub procedure: String,
    pub reason: String,
    pub planned_days: String,
    pub note: String,
    pub checks: Vec<CheckRow>,
    pub other_material: String,
    pub other_problem: String,
    /// The fees charged at delivery: one row per fee of the catalog.
    pub fees: Vec<FeeInput>,
    pub other_fee_name: String,
    pub other_fee: String,
    /// The date on the decision document (YYYY-MM-DD), blank for today.
    pub decided_on: String,
}

#[derive(Debug, Clone)]
pub struct FeeInput {
    pub index: usize,
    pub name: String,
    pub standard: String,
    /// In yuan as typed, e.g. 10.00.
    pub amount: String,
}

/// Yuan as typed ("10", "10.5", "10.50") in fen.
fn fen_of(field: &str, text: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::invalid(field, format!("收费金额应为元，最多两位小数：{text}"));
    let (whole, part) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || part.len() > 2
        || !whole
            .chars()
            .chain(part.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let part: i64 = format!("{part:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(part))
        .ok_or_else(bad)
}

fn yuan_text(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

impl Typed {
    pub fn procedure_is(&self, key: &str) -> bool {
        self.procedure == key
    }
    pub fn method_is(&self, method: &str) -> bool {
        self.method == method
    }
}

#[derive(Debug, Clone)]
pub struct CheckRow {
    pub index: usize,
    pub name: String,
    pub checked: bool,
    pub problem: String,
}

pub struct ActionForm {
    pub key: &'static str,
    pub label: &'static str,
    /// Why this person cannot give the action, when they cannot.
    pub blocked: Option<String>,
    pub error: Option<String>,
    pub v: Typed,
}

pub struct Fact {
    pub label: &'static str,
    pub value: String,
    /// overdue | soon | ok | "" (colour of the value)
    pub tone: &'static str,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    layout: Layout,
    view: CaseView,
    department: String,
    channel: &'static str,
    submitted_at: String,
    assignee: Option<String>,
    form_rows: Vec<(String, String)>,
    materials: Vec<MaterialView>,
    deadlines: Vec<Fact>,
    timeline: Vec<TimelineEntry>,
    forms: Vec<ActionForm>,
    procedures: Vec<(&'static str, &'static str)>,
    methods: Vec<&'static str>,
    flash: Option<String>,
    failure: Option<(String, String)>,
    /// The supervision cards of the case.
    cards: Vec<super::supervision::CardRow>,
    /// The printable documents (PDF) the case's history allows.
    documents: Vec<crate::documents::DocumentLink>,
}

const DELIVERY_METHODS: [&str; 3] = ["窗口领取", "邮寄送达", "电子送达"];

fn action_of(key: &str) -> Option<Action> {
    [
        Action::Accept,
        Action::RequestSupplement,
        Action::Reject,
        Action::CompleteStep,
        Action::Decide,
        Action::Deliver,
        Action::Suspend,
        Action::Resume,
        Action::Extend,
        Action::Terminate,
        Action::Withdraw,
        Action::Resubmit,
    ]
    .into_iter()
    .find(|a| a.key() == key)
}

/// A command of the action's kind with empty content, to ask the core which
/// role it needs at this point.
fn sample_command(action: Action) -> Option<Command> {
    let text = String::new;
    Some(match action {
        Action::Accept => Command::Accept { opinion: text() },
        Action::Reject => Command::Reject {
            reasons: text(),
            rights_notice: text(),
        },
        Action::RequestSupplement => Command::RequestSupplement {
            items: vec![],
            note: text(),
        },
        Action::CompleteStep => Command::CompleteStep { opinion: text() },
        Action::Decide => Command::Decide {
            outcome: Outcome::Approve,
            opinion: text(),
            reasons: text(),
            rights_notice: text(),
            decided_on: None,
        },
        Action::Deliver => Command::Deliver {
            method: text(),
            fees: vec![],
        },
        Action::Terminate => Command::Terminate { reason: text() },
        Action::Suspend => Command::Suspend {
            procedure: SpecialProcedure::Hearing,
            reason: text(),
            planned_days: 0,
        },
        Action::Resume => Command::Resume { note: text() },
        Action::Extend => Command::Extend { reason: text() },
        Action::Submit | Action::Resubmit | Action::Withdraw => return None,
    })
}

/// The name of a form value the item does not define (older applications,
/// or a field since removed from the item).
fn form_label(key: &str) -> String {
    match key {
        DESCRIPTION_KEY => "申请事项说明".into(),
        other => other.to_string(),
    }
}

fn form_value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The application's form data as label and value: the item's fields in
/// their order (those left blank as "未填写"), then any other values under
/// their keys.
fn form_rows(item: &ServiceItem, form: &serde_json::Value) -> Vec<(String, String)> {
    let empty = serde_json::Map::new();
    let values = form.as_object().unwrap_or(&empty);
    let fields = &item.guide.form_fields;
    let mut rows: Vec<(String, String)> = fields
        .iter()
        .map(|field| {
            let value = values
                .get(&field.key)
                .map(form_value_text)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "未填写".into());
            (field.label.clone(), value)
        })
        .collect();
    rows.extend(
        values
            .iter()
            .filter(|(key, _)| !fields.iter().any(|f| &f.key == *key))
            .map(|(key, value)| (form_label(key), form_value_text(value))),
    );
    rows
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

fn default_typed(item: &ServiceItem, notice: &str) -> Typed {
    Typed {
        opinion: String::new(),
        reasons: String::new(),
        rights_notice: notice.to_string(),
        outcome: "approve".into(),
        method: DELIVERY_METHODS[0].into(),
        procedure: String::new(),
        reason: String::new(),
        planned_days: String::new(),
        note: String::new(),
        checks: item
            .guide
            .materials
            .iter()
            .enumerate()
            .map(|(index, m)| CheckRow {
                index,
                name: m.name.clone(),
                checked: false,
                problem: String::new(),
            })
            .collect(),
        other_material: String::new(),
        other_problem: String::new(),
        fees: item
            .guide
            .fees
            .iter()
            .enumerate()
            .map(|(index, f)| FeeInput {
                index,
                name: f.name.clone(),
                standard: f.standard.clone(),
                amount: yuan_text(f.amount_fen),
            })
            .collect(),
        other_fee_name: String::new(),
        other_fee: String::new(),
        decided_on: String::new(),
    }
}

fn typed_from(fields: &HashMap<String, String>, item: &ServiceItem) -> Typed {
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut typed = default_typed(item, "");
    typed.opinion = get("opinion");
    typed.reasons = get("reasons");
    typed.rights_notice = get("rights_notice");
    typed.outcome = get("outcome");
    typed.method = get("method");
    typed.procedure = get("procedure");
    typed.reason = get("reason");
    typed.planned_days = get("planned_days");
    typed.note = get("note");
    for row in typed.checks.iter_mut() {
        row.checked = fields.contains_key(&format!("m{}", row.index));
        row.problem = get(&format!("p{}", row.index));
    }
    typed.other_material = get("other_material");
    typed.other_problem = get("other_problem");
    for fee in typed.fees.iter_mut() {
        fee.amount = get(&format!("fee{}", fee.index));
    }
    typed.other_fee_name = get("other_fee_name");
    typed.other_fee = get("other_fee");
    typed.decided_on = get("decided_on");
    typed
}

/// The command a submitted form stands for.
fn command_from(action: Action, typed: &Typed) -> Result<Command, ApiError> {
    let t = typed.clone();
    Ok(match action {
        Action::Accept => Command::Accept { opinion: t.opinion },
        Action::Reject => Command::Reject {
            reasons: t.reasons,
            rights_notice: t.rights_notice,
        },
        Action::RequestSupplement => {
            let mut items = Vec::new();
            for row in t.checks.iter().filter(|r| r.checked) {
                if row.problem.is_empty() {
                    return Err(ApiError::invalid(
                        "items",
                        format!("请写明“{}”需要补正的内容", row.name),
                    ));
                }
                items.push(SupplementItem {
                    material: row.name.clone(),
                    problem: row.problem.clone(),
                });
            }
            match (t.other_material.is_empty(), t.other_problem.is_empty()) {
                (true, true) => {}
                (false, false) => items.push(SupplementItem {
                    material: t.other_material,
                    problem: t.other_problem,
                }),
                _ => {
                    return Err(ApiError::invalid(
                        "items",
                        "“其他材料”须同时填写材料名称和补正要求",
                    ));
                }
            }
            if items.is_empty() {
                return Err(ApiError::invalid(
                    "items",
                    "请勾选需要补正的材料并写明补正要求（一次性告知全部问题）",
                ));
            }
            Command::RequestSupplement {
                items,
                note: t.note,
            }
        }
        Action::CompleteStep => Command::CompleteStep { opinion: t.opinion },
        Action::Decide => {
            let outcome = Outcome::parse(&t.outcome)
                .ok_or_else(|| ApiError::invalid("outcome", "请选择准予许可或不予许可"))?;
            let (reasons, rights_notice) = match outcome {
                Outcome::Approve => (String::new(), String::new()),
                Outcome::Deny => (t.reasons, t.rights_notice),
            };
            let decided_on = if t.decided_on.is_empty() {
                None
            } else {
                Some(crate::api::calendar::parse_day(
                    "decided_on",
                    &t.decided_on,
                )?)
            };
            Command::Decide {
                outcome,
                opinion: t.opinion,
                reasons,
                rights_notice,
                decided_on,
            }
        }
        Action::Deliver => {
            let mut fees = Vec::new();
            for fee in &t.fees {
                if fee.amount.is_empty() {
                    continue;
                }
                let amount_fen = fen_of(&format!("fee{}", fee.index), &fee.amount)?;
                if amount_fen > 0 {
                    fees.push(FeeCharged {
                        name: fee.name.clone(),
                        amount_fen,
                    });
                }
            }
            match (t.other_fee_name.is_empty(), t.other_fee.is_empty()) {
                (true, true) => {}
                (false, false) => fees.push(FeeCharged {
                    name: t.other_fee_name.clone(),
                    amount_fen: fen_of("other_fee", &t.other_fee)?,
                }),
                _ => {
                    return Err(ApiError::invalid(
                        "other_fee",
                        "“其他收费”须同时填写收费项目和金额",
                    ));
                }
            }
            Command::Deliver {
                method: t.method,
                fees,
            }
        }
        Action::Suspend => {
            let procedure: SpecialProcedure =
                serde_json::from_value(serde_json::Value::String(t.procedure.clone()))
                    .map_err(|_| ApiError::invalid("procedure", "请选择特别程序的种类"))?;
            let planned_days = t.planned_days.parse::<u32>().map_err(|_| {
                ApiError::invalid("planned_days", "计划天数须为1至365之间的整数（工作日）")
            })?;
            Command::Suspend {
                procedure,
                reason: t.reason,
                planned_days,
            }
        }
        Action::Resume => Command::Resume { note: t.note },
        Action::Terminate => Command::Terminate { reason: t.reason },
        Action::Extend => Command::Extend { reason: t.reason },
        Action::Submit | Action::Resubmit | Action::Withdraw => {
            return Err(ApiError::forbidden("撤回申请和补正后重新提交由申请人办理"));
        }
    })
}

/// Whether `member` may give `action` on the case now; if not, why.
fn blocked_reason(
    member: &StaffMember,
    case: &Case,
    item: &ServiceItem,
    assignee: Option<&StaffMember>,
    action: Action,
) -> Option<String> {
    if member.department_id != case.department_id {
        return Some("其他部门的办件，仅供查阅".into());
    }
    let role = sample_command(action).and_then(|c| c.required_role(&case.facts, &item.guide.steps));
    if let Some(role) = role.filter(|r| !member.has(*r)) {
        return Some(format!("须由本部门“{}”岗位人员办理", role.label()));
    }
    let for_window = role == Some(Role::WindowClerk);
    match assignee {
        Some(a)
            if !for_window
                && a.id != member.id
                && !(a.absent && a.backup_id == Some(member.id)) =>
        {
            Some(format!(
                "本环节由{}办理（其B角仅在其不在岗时代为办理）",
                a.name
            ))
        }
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    ok: String,
}

/// The case if `member` may see it; another department's case reads as absent.
async fn visible_case(state: &AppState, member: &StaffMember, id: &str) -> Result<Case, ApiError> {
    let case = state
        .store
        .case(page_id(id, "未找到该办件")?)
        .await
        .map_err(|e| match e {
            onewindow_store::StoreError::NotFound { .. } => ApiError::not_found("未找到该办件"),
            other => other.into(),
        })?;
    if !can_view(&StaffUser(member.clone()), &case) {
        return Err(ApiError::not_found("未找到该办件"));
    }
    Ok(case)
}

pub async fn case_page(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Query(query): Query<CaseQuery>,
) -> Response {
    let flash = action_of(&query.ok).map(|a| format!("已办理：{}", a.label()));
    let result = async {
        let case = visible_case(&state, &member, &id).await?;
        case_page_view(&state, &member, case, flash, None).await
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

/// A refused action: its key, what was typed, and the error.
struct Failure {
    action: &'static str,
    typed: Typed,
    error: ApiError,
}

async fn case_page_view(
    state: &AppState,
    member: &StaffMember,
    case: Case,
    flash: Option<String>,
    failure: Option<Failure>,
) -> Result<CasePage, ApiError> {
    let item = state.store.item(case.item_id).await?;
    let department = state.store.department(case.department_id).await?;
    let assignee = match case.assignee_id {
        Some(id) => Some(state.store.staff_member(id).await?),
        None => None,
    };
    let notice = default_rights_notice(&department.name, &government_name(state));
    let mut view = case_view(state, case.clone()).await?;
    // Dates as people read them (2026年12月1日), as on the rest of the page.
    for d in &mut view.deadlines {
        d.due = date_string_text(&d.due);
    }
    for c in &mut view.deadline_changes {
        c.old_due = date_string_text(&c.old_due);
        c.new_due = date_string_text(&c.new_due);
    }
    let f = &case.facts;
    let today = civil_date(state.now());

    let mut deadlines = vec![Fact {
        label: "收件日期",
        value: date_text(f.received_on),
        tone: "",
    }];
    if f.state == CaseState::Submitted {
        let (_, due, remaining) = queue_deadline(state, &state.calendar(), &case, today);
        let (text, tone) = remaining.map(remaining_text).unwrap_or_default();
        if let Some(due) = due {
            deadlines.push(Fact {
                label: "受理决定期限",
                value: format!("{}（{text}）", date_text(due)),
                tone,
            });
        }
    }
    if let Some(start) = f.clock_start {
        deadlines.push(Fact {
            label: "起算日期",
            value: date_text(start),
            tone: "",
        });
    }
    if let Some(due) = &view.promised_due {
        deadlines.push(Fact {
            label: "承诺办结期限",
            value: date_string_text(due),
            tone: "",
        });
    }
    if let Some(due) = &view.statutory_due {
        deadlines.push(Fact {
            label: "法定办结期限",
            value: date_string_text(due),
            tone: "",
        });
    }
    if f.state == CaseState::Suspended {
        deadlines.push(Fact {
            label: "剩余时限",
            value: "特别程序中，暂停计时".into(),
            tone: "paused",
        });
    } else if let Some(days) = view.remaining_working_days {
        let (text, tone) = remaining_text(days);
        deadlines.push(Fact {
            label: "剩余时限",
            value: text,
            tone,
        });
    }
    if f.deemed_accepted {
        deadlines.push(Fact {
            label: "视为受理",
            value: "是（5个工作日内未作受理决定，自收件之日起视为受理）".into(),
            tone: "soon",
        });
    }
    if f.supplement_requested {
        deadlines.push(Fact {
            label: "一次性告知补正",
            value: "已告知（不得再次要求补正）".into(),
            tone: "",
        });
    }
    if f.paused_working_days > 0 {
        deadlines.push(Fact {
            label: "特别程序用时",
            value: format!("{}个工作日（不计入时限）", f.paused_working_days),
            tone: "",
        });
    }
    if let Some(s) = &f.suspension {
        deadlines.push(Fact {
            label: "特别程序",
            value: format!(
                "{}：{}（计划{}个工作日，自{}起）",
                s.procedure.label(),
                s.reason,
                s.planned_days,
                date_text(s.started_on)
            ),
            tone: "paused",
        });
    }

    let timeline = view
        .events
        .iter()
        .map(|e| {
            let (lines, supplement) = detail_lines(&e.detail);
            let actor = match (&e.actor_name, &e.on_behalf_name) {
                (Some(actor), Some(a)) => Some(format!("{actor}（代A角 {a} 办理）")),
                (Some(actor), None) => Some(actor.clone()),
                (None, _)
                    if e.action == "submit" || e.action == "resubmit" || e.action == "withdraw" =>
                {
                    Some("申请人".into())
                }
                (None, _) => Some("系统".into()),
            };
            TimelineEntry {
                title: e.action_label.clone(),
                state_label: e.to_state_label.clone(),
                at: timestamp_string_text(&e.at),
                actor,
                lines,
                supplement,
            }
        })
        .collect();

    let (failed_key, mut failed_typed, failed_error) = match failure {
        Some(Failure {
            action,
            typed,
            error,
        }) => (Some(action), Some(typed), Some(error)),
        None => (None, None, None),
    };
    let mut forms = Vec::new();
    for key in &view.allowed_actions {
        let Some(action) = action_of(key).filter(|a| sample_command(*a).is_some()) else {
            continue;
        };
        let failed = failed_key == Some(action.key());
        let v = match failed_typed.take_if(|_| failed) {
            Some(typed) => typed,
            None => default_typed(&item, &notice),
        };
        forms.push(ActionForm {
            key: action.key(),
            label: action.label(),
            blocked: blocked_reason(member, &case, &item, assignee.as_ref(), action),
            error: failed_error
                .as_ref()
                .filter(|_| failed)
                .map(|e| e.message.clone()),
            v,
        });
    }
    let failure = failed_error.map(|e| {
        (
            e.message,
            failed_key.map(|k| format!("#form-{k}")).unwrap_or_default(),
        )
    });

    let form_rows = form_rows(&item, &view.form);
    let materials = view
        .materials
        .iter()
        .map(|m| MaterialView {
            name: m.material_name.clone(),
            file_name: m.file_name.clone(),
            href: format!("/work/cases/{}/materials/{}", case.id, m.file_id),
            download_href: format!("/api/v1/files/{}", m.file_id),
            preview: shown_inline(&m.content_type).unwrap_or(""),
            type_label: type_label(&m.content_type),
            size: size_text(m.size),
        })
        .collect();
    let (cards, _) = state
        .store
        .cards(&onewindow_store::cards::CardFilter {
            case_id: Some(case.id),
            limit: 100,
            ..Default::default()
        })
        .await?;
    Ok(CasePage {
        documents: crate::documents::links(&case, view.events.iter().map(|e| e.action.as_str())),
        cards: {
            let calendar = state.calendar();
            cards
                .iter()
                .map(|c| super::supervision::CardRow::of(c, &calendar))
                .collect()
        },
        layout: Layout::new(
            state,
            format!("办件 {}", case.number),
            "work",
            Some(member.name.clone()),
        ),
        department: department.name,
        channel: case.channel.label(),
        submitted_at: super::datetime_text(case.submitted_at),
        assignee: assignee.map(|a| {
            if a.absent {
                format!("{}（不在岗，由B角代办）", a.name)
            } else {
                a.name
            }
        }),
        form_rows,
        materials,
        deadlines,
        timeline,
        forms,
        procedures: PROCEDURES.to_vec(),
        methods: DELIVERY_METHODS.to_vec(),
        flash,
        failure,
        view,
    })
}

pub async fn act(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let case = match visible_case(&state, &member, &id).await {
        Ok(case) => case,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    let item = match state.store.item(case.item_id).await {
        Ok(item) => item,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e.into()),
    };
    let Some(action) = fields.get("action").and_then(|a| action_of(a)) else {
        return error_page(
            &state,
            Some(member.name.clone()),
            &ApiError::invalid("action", "未指明要办理的操作"),
        );
    };
    let typed = typed_from(&fields, &item);
    let version = fields
        .get("version")
        .and_then(|v| v.trim().parse::<i64>().ok());
    let result = match command_from(action, &typed) {
        Ok(command) => {
            let request = CommandRequest { command, version };
            run_command(
                &state,
                &StaffUser(member.clone()),
                case.id,
                request,
                &IdempotencyHeader(None),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(applied) => see_other(&format!(
            "/work/cases/{}?ok={}",
            applied.case.id,
            action.key()
        )),
        Err(error) => {
            let status = error.status;
            // Show the case as it is now (another person may have moved it on),
            // with the refused form filled in as it was sent.
            let current = state.store.case(case.id).await.unwrap_or(case);
            let failure = Failure {
                action: action.key(),
                typed,
                error,
            };
            match case_page_view(&state, &member, current, None, Some(failure)).await {
                Ok(page) => render(status, &page),
                Err(e) => error_page(&state, Some(member.name.clone()), &e),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The case list: every case of the department (of all of them for the
// supervision centre and the audit admin), filtered, newest first. The
// supervision dashboard's received, completed and overdue figures link here.

/// The case list's filters as typed (a GET form, kept on the page).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    pub department_id: String,
    #[serde(default)]
    pub state: String,
    /// Part of the item's name or code.
    #[serde(default)]
    pub item: String,
    /// Part of the case number or the applicant's name.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub received_from: String,
    #[serde(default)]
    pub received_to: String,
    #[serde(default)]
    pub completed_from: String,
    #[serde(default)]
    pub completed_to: String,
    /// "1": open cases past their promised deadline only.
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub page: String,
}

impl ListForm {
    pub fn overdue_only(&self) -> bool {
        !self.overdue.trim().is_empty()
    }

    pub fn department_is(&self, id: &i64) -> bool {
        self.department_id.trim() == id.to_string()
    }

    pub fn state_is(&self, key: &str) -> bool {
        self.state.trim() == key
    }

    /// The filter the form asks for, or the first field it names wrongly
    /// (with the field's name in the message).
    fn filter(&self, today: jiff::civil::Date) -> Result<CaseListFilter, ApiError> {
        let text = |v: &str| Some(v.trim().to_string()).filter(|s| !s.is_empty());
        let day = |field: &'static str, label: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            crate::api::calendar::parse_day(field, v)
                .map(Some)
                .map_err(|e| ApiError::invalid(field, format!("{label}：{}", e.message)))
        };
        let department_id = match self.department_id.trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| {
                ApiError::invalid("department_id", format!("部门：不是有效的部门编号：{v}"))
            })?),
        };
        let state = match self.state.trim() {
            "" => None,
            v => Some(CaseState::parse(v).ok_or_else(|| {
                ApiError::invalid("state", format!("办件状态：“{v}”不是有效的状态"))
            })?),
        };
        let received_from = day("received_from", "收件日期（起）", &self.received_from)?;
        let received_to = day("received_to", "收件日期（止）", &self.received_to)?;
        let completed_from = day("completed_from", "办结日期（起）", &self.completed_from)?;
        let completed_to = day("completed_to", "办结日期（止）", &self.completed_to)?;
        if let (Some(from), Some(to)) = (received_from, received_to)
            && from > to
        {
            return Err(ApiError::invalid(
                "received_to",
                "收件日期（止）不能早于收件日期（起）",
            ));
        }
        if let (Some(from), Some(to)) = (completed_from, completed_to)
            && from > to
        {
            return Err(ApiError::invalid(
                "completed_to",
                "办结日期（止）不能早于办结日期（起）",
            ));
        }
        Ok(CaseListFilter {
            department_id,
            state,
            item: text(&self.item),
            text: text(&self.q),
            received_from,
            received_to,
            completed_from,
            completed_to,
            overdue_on: self.overdue_only().then_some(today),
            limit: LIST_PAGE as i64,
            offset: 0,
        })
    }

    fn link(&self, page: usize) -> String {
        format!(
            "/work/cases?department_id={}&state={}&item={}&q={}&received_from={}&received_to={}\
             &completed_from={}&completed_to={}&overdue={}&page={page}",
            query_value(self.department_id.trim()),
            query_value(self.state.trim()),
            query_value(self.item.trim()),
            query_value(self.q.trim()),
            query_value(self.received_from.trim()),
            query_value(self.received_to.trim()),
            query_value(self.completed_from.trim()),
            query_value(self.completed_to.trim()),
            if self.overdue_only() { "1" } else { "" },
        )
    }
}

/// A row of the case list.
pub struct ListRow {
    pub id: i64,
    pub number: String,
    pub item_name: String,
    pub applicant: String,
    pub department: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub submitted_on: String,
    /// The remaining time of an open case, or when it was completed.
    pub standing: String,
    /// The deadline it runs against, e.g. 承诺期限 2026年12月8日.
    pub due_line: String,
    /// The tooltip of the mark 临时 when that due day is provisional.
    pub provisional: Option<String>,
    /// overdue | soon | ok | paused | none
    pub urgency: &'static str,
    pub cards: Vec<CardMark>,
}

#[derive(Template)]
#[template(path = "work_cases.html")]
struct ListPage {
    layout: Layout,
    sees_all: bool,
    /// The person's own department (the only one listed unless `sees_all`).
    own_department: String,
    departments: Vec<(i64, String)>,
    states: Vec<(&'static str, &'static str)>,
    f: ListForm,
    /// The field a bad filter named, and the message.
    error: Option<(String, String)>,
    rows: Vec<ListRow>,
    total: i64,
    pager: Pager,
}

impl ListPage {
    fn error_on(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|(f, _)| f == field)
    }

    /// Whether a row of this page shows the mark 临时 (the hint explains it).
    fn any_provisional(&self) -> bool {
        self.rows.iter().any(|r| r.provisional.is_some())
    }
}

/// How many cases a page of the case list shows.
const LIST_PAGE: usize = 50;

pub async fn case_list(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(form): Query<ListForm>,
) -> Response {
    match case_list_page(&state, &member, form).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

async fn case_list_page(
    state: &AppState,
    member: &StaffMember,
    form: ListForm,
) -> Result<ListPage, ApiError> {
    let sees_all = sees_all_departments(member);
    let today = civil_date(state.now());
    let (mut filter, error) = match form.filter(today) {
        Ok(filter) => (filter, None),
        Err(e) => (
            // A bad filter lists what the person may see, and says why.
            CaseListFilter {
                limit: LIST_PAGE as i64,
                ..CaseListFilter::default()
            },
            Some((e.field.clone().unwrap_or_default(), e.message)),
        ),
    };
    if !sees_all {
        if filter
            .department_id
            .is_some_and(|id| id != member.department_id)
        {
            return Err(ApiError::forbidden(
                "只能查看本部门的办件；查看其他部门的办件须有电子监察或安全审计岗位权限。",
            ));
        }
        filter.department_id = Some(member.department_id);
    }
    let asked = page_number(&form.page);
    filter.offset = ((asked - 1) * LIST_PAGE) as i64;
    let (mut cases, mut total) = state.store.case_list(&filter).await?;
    let pages = (total.max(1) as usize).div_ceil(LIST_PAGE);
    if cases.is_empty() && asked > pages {
        // Past the last page (the list shrank, or a typed number): the last.
        filter.offset = ((pages - 1) * LIST_PAGE) as i64;
        (cases, total) = state.store.case_list(&filter).await?;
    }
    let pager = Pager::new(asked, total as usize, LIST_PAGE, |p| form.link(p));

    let ids: Vec<i64> = cases.iter().map(|c| c.case.id).collect();
    let mut marks = card_marks(state, &ids).await?;
    let calendar = state.calendar();
    let rows = cases
        .iter()
        .map(|listed| {
            let case = &listed.case;
            let completed_on = listed
                .completed_at
                .map(|at| date_text(civil_date(at)))
                .unwrap_or_default();
            let (text, urgency, due_line, provisional) = if case.facts.state == CaseState::Completed
            {
                (format!("{completed_on}办结"), "none", String::new(), None)
            } else {
                let s = standing(state, &calendar, case, today);
                match s.due {
                    Some(due) if s.urgency != "none" => (
                        s.text,
                        s.urgency,
                        format!("{} {}", s.due_kind, date_text(due)),
                        s.provisional,
                    ),
                    _ => (s.text, s.urgency, String::new(), None),
                }
            };
            ListRow {
                id: case.id,
                number: case.number.clone(),
                item_name: listed.item_name.clone(),
                applicant: case.applicant.name.clone(),
                department: listed.department_name.clone(),
                state: case.facts.state.key(),
                state_label: case.facts.state.label(),
                submitted_on: date_text(civil_date(case.submitted_at)),
                standing: text,
                due_line,
                provisional,
                urgency,
                cards: marks.remove(&case.id).unwrap_or_default(),
            }
        })
        .collect();
    let departments = if sees_all {
        state
            .store
            .departments()
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect()
    } else {
        Vec::new()
    };
    let own_department = state.store.department(member.department_id).await?.name;
    Ok(ListPage {
        layout: Layout::new(state, "办件列表", "work", Some(member.name.clone())),
        sees_all,
        own_department,
        departments,
        states: CaseState::ALL
            .iter()
            .map(|s| (s.key(), s.label()))
            .collect(),
        f: form,
        error,
        rows,
        total,
        pager,
    })
}

// ---------------------------------------------------------------------------
// Materials handed in with a case, shown on the case page.

#[derive(Debug, Default, Deserialize)]
pub struct MaterialQuery {
    /// Any value: save the file instead of showing it.
    #[serde(default)]
    download: Option<String>,
}

/// Whether the browser shows a file of this type itself, safely: PDF in its
/// viewer, and the image types uploads accept. Everything else (Word, Excel,
/// OFD) is only downloaded.
fn shown_inline(content_type: &str) -> Option<&'static str> {
    match content_type {
        "application/pdf" => Some("pdf"),
        "image/png" | "image/jpeg" => Some("image"),
        _ => None,
    }
}

/// One material of the case as the page lists it.
pub struct MaterialView {
    pub name: String,
    pub file_name: String,
    pub size: String,
    /// The file, shown inline (a page route that checks the case is visible).
    pub href: String,
    /// The same file, saved rather than shown.
    pub download_href: String,
    /// pdf | image | "" (not shown inline)
    pub preview: &'static str,
    pub type_label: &'static str,
}

fn type_label(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "PDF",
        "image/png" => "PNG图片",
        "image/jpeg" => "JPG图片",
        "application/zip" => "OFD/压缩文件",
        "application/msword" | "application/x-ole-storage" => "Word/Excel文档",
        t if t.contains("wordprocessingml") => "Word文档",
        t if t.contains("spreadsheetml") => "Excel表格",
        _ => "文件",
    }
}

/// A material handed in with a case, to staff who may see the case: shown in
/// the browser (inline, its stored type, framed only by this site's pages) or
/// saved with `?download=1`. Another department's case and a file that is not
/// the case's read as absent.
pub async fn material(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path((id, file_id)): Path<(String, String)>,
    Query(query): Query<MaterialQuery>,
) -> Response {
    let result = async {
        let case = visible_case(&state, &member, &id).await?;
        let missing = "未找到该材料";
        let file_id = page_id(&file_id, missing)?;
        let materials = state.store.case_materials(case.id).await?;
        if !materials.iter().any(|m| m.file.id == file_id) {
            return Err(ApiError::not_found(missing));
        }
        let (info, bytes) = state.store.file(file_id).await?;
        Ok::<_, ApiError>((info, bytes))
    }
    .await;
    let (info, bytes) = match result {
        Ok(file) => file,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    let inline = query.download.is_none() && shown_inline(&info.content_type).is_some();
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        crate::auth::urlencode(&info.name)
    );
    let mut response = ([(header::CONTENT_TYPE, info.content_type.clone())], bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // The page headers add only what is missing: a material may be framed by
    // this site's own case page (not by others), runs nothing, and is never
    // cached nor read as another type.
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        (header::CACHE_CONTROL, "private, no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
             object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Routes of the workbench besides the queue and the case page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/work/cases", get(case_list))
        .route("/work/cases/{id}/materials/{file_id}", get(material))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fees_are_typed_in_yuan_with_at_most_two_decimals() {
        assert_eq!(super::fen_of("f", "10").unwrap(), 1000);
        assert_eq!(super::fen_of("f", "10.5").unwrap(), 1050);
        assert_eq!(super::fen_of("f", "0.05").unwrap(), 5);
        for bad in [
            "",
            "-1",
            "1.234",
            "十元",
            "1e3",
            ".5",
            "99999999999999999999",
        ] {
            assert_eq!(
                super::fen_of("fee0", bad).unwrap_err().field.as_deref(),
                Some("fee0"),
                "{bad}"
            );
        }
    }

    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_log_in() {
        assert_eq!(safe_next("/work/cases/3"), "/work/cases/3");
        assert_eq!(safe_next("//evil.example"), "/work");
        assert_eq!(safe_next("/\\evil.example"), "/work");
        assert_eq!(safe_next("https://evil.example/"), "/work");
        assert_eq!(safe_next(""), "/work");
    }

    #[test]
    fn remaining_days_are_coloured_by_urgency() {
        assert_eq!(
            remaining_text(-2),
            ("已超期2个工作日".to_string(), "overdue")
        );
        assert_eq!(remaining_text(0).0, "今日到期");
        assert_eq!(remaining_text(3).0, "剩余3个工作日");
        assert_eq!(remaining_text(0).1, "soon");
        assert_eq!(remaining_text(2).1, "soon");
        assert_eq!(remaining_text(3).1, "ok");
    }
}
