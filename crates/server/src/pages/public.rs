//! The public portal: the catalog, the guide of an item, the online
//! application with its receipt, and the case look-up.

use std::collections::HashMap;

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use onewindow_core::DomainError;
use onewindow_core::FieldError;
use onewindow_core::case::{Applicant, CaseState, Channel, is_id_number, is_phone};
use onewindow_core::catalog::{
    DESCRIPTION_KEY, Guide, HandlingCategory, ItemStatus, Target, check_form, yuan,
};
use onewindow_store::cases::NewCase;
use onewindow_store::catalog::ServiceItem;
use onewindow_store::files::NewFile;
use onewindow_store::idempotency::IdempotencyKey;
use onewindow_store::staff::Department;
use serde::Deserialize;

use super::{
    Layout, SameOrigin, TimelineEntry, date_string_text, detail_lines, error_page, page_id,
    query_value, render, user_name,
};
use crate::AppState;
use crate::api::catalog::ItemQuery;
use crate::auth::MaybeUser;
use crate::error::ApiError;
use crate::search::Facet;
use crate::upload::check_file;

const PER_PAGE: i64 = 20;

// ---------------------------------------------------------------------------
// The catalog.

/// The catalog's query string. Everything is text so that an empty select
/// ("全部部门") or a mistyped number never turns into an error page.
#[derive(Debug, Default, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    category: String,
    /// personal or enterprise: the theme tab.
    #[serde(default)]
    target: String,
    /// A life event (主题), e.g. 开办企业.
    #[serde(default)]
    event: String,
    #[serde(default)]
    page: String,
}

/// A tile linking to a part of the catalog.
pub struct Tile {
    pub label: String,
    pub href: String,
    pub count: usize,
}

/// A most-applied item on the home page.
pub struct PopularItem {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub applications: i64,
}

/// An announcement's line on the home page.
pub struct AnnouncementLine {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub pinned: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub category: &'static str,
    pub item_type: &'static str,
    pub target: &'static str,
    pub promised: String,
    pub statutory: String,
    pub compression: Option<u32>,
    pub visits: u32,
}

pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    q: String,
    filtered: bool,
    /// The theme tab: personal or enterprise.
    enterprise_tab: bool,
    themes: Vec<Tile>,
    department_tiles: Vec<Tile>,
    popular: Vec<PopularItem>,
    announcements: Vec<AnnouncementLine>,
    /// What the list is narrowed to, e.g. "个人办事 · 社会保障".
    narrowed: Vec<String>,
    event: String,
    targets: Vec<Choice>,
    departments: Vec<Choice>,
    categories: Vec<Choice>,
    items: Vec<ItemRow>,
    total: i64,
    pager: Pager,
}

fn item_row(item: &ServiceItem, departments: &HashMap<i64, String>) -> ItemRow {
    let g = &item.guide;
    ItemRow {
        id: item.id,
        name: g.name.clone(),
        department: departments
            .get(&item.department_id)
            .cloned()
            .unwrap_or_default(),
        category: g.category.label(),
        item_type: g.item_type.label(),
        target: g.target.label(),
        promised: g.promised_limit.label(),
        statutory: g.statutory_limit_in_force().label(),
        compression: g.compression_percent().filter(|p| *p > 0),
        visits: g.visits,
    }
}

pub async fn home(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(query): Query<HomeQuery>,
) -> Response {
    let name = user_name(&user);
    match home_page(&state, &query, name.clone()).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_page(&state, name, &e),
    }
}

