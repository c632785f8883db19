//! The supervision centre's dashboard: what was received, completed (办结,
//! marked by the `deliver` event), completed on time, and the warnings and
//! yellow and red cards found, per department, for a day, its month and the
//! twelve months up to it; and the open cases past their promised deadline.
//!
//! Every period is a range of instants (BIGINT microseconds) or of
//! `YYYY-MM-DD` texts computed here in Rust (Asia/Shanghai days) and passed
//! as parameters, so the same SQL runs on SQLite and PostgreSQL: each query
//! reads its rows once and counts them per month with
//! `COUNT(CASE WHEN … THEN 1 END)` columns.
//!
//! Satisfaction is the share of applicants' ratings (好差评) of 3 (基本满意)
//! or better among those given in the period.
//!
//! A completed case counts as on time unless it holds a yellow card for its
//! promised limit (`case_promised`, not a mere warning) that was not revoked —
//! the supervision's own judgement, as in the per-department figures of
//! [`Store::department_figures`].

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use onewindow_core::calendar::china_zone;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{date_text, micros};
use crate::{Store, StoreError};

/// How many months the trends cover, the month of the day included.
pub const MONTHS: usize = 12;

/// The counts of a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Applications submitted (received).
    pub received: i64,
    /// Cases completed (delivered).
    pub completed: i64,
    /// Completed without a yellow card for the promised limit.
    pub completed_on_time: i64,
    /// Cards found in the period, revoked ones left out.
    pub warnings: i64,
    pub yellow: i64,
    pub red: i64,
    /// Applicants' ratings (好差评) given in the period.
    pub rated: i64,
    /// Of those, rated 3 (基本满意) or better.
    pub satisfied: i64,
}

impl Figures {
    /// Completed on time per completed, in percent; none without completions.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.completed > 0)
            .then(|| (self.completed_on_time as f64) * 100.0 / (self.completed as f64))
    }

    /// Satisfied per rated, in percent; none without ratings.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        (self.rated > 0).then(|| (self.satisfied as f64) * 100.0 / (self.rated as f64))
    }

    /// Yellow and red cards and warnings together.
    pub fn cards(&self) -> i64 {
        self.warnings + self.yellow + self.red
    }

    pub fn add(&mut self, other: &Figures) {
        self.received += other.received;
        self.completed += other.completed;
        self.completed_on_time += other.completed_on_time;
        self.warnings += other.warnings;
        self.yellow += other.yellow;
        self.red += other.red;
        self.rated += other.rated;
        self.satisfied += other.satisfied;
    }

    fn is_empty(&self) -> bool {
        *self == Figures::default()
    }
}

/// One department's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentDashboard {
    pub department_id: i64,
    pub department_name: String,
    pub today: Figures,
    /// From the first of the day's month to the day.
    pub month: Figures,
    /// The twelve months up to the day.
    pub year: Figures,
    /// One per month, oldest first; the last is the day's month.
    pub months: Vec<Figures>,
    /// Open cases whose promised deadline is before the day (now: the
    /// deadlines as they stand, whatever the day asked).
    pub overdue: i64,
}

impl DepartmentDashboard {
    /// Whether the department did or owes anything in the twelve months.
    pub fn is_active(&self) -> bool {
        self.overdue > 0 || !self.year.is_empty()
    }
}

/// The whole dashboard of a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub date: Date,
    /// The first day of the day's month.
    pub month_start: Date,
    /// The first day of the oldest month of the trends.
    pub year_start: Date,
    /// The first day of each month of the trends, oldest first.
    pub month_starts: Vec<Date>,
    /// Every department, in id order.
    pub departments: Vec<DepartmentDashboard>,
}

impl Dashboard {
    /// All departments together, for the day.
    pub fn today(&self) -> Figures {
        self.total(|d| &d.today)
    }

    /// All departments together, for the day's month.
    pub fn month(&self) -> Figures {
        self.total(|d| &d.month)
    }

    /// All departments together, per month of the trends.
    pub fn months(&self) -> Vec<Figures> {
        (0..self.month_starts.len())
            .map(|i| {
                let mut sum = Figures::default();
                for d in &self.departments {
                    if let Some(f) = d.months.get(i) {
                        sum.add(f);
                    }
                }
                sum
            })
            .collect()
    }

    /// Open cases past their promised deadline, all departments.
    pub fn overdue(&self) -> i64 {
        self.departments.iter().map(|d| d.overdue).sum()
    }

    fn total(&self, pick: impl Fn(&DepartmentDashboard) -> &Figures) -> Figures {
        let mut sum = Figures::default();
        for d in &self.departments {
            sum.add(pick(d));
        }
        sum
    }
}

/// The periods of a day's dashboard: the first day of each of the twelve
/// months, the day and the day after.
struct Periods {
    month_starts: Vec<Date>,
    day: Date,
    end: Date,
}

