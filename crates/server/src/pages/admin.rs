//! The administrator's pages: catalog editing with a preview of the public
//! guide, departments, windows, staff and their A/B backups, calendar overrides.
//!
//! Every handler checks the same roles as its JSON API counterpart
//! (`api::admin`, `api::calendar`): the system administrator for the catalog,
//! departments, windows, backups and the calendar; the system or the security
//! administrator for creating people, their roles and passwords (as
//! `create_staff` allows). Writes go through the same store calls as the API,
//! and a catalog change makes the public search rebuild its index, as there.
//! A refused form is shown again with what was typed and every problem named
//! in Chinese beside its field.

use std::collections::{BTreeMap, HashMap, HashSet};

use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use onewindow_core::FieldError;
use onewindow_core::calendar::{
    ChinaCalendar, DayKind, LimitUnit, OverrideKind, TimeLimit, WorkCalendar, civil_date,
};
use onewindow_core::catalog::{
    Fee, FieldKind, FormField, Guide, HandlingCategory, ItemStatus, ItemType, Material,
    RegionLevel, Step, Target,
};
use onewindow_core::staff::{Role, check_roles};
use onewindow_store::admin::{DepartmentChanges, StaffProfile};
use onewindow_store::catalog::{ItemFilter, ServiceItem};
use onewindow_store::clock::NewOverride;
use onewindow_store::staff::{Department, NewDepartment, NewStaff, StaffMember, Window};
use serde::Deserialize;

use super::{
    DoneQuery, Layout, SameOrigin, date_text, datetime_text, error_page, page_id, query_value,
    render, see_other,
};
use crate::AppState;
use crate::auth::{PageUser, StaffUser};
use crate::error::ApiError;
use crate::upload::check_file;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(hub))
        .route("/admin/items", get(items))
        .route("/admin/items/new", get(new_item).post(create_item))
        .route("/admin/items/{id}/edit", get(edit_item).post(save_item))
        .route("/admin/items/{id}/status", post(item_status))
        .route(
            "/admin/items/{id}/materials/{index}/files",
            post(material_file),
        )
        .route(
            "/admin/departments",
            get(departments).post(create_department),
        )
        .route(
            "/admin/departments/{id}",
            get(department_page).post(update_department),
        )
        .route("/admin/departments/{id}/windows", post(create_window))
        .route("/admin/departments/{id}/staff", post(create_staff))
        .route("/admin/windows/{id}", post(update_window))
        .route("/admin/staff/{id}", get(staff_page).post(update_staff))
        .route("/admin/staff/{id}/password", post(reset_password))
        .route("/admin/staff/{id}/backup", post(set_backup))
        .route("/admin/staff/{id}/absence", post(set_absence))
        .route("/admin/calendar", get(calendar).post(add_override))
        .route("/admin/calendar/{id}/revoke", post(revoke_override))
}

// ---------------------------------------------------------------------------
// Shared pieces.

/// A submitted form, every name with every value in order (checkbox groups
/// send a name several times).
type Pairs = Vec<(String, String)>;

/// The first value of `name` in a form, or "".
fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The record a page's address names, for a person with one of `roles`: its
/// id, or why not (403 for the person, 404 for a bad id).
fn admit(member: &StaffMember, roles: &[Role], id: &str, what: &str) -> Result<i64, ApiError> {
    allow(member, roles).and_then(|()| page_id(id, what))
}

fn fail(state: &AppState, member: &StaffMember, error: &ApiError) -> Response {
    error_page(state, Some(member.name.clone()), error)
}

/// Refuses a person without one of `roles`, with the API's 403 message.
fn allow(member: &StaffMember, roles: &[Role]) -> Result<(), ApiError> {
    let user = StaffUser(member.clone());
    match roles {
        [role] => user.require(*role),
        _ => user.require_any(roles),
    }
}

/// Who may create people and change their roles and passwords (as the API's
/// `create_staff`).
const PEOPLE: &[Role] = &[Role::Admin, Role::SecurityAdmin];

/// The Chinese name of a form field that a store or API error names.
fn field_name(field: &str) -> &'static str {
    match field {
        "code" => "编码",
        "name" => "名称",
        "level" => "层级",
        "parent_id" => "上级部门",
        "region_code" | "region" => "区划代码",
        "login" => "登录名",
        "password" => "密码",
        "roles" => "岗位",
        "email" => "电子邮箱",
        "phone" => "联系电话",
        "department_id" => "部门",
        "backup_id" => "B角",
        "absent" => "在岗状态",
        "date" => "日期",
        "kind" => "调整类型",
        "reason" => "原因",
        "status" => "状态",
        _ => "填写内容",
    }
}

/// A refused form: which form, the message, and the values typed into it.
#[derive(Debug, Default)]
struct Failure {
    form: String,
    message: String,
    field: Option<String>,
    typed: HashMap<String, String>,
}

impl Failure {
    fn new(form: &str, error: &ApiError, pairs: &Pairs) -> Failure {
        let message = match &error.field {
            Some(field) if field_name(field) != "填写内容" => {
                format!("{}：{}", field_name(field), error.message)
            }
            _ => error.message.clone(),
        };
        Failure {
            form: form.to_string(),
            message,
            field: error.field.clone(),
            typed: pairs
                .iter()
                .filter(|(k, _)| !k.contains("password"))
                .cloned()
                .collect(),
        }
    }
}

/// What pages with several forms share: the refused form, if any, and a
/// notice of what was just done.
#[derive(Debug, Default)]
struct FormState {
    failure: Option<Failure>,
    flash: Option<String>,
}

impl FormState {
    /// The message of `form` when it was the one refused.
    fn failure_of(&self, form: &str) -> Option<&str> {
        self.failure
            .as_ref()
            .filter(|f| f.form == form)
            .map(|f| f.message.as_str())
    }

    /// What was typed into `name` of `form` when it was refused, else `default`.
    fn typed<'a>(&'a self, form: &str, name: &str, default: &'a str) -> &'a str {
        match &self.failure {
            Some(f) if f.form == form => f.typed.get(name).map(String::as_str).unwrap_or(""),
            _ => default,
        }
    }

    /// Whether the refused form's error names `field` of `form`.
    fn bad(&self, form: &str, field: &str) -> bool {
        self.failure
            .as_ref()
            .is_some_and(|f| f.form == form && f.field.as_deref() == Some(field))
    }
}

/// The pages' notices after a redirect (`?done=key`).
fn flash_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "事项已创建（草稿）。发布后公众方可查询和申请。",
        "saved" => "办事指南已保存。",
        "published" => "事项已发布，公众可在办事服务中查到并申请。",
        "suspended" => "事项已暂停办理，公众仍可查看指南，但不能提交新申请。",
        "draft" => "事项已退回草稿。",
        "file" => "文件已上传，办事指南页面已提供下载。",
        "file_removed" => "文件已删除。",
        "department" => "部门已创建。",
        "department_saved" => "部门信息已保存。",
        "window" => "窗口已保存。",
        "staff" => "工作人员已创建，可用所设密码登录。",
        "profile" => "人员信息已保存。",
        "profile_handed_on" => {
            "人员信息已保存。该人员岗位变动后不能再办理的在办件，已转交本部门相应岗位人员办理。"
        }
        "password" => "密码已重置，该人员已在所有设备上退出登录，需用新密码重新登录。",
        "backup" => "B角设置已保存。",
        "absent" => "已登记不在岗，其待办工作由B角办理。",
        "present" => "已登记返岗。",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// The hub.

#[derive(Template)]
#[template(path = "admin.html")]
struct HubPage {
    layout: Layout,
    drafts: i64,
    published: i64,
    suspended: i64,
    departments: usize,
    staff: usize,
    absent: usize,
    overrides: usize,
    upcoming_overrides: usize,
}

async fn count_items(state: &AppState, status: ItemStatus) -> Result<i64, ApiError> {
    let filter = ItemFilter {
        status: Some(status),
        limit: 1,
        ..ItemFilter::default()
    };
    Ok(state.store.items(&filter).await?.1)
}

pub async fn hub(State(state): State<AppState>, PageUser(member): PageUser) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let page = async {
        let staff = state.store.staff(None).await?;
        let today = civil_date(state.now());
        let overrides = state.store.overrides().await?;
        let in_force: Vec<_> = overrides
            .iter()
            .filter(|o| o.revoked_at.is_none())
            .collect();
        Ok::<_, ApiError>(HubPage {
            layout: Layout::new(&state, "系统管理", "work", Some(member.name.clone())),
            drafts: count_items(&state, ItemStatus::Draft).await?,
            published: count_items(&state, ItemStatus::Published).await?,
            suspended: count_items(&state, ItemStatus::Suspended).await?,
            departments: state.store.departments().await?.len(),
            absent: staff.iter().filter(|s| s.absent).count(),
            staff: staff.len(),
            overrides: in_force.len(),
            upcoming_overrides: in_force.iter().filter(|o| o.day.date >= today).count(),
        })
    }
    .await;
    match page {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => fail(&state, &member, &e),
    }
}

// ---------------------------------------------------------------------------
// The catalog list.

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ItemQuery {
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    done: String,
}

impl ItemQuery {
    fn link(&self, page: i64) -> String {
        format!(
            "/admin/items?department_id={}&status={}&q={}&page={page}",
            query_value(&self.department_id),
            query_value(&self.status),
            query_value(&self.q)
        )
    }

    fn department_is(&self, id: &i64) -> bool {
        self.department_id.trim() == id.to_string()
    }
}

pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub department: String,
    pub category: &'static str,
    pub promised: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub updated_at: String,
    pub actions: Vec<(&'static str, &'static str)>,
}

/// The status changes offered for an item in `status`: (new status, button).
fn status_actions(status: ItemStatus) -> Vec<(&'static str, &'static str)> {
    match status {
        ItemStatus::Draft => vec![("published", "发布")],
        ItemStatus::Published => vec![("suspended", "暂停")],
        ItemStatus::Suspended => vec![("published", "恢复"), ("draft", "退回草稿")],
    }
}

#[derive(Template)]
#[template(path = "admin_items.html")]
struct ItemsPage {
    layout: Layout,
    q: ItemQuery,
    departments: Vec<(i64, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<ItemRow>,
    total: i64,
    back: String,
    prev: Option<String>,
    next: Option<String>,
    error: Option<String>,
    flash: Option<&'static str>,
}

const PER_PAGE: i64 = 50;

pub async fn items(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(query): Query<ItemQuery>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    match items_page(&state, &member, query).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => fail(&state, &member, &e),
    }
}

