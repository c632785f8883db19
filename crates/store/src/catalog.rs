//! Service items: create, edit, publish, search, import.

use jiff::Timestamp;
use onewindow_core::DomainError;
use onewindow_core::catalog::{Guide, HandlingCategory, ItemStatus};
// Dynamic SQL here only splices column lists and placeholders, never input.
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::{self, Entry};
use crate::db::{contains_pattern, from_micros, micros};
use crate::error::input_error;
use crate::{Conn, Store, StoreError};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceItem {
    pub id: i64,
    pub department_id: i64,
    pub status: ItemStatus,
    pub guide: Guide,
    pub version: i64,
    #[serde(skip)]
    pub updated_at: Timestamp,
}

/// A catalog query from the public portal or the admin pages.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Part of the name, an alias, the legal basis or the item's codes, in
    /// any letter case; LIKE wildcards in it are taken literally.
    pub text: Option<String>,
    pub department_id: Option<i64>,
    pub category: Option<HandlingCategory>,
    pub status: Option<ItemStatus>,
    pub limit: i64,
    pub offset: i64,
}

/// One row of an import: the item's department by code, its status and guide.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub department_code: String,
    pub status: ItemStatus,
    pub guide: Guide,
    /// The source did not carry application form fields (a workbook exported
    /// before they existed): an item already in the catalog keeps its own,
    /// and `guide.form_fields` is ignored for it.
    pub keep_form_fields: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

const ITEM_COLUMNS: &str = "id, department_id, status, guide, version, updated_at";

