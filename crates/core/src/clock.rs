//! The clock engine: one way to compute every deadline in the system (cases
//! and their steps, supplements, complaints, rectifications, …) and to explain
//! how it was computed.
//!
//! A deadline is a start day, a limit and the intervals during which the clock
//! stood still. Counting follows the Civil Code (arts. 201, 203): the start day
//! is not counted; a limit in working days ends on the N-th working day after
//! it; a limit in natural days whose last day is not a working day ends on the
//! next working day. A pause from day P to day R excludes the days after P up
//! to and including R: the day the clock stops still counts, and counting
//! restarts the day after it resumes (the resumption day, like a start day, is
//! not counted).

use jiff::civil::{Date, Weekday};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::china::{CalendarOverride, ChinaCalendar};
use crate::calendar::{LimitUnit, TimeLimit, WorkCalendar, china_zone};

/// An interval during which a deadline's clock stood still.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// The day the clock stopped (still counted).
    pub from: Date,
    /// The day it resumed (not counted); `None` while it stands still.
    pub to: Option<Date>,
    /// Why, as people read it (e.g. "专家评审：…").
    pub reason: String,
}

/// A deadline: a start day, a limit, and its pauses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub start: Date,
    pub limit: TimeLimit,
    #[serde(default)]
    pub pauses: Vec<Pause>,
}

impl Deadline {
    pub fn new(start: Date, limit: TimeLimit) -> Deadline {
        Deadline {
            start,
            limit,
            pauses: Vec::new(),
        }
    }

    /// Whether the clock stands still now.
    pub fn is_paused(&self) -> bool {
        self.pauses.iter().any(|p| p.to.is_none())
    }

    /// The excluded day ranges (inclusive), after the start day, merged and
    /// in order. An open pause excludes nothing yet.
    fn excluded(&self) -> Vec<(Date, Date)> {
        let mut ranges: Vec<(Date, Date)> = self
            .pauses
            .iter()
            .filter_map(|p| {
                let to = p.to?;
                let from = p.from.max(self.start).tomorrow().ok()?;
                (from <= to).then_some((from, to))
            })
            .collect();
        ranges.sort();
        let mut merged: Vec<(Date, Date)> = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1.tomorrow().unwrap_or(last.1) => {
                    last.1 = last.1.max(to);
                }
                _ => merged.push((from, to)),
            }
        }
        merged
    }

    /// The last day of the limit. While the clock stands still this is the
    /// due day as it was when it stopped.
    pub fn due(&self, calendar: &dyn WorkCalendar) -> Date {
        match self.limit.unit {
            LimitUnit::WorkingDays => {
                let mut cursor = self.start;
                let mut left = self.limit.amount;
                for (from, to) in self.excluded() {
                    let before = from.yesterday().unwrap_or(from);
                    let available = calendar.working_days_between(cursor, before).max(0) as u32;
                    if available >= left {
                        break;
                    }
                    left -= available;
                    cursor = to;
                }
                calendar.add_working_days(cursor, left)
            }
            LimitUnit::NaturalDays => calendar.next_working_day_from(self.natural_last_day()),
        }
    }

    /// The due day and everything that went into it, in words.
    pub fn explain(&self, calendar: &ChinaCalendar) -> Explanation {
        let due = self.due(calendar);
        let counting_from = self.start.tomorrow().unwrap_or(self.start);
        let last_counted = match self.limit.unit {
            LimitUnit::WorkingDays => due,
            LimitUnit::NaturalDays => self.natural_last_day(),
        };
        let pauses = self
            .pauses
            .iter()
            .map(|p| {
                let excluded = p.to.map(|to| {
                    let from = p.from.max(self.start);
                    match self.limit.unit {
                        LimitUnit::WorkingDays => calendar.working_days_between(from, to).max(0),
                        LimitUnit::NaturalDays => days_between(from, to).max(0),
                    }
                });
                PauseNote {
                    from: p.from,
                    to: p.to,
                    reason: p.reason.clone(),
                    excluded_days: excluded,
                }
            })
            .collect();
        let holidays = calendar
            .periods_between(counting_from, due)
            .into_iter()
            .map(|(year, p)| HolidayNote {
                year,
                name: p.name.clone(),
                from: p.from,
                to: p.to,
                days: p.days(),
            })
            .collect();
        let adjusted_workdays = calendar
            .adjusted_workdays_between(counting_from, due)
            .into_iter()
            .map(|(date, p)| AdjustedNote {
                date,
                period: p.name.clone(),
            })
            .collect();
        let overrides = calendar
            .overrides_between(counting_from, due)
            .into_iter()
            .cloned()
            .collect();
        let notices = calendar
            .notices_between(counting_from, due)
            .into_iter()
            .map(|a| {
                let number = if a.notice.number.is_empty() {
                    String::new()
                } else {
                    format!("（{}）", a.notice.number)
                };
                format!("{}{}", a.notice.title, number)
            })
            .collect();
        Explanation {
            start: self.start,
            limit: self.limit,
            pauses,
            holidays,
            adjusted_workdays,
            overrides,
            rolled_forward_from: (self.limit.unit == LimitUnit::NaturalDays && last_counted != due)
                .then_some(last_counted),
            due,
            paused_now: self.is_paused(),
            provisional_years: calendar.provisional_years(self.start, due),
            notices,
            ended: false,
            recorded_due_kept: false,
        }
    }

    /// For natural days: the last day counted, before moving off a rest day.
    fn natural_last_day(&self) -> Date {
        let mut cursor = self.start;
        let mut left = i64::from(self.limit.amount);
        for (from, to) in self.excluded() {
            let available = days_between(cursor, from) - 1;
            if available >= left {
                break;
            }
            left -= available.max(0);
            cursor = to;
        }
        add_days(cursor, left)
    }
}

