//! China's working-day calendar: the State Council's yearly holiday
//! arrangements shipped in the binary, local overrides on top, and an index
//! that answers "the N-th working day after" in constant time.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use super::{DayKind, WorkCalendar};

/// The shipped arrangements (see `crates/core/data/README.md`).
const SHIPPED_JSON: &str = include_str!("../../data/cn_holidays.json");

/// The first and last dates the index covers. Outside it (and in years without
/// a published arrangement) Saturday and Sunday are the days off.
const INDEX_LAST: Date = jiff::civil::date(2199, 12, 31);
/// The shipped calendar with a set of local overrides, and each region's
/// calendar built from them on first use.
#[derive(Debug, Default)]
pub struct CalendarBook {
    /// Counts calendar changes: a decision made on one generation is written
    /// only while it is still the current one.
    generation: i64,
    overrides: Vec<CalendarOverride>,
    regions: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<ChinaCalendar>>>,
}

impl CalendarBook {
    pub fn new(overrides: Vec<CalendarOverride>, generation: i64) -> CalendarBook {
        CalendarBook {
            generation,
            overrides,
            regions: Default::default(),
        }
    }

    pub fn generation(&self) -> i64 {
        self.generation
    }

    /// The overrides in force, every region's.
    pub fn overrides(&self) -> &[CalendarOverride] {
        &self.overrides
    }

    /// The calendar of `region`: shipped data plus the overrides for every
    /// region and for `region`.
    pub fn for_region(&self, region: &str) -> std::sync::Arc<ChinaCalendar> {
        let mut regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        // Every command reads its region's calendar: no allocation once built.
        if let Some(calendar) = regions.get(region) {
            return calendar.clone();
        }
        regions
            .entry(region.to_string())
            .or_insert_with(|| {
                std::sync::Arc::new(
                    ChinaCalendar::shipped().with_overrides(region, &self.overrides),
                )
            })
            .clone()
    }
}

const INDEX_FIRST_NUMBER: i32 = civil_day_number(2000, 1, 1);
const INDEX_LAST_NUMBER: i32 = civil_day_number(2199, 12, 31);

/// The notice a year's arrangement was published in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    /// The document number, e.g. 国办发明电〔2024〕12号 ("" when unknown).
    #[serde(default)]
    pub number: String,
    /// The date the notice was issued.
    pub date: Date,
}

/// One holiday period of a year's arrangement: every day from `from` to `to`
/// (inclusive) is off, and `workdays` are the weekend days worked instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayPeriod {
    pub name: String,
    pub from: Date,
    pub to: Date,
    #[serde(default)]
    pub workdays: Vec<Date>,
}

impl HolidayPeriod {
    pub fn days(&self) -> i32 {
        day_number(self.to) - day_number(self.from) + 1
    }
}

/// One year's arrangement as the State Council published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearArrangement {
    pub year: i16,
    pub notice: Notice,
    pub periods: Vec<HolidayPeriod>,
}

#[derive(Debug, Deserialize)]
struct ShippedFile {
    years: Vec<YearArrangement>,
}

/// What a local override makes of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// The halls are closed (e.g. a local emergency): not a working day.
    Closure,
    /// An extra working day.
    Workday,
}

impl OverrideKind {
    pub fn key(self) -> &'static str {
        match self {
            OverrideKind::Closure => "closure",
            OverrideKind::Workday => "workday",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            OverrideKind::Closure => "停止办公",
            OverrideKind::Workday => "增加工作日",
        }
    }
    pub fn parse(s: &str) -> Option<OverrideKind> {
        match s {
            "closure" => Some(OverrideKind::Closure),
            "workday" => Some(OverrideKind::Workday),
            _ => None,
        }
    }
    fn day_kind(self) -> DayKind {
        match self {
            OverrideKind::Closure => DayKind::Holiday,
            OverrideKind::Workday => DayKind::Workday,
        }
    }
}

/// A local change to the calendar made by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarOverride {
    pub id: i64,
    /// The region code it applies to; empty for every region.
    pub region: String,
    pub date: Date,
    pub kind: OverrideKind,
    pub reason: String,
}

