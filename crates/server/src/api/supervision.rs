//! Electronic supervision: warnings and cards with their lifecycle, the
//! figures per department, the supervisor's settings, accountability, the
//! in-app notices of staff and the outbox of alerts.
//!
//! Supervisors see everything; department staff see and answer their own
//! department's cards.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onewindow_core::card::{CardCommand, CardState, Responsibility, Sanction};
use onewindow_core::staff::Role;
use onewindow_core::supervision::{Level, SupervisionRules};
use onewindow_store::cards::{
    AccountabilityRecord, CardEvent, CardFilter, CardRecord, DepartmentFigures, NewAccountability,
    Notice,
};
use onewindow_store::outbox::OutboxMessage;
use onewindow_store::supervision::TickReport;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::calendar::parse_day;
use crate::AppState;
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};

/// Whether `user` may see the cards of `department_id`.
fn may_see(user: &StaffUser, department_id: i64) -> bool {
    user.0.has(Role::Supervisor) || user.0.department_id == department_id
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CardView {
    pub id: i64,
    /// warning | yellow | red
    pub level: String,
    pub level_label: String,
    pub title: String,
    /// What broke, e.g. `overdue:case_promised`: one card per subject and condition.
    pub condition: String,
    /// case | card (a card about an unanswered card)
    pub subject_kind: String,
    pub subject_id: i64,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub department_id: i64,
    pub department_name: String,
    pub item_id: Option<i64>,
    pub item_name: Option<String>,
    pub handler_id: Option<i64>,
    pub handler_name: Option<String>,
    /// The deadline's due day when the card was issued.
    pub due_on: String,
    pub found_on: String,
    /// issued | notified | explained | rectified | appealed | closed | revoked
    pub state: String,
    pub state_label: String,
    pub appealed: bool,
    /// The day the department's explanation or rectification is due.
    pub answer_due: Option<String>,
    /// Revoked cards stay in the record and are not counted.
    pub counted: bool,
    pub issued_at: String,
    pub version: i64,
}

impl From<&CardRecord> for CardView {
    fn from(c: &CardRecord) -> Self {
        CardView {
            id: c.id,
            level: c.level.key().into(),
            level_label: c.level.label().into(),
            title: c.title.clone(),
            condition: c.condition.clone(),
            subject_kind: c.subject_kind.clone(),
            subject_id: c.subject_id,
            case_id: c.case_id,
            case_number: c.case_number.clone(),
            department_id: c.department_id,
            department_name: c.department_name.clone(),
            item_id: c.item_id,
            item_name: c.item_name.clone(),
            handler_id: c.handler_id,
            handler_name: c.handler_name.clone(),
            due_on: c.due_on.to_string(),
            found_on: c.found_on.to_string(),
            state: c.state.key().into(),
            state_label: c.state.label().into(),
            appealed: c.appealed,
            answer_due: c.answer_due.map(|d| d.to_string()),
            counted: c.state.counts(),
            issued_at: c.issued_at.to_string(),
            version: c.version,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CardEventView {
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub text: String,
    pub attachments: Vec<i64>,
    pub at: String,
}

impl From<&CardEvent> for CardEventView {
    fn from(e: &CardEvent) -> Self {
        CardEventView {
            action: e.action.clone(),
            from_state: e.from_state.clone(),
            to_state: e.to_state.clone(),
            actor_id: e.actor_id,
            actor_name: e.actor_name.clone(),
            text: e.text.clone(),
            attachments: e.attachments.clone(),
            at: e.at.to_string(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AccountabilityView {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub department_name: String,
    /// direct | leadership
    pub responsibility: String,
    pub responsibility_label: String,
    pub sanction: String,
    pub sanction_label: String,
    pub basis: String,
    pub card_id: Option<i64>,
    pub case_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: String,
}

impl From<&AccountabilityRecord> for AccountabilityView {
    fn from(a: &AccountabilityRecord) -> Self {
        AccountabilityView {
            id: a.id,
            person_id: a.person_id,
            person_name: a.person_name.clone(),
            department_name: a.department_name.clone(),
            responsibility: a.responsibility.key().into(),
            responsibility_label: a.responsibility.label().into(),
            sanction: a.sanction.key().into(),
            sanction_label: a.sanction.label().into(),
            basis: a.basis.clone(),
            card_id: a.card_id,
            case_id: a.case_id,
            decided_by: a.decided_by,
            decided_at: a.decided_at.to_string(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CardDetail {
    pub card: CardView,
    pub events: Vec<CardEventView>,
    pub accountability: Vec<AccountabilityView>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CardList {
    pub cards: Vec<CardView>,
    pub total: i64,
}

#[derive(Deserialize, IntoParams, Default)]
pub struct CardQuery {
    pub department_id: Option<i64>,
    pub item_id: Option<i64>,
    pub case_id: Option<i64>,
    /// warning | yellow | red
    pub level: Option<String>,
    /// issued | notified | explained | rectified | appealed | closed | revoked
    pub state: Option<String>,
    /// Found on or after, YYYY-MM-DD.
    pub from: Option<String>,
    /// Found on or before, YYYY-MM-DD.
    pub to: Option<String>,
    /// 1-based.
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn parse_level(value: &str) -> Result<Level, ApiError> {
    Level::parse(value.trim()).ok_or_else(|| {
        ApiError::invalid(
            "level",
            format!("级别须为 warning（预警）、yellow（黄牌）或 red（红牌）：{value}"),
        )
    })
}

impl CardQuery {
    /// The store's filter; department staff only ever see their own
    /// department's cards.
    pub fn filter(&self, user: &StaffUser) -> Result<CardFilter, ApiError> {
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let per_page = self.per_page.unwrap_or(50).clamp(1, 500);
        let page = self.page.unwrap_or(1).max(1);
        let department_id = if user.0.has(Role::Supervisor) {
            self.department_id
        } else {
            Some(user.0.department_id)
        };
        Ok(CardFilter {
            department_id,
            item_id: self.item_id,
            case_id: self.case_id,
            level: blank(&self.level).map(|l| parse_level(&l)).transpose()?,
            state: blank(&self.state)
                .map(|s| {
                    CardState::parse(&s)
                        .ok_or_else(|| ApiError::invalid("state", format!("没有这种督办状态：{s}")))
                })
                .transpose()?,
            from: blank(&self.from)
                .map(|d| parse_day("from", &d))
                .transpose()?,
            to: blank(&self.to).map(|d| parse_day("to", &d)).transpose()?,
            limit: per_page,
            offset: (page - 1).saturating_mul(per_page),
        })
    }
}

#[utoipa::path(get, path = "/api/v1/supervision/cards", tag = "supervision", params(CardQuery),
    responses((status = 200, body = CardList), (status = 401, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_cards(
    State(state): State<AppState>,
    user: StaffUser,
    Query(query): Query<CardQuery>,
) -> ApiResult<axum::Json<CardList>> {
    let filter = query.filter(&user)?;
    let (cards, total) = state.store.cards(&filter).await?;
    Ok(axum::Json(CardList {
        cards: cards.iter().map(CardView::from).collect(),
        total,
    }))
}

/// A card the user may see, or not found.
pub async fn visible_card(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<CardRecord> {
    let card = state.store.card(id).await?;
    if !may_see(user, card.department_id) {
        return Err(ApiError::not_found("未找到该督办件"));
    }
    Ok(card)
}

pub async fn card_detail(state: &AppState, card: &CardRecord) -> ApiResult<CardDetail> {
    let events = state.store.card_events(card.id).await?;
    let accountability = state.store.accountability(Some(card.id), None).await?;
    Ok(CardDetail {
        card: CardView::from(card),
        events: events.iter().map(CardEventView::from).collect(),
        accountability: accountability
            .iter()
            .map(AccountabilityView::from)
            .collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/supervision/cards/{id}", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = CardDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_card(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CardDetail>> {
    let card = visible_card(&state, &user, id).await?;
    Ok(axum::Json(card_detail(&state, &card).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CardActionRequest {
    /// explain | rectify | appeal (the department); uphold | revoke | close (the supervisor)
    pub action: String,
    /// The explanation, the rectification report, the reasons or the conclusion.
    #[serde(default)]
    pub text: String,
    /// Uploaded files (ids from /api/v1/files) supporting an explanation,
    /// rectification or appeal.
    #[serde(default)]
    pub attachments: Vec<i64>,
}

/// The command an action names, with its text.
pub fn card_command(action: &str, text: String) -> Result<CardCommand, ApiError> {
    Ok(match action.trim() {
        "explain" => CardCommand::Explain { text },
        "rectify" => CardCommand::Rectify { text },
        "appeal" => CardCommand::Appeal { reasons: text },
        "uphold" => CardCommand::Uphold { reasons: text },
        "revoke" => CardCommand::Revoke { reasons: text },
        "close" => CardCommand::Close { conclusion: text },
        other => {
            return Err(ApiError::invalid(
                "action",
                format!(
                    "没有这种督办操作：{other}（可用 explain、rectify、appeal、uphold、revoke、close）"
                ),
            ));
        }
    })
}

#[utoipa::path(post, path = "/api/v1/supervision/cards/{id}/actions", tag = "supervision",
    params(("id" = i64, Path)), request_body = CardActionRequest,
    responses((status = 200, body = CardDetail), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn act_on_card(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<CardActionRequest>,
) -> ApiResult<axum::Json<CardDetail>> {
    visible_card(&state, &user, id).await?;
    let command = card_command(&request.action, request.text)?;
    for file in &request.attachments {
        if state.store.file(*file).await.is_err() {
            return Err(ApiError::invalid(
                "attachments",
                format!("附件不存在：{file}"),
            ));
        }
    }
    let card = state
        .store
        .act_on_card(id, &user.0, command, request.attachments, state.now())
        .await?;
    Ok(axum::Json(card_detail(&state, &card).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct FiguresQuery {
    /// The day the figures are for, YYYY-MM-DD; default today.
    pub date: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DepartmentFiguresView {
    pub department_id: i64,
    pub department_name: String,
    pub open_cases: i64,
    pub due_soon: i64,
    pub overdue: i64,
    pub warnings: i64,
    pub yellow: i64,
    pub red: i64,
    pub decided: i64,
    pub decided_on_time: i64,
    /// Percentage of decided cases within their promised deadline.
    pub on_time_rate: Option<f64>,
}

impl From<&DepartmentFigures> for DepartmentFiguresView {
    fn from(f: &DepartmentFigures) -> Self {
        DepartmentFiguresView {
            department_id: f.department_id,
            department_name: f.department_name.clone(),
            open_cases: f.open_cases,
            due_soon: f.due_soon,
            overdue: f.overdue,
            warnings: f.warnings,
            yellow: f.yellow,
            red: f.red,
            decided: f.decided,
            decided_on_time: f.decided_on_time,
            on_time_rate: f.on_time_rate.map(|r| (r * 10.0).round() / 10.0),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/supervision/departments", tag = "supervision", params(FiguresQuery),
    responses((status = 200, body = Vec<DepartmentFiguresView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn department_figures(
    State(state): State<AppState>,
    user: StaffUser,
    Query(query): Query<FiguresQuery>,
) -> ApiResult<axum::Json<Vec<DepartmentFiguresView>>> {
    user.require(Role::Supervisor)?;
    let today = match query
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => parse_day("date", d)?,
        None => onewindow_core::calendar::civil_date(state.now()),
    };
    let figures = state.store.department_figures(today).await?;
    Ok(axum::Json(
        figures.iter().map(DepartmentFiguresView::from).collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/supervision/rules", tag = "supervision",
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_rules(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<SupervisionRules>> {
    user.require_any(&[Role::Supervisor, Role::Admin])?;
    Ok(axum::Json(state.store.supervision_rules().await?))
}

#[utoipa::path(put, path = "/api/v1/supervision/rules", tag = "supervision", request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_rules(
    State(state): State<AppState>,
    user: StaffUser,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<SupervisionRules>> {
    user.require(Role::Supervisor)?;
    let rules: SupervisionRules = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid(
            "rules",
            format!("监察规则格式不正确（{e}）：期限种类须为 case_acceptance、case_promised、case_statutory、case_step、case_delivery、case_suspension、card_rectification 之一，级别须为 warning、yellow、red 之一"),
        )
    })?;
    Ok(axum::Json(
        state
            .store
            .set_supervision_rules(user.0.id, rules, state.now())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AccountabilityRequest {
    pub person_id: i64,
    /// direct (承办人直接责任) | leadership (领导责任)
    pub responsibility: String,
    /// caution | admonition | ordered_correction | circulated_criticism | warning | demerit |
    /// major_demerit | demotion | transfer | removal | expulsion
    pub sanction: String,
    /// The facts and the rule applied.
    pub basis: String,
    pub card_id: Option<i64>,
    pub case_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/supervision/accountability", tag = "supervision",
    request_body = AccountabilityRequest,
    responses((status = 201, body = AccountabilityView), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_accountability(
    State(state): State<AppState>,
    user: StaffUser,
    Json(request): Json<AccountabilityRequest>,
) -> ApiResult<Response> {
    user.require(Role::Supervisor)?;
    let responsibility = Responsibility::parse(request.responsibility.trim()).ok_or_else(|| {
        ApiError::invalid(
            "responsibility",
            "责任类型须为 direct（直接责任）或 leadership（领导责任）",
        )
    })?;
    let sanction = Sanction::parse(request.sanction.trim()).ok_or_else(|| {
        ApiError::invalid(
            "sanction",
            format!(
                "处理方式须为以下之一：{}",
                Sanction::ALL
                    .iter()
                    .map(|s| format!("{}（{}）", s.key(), s.label()))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        )
    })?;
    let record = state
        .store
        .record_accountability(
            &user.0,
            NewAccountability {
                person_id: request.person_id,
                responsibility,
                sanction,
                basis: request.basis,
                card_id: request.card_id,
                case_id: request.case_id,
            },
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AccountabilityView::from(&record)),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/supervision/accountability", tag = "supervision",
    responses((status = 200, body = Vec<AccountabilityView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_accountability(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<Vec<AccountabilityView>>> {
    user.require_any(&[Role::Supervisor, Role::AuditAdmin])?;
    let all = state.store.accountability(None, None).await?;
    Ok(axum::Json(
        all.iter().map(AccountabilityView::from).collect(),
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TickView {
    pub today: Option<String>,
    pub examined: u64,
    pub issued: u64,
    pub card_ids: Vec<i64>,
    pub notices: u64,
    pub messages: u64,
    /// The cases accepted as of receipt because nobody decided on them
    /// within the acceptance window (art. 32).
    pub deemed_accepted: Vec<i64>,
}

impl From<&TickReport> for TickView {
    fn from(r: &TickReport) -> Self {
        TickView {
            today: r.today.map(|d| d.to_string()),
            examined: r.examined,
            issued: r.issued_total(),
            card_ids: r.card_ids.clone(),
            notices: r.notices,
            messages: r.messages,
            deemed_accepted: r.deemed_accepted.clone(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/supervision/tick", tag = "supervision",
    responses((status = 200, body = TickView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn tick(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<TickView>> {
    user.require(Role::Supervisor)?;
    let report = state
        .store
        .supervise(state.now(), &state.settings.alerts.channels())
        .await?;
    Ok(axum::Json(TickView::from(&report)))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub card_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub read: bool,
}

impl From<&Notice> for NoticeView {
    fn from(n: &Notice) -> Self {
        NoticeView {
            id: n.id,
            card_id: n.card_id,
            title: n.title.clone(),
            body: n.body.clone(),
            created_at: n.created_at.to_string(),
            read: n.read_at.is_some(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/notices", tag = "supervision",
    responses((status = 200, body = Vec<NoticeView>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn my_notices(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<Vec<NoticeView>>> {
    let notices = state.store.notices(user.0.id, 100).await?;
    Ok(axum::Json(notices.iter().map(NoticeView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/notices/{id}/read", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn read_notice(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.read_notice(user.0.id, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub message_id: String,
    pub channel: String,
    pub channel_label: String,
    pub card_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub address: String,
    pub subject: String,
    /// pending | sent | failed
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<&OutboxMessage> for MessageView {
    fn from(m: &OutboxMessage) -> Self {
        MessageView {
            id: m.id,
            message_id: m.message_id.clone(),
            channel: m.channel.key().into(),
            channel_label: m.channel.label().into(),
            card_id: m.card_id,
            staff_id: m.staff_id,
            address: m.address.clone(),
            subject: m.subject.clone(),
            state: m.state.clone(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at.to_string(),
            last_error: m.last_error.clone(),
            created_at: m.created_at.to_string(),
            sent_at: m.sent_at.map(|t| t.to_string()),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// pending | sent | failed
    pub state: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/outbox", tag = "supervision", params(OutboxQuery),
    responses((status = 200, body = Vec<MessageView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    user: StaffUser,
    Query(query): Query<OutboxQuery>,
) -> ApiResult<axum::Json<Vec<MessageView>>> {
    user.require_any(&[Role::Admin, Role::Supervisor])?;
    let wanted = query
        .state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(s) = wanted
        && !["pending", "sent", "failed"].contains(&s)
    {
        return Err(ApiError::invalid(
            "state",
            "状态须为 pending（待发送）、sent（已发送）或 failed（发送失败）",
        ));
    }
    let messages = state.store.messages(wanted, 500).await?;
    Ok(axum::Json(messages.iter().map(MessageView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/outbox/{id}/resend", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<MessageView>> {
    user.require(Role::Admin)?;
    let message = state
        .store
        .resend_message(user.0.id, id, state.now())
        .await?;
    Ok(axum::Json(MessageView::from(&message)))
}
