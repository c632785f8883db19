//! Administration: departments, staff and A/B posts, the catalog and its
//! spreadsheet, the audit chain.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use onewindow_core::catalog::{Guide, ItemStatus, RegionLevel};
use onewindow_core::staff::{Role, check_roles, parse_roles};
use onewindow_store::admin::{DepartmentChanges, StaffProfile};
use onewindow_store::audit::Verification;
use onewindow_store::staff::{NewDepartment, NewStaff, Window};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::{DepartmentView, ItemDetail};
use super::session::StaffView;
use crate::AppState;
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};

#[derive(Deserialize, ToSchema)]
pub struct DepartmentRequest {
    pub code: String,
    pub name: String,
    /// county | township | village
    pub level: String,
    pub parent_id: Option<i64>,
    pub region_code: Option<String>,
    #[serde(default)]
    pub window_location: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

#[utoipa::path(post, path = "/api/v1/departments", tag = "admin", request_body = DepartmentRequest,
    responses((status = 201, body = DepartmentView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_department(
    State(state): State<AppState>,
    user: StaffUser,
    Json(request): Json<DepartmentRequest>,
) -> ApiResult<Response> {
    user.require(Role::Admin)?;
    let level = level_of(&request.level)?;
    if !request
        .code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || request.code.is_empty()
    {
        return Err(ApiError::invalid(
            "code",
            "部门编码只能由字母、数字和下划线组成",
        ));
    }
    let department = state
        .store
        .create_department(
            user.scope(),
            NewDepartment {
                code: request.code,
                name: request.name,
                level,
                parent_id: request.parent_id,
                region_code: request
                    .region_code
                    .unwrap_or_else(|| state.store.region_code().to_string()),
                window_location: request.window_location,
                phone: request.phone,
                address: request.address,
            },
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(DepartmentView::from(&department)),
    )
        .into_response())
}

/// Who may create and change staff members and their passwords.
const PEOPLE: &[Role] = &[Role::Admin, Role::SecurityAdmin];

fn level_of(text: &str) -> Result<RegionLevel, ApiError> {
    RegionLevel::parse(text)
        .ok_or_else(|| ApiError::invalid("level", "层级只能是 county、township 或 village"))
}

/// The particulars of a department as the API replaces them; omitted text
/// fields are cleared. The code and region code stay as created.
#[derive(Deserialize, ToSchema)]
pub struct UpdateDepartmentRequest {
    pub name: String,
    /// county | township | village
    pub level: String,
    #[serde(default)]
    pub window_location: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UpdateDepartmentRequest,
    responses((status = 200, body = DepartmentView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_department(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<UpdateDepartmentRequest>,
) -> ApiResult<axum::Json<DepartmentView>> {
    user.require(Role::Admin)?;
    let level = level_of(&request.level)?;
    let department = state
        .store
        .update_department(
            user.scope(),
            id,
            DepartmentChanges {
                name: request.name,
                level,
                window_location: request.window_location,
                phone: request.phone,
                address: request.address,
            },
            state.now(),
        )
        .await?;
    Ok(axum::Json(DepartmentView::from(&department)))
}

#[derive(Serialize, ToSchema)]
pub struct WindowView {
    pub id: i64,
    pub department_id: i64,
    pub name: String,
    pub location: String,
}

#[derive(Deserialize, ToSchema)]
pub struct WindowRequest {
    pub department_id: i64,
    pub name: String,
    #[serde(default)]
    pub location: String,
}

impl From<Window> for WindowView {
    fn from(w: Window) -> Self {
        WindowView {
            id: w.id,
            department_id: w.department_id,
            name: w.name,
            location: w.location,
        }
    }
}

#[derive(Deserialize)]
pub struct WindowQuery {
    pub department_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/windows", tag = "catalog", params(("department_id" = Option<i64>, Query)),
    responses((status = 200, body = Vec<WindowView>)))]
pub async fn list_windows(
    State(state): State<AppState>,
    Query(query): Query<WindowQuery>,
) -> ApiResult<axum::Json<Vec<WindowView>>> {
    let windows = state.store.windows(query.department_id).await?;
    Ok(axum::Json(
        windows.into_iter().map(WindowView::from).collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/windows", tag = "admin", request_body = WindowRequest,
    responses((status = 201, body = WindowView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_window(
    State(state): State<AppState>,
    user: StaffUser,
    Json(request): Json<WindowRequest>,
) -> ApiResult<Response> {
    user.require(Role::Admin)?;
    let name = request.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "窗口名称不能为空"));
    }
    let id = state
        .store
        .create_window(
            user.scope(),
            request.department_id,
            name.clone(),
            request.location.clone(),
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WindowView {
            id,
            department_id: request.department_id,
            name,
            location: request.location,
        }),
    )
        .into_response())
}

/// A window's name and location as the API replaces them; it stays with
/// its department.
#[derive(Deserialize, ToSchema)]
pub struct UpdateWindowRequest {
    pub name: String,
    #[serde(default)]
    pub location: String,
}

#[utoipa::path(put, path = "/api/v1/windows/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UpdateWindowRequest,
    responses((status = 200, body = WindowView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_window(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<UpdateWindowRequest>,
) -> ApiResult<axum::Json<WindowView>> {
    user.require(Role::Admin)?;
    state
        .store
        .update_window(
            user.scope(),
            id,
            request.name,
            request.location,
            state.now(),
        )
        .await?;
    Ok(axum::Json(WindowView::from(state.store.window(id).await?)))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateItemRequest {
    pub department_id: i64,
    /// The guide; see `ItemDetail.guide` for its fields.
    #[schema(value_type = Object)]
    pub guide: Guide,
}

#[utoipa::path(post, path = "/api/v1/items", tag = "admin", request_body = CreateItemRequest,
    responses((status = 201, body = ItemDetail), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_item(
    State(state): State<AppState>,
    user: StaffUser,
    Json(request): Json<CreateItemRequest>,
) -> ApiResult<Response> {
    user.require(Role::Admin)?;
    check_guide_files(&state, &request.guide, None).await?;
    let item = state
        .store
        .create_item(
            user.scope(),
            request.department_id,
            request.guide,
            state.now(),
        )
        .await?;
    state.search.catalog_changed(&state.store);
    Ok((StatusCode::CREATED, axum::Json(ItemDetail::of(&item))).into_response())
}

/// Refuses a guide naming a file the catalog may not publish: one that does
/// not exist, a material handed in with a case, or an attachment to a card's
/// answer (the guide's files are public). Files the stored guide already
/// names are kept as they are.
async fn check_guide_files(
    state: &AppState,
    guide: &Guide,
    stored: Option<&Guide>,
) -> ApiResult<()> {
    let known: std::collections::HashSet<i64> = stored
        .into_iter()
        .flat_map(|g| &g.materials)
        .flat_map(|m| [m.template_file, m.sample_file])
        .flatten()
        .collect();
    for (i, material) in guide.materials.iter().enumerate() {
        for (field, label, file) in [
            ("template_file", "空白表格", material.template_file),
            ("sample_file", "填写样例", material.sample_file),
        ] {
            let Some(file) = file.filter(|f| !known.contains(f)) else {
                continue;
            };
            let refuse = |why: &str| {
                ApiError::invalid(
                    format!("guide.materials[{i}].{field}"),
                    format!("申请材料“{}”的{label}（文件{file}）{why}", material.name),
                )
            };
            match state.store.file(file).await {
                Ok(_) => {}
                Err(onewindow_store::StoreError::NotFound { .. }) => {
                    return Err(refuse("不存在，请先通过 /api/v1/files 上传"));
                }
                Err(e) => return Err(e.into()),
            }
            if state.store.case_of_file(file).await?.is_some()
                || state.store.card_of_file(file).await?.is_some()
            {
                return Err(refuse("是办件材料或督办件附件，不能在办事指南中公开"));
            }
        }
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateItemRequest {
    #[schema(value_type = Object)]
    pub guide: Guide,
    /// The version the edit started from; a newer stored version refuses the edit.
    pub version: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/items/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UpdateItemRequest,
    responses((status = 200, body = ItemDetail), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_item(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<UpdateItemRequest>,
) -> ApiResult<axum::Json<ItemDetail>> {
    user.require(Role::Admin)?;
    let stored = state.store.item(id).await?;
    check_guide_files(&state, &request.guide, Some(&stored.guide)).await?;
    let item = state
        .store
        .update_guide(
            user.scope(),
            id,
            request.version,
            request.guide,
            state.now(),
        )
        .await?;
    state.search.catalog_changed(&state.store);
    Ok(axum::Json(ItemDetail::of(&item)))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    /// draft | published | suspended
    pub status: String,
}

#[utoipa::path(put, path = "/api/v1/items/{id}/status", tag = "admin", params(("id" = i64, Path)), request_body = StatusRequest,
    responses((status = 200, body = ItemDetail), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_item_status(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<StatusRequest>,
) -> ApiResult<axum::Json<ItemDetail>> {
    user.require(Role::Admin)?;
    let status = ItemStatus::parse(&request.status)
        .ok_or_else(|| ApiError::invalid("status", "状态只能是 draft、published 或 suspended"))?;
    let item = state
        .store
        .set_item_status(user.scope(), id, status, state.now())
        .await?;
    state.search.catalog_changed(&state.store);
    Ok(axum::Json(ItemDetail::of(&item)))
}

#[derive(Deserialize)]
pub struct StaffQuery {
    pub department_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/staff", tag = "admin", params(("department_id" = Option<i64>, Query)),
    responses((status = 200, body = Vec<StaffView>)))]
pub async fn list_staff(
    State(state): State<AppState>,
    user: StaffUser,
    Query(query): Query<StaffQuery>,
) -> ApiResult<axum::Json<Vec<StaffView>>> {
    let department = if user.0.has(Role::Admin) || user.0.has(Role::Supervisor) {
        query.department_id
    } else {
        Some(user.0.department_id)
    };
    let staff = state.store.staff(department).await?;
    Ok(axum::Json(staff.iter().map(StaffView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateStaffRequest {
    pub login: String,
    pub name: String,
    pub department_id: i64,
    /// Role keys, e.g. ["window_clerk"].
    pub roles: Vec<String>,
    /// At least 8 characters.
    pub password: String,
    #[serde(default)]
    pub phone: String,
}

#[utoipa::path(post, path = "/api/v1/staff", tag = "admin", request_body = CreateStaffRequest,
    responses((status = 201, body = StaffView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_staff(
    State(state): State<AppState>,
    user: StaffUser,
    Json(request): Json<CreateStaffRequest>,
) -> ApiResult<Response> {
    user.require_any(PEOPLE)?;
    let roles = roles_of(&request.roles)?;
    let member = state
        .store
        .create_staff(
            user.scope(),
            NewStaff {
                login: request.login,
                name: request.name,
                department_id: request.department_id,
                roles,
                password: request.password,
                phone: request.phone,
            },
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(StaffView::from(&member))).into_response())
}

/// Role keys as sent, checked: each one known, at most one administrator's.
fn roles_of(keys: &[String]) -> Result<Vec<Role>, ApiError> {
    let roles = parse_roles(&keys.join(","))
        .map_err(|r| ApiError::invalid("roles", format!("岗位“{r}”不存在")))?;
    check_roles(&roles)?;
    Ok(roles)
}

/// A staff member's profile and department as the API replaces them;
/// omitted text fields are cleared. The A/B post and presence have routes of
/// their own.
#[derive(Deserialize, ToSchema)]
pub struct UpdateStaffRequest {
    pub name: String,
    /// Moving to another department needs the person to have no B and be
    /// nobody's B.
    pub department_id: i64,
    /// Role keys, e.g. ["window_clerk"].
    pub roles: Vec<String>,
    #[serde(default)]
    pub phone: String,
    /// Where e-mail alerts go; empty for none.
    #[serde(default)]
    pub email: String,
}

#[utoipa::path(put, path = "/api/v1/staff/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UpdateStaffRequest,
    responses((status = 200, body = StaffView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_staff(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<UpdateStaffRequest>,
) -> ApiResult<axum::Json<StaffView>> {
    user.require_any(PEOPLE)?;
    let roles = roles_of(&request.roles)?;
    let member = state
        .store
        .update_staff(
            user.scope(),
            id,
            StaffProfile {
                name: request.name,
                roles,
                phone: request.phone,
                email: request.email,
            },
            request.department_id,
            state.now(),
        )
        .await?
        .member;
    Ok(axum::Json(StaffView::from(&member)))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    /// 8 to 128 characters.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordReset {
    /// How many of the person's log-in sessions ended (they log in again).
    pub sessions_ended: u64,
}

#[utoipa::path(put, path = "/api/v1/staff/{id}/password", tag = "admin", params(("id" = i64, Path)), request_body = PasswordRequest,
    responses((status = 200, body = PasswordReset), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<PasswordRequest>,
) -> ApiResult<axum::Json<PasswordReset>> {
    user.require_any(PEOPLE)?;
    let sessions_ended = state
        .store
        .reset_password(user.scope(), id, request.password, state.now())
        .await?;
    Ok(axum::Json(PasswordReset { sessions_ended }))
}

#[derive(Deserialize, ToSchema)]
pub struct BackupRequest {
    /// The B of this person's post, or null to clear it.
    pub backup_id: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/staff/{id}/backup", tag = "admin", params(("id" = i64, Path)), request_body = BackupRequest,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_backup(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<BackupRequest>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    state
        .store
        .set_backup(user.scope(), id, request.backup_id, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct AbsenceRequest {
    pub absent: bool,
}

#[utoipa::path(put, path = "/api/v1/staff/{id}/absence", tag = "admin", params(("id" = i64, Path)), request_body = AbsenceRequest,
    responses((status = 200, body = StaffView), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_absence(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i64>,
    Json(request): Json<AbsenceRequest>,
) -> ApiResult<axum::Json<StaffView>> {
    let target = state.store.staff_member(id).await?;
    // The admin, or the department's approver (its leader on duty).
    let allowed = user.0.has(Role::Admin)
        || (user.0.has(Role::Approver) && user.0.department_id == target.department_id);
    if !allowed {
        return Err(ApiError::forbidden(
            "只有系统管理员或本部门负责人可以登记在岗状态",
        ));
    }
    let member = state
        .store
        .set_absent(user.scope(), id, request.absent, state.now())
        .await?;
    Ok(axum::Json(StaffView::from(&member)))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "admin",
    responses((status = 200, description = "The catalog as .xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
pub async fn export_catalog(State(state): State<AppState>, user: StaffUser) -> ApiResult<Response> {
    user.require_any(&[Role::Admin, Role::Supervisor])?;
    let items = state.store.all_items().await?;
    let bytes = crate::xlsx::export(&items).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename*=UTF-8''%E4%BA%8B%E9%A1%B9%E7%9B%AE%E5%BD%95.xlsx"
                    .to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "admin",
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportResult), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_catalog(
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> ApiResult<axum::Json<ImportResult>> {
    user.require(Role::Admin)?;
    if body.is_empty() {
        return Err(ApiError::invalid("body", "请上传.xlsx格式的事项目录文件"));
    }
    let rows =
        crate::xlsx::import(&body).map_err(|e| ApiError::invalid(e.field(), e.to_string()))?;
    let summary = state
        .store
        .import_items(user.scope(), rows, state.now())
        .await?;
    state.search.catalog_changed(&state.store);
    Ok(axum::Json(ImportResult {
        created: summary.created,
        updated: summary.updated,
        unchanged: summary.unchanged,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AuditVerification {
    pub intact: bool,
    pub entries: Option<i64>,
    /// The first broken entry.
    pub broken_seq: Option<i64>,
    pub message: String,
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "admin", responses((status = 200, body = AuditVerification)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    user: StaffUser,
) -> ApiResult<axum::Json<AuditVerification>> {
    user.require_any(&[Role::AuditAdmin, Role::Supervisor])?;
    Ok(axum::Json(match state.store.verify_audit().await? {
        Verification::Intact { entries } => AuditVerification {
            intact: true,
            entries: Some(entries),
            broken_seq: None,
            message: format!("审计日志完整：共{entries}条记录，哈希链校验通过"),
        },
        Verification::Broken { seq, reason } => AuditVerification {
            intact: false,
            entries: None,
            broken_seq: Some(seq),
            message: reason,
        },
    }))
}
