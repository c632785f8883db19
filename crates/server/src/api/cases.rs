//! Applications and cases: apply online or at the window, look up by number and
//! phone, the work queue, case detail, commands.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use onewindow_core::calendar::{WorkCalendar, civil_date};
use onewindow_core::case::{self, Applicant, Case, Channel, Command, allowed_actions};
use onewindow_core::staff::Role;
use onewindow_store::StoreError;
use onewindow_store::cases::{
    Applied, CaseEvent, CaseFilter, CaseMaterial, NewCase, Who, assignee_facts,
};
use onewindow_store::files::NewFile;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::idempotency::marked;
use crate::auth::{MaybeUser, StaffUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{IdempotencyHeader, Json, Path, Query};
use crate::upload::read_multipart;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplicantBody {
    pub name: String,
    /// 11-digit mobile number or fixed line with area code (0734-5822001).
    pub phone: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub organization: String,
}

impl From<ApplicantBody> for Applicant {
    fn from(a: ApplicantBody) -> Self {
        Applicant {
            name: a.name,
            phone: a.phone,
            id_number: a.id_number,
            organization: a.organization,
        }
    }
}

/// An application. Sent as JSON, or as multipart/form-data with this JSON in
/// a part named `application` and one file part per material, named
/// `material:<material name>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplicationRequest {
    pub item_id: i64,
    pub applicant: ApplicantBody,
    /// The application form: field name to value.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub action: String,
    pub action_label: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub to_state_label: String,
    pub actor_name: Option<String>,
    /// The absent A post holder when the B backup acted.
    pub on_behalf_name: Option<String>,
    pub at: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

fn action_label(key: &str) -> &'static str {
    use onewindow_core::case::Action as A;
    [
        A::Submit,
        A::Accept,
        A::Reject,
        A::RequestSupplement,
        A::Resubmit,
        A::CompleteStep,
        A::Decide,
        A::Deliver,
        A::Withdraw,
        A::Terminate,
        A::Suspend,
        A::Resume,
        A::Extend,
    ]
    .into_iter()
    .find(|a| a.key() == key)
    .map(|a| a.label())
    .unwrap_or(match key {
        "rate" => "评价",
        _ => "其他",
    })
}

