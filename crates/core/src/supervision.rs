//! Electronic supervision rules on deadlines: when a deadline earns a
//! warning (预警) or a yellow or red card (黄牌, 红牌), and the next day its
//! standing can change, so a supervision tick only looks at objects whose
//! next check has come.
//!
//! Defaults follow the seed documents: a warning N working days before the
//! promised deadline (N = 2), a yellow card when the promised limit passes
//! without completion, a red card when the statutory limit passes.

use std::collections::HashMap;

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
}

impl Breach {
    pub fn key(self) -> &'static str {
        match self {
            Breach::DueSoon => "due_soon",
            Breach::Overdue => "overdue",
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
        }
    }
}

/// The supervisor's settings for deadlines: warning days and the level each
/// overdue deadline earns, per deadline kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        let days = *self.warning_days.get(&kind)?;
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
        if state != DeadlineState::Running {
            return None;
        }
        let overdue_from = due.tomorrow().ok()?;
        let warning_from = self
            .warning_days
            .get(&kind)
            .map(|days| warning_start(due, *days, calendar));
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
}