async fn items_page(
    state: &AppState,
    member: &StaffMember,
    query: ItemQuery,
) -> Result<ItemsPage, ApiError> {
    let departments = state.store.departments().await?;
    let names: HashMap<i64, String> = departments.iter().map(|d| (d.id, d.name.clone())).collect();
    let mut error = None;
    let department_id = match query.department_id.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                error = Some("筛选条件有误：部门编号无效".to_string());
                None
            }
        },
    };
    let status = match query.status.trim() {
        "" => None,
        text => ItemStatus::parse(text).or_else(|| {
            error = Some("筛选条件有误：状态无效".to_string());
            None
        }),
    };
    // Bounded, so that the offset and `page * PER_PAGE` cannot overflow.
    let page = query
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let filter = ItemFilter {
        text: Some(query.q.trim().to_string()).filter(|q| !q.is_empty()),
        department_id,
        status,
        category: None,
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    let (found, total) = state.store.items(&filter).await?;
    let rows = found
        .iter()
        .map(|item| ItemRow {
            id: item.id,
            name: item.guide.name.clone(),
            code: item.guide.code.clone(),
            department: names.get(&item.department_id).cloned().unwrap_or_default(),
            category: item.guide.category.label(),
            promised: item.guide.promised_limit.label(),
            status: item.status.key(),
            status_label: item.status.label(),
            updated_at: datetime_text(item.updated_at),
            actions: status_actions(item.status),
        })
        .collect();
    Ok(ItemsPage {
        layout: Layout::new(state, "事项管理", "work", Some(member.name.clone())),
        departments: departments.into_iter().map(|d| (d.id, d.name)).collect(),
        statuses: ItemStatus::ALL
            .iter()
            .map(|s| (s.key(), s.label()))
            .collect(),
        rows,
        total,
        back: query.link(page),
        prev: (page > 1).then(|| query.link(page - 1)),
        next: (page * PER_PAGE < total).then(|| query.link(page + 1)),
        error,
        flash: flash_text(&query.done),
        q: query,
    })
}

// ---------------------------------------------------------------------------
// The guide form.

/// Rows a table may have: more are ignored.
const MAX_ROWS: usize = 200;
/// Blank rows shown under each table, and how many "more rows" adds.
const BLANK_ROWS: usize = 3;
const MAX_BLANK_ROWS: usize = 30;

/// A row of the materials table as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaterialInput {
    pub name: String,
    pub required: bool,
    pub originals: String,
    pub copies: String,
    pub reason: String,
    /// Kept from the stored guide (files are attached by `material_file`).
    pub template_file: String,
    pub sample_file: String,
}

