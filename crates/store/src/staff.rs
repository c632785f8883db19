//! Departments, windows, staff, A/B backups, log-in sessions.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use jiff::Timestamp;
use onewindow_core::DomainError;
use onewindow_core::audit::sm3_hex;
use onewindow_core::catalog::RegionLevel;
use onewindow_core::staff::{Role, parse_roles, roles_to_text};
// Dynamic SQL here only splices column lists and placeholders, never input.
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::{self, Entry};
use crate::db::{flag, micros};
use crate::error::input_error;
use crate::{Conn, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Department {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_id: Option<i64>,
    pub region_code: String,
    pub window_location: String,
    pub phone: String,
    pub address: String,
}

/// A counter of the hall (窗口).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub id: i64,
    pub department_id: i64,
    pub name: String,
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct NewDepartment {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    #[serde(default)]
    pub parent_id: Option<i64>,
    pub region_code: String,
    #[serde(default)]
    pub window_location: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub department_id: i64,
    pub roles: Vec<Role>,
    pub backup_id: Option<i64>,
    pub absent: bool,
    pub phone: String,
}

impl StaffMember {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    pub fn actor(&self) -> onewindow_core::staff::Actor {
        onewindow_core::staff::Actor {
            staff_id: self.id,
            department_id: self.department_id,
            roles: self.roles.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    pub login: String,
    pub name: String,
    pub department_id: i64,
    pub roles: Vec<Role>,
    pub password: String,
    pub phone: String,
}

const DEPARTMENT_COLUMNS: &str =
    "id, code, name, level, parent_id, region_code, window_location, phone, address";
const STAFF_COLUMNS: &str = "id, login, name, department_id, roles, backup_id, absent, phone";

fn department_from(row: &AnyRow) -> Result<Department, StoreError> {
    let level: String = row.try_get("level")?;
    Ok(Department {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        level: RegionLevel::parse(&level)
            .ok_or_else(|| StoreError::Backend(format!("bad level {level}")))?,
        parent_id: row.try_get("parent_id")?,
        region_code: row.try_get("region_code")?,
        window_location: row.try_get("window_location")?,
        phone: row.try_get("phone")?,
        address: row.try_get("address")?,
    })
}

fn window_from(row: &AnyRow) -> Result<Window, StoreError> {
    Ok(Window {
        id: row.try_get("id")?,
        department_id: row.try_get("department_id")?,
        name: row.try_get("name")?,
        location: row.try_get("location")?,
    })
}

fn staff_from(row: &AnyRow) -> Result<StaffMember, StoreError> {
    let roles: String = row.try_get("roles")?;
    Ok(StaffMember {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        name: row.try_get("name")?,
        department_id: row.try_get("department_id")?,
        roles: parse_roles(&roles).map_err(|r| StoreError::Backend(format!("bad role {r}")))?,
        backup_id: row.try_get("backup_id")?,
        absent: row.try_get::<i64, _>("absent")? != 0,
        phone: row.try_get("phone")?,
    })
}

/// Checks the length of a new password: 8 to 128 characters.
pub(crate) fn check_password(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < 8 {
        return Err(DomainError::invalid("password", "密码至少8位").into());
    }
    if password.chars().count() > 128 {
        return Err(DomainError::invalid("password", "密码不超过128位").into());
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(StoreError::backend)?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(StoreError::backend)
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// What an unknown login's password is checked against, so that the answer
/// takes as long as for a known login with a wrong password.
const UNKNOWN_LOGIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000";

/// A fresh random token as hex (for sessions and bearer tokens).
pub fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(StoreError::backend)?;
    Ok(hex::encode(bytes))
}

impl Store {
    pub async fn create_department(
        &self,
        actor: String,
        new: NewDepartment,
        now: Timestamp,
    ) -> Result<Department, StoreError> {
        if new.code.trim().is_empty() || new.name.trim().is_empty() {
            return Err(DomainError::invalid("name", "部门编码和名称不能为空").into());
        }
        self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO departments (code, name, level, parent_id, region_code, window_location, phone, address) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {DEPARTMENT_COLUMNS}"
                )))
                .bind(new.code.trim())
                .bind(new.name.trim())
                .bind(new.level.key())
                .bind(new.parent_id)
                .bind(&new.region_code)
                .bind(&new.window_location)
                .bind(&new.phone)
                .bind(&new.address)
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| {
                    input_error(
                        e,
                        Some(("code", &format!("部门编码“{}”已存在", new.code.trim()))),
                        Some(("parent_id", "上级部门不存在")),
                    )
                })?;
                let department = department_from(&row)?;
                let detail = serde_json::json!({ "code": department.code, "name": department.name });
                audit::append(conn, now, Entry {
                    actor: &actor,
                    action: "create_department",
                    object_kind: "department",
                    object_id: &department.id.to_string(),
                    detail: &detail,
                })
                .await?;
                Ok(department)
            })
        })
        .await
    }

    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DEPARTMENT_COLUMNS} FROM departments ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(department_from).collect()
    }

    pub async fn department(&self, id: i64) -> Result<Department, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("department"))?;
        department_from(&row)
    }

    /// Opens a window (counter) of a department, audited.
    pub async fn create_window(
        &self,
        actor: String,
        department_id: i64,
        name: String,
        location: String,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query("INSERT INTO windows (department_id, name, location) VALUES ($1, $2, $3) RETURNING id")
                    .bind(department_id)
                    .bind(&name)
                    .bind(&location)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| input_error(e, None, Some(("department_id", "部门不存在"))))?;
                let id: i64 = row.try_get("id")?;
                let detail = serde_json::json!({
                    "department_id": department_id,
                    "name": name,
                    "location": location,
                });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "create_window",
                        object_kind: "window",
                        object_id: &id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    /// One window (counter) of the hall.
    pub async fn window(&self, id: i64) -> Result<Window, StoreError> {
        let row =
            sqlx::query("SELECT id, department_id, name, location FROM windows WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::not_found("window"))?;
        window_from(&row)
    }

    /// The hall's windows (counters), of one department or all.
    pub async fn windows(&self, department_id: Option<i64>) -> Result<Vec<Window>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, department_id, name, location FROM windows \
             WHERE ($1 IS NULL OR department_id = $1) ORDER BY id",
        )
        .bind(department_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(window_from).collect()
    }

    /// Creates a staff member. The password is hashed before the write job.
    pub async fn create_staff(
        &self,
        actor: String,
        new: NewStaff,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        if new.login.trim().is_empty() {
            return Err(DomainError::invalid("login", "登录名不能为空").into());
        }
        check_password(&new.password)?;
        let hash = hash_password(&new.password)?;
        self.insert_staff(actor, new, hash, now).await
    }

    /// Creates a staff member with an already computed password hash (the demo
    /// gives many people one password and hashes it once).
    pub async fn insert_staff(
        &self,
        actor: String,
        new: NewStaff,
        password_hash: String,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        self.insert_staff_with_email(actor, new, password_hash, String::new(), now)
            .await
    }

    /// [`Store::insert_staff`] with an e-mail address for alerts (empty for
    /// none), in the same job.
    pub(crate) async fn insert_staff_with_email(
        &self,
        actor: String,
        new: NewStaff,
        password_hash: String,
        email: String,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        let result = self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO staff (login, name, department_id, roles, password_hash, phone, email) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {STAFF_COLUMNS}"
                )))
                .bind(new.login.trim())
                .bind(new.name.trim())
                .bind(new.department_id)
                .bind(roles_to_text(&new.roles))
                .bind(&password_hash)
                .bind(new.phone.trim())
                .bind(&email)
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| {
                    input_error(
                        e,
                        Some(("login", &format!("登录名“{}”已被使用", new.login.trim()))),
                        Some(("department_id", "部门不存在")),
                    )
                })?;
                let member = staff_from(&row)?;
                let detail = serde_json::json!({
                    "login": member.login, "roles": roles_to_text(&member.roles), "email": !email.is_empty(),
                });
                audit::append(conn, now, Entry {
                    actor: &actor,
                    action: "create_staff",
                    object_kind: "staff",
                    object_id: &member.id.to_string(),
                    detail: &detail,
                })
                .await?;
                Ok(member)
            })
        })
        .await;
        // Routing and names read the staff table through a cache.
        self.caches.staff_changed();
        result
    }

    pub async fn staff_member(&self, id: i64) -> Result<StaffMember, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("staff"))?;
        staff_from(&row)
    }

    pub async fn staff(&self, department_id: Option<i64>) -> Result<Vec<StaffMember>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff WHERE ($1 IS NULL OR department_id = $1) ORDER BY id"
        )))
        .bind(department_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(staff_from).collect()
    }

    /// Sets who backs up `staff_id` (the B of the post).
    pub async fn set_backup(
        &self,
        actor: String,
        staff_id: i64,
        backup_id: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if backup_id == Some(staff_id) {
            return Err(DomainError::invalid("backup_id", "不能指定本人为自己的B角").into());
        }
        let result = self
            .write(move |conn| {
                Box::pin(async move {
                    let a = load_staff(conn, staff_id).await?;
                    if let Some(b) = backup_id {
                        let b = load_staff(conn, b).await.map_err(|e| match e {
                            StoreError::NotFound { .. } => {
                                DomainError::invalid("backup_id", "指定的B角人员不存在").into()
                            }
                            other => other,
                        })?;
                        if b.department_id != a.department_id {
                            return Err(DomainError::invalid(
                                "backup_id",
                                "B角须为同一部门的工作人员",
                            )
                            .into());
                        }
                        // A and B are never both away (R3.4), whichever changes.
                        if a.absent && b.absent {
                            return Err(DomainError::invalid(
                                "backup_id",
                                "A角当前不在岗，B角须为在岗人员（A、B角不能同时缺岗）",
                            )
                            .into());
                        }
                    } else if a.absent {
                        return Err(DomainError::invalid(
                            "backup_id",
                            "A角当前不在岗，不能取消其B角（否则无人办理其工作）",
                        )
                        .into());
                    }
                    sqlx::query("UPDATE staff SET backup_id = $1 WHERE id = $2")
                        .bind(backup_id)
                        .bind(staff_id)
                        .execute(&mut *conn)
                        .await?;
                    let detail = serde_json::json!({ "backup_id": backup_id });
                    audit::append(
                        conn,
                        now,
                        Entry {
                            actor: &actor,
                            action: "set_backup",
                            object_kind: "staff",
                            object_id: &staff_id.to_string(),
                            detail: &detail,
                        },
                    )
                    .await?;
                    Ok(())
                })
            })
            .await;
        // Routing and names read the staff table through a cache.
        self.caches.staff_changed();
        result
    }

    /// Marks a person absent or present. A and B are never both away (R3.4):
    /// marking A absent needs a present B, and B cannot leave while A is away.
    pub async fn set_absent(
        &self,
        actor: String,
        staff_id: i64,
        absent: bool,
        now: Timestamp,
    ) -> Result<StaffMember, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let member = load_staff(conn, staff_id).await?;
                if absent {
                    match member.backup_id {
                        None => {
                            return Err(DomainError::invalid(
                                "absent",
                                "该岗位未设置B角，不能登记缺岗",
                            )
                            .into());
                        }
                        Some(b) => {
                            if load_staff(conn, b).await?.absent {
                                return Err(DomainError::invalid(
                                    "absent",
                                    "A、B角不能同时缺岗：B角当前也不在岗",
                                )
                                .into());
                            }
                        }
                    }
                    let covering_absent: i64 = sqlx::query(
                        "SELECT COUNT(*) AS n FROM staff WHERE backup_id = $1 AND absent = 1",
                    )
                    .bind(staff_id)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get("n")?;
                    if covering_absent > 0 {
                        return Err(DomainError::invalid(
                            "absent",
                            "A、B角不能同时缺岗：其担任B角的A角当前不在岗",
                        )
                        .into());
                    }
                }
                sqlx::query("UPDATE staff SET absent = $1 WHERE id = $2")
                    .bind(flag(absent))
                    .bind(staff_id)
                    .execute(&mut *conn)
                    .await?;
                let detail = serde_json::json!({ "absent": absent });
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &actor,
                        action: "set_absent",
                        object_kind: "staff",
                        object_id: &staff_id.to_string(),
                        detail: &detail,
                    },
                )
                .await?;
                load_staff(conn, staff_id).await
            })
        })
        .await
    }

    /// Checks a log-in and opens a session; returns the token and the person.
    pub async fn log_in(
        &self,
        login: &str,
        password: &str,
        now: Timestamp,
        ttl_hours: i64,
    ) -> Result<(String, StaffMember), StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS}, password_hash FROM staff WHERE login = $1"
        )))
        .bind(login.trim())
        .fetch_optional(self.pool())
        .await?;
        // Verify against a dummy hash when the login is unknown, so the answer
        // takes as long either way.
        let (member, hash) = match &row {
            Some(row) => (
                Some(staff_from(row)?),
                row.try_get::<String, _>("password_hash")?,
            ),
            None => (None, UNKNOWN_LOGIN_HASH.into()),
        };
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(StoreError::backend)?;
        let member = match (ok, member) {
            (true, Some(m)) => m,
            _ => return Err(StoreError::Forbidden("登录名或密码错误".into())),
        };
        let token = new_token()?;
        let token_hash = sm3_hex(token.as_bytes());
        let staff_id = member.id;
        let expires = micros(now) + ttl_hours * 3_600_000_000;
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("INSERT INTO sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(&token_hash)
                    .bind(staff_id)
                    .bind(micros(now))
                    .bind(expires)
                    .execute(&mut *conn)
                    .await?;
                let detail = serde_json::json!({});
                audit::append(conn, now, Entry {
                    actor: &format!("staff:{staff_id}"),
                    action: "log_in",
                    object_kind: "staff",
                    object_id: &staff_id.to_string(),
                    detail: &detail,
                })
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok((token, member))
    }

    /// The person a session token belongs to, if the session is alive.
    pub async fn session(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<StaffMember>, StoreError> {
        let token_hash = sm3_hex(token.as_bytes());
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM sessions JOIN staff s ON s.id = sessions.staff_id \
             WHERE sessions.token_hash = $1 AND sessions.expires_at > $2",
            STAFF_COLUMNS
                .split(", ")
                .map(|c| format!("s.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
        .bind(&token_hash)
        .bind(micros(now))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(staff_from).transpose()
    }

    pub async fn log_out(&self, token: &str) -> Result<(), StoreError> {
        let token_hash = sm3_hex(token.as_bytes());
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&token_hash)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }
}

pub(crate) async fn load_staff(conn: &mut Conn, id: i64) -> Result<StaffMember, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::not_found("staff"))?;
    staff_from(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_login_hash_is_a_real_argon2_hash_with_the_default_cost() {
        // A hash that fails to parse would answer unknown logins at once and
        // let them be told apart from wrong passwords by timing.
        let parsed = PasswordHash::new(UNKNOWN_LOGIN_HASH).expect("a PHC string");
        let real = hash_password("whatever it is").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(parsed.algorithm, real.algorithm);
        assert_eq!(parsed.params, real.params);
        assert!(!verify_password("", UNKNOWN_LOGIN_HASH));
    }
}
