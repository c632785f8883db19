//! Electronic supervision rules on deadlines: when a deadline earns a
//! warning (预警) or a yellow or red card (黄牌, 红牌), and the next day its
//! standing can change, so a supervision tick only looks at objects whose
//! next check has come.
//!
//! Defaults follow the seed documents: a warning N working days before the
//! promised deadline (N = 2), a yellow card when the promised limit passes
//! without completion, a red card when the statutory limit passes.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::clock::{DeadlineKind, DeadlineState};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Warning,
    Yellow,
    Red,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Warning, Level::Yellow, Level::Red];

    pub fn parse(key: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.key() == key)
    }

    pub fn key(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Yellow => "yellow",
            Level::Red => "red",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Warning => "预警",
            Level::Yellow => "黄牌",
            Level::Red => "红牌",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    /// The deadline is near (within the warning days).
    DueSoon,
    /// The deadline passed with the work not done.
    Overdue,
    /// An instant item (即办件) was not completed on the day it was accepted.
    InstantNotSameDay,
}

impl Breach {
    pub fn key(self) -> &'static str {
        match self {
            Breach::DueSoon => "due_soon",
            Breach::Overdue => "overdue",
            Breach::InstantNotSameDay => "instant_not_same_day",
        }
    }
}

/// A deadline's standing on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: DeadlineKind,
    pub breach: Breach,
    pub level: Level,
}

impl Finding {
    /// "承诺办结时限已超期，亮黄牌" and the like.
    pub fn label(&self) -> String {
        match self.breach {
            Breach::DueSoon => format!("{}即将到期（{}）", self.kind.label(), self.level.label()),
            Breach::Overdue => format!("{}已超期（{}）", self.kind.label(), self.level.label()),
            Breach::InstantNotSameDay => {
                format!("即办件未当场办结（{}）", self.level.label())
            }
        }
    }

    /// What happened, without the level: "承诺办结时限已超期".
    pub fn summary(&self) -> String {
        match self.breach {
            Breach::DueSoon => format!("{}即将到期", self.kind.label()),
            Breach::Overdue => format!("{}已超期", self.kind.label()),
            Breach::InstantNotSameDay => "即办件未当场办结".into(),
        }
    }

    /// The condition the finding is about, as the key that makes it fire once
    /// per object: a step's limit is one condition per step (each starts on
    /// its own day), the others one per object.
    pub fn condition(&self, start: Date) -> String {
        match self.kind {
            DeadlineKind::CaseStep | DeadlineKind::CaseSuspension => {
                format!("{}:{}:{start}", self.breach.key(), self.kind.key())
            }
            _ => format!("{}:{}", self.breach.key(), self.kind.key()),
        }
    }
}

/// The supervisor's settings for deadlines: warning days and the level each
/// overdue deadline earns, per deadline kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRules {
    /// Working days before the due day that a warning is given; `None`: no
    /// warning for that kind.
    pub warning_days: HashMap<DeadlineKind, u32>,
    /// The level an overdue deadline of the kind earns; `None`: not watched.
    pub overdue_level: HashMap<DeadlineKind, Level>,
}

impl Default for DeadlineRules {
    fn default() -> Self {
        DeadlineRules {
            warning_days: HashMap::from([(DeadlineKind::CasePromised, 2)]),
            overdue_level: HashMap::from([
                (DeadlineKind::CaseAcceptance, Level::Warning),
                (DeadlineKind::CasePromised, Level::Yellow),
                (DeadlineKind::CaseStatutory, Level::Red),
                (DeadlineKind::CaseStep, Level::Warning),
                (DeadlineKind::CaseDelivery, Level::Yellow),
                (DeadlineKind::CaseSuspension, Level::Yellow),
                (DeadlineKind::CardRectification, Level::Warning),
            ]),
        }
    }
}

impl DeadlineRules {
    /// Checks the settings a supervisor submits.
    pub fn validate(&self) -> Result<(), crate::FieldError> {
        for (kind, days) in &self.warning_days {
            if *days > 30 {
                return Err(crate::FieldError::new(
                    format!("warning_days.{}", kind.key()),
                    "预警提前天数须在0至30个工作日之间",
                ));
            }
        }
        Ok(())
    }