impl MaterialInput {
    fn blank() -> Self {
        MaterialInput {
            required: true,
            originals: "1".into(),
            copies: "0".into(),
            ..MaterialInput::default()
        }
    }
    fn is_blank(&self) -> bool {
        self.name.trim().is_empty() && self.reason.trim().is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeeInput {
    pub name: String,
    pub standard: String,
    /// In yuan, as typed.
    pub amount: String,
    pub lower_bound: String,
    pub basis: String,
}

impl FeeInput {
    fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.standard,
            &self.amount,
            &self.lower_bound,
            &self.basis,
        ]
        .iter()
        .all(|t| t.trim().is_empty())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepInput {
    pub name: String,
    pub role: String,
    pub limit_days: String,
}

impl StepInput {
    fn blank() -> Self {
        StepInput {
            role: Role::Handler.key().into(),
            ..StepInput::default()
        }
    }
    fn is_blank(&self) -> bool {
        self.name.trim().is_empty() && self.limit_days.trim().is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldInput {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    /// One option a line.
    pub options: String,
    pub hint: String,
}

impl FieldInput {
    fn blank() -> Self {
        FieldInput {
            kind: FieldKind::Text.key().into(),
            required: true,
            ..FieldInput::default()
        }
    }
    fn is_blank(&self) -> bool {
        [&self.key, &self.label, &self.options, &self.hint]
            .iter()
            .all(|t| t.trim().is_empty())
    }
}

/// The guide form as typed: every value a string, so that a refused form
/// comes back exactly as it was sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuideInput {
    pub department_id: String,
    pub version: String,
    pub blank_rows: usize,
    pub name: String,
    pub code: String,
    pub implementing_code: String,
    pub item_type: String,
    pub category: String,
    pub target: String,
    pub statutory_amount: String,
    pub statutory_unit: String,
    pub promised_amount: String,
    pub promised_unit: String,
    pub legal_basis: String,
    /// One a line.
    pub conditions: String,
    pub visits: String,
    pub location: String,
    pub office_hours: String,
    pub contact_phone: String,
    pub complaint_phone: String,
    pub aliases: String,
    pub life_events: String,
    pub materials: Vec<MaterialInput>,
    pub fees: Vec<FeeInput>,
    pub steps: Vec<StepInput>,
    pub fields: Vec<FieldInput>,
}

/// `materials[3].name` as ("materials", 3, "name").
fn row_key(key: &str) -> Option<(&str, usize, &str)> {
    let (table, rest) = key.split_once('[')?;
    let (index, field) = rest.split_once("].")?;
    let index: usize = index.parse().ok()?;
    (index < MAX_ROWS).then_some((table, index, field))
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// An amount in yuan as typed (80, 80.5, 80.50元) in fen; empty is 0.
fn parse_yuan(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('元').trim();
    if text.is_empty() {
        return Some(0);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 9
        || !digits(whole)
        || fraction.len() > 2
        || !digits(fraction)
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    Some(whole * 100 + cents)
}

/// Fen as yuan for an input: 8050 -> "80.50", 8000 -> "80".
fn yuan_input(fen: i64) -> String {
    if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        format!("{}.{:02}", fen / 100, (fen % 100).abs())
    }
}

/// A whole number typed into `field` (`what` names it in the message);
/// empty is 0 where `empty_ok`.
fn count(errors: &mut Vec<FieldError>, text: &str, field: &str, empty_ok: bool, what: &str) -> u32 {
    let text = text.trim();
    if text.is_empty() && empty_ok {
        return 0;
    }
    match text.parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            let message = if text.is_empty() {
                format!("请填写{what}")
            } else {
                format!("{what}须填写不小于0的整数")
            };
            errors.push(FieldError::new(field, message));
            0
        }
    }
}

/// A choice from a list, or the problem with it.
fn choice<T>(
    errors: &mut Vec<FieldError>,
    parsed: Option<T>,
    field: &str,
    message: &str,
) -> Option<T> {
    if parsed.is_none() {
        errors.push(FieldError::new(field, message));
    }
    parsed
}

/// An amount in yuan typed into `field`, in fen.
fn money(errors: &mut Vec<FieldError>, text: &str, field: &str) -> i64 {
    parse_yuan(text).unwrap_or_else(|| {
        errors.push(FieldError::new(
            field,
            "金额须为不小于0的数字，单位元，最多两位小数，如80或12.50",
        ));
        0
    })
}

impl GuideInput {
    /// A new item's form: the usual choices made, every list blank.
    fn blank() -> GuideInput {
        GuideInput {
            blank_rows: BLANK_ROWS,
            item_type: ItemType::License.key().into(),
            category: HandlingCategory::Promised.key().into(),
            target: Target::Personal.key().into(),
            statutory_unit: LimitUnit::WorkingDays.key().into(),
            promised_unit: LimitUnit::WorkingDays.key().into(),
            visits: "1".into(),
            office_hours: "工作日 上午8:30-12:00，下午14:30-17:30（法定节假日除外）".into(),
            complaint_phone: "12345".into(),
            ..GuideInput::default()
        }
    }

    fn of(guide: &Guide, department_id: i64, version: i64) -> GuideInput {
        let file = |f: Option<i64>| f.map(|f| f.to_string()).unwrap_or_default();
        GuideInput {
            department_id: department_id.to_string(),
            version: version.to_string(),
            blank_rows: BLANK_ROWS,
            name: guide.name.clone(),
            code: guide.code.clone(),
            implementing_code: guide.implementing_code.clone(),
            item_type: guide.item_type.key().into(),
            category: guide.category.key().into(),
            target: guide.target.key().into(),
            statutory_amount: guide.statutory_limit.amount.to_string(),
            statutory_unit: guide.statutory_limit.unit.key().into(),
            promised_amount: guide.promised_limit.amount.to_string(),
            promised_unit: guide.promised_limit.unit.key().into(),
            legal_basis: guide.legal_basis.clone(),
            conditions: guide.conditions.join("\n"),
            visits: guide.visits.to_string(),
            location: guide.location.clone(),
            office_hours: guide.office_hours.clone(),
            contact_phone: guide.contact_phone.clone(),
            complaint_phone: guide.complaint_phone.clone(),
            aliases: guide.aliases.join("\n"),
            life_events: guide.life_events.join("\n"),
            materials: guide
                .materials
                .iter()
                .map(|m| MaterialInput {
                    name: m.name.clone(),
                    required: m.required,
                    originals: m.originals.to_string(),
                    copies: m.copies.to_string(),
                    reason: m.reason.clone(),
                    template_file: file(m.template_file),
                    sample_file: file(m.sample_file),
                })
                .collect(),
            fees: guide
                .fees
                .iter()
                .map(|f| FeeInput {
                    name: f.name.clone(),
                    standard: f.standard.clone(),
                    amount: yuan_input(f.amount_fen),
                    lower_bound: yuan_input(f.lower_bound_fen),
                    basis: f.legal_basis.clone(),
                })
                .collect(),
            steps: guide
                .steps
                .iter()
                .map(|s| StepInput {
                    name: s.name.clone(),
                    role: s.role.key().into(),
                    limit_days: s.limit_days.to_string(),
                })
                .collect(),
            fields: guide
                .form_fields
                .iter()
                .map(|f| FieldInput {
                    key: f.key.clone(),
                    label: f.label.clone(),
                    kind: f.kind.key().into(),
                    required: f.required,
                    options: f.options.join("\n"),
                    hint: f.hint.clone(),
                })
                .collect(),
        }
    }

    /// Reads the submitted form. Rows come in index order; blank rows are
    /// left out.
    fn from_pairs(pairs: &Pairs) -> GuideInput {
        let mut input = GuideInput {
            blank_rows: value(pairs, "blank_rows")
                .trim()
                .parse()
                .unwrap_or(BLANK_ROWS)
                .clamp(1, MAX_BLANK_ROWS),
            ..GuideInput::default()
        };
        let mut materials: BTreeMap<usize, MaterialInput> = BTreeMap::new();
        let mut fees: BTreeMap<usize, FeeInput> = BTreeMap::new();
        let mut steps: BTreeMap<usize, StepInput> = BTreeMap::new();
        let mut fields: BTreeMap<usize, FieldInput> = BTreeMap::new();
        for (key, text) in pairs {
            let text = text.clone();
            if let Some((table, index, field)) = row_key(key) {
                match table {
                    "materials" => {
                        let row = materials.entry(index).or_default();
                        match field {
                            "name" => row.name = text,
                            "required" => row.required = true,
                            "originals" => row.originals = text,
                            "copies" => row.copies = text,
                            "reason" => row.reason = text,
                            "template_file" => row.template_file = text,
                            "sample_file" => row.sample_file = text,
                            _ => {}
                        }
                    }
                    "fees" => {
                        let row = fees.entry(index).or_default();
                        match field {
                            "name" => row.name = text,
                            "standard" => row.standard = text,
                            "amount_fen" => row.amount = text,
                            "lower_bound_fen" => row.lower_bound = text,
                            "legal_basis" => row.basis = text,
                            _ => {}
                        }
                    }
                    "steps" => {
                        let row = steps.entry(index).or_default();
                        match field {
                            "name" => row.name = text,
                            "role" => row.role = text,
                            "limit_days" => row.limit_days = text,
                            _ => {}
                        }
                    }
                    "form_fields" => {
                        let row = fields.entry(index).or_default();
                        match field {
                            "key" => row.key = text,
                            "label" => row.label = text,
                            "kind" => row.kind = text,
                            "required" => row.required = true,
                            "options" => row.options = text,
                            "hint" => row.hint = text,
                            _ => {}
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let slot = match key.as_str() {
                "department_id" => &mut input.department_id,
                "version" => &mut input.version,
                "name" => &mut input.name,
                "code" => &mut input.code,
                "implementing_code" => &mut input.implementing_code,
                "item_type" => &mut input.item_type,
                "category" => &mut input.category,
                "target" => &mut input.target,
                "statutory_amount" => &mut input.statutory_amount,
                "statutory_unit" => &mut input.statutory_unit,
                "promised_amount" => &mut input.promised_amount,
                "promised_unit" => &mut input.promised_unit,
                "legal_basis" => &mut input.legal_basis,
                "conditions" => &mut input.conditions,
                "visits" => &mut input.visits,
                "location" => &mut input.location,
                "office_hours" => &mut input.office_hours,
                "contact_phone" => &mut input.contact_phone,
                "complaint_phone" => &mut input.complaint_phone,
                "aliases" => &mut input.aliases,
                "life_events" => &mut input.life_events,
                _ => continue,
            };
            *slot = text;
        }
        input.materials = materials.into_values().filter(|r| !r.is_blank()).collect();
        input.fees = fees.into_values().filter(|r| !r.is_blank()).collect();
        input.steps = steps.into_values().filter(|r| !r.is_blank()).collect();
        input.fields = fields.into_values().filter(|r| !r.is_blank()).collect();
        input
    }

    /// Keeps only the files that `stored` (the item as saved, None for a new
    /// one) names: files are attached through the upload forms, never by an
    /// id typed into the guide form, which could name any stored file.
    fn keep_files_of(&mut self, stored: Option<&Guide>) {
        let known: HashSet<String> = stored
            .into_iter()
            .flat_map(|g| &g.materials)
            .flat_map(|m| [m.template_file, m.sample_file])
            .flatten()
            .map(|id| id.to_string())
            .collect();
        for m in &mut self.materials {
            for file in [&mut m.template_file, &mut m.sample_file] {
                if !known.contains(file.trim()) {
                    file.clear();
                }
            }
        }
    }

    /// The guide typed, with the problems reading it (numbers, choices);
    /// what cannot be read takes a neutral value so that the guide's own
    /// checks still run on the rest.
    fn read(&self) -> (Guide, Vec<FieldError>) {
        let mut errors = Vec::new();
        let e = &mut errors;
        let statutory = count(
            e,
            &self.statutory_amount,
            "statutory_limit",
            false,
            "法定时限天数",
        );
        let promised = count(
            e,
            &self.promised_amount,
            "promised_limit",
            false,
            "承诺时限天数",
        );
        let statutory_unit = choice(
            e,
            LimitUnit::parse(self.statutory_unit.trim()),
            "statutory_limit",
            "请选择法定时限的单位",
        )
        .unwrap_or(LimitUnit::WorkingDays);
        let promised_unit = choice(
            e,
            LimitUnit::parse(self.promised_unit.trim()),
            "promised_limit",
            "请选择承诺时限的单位",
        )
        .unwrap_or(LimitUnit::WorkingDays);
        let item_type = choice(
            e,
            ItemType::parse(&self.item_type),
            "item_type",
            "请选择事项类型",
        )
        .unwrap_or(ItemType::Other);
        let category = choice(
            e,
            HandlingCategory::parse(&self.category),
            "category",
            "请选择办件类型",
        )
        .unwrap_or(HandlingCategory::Promised);
        let target = choice(e, Target::parse(&self.target), "target", "请选择服务对象")
            .unwrap_or(Target::Both);
        let mut materials = Vec::new();
        for (i, m) in self.materials.iter().enumerate() {
            materials.push(Material {
                name: m.name.trim().to_string(),
                required: m.required,
                originals: count(
                    e,
                    &m.originals,
                    &format!("materials[{i}].originals"),
                    true,
                    "原件份数",
                ),
                copies: count(
                    e,
                    &m.copies,
                    &format!("materials[{i}].copies"),
                    true,
                    "复印件份数",
                ),
                reason: m.reason.trim().to_string(),
                template_file: m.template_file.trim().parse().ok(),
                sample_file: m.sample_file.trim().parse().ok(),
            });
        }
        let mut fees = Vec::new();
        for (i, f) in self.fees.iter().enumerate() {
            fees.push(Fee {
                name: f.name.trim().to_string(),
                standard: f.standard.trim().to_string(),
                amount_fen: money(e, &f.amount, &format!("fees[{i}].amount_fen")),
                lower_bound_fen: money(e, &f.lower_bound, &format!("fees[{i}].lower_bound_fen")),
                legal_basis: f.basis.trim().to_string(),
            });
        }
        let mut steps = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let role = Role::parse(s.role.trim())
                .filter(|r| matches!(r, Role::Handler | Role::Reviewer | Role::Approver));
            steps.push(Step {
                name: s.name.trim().to_string(),
                role: choice(
                    e,
                    role,
                    &format!("steps[{i}].role"),
                    "环节岗位只能是承办、审核或批准",
                )
                .unwrap_or(Role::Handler),
                limit_days: count(
                    e,
                    &s.limit_days,
                    &format!("steps[{i}].limit_days"),
                    false,
                    "环节时限（工作日）",
                ),
            });
        }
        let mut form_fields = Vec::new();
        for (i, f) in self.fields.iter().enumerate() {
            form_fields.push(FormField {
                key: f.key.trim().to_string(),
                label: f.label.trim().to_string(),
                kind: choice(
                    e,
                    FieldKind::parse(&f.kind),
                    &format!("form_fields[{i}].kind"),
                    "请选择字段类型",
                )
                .unwrap_or(FieldKind::Text),
                required: f.required,
                options: lines(&f.options),
                hint: f.hint.trim().to_string(),
            });
        }
        let visits = count(e, &self.visits, "visits", false, "到办事现场次数");
        let guide = Guide {
            name: self.name.trim().to_string(),
            code: self.code.trim().to_string(),
            implementing_code: self.implementing_code.trim().to_string(),
            item_type,
            category,
            target,
            statutory_limit: TimeLimit {
                amount: statutory,
                unit: statutory_unit,
            },
            promised_limit: TimeLimit {
                amount: promised,
                unit: promised_unit,
            },
            legal_basis: self.legal_basis.trim().to_string(),
            conditions: lines(&self.conditions),
            materials,
            fees,
            steps,
            visits,
            location: self.location.trim().to_string(),
            office_hours: self.office_hours.trim().to_string(),
            contact_phone: self.contact_phone.trim().to_string(),
            complaint_phone: self.complaint_phone.trim().to_string(),
            aliases: lines(&self.aliases),
            life_events: lines(&self.life_events),
            form_fields,
        };
        (guide, errors)
    }

    /// The guide, or every problem at once: reading the form first, then the
    /// guide's own rules (`Guide::validate`) for what reading did not name.
    fn check(&self) -> (Guide, Vec<FieldError>) {
        let (guide, mut errors) = self.read();
        if let Err(more) = guide.validate() {
            let named: HashSet<String> = errors.iter().map(|e| e.field.clone()).collect();
            errors.extend(more.into_iter().filter(|e| !named.contains(&e.field)));
        }
        errors.sort_by_key(|e| form_position(&e.field));
        (guide, errors)
    }
}

/// Where a field comes in the form, so that the problems read top to bottom.
fn form_position(path: &str) -> (usize, usize, usize) {
    const ORDER: &[&str] = &[
        "department_id",
        "name",
        "code",
        "implementing_code",
        "item_type",
        "category",
        "target",
        "legal_basis",
        "statutory_limit",
        "promised_limit",
        "visits",
        "conditions",
        "materials",
        "fees",
        "steps",
        "form_fields",
        "location",
        "office_hours",
        "contact_phone",
        "complaint_phone",
        "aliases",
        "life_events",
    ];
    const COLUMNS: &[&str] = &[
        "name",
        "label",
        "key",
        "kind",
        "required",
        "originals",
        "copies",
        "standard",
        "amount_fen",
        "lower_bound_fen",
        "role",
        "limit_days",
        "reason",
        "options",
        "hint",
        "legal_basis",
    ];
    let rank =
        |list: &[&str], name: &str| list.iter().position(|n| *n == name).unwrap_or(list.len());
    match row_key(path) {
        // A table's own problem (empty, too long in sum) before its rows.
        Some((table, index, column)) => (rank(ORDER, table), index + 1, rank(COLUMNS, column)),
        None => (rank(ORDER, path), 0, 0),
    }
}

/// The Chinese name of a guide field, e.g. `materials[1].name` ->
/// 申请材料第2行“材料名称”.
fn guide_field_label(path: &str) -> String {
    let single = |field: &str| -> &'static str {
        match field {
            "department_id" => "实施部门",
            "name" => "事项名称",
            "code" => "事项编码",
            "implementing_code" => "实施编码",
            "item_type" => "事项类型",
            "category" => "办件类型",
            "target" => "服务对象",
            "statutory_limit" => "法定时限",
            "promised_limit" => "承诺时限",
            "legal_basis" => "设定依据",
            "conditions" => "受理条件",
            "materials" => "申请材料",
            "fees" => "收费",
            "steps" => "办理环节",
            "form_fields" => "申请表字段",
            "visits" => "到办事现场次数",
            "location" => "办理地点",
            "office_hours" => "办理时间",
            "contact_phone" => "咨询电话",
            "complaint_phone" => "投诉电话",
            "aliases" => "别名",
            "life_events" => "生活事件",
            "version" => "版本",
            _ => "填写内容",
        }
    };
    let Some((table, index, field)) = row_key(path) else {
        return single(path).to_string();
    };
    let column = match (table, field) {
        ("materials", "name") => "材料名称",
        ("materials", "originals") => "原件份数",
        ("materials", "copies") => "复印件份数",
        ("materials", "reason") => "用途或依据",
        ("fees", "name") => "收费项目",
        ("fees", "standard") => "收费标准",
        ("fees", "amount_fen") => "金额",
        ("fees", "lower_bound_fen") => "下限",
        ("fees", "legal_basis") => "收费依据",
        ("steps", "name") => "环节名称",
        ("steps", "role") => "岗位",
        ("steps", "limit_days") => "时限",
        ("form_fields", "key") => "字段标识",
        ("form_fields", "label") => "字段名称",
        ("form_fields", "kind") => "类型",
        ("form_fields", "options") => "选项",
        ("form_fields", "hint") => "填写说明",
        _ => "",
    };
    format!("{}第{}行“{}”", single(table), index + 1, column)
}

/// The id of the input a guide error is about, for the links of the
/// summary at the top.
fn guide_anchor(path: &str) -> String {
    if let Some((table, index, field)) = row_key(path) {
        return format!("{table}-{index}-{field}");
    }
    match path {
        "statutory_limit" => "g-statutory_amount".into(),
        "promised_limit" => "g-promised_amount".into(),
        "materials" | "fees" | "steps" | "form_fields" => format!("{path}-section"),
        _ => format!("g-{path}"),
    }
}

/// A problem as the summary lists it.
pub struct Problem {
    pub label: String,
    pub message: String,
    pub anchor: String,
}

#[derive(Template)]
#[template(path = "admin_item.html")]
struct ItemFormPage {
    layout: Layout,
    /// None for a new item.
    item_id: Option<i64>,
    status: Option<ItemStatus>,
    status_actions: Vec<(&'static str, &'static str)>,
    department: String,
    departments: Vec<(i64, String)>,
    form: GuideInput,
    materials: Vec<(usize, MaterialInput)>,
    fees: Vec<(usize, FeeInput)>,
    steps: Vec<(usize, StepInput)>,
    fields: Vec<(usize, FieldInput)>,
    problems: Vec<Problem>,
    errors: HashMap<String, String>,
    notice: Option<String>,
    flash: Option<&'static str>,
    /// The stored item's materials with their blank forms and samples.
    files: Vec<MaterialFiles>,
    /// The largest upload, in MB.
    max_upload_mb: usize,
    item_types: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    targets: Vec<(&'static str, &'static str)>,
    units: Vec<(&'static str, &'static str)>,
    step_roles: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    visit_choices: Vec<(&'static str, &'static str)>,
}

impl ItemFormPage {
    /// Whether the item has a public page (published or suspended).
    fn is_public(&self) -> bool {
        self.status.is_some_and(|s| s != ItemStatus::Draft)
    }

    fn err(&self, path: &str) -> Option<&str> {
        self.errors.get(path).map(String::as_str)
    }

    fn row_err(&self, table: &str, index: &usize, field: &str) -> Option<&str> {
        self.err(&format!("{table}[{index}].{field}"))
    }

    fn department_is(&self, id: &i64) -> bool {
        self.form.department_id.trim() == id.to_string()
    }
}

/// The rows of a table: those typed, then `blank` empty ones.
fn with_blanks<T: Clone>(rows: &[T], blank: usize, empty: T) -> Vec<(usize, T)> {
    rows.iter()
        .cloned()
        .chain(std::iter::repeat_n(empty, blank))
        .enumerate()
        .collect()
}

struct FormContext<'a> {
    item: Option<&'a ServiceItem>,
    department: Option<&'a Department>,
    departments: Vec<Department>,
}

fn item_form_page(
    state: &AppState,
    member: &StaffMember,
    context: &FormContext<'_>,
    form: GuideInput,
    errors: Vec<FieldError>,
    notice: Option<String>,
    flash: Option<&'static str>,
) -> ItemFormPage {
    let blank = form.blank_rows;
    let mut error_map: HashMap<String, String> = HashMap::new();
    for e in &errors {
        error_map
            .entry(e.field.clone())
            .and_modify(|m| {
                m.push('；');
                m.push_str(&e.message);
            })
            .or_insert_with(|| e.message.clone());
    }
    let title = match context.item {
        Some(item) => format!("编辑事项：{}", item.guide.name),
        None => "新增事项".to_string(),
    };
    ItemFormPage {
        layout: Layout::new(state, title, "work", Some(member.name.clone())),
        item_id: context.item.map(|i| i.id),
        status: context.item.map(|i| i.status),
        status_actions: context
            .item
            .map(|i| status_actions(i.status))
            .unwrap_or_default(),
        department: context
            .department
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        departments: context
            .departments
            .iter()
            .map(|d| (d.id, d.name.clone()))
            .collect(),
        materials: with_blanks(&form.materials, blank, MaterialInput::blank()),
        fees: with_blanks(&form.fees, blank, FeeInput::default()),
        steps: with_blanks(&form.steps, blank, StepInput::blank()),
        fields: with_blanks(&form.fields, blank, FieldInput::blank()),
        form,
        problems: errors
            .iter()
            .map(|e| Problem {
                label: guide_field_label(&e.field),
                message: e.message.clone(),
                anchor: guide_anchor(&e.field),
            })
            .collect(),
        errors: error_map,
        notice,
        flash,
        files: context.item.map(material_files).unwrap_or_default(),
        max_upload_mb: state.settings.max_upload_bytes / (1024 * 1024),
        item_types: ItemType::ALL.iter().map(|v| (v.key(), v.label())).collect(),
        categories: HandlingCategory::ALL
            .iter()
            .map(|v| (v.key(), v.label()))
            .collect(),
        targets: Target::ALL.iter().map(|v| (v.key(), v.label())).collect(),
        units: [LimitUnit::WorkingDays, LimitUnit::NaturalDays]
            .iter()
            .map(|u| (u.key(), u.label().trim_start_matches('个')))
            .collect(),
        step_roles: [Role::Handler, Role::Reviewer, Role::Approver]
            .iter()
            .map(|r| (r.key(), r.label()))
            .collect(),
        kinds: FieldKind::ALL
            .iter()
            .map(|v| (v.key(), v.label()))
            .collect(),
        visit_choices: vec![("0", "0次（全程网办）"), ("1", "1次"), ("2", "2次")],
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    rows: String,
}

pub async fn new_item(State(state): State<AppState>, PageUser(member): PageUser) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let departments = match state.store.departments().await {
        Ok(d) => d,
        Err(e) => return fail(&state, &member, &e.into()),
    };
    let context = FormContext {
        item: None,
        department: None,
        departments,
    };
    let page = item_form_page(
        &state,
        &member,
        &context,
        GuideInput::blank(),
        Vec::new(),
        None,
        None,
    );
    render(StatusCode::OK, &page)
}

pub async fn edit_item(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let loaded = match page_id(&id, "未找到该事项") {
        Ok(id) => item_and_department(&state, id).await,
        Err(e) => Err(e),
    };
    let (item, department) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return fail(&state, &member, &e),
    };
    let mut form = GuideInput::of(&item.guide, item.department_id, item.version);
    if let Ok(rows) = query.rows.trim().parse::<usize>() {
        form.blank_rows = rows.clamp(1, MAX_BLANK_ROWS);
    }
    let context = FormContext {
        item: Some(&item),
        department: Some(&department),
        departments: Vec::new(),
    };
    let page = item_form_page(
        &state,
        &member,
        &context,
        form,
        Vec::new(),
        None,
        flash_text(&query.done),
    );
    render(StatusCode::OK, &page)
}

/// An item and its department, as the guide form shows them.
async fn item_and_department(
    state: &AppState,
    id: i64,
) -> Result<(ServiceItem, Department), ApiError> {
    let item = state.store.item(id).await?;
    let department = state.store.department(item.department_id).await?;
    Ok((item, department))
}

/// What the guide form's buttons ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuideAction {
    Save,
    SaveWithMoreRows,
    Preview,
}

impl GuideAction {
    fn of(pairs: &Pairs) -> GuideAction {
        match value(pairs, "action") {
            "preview" => GuideAction::Preview,
            "more" => GuideAction::SaveWithMoreRows,
            _ => GuideAction::Save,
        }
    }
}

pub async fn create_item(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let departments = match state.store.departments().await {
        Ok(d) => d,
        Err(e) => return fail(&state, &member, &e.into()),
    };
    let action = GuideAction::of(&pairs);
    let mut form = GuideInput::from_pairs(&pairs);
    form.keep_files_of(None);
    let (guide, mut errors) = form.check();
    let department = form
        .department_id
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| departments.iter().find(|d| d.id == id))
        .cloned();
    if department.is_none() {
        errors.insert(0, FieldError::new("department_id", "请选择实施部门"));
    }
    let context = FormContext {
        item: None,
        department: None,
        departments: departments.clone(),
    };
    if action == GuideAction::Preview
        && let Some(department) = &department
    {
        return preview(&state, &member, 0, &guide, department, errors.len()).await;
    }
    if action == GuideAction::SaveWithMoreRows {
        form.blank_rows = (form.blank_rows + BLANK_ROWS).min(MAX_BLANK_ROWS);
    }
    if !errors.is_empty() {
        let page = item_form_page(&state, &member, &context, form, errors, None, None);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let department = department.expect("checked above");
    match state
        .store
        .create_item(
            StaffUser(member.clone()).scope(),
            department.id,
            guide,
            state.now(),
        )
        .await
    {
        Ok(item) => {
            state.search.catalog_changed(&state.store);
            let rows = match action {
                GuideAction::SaveWithMoreRows => format!("&rows={}", form.blank_rows),
                _ => String::new(),
            };
            see_other(&format!("/admin/items/{}/edit?done=created{rows}", item.id))
        }
        Err(e) => refused_guide(&state, &member, &context, form, e.into()),
    }
}

/// The form again after the store refused the guide: a bad field beside its
/// input, anything else (a conflict) at the top.
fn refused_guide(
    state: &AppState,
    member: &StaffMember,
    context: &FormContext<'_>,
    form: GuideInput,
    error: ApiError,
) -> Response {
    let (errors, notice) = match &error.field {
        Some(field) => (vec![FieldError::new(field, &error.message)], None),
        None => (Vec::new(), Some(error.message.clone())),
    };
    let page = item_form_page(state, member, context, form, errors, notice, None);
    render(error.status, &page)
}

pub async fn save_item(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let loaded = match page_id(&id, "未找到该事项") {
        Ok(id) => item_and_department(&state, id).await,
        Err(e) => Err(e),
    };
    let (item, department) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return fail(&state, &member, &e),
    };
    let action = GuideAction::of(&pairs);
    let mut form = GuideInput::from_pairs(&pairs);
    form.department_id = item.department_id.to_string();
    form.keep_files_of(Some(&item.guide));
    let (guide, errors) = form.check();
    if action == GuideAction::Preview {
        return preview(&state, &member, item.id, &guide, &department, errors.len()).await;
    }
    let context = FormContext {
        item: Some(&item),
        department: Some(&department),
        departments: Vec::new(),
    };
    if action == GuideAction::SaveWithMoreRows {
        form.blank_rows = (form.blank_rows + BLANK_ROWS).min(MAX_BLANK_ROWS);
    }
    if !errors.is_empty() {
        let page = item_form_page(&state, &member, &context, form, errors, None, None);
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // The version the form was opened on: someone else's save in between
    // refuses this one instead of overwriting it.
    let version = match form.version.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                let e = ApiError::invalid("version", "表单已损坏，请刷新页面后重新编辑");
                return refused_guide(&state, &member, &context, form, e);
            }
        },
    };
    match state
        .store
        .update_guide(
            StaffUser(member.clone()).scope(),
            item.id,
            version,
            guide,
            state.now(),
        )
        .await
    {
        Ok(saved) => {
            state.search.catalog_changed(&state.store);
            let rows = match action {
                GuideAction::SaveWithMoreRows => format!("&rows={}", form.blank_rows),
                _ => String::new(),
            };
            see_other(&format!("/admin/items/{}/edit?done=saved{rows}", saved.id))
        }
        Err(e) => {
            let mut error = ApiError::from(e);
            if error.status == StatusCode::CONFLICT {
                error.message = format!(
                    "{}。下面是您填写的内容，尚未保存；可在新窗口打开本事项查看他人的修改后再合并。",
                    error.message.trim_end_matches('。')
                );
            }
            refused_guide(&state, &member, &context, form, error)
        }
    }
}

