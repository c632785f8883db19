//! The lifecycle of a supervision card (预警, 黄牌, 红牌) and the graded
//! sanctions of accountability (问责).
//!
//! ```text
//! issued ─notify─▶ notified ─explain─▶ explained ─close─▶ closed
//!                     │      ─rectify─▶ rectified ─close─▶ closed
//!                     └─appeal (once)─▶ appealed ─uphold─▶ notified
//!                                                ─revoke─▶ revoked
//! ```
//! The department answers (explain, rectify, appeal); the supervisor
//! concludes (close, uphold, revoke). A warning is a reminder, not a
//! sanction: it is closed without an answer and cannot be appealed. A
//! revoked card stays in the record and no longer counts.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::supervision::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    Issued,
    Notified,
    Explained,
    Rectified,
    Appealed,
    Closed,
    Revoked,
}

impl CardState {
    pub const ALL: [CardState; 7] = [
        CardState::Issued,
        CardState::Notified,
        CardState::Explained,
        CardState::Rectified,
        CardState::Appealed,
        CardState::Closed,
        CardState::Revoked,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CardState::Issued => "issued",
            CardState::Notified => "notified",
            CardState::Explained => "explained",
            CardState::Rectified => "rectified",
            CardState::Appealed => "appealed",
            CardState::Closed => "closed",
            CardState::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CardState::Issued => "已发出",
            CardState::Notified => "已通知",
            CardState::Explained => "已说明",
            CardState::Rectified => "已整改",
            CardState::Appealed => "申诉中",
            CardState::Closed => "已办结",
            CardState::Revoked => "已撤销",
        }
    }

    pub fn parse(key: &str) -> Option<CardState> {
        CardState::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Whether the department still owes an answer: the rectification
    /// deadline runs.
    pub fn awaits_department(self) -> bool {
        matches!(self, CardState::Issued | CardState::Notified)
    }

    /// Whether the card is finished.
    pub fn is_final(self) -> bool {
        matches!(self, CardState::Closed | CardState::Revoked)
    }

    /// Whether the card counts in statistics (a revoked one does not).
    pub fn counts(self) -> bool {
        self != CardState::Revoked
    }
}

/// Who acts on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardActor {
    /// The department the card was issued to (its approvers, reviewers or
    /// handlers).
    Department,
    /// The supervision centre.
    Supervisor,
    /// The system itself (delivery of the notice).
    System,
}

/// What someone does to a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CardCommand {
    /// The notice reached the department.
    Notify,
    /// The department explains what happened (情况说明).
    Explain { text: String },
    /// The department reports what it corrected (整改报告).
    Rectify { text: String },
    /// The department contests the card (once).
    Appeal { reasons: String },
    /// The supervisor keeps the card after an appeal.
    Uphold { reasons: String },
    /// The supervisor withdraws the card after an appeal.
    Revoke { reasons: String },
    /// The supervisor concludes the card.
    Close { conclusion: String },
}

impl CardCommand {
    pub fn key(&self) -> &'static str {
        match self {
            CardCommand::Notify => "notify",
            CardCommand::Explain { .. } => "explain",
            CardCommand::Rectify { .. } => "rectify",
            CardCommand::Appeal { .. } => "appeal",
            CardCommand::Uphold { .. } => "uphold",
            CardCommand::Revoke { .. } => "revoke",
            CardCommand::Close { .. } => "close",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            CardCommand::Notify => "送达通知",
            CardCommand::Explain { .. } => "情况说明",
            CardCommand::Rectify { .. } => "整改报告",
            CardCommand::Appeal { .. } => "申诉",
            CardCommand::Uphold { .. } => "维持",
            CardCommand::Revoke { .. } => "撤销",
            CardCommand::Close { .. } => "办结",
        }
    }

    /// Who may give the command.
    pub fn actor(&self) -> CardActor {
        match self {
            CardCommand::Notify => CardActor::System,
            CardCommand::Explain { .. }
            | CardCommand::Rectify { .. }
            | CardCommand::Appeal { .. } => CardActor::Department,
            CardCommand::Uphold { .. } | CardCommand::Revoke { .. } | CardCommand::Close { .. } => {
                CardActor::Supervisor
            }
        }
    }

    /// The text the command carries.
    pub fn text(&self) -> &str {
        match self {
            CardCommand::Notify => "",
            CardCommand::Explain { text } | CardCommand::Rectify { text } => text,
            CardCommand::Appeal { reasons }
            | CardCommand::Uphold { reasons }
            | CardCommand::Revoke { reasons } => reasons,
            CardCommand::Close { conclusion } => conclusion,
        }
    }
}