    /// The standing of a deadline due on `due` on `today`: the most serious
    /// finding, or none. Paused and ended deadlines are not judged.
    pub fn judge(
        &self,
        kind: DeadlineKind,
        state: DeadlineState,
        due: Date,
        today: Date,
        calendar: &dyn WorkCalendar,
    ) -> Option<Finding> {
        let warning = self.warning_days.get(&kind).copied();
        self.judge_warning(kind, state, due, today, calendar, warning)
    }

    fn judge_warning(
        &self,
        kind: DeadlineKind,
        state: DeadlineState,
        due: Date,
        today: Date,
        calendar: &dyn WorkCalendar,
        warning_days: Option<u32>,
    ) -> Option<Finding> {
        if state != DeadlineState::Running {
            return None;
        }
        if today > due {
            let level = *self.overdue_level.get(&kind)?;
            return Some(Finding {
                kind,
                breach: Breach::Overdue,
                level,
            });
        }
        let days = warning_days?;
        (calendar.working_days_between(today, due) <= i64::from(days)).then_some(Finding {
            kind,
            breach: Breach::DueSoon,
            level: Level::Warning,
        })
    }

    /// The first day after `today` on which the deadline's standing can
    /// change (it enters the warning days, or passes): what an index of
    /// next checks holds, so a tick only reads the objects due for one.
    pub fn next_check(
        &self,
        kind: DeadlineKind,
        state: DeadlineState,
        due: Date,
        today: Date,
        calendar: &dyn WorkCalendar,
    ) -> Option<Date> {
        let warning = self.warning_days.get(&kind).copied();
        self.next_check_warning(kind, state, due, today, calendar, warning)
    }

    fn next_check_warning(
        &self,
        kind: DeadlineKind,
        state: DeadlineState,
        due: Date,
        today: Date,
        calendar: &dyn WorkCalendar,
        warning_days: Option<u32>,
    ) -> Option<Date> {
        if state != DeadlineState::Running {
            return None;
        }
        let overdue_from = due.tomorrow().ok()?;
        let warning_from = warning_days.map(|days| warning_start(due, days, calendar));
        [
            warning_from,
            self.overdue_level.get(&kind).map(|_| overdue_from),
        ]
        .into_iter()
        .flatten()
        .filter(|d| *d > today)
        .min()
    }
}

/// Who is alerted of a finding about a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The person holding the case (the A of the post).
    Handler,
    /// The B of the handler's post.
    Backup,
    /// The department's reviewers.
    Reviewer,
    /// The department's approvers (the leaders responsible).
    Approver,
}

impl Recipient {
    pub const ALL: [Recipient; 4] = [
        Recipient::Handler,
        Recipient::Backup,
        Recipient::Reviewer,
        Recipient::Approver,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Recipient::Handler => "承办人",
            Recipient::Backup => "B角",
            Recipient::Reviewer => "审核人",
            Recipient::Approver => "审批人（部门负责人）",
        }
    }
}

/// A breach seen in what someone did, rather than in time passing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    /// A rejection or a denial without written reasons or the rights notice.
    RefusalWithoutReasons,
    /// A second supplement request on one application (one-time notice).
    SecondSupplement,
    /// A special procedure entered without a reason.
    SuspensionWithoutReason,
    /// A fee charged that the item's catalog does not list.
    FeeNotInCatalog,
    /// A fee charged above the item's published standard.
    FeeAboveStandard,
    /// A decision dated before the case was registered: the case was
    /// handled outside the system (体外循环) and entered afterwards.
    OffSystem,
    /// The applicant rated the service poorly (差评).
    PoorRating,
}