#[derive(Template)]
#[template(path = "admin_preview_banner.html")]
struct PreviewBanner {
    problems: usize,
}

/// The public guide page of an unsaved guide, with a banner saying so.
async fn preview(
    state: &AppState,
    member: &StaffMember,
    item_id: i64,
    guide: &Guide,
    department: &Department,
    problems: usize,
) -> Response {
    let page = super::public::guide_page(
        state,
        Some(member.name.clone()),
        item_id,
        false,
        guide,
        department,
    );
    let (mut parts, body) = page.into_parts();
    let html = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return fail(state, member, &ApiError::internal(format!("preview: {e}"))),
    };
    let banner = match (PreviewBanner { problems }).render() {
        Ok(banner) => banner,
        Err(e) => return fail(state, member, &ApiError::internal(format!("template: {e}"))),
    };
    // Right at the start of the page's main content (the frame's `<main>`),
    // else after `<body>`.
    let at = html
        .find("<main")
        .and_then(|start| html[start..].find('>').map(|end| start + end + 1))
        .or_else(|| html.find("<body>").map(|start| start + "<body>".len()))
        .unwrap_or(0);
    let html = format!("{}{banner}{}", &html[..at], &html[at..]);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::HeaderName::from_static("x-robots-tag"),
        header::HeaderValue::from_static("noindex"),
    );
    (parts, html).into_response()
}