impl CalendarOverride {
    /// Whether this override is part of `region`'s calendar.
    pub fn applies_to(&self, region: &str) -> bool {
        self.region.is_empty() || self.region == region
    }
}

/// The working-day calendar: shipped arrangements plus local overrides,
/// indexed so that [`WorkCalendar::add_working_days`] and
/// [`WorkCalendar::working_days_between`] are O(1) inside the index range.
#[derive(Debug, Clone)]
pub struct ChinaCalendar {
    arrangements: BTreeMap<i16, YearArrangement>,
    overrides: Vec<CalendarOverride>,
    /// The kind of each day from 2000-01-01.
    kinds: Vec<DayKind>,
    /// `rank[i]`: the number of working days from 2000-01-01 up to and
    /// including day i.
    rank: Vec<u32>,
    /// The day offsets of the working days, in order.
    workdays: Vec<u32>,
}

impl ChinaCalendar {
    /// The calendar of the shipped arrangements, without local overrides.
    pub fn shipped() -> &'static ChinaCalendar {
        static SHIPPED: OnceLock<ChinaCalendar> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            ChinaCalendar::from_json(SHIPPED_JSON)
                .expect("the shipped holiday data is checked by the test suite")
        })
    }

    /// A calendar from arrangements in the shipped file's format.
    pub fn from_json(json: &str) -> Result<ChinaCalendar, String> {
        let file: ShippedFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        ChinaCalendar::new(file.years, Vec::new())
    }

    /// A calendar of `arrangements` with `overrides` applied on top.
    pub fn new(
        arrangements: Vec<YearArrangement>,
        overrides: Vec<CalendarOverride>,
    ) -> Result<ChinaCalendar, String> {
        let mut by_year = BTreeMap::new();
        for arrangement in arrangements {
            for period in &arrangement.periods {
                if period.from > period.to {
                    return Err(format!(
                        "{} {}: from {} after to {}",
                        arrangement.year, period.name, period.from, period.to
                    ));
                }
            }
            let year = arrangement.year;
            if by_year.insert(year, arrangement).is_some() {
                return Err(format!("{year} appears twice"));
            }
        }
        let mut calendar = ChinaCalendar {
            arrangements: by_year,
            overrides,
            kinds: Vec::new(),
            rank: Vec::new(),
            workdays: Vec::new(),
        };
        calendar.build_index();
        Ok(calendar)
    }

    /// This calendar with `overrides` (replacing any it had) for `region`.
    pub fn with_overrides<'a>(
        &self,
        region: &str,
        overrides: impl IntoIterator<Item = &'a CalendarOverride>,
    ) -> ChinaCalendar {
        let mut calendar = ChinaCalendar {
            arrangements: self.arrangements.clone(),
            overrides: overrides
                .into_iter()
                .filter(|o| o.applies_to(region))
                .cloned()
                .collect(),
            kinds: Vec::new(),
            rank: Vec::new(),
            workdays: Vec::new(),
        };
        calendar.overrides.sort_by_key(|o| o.date);
        calendar.build_index();
        calendar
    }

    fn build_index(&mut self) {
        let len = offset_of(INDEX_LAST).expect("the last day is in range") as usize + 1;
        let mut kinds: Vec<DayKind> = (0..len)
            .map(|i| weekend_kind(date_of(INDEX_FIRST_NUMBER + i as i32)))
            .collect();
        for arrangement in self.arrangements.values() {
            for period in &arrangement.periods {
                let (from, to) = (day_number(period.from), day_number(period.to));
                for n in from..=to {
                    if let Some(i) = index_of_number(n) {
                        kinds[i] = DayKind::Holiday;
                    }
                }
                for &day in &period.workdays {
                    if let Some(i) = offset_of(day) {
                        kinds[i as usize] = DayKind::Workday;
                    }
                }
            }
        }
        for o in &self.overrides {
            if let Some(i) = offset_of(o.date) {
                kinds[i as usize] = o.kind.day_kind();
            }
        }
        let mut rank = Vec::with_capacity(len);
        let mut workdays = Vec::with_capacity(len * 5 / 7 + 1);
        for (i, kind) in kinds.iter().enumerate() {
            if *kind == DayKind::Workday {
                workdays.push(i as u32);
            }
            rank.push(workdays.len() as u32);
        }
        self.kinds = kinds;
        self.rank = rank;
        self.workdays = workdays;
    }

    /// The years with a published arrangement.
    pub fn shipped_years(&self) -> impl Iterator<Item = i16> + '_ {
        self.arrangements.keys().copied()
    }

    pub fn arrangement(&self, year: i16) -> Option<&YearArrangement> {
        self.arrangements.get(&year)
    }

    /// Whether dates in `year` are computed without a published arrangement
    /// (Saturday and Sunday off), so results in it may still change.
    pub fn is_provisional(&self, year: i16) -> bool {
        !self.arrangements.contains_key(&year)
    }

    /// The year whose notice, still unpublished, decides what `date` is:
    /// its own year when that is unpublished, or the next year when `date`
    /// lies in the last days of December, which the next year's notice may
    /// still arrange (2018-12-29/30/31 were set by the 2019 notice).
    pub fn provisional_year_of(&self, date: Date) -> Option<i16> {
        if self.is_provisional(date.year()) {
            return Some(date.year());
        }
        let next = date.year().checked_add(1)?;
        (reachable_by_next_notice(date) && self.is_provisional(next)).then_some(next)
    }

    /// The provisional years of the days `from..=to`: the unpublished years
    /// among them, and the next year when the days reach into the last days
    /// of December of a year whose next year is unpublished.
    pub fn provisional_years(&self, from: Date, to: Date) -> Vec<i16> {
        if from > to {
            return Vec::new();
        }
        let mut years: Vec<i16> = (from.year()..=to.year())
            .filter(|y| self.is_provisional(*y))
            .collect();
        // Every December before `to`'s lies wholly inside the days, and the
        // year after it is counted above; so only `to`'s December can bring
        // in a year after the last one.
        if let Some(next) = self.provisional_year_of(to)
            && !years.contains(&next)
        {
            years.push(next);
        }
        years
    }

    /// The notices that set any day of `from..=to`: a holiday period
    /// overlapping it, or an adjusted working day in it (a notice may set days
    /// of the year before its own).
    pub fn notices_between(&self, from: Date, to: Date) -> Vec<&YearArrangement> {
        if from > to {
            return Vec::new();
        }
        self.arrangements
            .range(from.year().saturating_sub(1)..=to.year().saturating_add(1))
            .map(|(_, a)| a)
            .filter(|a| {
                a.periods.iter().any(|p| {
                    (p.from <= to && p.to >= from)
                        || p.workdays.iter().any(|d| from <= *d && *d <= to)
                })
            })
            .collect()
    }

    /// The overrides in this calendar.
    pub fn overrides(&self) -> &[CalendarOverride] {
        &self.overrides
    }

    /// The holiday periods overlapping `from..=to`, with their year.
    pub fn periods_between(&self, from: Date, to: Date) -> Vec<(i16, &HolidayPeriod)> {
        if from > to {
            return Vec::new();
        }
        self.arrangements
            .range(from.year().saturating_sub(1)..=to.year().saturating_add(1))
            .flat_map(|(year, a)| a.periods.iter().map(move |p| (*year, p)))
            .filter(|(_, p)| p.from <= to && p.to >= from)
            .collect()
    }

    /// The adjusted working days (调休上班) in `from..=to`, with the period
    /// they belong to.
    pub fn adjusted_workdays_between(&self, from: Date, to: Date) -> Vec<(Date, &HolidayPeriod)> {
        if from > to {
            return Vec::new();
        }
        let mut days: Vec<(Date, &HolidayPeriod)> = self
            .arrangements
            .range(from.year().saturating_sub(1)..=to.year().saturating_add(1))
            .flat_map(|(_, a)| a.periods.iter())
            .flat_map(|p| p.workdays.iter().map(move |d| (*d, p)))
            .filter(|(d, _)| *d >= from && *d <= to)
            .collect();
        days.sort_by_key(|(d, _)| *d);
        days
    }

    /// The overrides dated in `from..=to`.
    pub fn overrides_between(&self, from: Date, to: Date) -> Vec<&CalendarOverride> {
        self.overrides
            .iter()
            .filter(|o| o.date >= from && o.date <= to)
            .collect()
    }

    /// The working days from the start of the index through `date` (negative
    /// before it): differences are counts of working days.
    fn position(&self, date: Date) -> i64 {
        let n = i64::from(day_number(date));
        let (first, last) = (i64::from(INDEX_FIRST_NUMBER), i64::from(INDEX_LAST_NUMBER));
        if n < first {
            super::weekdays_through(n) - super::weekdays_through(first - 1)
        } else if n <= last {
            i64::from(self.rank[(n - first) as usize])
        } else {
            self.workdays.len() as i64 + super::weekdays_through(n) - super::weekdays_through(last)
        }
    }

    /// The kind a day has in the shipped data alone (before overrides).
    pub fn shipped_kind(&self, date: Date) -> DayKind {
        ChinaCalendar::shipped_kind_in(&self.arrangements, date)
    }

    fn shipped_kind_in(arrangements: &BTreeMap<i16, YearArrangement>, date: Date) -> DayKind {
        let mut kind = weekend_kind(date);
        for a in arrangements.range(date.year().saturating_sub(1)..=date.year().saturating_add(1)) {
            for p in &a.1.periods {
                if p.from <= date && date <= p.to {
                    kind = DayKind::Holiday;
                }
                if p.workdays.contains(&date) {
                    kind = DayKind::Workday;
                }
            }
        }
        kind
    }
}