fn item_from(row: &AnyRow) -> Result<ServiceItem, StoreError> {
    let status: String = row.try_get("status")?;
    let guide: String = row.try_get("guide")?;
    Ok(ServiceItem {
        id: row.try_get("id")?,
        department_id: row.try_get("department_id")?,
        status: ItemStatus::parse(&status)
            .ok_or_else(|| StoreError::Backend(format!("bad status {status}")))?,
        guide: serde_json::from_str(&guide)
            .map_err(|e| StoreError::Backend(format!("bad guide JSON: {e}")))?,
        version: row.try_get("version")?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

/// What the catalog search matches (see `ItemFilter::text`), one field per
/// line so that no match spans two fields.
fn search_text(guide: &Guide) -> String {
    let mut lines = vec![guide.name.trim()];
    lines.extend(guide.aliases.iter().map(|a| a.trim()));
    lines.push(guide.legal_basis.trim());
    lines.push(guide.code.trim());
    lines.push(guide.implementing_code.trim());
    lines.join("\n")
}

fn validated(guide: &Guide) -> Result<(), StoreError> {
    guide
        .validate()
        .map_err(|errors| StoreError::Domain(DomainError::invalid_fields(errors)))
}

async fn insert_item(
    conn: &mut Conn,
    department_id: i64,
    status: ItemStatus,
    guide: &Guide,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let json = serde_json::to_string(guide).map_err(StoreError::backend)?;
    let row = sqlx::query(
        "INSERT INTO service_items (code, implementing_code, name, department_id, status, category, item_type, target, guide, updated_at, search_text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(guide.code.trim())
    .bind(guide.implementing_code.trim())
    .bind(guide.name.trim())
    .bind(department_id)
    .bind(status.key())
    .bind(guide.category.key())
    .bind(guide.item_type.key())
    .bind(guide.target.key())
    .bind(&json)
    .bind(micros(now))
    .bind(search_text(guide))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| item_input_error(e, guide))?;
    Ok(row.try_get("id")?)
}

async fn update_item(
    conn: &mut Conn,
    id: i64,
    department_id: i64,
    status: ItemStatus,
    guide: &Guide,
    now: Timestamp,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(guide).map_err(StoreError::backend)?;
    sqlx::query(
        "UPDATE service_items SET code = $1, implementing_code = $2, name = $3, department_id = $4, status = $5, \
         category = $6, item_type = $7, target = $8, guide = $9, updated_at = $10, search_text = $11, \
         version = version + 1 WHERE id = $12",
    )
    .bind(guide.code.trim())
    .bind(guide.implementing_code.trim())
    .bind(guide.name.trim())
    .bind(department_id)
    .bind(status.key())
    .bind(guide.category.key())
    .bind(guide.item_type.key())
    .bind(guide.target.key())
    .bind(&json)
    .bind(micros(now))
    .bind(search_text(guide))
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| item_input_error(e, guide))?;
    Ok(())
}

/// A taken item code or a missing department, named as bad input.
fn item_input_error(e: sqlx::Error, guide: &Guide) -> StoreError {
    input_error(
        e,
        Some(("code", &format!("事项编码“{}”已存在", guide.code.trim()))),
        Some(("department_id", "部门不存在")),
    )
}

async fn department_id_by_code(conn: &mut Conn, code: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query("SELECT id FROM departments WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

impl Store {
    pub async fn create_item(
        &self,
        actor: String,
        department_id: i64,
        guide: Guide,
        now: Timestamp,
    ) -> Result<ServiceItem, StoreError> {
        validated(&guide)?;
        self.write(move |conn| {
            Box::pin(async move {
                let id = insert_item(conn, department_id, ItemStatus::Draft, &guide, now).await?;
                let detail = serde_json::json!({ "code": guide.code, "name": guide.name });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "create_item",
                        object_kind: "item",
                        object_id: &id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                load_item(conn, id).await
            })
        })
        .await
    }

    /// Replaces an item's guide; `expected_version` guards against lost updates.
    pub async fn update_guide(
        &self,
        actor: String,
        id: i64,
        expected_version: Option<i64>,
        guide: Guide,
        now: Timestamp,
    ) -> Result<ServiceItem, StoreError> {
        validated(&guide)?;
        self.write(move |conn| {
            Box::pin(async move {
                let item = load_item(conn, id).await?;
                if expected_version.is_some_and(|v| v != item.version) {
                    return Err(StoreError::Conflict("事项已被他人修改，请刷新后重试".into()));
                }
                update_item(conn, id, item.department_id, item.status, &guide, now).await?;
                let detail = serde_json::json!({ "code": guide.code, "name": guide.name, "from_version": item.version });
                audit::append(conn, now, Entry { actor: &actor, action: "update_item", object_kind: "item", object_id: &id.to_string(), detail: &detail }).await?;
                load_item(conn, id).await
            })
        })
        .await
    }

    /// Publishes, suspends or returns an item to draft.
    pub async fn set_item_status(
        &self,
        actor: String,
        id: i64,
        status: ItemStatus,
        now: Timestamp,
    ) -> Result<ServiceItem, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let item = load_item(conn, id).await?;
                if status == ItemStatus::Published {
                    validated(&item.guide)?;
                }
                sqlx::query("UPDATE service_items SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                    .bind(status.key())
                    .bind(micros(now))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                let detail = serde_json::json!({ "from": item.status.key(), "to": status.key() });
                audit::append(conn, now, Entry { actor: &actor, action: "set_item_status", object_kind: "item", object_id: &id.to_string(), detail: &detail }).await?;
                load_item(conn, id).await
            })
        })
        .await
    }

    pub async fn item(&self, id: i64) -> Result<ServiceItem, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM service_items WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("item"))?;
        item_from(&row)
    }

    pub async fn item_by_code(&self, code: &str) -> Result<ServiceItem, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM service_items WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("item"))?;
        item_from(&row)
    }

    /// Items matching a filter, and how many match in all.
    pub async fn items(&self, filter: &ItemFilter) -> Result<(Vec<ServiceItem>, i64), StoreError> {
        let pattern = filter.text.as_deref().and_then(contains_pattern);
        let condition = "($1 IS NULL OR lower(search_text) LIKE lower($1) ESCAPE '\\') \
             AND ($2 IS NULL OR department_id = $2) AND ($3 IS NULL OR category = $3) AND ($4 IS NULL OR status = $4)";
        let limit = if filter.limit <= 0 {
            50
        } else {
            filter.limit.min(1000)
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM service_items WHERE {condition} \
             ORDER BY CASE WHEN $1 IS NOT NULL AND lower(name) LIKE lower($1) ESCAPE '\\' THEN 0 ELSE 1 END, department_id, id \
             LIMIT $5 OFFSET $6"
        )))
        .bind(pattern.clone())
        .bind(filter.department_id)
        .bind(filter.category.map(|c| c.key()))
        .bind(filter.status.map(|s| s.key()))
        .bind(limit)
        .bind(filter.offset.max(0))
        .fetch_all(self.pool())
        .await?;
        let total: i64 = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM service_items WHERE {condition}"
        )))
        .bind(pattern)
        .bind(filter.department_id)
        .bind(filter.category.map(|c| c.key()))
        .bind(filter.status.map(|s| s.key()))
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok((rows.iter().map(item_from).collect::<Result<_, _>>()?, total))
    }

    /// Every item with its department code, for export.
    pub async fn all_items(&self) -> Result<Vec<(String, ServiceItem)>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT d.code AS department_code, {} FROM service_items i JOIN departments d ON d.id = i.department_id ORDER BY i.id",
            ITEM_COLUMNS.split(", ").map(|c| format!("i.{c}")).collect::<Vec<_>>().join(", ")
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("department_code")?, item_from(row)?)))
            .collect()
    }

    /// Imports rows in one job: every row is created or updated (matched by item
    /// code), or, when any row fails, none is.
    pub async fn import_items(
        &self,
        actor: String,
        rows: Vec<ImportRow>,
        now: Timestamp,
    ) -> Result<ImportSummary, StoreError> {
        for row in &rows {
            validated(&row.guide)?;
        }
        self.write(move |conn| {
            Box::pin(async move {
                let mut summary = ImportSummary::default();
                for row in &rows {
                    let department_id = department_id_by_code(conn, &row.department_code)
                        .await?
                        .ok_or_else(|| {
                            StoreError::Domain(DomainError::invalid(
                                "department_code",
                                format!("部门编码“{}”不存在", row.department_code),
                            ))
                        })?;
                    let existing = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {ITEM_COLUMNS} FROM service_items WHERE code = $1"
                    )))
                    .bind(row.guide.code.trim())
                    .fetch_optional(&mut *conn)
                    .await?
                    .as_ref()
                    .map(item_from)
                    .transpose()?;
                    let kept;
                    let guide = match &existing {
                        Some(item) if row.keep_form_fields => {
                            kept = Guide {
                                form_fields: item.guide.form_fields.clone(),
                                ..row.guide.clone()
                            };
                            &kept
                        }
                        _ => &row.guide,
                    };
                    match existing {
                        Some(item)
                            if item.guide == *guide
                                && item.status == row.status
                                && item.department_id == department_id =>
                        {
                            summary.unchanged += 1;
                        }
                        Some(item) => {
                            update_item(conn, item.id, department_id, row.status, guide, now)
                                .await?;
                            summary.updated += 1;
                        }
                        None => {
                            insert_item(conn, department_id, row.status, &row.guide, now).await?;
                            summary.created += 1;
                        }
                    }
                }
                let detail = serde_json::to_value(&summary).map_err(StoreError::backend)?;
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "import_items",
                        object_kind: "catalog",
                        object_id: "items",
                        detail: &detail,
                    },
                )
                .await?;
                Ok(summary)
            })
        })
        .await
    }
}

pub(crate) async fn load_item(conn: &mut Conn, id: i64) -> Result<ServiceItem, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ITEM_COLUMNS} FROM service_items WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::not_found("item"))?;
    item_from(&row)
}