// ---------------------------------------------------------------------------
// A material's blank form and filled sample.

/// Which of a material's two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaterialFileKind {
    /// The blank form to fill in (空白表格).
    Template,
    /// The form filled in as an example (填写样例).
    Sample,
}

impl MaterialFileKind {
    const ALL: [MaterialFileKind; 2] = [MaterialFileKind::Template, MaterialFileKind::Sample];

    fn key(self) -> &'static str {
        match self {
            MaterialFileKind::Template => "template",
            MaterialFileKind::Sample => "sample",
        }
    }

    fn parse(key: &str) -> Option<MaterialFileKind> {
        Self::ALL.into_iter().find(|k| k.key() == key.trim())
    }

    fn label(self) -> &'static str {
        match self {
            MaterialFileKind::Template => "空白表格",
            MaterialFileKind::Sample => "填写样例",
        }
    }

    /// The material's file of this kind, if it has one.
    fn file_of(self, material: &Material) -> Option<i64> {
        match self {
            MaterialFileKind::Template => material.template_file,
            MaterialFileKind::Sample => material.sample_file,
        }
    }

    /// The material's file of this kind, to change.
    fn slot(self, material: &mut Material) -> &mut Option<i64> {
        match self {
            MaterialFileKind::Template => &mut material.template_file,
            MaterialFileKind::Sample => &mut material.sample_file,
        }
    }
}

/// One of a material's files as the editor lists it.
pub struct FileSlot {
    pub kind: &'static str,
    pub label: &'static str,
    /// Where the stored file is downloaded, if there is one.
    pub href: Option<String>,
}

/// A stored material with its two files, and the problem of its last upload.
pub struct MaterialFiles {
    pub index: usize,
    pub name: String,
    pub slots: Vec<FileSlot>,
    pub error: Option<String>,
}

/// The materials of a stored item with their files.
fn material_files(item: &ServiceItem) -> Vec<MaterialFiles> {
    let href = |file: Option<i64>| file.map(|f| format!("/items/{}/files/{f}", item.id));
    item.guide
        .materials
        .iter()
        .enumerate()
        .map(|(index, m)| MaterialFiles {
            index,
            name: m.name.clone(),
            slots: MaterialFileKind::ALL
                .into_iter()
                .map(|kind| FileSlot {
                    kind: kind.key(),
                    label: kind.label(),
                    href: href(kind.file_of(m)),
                })
                .collect(),
            error: None,
        })
        .collect()
}

/// What a material's file form sends: the item's version and the material's
/// name as the page showed them, which file, and the upload (absent when
/// the file is removed).
#[derive(Debug, Default)]
struct MaterialFileForm {
    version: String,
    material: String,
    kind: String,
    remove: bool,
    /// The file's name and bytes, not yet checked.
    upload: Option<(String, Vec<u8>)>,
}

