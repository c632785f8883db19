//! What the administrator's pages change besides what [`crate::staff`]
//! creates: a department's particulars, a window, a staff member's profile
//! (name, roles, phone, e-mail) and password. Each change is one writer job
//! with its audit entry, like the operations in `staff`; changes to people
//! drop the staff caches that routing reads.

use std::collections::HashMap;

use jiff::Timestamp;
use onewindow_core::DomainError;
use onewindow_core::catalog::RegionLevel;
use onewindow_core::staff::{Role, roles_to_text};
use sqlx::Row;

use crate::audit::{self, Entry};
use crate::staff::{Department, NewStaff, StaffMember, check_password, hash_password, load_staff};
use crate::{Conn, Store, StoreError};

/// The particulars of a department an administrator may change. The code
/// stays (imports and exports name departments by it) and so does the region
/// code (the deadlines of its cases count on that region's calendar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentChanges {
    pub name: String,
    pub level: RegionLevel,
    pub window_location: String,
    pub phone: String,
    pub address: String,
}

/// A staff member's profile as the administrator edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffProfile {
    pub name: String,
    pub roles: Vec<Role>,
    pub phone: String,
    /// Where e-mail alerts go; empty for none.
    pub email: String,
}

/// A staff member after a change of profile or department.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffChange {
    pub member: StaffMember,
    /// The open cases they held and could no longer work on, now with the
    /// posts' holders (or waiting unassigned in the department's queue).
    pub cases_handed_on: Vec<i64>,
}

/// Longest e-mail address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// Checks the shape of an e-mail address: empty (none), or one `@` with a
/// local part and a dotted domain, no spaces. Whether mail arrives is the
/// alert sender's business.
fn check_email(email: &str) -> Result<(), StoreError> {
    if email.is_empty() {
        return Ok(());
    }
    let shaped = email.len() <= MAX_EMAIL
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if shaped {
        Ok(())
    } else {
        Err(
            DomainError::invalid("email", "电子邮箱格式不正确，例如 li.ming@hengshan.gov.cn")
                .into(),
        )
    }
}

/// Refuses to take the system administrator's role from `id` when nobody
/// else holds it.
async fn check_other_admin(conn: &mut Conn, id: i64) -> Result<(), StoreError> {
    let others = sqlx::query("SELECT roles FROM staff WHERE id <> $1 AND roles LIKE '%admin%'")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("roles"))
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .filter(|r| r.split(',').any(|k| k.trim() == Role::Admin.key()))
        .count();
    if others == 0 {
        return Err(
            DomainError::invalid("roles", "这是唯一的系统管理员，不能取消其系统管理岗位").into(),
        );
    }
    Ok(())
}

/// Checks that `member` may move to department `to`: it exists, and the
/// member neither has a B nor is anyone's B (A and B are of one department).
async fn check_movable(conn: &mut Conn, member: &StaffMember, to: i64) -> Result<(), StoreError> {
    let exists = sqlx::query("SELECT id FROM departments WHERE id = $1")
        .bind(to)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if !exists {
        return Err(DomainError::invalid("department_id", "部门不存在").into());
    }
    if member.backup_id.is_some() {
        return Err(DomainError::invalid(
            "department_id",
            "该人员设有B角，B角须为同一部门的工作人员：请先取消其B角再调动部门",
        )
        .into());
    }
    let covered: Vec<String> =
        sqlx::query("SELECT name FROM staff WHERE backup_id = $1 ORDER BY id")
            .bind(member.id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("name"))
            .collect::<Result<_, _>>()?;
    if !covered.is_empty() {
        return Err(DomainError::invalid(
            "department_id",
            format!(
                "该人员是{}的B角：请先为其另行指定B角再调动部门",
                covered.join("、")
            ),
        )
        .into());
    }
    Ok(())
}

