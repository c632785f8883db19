//! The public catalog: departments, items, guides.

use axum::extract::State;
use onewindow_core::catalog::{HandlingCategory, ItemStatus};
use onewindow_store::catalog::{ItemFilter, ServiceItem};
use onewindow_store::staff::Department;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::MaybeUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};

#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// county | township | village
    pub level: String,
    pub level_label: String,
    pub window_location: String,
    pub phone: String,
    pub address: String,
}

impl From<&Department> for DepartmentView {
    fn from(d: &Department) -> Self {
        DepartmentView {
            id: d.id,
            code: d.code.clone(),
            name: d.name.clone(),
            level: d.level.key().into(),
            level_label: d.level.label().into(),
            window_location: d.window_location.clone(),
            phone: d.phone.clone(),
            address: d.address.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ItemSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub department_id: i64,
    /// draft | published | suspended
    pub status: String,
    /// instant | one_review | promised | joint | escalated | agent
    pub category: String,
    pub category_label: String,
    pub item_type_label: String,
    pub target_label: String,
    pub promised_limit: String,
    pub statutory_limit: String,
    /// How much shorter the promised limit is than the statutory one, in percent.
    pub compression_percent: Option<u32>,
    pub visits: u32,
    pub version: i64,
}

impl From<&ServiceItem> for ItemSummary {
    fn from(item: &ServiceItem) -> Self {
        let g = &item.guide;
        ItemSummary {
            id: item.id,
            code: g.code.clone(),
            name: g.name.clone(),
            department_id: item.department_id,
            status: item.status.key().into(),
            category: g.category.key().into(),
            category_label: g.category.label().into(),
            item_type_label: g.item_type.label().into(),
            target_label: g.target.label().into(),
            promised_limit: g.promised_limit.label(),
            statutory_limit: g.statutory_limit_in_force().label(),
            compression_percent: g.compression_percent(),
            visits: g.visits,
            version: item.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub summary: ItemSummary,
    /// The whole guide (办事指南): limits, legal basis, conditions, materials,
    /// fees, steps, visits, location, hours, phones. Same shape as the body of
    /// `POST /api/v1/items`.
    #[schema(value_type = Object)]
    pub guide: serde_json::Value,
}

impl ItemDetail {
    pub fn of(item: &ServiceItem) -> ItemDetail {
        ItemDetail {
            summary: ItemSummary::from(item),
            guide: serde_json::to_value(&item.guide).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ItemPage {
    pub items: Vec<ItemSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct ItemQuery {
    /// Words to find in the item's name, aliases or guide.
    pub q: Option<String>,
    pub department_id: Option<i64>,
    /// A handling category key (instant, one_review…) or its Chinese name.
    pub category: Option<String>,
    /// Staff only: draft, published or suspended (the public sees published items).
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ItemQuery {
    pub fn filter(&self, staff: bool) -> ApiResult<ItemFilter> {
        let category = match self.category.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(
                HandlingCategory::parse(c)
                    .ok_or_else(|| ApiError::invalid("category", format!("办件类型“{c}”不存在")))?,
            ),
            None => None,
        };
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            Some(_) if !staff => Some(ItemStatus::Published),
            Some(s) => Some(
                ItemStatus::parse(s)
                    .ok_or_else(|| ApiError::invalid("status", format!("事项状态“{s}”不存在")))?,
            ),
            None if staff => None,
            None => Some(ItemStatus::Published),
        };
        let per_page = self.per_page.unwrap_or(20).clamp(1, 200);
        let page = self.page.unwrap_or(1).max(1);
        Ok(ItemFilter {
            text: self.q.clone(),
            department_id: self.department_id,
            category,
            status,
            limit: per_page,
            offset: (page - 1) * per_page,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/departments", tag = "catalog", responses((status = 200, body = Vec<DepartmentView>)))]
pub async fn list_departments(
    State(state): State<AppState>,
) -> ApiResult<axum::Json<Vec<DepartmentView>>> {
    let departments = state.store.departments().await?;
    Ok(axum::Json(
        departments.iter().map(DepartmentView::from).collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(ItemQuery), responses((status = 200, body = ItemPage)))]
pub async fn list_items(
    State(state): State<AppState>,
    user: MaybeUser,
    Query(query): Query<ItemQuery>,
) -> ApiResult<axum::Json<ItemPage>> {
    let filter = query.filter(user.0.is_some())?;
    let (items, total) = crate::search::find_items(&state.search, &state.store, &filter).await?;
    Ok(axum::Json(ItemPage {
        items: items.iter().map(ItemSummary::from).collect(),
        total,
        page: filter.offset / filter.limit + 1,
        per_page: filter.limit,
    }))
}

#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_item(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ItemDetail>> {
    let item = state.store.item(id).await?;
    if item.status != ItemStatus::Published && user.0.is_none() {
        return Err(ApiError::not_found("未找到该事项"));
    }
    Ok(axum::Json(ItemDetail::of(&item)))
}