async fn read_material_file(mut multipart: Multipart) -> Result<MaterialFileForm, ApiError> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid(
            "file",
            format!("上传内容读取失败（可能超过大小上限）：{}", e.body_text()),
        )
    };
    let mut form = MaterialFileForm::default();
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(broken)?;
            // A file input left empty sends a part with no name and no bytes.
            if !(file_name.is_empty() && bytes.is_empty()) {
                form.upload = Some((file_name, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(broken)?;
        match name.as_str() {
            "version" => form.version = text,
            "material" => form.material = text,
            "kind" => form.kind = text,
            "action" => form.remove = text == "remove",
            _ => {}
        }
    }
    Ok(form)
}

/// Uploads, replaces or removes a material's blank form or filled sample of
/// a stored item. The file is checked by content as any upload; a refused
/// one changes nothing and the editor names the material and the problem.
pub async fn material_file(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path((id, index)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let loaded = match page_id(&id, "未找到该事项") {
        Ok(id) => item_and_department(&state, id).await,
        Err(e) => Err(e),
    };
    let (item, department) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return fail(&state, &member, &e),
    };
    let sent = match multipart {
        Ok(multipart) => read_material_file(multipart).await,
        Err(e) => Err(ApiError::invalid(
            "file",
            format!("上传内容格式错误：{}", e.body_text()),
        )),
    };
    let context = FormContext {
        item: Some(&item),
        department: Some(&department),
        departments: Vec::new(),
    };
    let refuse = |index: Option<usize>, error: ApiError| {
        let form = GuideInput::of(&item.guide, item.department_id, item.version);
        let notice = Some(error.message.clone());
        let mut page = item_form_page(&state, &member, &context, form, Vec::new(), notice, None);
        if let Some(row) = index.and_then(|i| page.files.get_mut(i)) {
            row.error = Some(error.message);
        }
        render(error.status, &page)
    };
    let sent = match sent {
        Ok(sent) => sent,
        Err(e) => return refuse(None, e),
    };
    // The material the page showed, in the list as it stands now.
    let index = index.trim().parse::<usize>().ok().filter(|&i| {
        item.guide
            .materials
            .get(i)
            .is_some_and(|m| m.name == sent.material.trim())
    });
    let Some(index) = index else {
        let message = "申请材料列表已被他人修改，请查看当前列表后重新上传";
        return refuse(
            None,
            ApiError::new(StatusCode::CONFLICT, "version_conflict", message),
        );
    };
    let material = item.guide.materials[index].name.clone();
    let Some(kind) = MaterialFileKind::parse(&sent.kind) else {
        let e = ApiError::invalid(
            "kind",
            format!("申请材料“{material}”：请选择空白表格或填写样例"),
        );
        return refuse(Some(index), e);
    };
    if sent.version.trim() != item.version.to_string() {
        let message = "本事项已被他人修改，请查看当前内容后重新上传";
        return refuse(
            None,
            ApiError::new(StatusCode::CONFLICT, "version_conflict", message),
        );
    }
    let file = match (sent.remove, sent.upload) {
        (true, _) => None,
        (false, None) => {
            let message = format!("申请材料“{material}”的{}：请选择要上传的文件", kind.label());
            return refuse(Some(index), ApiError::invalid("file", message));
        }
        (false, Some((name, bytes))) => {
            match check_file("file", &name, bytes, state.settings.max_upload_bytes) {
                Ok(file) => Some(file),
                Err(mut e) => {
                    e.message = format!(
                        "申请材料“{material}”的{}未上传：{}",
                        kind.label(),
                        e.message
                    );
                    return refuse(Some(index), e);
                }
            }
        }
    };
    let stored = match file {
        Some(file) => match state.store.store_file(file, state.now()).await {
            Ok(info) => Some(info.id),
            Err(e) => return refuse(Some(index), e.into()),
        },
        None => None,
    };
    let mut guide = item.guide.clone();
    *kind.slot(&mut guide.materials[index]) = stored;
    match state
        .store
        .update_guide(
            StaffUser(member.clone()).scope(),
            item.id,
            Some(item.version),
            guide,
            state.now(),
        )
        .await
    {
        Ok(saved) => {
            let done = if stored.is_some() {
                "file"
            } else {
                "file_removed"
            };
            see_other(&format!(
                "/admin/items/{}/edit?done={done}#files-{index}",
                saved.id
            ))
        }
        Err(e) => refuse(Some(index), e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    back: String,
}

/// A page of the catalog list to return to, or the item's own page. Only a
/// path of this site that can stand in a `Location` header as it is (the list
/// writes its links percent-encoded) is taken.
fn back_to(back: &str, id: i64) -> String {
    let back = back.trim();
    if back.starts_with("/admin/items")
        && !back.contains("//")
        && !back.contains('\\')
        && back.bytes().all(|b| b.is_ascii_graphic())
    {
        back.to_string()
    } else {
        format!("/admin/items/{id}/edit")
    }
}

/// `url` with `done=<key>` instead of any notice it had.
fn with_done(url: &str, key: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("done="))
        .collect();
    let done = format!("done={key}");
    params.push(&done);
    format!("{path}?{}", params.join("&"))
}

pub async fn item_status(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let id = match admit(&member, &[Role::Admin], &id, "未找到该事项") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let Some(status) = ItemStatus::parse(&form.status) else {
        let e = ApiError::invalid("status", "状态只能是 draft、published 或 suspended");
        return fail(&state, &member, &e);
    };
    match state
        .store
        .set_item_status(StaffUser(member.clone()).scope(), id, status, state.now())
        .await
    {
        Ok(_) => {
            state.search.catalog_changed(&state.store);
            let back = back_to(&form.back, id);
            see_other(&with_done(&back, status.key()))
        }
        Err(e) => {
            // Publishing an incomplete guide: the guide's form, with why.
            let error = ApiError::from(e);
            match item_and_department(&state, id).await {
                Ok((item, department)) => {
                    let context = FormContext {
                        item: Some(&item),
                        department: Some(&department),
                        departments: Vec::new(),
                    };
                    let form = GuideInput::of(&item.guide, item.department_id, item.version);
                    let notice = Some(format!(
                        "未能将状态改为“{}”：{}",
                        status.label(),
                        error.message
                    ));
                    let errors = item.guide.validate().err().unwrap_or_default();
                    let page =
                        item_form_page(&state, &member, &context, form, errors, notice, None);
                    render(error.status, &page)
                }
                Err(e) => fail(&state, &member, &e),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Departments.

pub struct DepartmentRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent: String,
    pub region_code: String,
    pub window_location: String,
    pub phone: String,
    pub staff: usize,
    pub absent: usize,
    pub windows: usize,
}

#[derive(Template)]
#[template(path = "admin_departments.html")]
struct DepartmentsPage {
    layout: Layout,
    admin: bool,
    rows: Vec<DepartmentRow>,
    levels: Vec<(&'static str, &'static str)>,
    parents: Vec<(i64, String)>,
    region_code: String,
    forms: FormState,
}

pub async fn departments(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(query): Query<DoneQuery>,
) -> Response {
    if let Err(e) = allow(&member, PEOPLE) {
        return fail(&state, &member, &e);
    }
    let forms = FormState {
        failure: None,
        flash: flash_text(&query.done).map(str::to_string),
    };
    departments_response(&state, &member, forms, StatusCode::OK).await
}

async fn departments_response(
    state: &AppState,
    member: &StaffMember,
    forms: FormState,
    status: StatusCode,
) -> Response {
    let page = async {
        let departments = state.store.departments().await?;
        let staff = state.store.staff(None).await?;
        let windows = state.store.windows(None).await?;
        let names: HashMap<i64, String> =
            departments.iter().map(|d| (d.id, d.name.clone())).collect();
        let rows = departments
            .iter()
            .map(|d| DepartmentRow {
                id: d.id,
                code: d.code.clone(),
                name: d.name.clone(),
                level: d.level.label(),
                parent: d
                    .parent_id
                    .and_then(|p| names.get(&p).cloned())
                    .unwrap_or_default(),
                region_code: d.region_code.clone(),
                window_location: d.window_location.clone(),
                phone: d.phone.clone(),
                staff: staff.iter().filter(|s| s.department_id == d.id).count(),
                absent: staff
                    .iter()
                    .filter(|s| s.department_id == d.id && s.absent)
                    .count(),
                windows: windows.iter().filter(|w| w.department_id == d.id).count(),
            })
            .collect();
        Ok::<_, ApiError>(DepartmentsPage {
            layout: Layout::new(state, "部门、窗口和人员", "work", Some(member.name.clone())),
            admin: member.has(Role::Admin),
            rows,
            levels: RegionLevel::ALL
                .iter()
                .map(|l| (l.key(), l.label()))
                .collect(),
            parents: departments.into_iter().map(|d| (d.id, d.name)).collect(),
            region_code: state.store.region_code().to_string(),
            forms,
        })
    }
    .await;
    match page {
        Ok(page) => render(status, &page),
        Err(e) => fail(state, member, &e),
    }
}

/// A department code as the API accepts it: letters, digits, underscores.
fn check_code(code: &str) -> Result<(), ApiError> {
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ApiError::invalid(
            "code",
            "部门编码只能由字母、数字和下划线组成",
        ));
    }
    Ok(())
}

fn parse_level(text: &str) -> Result<RegionLevel, ApiError> {
    RegionLevel::parse(text).ok_or_else(|| ApiError::invalid("level", "请选择层级"))
}

pub async fn create_department(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let created = async {
        let code = value(&pairs, "code").trim().to_string();
        check_code(&code)?;
        let level = parse_level(value(&pairs, "level"))?;
        let parent_id = match value(&pairs, "parent_id").trim() {
            "" => None,
            text => Some(
                text.parse::<i64>()
                    .map_err(|_| ApiError::invalid("parent_id", "上级部门不存在"))?,
            ),
        };
        let region_code = match value(&pairs, "region_code").trim() {
            "" => state.store.region_code().to_string(),
            text if text.len() <= 12 && text.chars().all(|c| c.is_ascii_digit()) => {
                text.to_string()
            }
            _ => {
                return Err(ApiError::invalid(
                    "region_code",
                    "区划代码须为不超过12位的数字，留空为本县",
                ));
            }
        };
        let department = state
            .store
            .create_department(
                StaffUser(member.clone()).scope(),
                NewDepartment {
                    code,
                    name: value(&pairs, "name").trim().to_string(),
                    level,
                    parent_id,
                    region_code,
                    window_location: value(&pairs, "window_location").trim().to_string(),
                    phone: value(&pairs, "phone").trim().to_string(),
                    address: value(&pairs, "address").trim().to_string(),
                },
                state.now(),
            )
            .await?;
        Ok::<_, ApiError>(department)
    }
    .await;
    match created {
        Ok(department) => see_other(&format!(
            "/admin/departments/{}?done=department",
            department.id
        )),
        Err(e) => {
            let forms = FormState {
                failure: Some(Failure::new("department", &e, &pairs)),
                flash: None,
            };
            departments_response(&state, &member, forms, e.status).await
        }
    }
}

pub struct StaffRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub roles: String,
    pub phone: String,
    pub email: String,
    pub backup_id: Option<i64>,
    pub backup_name: String,
    pub absent: bool,
    /// The people this person is the B of.
    pub backs_up: String,
    /// Who may be this person's B: the others of the department.
    pub candidates: Vec<(i64, String)>,
}

impl StaffRow {
    fn backup_is(&self, id: &i64) -> bool {
        self.backup_id == Some(*id)
    }
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("、")
}

#[derive(Template)]
#[template(path = "admin_department.html")]
struct DepartmentPage {
    layout: Layout,
    admin: bool,
    department: Department,
    level: &'static str,
    parent: String,
    levels: Vec<(&'static str, &'static str)>,
    windows: Vec<Window>,
    staff: Vec<StaffRow>,
    roles: Vec<(&'static str, &'static str)>,
    forms: FormState,
}

impl DepartmentPage {
    /// The message of the refused form of one person or window.
    fn failure_for(&self, what: &str, id: &i64) -> Option<&str> {
        self.forms.failure_of(&format!("{what}-{id}"))
    }

    /// Whether role `key` is ticked in the new person's form.
    fn role_typed(&self, key: &str) -> bool {
        match &self.forms.failure {
            Some(f) if f.form == "staff" => f.typed.contains_key(&format!("role_{key}")),
            _ => false,
        }
    }

    fn typed_window(&self, window: &Window, name: &str) -> String {
        let form = format!("window-{}", window.id);
        let default = if name == "name" {
            &window.name
        } else {
            &window.location
        };
        self.forms.typed(&form, name, default).to_string()
    }
}

pub async fn department_page(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let id = match admit(&member, PEOPLE, &id, "未找到该部门") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let forms = FormState {
        failure: None,
        flash: flash_text(&query.done).map(str::to_string),
    };
    department_response(&state, &member, id, forms, StatusCode::OK).await
}

async fn department_response(
    state: &AppState,
    member: &StaffMember,
    id: i64,
    forms: FormState,
    status: StatusCode,
) -> Response {
    let page = async {
        let department = state.store.department(id).await?;
        let parent = match department.parent_id {
            Some(p) => state
                .store
                .department(p)
                .await
                .map(|d| d.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let windows = state.store.windows(Some(id)).await?;
        let people = state.store.staff(Some(id)).await?;
        let emails = state.store.staff_emails(Some(id)).await?;
        let names: HashMap<i64, String> = people.iter().map(|p| (p.id, p.name.clone())).collect();
        let staff = people
            .iter()
            .map(|p| StaffRow {
                id: p.id,
                login: p.login.clone(),
                name: p.name.clone(),
                roles: roles_text(&p.roles),
                phone: p.phone.clone(),
                email: emails.get(&p.id).cloned().unwrap_or_default(),
                backup_id: p.backup_id,
                backup_name: p
                    .backup_id
                    .and_then(|b| names.get(&b).cloned())
                    .unwrap_or_default(),
                absent: p.absent,
                backs_up: people
                    .iter()
                    .filter(|a| a.backup_id == Some(p.id))
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                candidates: people
                    .iter()
                    .filter(|o| o.id != p.id)
                    .map(|o| (o.id, format!("{}（{}）", o.name, roles_text(&o.roles))))
                    .collect(),
            })
            .collect();
        Ok::<_, ApiError>(DepartmentPage {
            layout: Layout::new(
                state,
                department.name.clone(),
                "work",
                Some(member.name.clone()),
            ),
            admin: member.has(Role::Admin),
            level: department.level.label(),
            parent,
            levels: RegionLevel::ALL
                .iter()
                .map(|l| (l.key(), l.label()))
                .collect(),
            windows,
            staff,
            roles: Role::ALL.iter().map(|r| (r.key(), r.label())).collect(),
            department,
            forms,
        })
    }
    .await;
    match page {
        Ok(page) => render(status, &page),
        Err(e) => fail(state, member, &e),
    }
}

/// Shows the department page again with a refused form, or goes to it with
/// a notice.
async fn department_outcome(
    state: &AppState,
    member: &StaffMember,
    department_id: i64,
    form: &str,
    pairs: &Pairs,
    outcome: Result<&'static str, ApiError>,
) -> Response {
    match outcome {
        Ok(done) => see_other(&format!(
            "/admin/departments/{department_id}?done={done}#{form}"
        )),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN => {
            fail(state, member, &e)
        }
        Err(e) => {
            let forms = FormState {
                failure: Some(Failure::new(form, &e, pairs)),
                flash: None,
            };
            department_response(state, member, department_id, forms, e.status).await
        }
    }
}

pub async fn update_department(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let id = match admit(&member, &[Role::Admin], &id, "未找到该部门") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = async {
        let level = parse_level(value(&pairs, "level"))?;
        state
            .store
            .update_department(
                StaffUser(member.clone()).scope(),
                id,
                DepartmentChanges {
                    name: value(&pairs, "name").to_string(),
                    level,
                    window_location: value(&pairs, "window_location").to_string(),
                    phone: value(&pairs, "phone").to_string(),
                    address: value(&pairs, "address").to_string(),
                },
                state.now(),
            )
            .await?;
        Ok("department_saved")
    }
    .await;
    department_outcome(&state, &member, id, "department", &pairs, outcome).await
}

pub async fn create_window(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let id = match admit(&member, &[Role::Admin], &id, "未找到该部门") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = async {
        let name = value(&pairs, "name").trim().to_string();
        if name.is_empty() {
            return Err(ApiError::invalid("name", "窗口名称不能为空"));
        }
        state
            .store
            .create_window(
                StaffUser(member.clone()).scope(),
                id,
                name,
                value(&pairs, "location").trim().to_string(),
                state.now(),
            )
            .await?;
        Ok("window")
    }
    .await;
    department_outcome(&state, &member, id, "window-new", &pairs, outcome).await
}

pub async fn update_window(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let window = async {
        let id = page_id(&id, "未找到该窗口")?;
        state
            .store
            .windows(None)
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| ApiError::not_found("未找到该窗口"))
    }
    .await;
    let window = match window {
        Ok(w) => w,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = state
        .store
        .update_window(
            StaffUser(member.clone()).scope(),
            window.id,
            value(&pairs, "name").to_string(),
            value(&pairs, "location").to_string(),
            state.now(),
        )
        .await
        .map(|()| "window")
        .map_err(ApiError::from);
    let form = format!("window-{}", window.id);
    department_outcome(
        &state,
        &member,
        window.department_id,
        &form,
        &pairs,
        outcome,
    )
    .await
}

/// The roles ticked in a form (`role_<key>` checkboxes), checked as the API's
/// `create_staff` checks them.
fn ticked_roles(pairs: &Pairs) -> Result<Vec<Role>, ApiError> {
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| pairs.iter().any(|(k, _)| *k == format!("role_{}", r.key())))
        .collect();
    check_roles(&roles)?;
    Ok(roles)
}

/// A new password typed twice.
fn new_password(pairs: &Pairs) -> Result<String, ApiError> {
    let password = value(pairs, "password");
    if password != value(pairs, "password_again") {
        return Err(ApiError::invalid("password", "两次输入的密码不一致"));
    }
    Ok(password.to_string())
}

pub async fn create_staff(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let id = match admit(&member, PEOPLE, &id, "未找到该部门") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = async {
        state.store.department(id).await?;
        let roles = ticked_roles(&pairs)?;
        let password = new_password(&pairs)?;
        state
            .store
            .create_staff_with_email(
                StaffUser(member.clone()).scope(),
                NewStaff {
                    login: value(&pairs, "login").to_string(),
                    name: value(&pairs, "name").to_string(),
                    department_id: id,
                    roles,
                    password,
                    phone: value(&pairs, "phone").to_string(),
                },
                value(&pairs, "email").to_string(),
                state.now(),
            )
            .await?;
        Ok("staff")
    }
    .await;
    department_outcome(&state, &member, id, "staff", &pairs, outcome).await
}

pub async fn set_backup(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let target = async {
        let id = page_id(&id, "未找到该工作人员")?;
        Ok::<_, ApiError>(state.store.staff_member(id).await?)
    }
    .await;
    let target = match target {
        Ok(t) => t,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = async {
        let backup_id = match value(&pairs, "backup_id").trim() {
            "" => None,
            text => Some(
                text.parse::<i64>()
                    .map_err(|_| ApiError::invalid("backup_id", "请从列表中选择B角"))?,
            ),
        };
        state
            .store
            .set_backup(
                StaffUser(member.clone()).scope(),
                target.id,
                backup_id,
                state.now(),
            )
            .await?;
        Ok("backup")
    }
    .await;
    let form = format!("staff-{}", target.id);
    department_outcome(
        &state,
        &member,
        target.department_id,
        &form,
        &pairs,
        outcome,
    )
    .await
}

pub async fn set_absence(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let target = async {
        let id = page_id(&id, "未找到该工作人员")?;
        Ok::<_, ApiError>(state.store.staff_member(id).await?)
    }
    .await;
    let target = match target {
        Ok(t) => t,
        Err(e) => return fail(&state, &member, &e),
    };
    // The admin, or the department's approver (its leader on duty), as the
    // API's `set_absence`.
    let allowed = member.has(Role::Admin)
        || (member.has(Role::Approver) && member.department_id == target.department_id);
    if !allowed {
        let e = ApiError::forbidden("只有系统管理员或本部门负责人可以登记在岗状态");
        return fail(&state, &member, &e);
    }
    let absent = value(&pairs, "absent") == "1";
    let outcome = state
        .store
        .set_absent(
            StaffUser(member.clone()).scope(),
            target.id,
            absent,
            state.now(),
        )
        .await
        .map(|_| if absent { "absent" } else { "present" })
        .map_err(ApiError::from);
    let form = format!("staff-{}", target.id);
    department_outcome(
        &state,
        &member,
        target.department_id,
        &form,
        &pairs,
        outcome,
    )
    .await
}

// ---------------------------------------------------------------------------
// One person.

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    layout: Layout,
    member: StaffMember,
    email: String,
    department: Department,
    backup: String,
    backs_up: String,
    /// (key, label, ticked)
    roles: Vec<(&'static str, &'static str, bool)>,
    forms: FormState,
}

pub async fn staff_page(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let id = match admit(&member, PEOPLE, &id, "未找到该工作人员") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let forms = FormState {
        failure: None,
        flash: flash_text(&query.done).map(str::to_string),
    };
    staff_response(&state, &member, id, forms, StatusCode::OK).await
}

async fn staff_response(
    state: &AppState,
    viewer: &StaffMember,
    id: i64,
    forms: FormState,
    status: StatusCode,
) -> Response {
    let page = async {
        let person = state.store.staff_member(id).await?;
        let department = state.store.department(person.department_id).await?;
        let colleagues = state.store.staff(Some(person.department_id)).await?;
        let email = state
            .store
            .staff_emails(Some(person.department_id))
            .await?
            .remove(&person.id)
            .unwrap_or_default();
        let typed_roles = match &forms.failure {
            Some(f) if f.form == "profile" => Some(&f.typed),
            _ => None,
        };
        let roles = Role::ALL
            .iter()
            .map(|r| {
                let ticked = match typed_roles {
                    Some(typed) => typed.contains_key(&format!("role_{}", r.key())),
                    None => person.has(*r),
                };
                (r.key(), r.label(), ticked)
            })
            .collect();
        Ok::<_, ApiError>(StaffPage {
            layout: Layout::new(
                state,
                person.name.clone(),
                "work",
                Some(viewer.name.clone()),
            ),
            email,
            backup: person
                .backup_id
                .and_then(|b| colleagues.iter().find(|c| c.id == b))
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            backs_up: colleagues
                .iter()
                .filter(|a| a.backup_id == Some(person.id))
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            member: person,
            department,
            roles,
            forms,
        })
    }
    .await;
    match page {
        Ok(page) => render(status, &page),
        Err(e) => fail(state, viewer, &e),
    }
}

async fn staff_outcome(
    state: &AppState,
    viewer: &StaffMember,
    id: i64,
    form: &str,
    pairs: &Pairs,
    outcome: Result<&'static str, ApiError>,
) -> Response {
    match outcome {
        Ok(done) => see_other(&format!("/admin/staff/{id}?done={done}")),
        Err(e) if e.status == StatusCode::NOT_FOUND => fail(state, viewer, &e),
        Err(e) => {
            let forms = FormState {
                failure: Some(Failure::new(form, &e, pairs)),
                flash: None,
            };
            staff_response(state, viewer, id, forms, e.status).await
        }
    }
}

pub async fn update_staff(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let id = match admit(&member, PEOPLE, &id, "未找到该工作人员") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = async {
        let roles = ticked_roles(&pairs)?;
        let changed = state
            .store
            .update_staff_profile(
                StaffUser(member.clone()).scope(),
                id,
                StaffProfile {
                    name: value(&pairs, "name").to_string(),
                    roles,
                    phone: value(&pairs, "phone").to_string(),
                    email: value(&pairs, "email").to_string(),
                },
                state.now(),
            )
            .await?;
        Ok(if changed.cases_handed_on.is_empty() {
            "profile"
        } else {
            "profile_handed_on"
        })
    }
    .await;
    staff_outcome(&state, &member, id, "profile", &pairs, outcome).await
}

pub async fn reset_password(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let id = match admit(&member, PEOPLE, &id, "未找到该工作人员") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    let outcome = async {
        let password = new_password(&pairs)?;
        state
            .store
            .reset_password(StaffUser(member.clone()).scope(), id, password, state.now())
            .await?;
        Ok("password")
    }
    .await;
    staff_outcome(&state, &member, id, "password", &pairs, outcome).await
}

// ---------------------------------------------------------------------------
// The calendar.

pub struct DayCell {
    pub day: i8,
    pub date: String,
    /// workday | restday | holiday
    pub kind: &'static str,
    /// A short mark on special days: 休, 班, 停, 加.
    pub mark: &'static str,
    /// The whole day in words, for screen readers and the title.
    pub text: String,
    pub overridden: bool,
    pub today: bool,
}

pub struct MonthView {
    pub title: String,
    pub weeks: Vec<Vec<Option<DayCell>>>,
    /// The month's special days in words.
    pub notes: Vec<String>,
    pub provisional: bool,
}

fn month_view(calendar: &ChinaCalendar, first: Date, today: Date) -> MonthView {
    let last = first.last_of_month();
    let overrides: HashMap<Date, OverrideKind> = calendar
        .overrides_between(first, last)
        .iter()
        .map(|o| (o.date, o.kind))
        .collect();
    let days = crate::api::calendar::day_views(calendar, first, last);
    let mut weeks = Vec::new();
    let mut week: Vec<Option<DayCell>> = (0..first.weekday().to_monday_zero_offset())
        .map(|_| None)
        .collect();
    let mut notes: Vec<(i8, i8, String)> = Vec::new();
    for (offset, view) in days.iter().enumerate() {
        let date = first
            .checked_add(jiff::Span::new().days(offset as i64))
            .unwrap_or(first);
        let kind = calendar.day_kind(date);
        let weekend = date.weekday().to_monday_zero_offset() >= 5;
        let overridden = overrides.get(&date).copied();
        let mark = match (overridden, kind) {
            (Some(OverrideKind::Closure), _) => "停",
            (Some(OverrideKind::Workday), _) => "加",
            (None, DayKind::Holiday) => "休",
            (None, DayKind::Workday) if weekend => "班",
            _ => "",
        };
        let kind_text = match kind {
            DayKind::Workday => "工作日",
            DayKind::Restday => "休息日",
            DayKind::Holiday => "节假日",
        };
        let mut text = format!("{}月{}日 {kind_text}", date.month(), date.day());
        if let Some(note) = &view.note {
            text.push('，');
            text.push_str(note);
            // Consecutive days of one holiday read as one note.
            match notes.last_mut() {
                Some((_, to, last)) if *last == *note && *to + 1 == date.day() => *to = date.day(),
                _ => notes.push((date.day(), date.day(), note.clone())),
            }
        }
        week.push(Some(DayCell {
            day: date.day(),
            date: date.to_string(),
            kind: crate::api::calendar::day_kind_key(kind),
            mark,
            text,
            overridden: overridden.is_some(),
            today: date == today,
        }));
        if week.len() == 7 {
            weeks.push(std::mem::take(&mut week));
        }
    }
    if !week.is_empty() {
        week.resize_with(7, || None);
        weeks.push(week);
    }
    let notes = notes
        .into_iter()
        .map(|(from, to, note)| {
            if from == to {
                format!("{from}日：{note}")
            } else {
                format!("{from}日至{to}日：{note}")
            }
        })
        .collect();
    MonthView {
        title: format!("{}年{}月", first.year(), first.month()),
        weeks,
        notes,
        provisional: calendar.is_provisional(first.year()),
    }
}

pub struct OverrideRow {
    pub id: i64,
    pub date: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub region: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: String,
    pub in_force: bool,
    pub revoked: String,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    layout: Layout,
    months: Vec<MonthView>,
    month: String,
    prev_month: String,
    next_month: String,
    region: String,
    region_label: String,
    regions: Vec<(String, String)>,
    overrides: Vec<OverrideRow>,
    forms: FormState,
}

impl CalendarPage {
    fn revoke_form(&self, id: &i64) -> String {
        format!("revoke-{id}")
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CalendarQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    examined: String,
    #[serde(default)]
    moved: String,
}

/// `2026-12` as the first of that month.
fn parse_month(text: &str) -> Option<Date> {
    let (year, month) = text.trim().split_once('-')?;
    Date::new(year.parse().ok()?, month.parse().ok()?, 1)
        .ok()
        .filter(|d| (2000..=2199).contains(&d.year()))
}

fn month_key(first: Date) -> String {
    format!("{:04}-{:02}", first.year(), first.month())
}

fn add_months(first: Date, months: i64) -> Date {
    first
        .checked_add(jiff::Span::new().months(months))
        .unwrap_or(first)
}

/// The message after an override was added or revoked.
fn override_flash(query: &CalendarQuery) -> Option<String> {
    let verb = match query.done.as_str() {
        "added" => "已登记日历调整",
        "revoked" => "已撤销日历调整",
        _ => return None,
    };
    let date = super::date_string_text(&query.date);
    let examined: u64 = query.examined.trim().parse().unwrap_or(0);
    let moved: u64 = query.moved.trim().parse().unwrap_or(0);
    let effect = if examined == 0 {
        "没有在办期限的计算期间包含该日，各办件的期限均不受影响。".to_string()
    } else if moved == 0 {
        format!("有{examined}个在办期限的计算期间包含该日，但到期日均未改变。")
    } else {
        format!(
            "有{examined}个在办期限的计算期间包含该日，其中{moved}个的到期日已随之调整，调整情况已记入各办件。"
        )
    };
    Some(format!("{verb}（{date}）。{effect}"))
}

pub async fn calendar(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Query(query): Query<CalendarQuery>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let forms = FormState {
        failure: None,
        flash: override_flash(&query),
    };
    calendar_response(&state, &member, &query, forms, StatusCode::OK).await
}

async fn calendar_response(
    state: &AppState,
    member: &StaffMember,
    query: &CalendarQuery,
    forms: FormState,
    status: StatusCode,
) -> Response {
    let page = async {
        let today = civil_date(state.now());
        let this_month = today.first_of_month();
        let first = parse_month(&query.month).unwrap_or(this_month);
        let departments = state.store.departments().await?;
        let mut regions: Vec<(String, String)> = Vec::new();
        for d in &departments {
            match regions.iter_mut().find(|(code, _)| *code == d.region_code) {
                Some((_, names)) => {
                    if names.chars().count() < 40 {
                        names.push('、');
                        names.push_str(&d.name);
                    }
                }
                None => regions.push((d.region_code.clone(), d.name.clone())),
            }
        }
        let county = state.store.region_code().to_string();
        let region = match query.region.trim() {
            r if regions.iter().any(|(code, _)| code == r) => r.to_string(),
            _ => county.clone(),
        };
        let calendar = state.store.calendar_for(&region);
        let region_label = if region == county {
            format!("本县（{region}）")
        } else {
            format!("区划 {region}")
        };
        let staff = state.store.staff(None).await?;
        let names: HashMap<i64, String> = staff.into_iter().map(|s| (s.id, s.name)).collect();
        let overrides = state
            .store
            .overrides()
            .await?
            .iter()
            .map(|o| OverrideRow {
                id: o.day.id,
                date: date_text(o.day.date),
                kind: o.day.kind.key(),
                kind_label: o.day.kind.label(),
                region: if o.day.region.is_empty() {
                    "全部区域".into()
                } else {
                    o.day.region.clone()
                },
                reason: o.day.reason.clone(),
                created_by: o
                    .created_by
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_else(|| "系统".into()),
                created_at: datetime_text(o.created_at),
                in_force: o.revoked_at.is_none(),
                revoked: match (&o.revoked_at, &o.revoke_reason) {
                    (Some(at), reason) => format!(
                        "已于{}撤销{}",
                        datetime_text(*at),
                        reason
                            .as_deref()
                            .map(|r| format!("：{r}"))
                            .unwrap_or_default()
                    ),
                    _ => String::new(),
                },
            })
            .collect();
        Ok::<_, ApiError>(CalendarPage {
            layout: Layout::new(state, "日历调整", "work", Some(member.name.clone())),
            months: vec![
                month_view(&calendar, first, today),
                month_view(&calendar, add_months(first, 1), today),
            ],
            month: month_key(first),
            prev_month: month_key(add_months(first, -1)),
            next_month: month_key(add_months(first, 1)),
            region,
            region_label,
            regions,
            overrides,
            forms,
        })
    }
    .await;
    match page {
        Ok(page) => render(status, &page),
        Err(e) => fail(state, member, &e),
    }
}

pub async fn add_override(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = allow(&member, &[Role::Admin]) {
        return fail(&state, &member, &e);
    }
    let outcome = async {
        let date = crate::api::calendar::parse_day("date", value(&pairs, "date"))?;
        let kind = OverrideKind::parse(value(&pairs, "kind").trim())
            .ok_or_else(|| ApiError::invalid("kind", "请选择调整类型：停止办公或增加工作日"))?;
        let applied = state
            .store
            .add_override(
                NewOverride {
                    region: value(&pairs, "region").to_string(),
                    date,
                    kind,
                    reason: value(&pairs, "reason").to_string(),
                },
                member.id,
                state.now(),
            )
            .await?;
        Ok::<_, ApiError>(applied)
    }
    .await;
    match outcome {
        Ok(applied) => {
            let date = applied.record.day.date;
            see_other(&format!(
                "/admin/calendar?month={}&done=added&date={date}&examined={}&moved={}",
                month_key(date.first_of_month()),
                applied.recomputed.examined,
                applied.recomputed.moved
            ))
        }
        Err(e) => {
            let query = CalendarQuery {
                month: value(&pairs, "month").to_string(),
                ..CalendarQuery::default()
            };
            let forms = FormState {
                failure: Some(Failure::new("override", &e, &pairs)),
                flash: None,
            };
            calendar_response(&state, &member, &query, forms, e.status).await
        }
    }
}

pub async fn revoke_override(
    _: SameOrigin,
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Response {
    let id = match admit(&member, &[Role::Admin], &id, "未找到该日历调整") {
        Ok(id) => id,
        Err(e) => return fail(&state, &member, &e),
    };
    match state
        .store
        .revoke_override(id, value(&pairs, "reason"), member.id, state.now())
        .await
    {
        Ok(applied) => {
            let date = applied.record.day.date;
            see_other(&format!(
                "/admin/calendar?month={}&done=revoked&date={date}&examined={}&moved={}",
                month_key(date.first_of_month()),
                applied.recomputed.examined,
                applied.recomputed.moved
            ))
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::NOT_FOUND {
                let e = ApiError::not_found("未找到该日历调整，或它已被撤销");
                return fail(&state, &member, &e);
            }
            let query = CalendarQuery {
                month: value(&pairs, "month").to_string(),
                ..CalendarQuery::default()
            };
            let forms = FormState {
                failure: Some(Failure::new(&format!("revoke-{id}"), &e, &pairs)),
                flash: None,
            };
            calendar_response(&state, &member, &query, forms, e.status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_catalog_pages_of_this_site_are_returned_to() {
        let back = "/admin/items?department_id=&status=draft&q=%E9%A3%9F&page=2";
        assert_eq!(back_to(back, 7), back);
        for bad in [
            "https://evil.example/admin/items",
            "//evil.example/admin/items",
            "/admin/items/../../x\\y",
            "/admin/items?q=\r\nSet-Cookie: a=b",
            "/admin/items?q=食品",
            "",
        ] {
            assert_eq!(back_to(bad, 7), "/admin/items/7/edit", "{bad:?}");
        }
    }

    #[test]
    fn amounts_in_yuan_read_as_fen() {
        assert_eq!(parse_yuan(""), Some(0));
        assert_eq!(parse_yuan("80"), Some(8000));
        assert_eq!(parse_yuan(" 80.5元 "), Some(8050));
        assert_eq!(parse_yuan("0.05"), Some(5));
        assert_eq!(parse_yuan("-1"), None);
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("八十"), None);
        assert_eq!(yuan_input(8050), "80.50");
        assert_eq!(yuan_input(8000), "80");
        assert_eq!(yuan_input(5), "0.05");
    }

    #[test]
    fn blank_rows_are_left_out_and_rows_keep_their_order() {
        let form = GuideInput::from_pairs(&pairs(&[
            ("materials[2].name", "营业执照"),
            ("materials[2].required", "1"),
            ("materials[0].name", "申请书"),
            ("materials[1].name", " "),
            ("materials[1].required", "1"),
            ("materials[1].originals", "1"),
            ("fees[0].name", ""),
            ("steps[0].name", ""),
            ("steps[0].role", "handler"),
            ("form_fields[0].key", "shop_address"),
            ("materials[999].name", "太多"),
        ]));
        let names: Vec<_> = form.materials.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["申请书", "营业执照"]);
        assert!(!form.materials[0].required && form.materials[1].required);
        assert!(form.fees.is_empty() && form.steps.is_empty());
        assert_eq!(form.fields.len(), 1);
    }

    #[test]
    fn a_guide_reads_back_from_its_own_form() {
        let guide = Guide {
            fees: vec![Fee {
                name: "工本费".into(),
                standard: "每证10元".into(),
                amount_fen: 1050,
                lower_bound_fen: 0,
                legal_basis: "价格主管部门文件".into(),
            }],
            ..onewindow_core_sample()
        };
        let form = GuideInput::of(&guide, 1, 3);
        let (read, errors) = form.check();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(read, guide);
    }

    /// A complete guide with one of each row (core's sample is private).
    fn onewindow_core_sample() -> Guide {
        let form = GuideInput {
            name: "食品经营许可（新办）".into(),
            code: "000117001000".into(),
            implementing_code: "11430423MB1234567X4000117001000".into(),
            statutory_amount: "20".into(),
            promised_amount: "5".into(),
            legal_basis: "《中华人民共和国食品安全法》第三十五条".into(),
            conditions: "有经营场所\n\n有食品安全管理人员".into(),
            location: "衡山县政务服务中心一楼A区".into(),
            contact_phone: "0734-5822315".into(),
            materials: vec![MaterialInput {
                name: "申请书".into(),
                reason: "申请意愿".into(),
                ..MaterialInput::blank()
            }],
            steps: vec![StepInput {
                name: "承办".into(),
                role: "handler".into(),
                limit_days: "2".into(),
            }],
            fields: vec![FieldInput {
                key: "main_format".into(),
                label: "主体业态".into(),
                kind: "choice".into(),
                required: true,
                options: "食品销售经营者\n餐饮服务经营者".into(),
                hint: String::new(),
            }],
            ..GuideInput::blank()
        };
        let (guide, errors) = form.check();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(guide.conditions.len(), 2);
        assert_eq!(guide.form_fields[0].options.len(), 2);
        guide
    }

    #[test]
    fn unreadable_numbers_and_the_guide_s_rules_are_reported_together() {
        let form = GuideInput {
            statutory_amount: "二十".into(),
            fees: vec![FeeInput {
                name: "工本费".into(),
                amount: "abc".into(),
                ..FeeInput::default()
            }],
            steps: vec![StepInput {
                name: "承办".into(),
                role: "window_clerk".into(),
                limit_days: "".into(),
            }],
            ..GuideInput::blank()
        };
        let (_, errors) = form.check();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "statutory_limit",
            "fees[0].amount_fen",
            "steps[0].limit_days",
            "steps[0].role",
            "name",
            "materials",
        ] {
            assert!(fields.contains(&expected), "{expected} in {fields:?}");
        }
        // A field named once by reading is not named again by the rules.
        assert_eq!(fields.iter().filter(|f| **f == "steps[0].role").count(), 1);
    }

    #[test]
    fn guide_fields_are_named_in_chinese() {
        assert_eq!(guide_field_label("name"), "事项名称");
        assert_eq!(
            guide_field_label("materials[1].name"),
            "申请材料第2行“材料名称”"
        );
        assert_eq!(
            guide_field_label("form_fields[0].key"),
            "申请表字段第1行“字段标识”"
        );
        assert_eq!(guide_anchor("fees[0].amount_fen"), "fees-0-amount_fen");
        assert_eq!(guide_anchor("statutory_limit"), "g-statutory_amount");
    }

    #[test]
    fn a_month_view_starts_on_monday_and_marks_special_days() {
        let first = jiff::civil::date(2026, 10, 1);
        let view = month_view(ChinaCalendar::shipped(), first, first);
        // 1 October 2026 is a Thursday: three empty cells first.
        assert!(view.weeks[0][..3].iter().all(Option::is_none));
        let day = view.weeks[0][3].as_ref().unwrap();
        assert_eq!((day.day, day.kind, day.mark), (1, "holiday", "休"));
        assert!(view.weeks.iter().all(|w| w.len() == 7));
        assert!(!view.notes.is_empty());
    }
}