async fn home_page(
    state: &AppState,
    query: &HomeQuery,
    user_name: Option<String>,
) -> Result<HomePage, ApiError> {
    let q = query.q.trim().chars().take(100).collect::<String>();
    let department_id = query.department.trim().parse::<i64>().ok();
    let category = HandlingCategory::parse(&query.category);
    let page = query
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, 10_000);
    let item_query = ItemQuery {
        q: Some(q.clone()).filter(|q| !q.is_empty()),
        department_id,
        category: category.map(|c| c.key().to_string()),
        status: None,
        page: Some(page),
        per_page: Some(PER_PAGE),
    };
    let filter = item_query.filter(false)?;
    let target = match query.target.trim() {
        "enterprise" => Some(Target::Enterprise),
        "personal" => Some(Target::Personal),
        _ => None,
    };
    let event =
        Some(query.event.trim().chars().take(50).collect::<String>()).filter(|e| !e.is_empty());
    let facet = Facet {
        target,
        event: event.clone(),
    };
    let (items, total) =
        crate::search::find_items_in(&state.search, &state.store, &filter, &facet).await?;
    let departments = state.store.departments().await?;
    let names: HashMap<i64, String> = departments.iter().map(|d| (d.id, d.name.clone())).collect();
    let index = state.search.index(&state.store).await?;
    let enterprise_tab = target == Some(Target::Enterprise);
    let tab = if enterprise_tab {
        "enterprise"
    } else {
        "personal"
    };
    let facets = index.facets(Some(if enterprise_tab {
        Target::Enterprise
    } else {
        Target::Personal
    }));
    let themes = facets
        .events
        .iter()
        .map(|(e, n)| Tile {
            href: format!("/?target={tab}&event={}#catalog", query_value(e)),
            label: e.clone(),
            count: *n,
        })
        .collect();
    let department_tiles = departments
        .iter()
        .filter_map(|d| {
            let n = facets.departments.get(&d.id).copied().unwrap_or(0);
            (n > 0).then(|| Tile {
                label: d.name.clone(),
                href: format!("/?department={}#catalog", d.id),
                count: n,
            })
        })
        .collect();
    let since = state.now() - jiff::SignedDuration::from_hours(24 * 90);
    let counts = state.store.most_applied_items(since, 20).await?;
    let ids: Vec<i64> = counts.iter().map(|(id, _)| *id).collect();
    let popular = index
        .published(&ids)
        .into_iter()
        .take(8)
        .map(|item| PopularItem {
            id: item.id,
            department: names.get(&item.department_id).cloned().unwrap_or_default(),
            applications: counts
                .iter()
                .find(|(id, _)| *id == item.id)
                .map_or(0, |(_, n)| *n),
            name: item.guide.name,
        })
        .collect();
    let announcements = state
        .store
        .announcements(false, 6)
        .await?
        .into_iter()
        .map(|a| AnnouncementLine {
            id: a.id,
            title: a.title,
            date: super::date_text(onewindow_core::calendar::civil_date(a.published_at)),
            pinned: a.pinned,
        })
        .collect();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |page: i64| {
        let mut parts = Vec::new();
        if !q.is_empty() {
            parts.push(format!("q={}", query_value(&q)));
        }
        if let Some(d) = department_id {
            parts.push(format!("department={d}"));
        }
        if let Some(c) = category {
            parts.push(format!("category={}", c.key()));
        }
        if let Some(t) = target {
            parts.push(format!("target={}", t.key()));
        }
        if let Some(e) = &event {
            parts.push(format!("event={}", query_value(e)));
        }
        parts.push(format!("page={page}"));
        format!("/?{}#catalog", parts.join("&"))
    };
    let title = if q.is_empty() {
        "办事服务".to_string()
    } else {
        format!("“{q}”的搜索结果")
    };
    let mut narrowed = Vec::new();
    if let Some(t) = target {
        narrowed.push(
            if t == Target::Enterprise {
                "法人办事"
            } else {
                "个人办事"
            }
            .to_string(),
        );
    }
    if let Some(e) = &event {
        narrowed.push(format!("主题：{e}"));
    }
    if let Some(d) = department_id.and_then(|d| names.get(&d)) {
        narrowed.push(d.clone());
    }
    if let Some(c) = category {
        narrowed.push(c.label().to_string());
    }
    Ok(HomePage {
        layout: Layout::new(state, title, "home", user_name),
        // Choosing a theme tab keeps the home page; anything else shows the
        // list first.
        filtered: !q.is_empty() || event.is_some() || department_id.is_some() || category.is_some(),
        q: q.clone(),
        enterprise_tab,
        themes,
        department_tiles,
        popular,
        announcements,
        narrowed,
        event: event.clone().unwrap_or_default(),
        targets: [Target::Personal, Target::Enterprise]
            .iter()
            .map(|t| Choice {
                value: t.key().into(),
                label: if *t == Target::Enterprise {
                    "法人办事"
                } else {
                    "个人办事"
                }
                .into(),
                selected: Some(*t) == target,
            })
            .collect(),
        departments: departments
            .iter()
            .map(|d| Choice {
                value: d.id.to_string(),
                label: d.name.clone(),
                selected: Some(d.id) == department_id,
            })
            .collect(),
        categories: HandlingCategory::ALL
            .iter()
            .map(|c| Choice {
                value: c.key().into(),
                label: c.label().into(),
                selected: Some(*c) == category,
            })
            .collect(),
        items: items.iter().map(|i| item_row(i, &names)).collect(),
        total,
        pager: Pager {
            page,
            pages,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        },
    })
}

