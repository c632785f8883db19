//! Working days and time limits.
//!
//! Every deadline goes through [`WorkCalendar`]. Counting follows the Civil Code
//! (arts. 201 and 203): the day a period starts is not counted; a period in
//! working days ends on the N-th working day after the start day; a period in
//! natural days whose last day is not a working day ends on the next working day.
//! Civil dates are in Asia/Shanghai.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::FieldError;

pub mod china;

pub use china::{CalendarBook, CalendarOverride, ChinaCalendar, OverrideKind};

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Workday,
    Restday,
    Holiday,
}

/// A calendar of working days.
pub trait WorkCalendar {
    fn day_kind(&self, date: Date) -> DayKind;

    fn is_working_day(&self, date: Date) -> bool {
        self.day_kind(date) == DayKind::Workday
    }

    /// The N-th working day after `start` (the start day itself is not counted).
    /// `n = 0` gives `start` itself: a same-day limit.
    fn add_working_days(&self, start: Date, n: u32) -> Date {
        add_by_counting(self, start, n)
    }

    /// The number of working days after `from` up to and including `to`
    /// (negative when `to` is before `from`).
    fn working_days_between(&self, from: Date, to: Date) -> i64 {
        count_working_days(self, from, to)
    }

    /// The first working day on or after `date` (the last representable day
    /// when there is none).
    fn next_working_day_from(&self, date: Date) -> Date {
        let mut d = date;
        while !self.is_working_day(d) {
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        d
    }
}

/// The first day of the supported civil-date range: the first year of the
/// shipped holiday data. Dates entered by people (API, pages, command line)
/// must lie in [`FIRST_SUPPORTED_DAY`]`..=`[`LAST_SUPPORTED_DAY`].
pub const FIRST_SUPPORTED_DAY: Date = jiff::civil::date(2004, 1, 1);
/// The last day of the supported range: the last day of the working-day index.
pub const LAST_SUPPORTED_DAY: Date = jiff::civil::date(2199, 12, 31);

/// Whether `date` lies in the supported civil-date range.
pub fn is_supported_day(date: Date) -> bool {
    (FIRST_SUPPORTED_DAY..=LAST_SUPPORTED_DAY).contains(&date)
}

/// The supported range as people read it: "2004年1月1日至2199年12月31日".
pub fn supported_range_label() -> String {
    format!(
        "{}年{}月{}日至{}年{}月{}日",
        FIRST_SUPPORTED_DAY.year(),
        FIRST_SUPPORTED_DAY.month(),
        FIRST_SUPPORTED_DAY.day(),
        LAST_SUPPORTED_DAY.year(),
        LAST_SUPPORTED_DAY.month(),
        LAST_SUPPORTED_DAY.day()
    )
}

/// The N-th working day after `start`, counted day by day; the last
/// representable day when the count runs past it.
pub(crate) fn add_by_counting<C: WorkCalendar + ?Sized>(calendar: &C, start: Date, n: u32) -> Date {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date = match date.tomorrow() {
            Ok(next) => next,
            Err(_) => return date,
        };
        if calendar.is_working_day(date) {
            left -= 1;
        }
    }
    date
}

/// The date of day number `n` (days since 1970-01-01), saturated to the
/// representable dates.
pub(crate) fn saturating_date(n: i64) -> Date {
    china::date_of(n.clamp(
        i64::from(china::FIRST_DAY_NUMBER),
        i64::from(china::LAST_DAY_NUMBER),
    ) as i32)
}

/// The Mondays-to-Fridays from a fixed Monday through day number `n` (only
/// differences of two values mean anything).
pub(crate) fn weekdays_through(n: i64) -> i64 {
    // Day -3 (1969-12-29) was a Monday.
    let k = n + 3;
    k.div_euclid(7) * 5 + (k.rem_euclid(7) + 1).min(5)
}

/// The day number of the N-th Monday-to-Friday after day number `start`
/// (`n` > 0), in constant time.
pub(crate) fn weekday_after(start: i64, n: u64) -> i64 {
    let from_monday = (start + 3).rem_euclid(7);
    let monday = start - from_monday;
    // Counting after a Saturday or a Sunday is counting after the Friday.
    let total = from_monday.min(4) + n as i64;
    monday + total / 5 * 7 + total % 5
}

/// The working days after `from` up to and including `to`, counted day by day
/// (negative when `to` is before `from`).
pub(crate) fn count_working_days<C: WorkCalendar + ?Sized>(
    calendar: &C,
    from: Date,
    to: Date,
) -> i64 {
    let (lo, hi, sign) = if from <= to {
        (from, to, 1)
    } else {
        (to, from, -1)
    };
    let mut count = 0;
    let mut date = lo;
    while date < hi {
        date = match date.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
        if calendar.is_working_day(date) {
            count += 1;
        }
    }
    sign * count
}

/// Saturday and Sunday off, nothing else: the rule [`ChinaCalendar`] falls
/// back to in years without a published arrangement, and a plain calendar for
/// tests of rules that do not depend on holidays.
#[derive(Debug, Clone, Copy, Default)]
pub struct WeekendCalendar;

impl WorkCalendar for WeekendCalendar {
    fn day_kind(&self, date: Date) -> DayKind {
        match date.weekday() {
            Weekday::Saturday | Weekday::Sunday => DayKind::Restday,
            _ => DayKind::Workday,
        }
    }

    fn add_working_days(&self, start: Date, n: u32) -> Date {
        if n == 0 {
            return start;
        }
        saturating_date(weekday_after(
            i64::from(china::day_number(start)),
            u64::from(n),
        ))
    }

    fn working_days_between(&self, from: Date, to: Date) -> i64 {
        weekdays_through(i64::from(china::day_number(to)))
            - weekdays_through(i64::from(china::day_number(from)))
    }
}

