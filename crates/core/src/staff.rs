//! Staff roles and the A/B backup rule (R3.4: every post has a backup; when A is
//! absent, B sees and handles A's work).

use serde::{Deserialize, Serialize};

/// A role a staff member holds. Security and audit admins are separate from the
/// system admin (三员分立).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    WindowClerk,
    Handler,
    Reviewer,
    Approver,
    Supervisor,
    Admin,
    SecurityAdmin,
    AuditAdmin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::WindowClerk,
        Role::Handler,
        Role::Reviewer,
        Role::Approver,
        Role::Supervisor,
        Role::Admin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::WindowClerk => "window_clerk",
            Role::Handler => "handler",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::WindowClerk => "窗口受理",
            Role::Handler => "承办",
            Role::Reviewer => "审核",
            Role::Approver => "批准",
            Role::Supervisor => "电子监察",
            Role::Admin => "系统管理",
            Role::SecurityAdmin => "安全保密管理",
            Role::AuditAdmin => "安全审计",
        }
    }

    pub fn parse(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    /// The Chinese label of a role given by its key (unknown keys echo back).
    pub fn label_of(key: &str) -> &str {
        Role::parse(key).map(Role::label).unwrap_or(key)
    }
}

/// Parses a comma-separated role list as stored and sent over the wire.
pub fn parse_roles(text: &str) -> Result<Vec<Role>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Role::parse(s).ok_or_else(|| s.to_string()))
        .collect()
}

pub fn roles_to_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.key()).collect::<Vec<_>>().join(",")
}

/// Checks the roles given to one person: at least one, and at most one of the
/// three administrators' roles (三员分立: the system, security and audit
/// administrators are different people).
pub fn check_roles(roles: &[Role]) -> Result<(), crate::DomainError> {
    if roles.is_empty() {
        return Err(crate::DomainError::invalid("roles", "至少指定一个岗位"));
    }
    let admin_roles = roles
        .iter()
        .filter(|r| matches!(r, Role::Admin | Role::SecurityAdmin | Role::AuditAdmin))
        .count();
    if admin_roles > 1 {
        return Err(crate::DomainError::invalid(
            "roles",
            "系统管理员、安全保密管理员和安全审计员须由不同人员担任",
        ));
    }
    Ok(())
}

/// Who is acting on a case, as far as the rules need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: i64,
    pub department_id: i64,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Whether `actor` may act on work assigned to `assignee`.
///
/// The assignee acts on their own work. Their B backup acts only while the
/// assignee is marked absent; the record then names B as actor and A as the
/// person acted for. Unassigned work is open to anyone holding the role.
pub fn acting_for(
    actor_id: i64,
    assignee: Option<i64>,
    assignee_absent: bool,
    assignee_backup: Option<i64>,
) -> Result<Option<i64>, crate::DomainError> {
    match assignee {
        None => Ok(None),
        Some(a) if a == actor_id => Ok(None),
        Some(a) if assignee_absent && assignee_backup == Some(actor_id) => Ok(Some(a)),
        Some(_) => Err(crate::DomainError::NotAssignee),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_acts_only_while_a_is_absent() {
        assert_eq!(acting_for(2, Some(1), true, Some(2)), Ok(Some(1)));
        assert!(acting_for(2, Some(1), false, Some(2)).is_err());
        assert!(acting_for(3, Some(1), true, Some(2)).is_err());
        assert_eq!(acting_for(1, Some(1), false, Some(2)), Ok(None));
        assert_eq!(acting_for(5, None, false, None), Ok(None));
    }

    #[test]
    fn one_person_holds_at_most_one_admin_role() {
        assert!(check_roles(&[]).is_err());
        assert!(check_roles(&[Role::Admin, Role::Handler]).is_ok());
        let err = check_roles(&[Role::Admin, Role::AuditAdmin]).unwrap_err();
        assert_eq!(err.field(), Some("roles"));
        assert!(check_roles(&[Role::SecurityAdmin, Role::AuditAdmin]).is_err());
    }

    #[test]
    fn role_lists_round_trip() {
        let roles = vec![Role::WindowClerk, Role::Handler];
        assert_eq!(parse_roles(&roles_to_text(&roles)).unwrap(), roles);
        assert_eq!(parse_roles("handler, nobody"), Err("nobody".to_string()));
    }
}