/// The first day of December a year's notice may arrange in the year
/// before it. So far the earliest was the 29th (2007-12-29 by the 2008 notice,
/// 2018-12-29 by the 2019 notice); the last week is kept as the margin.
const NEXT_NOTICE_REACH_FROM: i8 = 25;

/// Whether the next year's notice may still arrange `date`.
fn reachable_by_next_notice(date: Date) -> bool {
    date.month() == 12 && date.day() >= NEXT_NOTICE_REACH_FROM
}

fn weekend_kind(date: Date) -> DayKind {
    match date.weekday() {
        Weekday::Saturday | Weekday::Sunday => DayKind::Restday,
        _ => DayKind::Workday,
    }
}

fn index_of_number(n: i32) -> Option<usize> {
    let i = n - INDEX_FIRST_NUMBER;
    (i >= 0 && n <= INDEX_LAST_NUMBER).then_some(i as usize)
}

fn offset_of(date: Date) -> Option<u32> {
    index_of_number(day_number(date)).map(|i| i as u32)
}

impl WorkCalendar for ChinaCalendar {
    fn day_kind(&self, date: Date) -> DayKind {
        match offset_of(date) {
            Some(i) => self.kinds[i as usize],
            None => weekend_kind(date),
        }
    }

    /// Constant time for any dates: through the index inside it, and by
    /// counting Mondays to Fridays outside it (where only Saturday and Sunday
    /// are off); the last representable day when the count runs past it.
    fn add_working_days(&self, start: Date, n: u32) -> Date {
        if n == 0 {
            return start;
        }
        let (first, last) = (i64::from(INDEX_FIRST_NUMBER), i64::from(INDEX_LAST_NUMBER));
        let s = i64::from(day_number(start));
        if s > last {
            return super::saturating_date(super::weekday_after(s, u64::from(n)));
        }
        let (rank, left) = if s < first {
            let before = super::weekdays_through(first - 1) - super::weekdays_through(s);
            if i64::from(n) <= before {
                return super::saturating_date(super::weekday_after(s, u64::from(n)));
            }
            (0, u64::from(n) - before as u64)
        } else {
            (u64::from(self.rank[(s - first) as usize]), u64::from(n))
        };
        let target = rank + left - 1;
        match self.workdays.get(target as usize) {
            Some(&day) => date_of(INDEX_FIRST_NUMBER + day as i32),
            None => super::saturating_date(super::weekday_after(
                last,
                target + 1 - self.workdays.len() as u64,
            )),
        }
    }