/// The unit of a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    WorkingDays,
    NaturalDays,
}

impl LimitUnit {
    pub fn key(self) -> &'static str {
        match self {
            LimitUnit::WorkingDays => "working_days",
            LimitUnit::NaturalDays => "natural_days",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            LimitUnit::WorkingDays => "个工作日",
            LimitUnit::NaturalDays => "个自然日",
        }
    }
    pub fn parse(s: &str) -> Option<LimitUnit> {
        match s {
            "working_days" | "工作日" => Some(LimitUnit::WorkingDays),
            "natural_days" | "自然日" => Some(LimitUnit::NaturalDays),
            _ => None,
        }
    }
}

/// A time limit such as "20 working days". An amount of 0 means the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub amount: u32,
    pub unit: LimitUnit,
}

impl TimeLimit {
    pub const fn working_days(amount: u32) -> Self {
        TimeLimit {
            amount,
            unit: LimitUnit::WorkingDays,
        }
    }

    /// The last day of the limit when the period starts on `start` (the last
    /// representable day when it would lie beyond it).
    pub fn due_date(&self, calendar: &dyn WorkCalendar, start: Date) -> Date {
        match self.unit {
            LimitUnit::WorkingDays => calendar.add_working_days(start, self.amount),
            LimitUnit::NaturalDays => {
                let last =
                    saturating_date(i64::from(china::day_number(start)) + i64::from(self.amount));
                calendar.next_working_day_from(last)
            }
        }
    }

    /// How the limit reads on a guide.
    pub fn label(&self) -> String {
        if self.amount == 0 {
            "即时办结".to_string()
        } else {
            format!("{}{}", self.amount, self.unit.label())
        }
    }

    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        if self.amount > 3650 {
            return Err(FieldError::new(field, "时限过长（不得超过3650天）"));
        }
        Ok(())
    }
}

/// The zone of every civil date in the system.
pub fn china_zone() -> TimeZone {
    TimeZone::get("Asia/Shanghai").expect("the bundled tz database has Asia/Shanghai")
}

/// The civil date in China of an instant.
pub fn civil_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(china_zone()).date()
}

/// Statutory defaults of the Administrative Licensing Law for items that set no
/// limit of their own: 20 working days (art. 42), joint or centralised handling 45
/// (art. 42), the acceptance decision within 5 working days (art. 32).
pub const DEFAULT_STATUTORY_LIMIT: TimeLimit = TimeLimit::working_days(20);
pub const JOINT_STATUTORY_LIMIT: TimeLimit = TimeLimit::working_days(45);
pub const ACCEPTANCE_WINDOW: TimeLimit = TimeLimit::working_days(5);
/// The extension a department head may approve (art. 42): 10 working days, or
/// 15 for joint or centralised handling.
pub const DEFAULT_EXTENSION: TimeLimit = TimeLimit::working_days(10);
pub const JOINT_EXTENSION: TimeLimit = TimeLimit::working_days(15);
/// Certificates are issued within 10 working days of the decision (art. 44).
pub const CERTIFICATE_LIMIT: TimeLimit = TimeLimit::working_days(10);

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn check_add(start: Date, n: u32, expected: Date) {
        assert_eq!(
            WeekendCalendar.add_working_days(start, n),
            expected,
            "{start} + {n}"
        );
    }

    #[test]
    fn the_start_day_is_not_counted() {
        // Monday 2026-11-23: one working day later is Tuesday.
        check_add(date(2026, 11, 23), 1, date(2026, 11, 24));
        // Friday + 1 working day is the next Monday.
        check_add(date(2026, 11, 27), 1, date(2026, 11, 30));
        // Saturday + 1 working day is Monday.
        check_add(date(2026, 11, 28), 1, date(2026, 11, 30));
        check_add(date(2026, 11, 23), 5, date(2026, 11, 30));
        check_add(date(2026, 11, 23), 0, date(2026, 11, 23));
    }

    #[test]
    fn natural_days_ending_on_a_rest_day_move_to_the_next_working_day() {
        let limit = TimeLimit {
            amount: 5,
            unit: LimitUnit::NaturalDays,
        };
        // Monday + 5 days = Saturday -> Monday.
        assert_eq!(
            limit.due_date(&WeekendCalendar, date(2026, 11, 23)),
            date(2026, 11, 30)
        );
        let limit = TimeLimit {
            amount: 3,
            unit: LimitUnit::NaturalDays,
        };
        assert_eq!(
            limit.due_date(&WeekendCalendar, date(2026, 11, 23)),
            date(2026, 11, 26)
        );
    }

    #[test]
    fn civil_dates_are_in_china() {
        let ts: Timestamp = "2026-11-23T17:30:00Z".parse().unwrap();
        assert_eq!(civil_date(ts), date(2026, 11, 24));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..3650).prop_map(|d| {
            date(2020, 1, 1)
                .checked_add(jiff::Span::new().days(d))
                .unwrap()
        })
    }

    proptest! {
        #[test]
        fn adding_working_days_lands_on_a_working_day(start in any_date(), n in 1u32..60) {
            prop_assert!(WeekendCalendar.is_working_day(WeekendCalendar.add_working_days(start, n)));
        }

        #[test]
        fn adding_one_more_day_ends_later(start in any_date(), n in 0u32..60) {
            prop_assert!(WeekendCalendar.add_working_days(start, n + 1) > WeekendCalendar.add_working_days(start, n));
        }

        #[test]
        fn counting_back_gives_n(start in any_date(), n in 0u32..60) {
            let end = WeekendCalendar.add_working_days(start, n);
            prop_assert_eq!(WeekendCalendar.working_days_between(start, end), i64::from(n));
        }
    }
}
