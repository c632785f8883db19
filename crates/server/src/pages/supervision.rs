//! Supervision pages: the live list of warnings and cards with the figures
//! per department, a card with its history and the forms to answer or
//! conclude it, the "one case, one notice" document, staff's in-app notices
//! and the outbox of alerts for the administrator.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use onewindow_core::calendar::{ChinaCalendar, civil_date};
use onewindow_core::card::{CardState, Responsibility, Sanction};
use onewindow_core::clock::DeadlineKind;
use onewindow_core::staff::Role;
use onewindow_core::supervision::{Anomaly, Level, Recipient, SupervisionRules};
use onewindow_store::cards::{CardRecord, Notice};
use onewindow_store::staff::StaffMember;
use serde::Deserialize;

use super::{
    Layout, SameOrigin, date_text, datetime_text, error_page, government_name, page_id,
    query_value, render, see_other,
};
use crate::AppState;
use crate::api::calendar::{DeadlineChangeView, DeadlineView};
use crate::api::supervision::{
    AccountabilityView, CardEventView, CardQuery, CardView, DepartmentFiguresView, card_command,
};
use crate::auth::{PageUser, StaffUser};
use crate::error::ApiError;

/// A card in a list, as people read it.
pub struct CardRow {
    pub id: i64,
    pub level: &'static str,
    pub level_label: &'static str,
    pub title: String,
    pub department: String,
    pub case_id: Option<i64>,
    pub case_number: String,
    pub found_on: String,
    pub answer_due: String,
    /// The tooltip of the mark 临时 when the answer's due day is provisional.
    pub answer_provisional: Option<String>,
    pub state_label: &'static str,
    pub counted: bool,
}

impl CardRow {
    /// The row of `c`; its answer deadline is judged provisional on
    /// `calendar` (the page's, read once).
    pub fn of(c: &CardRecord, calendar: &ChinaCalendar) -> CardRow {
        CardRow {
            id: c.id,
            level: c.level.key(),
            level_label: c.level.label(),
            title: c.title.clone(),
            department: c.department_name.clone(),
            case_id: c.case_id,
            case_number: c.case_number.clone().unwrap_or_default(),
            found_on: date_text(c.found_on),
            answer_due: c.answer_due.map(date_text).unwrap_or_else(|| "—".into()),
            answer_provisional: c
                .answer_due
                .and_then(|due| super::work::provisional_note(calendar, c.found_on, due)),
            state_label: c.state.label(),
            counted: c.state.counts(),
        }
    }
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    layout: Layout,
    supervisor: bool,
    today: String,
    figures: Vec<DepartmentFiguresView>,
    totals: DepartmentFiguresView,
    cards: Vec<CardRow>,
    total: i64,
    departments: Vec<(i64, String)>,
    q: FilterForm,
    states: Vec<(&'static str, &'static str)>,
    prev: Option<String>,
    next: Option<String>,
    error: Option<String>,
}

impl SupervisionPage {
    /// Whether a card listed shows the mark 临时 (the hint explains it).
    fn any_provisional(&self) -> bool {
        self.cards.iter().any(|c| c.answer_provisional.is_some())
    }
}

/// The filter form as typed (kept on the page).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FilterForm {
    #[serde(default)]
    pub department_id: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: String,
}

impl FilterForm {
    fn query(&self) -> Result<CardQuery, ApiError> {
        let number = |field: &str, v: &str| -> Result<Option<i64>, ApiError> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(field, format!("不是有效的编号：{v}")))
        };
        let text = |v: &str| Some(v.trim().to_string()).filter(|s| !s.is_empty());
        Ok(CardQuery {
            department_id: number("department_id", &self.department_id)?,
            level: text(&self.level),
            state: text(&self.state),
            from: text(&self.from),
            to: text(&self.to),
            page: number("page", &self.page)?,
            per_page: Some(PER_PAGE),
            ..CardQuery::default()
        })
    }

    fn link(&self, page: i64) -> String {
        format!(
            "/supervision?department_id={}&level={}&state={}&from={}&to={}&page={page}",
            query_value(&self.department_id),
            query_value(&self.level),
            query_value(&self.state),
            query_value(&self.from),
            query_value(&self.to)
        )
    }

    pub fn department_is(&self, id: &i64) -> bool {
        self.department_id.trim() == id.to_string()
    }
}