impl From<&CaseEvent> for EventView {
    fn from(e: &CaseEvent) -> Self {
        EventView {
            action: e.action.clone(),
            action_label: action_label(&e.action).into(),
            from_state: e.from_state.map(|s| s.key().into()),
            to_state: e.to_state.key().into(),
            to_state_label: e.to_state.label().into(),
            actor_name: e.actor_name.clone(),
            on_behalf_name: e.on_behalf_name.clone(),
            at: e.at.to_string(),
            detail: e.detail.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MaterialView {
    pub material_name: String,
    pub file_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sm3: String,
}

impl From<&CaseMaterial> for MaterialView {
    fn from(m: &CaseMaterial) -> Self {
        MaterialView {
            material_name: m.material_name.clone(),
            file_id: m.file.id,
            file_name: m.file.name.clone(),
            content_type: m.file.content_type.clone(),
            size: m.file.size,
            sm3: m.file.sm3.clone(),
        }
    }
}

/// A case as staff see it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    /// The case number people read aloud: region code, date, sequence.
    pub number: String,
    pub item_id: i64,
    pub item_name: String,
    pub department_id: i64,
    /// online | window
    pub channel: String,
    pub applicant: ApplicantBody,
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    pub state: String,
    pub state_label: String,
    /// The step in progress (0-based) and its name.
    pub step_index: u32,
    pub current_step: Option<String>,
    pub received_on: String,
    pub supplement_requested: bool,
    /// Accepted by law after 5 working days without an answer (Administrative Licensing Law art. 32).
    pub deemed_accepted: bool,
    pub promised_due: Option<String>,
    pub statutory_due: Option<String>,
    /// Working days left to the promised deadline (negative: overdue).
    pub remaining_working_days: Option<i64>,
    pub paused_working_days: u32,
    pub outcome: Option<String>,
    pub assignee_id: Option<i64>,
    /// Send it back with a command to guard against acting on a stale page.
    pub version: i64,
    pub submitted_at: String,
    pub allowed_actions: Vec<String>,
    pub events: Vec<EventView>,
    pub materials: Vec<MaterialView>,
    /// The case's deadlines, each with how it was computed.
    pub deadlines: Vec<crate::api::calendar::DeadlineView>,
    /// Calendar changes that moved its deadlines.
    pub deadline_changes: Vec<crate::api::calendar::DeadlineChangeView>,
}

/// A case in a list.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    pub id: i64,
    pub number: String,
    pub item_id: i64,
    pub item_name: String,
    pub applicant_name: String,
    pub state: String,
    pub state_label: String,
    pub received_on: String,
    pub promised_due: Option<String>,
    pub remaining_working_days: Option<i64>,
    pub version: i64,
}

/// What the applicant sees when looking a case up.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicCaseView {
    pub number: String,
    pub item_name: String,
    pub department_name: String,
    pub state: String,
    pub state_label: String,
    pub received_on: String,
    pub promised_due: Option<String>,
    pub outcome: Option<String>,
    /// Actions the applicant may take now (withdraw, resubmit).
    pub allowed_actions: Vec<String>,
    pub timeline: Vec<PublicEvent>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicEvent {
    pub action_label: String,
    pub state_label: String,
    pub at: String,
    /// Reasons, the supplement list or the rights notice, where the step gave them.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

pub fn remaining_days(calendar: &dyn WorkCalendar, case: &Case, now: Timestamp) -> Option<i64> {
    if case.facts.state.is_closed() || case.facts.state == case::CaseState::Decided {
        return None;
    }
    case.facts
        .promised_due
        .map(|due| calendar.working_days_between(civil_date(now), due))
}

async fn item_name(state: &AppState, item_id: i64) -> String {
    state
        .store
        .item(item_id)
        .await
        .map(|i| i.guide.name)
        .unwrap_or_default()
}

pub async fn case_view(state: &AppState, case: Case) -> ApiResult<CaseView> {
    let item = state.store.item(case.item_id).await?;
    let events = state.store.case_events(case.id).await?;
    let materials = state.store.case_materials(case.id).await?;
    let (deadlines, deadline_changes) =
        crate::api::calendar::case_deadlines(state, case.id).await?;
    let remaining = remaining_days(state.calendar().as_ref(), &case, state.now());
    let f = &case.facts;
    Ok(CaseView {
        id: case.id,
        number: case.number.clone(),
        item_id: case.item_id,
        item_name: item.guide.name.clone(),
        department_id: case.department_id,
        channel: case.channel.key().into(),
        applicant: ApplicantBody {
            name: case.applicant.name.clone(),
            phone: case.applicant.phone.clone(),
            id_number: case.applicant.id_number.clone(),
            organization: case.applicant.organization.clone(),
        },
        form: case.form.clone(),
        state: f.state.key().into(),
        state_label: f.state.label().into(),
        step_index: f.step_index,
        current_step: item
            .guide
            .steps
            .get(f.step_index as usize)
            .filter(|_| f.state.clock_runs())
            .map(|s| s.name.clone()),
        received_on: f.received_on.to_string(),
        supplement_requested: f.supplement_requested,
        deemed_accepted: f.deemed_accepted,
        promised_due: f.promised_due.map(|d| d.to_string()),
        statutory_due: f.statutory_due.map(|d| d.to_string()),
        remaining_working_days: remaining,
        paused_working_days: f.paused_working_days,
        outcome: f.outcome.map(|o| o.label().into()),
        assignee_id: case.assignee_id,
        version: case.version,
        submitted_at: case.submitted_at.to_string(),
        allowed_actions: allowed_actions(f)
            .into_iter()
            .map(|a| a.key().to_string())
            .collect(),
        events: events.iter().map(EventView::from).collect(),
        materials: materials.iter().map(MaterialView::from).collect(),
        deadlines,
        deadline_changes,
    })
}

pub async fn summaries(state: &AppState, cases: &[Case]) -> ApiResult<Vec<CaseSummary>> {
    let now = state.now();
    let calendar = state.calendar();
    let mut names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(case.item_id) {
            slot.insert(item_name(state, case.item_id).await);
        }
        out.push(CaseSummary {
            id: case.id,
            number: case.number.clone(),
            item_id: case.item_id,
            item_name: names[&case.item_id].clone(),
            applicant_name: case.applicant.name.clone(),
            state: case.facts.state.key().into(),
            state_label: case.facts.state.label().into(),
            received_on: case.facts.received_on.to_string(),
            promised_due: case.facts.promised_due.map(|d| d.to_string()),
            remaining_working_days: remaining_days(calendar.as_ref(), case, now),
            version: case.version,
        });
    }
    Ok(out)
}

/// Whether a staff member sees every department's cases: the supervision
/// centre and the audit admin do; everyone else sees their own department's.
pub fn sees_all_departments(member: &onewindow_store::staff::StaffMember) -> bool {
    member.has(Role::Supervisor) || member.has(Role::AuditAdmin)
}

/// Whether a staff member may see a case: their own department's, or any for
/// those who see all departments.
pub fn can_view(user: &StaffUser, case: &Case) -> bool {
    user.0.department_id == case.department_id || sees_all_departments(&user.0)
}

async fn read_application(
    state: &AppState,
    request: Request,
) -> ApiResult<(ApplicationRequest, Vec<(String, NewFile)>)> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::invalid("body", format!("上传内容格式错误：{e}")))?;
        let parts = read_multipart(multipart, state.settings.max_upload_bytes).await?;
        let json = parts
            .application
            .ok_or_else(|| ApiError::invalid("application", "缺少申请内容（application 字段）"))?;
        let application: ApplicationRequest = serde_json::from_str(&json)
            .map_err(|e| ApiError::invalid("application", format!("申请内容格式错误：{e}")))?;
        Ok((application, parts.files))
    } else {
        let Json(application) = Json::<ApplicationRequest>::from_request(request, state).await?;
        Ok((application, Vec::new()))
    }
}