/// What a deadline is the deadline of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The acceptance decision, 5 working days from receipt.
    CaseAcceptance,
    CasePromised,
    CaseStatutory,
    /// The step in progress.
    CaseStep,
    /// Issuing the certificate after the decision.
    CaseDelivery,
    /// The days planned for a special procedure (hearing, expert review …).
    CaseSuspension,
    /// A department's explanation or rectification of a yellow or red card.
    CardRectification,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 7] = [
        DeadlineKind::CaseAcceptance,
        DeadlineKind::CasePromised,
        DeadlineKind::CaseStatutory,
        DeadlineKind::CaseStep,
        DeadlineKind::CaseDelivery,
        DeadlineKind::CaseSuspension,
        DeadlineKind::CardRectification,
    ];

    /// Whether the object limited is a case (its id is the case's).
    pub fn is_case(self) -> bool {
        self != DeadlineKind::CardRectification
    }

    pub fn key(self) -> &'static str {
        match self {
            DeadlineKind::CaseAcceptance => "case_acceptance",
            DeadlineKind::CasePromised => "case_promised",
            DeadlineKind::CaseStatutory => "case_statutory",
            DeadlineKind::CaseStep => "case_step",
            DeadlineKind::CaseDelivery => "case_delivery",
            DeadlineKind::CaseSuspension => "case_suspension",
            DeadlineKind::CardRectification => "card_rectification",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeadlineKind::CaseAcceptance => "受理期限",
            DeadlineKind::CasePromised => "承诺办结时限",
            DeadlineKind::CaseStatutory => "法定办结时限",
            DeadlineKind::CaseStep => "当前环节时限",
            DeadlineKind::CaseDelivery => "送达（发证）期限",
            DeadlineKind::CaseSuspension => "特别程序计划期限",
            DeadlineKind::CardRectification => "黄红牌整改期限",
        }
    }

    pub fn parse(key: &str) -> Option<DeadlineKind> {
        DeadlineKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// Whether a deadline's clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    Running,
    Paused,
    /// The work it limits is done (or the object closed): no longer watched.
    Ended,
}

impl DeadlineState {
    pub fn key(self) -> &'static str {
        match self {
            DeadlineState::Running => "running",
            DeadlineState::Paused => "paused",
            DeadlineState::Ended => "ended",
        }
    }

    pub fn parse(key: &str) -> Option<DeadlineState> {
        [
            DeadlineState::Running,
            DeadlineState::Paused,
            DeadlineState::Ended,
        ]
        .into_iter()
        .find(|s| s.key() == key)
    }
}