    fn working_days_between(&self, from: Date, to: Date) -> i64 {
        self.position(to) - self.position(from)
    }

    fn next_working_day_from(&self, date: Date) -> Date {
        if self.is_working_day(date) {
            return date;
        }
        self.add_working_days(date, 1)
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn day_number(date: Date) -> i32 {
    civil_day_number(date.year() as i32, date.month() as i32, date.day() as i32)
}

const fn civil_day_number(y: i32, m: i32, d: i32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Day numbers of the first and last dates jiff represents.
pub(crate) const FIRST_DAY_NUMBER: i32 = civil_day_number(-9999, 1, 1);
pub(crate) const LAST_DAY_NUMBER: i32 = civil_day_number(9999, 12, 31);

/// The civil date `n` days after 1970-01-01, saturated to the dates jiff
/// represents (-9999-01-01 through 9999-12-31).
pub(crate) fn date_of(n: i32) -> Date {
    let n = n.clamp(FIRST_DAY_NUMBER, LAST_DAY_NUMBER);
    let z = n + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    Date::new(y as i16, m as i8, d as i8).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn calendar() -> &'static ChinaCalendar {
        ChinaCalendar::shipped()
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(day_number(date(1970, 1, 1)), 0);
        assert_eq!(day_number(date(2000, 3, 1)), 11_017);
        for n in (-1000..80_000).step_by(7) {
            assert_eq!(day_number(date_of(n)), n);
        }
        let mut d = date(2003, 12, 25);
        for _ in 0..800 {
            assert_eq!(date_of(day_number(d)), d);
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn spring_festival_2025() {
        let cal = calendar();
        // 2025-01-26 (Sunday) and 2025-02-08 (Saturday) were worked.
        assert_eq!(cal.day_kind(date(2025, 1, 26)), DayKind::Workday);
        assert_eq!(cal.day_kind(date(2025, 1, 28)), DayKind::Holiday);
        assert_eq!(cal.day_kind(date(2025, 2, 4)), DayKind::Holiday);
        assert_eq!(cal.day_kind(date(2025, 2, 8)), DayKind::Workday);
        assert_eq!(cal.day_kind(date(2025, 2, 9)), DayKind::Restday);
        assert_eq!(cal.add_working_days(date(2025, 1, 27), 1), date(2025, 2, 5));
    }

    #[test]
    fn years_without_an_arrangement_are_provisional() {
        let cal = calendar();
        assert!(!cal.is_provisional(2025));
        assert!(cal.is_provisional(2003));
        assert!(cal.is_provisional(2150));
        // A provisional year has Saturday and Sunday off.
        assert_eq!(cal.day_kind(date(2150, 1, 3)), DayKind::Restday);
        assert_eq!(cal.day_kind(date(2150, 1, 1)), DayKind::Workday);
    }

    #[test]
    fn overrides_apply_to_their_region_only() {
        let closure = CalendarOverride {
            id: 1,
            region: "430423".into(),
            date: date(2026, 11, 24),
            kind: OverrideKind::Closure,
            reason: "暴雨红色预警，全县停止办公".into(),
        };
        let extra = CalendarOverride {
            id: 2,
            region: String::new(),
            date: date(2026, 11, 28),
            kind: OverrideKind::Workday,
            reason: "集中办理周".into(),
        };
        let all = [closure, extra];
        let county = calendar().with_overrides("430423", &all);
        let other = calendar().with_overrides("430424", &all);
        assert_eq!(county.day_kind(date(2026, 11, 24)), DayKind::Holiday);
        assert_eq!(other.day_kind(date(2026, 11, 24)), DayKind::Workday);
        assert_eq!(county.day_kind(date(2026, 11, 28)), DayKind::Workday);
        assert_eq!(other.day_kind(date(2026, 11, 28)), DayKind::Workday);
        // Monday 23rd + 1: the 24th is closed, so the 25th.
        assert_eq!(
            county.add_working_days(date(2026, 11, 23), 1),
            date(2026, 11, 25)
        );
        // Friday 27th + 1: the extra Saturday.
        assert_eq!(
            county.add_working_days(date(2026, 11, 27), 1),
            date(2026, 11, 28)
        );
        assert_eq!(county.overrides().len(), 2);
        assert_eq!(other.overrides().len(), 1);
    }

    #[test]
    fn the_index_agrees_with_the_shipped_data_day_by_day() {
        let cal = calendar();
        let mut d = date(2003, 1, 1);
        while d <= date(2028, 12, 31) {
            assert_eq!(cal.day_kind(d), cal.shipped_kind(d), "{d}");
            d = d.tomorrow().unwrap();
        }
    }

    #[test]
    fn the_shipped_data_is_complete_for_every_year() {
        let cal = calendar();
        let years: Vec<i16> = cal.shipped_years().collect();
        assert_eq!(years.first(), Some(&2004));
        assert!(*years.last().unwrap() >= 2026);
        for pair in years.windows(2) {
            assert_eq!(pair[1], pair[0] + 1, "no year is missing");
        }
        for year in years {
            let a = cal.arrangement(year).unwrap();
            assert!(
                a.notice.title.contains(&format!("{year}年")),
                "{year}: {}",
                a.notice.title
            );
            assert!(
                a.notice.date.year() == year - 1 || a.notice.date.year() == year,
                "{year}"
            );
            let named = |name: &str| a.periods.iter().any(|p| p.name.contains(name));
            let mut festivals = vec!["元旦", "春节", "国庆"];
            if year >= 2008 {
                festivals.extend(["清明", "劳动", "端午", "中秋"]);
            } else {
                festivals.push("劳动");
            }
            for festival in festivals {
                assert!(named(festival), "{year} has no {festival} period");
            }
            let adjusted: Vec<Date> = a.periods.iter().flat_map(|p| p.workdays.clone()).collect();
            assert!(!adjusted.is_empty(), "{year} has no adjusted working day");
            for p in &a.periods {
                assert!(p.from <= p.to, "{year} {}", p.name);
                assert!(
                    (year - 1..=year).contains(&p.from.year()),
                    "{year} {}",
                    p.name
                );
                for d in &p.workdays {
                    assert!(
                        matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
                        "{year} {}: adjusted day {d} is not a weekend day",
                        p.name
                    );
                    assert_eq!(cal.day_kind(*d), DayKind::Workday, "{d}");
                }
                let mut day = p.from;
                while day <= p.to {
                    assert_eq!(cal.day_kind(day), DayKind::Holiday, "{day} in {}", p.name);
                    day = day.tomorrow().unwrap();
                }
            }
        }
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i32..9000).prop_map(|d| date_of(day_number(date(2003, 6, 1)) + d))
    }

    proptest! {
        #[test]
        fn add_lands_on_a_working_day(start in any_date(), n in 1u32..400) {
            let cal = calendar();
            prop_assert!(cal.is_working_day(cal.add_working_days(start, n)));
        }

        #[test]
        fn add_one_more_is_later(start in any_date(), n in 0u32..400) {
            let cal = calendar();
            prop_assert!(cal.add_working_days(start, n + 1) > cal.add_working_days(start, n));
        }

        #[test]
        fn counting_back_gives_n(start in any_date(), n in 0u32..400) {
            let cal = calendar();
            let end = cal.add_working_days(start, n);
            prop_assert_eq!(cal.working_days_between(start, end), i64::from(n));
        }

        #[test]
        fn the_index_agrees_with_counting_day_by_day(start in any_date(), n in 0u32..60) {
            let cal = calendar();
            prop_assert_eq!(cal.add_working_days(start, n), super::super::add_by_counting(cal, start, n));
        }

        #[test]
        fn the_next_working_day_is_the_first_on_or_after(day in any_date()) {
            let cal = calendar();
            let next = cal.next_working_day_from(day);
            prop_assert!(next >= day && cal.is_working_day(next));
            prop_assert_eq!(cal.working_days_between(day, next), i64::from(next != day));
        }
    }
}