fn idempotency_digest_body(
    application: &ApplicationRequest,
    files: &[(String, NewFile)],
) -> serde_json::Value {
    let files: Vec<_> = files
        .iter()
        .map(|(m, f)| serde_json::json!([m, onewindow_core::audit::sm3_hex(&f.bytes)]))
        .collect();
    serde_json::json!({ "application": application, "files": files })
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    pub case_id: i64,
    pub number: String,
    pub state_label: String,
    pub received_on: String,
    pub message: String,
}

fn receipt(applied: &Applied) -> Receipt {
    Receipt {
        case_id: applied.case.id,
        number: applied.case.number.clone(),
        state_label: applied.case.facts.state.label().into(),
        received_on: applied.case.facts.received_on.to_string(),
        message: format!(
            "申请已提交，办件编号为{}。请凭办件编号和手机号码查询办理进度；窗口将在5个工作日内作出是否受理的决定。",
            applied.case.number
        ),
    }
}

/// Whose idempotency keys an applicant's request uses: those of their phone
/// number, so that two applicants who pick the same key do not meet.
fn applicant_scope(phone: &str) -> String {
    format!("applicant:{}", phone.trim())
}

#[utoipa::path(post, path = "/api/v1/applications", tag = "cases", request_body = ApplicationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat the POST with the same key to get the same answer once")),
    responses((status = 201, body = Receipt), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn apply(
    State(state): State<AppState>,
    idempotency: IdempotencyHeader,
    request: Request,
) -> ApiResult<Response> {
    let (application, files) = read_application(&state, request).await?;
    let key = idempotency.for_request(
        &applicant_scope(&application.applicant.phone),
        "/api/v1/applications",
        &idempotency_digest_body(&application, &files),
    );
    let applied = state
        .store
        .submit_case(
            NewCase {
                item_id: application.item_id,
                channel: Channel::Online,
                applicant: application.applicant.into(),
                form: application.form,
                materials: files,
                registered_by: None,
            },
            key,
            state.now(),
        )
        .await?;
    Ok(marked(
        applied.replayed,
        (StatusCode::CREATED, axum::Json(receipt(&applied))),
    ))
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = ApplicationRequest,
    responses((status = 201, body = CaseView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register_at_window(
    State(state): State<AppState>,
    user: StaffUser,
    idempotency: IdempotencyHeader,
    request: Request,
) -> ApiResult<Response> {
    user.require(Role::WindowClerk)?;
    let (application, files) = read_application(&state, request).await?;
    let key = idempotency.for_request(
        &user.scope(),
        "/api/v1/cases",
        &idempotency_digest_body(&application, &files),
    );
    let item = state
        .store
        .item(application.item_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound { .. } => ApiError::invalid("item_id", "所申请的事项不存在"),
            other => other.into(),
        })?;
    if item.department_id != user.0.department_id {
        return Err(ApiError::forbidden("只能登记本部门事项的申请"));
    }
    let applied = state
        .store
        .submit_case(
            NewCase {
                item_id: application.item_id,
                channel: Channel::Window,
                applicant: application.applicant.into(),
                form: application.form,
                materials: files,
                registered_by: Some(user.0.id),
            },
            key,
            state.now(),
        )
        .await?;
    Ok(marked(
        applied.replayed,
        (
            StatusCode::CREATED,
            axum::Json(case_view(&state, applied.case).await?),
        ),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct LookupQuery {
    pub number: String,
    pub phone: String,
}

pub async fn public_view(state: &AppState, case: &Case) -> ApiResult<PublicCaseView> {
    let item = state.store.item(case.item_id).await?;
    let department = state.store.department(case.department_id).await?;
    let events = state.store.case_events(case.id).await?;
    let applicant_actions: Vec<String> = allowed_actions(&case.facts)
        .into_iter()
        .filter(|a| matches!(a, case::Action::Withdraw | case::Action::Resubmit))
        .map(|a| a.key().to_string())
        .collect();
    Ok(PublicCaseView {
        number: case.number.clone(),
        item_name: item.guide.name,
        department_name: department.name,
        state: case.facts.state.key().into(),
        state_label: case.facts.state.label().into(),
        received_on: case.facts.received_on.to_string(),
        promised_due: case.facts.promised_due.map(|d| d.to_string()),
        outcome: case.facts.outcome.map(|o| o.label().into()),
        allowed_actions: applicant_actions,
        timeline: events
            .iter()
            .map(|e| PublicEvent {
                action_label: action_label(&e.action).into(),
                state_label: e.to_state.label().into(),
                at: e.at.to_string(),
                detail: public_detail(&e.detail),
            })
            .collect(),
    })
}

/// The parts of an event's detail the applicant is entitled to read.
fn public_detail(detail: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for key in [
        "reasons",
        "rights_notice",
        "items",
        "note",
        "method",
        "outcome",
        "procedure_label",
        "planned_days",
    ] {
        if let Some(v) = detail.get(key).filter(|v| !v.is_null() && *v != "") {
            out.insert(key.into(), v.clone());
        }
    }
    serde_json::Value::Object(out)
}

#[utoipa::path(get, path = "/api/v1/lookup", tag = "cases", params(LookupQuery),
    responses((status = 200, body = PublicCaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    Query(query): Query<LookupQuery>,
) -> ApiResult<axum::Json<PublicCaseView>> {
    if query.number.trim().is_empty() {
        return Err(ApiError::invalid("number", "请输入办件编号"));
    }
    if query.phone.trim().is_empty() {
        return Err(ApiError::invalid("phone", "请输入申请时填写的手机号码"));
    }
    let case = state.store.lookup_case(&query.number, &query.phone).await?;
    Ok(axum::Json(public_view(&state, &case).await?))
}

/// The applicant's rating of a completed case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RatingRequest {
    pub number: String,
    pub phone: String,
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub score: u8,
    /// Required for 2 and 1 (why).
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RatingView {
    pub score: u8,
    pub label: String,
    pub comment: String,
    pub rated_at: String,
}

impl From<&onewindow_store::ratings::RatingRecord> for RatingView {
    fn from(r: &onewindow_store::ratings::RatingRecord) -> Self {
        RatingView {
            score: r.score,
            label: r.label.clone(),
            comment: r.comment.clone(),
            rated_at: r.rated_at.to_string(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/lookup/rating", tag = "cases", request_body = RatingRequest,
    responses((status = 201, body = RatingView), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Json(request): Json<RatingRequest>,
) -> ApiResult<Response> {
    let record = state
        .store
        .rate_case(
            &request.number,
            &request.phone,
            onewindow_core::rating::Rating {
                score: request.score,
                comment: request.comment,
            },
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(RatingView::from(&record))).into_response())
}

/// A command by the applicant: withdraw, or resubmit after supplementing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplicantActionRequest {
    pub number: String,
    pub phone: String,
    /// `withdraw` (with optional `reason`) or `resubmit` (with optional `note`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub command: Command,
}

#[utoipa::path(post, path = "/api/v1/lookup/actions", tag = "cases", request_body = ApplicantActionRequest,
    responses((status = 200, body = PublicCaseView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn applicant_action(
    State(state): State<AppState>,
    idempotency: IdempotencyHeader,
    Json(request): Json<ApplicantActionRequest>,
) -> ApiResult<Response> {
    let key = idempotency.for_request(
        &applicant_scope(&request.phone),
        "/api/v1/lookup/actions",
        &request,
    );
    let applied = run_applicant_command(
        &state,
        &request.number,
        &request.phone,
        request.command,
        key,
    )
    .await?;
    Ok(marked(
        applied.replayed,
        axum::Json(public_view(&state, &applied.case).await?),
    ))
}

/// Applies a command of the applicant (withdraw, resubmit) to the case with
/// this number and phone. Shared by the API and the look-up page.
pub async fn run_applicant_command(
    state: &AppState,
    number: &str,
    phone: &str,
    command: Command,
    idempotency: Option<onewindow_store::idempotency::IdempotencyKey>,
) -> ApiResult<Applied> {
    if !command.by_applicant() {
        return Err(ApiError::forbidden("申请人只能撤回申请或补正后重新提交"));
    }
    let case = state.store.lookup_case(number, phone).await?;
    let now = state.now();
    let phone = phone.trim().to_string();
    let applied = state
        .store
        .apply_command(
            case.id,
            None,
            Who::Applicant,
            idempotency,
            now,
            move |ctx| {
                if ctx.case.applicant.phone != phone {
                    return Err(StoreError::not_found("case"));
                }
                let rules = ctx.item.guide.rules();
                let transition = case::decide(
                    &ctx.case.facts,
                    &command,
                    &rules,
                    ctx.calendar.as_ref(),
                    now,
                )?;
                Ok((transition, None))
            },
        )
        .await?;
    Ok(applied)
}

#[utoipa::path(get, path = "/api/v1/queue", tag = "cases",
    responses((status = 200, body = Vec<CaseSummary>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<Vec<CaseSummary>>> {
    let cases = state.store.queue(&user.0, 200).await?;
    Ok(axum::Json(summaries(&state, &cases).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct CaseQuery {
    pub department_id: Option<i64>,
    pub item_id: Option<i64>,
    /// A state key (submitted, handling…).
    pub state: Option<String>,
    /// Part of a case number or an applicant's name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CasePage {
    pub cases: Vec<CaseSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses((status = 200, body = CasePage), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    user: StaffUser,
    Query(query): Query<CaseQuery>,
) -> ApiResult<axum::Json<CasePage>> {
    let department_id = if sees_all_departments(&user.0) {
        query.department_id
    } else {
        Some(user.0.department_id)
    };
    let state_filter = match query.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            case::CaseState::parse(s)
                .ok_or_else(|| ApiError::invalid("state", format!("办件状态“{s}”不存在")))?,
        ),
        None => None,
    };
    let per_page = query.per_page.unwrap_or(50).clamp(1, 500);
    let page = query.page.unwrap_or(1).max(1);
    let filter = CaseFilter {
        department_id,
        item_id: query.item_id,
        state: state_filter,
        text: query.q,
        limit: per_page,
        offset: (page - 1) * per_page,
    };
    let (cases, total) = state.store.cases(&filter).await?;
    Ok(axum::Json(CasePage {
        cases: summaries(&state, &cases).await?,
        total,
        page,
        per_page,
    }))
}

async fn visible_case(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<Case> {
    let case = state.store.case(id).await?;
    if !can_view(user, &case) {
        // Another department's case reads as absent, as for the public look-up.
        return Err(ApiError::not_found("未找到该办件"));
    }
    Ok(case)
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<CaseView>> {
    let case = visible_case(&state, &user, id).await?;
    Ok(axum::Json(case_view(&state, case).await?))
}

/// A command on a case, e.g. `{"action": "accept", "opinion": "材料齐全", "version": 1}`.
/// Actions and their fields: accept {opinion}; reject {reasons, rights_notice};
/// request_supplement {items: [{material, problem}], note}; complete_step {opinion};
/// decide {outcome: approve|deny, opinion, reasons, rights_notice}; deliver {method};
/// terminate {reason}; suspend {procedure, reason, planned_days}; resume {note}.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommandRequest {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub command: Command,
    /// The case version the command was prepared on; a different current
    /// version refuses the command with 409 version_conflict.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Applies a staff command. Shared by the API and the pages.
pub async fn run_command(
    state: &AppState,
    user: &StaffUser,
    case_id: i64,
    request: CommandRequest,
    idempotency: &IdempotencyHeader,
) -> ApiResult<Applied> {
    visible_case(state, user, case_id).await?;
    let key = idempotency.for_request(
        &user.scope(),
        &format!("/api/v1/cases/{case_id}/actions"),
        &request,
    );
    let now = state.now();
    let actor = user.0.actor();
    let command = request.command;
    let applied = state
        .store
        .apply_command(
            case_id,
            request.version,
            Who::Staff(actor.staff_id),
            key,
            now,
            move |ctx| {
                let on_behalf = case::authorize(
                    &actor,
                    &command,
                    &ctx.case.facts,
                    &ctx.item.guide.steps,
                    ctx.case.department_id,
                    assignee_facts(&ctx.assignee),
                )
                .map_err(StoreError::Domain)?;
                let transition = case::decide(
                    &ctx.case.facts,
                    &command,
                    &ctx.item.guide.rules(),
                    ctx.calendar.as_ref(),
                    now,
                )
                .map_err(StoreError::Domain)?;
                Ok((transition, on_behalf))
            },
        )
        .await?;
    Ok(applied)
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", params(("id" = i64, Path)), request_body = CommandRequest,
    responses((status = 200, body = CaseView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    idempotency: IdempotencyHeader,
    Json(request): Json<CommandRequest>,
) -> ApiResult<Response> {
    let applied = run_command(&state, &user, id, request, &idempotency).await?;
    Ok(marked(
        applied.replayed,
        axum::Json(case_view(&state, applied.case).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_file(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    // A material handed in with a case is shown only to staff who may see the
    // case, an attachment to a card's answer only to those who may see the
    // card; other files (guide templates and samples) are public.
    if let Some(case_id) = state.store.case_of_file(id).await? {
        let user = user.0.map(StaffUser).ok_or_else(ApiError::unauthorized)?;
        visible_case(&state, &user, case_id).await?;
    } else if let Some(card_id) = state.store.card_of_file(id).await? {
        let user = user.0.map(StaffUser).ok_or_else(ApiError::unauthorized)?;
        crate::api::supervision::visible_card(&state, &user, card_id).await?;
    }
    let (info, bytes) = state.store.file(id).await?;
    let disposition = format!(
        "inline; filename*=UTF-8''{}",
        crate::auth::urlencode(&info.name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, info.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            // The type was checked from the content at upload: the browser
            // must not guess another.
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/files", tag = "admin",
    request_body(content = Vec<u8>, description = "multipart/form-data with one file part named `file`", content_type = "multipart/form-data"),
    responses((status = 201, body = FileView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_file(
    State(state): State<AppState>,
    user: StaffUser,
    mut multipart: Multipart,
) -> ApiResult<Response> {
    // Templates and samples for the catalog (admin), attachments to a
    // card's explanation, rectification report or appeal (the department).
    user.require_any(&[
        Role::Admin,
        Role::Handler,
        Role::Reviewer,
        Role::Approver,
        Role::WindowClerk,
    ])?;
    let field = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::invalid("file", format!("上传内容格式错误：{e}")))?
        .ok_or_else(|| ApiError::invalid("file", "请选择要上传的文件"))?;
    let name = field.file_name().unwrap_or("附件").to_string();
    let bytes = field.bytes().await.map_err(|e| {
        ApiError::invalid("file", format!("读取上传文件失败（可能超过大小上限）：{e}"))
    })?;
    let file = crate::upload::check_file(
        "file",
        &name,
        bytes.to_vec(),
        state.settings.max_upload_bytes,
    )?;
    let info = state.store.store_file(file, state.now()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FileView {
            id: info.id,
            name: info.name,
            content_type: info.content_type,
            size: info.size,
            sm3: info.sm3,
        }),
    )
        .into_response())
}

/// A stored file (a guide's form template or filled sample).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FileView {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sm3: String,
}