/// A deadline of an object as the supervision index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedDeadline {
    pub kind: DeadlineKind,
    pub deadline: Deadline,
    pub due: Date,
    pub state: DeadlineState,
}

impl TrackedDeadline {
    /// `deadline` with its due day on `calendar`; `open` says whether the work
    /// it limits is still to be done.
    pub fn new(
        kind: DeadlineKind,
        deadline: Deadline,
        open: bool,
        calendar: &dyn WorkCalendar,
    ) -> TrackedDeadline {
        let state = match (open, deadline.is_paused()) {
            (false, _) => DeadlineState::Ended,
            (true, true) => DeadlineState::Paused,
            (true, false) => DeadlineState::Running,
        };
        TrackedDeadline {
            kind,
            due: deadline.due(calendar),
            deadline,
            state,
        }
    }
}

fn days_between(from: Date, to: Date) -> i64 {
    i64::from(crate::calendar::china::day_number(to) - crate::calendar::china::day_number(from))
}

fn add_days(date: Date, days: i64) -> Date {
    crate::calendar::china::date_of(crate::calendar::china::day_number(date) + days as i32)
}

/// A pause as the explanation lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseNote {
    pub from: Date,
    pub to: Option<Date>,
    pub reason: String,
    /// Days (in the limit's unit) the pause took out of the count.
    pub excluded_days: Option<i64>,
}

/// A holiday period the deadline's count crossed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayNote {
    pub year: i16,
    pub name: String,
    pub from: Date,
    pub to: Date,
    pub days: i32,
}

/// An adjusted working day (调休上班) the count crossed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustedNote {
    pub date: Date,
    pub period: String,
}

/// How a deadline was computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub start: Date,
    pub limit: TimeLimit,
    pub pauses: Vec<PauseNote>,
    pub holidays: Vec<HolidayNote>,
    pub adjusted_workdays: Vec<AdjustedNote>,
    pub overrides: Vec<CalendarOverride>,
    /// For natural-day limits ending on a day off: the day the count ended.
    pub rolled_forward_from: Option<Date>,
    pub due: Date,
    pub paused_now: bool,
    /// Years in the period without a published arrangement.
    pub provisional_years: Vec<i16>,
    /// The notices that set a day of the period (a holiday period or an
    /// adjusted working day in it).
    pub notices: Vec<String>,
    /// The deadline has ended: its due day no longer moves.
    #[serde(default)]
    pub ended: bool,
    /// Ended, and today's calendar would give another due day: `due` is the
    /// one recorded when it ended, and the calendar's notes are left out.
    #[serde(default)]
    pub recorded_due_kept: bool,
}

impl Explanation {
    pub fn is_provisional(&self) -> bool {
        !self.provisional_years.is_empty()
    }

    /// This explanation for a deadline that ended with the due day `due`.
    /// An ended deadline is never recomputed, so nothing in it is provisional;
    /// when today's calendar gives another day (an override or new holiday
    /// data since), the recorded day stands and today's holidays, adjusted
    /// days, overrides and notices, which no longer led to it, are left out.
    pub fn ended_with(mut self, due: Date) -> Explanation {
        if self.due != due {
            self.holidays.clear();
            self.adjusted_workdays.clear();
            self.overrides.clear();
            self.notices.clear();
            self.rolled_forward_from = None;
            self.due = due;
            self.recorded_due_kept = true;
        }
        self.ended = true;
        self.paused_now = false;
        self.provisional_years.clear();
        self
    }