impl Anomaly {
    pub const ALL: [Anomaly; 7] = [
        Anomaly::RefusalWithoutReasons,
        Anomaly::SecondSupplement,
        Anomaly::SuspensionWithoutReason,
        Anomaly::FeeNotInCatalog,
        Anomaly::FeeAboveStandard,
        Anomaly::OffSystem,
        Anomaly::PoorRating,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Anomaly::RefusalWithoutReasons => "refusal_without_reasons",
            Anomaly::SecondSupplement => "second_supplement",
            Anomaly::SuspensionWithoutReason => "suspension_without_reason",
            Anomaly::FeeNotInCatalog => "fee_not_in_catalog",
            Anomaly::FeeAboveStandard => "fee_above_standard",
            Anomaly::OffSystem => "off_system",
            Anomaly::PoorRating => "poor_rating",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Anomaly::RefusalWithoutReasons => "不予受理或不予许可未书面说明理由",
            Anomaly::SecondSupplement => "同一申请多次要求补正材料",
            Anomaly::SuspensionWithoutReason => "无事由进入特别程序",
            Anomaly::FeeNotInCatalog => "收取目录外费用",
            Anomaly::FeeAboveStandard => "超标准收费",
            Anomaly::OffSystem => "先办后录（体外循环）",
            Anomaly::PoorRating => "办事群众差评",
        }
    }
}

/// A case event as anomaly rules read it: its action and detail (as the
/// timeline records them), the item's published fees, and how many
/// supplement requests the application had before it.
pub struct EventFacts<'a> {
    pub action: &'a str,
    pub detail: &'a serde_json::Value,
    pub fees: &'a [crate::catalog::Fee],
    pub earlier_supplements: usize,
    /// The day the case was registered in the system.
    pub registered_on: Date,
}