impl Periods {
    fn of(day: Date) -> Result<Periods, StoreError> {
        let first = day.first_of_month();
        let month_starts = (0..MONTHS)
            .rev()
            .map(|back| {
                first
                    .checked_sub(Span::new().months(back as i64))
                    .map_err(|e| StoreError::Backend(format!("month before {day}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let end = day
            .tomorrow()
            .map_err(|e| StoreError::Backend(format!("day after {day}: {e}")))?;
        Ok(Periods {
            month_starts,
            day,
            end,
        })
    }

    /// The bounds in order: the twelve month starts, the end, the day (14
    /// parameters, `$1` to `$14`).
    fn bounds(&self) -> Vec<Date> {
        let mut bounds = self.month_starts.clone();
        bounds.push(self.end);
        bounds.push(self.day);
        bounds
    }

    fn instants(&self) -> Result<Vec<i64>, StoreError> {
        self.bounds()
            .into_iter()
            .map(|d| day_start(d).map(micros))
            .collect()
    }

    fn texts(&self) -> Vec<String> {
        self.bounds().into_iter().map(date_text).collect()
    }
}

/// Midnight in Shanghai at the start of `day`.
fn day_start(day: Date) -> Result<Timestamp, StoreError> {
    day.to_zoned_datetime(china_zone())
        .map(|z| z.timestamp())
        .map_err(|e| StoreError::Backend(format!("start of {day}: {e}")))
}

/// The columns `{name}0` … `{name}11` (one per month) and `{name}_today`
/// counting the rows whose `value` falls in each period and that satisfy
/// `extra` (an SQL condition, or `1 = 1`). The bounds are `$1`…`$14` as
/// [`Periods::bounds`] orders them.
fn period_columns(value: &str, extra: &str, name: &str) -> String {
    let mut columns: Vec<String> = (0..MONTHS)
        .map(|i| {
            format!(
                "COUNT(CASE WHEN {value} >= ${} AND {value} < ${} AND {extra} THEN 1 END) AS {name}{i}",
                i + 1,
                i + 2
            )
        })
        .collect();
    columns.push(format!(
        "COUNT(CASE WHEN {value} >= $14 AND {value} < $13 AND {extra} THEN 1 END) AS {name}_today"
    ));
    columns.join(", ")
}

/// The month columns and the day's column of a row.
fn period_counts(row: &AnyRow, name: &str) -> Result<(Vec<i64>, i64), StoreError> {
    let months = (0..MONTHS)
        .map(|i| row.try_get::<i64, _>(format!("{name}{i}").as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    let today = row.try_get::<i64, _>(format!("{name}_today").as_str())?;
    Ok((months, today))
}

/// The count of cards of `level` (its key) in `figures`.
fn level_slot<'a>(figures: &'a mut Figures, level: &str) -> Option<&'a mut i64> {
    match level {
        "warning" => Some(&mut figures.warnings),
        "yellow" => Some(&mut figures.yellow),
        "red" => Some(&mut figures.red),
        _ => None,
    }
}

impl Store {
    /// The dashboard of `day` (a day in Asia/Shanghai): every department's
    /// figures for the day, its month and the twelve months up to it.
    pub async fn dashboard(&self, day: Date) -> Result<Dashboard, StoreError> {
        let periods = Periods::of(day)?;
        let instants = periods.instants()?;
        let texts = periods.texts();

        let mut departments: Vec<DepartmentDashboard> =
            sqlx::query("SELECT id, name FROM departments ORDER BY id")
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| {
                    Ok(DepartmentDashboard {
                        department_id: r.try_get("id")?,
                        department_name: r.try_get("name")?,
                        today: Figures::default(),
                        month: Figures::default(),
                        year: Figures::default(),
                        months: vec![Figures::default(); MONTHS],
                        overdue: 0,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
        let index = |departments: &[DepartmentDashboard], id: i64| {
            departments.iter().position(|d| d.department_id == id)
        };

        // Received: applications by the instant they were submitted.
        let sql = format!(
            "SELECT c.department_id AS department_id, {} FROM cases c \
             WHERE c.submitted_at >= $1 AND c.submitted_at < $13 GROUP BY c.department_id",
            period_columns("c.submitted_at", "1 = 1", "r")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bound in &instants {
            query = query.bind(*bound);
        }
        for row in query.fetch_all(self.pool()).await? {
            let Some(i) = index(&departments, row.try_get("department_id")?) else {
                continue;
            };
            let (months, today) = period_counts(&row, "r")?;
            let d = &mut departments[i];
            d.today.received = today;
            for (m, n) in months.into_iter().enumerate() {
                d.months[m].received = n;
            }
        }

        // Completed: the delivery events; late when a yellow card for the
        // promised limit stands.
        let sql = format!(
            "SELECT t.department_id AS department_id, {}, {} FROM \
             (SELECT c.department_id AS department_id, e.at AS at, \
               CASE WHEN EXISTS (SELECT 1 FROM cards k WHERE k.subject_kind = 'case' \
                 AND k.subject_id = c.id AND k.deadline_kind = 'case_promised' \
                 AND k.breach <> 'due_soon' AND k.state <> 'revoked') THEN 1 ELSE 0 END AS late \
              FROM case_events e JOIN cases c ON c.id = e.case_id \
              WHERE e.action = 'deliver' AND e.at >= $1 AND e.at < $13) t \
             GROUP BY t.department_id",
            period_columns("t.at", "1 = 1", "c"),
            period_columns("t.at", "t.late = 0", "o")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bound in &instants {
            query = query.bind(*bound);
        }
        for row in query.fetch_all(self.pool()).await? {
            let Some(i) = index(&departments, row.try_get("department_id")?) else {
                continue;
            };
            let (completed, completed_today) = period_counts(&row, "c")?;
            let (on_time, on_time_today) = period_counts(&row, "o")?;
            let d = &mut departments[i];
            d.today.completed = completed_today;
            d.today.completed_on_time = on_time_today;
            for m in 0..MONTHS {
                d.months[m].completed = completed[m];
                d.months[m].completed_on_time = on_time[m];
            }
        }

        // Cards by the day they were found, revoked ones left out.
        let sql = format!(
            "SELECT k.department_id AS department_id, k.level AS level, {} FROM cards k \
             WHERE k.state <> 'revoked' AND k.found_on >= $1 AND k.found_on < $13 \
             GROUP BY k.department_id, k.level",
            period_columns("k.found_on", "1 = 1", "k")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bound in &texts {
            query = query.bind(bound.clone());
        }
        for row in query.fetch_all(self.pool()).await? {
            let Some(i) = index(&departments, row.try_get("department_id")?) else {
                continue;
            };
            let level: String = row.try_get("level")?;
            let (months, today) = period_counts(&row, "k")?;
            let d = &mut departments[i];
            if let Some(slot) = level_slot(&mut d.today, &level) {
                *slot = today;
            }
            for (m, n) in months.into_iter().enumerate() {
                if let Some(slot) = level_slot(&mut d.months[m], &level) {
                    *slot = n;
                }
            }
        }

        // Ratings by the instant they were given; 3 (基本满意) and up satisfy.
        let sql = format!(
            "SELECT c.department_id AS department_id, {}, {} FROM ratings r \
             JOIN cases c ON c.id = r.case_id \
             WHERE r.rated_at >= $1 AND r.rated_at < $13 GROUP BY c.department_id",
            period_columns("r.rated_at", "1 = 1", "v"),
            period_columns("r.rated_at", "r.score >= 3", "s")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bound in &instants {
            query = query.bind(*bound);
        }
        for row in query.fetch_all(self.pool()).await? {
            let Some(i) = index(&departments, row.try_get("department_id")?) else {
                continue;
            };
            let (rated, rated_today) = period_counts(&row, "v")?;
            let (satisfied, satisfied_today) = period_counts(&row, "s")?;
            let d = &mut departments[i];
            d.today.rated = rated_today;
            d.today.satisfied = satisfied_today;
            for m in 0..MONTHS {
                d.months[m].rated = rated[m];
                d.months[m].satisfied = satisfied[m];
            }
        }

        // Open cases past their promised deadline.
        let rows = sqlx::query(
            "SELECT c.department_id AS department_id, COUNT(*) AS overdue \
             FROM object_deadlines d JOIN deadline_schedules s ON s.id = d.schedule_id \
             JOIN cases c ON c.id = d.object_id \
             WHERE d.object_kind = 'case_promised' AND d.state <> 'ended' AND s.due_on < $1 \
             GROUP BY c.department_id",
        )
        .bind(date_text(day))
        .fetch_all(self.pool())
        .await?;
        for row in rows {
            if let Some(i) = index(&departments, row.try_get("department_id")?) {
                departments[i].overdue = row.try_get("overdue")?;
            }
        }

        for d in &mut departments {
            d.month = d.months[MONTHS - 1];
            d.year = Figures::default();
            for m in &d.months {
                d.year.add(m);
            }
        }
        Ok(Dashboard {
            date: day,
            month_start: periods.month_starts[MONTHS - 1],
            year_start: periods.month_starts[0],
            month_starts: periods.month_starts,
            departments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_twelve_months_up_to_the_day() {
        let p = Periods::of(jiff::civil::date(2026, 3, 31)).unwrap();
        assert_eq!(p.month_starts.len(), MONTHS);
        assert_eq!(p.month_starts[0], jiff::civil::date(2025, 4, 1));
        assert_eq!(p.month_starts[11], jiff::civil::date(2026, 3, 1));
        assert_eq!(p.end, jiff::civil::date(2026, 4, 1));
        // Midnight in Shanghai is 16:00 UTC the day before.
        assert_eq!(
            day_start(jiff::civil::date(2026, 3, 31)).unwrap(),
            "2026-03-30T16:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(p.instants().unwrap().len(), 14);
    }
}