    /// The explanation as lines of Chinese text.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "起算日：{}，当日不计入期限（《中华人民共和国民法典》第二百零一条）。",
                long_date(self.start)
            ),
            format!("期限：{}。", self.limit.label()),
        ];
        for p in &self.pauses {
            let line = match (p.to, p.excluded_days) {
                (Some(to), Some(days)) => format!(
                    "暂停计时：{}至{}，{}，扣除{}{}。",
                    long_date(p.from),
                    long_date(to),
                    p.reason,
                    days,
                    self.limit.unit.label()
                ),
                _ => format!(
                    "暂停计时：自{}起，{}，目前仍在暂停中，恢复后顺延。",
                    long_date(p.from),
                    p.reason
                ),
            };
            lines.push(line);
        }
        if self.holidays.is_empty() && !self.recorded_due_kept {
            lines.push("期间未经过法定节假日。".into());
        }
        for h in &self.holidays {
            lines.push(format!(
                "经过法定节假日：{}，{}至{}放假，共{}天，不计入工作日。",
                h.name,
                short_date(h.from),
                short_date(h.to),
                h.days
            ));
        }
        for a in &self.adjusted_workdays {
            lines.push(format!(
                "经过调休上班日：{}，{}调休上班，计为工作日。",
                long_date(a.date),
                a.period
            ));
        }
        for o in &self.overrides {
            lines.push(format!(
                "本地调整：{}{}，{}。",
                long_date(o.date),
                o.kind.label(),
                o.reason
            ));
        }
        if let Some(last) = self.rolled_forward_from {
            lines.push(format!(
                "期间最后一日{}不是工作日，顺延至其后第一个工作日（《民法典》第二百零三条）。",
                long_date(last)
            ));
        }
        let paused = if self.paused_now {
            "（计时暂停中，恢复后重新计算）"
        } else {
            ""
        };
        lines.push(format!("期限届满日：{}{}。", long_date(self.due), paused));
        if self.recorded_due_kept {
            lines.push(
                "该期限已结束，届满日以结束时为准；结束后的节假日数据更新或本地调整不再改变该期限。"
                    .into(),
            );
        } else if self.ended {
            lines.push("该期限已结束，届满日以结束时为准。".into());
        }
        if !self.notices.is_empty() {
            lines.push(format!("节假日依据：{}。", self.notices.join("；")));
        }
        if self.is_provisional() {
            let years: Vec<String> = self
                .provisional_years
                .iter()
                .map(|y| format!("{y}年"))
                .collect();
            lines.push(format!(
                "注意：{}的节假日安排尚未发布，暂按周六、周日休息计算，结果为临时结果，发布后将自动重新计算。",
                years.join("、")
            ));
        }
        lines
    }

    pub fn text(&self) -> String {
        self.lines().join("\n")
    }
}

/// "2025年1月28日".
pub fn short_date(date: Date) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// "2025年1月28日（星期二）".
pub fn long_date(date: Date) -> String {
    format!(
        "{}年{}月{}日（{}）",
        date.year(),
        date.month(),
        date.day(),
        weekday_label(date.weekday())
    )
}

pub fn weekday_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "星期一",
        Weekday::Tuesday => "星期二",
        Weekday::Wednesday => "星期三",
        Weekday::Thursday => "星期四",
        Weekday::Friday => "星期五",
        Weekday::Saturday => "星期六",
        Weekday::Sunday => "星期日",
    }
}

/// Office hours for limits counted in hours within working time: windows of
/// minutes since midnight, on working days (Asia/Shanghai).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeHours {
    pub windows: Vec<(u16, u16)>,
}

impl OfficeHours {
    /// 9:00–12:00 and 13:30–17:30, the hall's usual hours.
    pub fn hall() -> OfficeHours {
        OfficeHours {
            windows: vec![(9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60 + 30)],
        }
    }
}