// ---------------------------------------------------------------------------
// The guide.

pub struct MaterialRow {
    pub name: String,
    pub required: bool,
    pub form: String,
    pub reason: String,
    pub template_href: Option<String>,
    pub sample_href: Option<String>,
}

pub struct FlowStep {
    pub name: String,
    pub who: String,
    pub limit: String,
}

pub struct FeeRow {
    pub name: String,
    pub standard: String,
    pub amount: String,
    pub basis: String,
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    layout: Layout,
    item_id: i64,
    published: bool,
    guide: Guide,
    department: String,
    department_window: String,
    materials: Vec<MaterialRow>,
    flow: Vec<FlowStep>,
    fees: Vec<FeeRow>,
    compression: Option<u32>,
    visits: String,
}

/// A published item, or any item for a logged-in staff member (to check a
/// draft); otherwise "not found".
async fn visible_item(state: &AppState, id: &str, staff: bool) -> Result<ServiceItem, ApiError> {
    let not_found = || ApiError::not_found("未找到该事项");
    let id = page_id(id, "未找到该事项")?;
    let item = state.store.item(id).await?;
    if item.status != ItemStatus::Published && !staff {
        return Err(not_found());
    }
    Ok(item)
}

fn copies_text(originals: u32, copies: u32) -> String {
    match (originals, copies) {
        (0, 0) => "电子材料".into(),
        (o, 0) => format!("原件{o}份"),
        (0, c) => format!("复印件{c}份"),
        (o, c) => format!("原件{o}份，复印件{c}份"),
    }
}

fn days_text(days: u32) -> String {
    if days == 0 {
        "当日办结".into()
    } else {
        format!("{days}个工作日")
    }
}