/// The anomalies an event shows, each with what was found (Chinese). The
/// state machine refuses most of these when it makes the event; the rules
/// also hold for records that came in any other way (imports, repairs by
/// hand, another system's data).
pub fn event_anomalies(event: &EventFacts<'_>) -> Vec<(Anomaly, String)> {
    let text = |key: &str| {
        event
            .detail
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut found = Vec::new();
    match event.action {
        "reject" | "decide" => {
            let refused = event.action == "reject" || text("outcome") == "deny";
            if refused && (text("reasons").is_empty() || text("rights_notice").is_empty()) {
                let what = if event.action == "reject" {
                    "不予受理决定缺少书面理由或救济权利告知"
                } else {
                    "不予许可决定缺少书面理由或救济权利告知"
                };
                found.push((Anomaly::RefusalWithoutReasons, what.to_string()));
            }
            if let Some(dated) = text("decided_on").parse::<Date>().ok()
                && dated < event.registered_on
            {
                found.push((
                    Anomaly::OffSystem,
                    format!(
                        "决定书日期{dated}早于办件登记日期{}，办件未在系统内受理和审批",
                        event.registered_on
                    ),
                ));
            }
        }
        "request_supplement" if event.earlier_supplements > 0 => {
            found.push((
                Anomaly::SecondSupplement,
                format!("该申请此前已要求补正{}次", event.earlier_supplements),
            ));
        }
        "rate" => {
            let score = event
                .detail
                .get("score")
                .and_then(|s| s.as_u64())
                .unwrap_or(5);
            if crate::rating::is_poor(score as u8) {
                found.push((
                    Anomaly::PoorRating,
                    format!(
                        "申请人评价为“{}”：{}",
                        crate::rating::grade_label(score as u8),
                        text("comment")
                    ),
                ));
            }
        }
        "suspend" if text("reason").is_empty() => {
            found.push((
                Anomaly::SuspensionWithoutReason,
                "进入特别程序未填写事由".to_string(),
            ));
        }
        "deliver" => {
            let charged = event
                .detail
                .get("fees")
                .and_then(|f| f.as_array())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for fee in charged {
                let name = fee
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .trim();
                let amount = fee.get("amount_fen").and_then(|a| a.as_i64()).unwrap_or(0);
                let yuan = |fen: i64| format!("{}.{:02}元", fen / 100, fen % 100);
                match event.fees.iter().find(|f| f.name.trim() == name) {
                    None => found.push((
                        Anomaly::FeeNotInCatalog,
                        format!("收取“{name}”{}，该事项收费目录中没有此项", yuan(amount)),
                    )),
                    Some(listed) if amount > listed.amount_fen => found.push((
                        Anomaly::FeeAboveStandard,
                        format!(
                            "“{name}”收取{}，高于公布标准{}（{}）",
                            yuan(amount),
                            yuan(listed.amount_fen),
                            listed.standard
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
        _ => {}
    }
    found
}

/// A card's condition (see [`Finding::condition`]; anomalies are
/// `anomaly:<key>:<event>`) as people read it, e.g. "承诺办结时限超期".
pub fn condition_label(condition: &str) -> String {
    let mut parts = condition.split(':');
    let (head, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let kind = DeadlineKind::parse(key).map(DeadlineKind::label);
    match (head, kind) {
        ("due_soon", Some(kind)) => format!("{kind}到期前预警"),
        ("overdue", Some(kind)) => format!("{kind}超期"),
        ("instant_not_same_day", _) => "即办件当场办结".into(),
        ("anomaly", _) => Anomaly::ALL
            .into_iter()
            .find(|a| a.key() == key)
            .map_or_else(|| condition.to_string(), |a| a.label().to_string()),
        _ => condition.to_string(),
    }
}

/// A way an alert reaches people. In-app notices are written with the card;
/// the others go through the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InApp,
    Email,
    Webhook,
    Sms,
    Wechat,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::InApp,
        Channel::Email,
        Channel::Webhook,
        Channel::Sms,
        Channel::Wechat,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Sms => "sms",
            Channel::Wechat => "wechat",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::InApp => "站内消息",
            Channel::Email => "电子邮件",
            Channel::Webhook => "Webhook",
            Channel::Sms => "短信",
            Channel::Wechat => "企业微信",
        }
    }

    pub fn parse(key: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// What supervision knows of the item a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemFacts<'a> {
    pub code: &'a str,
    /// An instant item (即办件): done the day it is accepted.
    pub instant: bool,
}

/// A deadline as supervision watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched<'a> {
    pub kind: DeadlineKind,
    pub state: DeadlineState,
    pub start: Date,
    pub due: Date,
    /// The case's item, for deadlines of a case.
    pub item: Option<ItemFacts<'a>>,
}

/// Everything the supervisor configures (audited when changed): deadline
/// rules, per-item warning days, the instant-item rule, the days a
/// department has to answer a card and who is alerted at each level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisionRules {
    pub deadlines: DeadlineRules,
    /// Warning days before the promised deadline for items (by item code)
    /// that need other than the default.
    pub item_warning_days: BTreeMap<String, u32>,
    /// The level an instant item earns when it is not completed on the day
    /// it was accepted; `None`: not watched.
    pub instant_not_same_day: Option<Level>,
    /// Working days a department has to explain or rectify a card.
    pub rectification_days: u32,
    /// Who is alerted, per level.
    pub recipients: BTreeMap<Level, Vec<Recipient>>,
    /// The level each anomaly earns; an anomaly left out is not watched.
    pub anomalies: BTreeMap<Anomaly, Level>,
}

impl Default for SupervisionRules {
    fn default() -> Self {
        use Recipient::*;
        SupervisionRules {
            deadlines: DeadlineRules::default(),
            item_warning_days: BTreeMap::new(),
            instant_not_same_day: Some(Level::Yellow),
            rectification_days: 5,
            recipients: BTreeMap::from([
                (Level::Warning, vec![Handler, Backup]),
                (Level::Yellow, vec![Handler, Backup, Reviewer, Approver]),
                (Level::Red, vec![Handler, Backup, Reviewer, Approver]),
            ]),
            anomalies: BTreeMap::from([
                (Anomaly::RefusalWithoutReasons, Level::Red),
                (Anomaly::SecondSupplement, Level::Yellow),
                (Anomaly::SuspensionWithoutReason, Level::Yellow),
                (Anomaly::FeeNotInCatalog, Level::Red),
                (Anomaly::FeeAboveStandard, Level::Red),
                (Anomaly::OffSystem, Level::Red),
                (Anomaly::PoorRating, Level::Yellow),
            ]),
        }
    }
}

impl SupervisionRules {
    /// Checks the settings a supervisor submits.
    pub fn validate(&self) -> Result<(), crate::FieldError> {
        self.deadlines.validate()?;
        for (code, days) in &self.item_warning_days {
            if code.trim().is_empty() {
                return Err(crate::FieldError::new(
                    "item_warning_days",
                    "事项编码不能为空",
                ));
            }
            if *days > 30 {
                return Err(crate::FieldError::new(
                    format!("item_warning_days.{code}"),
                    "预警提前天数须在0至30个工作日之间",
                ));
            }
        }
        if !(1..=60).contains(&self.rectification_days) {
            return Err(crate::FieldError::new(
                "rectification_days",
                "整改期限须在1至60个工作日之间",
            ));
        }
        for level in [Level::Warning, Level::Yellow, Level::Red] {
            if self.recipients.get(&level).is_none_or(|r| r.is_empty()) {
                return Err(crate::FieldError::new(
                    format!("recipients.{}", level.key()),
                    format!("须至少指定一类{}提醒对象", level.label()),
                ));
            }
        }
        Ok(())
    }

    /// The warning days of the deadline; none for an instant item, done
    /// within the day it was accepted.
    fn warning_days(&self, watched: &Watched<'_>) -> Option<u32> {
        if self.instant_level(watched).is_some() {
            return None;
        }
        if watched.kind == DeadlineKind::CasePromised
            && let Some(days) = watched
                .item
                .and_then(|item| self.item_warning_days.get(item.code))
        {
            return Some(*days);
        }
        self.deadlines.warning_days.get(&watched.kind).copied()
    }

    /// The instant-item rule's level, where it applies to the deadline.
    fn instant_level(&self, watched: &Watched<'_>) -> Option<Level> {
        (watched.kind == DeadlineKind::CasePromised && watched.item.is_some_and(|i| i.instant))
            .then_some(self.instant_not_same_day)
            .flatten()
    }

    /// The standing of a watched deadline on `today`: its most serious
    /// finding, or none.
    pub fn judge(
        &self,
        watched: &Watched<'_>,
        today: Date,
        calendar: &dyn WorkCalendar,
    ) -> Option<Finding> {
        let (kind, state) = (watched.kind, watched.state);
        let deadline = self.deadlines.judge_warning(
            kind,
            state,
            watched.due,
            today,
            calendar,
            self.warning_days(watched),
        );
        let instant = self
            .instant_level(watched)
            .filter(|_| state == DeadlineState::Running && today > watched.start)
            .map(|level| Finding {
                kind,
                breach: Breach::InstantNotSameDay,
                level,
            });
        match (deadline, instant) {
            (Some(d), Some(i)) => Some(if d.level > i.level { d } else { i }),
            (d, i) => d.or(i),
        }
    }

    /// The first day after `today` on which the standing can change.
    pub fn next_check(
        &self,
        watched: &Watched<'_>,
        today: Date,
        calendar: &dyn WorkCalendar,
    ) -> Option<Date> {
        let deadline = self.deadlines.next_check_warning(
            watched.kind,
            watched.state,
            watched.due,
            today,
            calendar,
            self.warning_days(watched),
        );
        let instant = self
            .instant_level(watched)
            .filter(|_| watched.state == DeadlineState::Running)
            .and_then(|_| watched.start.tomorrow().ok())
            .filter(|d| *d > today);
        deadline.into_iter().chain(instant).min()
    }

    /// Who is alerted at `level`.
    pub fn recipients_of(&self, level: Level) -> &[Recipient] {
        self.recipients.get(&level).map_or(&[], Vec::as_slice)
    }
}

/// The first day from which at most `days` working days remain until `due`.
fn warning_start(due: Date, days: u32, calendar: &dyn WorkCalendar) -> Date {
    let mut day = due;
    loop {
        let Ok(before) = day.yesterday() else {
            return day;
        };
        if calendar.working_days_between(before, due) > i64::from(days) {
            return day;
        }
        day = before;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WeekendCalendar;
    use jiff::civil::date;

    fn judge(kind: DeadlineKind, due: Date, today: Date) -> Option<Finding> {
        DeadlineRules::default().judge(kind, DeadlineState::Running, due, today, &WeekendCalendar)
    }

    #[test]
    fn a_promised_deadline_warns_two_working_days_ahead_then_earns_a_yellow_card() {
        let due = date(2026, 12, 4); // Friday
        let promised = DeadlineKind::CasePromised;
        assert_eq!(judge(promised, due, date(2026, 12, 1)), None);
        let warned = judge(promised, due, date(2026, 12, 2)).unwrap();
        assert_eq!(
            (warned.breach, warned.level),
            (Breach::DueSoon, Level::Warning)
        );
        assert_eq!(
            judge(promised, due, date(2026, 12, 4)).unwrap().level,
            Level::Warning
        );
        let overdue = judge(promised, due, date(2026, 12, 5)).unwrap();
        assert_eq!(
            (overdue.breach, overdue.level),
            (Breach::Overdue, Level::Yellow)
        );
        assert_eq!(overdue.label(), "承诺办结时限已超期（黄牌）");
    }

    #[test]
    fn a_passed_statutory_limit_earns_a_red_card() {
        let finding = judge(
            DeadlineKind::CaseStatutory,
            date(2026, 12, 4),
            date(2026, 12, 7),
        );
        assert_eq!(finding.unwrap().level, Level::Red);
        // No warning is configured for the statutory limit by default.
        assert_eq!(
            judge(
                DeadlineKind::CaseStatutory,
                date(2026, 12, 4),
                date(2026, 12, 3)
            ),
            None
        );
    }

    #[test]
    fn paused_and_ended_deadlines_are_not_judged() {
        let rules = DeadlineRules::default();
        for state in [DeadlineState::Paused, DeadlineState::Ended] {
            let found = rules.judge(
                DeadlineKind::CasePromised,
                state,
                date(2026, 11, 1),
                date(2026, 12, 1),
                &WeekendCalendar,
            );
            assert_eq!(found, None);
            let next = rules.next_check(
                DeadlineKind::CasePromised,
                state,
                date(2026, 12, 4),
                date(2026, 12, 1),
                &WeekendCalendar,
            );
            assert_eq!(next, None);
        }
    }

    #[test]
    fn the_next_check_is_the_day_the_standing_changes() {
        let rules = DeadlineRules::default();
        let promised = DeadlineKind::CasePromised;
        let due = date(2026, 12, 4); // Friday; warning from Wednesday the 2nd
        let next = |today| {
            rules.next_check(
                promised,
                DeadlineState::Running,
                due,
                today,
                &WeekendCalendar,
            )
        };
        assert_eq!(next(date(2026, 11, 25)), Some(date(2026, 12, 2)));
        assert_eq!(next(date(2026, 12, 2)), Some(date(2026, 12, 5)));
        assert_eq!(next(date(2026, 12, 5)), None);
        // A Monday due day: the warning starts the Thursday before.
        let monday = date(2026, 12, 7);
        assert_eq!(
            rules.next_check(
                promised,
                DeadlineState::Running,
                monday,
                date(2026, 11, 30),
                &WeekendCalendar
            ),
            Some(date(2026, 12, 3))
        );
        // Every day before the next check judges the same as the day before it.
        for offset in 0..10 {
            let today = date(2026, 11, 28) + jiff::Span::new().days(offset);
            if let Some(check) = next(today) {
                let mut day = today.tomorrow().unwrap();
                while day < check {
                    assert_eq!(
                        judge(promised, due, day),
                        judge(promised, due, today),
                        "{day}"
                    );
                    day = day.tomorrow().unwrap();
                }
                assert_ne!(
                    judge(promised, due, check),
                    judge(promised, due, today),
                    "{check}"
                );
            }
        }
    }

    #[test]
    fn settings_are_checked() {
        let mut rules = DeadlineRules::default();
        assert!(rules.validate().is_ok());
        rules.warning_days.insert(DeadlineKind::CaseStep, 99);
        assert_eq!(
            rules.validate().unwrap_err().field,
            "warning_days.case_step"
        );
    }

    fn watched(
        kind: DeadlineKind,
        start: Date,
        due: Date,
        item: Option<ItemFacts<'_>>,
    ) -> Watched<'_> {
        Watched {
            kind,
            state: DeadlineState::Running,
            start,
            due,
            item,
        }
    }

    #[test]
    fn an_item_can_have_its_own_warning_days() {
        let mut rules = SupervisionRules::default();
        rules.item_warning_days.insert("XK-001".into(), 5);
        let due = date(2026, 12, 11); // Friday
        let own = ItemFacts {
            code: "XK-001",
            instant: false,
        };
        let other = ItemFacts {
            code: "XK-002",
            instant: false,
        };
        let today = date(2026, 12, 4); // five working days before
        let w = watched(
            DeadlineKind::CasePromised,
            date(2026, 12, 1),
            due,
            Some(own),
        );
        assert_eq!(
            rules.judge(&w, today, &WeekendCalendar).map(|f| f.breach),
            Some(Breach::DueSoon)
        );
        let w = watched(
            DeadlineKind::CasePromised,
            date(2026, 12, 1),
            due,
            Some(other),
        );
        assert_eq!(rules.judge(&w, today, &WeekendCalendar), None);
        assert_eq!(
            rules.next_check(&w, today, &WeekendCalendar),
            Some(date(2026, 12, 9))
        );
    }

    #[test]
    fn an_instant_item_not_done_the_day_it_was_accepted_earns_its_card_the_next_day() {
        let rules = SupervisionRules::default();
        let instant = ItemFacts {
            code: "JB-001",
            instant: true,
        };
        let accepted = date(2026, 12, 1);
        let w = watched(
            DeadlineKind::CasePromised,
            accepted,
            date(2026, 12, 3),
            Some(instant),
        );
        assert_eq!(rules.judge(&w, accepted, &WeekendCalendar), None);
        assert_eq!(
            rules.next_check(&w, accepted, &WeekendCalendar),
            Some(date(2026, 12, 2))
        );
        let found = rules
            .judge(&w, date(2026, 12, 2), &WeekendCalendar)
            .unwrap();
        assert_eq!(found.breach, Breach::InstantNotSameDay);
        assert_eq!(found.level, Level::Yellow);
        assert_eq!(found.label(), "即办件未当场办结（黄牌）");
        assert_eq!(
            found.condition(accepted),
            "instant_not_same_day:case_promised"
        );
    }

    #[test]
    fn each_step_overrun_is_its_own_condition() {
        let rules = SupervisionRules::default();
        let step = |start| watched(DeadlineKind::CaseStep, start, date(2026, 12, 3), None);
        let first = rules
            .judge(
                &step(date(2026, 11, 30)),
                date(2026, 12, 4),
                &WeekendCalendar,
            )
            .unwrap();
        let second = rules
            .judge(
                &step(date(2026, 12, 1)),
                date(2026, 12, 4),
                &WeekendCalendar,
            )
            .unwrap();
        assert_ne!(
            first.condition(date(2026, 11, 30)),
            second.condition(date(2026, 12, 1))
        );
    }

    #[test]
    fn supervision_settings_are_checked_and_unknown_kinds_are_refused() {
        let mut rules = SupervisionRules::default();
        assert!(rules.validate().is_ok());
        rules.rectification_days = 0;
        assert_eq!(rules.validate().unwrap_err().field, "rectification_days");
        let mut rules = SupervisionRules::default();
        rules.recipients.insert(Level::Red, vec![]);
        assert_eq!(rules.validate().unwrap_err().field, "recipients.red");
        let bad = r#"{"deadlines":{"warning_days":{"case_foo":2},"overdue_level":{}}}"#;
        assert!(serde_json::from_str::<SupervisionRules>(bad).is_err());
        let bad = r#"{"warning":3}"#;
        assert!(serde_json::from_str::<SupervisionRules>(bad).is_err());
        let round = serde_json::to_string(&SupervisionRules::default()).unwrap();
        assert_eq!(
            serde_json::from_str::<SupervisionRules>(&round).unwrap(),
            SupervisionRules::default()
        );
    }

    #[test]
    fn fees_outside_the_catalog_or_above_its_standard_are_anomalies() {
        let fees = vec![crate::catalog::Fee {
            name: "工本费".into(),
            standard: "每证10元".into(),
            amount_fen: 1000,
            lower_bound_fen: 0,
            legal_basis: "".into(),
        }];
        let detail = serde_json::json!({ "method": "窗口领取", "fees": [
            { "name": "工本费", "amount_fen": 1000 },
        ]});
        let event = |detail: &serde_json::Value| {
            event_anomalies(&EventFacts {
                action: "deliver",
                detail,
                fees: &fees,
                earlier_supplements: 0,
                registered_on: date(2026, 12, 1),
            })
        };
        assert!(event(&detail).is_empty());
        let detail = serde_json::json!({ "fees": [
            { "name": "工本费", "amount_fen": 2000 },
            { "name": "加急费", "amount_fen": 5000 },
        ]});
        let found = event(&detail);
        assert_eq!(
            found.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![Anomaly::FeeAboveStandard, Anomaly::FeeNotInCatalog]
        );
        assert!(found[0].1.contains("20.00元") && found[0].1.contains("10.00元"));
    }

    #[test]
    fn refusals_without_reasons_and_repeated_supplements_are_anomalies() {
        let none: &[crate::catalog::Fee] = &[];
        let facts = |action, detail, earlier_supplements| {
            let detail: serde_json::Value = detail;
            event_anomalies(&EventFacts {
                action,
                detail: &detail,
                fees: none,
                earlier_supplements,
                registered_on: date(2026, 12, 1),
            })
            .into_iter()
            .map(|f| f.0)
            .collect::<Vec<_>>()
        };
        assert_eq!(
            facts(
                "reject",
                serde_json::json!({ "reasons": " ", "rights_notice": "可申请复议" }),
                0
            ),
            vec![Anomaly::RefusalWithoutReasons]
        );
        assert!(
            facts(
                "reject",
                serde_json::json!({ "reasons": "不属本机关职权", "rights_notice": "可申请复议" }),
                0
            )
            .is_empty()
        );
        assert_eq!(
            facts(
                "decide",
                serde_json::json!({ "outcome": "deny", "reasons": "" }),
                0
            ),
            vec![Anomaly::RefusalWithoutReasons]
        );
        assert!(facts("decide", serde_json::json!({ "outcome": "approve" }), 0).is_empty());
        assert_eq!(
            facts(
                "decide",
                serde_json::json!({ "outcome": "approve", "decided_on": "2026-11-20" }),
                0
            ),
            vec![Anomaly::OffSystem]
        );
        assert!(
            facts(
                "decide",
                serde_json::json!({ "outcome": "approve", "decided_on": "2026-12-01" }),
                0
            )
            .is_empty()
        );
        assert!(facts("request_supplement", serde_json::json!({}), 0).is_empty());
        assert_eq!(
            facts("request_supplement", serde_json::json!({}), 1),
            vec![Anomaly::SecondSupplement]
        );
        assert_eq!(
            facts("suspend", serde_json::json!({ "reason": "" }), 0),
            vec![Anomaly::SuspensionWithoutReason]
        );
    }

    #[test]
    fn conditions_read_as_chinese() {
        assert_eq!(condition_label("overdue:case_promised"), "承诺办结时限超期");
        assert_eq!(
            condition_label("overdue:case_step:2026-11-23"),
            "当前环节时限超期"
        );
        assert_eq!(
            condition_label("anomaly:fee_above_standard:17"),
            "超标准收费"
        );
        assert_eq!(condition_label("something:else"), "something:else");
    }
}