/// The moment a limit of `hours` started at `start` runs out: natural hours,
/// or only the hours inside `office` on working days; intervals in `pauses`
/// (start, end) do not count.
pub fn due_after_hours(
    start: Timestamp,
    hours: u32,
    pauses: &[(Timestamp, Timestamp)],
    office: Option<&OfficeHours>,
    calendar: &dyn WorkCalendar,
) -> Timestamp {
    let mut left = SignedDuration::from_hours(i64::from(hours));
    let mut pauses: Vec<(Timestamp, Timestamp)> =
        pauses.iter().copied().filter(|(a, b)| a < b).collect();
    pauses.sort();
    // Consumes the counting segment [from, to) minus the pauses; returns the
    // moment the limit runs out inside it, if it does.
    let consume = |from: Timestamp, to: Timestamp, left: &mut SignedDuration| {
        let mut cursor = from;
        for &(a, b) in &pauses {
            if b <= cursor || a >= to {
                continue;
            }
            if a > cursor {
                let span = a.duration_since(cursor);
                if span >= *left {
                    return Some(cursor + *left);
                }
                *left -= span;
            }
            cursor = cursor.max(b);
            if cursor >= to {
                return None;
            }
        }
        let span = to.duration_since(cursor);
        if span >= *left {
            return Some(cursor + *left);
        }
        *left -= span;
        None
    };
    if left.is_zero() {
        return start;
    }
    match office {
        None => {
            let horizon = start + SignedDuration::from_hours(24 * 366 * 20);
            consume(start, horizon, &mut left).unwrap_or(horizon)
        }
        Some(office) => {
            let zone = china_zone();
            let mut day = crate::calendar::civil_date(start);
            for _ in 0..(366 * 20) {
                if calendar.is_working_day(day) {
                    for &(open, close) in &office.windows {
                        let at = |minute: u16| {
                            day.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
                                .to_zoned_datetime(zone.clone())
                                .map(|z| z.timestamp())
                        };
                        let (Ok(open), Ok(close)) = (at(open), at(close)) else {
                            continue;
                        };
                        let open = open.max(start);
                        if open >= close {
                            continue;
                        }
                        if let Some(due) = consume(open, close, &mut left) {
                            return due;
                        }
                    }
                }
                day = day.tomorrow().unwrap_or(day);
            }
            start
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WeekendCalendar;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn cal() -> &'static ChinaCalendar {
        ChinaCalendar::shipped()
    }

    fn pause(from: Date, to: Date) -> Pause {
        Pause {
            from,
            to: Some(to),
            reason: "专家评审".into(),
        }
    }

    #[test]
    fn working_days_cross_the_spring_festival() {
        // Accepted Monday 2025-01-20; 20 working days. 26 Jan (Sun) is worked,
        // 28 Jan – 4 Feb are off, 8 Feb (Sat) is worked.
        let d = Deadline::new(date(2025, 1, 20), TimeLimit::working_days(20));
        assert_eq!(d.due(cal()), date(2025, 2, 21));
        let e = d.explain(cal());
        assert_eq!(e.holidays.len(), 1);
        assert_eq!(e.holidays[0].name, "春节");
        assert_eq!(e.adjusted_workdays.len(), 2);
        assert!(!e.is_provisional());
        let text = e.text();
        assert!(text.contains("春节"), "{text}");
        assert!(text.contains("2025年2月21日（星期五）"), "{text}");
        assert!(
            text.contains("调休上班日：2025年1月26日（星期日），春节调休上班"),
            "{text}"
        );
    }

    #[test]
    fn natural_days_ending_on_a_holiday_move_to_the_next_working_day() {
        // 2025-09-26 + 5 natural days = 2025-10-01, National Day: the next
        // working day is 2025-10-09.
        let d = Deadline::new(
            date(2025, 9, 26),
            TimeLimit {
                amount: 5,
                unit: LimitUnit::NaturalDays,
            },
        );
        assert_eq!(d.due(cal()), date(2025, 10, 9));
        let e = d.explain(cal());
        assert_eq!(e.rolled_forward_from, Some(date(2025, 10, 1)));
        assert!(e.text().contains("顺延"));
    }

    #[test]
    fn a_pause_excludes_the_days_after_it_stops_through_the_day_it_resumes() {
        // Start Monday 2026-11-02, 10 working days -> 2026-11-16 without pause.
        let plain = Deadline::new(date(2026, 11, 2), TimeLimit::working_days(10));
        assert_eq!(plain.due(&WeekendCalendar), date(2026, 11, 16));
        // Stopped Wednesday 4th, resumed Monday 9th: 5,6,9 excluded (3 working days).
        let mut paused = plain.clone();
        paused
            .pauses
            .push(pause(date(2026, 11, 4), date(2026, 11, 9)));
        assert_eq!(paused.due(&WeekendCalendar), date(2026, 11, 19));
        let e = paused.explain(cal());
        assert_eq!(e.pauses[0].excluded_days, Some(3));
        assert!(e.text().contains("扣除3个工作日"), "{}", e.text());
    }

    #[test]
    fn a_pause_after_the_due_day_changes_nothing() {
        let mut d = Deadline::new(date(2026, 11, 2), TimeLimit::working_days(5));
        let due = d.due(&WeekendCalendar);
        d.pauses.push(pause(date(2026, 11, 20), date(2026, 11, 30)));
        assert_eq!(d.due(&WeekendCalendar), due);
    }

    #[test]
    fn an_open_pause_keeps_the_due_day_it_had() {
        let mut d = Deadline::new(date(2026, 11, 2), TimeLimit::working_days(5));
        let due = d.due(&WeekendCalendar);
        d.pauses.push(Pause {
            from: date(2026, 11, 4),
            to: None,
            reason: "听证".into(),
        });
        assert!(d.is_paused());
        assert_eq!(d.due(&WeekendCalendar), due);
        assert!(d.explain(cal()).text().contains("仍在暂停中"));
    }

    #[test]
    fn provisional_years_are_named() {
        let d = Deadline::new(date(2150, 12, 20), TimeLimit::working_days(20));
        let e = d.explain(cal());
        assert_eq!(e.provisional_years, vec![2150, 2151]);
        assert!(e.text().contains("临时结果"));
    }

    /// The shipped calendar as it was before the notice for `year` came out.
    fn published_through(year: i16) -> ChinaCalendar {
        let arrangements = cal()
            .shipped_years()
            .filter(|y| *y <= year)
            .filter_map(|y| cal().arrangement(y).cloned())
            .collect();
        ChinaCalendar::new(arrangements, Vec::new()).unwrap()
    }

    #[test]
    fn the_notices_cited_are_those_that_set_a_day_of_the_period() {
        // 2018-12-20 + 7 working days ends on Saturday 29 December, worked by
        // the 2019 notice; nothing of the 2018 notice lies in the period.
        let e = Deadline::new(date(2018, 12, 20), TimeLimit::working_days(7)).explain(cal());
        assert_eq!(e.due, date(2018, 12, 29));
        assert_eq!(e.notices.len(), 1, "{:?}", e.notices);
        assert!(e.notices[0].contains("2019年"), "{:?}", e.notices);
        // A period in March 2025 crosses no holiday and no adjusted day.
        let e = Deadline::new(date(2025, 3, 3), TimeLimit::working_days(10)).explain(cal());
        assert!(e.notices.is_empty(), "{:?}", e.notices);
        assert!(!e.text().contains("节假日依据"), "{}", e.text());
        // Across the 2025 Spring Festival: the 2025 notice, with its number.
        let e = Deadline::new(date(2025, 1, 20), TimeLimit::working_days(20)).explain(cal());
        assert_eq!(e.notices.len(), 1, "{:?}", e.notices);
        assert!(e.text().contains("国办发明电〔2024〕12号"), "{}", e.text());
    }

    #[test]
    fn a_period_ending_in_late_december_before_an_unpublished_year_is_provisional() {
        let before_2026 = published_through(2025);
        // 2025-12-01 + 20 working days: Monday 29 December 2025, which the
        // 2026 notice may still arrange.
        let late = Deadline::new(date(2025, 12, 1), TimeLimit::working_days(20));
        let e = late.explain(&before_2026);
        assert_eq!(e.due, date(2025, 12, 29));
        assert_eq!(e.provisional_years, vec![2026]);
        assert!(
            e.text().contains("2026年的节假日安排尚未发布"),
            "{}",
            e.text()
        );
        // Ending mid-December, it is not.
        let mid = Deadline::new(date(2025, 12, 1), TimeLimit::working_days(10));
        assert!(!mid.explain(&before_2026).is_provisional());
        // With the 2026 notice published, the late one is final too.
        assert!(!late.explain(cal()).is_provisional());
    }

    #[test]
    fn an_ended_deadline_keeps_its_recorded_due_day_without_contradiction() {
        let d = Deadline::new(date(2026, 11, 2), TimeLimit::working_days(5));
        let recorded = d.due(cal());
        let closure = crate::calendar::CalendarOverride {
            id: 1,
            region: String::new(),
            date: date(2026, 11, 4),
            kind: crate::calendar::OverrideKind::Closure,
            reason: "暴雨红色预警，全县停止办公".into(),
        };
        let today = cal().with_overrides("430423", &[closure]);
        assert_ne!(d.due(&today), recorded, "the closure would move it");
        let e = d.explain(&today).ended_with(recorded);
        assert_eq!(e.due, recorded);
        let text = e.text();
        assert!(
            text.contains("期限届满日：2026年11月9日（星期一）"),
            "{text}"
        );
        assert!(text.contains("届满日以结束时为准"), "{text}");
        assert!(!text.contains("停止办公"), "{text}");
        assert!(!text.contains("2026年11月10日"), "{text}");
        // When the calendar has not moved it, the explanation stays whole.
        let e = d.explain(cal()).ended_with(recorded);
        assert!(!e.recorded_due_kept);
        assert!(e.text().contains("该期限已结束"), "{}", e.text());
        assert!(e.text().contains("期间未经过法定节假日"), "{}", e.text());
    }

    #[test]
    fn hours_count_natural_time_minus_pauses() {
        let start: Timestamp = "2026-11-23T01:00:00Z".parse().unwrap();
        assert_eq!(
            due_after_hours(start, 24, &[], None, &WeekendCalendar),
            "2026-11-24T01:00:00Z".parse::<Timestamp>().unwrap()
        );
        let pause = (
            "2026-11-23T02:00:00Z".parse().unwrap(),
            "2026-11-23T05:00:00Z".parse().unwrap(),
        );
        assert_eq!(
            due_after_hours(start, 24, &[pause], None, &WeekendCalendar),
            "2026-11-24T04:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn hours_within_office_hours_skip_nights_and_weekends() {
        // Friday 2026-11-27 16:30 Beijing time (08:30Z), 4 office hours:
        // 1 hour on Friday, then Monday 9:00-12:00 -> Monday 12:00 (04:00Z).
        let start: Timestamp = "2026-11-27T08:30:00Z".parse().unwrap();
        let due = due_after_hours(start, 4, &[], Some(&OfficeHours::hall()), &WeekendCalendar);
        assert_eq!(due, "2026-11-30T04:00:00Z".parse::<Timestamp>().unwrap());
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..7000).prop_map(|d| {
            date(2005, 1, 1)
                .checked_add(jiff::Span::new().days(d))
                .unwrap()
        })
    }

    fn any_limit() -> impl Strategy<Value = TimeLimit> {
        (0u32..80, any::<bool>()).prop_map(|(amount, natural)| TimeLimit {
            amount,
            unit: if natural {
                LimitUnit::NaturalDays
            } else {
                LimitUnit::WorkingDays
            },
        })
    }

    proptest! {
        #[test]
        fn without_pauses_the_engine_is_the_limit(start in any_date(), limit in any_limit()) {
            prop_assert_eq!(Deadline::new(start, limit).due(cal()), limit.due_date(cal(), start));
        }

        #[test]
        fn pauses_only_ever_move_a_deadline_later(
            start in any_date(),
            limit in any_limit(),
            pauses in proptest::collection::vec((0i64..120, 0i64..30), 0..4),
        ) {
            let plain = Deadline::new(start, limit);
            let mut paused = plain.clone();
            let mut last = plain.due(cal());
            for (offset, length) in pauses {
                let from = start.checked_add(jiff::Span::new().days(offset)).unwrap();
                let to = from.checked_add(jiff::Span::new().days(length)).unwrap();
                paused.pauses.push(pause(from, to));
                let due = paused.due(cal());
                prop_assert!(due >= last, "{due} < {last}");
                last = due;
            }
        }

        #[test]
        fn a_pause_before_the_due_day_moves_it_by_its_working_days(
            start in any_date(),
            n in 5u32..60,
            offset in 0i64..5,
            length in 0i64..20,
        ) {
            let plain = Deadline::new(start, TimeLimit::working_days(n));
            let from = start.checked_add(jiff::Span::new().days(offset)).unwrap();
            let to = from.checked_add(jiff::Span::new().days(length)).unwrap();
            let mut paused = plain.clone();
            paused.pauses.push(pause(from, to));
            let due = paused.due(cal());
            prop_assume!(from < plain.due(cal()));
            let excluded = cal().working_days_between(from, to) as u32;
            prop_assert_eq!(due, cal().add_working_days(plain.due(cal()), excluded));
        }
    }
}