/// What the lifecycle needs to know about a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFacts {
    pub state: CardState,
    pub level: Level,
    /// Whether the department has appealed (it may once).
    pub appealed: bool,
}

/// The card after `command` by `actor`, or why it is refused.
pub fn apply_card(
    facts: CardFacts,
    command: &CardCommand,
    actor: CardActor,
) -> Result<CardFacts, DomainError> {
    use CardState as S;
    if command.actor() != actor {
        return Err(DomainError::RoleRequired {
            role: match command.actor() {
                CardActor::Supervisor => "supervisor",
                CardActor::Department => "department",
                CardActor::System => "system",
            },
        });
    }
    let refuse = || DomainError::CardRefused {
        state: facts.state,
        action: command.label(),
    };
    let required = |field: &str, what: &str| -> Result<(), DomainError> {
        if command.text().trim().is_empty() {
            Err(DomainError::invalid(field, format!("请填写{what}")))
        } else if command.text().chars().count() > 4000 {
            Err(DomainError::invalid(field, format!("{what}不能超过4000字")))
        } else {
            Ok(())
        }
    };
    let warning = facts.level == Level::Warning;
    let mut next = facts;
    next.state = match command {
        CardCommand::Notify => match facts.state {
            S::Issued => S::Notified,
            _ => return Err(refuse()),
        },
        CardCommand::Explain { .. } | CardCommand::Rectify { .. } => {
            if !facts.state.awaits_department() {
                return Err(refuse());
            }
            if let CardCommand::Explain { .. } = command {
                required("text", "情况说明")?;
                S::Explained
            } else {
                required("text", "整改情况")?;
                S::Rectified
            }
        }
        CardCommand::Appeal { .. } => {
            if warning {
                return Err(DomainError::invalid(
                    "reasons",
                    "预警是提醒而非处分，无需申诉",
                ));
            }
            if facts.appealed {
                return Err(DomainError::SecondAppeal);
            }
            if !matches!(facts.state, S::Issued | S::Notified | S::Explained) {
                return Err(refuse());
            }
            required("reasons", "申诉理由")?;
            next.appealed = true;
            S::Appealed
        }
        CardCommand::Uphold { .. } | CardCommand::Revoke { .. } => {
            if facts.state != S::Appealed {
                return Err(refuse());
            }
            required("reasons", "复核意见")?;
            if let CardCommand::Uphold { .. } = command {
                S::Notified
            } else {
                S::Revoked
            }
        }
        CardCommand::Close { .. } => {
            let answered = matches!(facts.state, S::Explained | S::Rectified);
            let open_warning = warning && facts.state.awaits_department();
            if !(answered || open_warning) {
                return Err(refuse());
            }
            required("conclusion", "办结结论")?;
            S::Closed
        }
    };
    Ok(next)
}

/// Graded sanctions (001 §三5, 003): from a reminder to dismissal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sanction {
    Caution,
    Admonition,
    OrderedCorrection,
    CirculatedCriticism,
    Warning,
    Demerit,
    MajorDemerit,
    Demotion,
    Transfer,
    Removal,
    Expulsion,
}

impl Sanction {
    pub const ALL: [Sanction; 11] = [
        Sanction::Caution,
        Sanction::Admonition,
        Sanction::OrderedCorrection,
        Sanction::CirculatedCriticism,
        Sanction::Warning,
        Sanction::Demerit,
        Sanction::MajorDemerit,
        Sanction::Demotion,
        Sanction::Transfer,
        Sanction::Removal,
        Sanction::Expulsion,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Sanction::Caution => "caution",
            Sanction::Admonition => "admonition",
            Sanction::OrderedCorrection => "ordered_correction",
            Sanction::CirculatedCriticism => "circulated_criticism",
            Sanction::Warning => "warning",
            Sanction::Demerit => "demerit",
            Sanction::MajorDemerit => "major_demerit",
            Sanction::Demotion => "demotion",
            Sanction::Transfer => "transfer",
            Sanction::Removal => "removal",
            Sanction::Expulsion => "expulsion",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sanction::Caution => "告诫",
            Sanction::Admonition => "诫勉谈话",
            Sanction::OrderedCorrection => "责令改正",
            Sanction::CirculatedCriticism => "通报批评",
            Sanction::Warning => "警告",
            Sanction::Demerit => "记过",
            Sanction::MajorDemerit => "记大过",
            Sanction::Demotion => "降级",
            Sanction::Transfer => "调离原工作岗位",
            Sanction::Removal => "撤职",
            Sanction::Expulsion => "开除",
        }
    }

    pub fn parse(key: &str) -> Option<Sanction> {
        Sanction::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// Whose responsibility an accountability record establishes (R6.4:
/// 办件人和主要领导责任追究).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Responsibility {
    /// The person who handled the case.
    Direct,
    /// The leader responsible for the department.
    Leadership,
}