const PER_PAGE: i64 = 50;

pub async fn list(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(form): Query<FilterForm>,
) -> Response {
    match list_page(&state, &member, form).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

async fn list_page(
    state: &AppState,
    member: &StaffMember,
    form: FilterForm,
) -> Result<SupervisionPage, ApiError> {
    let supervisor = member.has(Role::Supervisor);
    let user = StaffUser(member.clone());
    let today = civil_date(state.now());
    let (filter, error) = match form.query().and_then(|q| q.filter(&user)) {
        Ok(filter) => (filter, None),
        Err(e) => (
            CardQuery::default().filter(&user)?,
            Some(format!("筛选条件有误：{}", e.message)),
        ),
    };
    let (cards, total) = state.store.cards(&filter).await?;
    let figures: Vec<DepartmentFiguresView> = if supervisor {
        state
            .store
            .department_figures(today)
            .await?
            .iter()
            .map(DepartmentFiguresView::from)
            .filter(|f| f.open_cases + f.decided + f.warnings + f.yellow + f.red > 0)
            .collect()
    } else {
        Vec::new()
    };
    let sum = |f: fn(&DepartmentFiguresView) -> i64| figures.iter().map(f).sum::<i64>();
    let (decided, on_time) = (sum(|f| f.decided), sum(|f| f.decided_on_time));
    let totals = DepartmentFiguresView {
        department_id: 0,
        department_name: "合计".into(),
        open_cases: sum(|f| f.open_cases),
        due_soon: sum(|f| f.due_soon),
        overdue: sum(|f| f.overdue),
        warnings: sum(|f| f.warnings),
        yellow: sum(|f| f.yellow),
        red: sum(|f| f.red),
        decided,
        decided_on_time: on_time,
        on_time_rate: (decided > 0)
            .then(|| ((on_time as f64) * 1000.0 / (decided as f64)).round() / 10.0),
    };
    let departments = state
        .store
        .departments()
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let page = filter.offset / filter.limit.max(1) + 1;
    Ok(SupervisionPage {
        layout: Layout::new(state, "电子监察", "supervision", Some(member.name.clone())),
        supervisor,
        today: date_text(today),
        totals,
        figures,
        total,
        cards: {
            let calendar = state.calendar();
            cards.iter().map(|c| CardRow::of(c, &calendar)).collect()
        },
        departments,
        prev: (error.is_none() && page > 1).then(|| form.link(page - 1)),
        next: (error.is_none() && page * filter.limit < total).then(|| form.link(page + 1)),
        q: form,
        states: CardState::ALL
            .iter()
            .map(|s| (s.key(), s.label()))
            .collect(),
        error,
    })
}

/// A card's deadlines as its pages show them: the breached deadline's due
/// day and the department's answer deadline, each marked when provisional,
/// the answer deadline's explanation and the calendar changes that moved it.
struct CardDeadlines {
    /// The tooltip of the mark 临时 beside the breached deadline's due day.
    due_provisional: Option<String>,
    /// The answer deadline (yellow and red cards), dates as people read them.
    answer: Option<DeadlineView>,
    /// The tooltip of the mark 临时 beside the answer's due day.
    answer_provisional: Option<String>,
    answer_changes: Vec<DeadlineChangeView>,
    /// Every unpublished year either due day was counted through, as one
    /// note (for the printed notice).
    note: Option<String>,
}

async fn card_deadlines(state: &AppState, card: &CardRecord) -> Result<CardDeadlines, ApiError> {
    let record = state.store.card_deadline(card.id).await?;
    let changes = if record.is_some() {
        state.store.card_deadline_changes(card.id).await?
    } else {
        Vec::new()
    };
    let county = state.calendar();
    // The breached deadline's start is not on the card: the period from the
    // earlier of the day found and the due day covers the days that counted
    // towards it.
    let mut years = county.provisional_years(card.found_on.min(card.due_on), card.due_on);
    let due_provisional = super::work::provisional_years_note(&years);
    let (answer, answer_provisional) = match &record {
        Some(record) => {
            let calendar = state.store.calendars().for_region(&record.region);
            let explanation = record.deadline.explain(&calendar);
            years.extend(explanation.provisional_years.iter().copied());
            let mut view = DeadlineView::of(record, &calendar);
            view.due = super::date_string_text(&view.due);
            (
                Some(view),
                super::work::provisional_years_note(&explanation.provisional_years),
            )
        }
        None => (None, None),
    };
    years.sort_unstable();
    years.dedup();
    Ok(CardDeadlines {
        due_provisional,
        answer,
        answer_provisional,
        answer_changes: changes
            .iter()
            .map(|c| {
                let mut view = DeadlineChangeView::from(c);
                view.old_due = super::date_string_text(&view.old_due);
                view.new_due = super::date_string_text(&view.new_due);
                view
            })
            .collect(),
        note: super::work::provisional_years_note(&years),
    })
}

/// The view's dates as people read them (2026年12月1日), and its rule.
fn readable_dates(card: &mut CardView) {
    card.condition = onewindow_core::supervision::condition_label(&card.condition);
    card.due_on = super::date_string_text(&card.due_on);
    card.found_on = super::date_string_text(&card.found_on);
    card.answer_due = card.answer_due.as_deref().map(super::date_string_text);
}

#[derive(Template)]
#[template(path = "supervision_card.html")]
struct CardPage {
    layout: Layout,
    card: CardView,
    deadlines: CardDeadlines,
    issued_at: String,
    events: Vec<EventRow>,
    accountability: Vec<AccountabilityView>,
    /// The forms this person may use now: (action, label, what the text is).
    forms: Vec<(&'static str, &'static str, &'static str)>,
    supervisor: bool,
    people: Vec<(i64, String)>,
    sanctions: Vec<(&'static str, &'static str)>,
    failure: Option<String>,
    /// The refused action and the text typed for it, shown again in its form.
    typed: Option<(String, String)>,
    flash: Option<&'static str>,
}

impl CardPage {
    /// The text to show in the form of `action`.
    fn typed_for(&self, action: &str) -> &str {
        match &self.typed {
            Some((key, text)) if key == action => text,
            _ => "",
        }
    }

    /// Whether the form of `action` opens: the refused one, else the first.
    fn opens(&self, action: &str, first: bool) -> bool {
        match &self.typed {
            Some((key, _)) => key == action,
            None => first,
        }
    }
}

pub struct EventRow {
    pub at: String,
    pub label: &'static str,
    pub actor: String,
    pub text: String,
    pub state_label: &'static str,
}

fn event_row(e: &CardEventView) -> EventRow {
    let label = match e.action.as_str() {
        "issue" => "系统发出",
        "notify" => "送达通知",
        "explain" => "情况说明",
        "rectify" => "整改报告",
        "appeal" => "申诉",
        "uphold" => "复核维持",
        "revoke" => "复核撤销",
        "close" => "办结",
        _ => "处理",
    };
    EventRow {
        at: super::timestamp_string_text(&e.at),
        label,
        actor: e
            .actor_name
            .clone()
            .unwrap_or_else(|| "电子监察系统".into()),
        text: e.text.clone(),
        state_label: CardState::parse(&e.to_state).map_or("", |s| s.label()),
    }
}

/// The forms `member` may fill on `card` now.
fn forms_for(
    member: &StaffMember,
    card: &CardRecord,
) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut forms = Vec::new();
    let department = card.answered_by(member);
    if department && card.state.awaits_department() {
        forms.push(("explain", "提交情况说明", "情况说明"));
        forms.push(("rectify", "提交整改报告", "整改情况"));
    }
    if department
        && card.level != Level::Warning
        && !card.appealed
        && matches!(
            card.state,
            CardState::Issued | CardState::Notified | CardState::Explained
        )
    {
        forms.push(("appeal", "申诉（限一次）", "申诉理由"));
    }
    if member.has(Role::Supervisor) {
        if card.state == CardState::Appealed {
            forms.push(("uphold", "复核：维持", "复核意见"));
            forms.push(("revoke", "复核：撤销", "撤销理由"));
        }
        let answered = matches!(card.state, CardState::Explained | CardState::Rectified);
        if answered || (card.level == Level::Warning && card.state.awaits_department()) {
            forms.push(("close", "办结", "办结结论"));
        }
    }
    forms
}

pub async fn card_page(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let id = match page_id(&id, "未找到该督办件") {
        Ok(id) => id,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    let flash = flash.done.as_deref().map(flash_text);
    match card_view(&state, &member, id, None, None, flash).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FlashQuery {
    done: Option<String>,
}

fn flash_text(key: &str) -> &'static str {
    match key {
        "accountability" => "问责记录已登记",
        _ => "已提交",
    }
}

async fn card_view(
    state: &AppState,
    member: &StaffMember,
    id: i64,
    failure: Option<String>,
    typed: Option<(String, String)>,
    flash: Option<&'static str>,
) -> Result<CardPage, ApiError> {
    let user = StaffUser(member.clone());
    let card = crate::api::supervision::visible_card(state, &user, id).await?;
    let detail = crate::api::supervision::card_detail(state, &card).await?;
    let supervisor = member.has(Role::Supervisor);
    let people = if supervisor {
        state
            .store
            .staff(Some(card.department_id))
            .await?
            .into_iter()
            .map(|p| {
                let roles: Vec<&str> = p.roles.iter().map(|r| r.label()).collect();
                (p.id, format!("{}（{}）", p.name, roles.join("、")))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut card_view = detail.card;
    readable_dates(&mut card_view);
    Ok(CardPage {
        card: card_view,
        deadlines: card_deadlines(state, &card).await?,
        layout: Layout::new(
            state,
            format!("督办件 {}", card.title),
            "supervision",
            Some(member.name.clone()),
        ),
        issued_at: datetime_text(card.issued_at),
        forms: forms_for(member, &card),
        events: detail.events.iter().map(event_row).collect(),
        accountability: detail.accountability,
        supervisor,
        people,
        sanctions: Sanction::ALL.iter().map(|s| (s.key(), s.label())).collect(),
        failure,
        typed,
        flash,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CardActionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
}

pub async fn act(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(form): Form<CardActionForm>,
) -> Response {
    let id = match page_id(&id, "未找到该督办件") {
        Ok(id) => id,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    let result = async {
        let user = StaffUser(member.clone());
        crate::api::supervision::visible_card(&state, &user, id).await?;
        let command = card_command(&form.action, form.text.clone())?;
        state
            .store
            .act_on_card(id, &member, command, Vec::new(), state.now())
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/supervision/cards/{id}?done=1")),
        Err(e) => {
            let status = e.status;
            let typed = Some((form.action.trim().to_string(), form.text));
            match card_view(&state, &member, id, Some(e.message), typed, None).await {
                Ok(page) => render(status, &page),
                Err(e) => error_page(&state, Some(member.name.clone()), &e),
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountabilityForm {
    #[serde(default)]
    person_id: String,
    #[serde(default)]
    responsibility: String,
    #[serde(default)]
    sanction: String,
    #[serde(default)]
    basis: String,
}

pub async fn record_accountability(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(form): Form<AccountabilityForm>,
) -> Response {
    let id = match page_id(&id, "未找到该督办件") {
        Ok(id) => id,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    let result = async {
        let user = StaffUser(member.clone());
        let card = crate::api::supervision::visible_card(&state, &user, id).await?;
        let person_id = form
            .person_id
            .trim()
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("person_id", "请选择被问责人"))?;
        let responsibility = Responsibility::parse(form.responsibility.trim())
            .ok_or_else(|| ApiError::invalid("responsibility", "请选择责任类型"))?;
        let sanction = Sanction::parse(form.sanction.trim())
            .ok_or_else(|| ApiError::invalid("sanction", "请选择处理方式"))?;
        state
            .store
            .record_accountability(
                &member,
                onewindow_store::cards::NewAccountability {
                    person_id,
                    responsibility,
                    sanction,
                    basis: form.basis.clone(),
                    card_id: Some(card.id),
                    case_id: card.case_id,
                },
                state.now(),
            )
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/supervision/cards/{id}?done=accountability")),
        Err(e) => {
            let status = e.status;
            let message = format!("问责记录未登记：{}", e.message);
            match card_view(&state, &member, id, Some(message), None, None).await {
                Ok(page) => render(status, &page),
                Err(e) => error_page(&state, Some(member.name.clone()), &e),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "supervision_notice.html")]
struct NoticeDocument {
    layout: Layout,
    government: String,
    card: CardView,
    /// Why the dates of the notice are provisional, when they are.
    provisional: Option<String>,
    number: String,
    issued_on: String,
    events: Vec<EventRow>,
    accountability: Vec<AccountabilityView>,
}

/// 一案一通报: the notice of one card, to print and file.
pub async fn notice_document(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
) -> Response {
    let id = match page_id(&id, "未找到该督办件") {
        Ok(id) => id,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    let result = async {
        let user = StaffUser(member.clone());
        let card = crate::api::supervision::visible_card(&state, &user, id).await?;
        let detail = crate::api::supervision::card_detail(&state, &card).await?;
        let mut card_view = detail.card;
        readable_dates(&mut card_view);
        let provisional = card_deadlines(&state, &card).await?.note;
        Ok::<_, ApiError>(NoticeDocument {
            card: card_view,
            provisional,
            layout: Layout::new(&state, "督办通报", "supervision", Some(member.name.clone())),
            government: government_name(&state),
            number: format!("监察通报〔{}〕{}号", card.found_on.year(), card.id),
            issued_on: date_text(card.found_on),
            events: detail.events.iter().map(event_row).collect(),
            accountability: detail.accountability,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    layout: Layout,
    notices: Vec<NoticeRow>,
    unread: usize,
}

pub struct NoticeRow {
    pub id: i64,
    pub card_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub at: String,
    pub read: bool,
}

impl From<&Notice> for NoticeRow {
    fn from(n: &Notice) -> Self {
        NoticeRow {
            id: n.id,
            card_id: n.card_id,
            title: n.title.clone(),
            body: n.body.clone(),
            at: datetime_text(n.created_at),
            read: n.read_at.is_some(),
        }
    }
}

pub async fn notices(State(state): State<AppState>, PageUser(member): PageUser) -> Response {
    match state.store.notices(member.id, 200).await {
        Ok(notices) => {
            let page = NoticesPage {
                layout: Layout::new(&state, "我的消息", "work", Some(member.name.clone())),
                unread: notices.iter().filter(|n| n.read_at.is_none()).count(),
                notices: notices.iter().map(NoticeRow::from).collect(),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
    }
}

/// Signs for a notice (签收) and opens its card.
pub async fn read_notice(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
) -> Response {
    let id = match page_id(&id, "未找到该消息") {
        Ok(id) => id,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    match state.store.read_notice(member.id, id, state.now()).await {
        Ok(Some(card)) => see_other(&format!("/supervision/cards/{card}")),
        Ok(None) => see_other("/work/notices"),
        Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
    }
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    layout: Layout,
    messages: Vec<MessageRow>,
    state: String,
    channels: String,
    flash: Option<String>,
    /// Only an administrator re-sends.
    admin: bool,
}

pub struct MessageRow {
    pub id: i64,
    pub channel: &'static str,
    pub address: String,
    pub subject: String,
    pub state: String,
    pub state_label: &'static str,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: String,
    pub card_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OutboxQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    resent: String,
}

pub async fn outbox(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(query): Query<OutboxQuery>,
) -> Response {
    if !member.has(Role::Admin) && !member.has(Role::Supervisor) {
        let e = ApiError::forbidden("只有系统管理员和监察员可以查看提醒消息发送情况");
        return error_page(&state, Some(member.name.clone()), &e);
    }
    let wanted = match query.state.trim() {
        s @ ("pending" | "sent" | "failed") => Some(s),
        _ => None,
    };
    match state.store.messages(wanted, 500).await {
        Ok(messages) => {
            let channels = state.settings.alerts.channels();
            let page = OutboxPage {
                layout: Layout::new(&state, "提醒消息发送", "work", Some(member.name.clone())),
                messages: messages
                    .iter()
                    .map(|m| MessageRow {
                        id: m.id,
                        channel: m.channel.label(),
                        address: if m.address.is_empty() {
                            "—".into()
                        } else {
                            m.address.clone()
                        },
                        subject: m.subject.clone(),
                        state: m.state.clone(),
                        state_label: match m.state.as_str() {
                            "sent" => "已发送",
                            "failed" => "发送失败",
                            _ => "待发送",
                        },
                        attempts: m.attempts,
                        last_error: m.last_error.clone().unwrap_or_default(),
                        created_at: datetime_text(m.created_at),
                        card_id: m.card_id,
                    })
                    .collect(),
                state: wanted.unwrap_or("").to_string(),
                channels: if channels.is_empty() {
                    "未配置外部通道（仅站内消息）".into()
                } else {
                    channels
                        .iter()
                        .map(|c| c.label())
                        .collect::<Vec<_>>()
                        .join("、")
                },
                flash: (!query.resent.is_empty()).then(|| "已重新排队发送".to_string()),
                admin: member.has(Role::Admin),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
    }
}

pub async fn resend(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
) -> Response {
    let id = match page_id(&id, "未找到该消息") {
        Ok(id) => id,
        Err(e) => return error_page(&state, Some(member.name.clone()), &e),
    };
    if !member.has(Role::Admin) {
        let e = ApiError::forbidden("只有系统管理员可以重新发送提醒消息");
        return error_page(&state, Some(member.name.clone()), &e);
    }
    match state.store.resend_message(member.id, id, state.now()).await {
        Ok(_) => see_other("/admin/outbox?state=failed&resent=1"),
        Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
    }
}

// ---------------------------------------------------------------------------
// The supervisor's rules.

/// One deadline kind's row of the rules form.
pub struct KindRow {
    pub key: &'static str,
    pub label: &'static str,
    pub warning: String,
    pub overdue: &'static str,
}

/// Who is alerted at one level: (level key, level label, and for each kind
/// of recipient its key, label and whether it is chosen).
type RecipientRow = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str, bool)>,
);

/// One anomaly's row: its key, label and level ("" = not watched).
pub struct AnomalyRow {
    pub key: &'static str,
    pub label: &'static str,
    pub level: &'static str,
}

#[derive(Template)]
#[template(path = "supervision_rules.html")]
struct RulesPage {
    layout: Layout,
    editable: bool,
    kinds: Vec<KindRow>,
    anomalies: Vec<AnomalyRow>,
    instant: &'static str,
    rectification_days: String,
    item_warning_days: String,
    recipients: Vec<RecipientRow>,
    levels: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    flash: Option<&'static str>,
}

fn level_key(level: Option<Level>) -> &'static str {
    level.map_or("", Level::key)
}

fn rules_page(
    state: &AppState,
    member: &StaffMember,
    rules: &SupervisionRules,
    error: Option<String>,
    flash: Option<&'static str>,
) -> RulesPage {
    RulesPage {
        layout: Layout::new(state, "监察规则", "supervision", Some(member.name.clone())),
        editable: member.has(Role::Supervisor),
        kinds: DeadlineKind::ALL
            .iter()
            .map(|k| KindRow {
                key: k.key(),
                label: k.label(),
                warning: rules
                    .deadlines
                    .warning_days
                    .get(k)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                overdue: level_key(rules.deadlines.overdue_level.get(k).copied()),
            })
            .collect(),
        anomalies: Anomaly::ALL
            .iter()
            .map(|a| AnomalyRow {
                key: a.key(),
                label: a.label(),
                level: level_key(rules.anomalies.get(a).copied()),
            })
            .collect(),
        instant: level_key(rules.instant_not_same_day),
        rectification_days: rules.rectification_days.to_string(),
        item_warning_days: rules
            .item_warning_days
            .iter()
            .map(|(code, days)| format!("{code}={days}"))
            .collect::<Vec<_>>()
            .join("\n"),
        recipients: [Level::Warning, Level::Yellow, Level::Red]
            .into_iter()
            .map(|level| {
                let chosen = rules.recipients_of(level);
                (
                    level.key(),
                    level.label(),
                    Recipient::ALL
                        .iter()
                        .map(|r| (recipient_key(*r), r.label(), chosen.contains(r)))
                        .collect(),
                )
            })
            .collect(),
        levels: [Level::Warning, Level::Yellow, Level::Red]
            .iter()
            .map(|l| (l.key(), l.label()))
            .collect(),
        error,
        flash,
    }
}

fn recipient_key(r: Recipient) -> &'static str {
    match r {
        Recipient::Handler => "handler",
        Recipient::Backup => "backup",
        Recipient::Reviewer => "reviewer",
        Recipient::Approver => "approver",
    }
}

/// A level chosen in the form; blank: not watched.
fn parse_level(field: &str, value: &str) -> Result<Option<Level>, ApiError> {
    match value.trim() {
        "" => Ok(None),
        other => Level::parse(other)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, format!("没有这种级别：{other}"))),
    }
}

/// The rules a submitted form stands for.
fn rules_from(
    form: &std::collections::HashMap<String, String>,
) -> Result<SupervisionRules, ApiError> {
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut rules = SupervisionRules::default();
    rules.deadlines.warning_days.clear();
    rules.deadlines.overdue_level.clear();
    for kind in DeadlineKind::ALL {
        let field = format!("warning_{}", kind.key());
        let days = get(&field);
        if !days.is_empty() {
            let days = days.parse::<u32>().map_err(|_| {
                ApiError::invalid(&field, format!("{}的预警天数须为0至30的整数", kind.label()))
            })?;
            rules.deadlines.warning_days.insert(kind, days);
        }
        let field = format!("overdue_{}", kind.key());
        if let Some(level) = parse_level(&field, &get(&field))? {
            rules.deadlines.overdue_level.insert(kind, level);
        }
    }
    rules.anomalies.clear();
    for anomaly in Anomaly::ALL {
        let field = format!("anomaly_{}", anomaly.key());
        if let Some(level) = parse_level(&field, &get(&field))? {
            rules.anomalies.insert(anomaly, level);
        }
    }
    rules.instant_not_same_day = parse_level("instant", &get("instant"))?;
    rules.rectification_days = get("rectification_days").parse().map_err(|_| {
        ApiError::invalid("rectification_days", "整改期限须为1至60的整数（工作日）")
    })?;
    rules.item_warning_days.clear();
    for line in get("item_warning_days")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (code, days) = line.split_once(['=', '＝']).ok_or_else(|| {
            ApiError::invalid(
                "item_warning_days",
                format!("每行写“事项编码=天数”：{line}"),
            )
        })?;
        let days = days.trim().parse::<u32>().map_err(|_| {
            ApiError::invalid("item_warning_days", format!("预警天数须为整数：{line}"))
        })?;
        rules
            .item_warning_days
            .insert(code.trim().to_string(), days);
    }
    rules.recipients.clear();
    for level in [Level::Warning, Level::Yellow, Level::Red] {
        let chosen: Vec<Recipient> = Recipient::ALL
            .into_iter()
            .filter(|r| form.contains_key(&format!("to_{}_{}", level.key(), recipient_key(*r))))
            .collect();
        rules.recipients.insert(level, chosen);
    }
    rules
        .validate()
        .map_err(|e| ApiError::invalid(e.field.clone(), e.message))?;
    Ok(rules)
}

pub async fn rules(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(flash): Query<FlashQuery>,
) -> Response {
    if !member.has(Role::Supervisor) && !member.has(Role::Admin) {
        let e = ApiError::forbidden("只有监察员和系统管理员可以查看监察规则");
        return error_page(&state, Some(member.name.clone()), &e);
    }
    match state.store.supervision_rules().await {
        Ok(current) => {
            let flash = flash
                .done
                .is_some()
                .then_some("监察规则已保存，下一次监察按新规则执行");
            render(
                StatusCode::OK,
                &rules_page(&state, &member, &current, None, flash),
            )
        }
        Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
    }
}

pub async fn save_rules(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    if !member.has(Role::Supervisor) {
        let e = ApiError::forbidden("只有监察员可以修改监察规则");
        return error_page(&state, Some(member.name.clone()), &e);
    }
    let saved = match rules_from(&form) {
        Ok(rules) => state
            .store
            .set_supervision_rules(member.id, rules, state.now())
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other("/supervision/rules?done=1"),
        Err(e) => match state.store.supervision_rules().await {
            Ok(current) => {
                let page = rules_page(
                    &state,
                    &member,
                    &current,
                    Some(format!("规则未保存：{}", e.message)),
                    None,
                );
                render(e.status, &page)
            }
            Err(e) => error_page(&state, Some(member.name.clone()), &e.into()),
        },
    }
}