impl Store {
    /// Changes a department's name, level, window location, phone and address.
    pub async fn update_department(
        &self,
        actor: String,
        id: i64,
        changes: DepartmentChanges,
        now: Timestamp,
    ) -> Result<Department, StoreError> {
        let name = changes.name.trim().to_string();
        if name.is_empty() {
            return Err(DomainError::invalid("name", "部门名称不能为空").into());
        }
        if name.chars().count() > 100 {
            return Err(DomainError::invalid("name", "部门名称不超过100字").into());
        }
        self.write(move |conn| {
            Box::pin(async move {
                let before = sqlx::query("SELECT name FROM departments WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::not_found("department"))?;
                let old_name: String = before.try_get("name")?;
                sqlx::query(
                    "UPDATE departments SET name = $1, level = $2, window_location = $3, \
                     phone = $4, address = $5 WHERE id = $6",
                )
                .bind(&name)
                .bind(changes.level.key())
                .bind(changes.window_location.trim())
                .bind(changes.phone.trim())
                .bind(changes.address.trim())
                .bind(id)
                .execute(&mut *conn)
                .await?;
                let detail = serde_json::json!({
                    "from_name": old_name, "name": name, "level": changes.level.key(),
                    "window_location": changes.window_location.trim(),
                    "phone": changes.phone.trim(), "address": changes.address.trim(),
                });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "update_department",
                        object_kind: "department",
                        object_id: &id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        self.department(id).await
    }

    /// Renames or moves a window (counter) of the hall.
    pub async fn update_window(
        &self,
        actor: String,
        id: i64,
        name: String,
        location: String,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(DomainError::invalid("name", "窗口名称不能为空").into());
        }
        let location = location.trim().to_string();
        self.write(move |conn| {
            Box::pin(async move {
                let changed =
                    sqlx::query("UPDATE windows SET name = $1, location = $2 WHERE id = $3")
                        .bind(&name)
                        .bind(&location)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                if changed == 0 {
                    return Err(StoreError::not_found("window"));
                }
                let detail = serde_json::json!({ "name": name, "location": location });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "update_window",
                        object_kind: "window",
                        object_id: &id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Creates a staff member with an e-mail address for alerts, in one job
    /// (what [`Store::create_staff`] does, plus the address).
    pub async fn create_staff_with_email(
        &self,
        actor: String,
        new: NewStaff,
        email: String,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        let login = new.login.trim();
        if login.is_empty() {
            return Err(DomainError::invalid("login", "登录名不能为空").into());
        }
        if login.chars().count() > 64 || login.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid("login", "登录名不超过64个字符，且不能含空格").into());
        }
        if new.name.trim().is_empty() {
            return Err(DomainError::invalid("name", "姓名不能为空").into());
        }
        if new.roles.is_empty() {
            return Err(DomainError::invalid("roles", "至少指定一个岗位").into());
        }
        let email = email.trim().to_string();
        check_email(&email)?;
        check_password(&new.password)?;
        let password = new.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(StoreError::backend)??;
        self.insert_staff_with_email(actor, new, hash, email, now)
            .await
    }

    /// Changes a staff member's name, roles, phone and e-mail. The last
    /// person holding the system administrator's role keeps it, so that the
    /// system can still be administered. The open cases they can no longer
    /// work on are handed on to the posts' holders in the same job.
    pub async fn update_staff_profile(
        &self,
        actor: String,
        id: i64,
        profile: StaffProfile,
        now: Timestamp,
    ) -> Result<StaffChange, StoreError> {
        self.edit_staff(actor, id, profile, None, now).await
    }

    /// Changes a staff member's profile and department in one job, under the
    /// rules of [`Store::update_staff_profile`]. A move to another department
    /// is refused while the person has a B or is someone's B: A and B belong
    /// to one department, so the posts are rearranged first.
    pub async fn update_staff(
        &self,
        actor: String,
        id: i64,
        profile: StaffProfile,
        department_id: i64,
        now: Timestamp,
    ) -> Result<StaffChange, StoreError> {
        self.edit_staff(actor, id, profile, Some(department_id), now)
            .await
    }

    async fn edit_staff(
        &self,
        actor: String,
        id: i64,
        profile: StaffProfile,
        department_id: Option<i64>,
        now: Timestamp,
    ) -> Result<StaffChange, StoreError> {
        let name = profile.name.trim().to_string();
        if name.is_empty() {
            return Err(DomainError::invalid("name", "姓名不能为空").into());
        }
        if profile.roles.is_empty() {
            return Err(DomainError::invalid("roles", "至少指定一个岗位").into());
        }
        let email = profile.email.trim().to_string();
        check_email(&email)?;
        let phone = profile.phone.trim().to_string();
        let roles = roles_to_text(&profile.roles);
        let keeps_admin = profile.roles.contains(&Role::Admin);
        let result = self
            .write(move |conn| {
                Box::pin(async move {
                    let before = load_staff(conn, id).await?;
                    if before.has(Role::Admin) && !keeps_admin {
                        check_other_admin(conn, id).await?;
                    }
                    let department_id = department_id.unwrap_or(before.department_id);
                    if department_id != before.department_id {
                        check_movable(conn, &before, department_id).await?;
                    }
                    sqlx::query(
                        "UPDATE staff SET name = $1, roles = $2, phone = $3, email = $4, \
                         department_id = $5 WHERE id = $6",
                    )
                    .bind(&name)
                    .bind(&roles)
                    .bind(&phone)
                    .bind(&email)
                    .bind(department_id)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                    let after = load_staff(conn, id).await?;
                    let handed_on = crate::cases::hand_on_held_cases(conn, &after, now).await?;
                    let mut detail = serde_json::json!({
                        "name": name, "from_roles": roles_to_text(&before.roles), "roles": roles,
                        "phone_changed": before.phone != phone,
                    });
                    if department_id != before.department_id {
                        detail["from_department_id"] = before.department_id.into();
                        detail["department_id"] = department_id.into();
                    }
                    if !handed_on.is_empty() {
                        detail["cases_handed_on"] = handed_on.clone().into();
                    }
                    audit::append(
                        conn,
                        now,
                        Entry {
                            actor: &actor,
                            action: "update_staff",
                            object_kind: "staff",
                            object_id: &id.to_string(),
                            detail: &detail,
                        },
                    )
                    .await?;
                    Ok(StaffChange {
                        member: after,
                        cases_handed_on: handed_on,
                    })
                })
            })
            .await;
        self.caches.staff_changed();
        result
    }

    /// Sets a new password for a staff member and ends their sessions, so
    /// that whoever knew the old one is logged out everywhere. Returns how
    /// many sessions ended.
    pub async fn reset_password(
        &self,
        actor: String,
        id: i64,
        password: String,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        check_password(&password)?;
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(StoreError::backend)??;
        self.write(move |conn| {
            Box::pin(async move {
                let changed = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
                    .bind(&hash)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    return Err(StoreError::not_found("staff"));
                }
                let ended = sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                let detail = serde_json::json!({ "sessions_ended": ended });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "reset_password",
                        object_kind: "staff",
                        object_id: &id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                Ok(ended)
            })
        })
        .await
    }

    /// Staff members' e-mail addresses (where set), of one department or all.
    pub async fn staff_emails(
        &self,
        department_id: Option<i64>,
    ) -> Result<HashMap<i64, String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email FROM staff WHERE ($1 IS NULL OR department_id = $1) AND email <> ''",
        )
        .bind(department_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("email")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked_for_their_shape_only() {
        for good in ["", "li.ming@hengshan.gov.cn", "a@b.cn"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "li.ming",
            "@hengshan.gov.cn",
            "li@ming@gov.cn",
            "li ming@gov.cn",
            "li@localhost",
            "li@.cn",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
