//! Errors of the domain. Each carries a stable code for programs and a Chinese
//! message for people; the server maps them to HTTP status codes.

use crate::case::{Action, CaseState};

/// A field of user input that failed validation, with the reason in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A rule of the domain that a request broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("action {action:?} is not allowed in state {state:?}")]
    TransitionRefused { state: CaseState, action: Action },
    #[error("a supplement was already requested for this application")]
    SecondSupplement,
    #[error("the five working days to decide on acceptance have passed")]
    DeemedAccepted,
    #[error("the item is not published")]
    ItemNotPublished,
    #[error("the actor lacks the role for this action")]
    RoleRequired { role: &'static str },
    #[error("the case is assigned to someone else")]
    NotAssignee,
    #[error("action {action} is not allowed on a card in state {state:?}")]
    CardRefused {
        state: crate::card::CardState,
        action: &'static str,
    },
    #[error("the department already appealed this card")]
    SecondAppeal,
    #[error("invalid input: {0}")]
    Invalid(FieldError),
    /// Several fields at once (a whole form or guide checked together); never
    /// empty.
    #[error("invalid input: {} problems", .0.len())]
    InvalidFields(Vec<FieldError>),
}

impl DomainError {
    /// Stable machine-readable code, part of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::TransitionRefused { .. } => "transition_refused",
            DomainError::SecondSupplement => "second_supplement_refused",
            DomainError::DeemedAccepted => "deemed_accepted",
            DomainError::ItemNotPublished => "item_not_published",
            DomainError::RoleRequired { .. } => "role_required",
            DomainError::NotAssignee => "not_assignee",
            DomainError::CardRefused { .. } => "card_transition_refused",
            DomainError::SecondAppeal => "second_appeal_refused",
            DomainError::Invalid(_) | DomainError::InvalidFields(_) => "invalid_input",
        }
    }

    /// The message shown to people, in Chinese.
    pub fn message(&self) -> String {
        match self {
            DomainError::TransitionRefused { state, action } => format!(
                "办件当前状态为“{}”，不能执行“{}”操作",
                state.label(),
                action.label()
            ),
            DomainError::SecondSupplement => {
                "该申请已发出过一次性补正告知，不得再次要求补正材料（一次性告知制度）".into()
            }
            DomainError::DeemedAccepted => {
                "自收到申请材料之日起已超过5个工作日，依据《行政许可法》第三十二条视为受理，不能再作不予受理或补正处理".into()
            }
            DomainError::ItemNotPublished => "该事项未发布或已暂停办理，不能申请".into(),
            DomainError::RoleRequired { role: "applicant" } => "该操作只能由申请人本人办理".into(),
            DomainError::RoleRequired { role: "department" } => {
                "只有被督办部门的工作人员才能作出说明、整改或申诉".into()
            }
            DomainError::RoleRequired { role: "system" } => "该操作由系统自动完成".into(),
            DomainError::RoleRequired { role } => {
                format!("您没有“{}”岗位权限，不能执行该操作", crate::staff::Role::label_of(role))
            }
            DomainError::NotAssignee => {
                "该办件不在您的待办中：只能办理本部门、本人（或不在岗A角）的办件".into()
            }
            DomainError::CardRefused { state, action } => {
                format!("该督办件当前状态为“{}”，不能{}", state.label(), action)
            }
            DomainError::SecondAppeal => "同一张牌只能申诉一次，本部门已申诉过".into(),
            DomainError::Invalid(e) => e.message.clone(),
            DomainError::InvalidFields(errors) => errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        }
    }

    /// The input field the error is about (the first, when there are
    /// several), if any.
    pub fn field(&self) -> Option<&str> {
        self.problems().first().map(|e| e.field.as_str())
    }

    /// Every field problem the error reports, in the order found.
    pub fn problems(&self) -> &[FieldError] {
        match self {
            DomainError::Invalid(e) => std::slice::from_ref(e),
            DomainError::InvalidFields(errors) => errors,
            _ => &[],
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid(FieldError::new(field, message))
    }

    /// The problems of a whole form or guide, reported together (`errors`
    /// comes from a validation that failed, so it is not empty).
    pub fn invalid_fields(mut errors: Vec<FieldError>) -> Self {
        match errors.len() {
            1 => DomainError::Invalid(errors.remove(0)),
            _ => DomainError::InvalidFields(errors),
        }
    }
}

impl From<FieldError> for DomainError {
    fn from(e: FieldError) -> Self {
        DomainError::Invalid(e)
    }
}