pub async fn guide(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Response {
    let name = user_name(&user);
    let item = match visible_item(&state, &id, user.0.is_some()).await {
        Ok(item) => item,
        Err(e) => return error_page(&state, name, &e),
    };
    let department = match state.store.department(item.department_id).await {
        Ok(d) => d,
        Err(e) => return error_page(&state, name, &e.into()),
    };
    guide_page(
        &state,
        name,
        item.id,
        item.status == ItemStatus::Published,
        &item.guide,
        &department,
    )
}

/// The public guide page of `g` (item `item_id` of `department`). The admin's
/// catalog editor shows an unsaved guide through it as a preview.
pub fn guide_page(
    state: &AppState,
    user_name: Option<String>,
    item_id: i64,
    published: bool,
    g: &Guide,
    department: &Department,
) -> Response {
    let name = user_name;
    let file_href = |file: Option<i64>| file.map(|f| format!("/items/{item_id}/files/{f}"));
    let materials = g
        .materials
        .iter()
        .map(|m| MaterialRow {
            name: m.name.clone(),
            required: m.required,
            form: copies_text(m.originals, m.copies),
            reason: m.reason.clone(),
            template_href: file_href(m.template_file),
            sample_href: file_href(m.sample_file),
        })
        .collect();
    let mut flow = vec![FlowStep {
        name: "申请".into(),
        who: if g.visits == 0 {
            "网上申报，全程网办".into()
        } else {
            "网上申报或窗口递交".into()
        },
        limit: match g.visits {
            0 => "零跑动".into(),
            n => format!("最多跑{n}次"),
        },
    }];
    flow.push(FlowStep {
        name: "受理".into(),
        who: "窗口受理".into(),
        limit: if g.category == HandlingCategory::Instant {
            "当场受理".into()
        } else {
            "5个工作日内作出受理决定".into()
        },
    });
    flow.extend(g.steps.iter().map(|s| FlowStep {
        name: s.name.clone(),
        who: format!("{}岗", s.role.label()),
        limit: days_text(s.limit_days),
    }));
    flow.push(FlowStep {
        name: "办结".into(),
        who: "出件送达".into(),
        limit: format!("承诺{}", g.promised_limit.label()),
    });
    let fees = g
        .fees
        .iter()
        .map(|f| FeeRow {
            name: f.name.clone(),
            standard: f.standard.clone(),
            amount: yuan(f.amount_fen),
            basis: f.legal_basis.clone(),
        })
        .collect();
    let visits = match g.visits {
        0 => "0次（全程网上办理）".to_string(),
        n => format!("{n}次"),
    };
    let page = GuidePage {
        layout: Layout::new(state, format!("{}办事指南", g.name), "home", name),
        item_id,
        published,
        compression: g.compression_percent(),
        department: department.name.clone(),
        department_window: department.window_location.clone(),
        materials,
        flow,
        fees,
        visits,
        guide: g.clone(),
    };
    render(StatusCode::OK, &page)
}

/// A blank form or a filled sample of a material, for anyone who may read
/// the guide. Only files the guide names are served here.
pub async fn guide_file(
    State(state): State<AppState>,
    user: MaybeUser,
    Path((id, file_id)): Path<(String, String)>,
) -> Response {
    let name = user_name(&user);
    let item = match visible_item(&state, &id, user.0.is_some()).await {
        Ok(item) => item,
        Err(e) => return error_page(&state, name, &e),
    };
    let file_id = file_id.trim().parse::<i64>().ok();
    let named = item
        .guide
        .materials
        .iter()
        .any(|m| file_id.is_some() && (m.template_file == file_id || m.sample_file == file_id));
    let Some(file_id) = file_id.filter(|_| named) else {
        return error_page(&state, name, &ApiError::not_found("未找到该文件"));
    };
    match state.store.file(file_id).await {
        Ok((info, bytes)) => {
            let disposition = format!("attachment; filename*=UTF-8''{}", query_value(&info.name));
            (
                [
                    (header::CONTENT_TYPE, info.content_type),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "public, max-age=3600".to_string()),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => error_page(&state, name, &e.into()),
    }
}

// ---------------------------------------------------------------------------
// Online application.

#[derive(Debug, Clone, Default)]
pub struct ApplyValues {
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub organization: String,
    pub description: String,
    /// Values of the item's own form fields, by key, as typed.
    pub fields: Vec<(String, String)>,
    /// Ties a double-clicked or repeated submission to the first one.
    pub token: String,
}

impl ApplyValues {
    fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
pub struct ApplyErrors {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub organization: Option<String>,
    pub description: Option<String>,
}

impl ApplyErrors {
    fn any(&self) -> bool {
        self.name.is_some()
            || self.phone.is_some()
            || self.id_number.is_some()
            || self.organization.is_some()
            || self.description.is_some()
    }
}

/// An item-specific field of the form, ready to render.
pub struct FieldInput {
    /// The input's name: `f_` + the field's key.
    pub name: String,
    pub label: String,
    /// text, long_text, number, date, phone, id_number or choice.
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<String>,
    pub hint: String,
    pub value: String,
    pub error: Option<String>,
}

fn field_inputs(guide: &Guide, values: &ApplyValues, errors: &[FieldError]) -> Vec<FieldInput> {
    guide
        .form_fields
        .iter()
        .map(|f| FieldInput {
            name: format!("f_{}", f.key),
            label: f.label.clone(),
            kind: f.kind.key(),
            required: f.required,
            options: f.options.clone(),
            hint: f.hint.clone(),
            value: values.field(&f.key).unwrap_or_default().to_string(),
            error: errors
                .iter()
                .find(|e| e.field == format!("form.{}", f.key))
                .map(|e| e.message.clone()),
        })
        .collect()
}

pub struct MaterialInput {
    pub index: usize,
    pub name: String,
    pub required: bool,
    pub hint: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    layout: Layout,
    item_id: i64,
    item_name: String,
    department: String,
    category: &'static str,
    promised: String,
    show_org: bool,
    org_required: bool,
    id_required: bool,
    values: ApplyValues,
    errors: ApplyErrors,
    fields: Vec<FieldInput>,
    materials: Vec<MaterialInput>,
    /// A problem not tied to one field, or a reminder after an error.
    notice: Option<String>,
    /// Whether files must be chosen again (the browser forgets them).
    files_lost: bool,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    layout: Layout,
    number: String,
    item_name: String,
    department: String,
    state_label: String,
    received_on: String,
    materials: usize,
    lookup_href: String,
}

const DESCRIPTION_MAX: usize = 2000;

fn material_inputs(guide: &Guide) -> Vec<MaterialInput> {
    guide
        .materials
        .iter()
        .enumerate()
        .map(|(index, m)| MaterialInput {
            index,
            name: m.name.clone(),
            required: m.required,
            hint: copies_text(m.originals, m.copies),
            error: None,
        })
        .collect()
}

/// The form as shown: what was typed, what is wrong with it, and a notice
/// after a refused submission (whose chosen files the browser forgets).
struct FormState {
    values: ApplyValues,
    errors: ApplyErrors,
    field_errors: Vec<FieldError>,
    materials: Vec<MaterialInput>,
    notice: Option<String>,
}

async fn apply_page(
    state: &AppState,
    item: &ServiceItem,
    user_name: Option<String>,
    form: FormState,
) -> ApplyPage {
    let FormState {
        values,
        errors,
        field_errors,
        materials,
        notice,
    } = form;
    let files_lost = notice.is_some();
    let g = &item.guide;
    let department = state
        .store
        .department(item.department_id)
        .await
        .map(|d| d.name)
        .unwrap_or_default();
    ApplyPage {
        layout: Layout::new(state, format!("在线申请：{}", g.name), "home", user_name),
        item_id: item.id,
        item_name: g.name.clone(),
        department,
        category: g.category.label(),
        promised: g.promised_limit.label(),
        show_org: g.target != Target::Personal,
        org_required: g.target == Target::Enterprise,
        id_required: g.target == Target::Personal,
        fields: field_inputs(g, &values, &field_errors),
        values,
        errors,
        materials,
        notice,
        files_lost,
    }
}

/// The item, if it takes applications now.
async fn open_item(state: &AppState, id: &str) -> Result<ServiceItem, ApiError> {
    let item = visible_item(state, id, false).await?;
    if item.status != ItemStatus::Published {
        return Err(DomainError::ItemNotPublished.into());
    }
    Ok(item)
}

pub async fn apply_form(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Response {
    let name = user_name(&user);
    let item = match open_item(&state, &id).await {
        Ok(item) => item,
        Err(e) => return error_page(&state, name, &e),
    };
    let token = match onewindow_store::staff::new_token() {
        Ok(token) => token,
        Err(e) => return error_page(&state, name, &e.into()),
    };
    let values = ApplyValues {
        token,
        ..ApplyValues::default()
    };
    let materials = material_inputs(&item.guide);
    let form = FormState {
        values,
        errors: ApplyErrors::default(),
        field_errors: Vec::new(),
        materials,
        notice: None,
    };
    let page = apply_page(&state, &item, name, form).await;
    render(StatusCode::OK, &page)
}

/// What the multipart form carried.
struct Submission {
    values: ApplyValues,
    /// Material index and file, as uploaded (not yet checked).
    files: Vec<(usize, String, Vec<u8>)>,
}

async fn read_submission(
    mut multipart: Multipart,
    material_count: usize,
) -> Result<Submission, ApiError> {
    let mut values = ApplyValues::default();
    let mut files = Vec::new();
    let broken = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid(
            "body",
            format!("提交内容读取失败（可能超过大小上限）：{}", e.body_text()),
        )
    };
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(index) = name
            .strip_prefix("material_")
            .and_then(|i| i.parse::<usize>().ok())
        {
            let file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(broken)?;
            // A file input left empty sends a part with no name and no bytes.
            if index < material_count && !(file_name.is_empty() && bytes.is_empty()) {
                files.push((index, file_name, bytes.to_vec()));
            }
            continue;
        }
        let text = field.text().await.map_err(broken)?;
        let slot = match name.as_str() {
            "name" => &mut values.name,
            "phone" => &mut values.phone,
            "id_number" => &mut values.id_number,
            "organization" => &mut values.organization,
            "description" => &mut values.description,
            "token" => &mut values.token,
            _ => {
                if let Some(key) = name.strip_prefix("f_") {
                    values
                        .fields
                        .push((key.to_string(), text.trim().to_string()));
                }
                continue;
            }
        };
        *slot = text.trim().to_string();
    }
    Ok(Submission { values, files })
}

fn check_values(values: &ApplyValues, target: Target) -> ApplyErrors {
    let mut errors = ApplyErrors::default();
    if values.name.is_empty() {
        errors.name = Some("请填写申请人姓名".into());
    } else if values.name.chars().count() > 100 {
        errors.name = Some("申请人姓名不得超过100字".into());
    }
    if values.phone.is_empty() {
        errors.phone = Some("请填写联系电话，办件查询时需要使用".into());
    } else if !is_phone(&values.phone) {
        errors.phone = Some(
            "联系电话格式不正确：请填写11位手机号码，或带区号的固定电话（如0734-5822001）".into(),
        );
    }
    if values.id_number.is_empty() {
        if target == Target::Personal {
            errors.id_number = Some("请填写申请人身份证号码".into());
        }
    } else if !is_id_number(&values.id_number) {
        errors.id_number = Some("身份证号码格式不正确，请核对18位号码（末位可为X）".into());
    }
    if values.organization.is_empty() {
        if target == Target::Enterprise {
            errors.organization = Some("本事项由法人或其他组织申请，请填写单位名称".into());
        }
    } else if values.organization.chars().count() > 200 {
        errors.organization = Some("单位名称不得超过200字".into());
    }
    if values.description.chars().count() > DESCRIPTION_MAX {
        errors.description = Some(format!("申请事项说明不得超过{DESCRIPTION_MAX}字"));
    }
    errors
}

pub async fn apply(
    _: SameOrigin,
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let name = user_name(&user);
    let item = match open_item(&state, &id).await {
        Ok(item) => item,
        Err(e) => return error_page(&state, name, &e),
    };
    let submission = match multipart {
        Ok(multipart) => read_submission(multipart, item.guide.materials.len()).await,
        Err(e) => Err(ApiError::invalid(
            "body",
            format!("提交内容格式错误：{}", e.body_text()),
        )),
    };
    let Submission { mut values, files } = match submission {
        Ok(s) => s,
        Err(e) => return error_page(&state, name, &e),
    };
    let g = &item.guide;
    let errors = check_values(&values, g.target);
    let (field_data, field_errors) = match check_form(&g.form_fields, |k| values.field(k)) {
        Ok(data) => (data, Vec::new()),
        Err(errors) => (serde_json::Map::new(), errors),
    };
    let mut inputs = material_inputs(g);
    let mut checked: Vec<(String, NewFile)> = Vec::new();
    for (index, file_name, bytes) in files {
        let material = &g.materials[index].name;
        match check_file(
            &format!("material_{index}"),
            &file_name,
            bytes,
            state.settings.max_upload_bytes,
        ) {
            Ok(file) => checked.push((material.clone(), file)),
            Err(e) => {
                inputs[index].error.get_or_insert(e.message);
            }
        }
    }
    for input in inputs.iter_mut() {
        if input.required && input.error.is_none() && !checked.iter().any(|(m, _)| *m == input.name)
        {
            input.error = Some("本材料为必需材料，请上传电子文件".into());
        }
    }
    let files_bad = inputs.iter().any(|i| i.error.is_some());
    if errors.any() || !field_errors.is_empty() || files_bad {
        let notice =
            "申请未提交：请按红色提示修改后重新提交。为保护您的信息，已选择的文件需要重新选择。";
        let form = FormState {
            values,
            errors,
            field_errors,
            materials: inputs,
            notice: Some(notice.into()),
        };
        let page = apply_page(&state, &item, name, form).await;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let mut form = field_data;
    if !values.description.is_empty() {
        form.insert(DESCRIPTION_KEY.into(), values.description.clone().into());
    }
    let applicant = Applicant {
        name: values.name.clone(),
        phone: values.phone.clone(),
        id_number: values.id_number.to_uppercase(),
        organization: values.organization.clone(),
    };
    let idempotency = idempotency_key(&values, item.id, &checked);
    let material_count = checked.len();
    let new_case = NewCase {
        item_id: item.id,
        channel: Channel::Online,
        applicant,
        form: serde_json::Value::Object(form),
        materials: checked,
        registered_by: None,
    };
    match state
        .store
        .submit_case(new_case, idempotency, state.now())
        .await
    {
        Ok(applied) => {
            let department = state
                .store
                .department(item.department_id)
                .await
                .map(|d| d.name)
                .unwrap_or_default();
            let case = &applied.case;
            let page = ReceiptPage {
                layout: Layout::new(&state, "申请已提交", "home", name),
                number: case.number.clone(),
                item_name: g.name.clone(),
                department,
                state_label: case.facts.state.label().into(),
                received_on: super::date_text(case.facts.received_on),
                materials: material_count,
                lookup_href: format!("/lookup?number={}", query_value(&case.number)),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => {
            let e = ApiError::from(e);
            let mut errors = ApplyErrors::default();
            let mut field_errors = Vec::new();
            if let Some(field) = e.field.as_deref().filter(|f| f.starts_with("form.")) {
                field_errors.push(FieldError::new(field, e.message.clone()));
            }
            let slot = match e.field.as_deref() {
                Some("applicant.name") => Some(&mut errors.name),
                Some("applicant.phone") => Some(&mut errors.phone),
                Some("applicant.id_number") => Some(&mut errors.id_number),
                Some("applicant.organization") => Some(&mut errors.organization),
                _ => None,
            };
            let notice = match slot {
                Some(slot) => {
                    *slot = Some(e.message.clone());
                    "申请未提交：请按红色提示修改后重新提交。已选择的文件需要重新选择。".to_string()
                }
                None => format!("申请未提交：{}", e.message),
            };
            if e.field.as_deref() == Some("Idempotency-Key") {
                // The same form was sent again with other content: start afresh.
                values.token = onewindow_store::staff::new_token().unwrap_or_default();
            }
            let form = FormState {
                values,
                errors,
                field_errors,
                materials: material_inputs(g),
                notice: Some(notice),
            };
            let page = apply_page(&state, &item, name, form).await;
            render(e.status, &page)
        }
    }
}

/// The form's one-time token as an idempotency key bound to what was sent:
/// a double click files one case; the same token with other content is
/// refused by the store.
fn idempotency_key(
    values: &ApplyValues,
    item_id: i64,
    files: &[(String, NewFile)],
) -> Option<IdempotencyKey> {
    let token = values.token.trim();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let files: Vec<_> = files
        .iter()
        .map(|(m, f)| (m.clone(), onewindow_core::audit::sm3_hex(&f.bytes)))
        .collect();
    let canonical = serde_json::json!({
        "item_id": item_id, "name": values.name, "phone": values.phone, "id_number": values.id_number,
        "organization": values.organization, "description": values.description,
        "fields": values.fields, "files": files,
    });
    Some(IdempotencyKey {
        scope: "public".into(),
        key: format!("page-apply:{token}"),
        request_hash: onewindow_core::audit::sm3_hex(canonical.to_string().as_bytes()),
    })
}

// ---------------------------------------------------------------------------
// Case look-up.

#[derive(Debug, Default, Deserialize)]
pub struct LookupParams {
    #[serde(default)]
    number: String,
    #[serde(default)]
    phone: String,
    /// `withdraw`: the applicant withdraws the application shown;
    /// `resubmit`: resubmits it after the one-time supplement notice;
    /// `rate`: rates the finished case.
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
}

pub struct LookupResult {
    pub number: String,
    pub item_name: String,
    pub department_name: String,
    pub state_key: String,
    pub state_label: String,
    pub received_on: String,
    pub promised_due: Option<String>,
    /// Why the promised day is provisional (the tooltip of the mark 临时),
    /// when a year of its period has no published holiday arrangement.
    pub promised_provisional: Option<String>,
    pub outcome: Option<String>,
    /// Whether the applicant may still withdraw the application.
    pub can_withdraw: bool,
    /// Whether the application waits for the supplement the notice asked.
    pub can_resubmit: bool,
    /// Finished and not rated yet: the rating form is shown.
    pub can_rate: bool,
    /// The rating given: grade and comment.
    pub rating: Option<(String, String)>,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    layout: Layout,
    number: String,
    phone: String,
    error: Option<String>,
    notice: Option<String>,
    result: Option<LookupResult>,
    /// Why a rating was refused, and the comment typed.
    rating_error: Option<String>,
    comment: String,
    grades: &'static [(u8, &'static str)],
}

fn lookup_page(state: &AppState, user_name: Option<String>, params: &LookupParams) -> LookupPage {
    LookupPage {
        layout: Layout::new(state, "办件查询", "lookup", user_name),
        number: params.number.trim().chars().take(40).collect(),
        phone: params.phone.trim().chars().take(20).collect(),
        error: None,
        notice: None,
        result: None,
        rating_error: None,
        comment: String::new(),
        grades: &onewindow_core::rating::GRADES,
    }
}

/// The form; `?number=` fills in the number (the receipt links here).
pub async fn lookup_form(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(params): Query<LookupParams>,
) -> Response {
    // The phone number is not taken from the address, where it would end up in
    // browser histories and logs.
    let params = LookupParams {
        number: params.number,
        ..LookupParams::default()
    };
    render(
        StatusCode::OK,
        &lookup_page(&state, user_name(&user), &params),
    )
}

/// The look-up itself is a POST so that the phone number stays out of URLs.
pub async fn lookup(
    _: SameOrigin,
    State(state): State<AppState>,
    user: MaybeUser,
    Form(params): Form<LookupParams>,
) -> Response {
    let mut page = lookup_page(&state, user_name(&user), &params);
    let result = async {
        if page.number.is_empty() {
            return Err(ApiError::invalid("number", "请输入办件编号"));
        }
        if page.phone.is_empty() {
            return Err(ApiError::invalid("phone", "请输入申请时填写的联系电话"));
        }
        let case = match params.action.as_str() {
            "withdraw" => {
                let command = onewindow_core::case::Command::Withdraw {
                    reason: params.reason.trim().chars().take(500).collect(),
                };
                let applied = crate::api::cases::run_applicant_command(
                    &state,
                    &page.number,
                    &page.phone,
                    command,
                    None,
                )
                .await?;
                page.notice = Some("申请已撤回。".into());
                applied.case
            }
            "resubmit" => {
                let command = onewindow_core::case::Command::Resubmit {
                    note: params.note.trim().chars().take(500).collect(),
                };
                let applied = crate::api::cases::run_applicant_command(
                    &state,
                    &page.number,
                    &page.phone,
                    command,
                    None,
                )
                .await?;
                page.notice = Some("补正材料已提交，窗口将重新审查您的申请。".into());
                applied.case
            }
            "rate" => {
                let score = params.score.trim().parse::<u8>().unwrap_or(0);
                let rating = onewindow_core::rating::Rating {
                    score,
                    comment: params.comment.clone(),
                };
                let rated = state
                    .store
                    .rate_case(&page.number, &page.phone, rating, state.now())
                    .await;
                let case = state.store.lookup_case(&page.number, &page.phone).await?;
                match rated {
                    Ok(_) => page.notice = Some("感谢您的评价！".into()),
                    Err(e) => {
                        // The case is still shown, with why the rating was refused.
                        page.rating_error = Some(ApiError::from(e).message);
                        page.comment = params.comment.trim().chars().take(500).collect();
                    }
                }
                case
            }
            "" => state.store.lookup_case(&page.number, &page.phone).await?,
            _ => return Err(ApiError::invalid("action", "不支持的操作")),
        };
        let rating = state.store.rating(case.id).await?;
        let view = crate::api::cases::public_view(&state, &case).await?;
        let f = &case.facts;
        let provisional = f.promised_due.and_then(|due| {
            let start = f.clock_start.unwrap_or(f.received_on);
            super::work::provisional_note(&state.calendar(), start, due)
        });
        Ok::<_, ApiError>((view, rating, provisional))
    }
    .await;
    match result {
        Ok((view, rating, promised_provisional)) => {
            let finished = view.state == CaseState::Completed.key();
            page.result = Some(LookupResult {
                can_resubmit: view.allowed_actions.iter().any(|a| a == "resubmit"),
                can_rate: finished && rating.is_none(),
                rating: rating.map(|r| (r.label, r.comment)),
                number: view.number,
                item_name: view.item_name,
                department_name: view.department_name,
                state_key: view.state,
                state_label: view.state_label,
                received_on: date_string_text(&view.received_on),
                promised_due: view.promised_due.as_deref().map(date_string_text),
                promised_provisional,
                outcome: view.outcome,
                can_withdraw: view.allowed_actions.iter().any(|a| a == "withdraw"),
                timeline: view
                    .timeline
                    .iter()
                    .map(|e| {
                        let (lines, supplement) = detail_lines(&e.detail);
                        TimelineEntry {
                            title: e.action_label.clone(),
                            state_label: e.state_label.clone(),
                            at: super::timestamp_string_text(&e.at),
                            actor: None,
                            lines,
                            supplement,
                        }
                    })
                    .collect(),
            });
            render(StatusCode::OK, &page)
        }
        Err(e) => {
            let status = e.status;
            page.error = Some(e.message);
            render(status, &page)
        }
    }
}