impl Responsibility {
    pub fn key(self) -> &'static str {
        match self {
            Responsibility::Direct => "direct",
            Responsibility::Leadership => "leadership",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Responsibility::Direct => "直接责任（承办人）",
            Responsibility::Leadership => "领导责任",
        }
    }

    pub fn parse(key: &str) -> Option<Responsibility> {
        [Responsibility::Direct, Responsibility::Leadership]
            .into_iter()
            .find(|r| r.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(level: Level) -> CardFacts {
        CardFacts {
            state: CardState::Notified,
            level,
            appealed: false,
        }
    }

    fn text(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn a_yellow_card_is_explained_by_the_department_and_closed_by_the_supervisor() {
        let explained = apply_card(
            card(Level::Yellow),
            &CardCommand::Explain {
                text: text("材料需外省核验"),
            },
            CardActor::Department,
        )
        .unwrap();
        assert_eq!(explained.state, CardState::Explained);
        let err = apply_card(
            explained,
            &CardCommand::Close {
                conclusion: text("  "),
            },
            CardActor::Supervisor,
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("conclusion"));
        let closed = apply_card(
            explained,
            &CardCommand::Close {
                conclusion: text("情况属实，予以办结"),
            },
            CardActor::Supervisor,
        )
        .unwrap();
        assert_eq!(closed.state, CardState::Closed);
        assert!(closed.state.is_final());
    }

    #[test]
    fn only_the_supervisor_concludes_and_only_the_department_answers() {
        let err = apply_card(
            card(Level::Red),
            &CardCommand::Close {
                conclusion: text("结"),
            },
            CardActor::Department,
        )
        .unwrap_err();
        assert_eq!(err.code(), "role_required");
        let err = apply_card(
            card(Level::Red),
            &CardCommand::Rectify {
                text: text("已整改"),
            },
            CardActor::Supervisor,
        )
        .unwrap_err();
        assert_eq!(err.code(), "role_required");
        // A card nobody answered cannot be closed.
        let err = apply_card(
            card(Level::Red),
            &CardCommand::Close {
                conclusion: text("结"),
            },
            CardActor::Supervisor,
        )
        .unwrap_err();
        assert_eq!(err.code(), "card_transition_refused");
    }

    #[test]
    fn a_department_appeals_once_and_a_revoked_card_no_longer_counts() {
        let appeal = CardCommand::Appeal {
            reasons: text("系统故障导致延误"),
        };
        let appealed = apply_card(card(Level::Yellow), &appeal, CardActor::Department).unwrap();
        assert_eq!(appealed.state, CardState::Appealed);
        let upheld = apply_card(
            appealed,
            &CardCommand::Uphold {
                reasons: text("经核查，延误系人为原因"),
            },
            CardActor::Supervisor,
        )
        .unwrap();
        assert_eq!(upheld.state, CardState::Notified);
        let err = apply_card(upheld, &appeal, CardActor::Department).unwrap_err();
        assert_eq!(err.code(), "second_appeal_refused");

        let revoked = apply_card(
            appealed,
            &CardCommand::Revoke {
                reasons: text("经核查，系统故障所致"),
            },
            CardActor::Supervisor,
        )
        .unwrap();
        assert_eq!(revoked.state, CardState::Revoked);
        assert!(!revoked.state.counts());
        assert!(upheld.state.counts());
    }

    #[test]
    fn a_warning_is_closed_without_an_answer_and_not_appealed() {
        let closed = apply_card(
            card(Level::Warning),
            &CardCommand::Close {
                conclusion: text("已按期办结"),
            },
            CardActor::Supervisor,
        )
        .unwrap();
        assert_eq!(closed.state, CardState::Closed);
        let err = apply_card(
            card(Level::Warning),
            &CardCommand::Appeal {
                reasons: text("不服"),
            },
            CardActor::Department,
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("reasons"));
    }

    #[test]
    fn the_notice_is_delivered_once() {
        let issued = CardFacts {
            state: CardState::Issued,
            level: Level::Red,
            appealed: false,
        };
        let notified = apply_card(issued, &CardCommand::Notify, CardActor::System).unwrap();
        assert_eq!(notified.state, CardState::Notified);
        assert!(apply_card(notified, &CardCommand::Notify, CardActor::System).is_err());
    }
}
