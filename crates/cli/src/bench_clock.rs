//! `bench calendar` (the working-day index) and `bench recompute` (a calendar
//! change over a million open deadlines).

use std::hint::black_box;
use std::time::Instant;

use anyhow::Context;
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onewindow_core::calendar::{
    ChinaCalendar, OverrideKind, TimeLimit, WeekendCalendar, WorkCalendar,
};
use onewindow_core::clock::{Deadline, Pause};
use onewindow_store::clock::NewOverride;

use crate::bench::{Fixture, fixture};

/// `add` calls per second on one core, through the index and (for scale)
/// through a day-by-day loop.
pub fn calendar(calls: usize, json: bool) -> anyhow::Result<()> {
    let calendar = ChinaCalendar::shipped();
    let starts: Vec<Date> = (0..4096i64)
        .map(|i| date(2004, 1, 1) + jiff::Span::new().days(i * 2 % 8000))
        .collect();
    let mut sink = 0u64;
    let started = Instant::now();
    for i in 0..calls {
        let start = black_box(starts[i & 4095]);
        let due = calendar.add_working_days(start, black_box((i % 61) as u32));
        sink = sink.wrapping_add(due.day() as u64);
    }
    let indexed = started.elapsed();
    let loop_calls = (calls / 100).max(1);
    let started = Instant::now();
    for i in 0..loop_calls {
        let start = black_box(starts[i & 4095]);
        let due = WeekendCalendar.add_working_days(start, black_box((i % 61) as u32));
        sink = sink.wrapping_add(due.day() as u64);
    }
    let looped = started.elapsed();
    black_box(sink);
    let indexed_rate = calls as f64 / indexed.as_secs_f64();
    let loop_rate = loop_calls as f64 / looped.as_secs_f64();
    outln!("onewindow bench calendar — add_working_days(start, 0..60), one thread")?;
    outln!(
        "{:<40} {:>12} {:>10} {:>16}",
        "method",
        "calls",
        "seconds",
        "calls/s"
    )?;
    outln!(
        "{:<40} {:>12} {:>10.3} {:>16.0}",
        "working-day index (ChinaCalendar)",
        calls,
        indexed.as_secs_f64(),
        indexed_rate
    )?;
    outln!(
        "{:<40} {:>12} {:>10.3} {:>16.0}",
        "day-by-day loop (for comparison)",
        loop_calls,
        looped.as_secs_f64(),
        loop_rate
    )?;
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "bench": "calendar", "calls": calls, "seconds": indexed.as_secs_f64(),
                "calls_per_second": indexed_rate, "loop_calls_per_second": loop_rate,
            })
        )?;
    }
    Ok(())
}

/// How the open deadlines of `bench recompute` are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// As a hall has them: deadlines of the same start day and limit share
    /// one schedule, so a calendar change computes each schedule once.
    Shared,
    /// The worst case: every deadline has its own schedule (its own pause),
    /// and every other case is suspended with its clock standing still, so
    /// nothing is shared and every deadline is computed on its own.
    Distinct,
}

impl Layout {
    fn key(self) -> &'static str {
        match self {
            Layout::Shared => "shared",
            Layout::Distinct => "worst_case",
        }
    }
}

/// Open cases with a promised and a statutory deadline each (2 deadlines per
/// case) on a fresh SQLite file, laid out as `layout` says; then one closure
/// day inside every counting period, timed from the request to the durable
/// commit.
pub async fn recompute(deadlines: usize, json: bool) -> anyhow::Result<()> {
    recompute_laid_out(deadlines, Layout::Shared, json).await
}

/// `bench recompute --worst-case`: as [`recompute`], with [`Layout::Distinct`].
pub async fn recompute_worst_case(deadlines: usize, json: bool) -> anyhow::Result<()> {
    recompute_laid_out(deadlines, Layout::Distinct, json).await
}

/// The two limits of every bench case: promised and statutory.
const LIMITS: [(u32, &str); 2] = [(15, "case_promised"), (30, "case_statutory")];

async fn recompute_laid_out(deadlines: usize, layout: Layout, json: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let path = dir.path().join("recompute.db");
    let f = fixture(&format!("sqlite:{}", path.display()), "bench-password").await?;
    let cases = deadlines.div_ceil(2);
    let calendar = ChinaCalendar::shipped();
    // Accepted on the working days of 2 to 20 November 2026 with 15 and 30
    // working days: the closure on Monday 23 November lies inside every period.
    let starts: Vec<Date> = (0..19i64)
        .map(|d| date(2026, 11, 2) + jiff::Span::new().days(d))
        .filter(|d| calendar.is_working_day(*d))
        .collect();
    let started = Instant::now();
    insert_cases(&f, cases, &starts).await?;
    match layout {
        Layout::Shared => shared_schedules(&f, &starts).await?,
        Layout::Distinct => distinct_schedules(&f, cases, &starts).await?,
    }
    let setup = started.elapsed();
    let started = Instant::now();
    let applied = f
        .store
        .add_override(
            NewOverride {
                region: String::new(),
                date: date(2026, 11, 23),
                kind: OverrideKind::Closure,
                reason: "基准测试：全县停止办公一天".into(),
            },
            f.clerk.id,
            Timestamp::now(),
        )
        .await?;
    let elapsed = started.elapsed();
    f.store.close().await;
    let moved = applied.recomputed.moved;
    anyhow::ensure!(
        moved as usize == cases * 2,
        "expected every deadline to move, moved {moved}"
    );
    outln!(
        "onewindow bench recompute — a closure day inside every open deadline, SQLite WAL synchronous=FULL"
    )?;
    outln!(
        "{:<12} {:<14} {:>14} {:>14} {:>18} {:>12}",
        "layout",
        "deadlines",
        "examined",
        "moved",
        "schedules moved",
        "seconds"
    )?;
    outln!(
        "{:<12} {:<14} {:>14} {:>14} {:>18} {:>12.3}",
        layout.key(),
        cases * 2,
        applied.recomputed.examined,
        moved,
        applied.recomputed.schedules_moved,
        elapsed.as_secs_f64(),
    )?;
    outln!("(setup of {} cases: {:.1} s)", cases, setup.as_secs_f64())?;
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "bench": "recompute", "layout": layout.key(), "deadlines": cases * 2,
                "examined": applied.recomputed.examined, "moved": moved,
                "schedules_moved": applied.recomputed.schedules_moved,
                "seconds": elapsed.as_secs_f64(),
            })
        )?;
    }
    Ok(())
}

/// `cases` open cases numbered `430423-BENCH-nnnnnnn`, case i accepted on
/// `starts[i % len]`.
async fn insert_cases(f: &Fixture, cases: usize, starts: &[Date]) -> anyhow::Result<()> {
    let (item_id, department_id) = (f.item_id, f.clerk.department_id);
    for first in (0..cases).step_by(CHUNK) {
        let rows: Vec<serde_json::Value> = (first..(first + CHUNK).min(cases))
            .map(|i| {
                let start = starts[i % starts.len()];
                serde_json::json!([case_number(i), start.to_string()])
            })
            .collect();
        let rows = serde_json::to_string(&rows)?;
        f.store
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO cases (number, item_id, department_id, channel, applicant_name, \
                         applicant_phone, form, state, received_on, clock_start, clock, submitted_at, updated_at) \
                         SELECT j.value->>0, $2, $3, 'online', '申请人', '13800000000', '{}', 'handling', \
                         j.value->>1, j.value->>1, \
                         '{\"promised\":{\"amount\":15,\"unit\":\"working_days\"},\"statutory\":{\"amount\":30,\"unit\":\"working_days\"}}', \
                         0, 0 FROM json_each($1) j",
                    )
                    .bind(rows)
                    .bind(item_id)
                    .bind(department_id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
    }
    Ok(())
}

/// Rows written per job while setting up.
const CHUNK: usize = 50_000;

fn case_number(i: usize) -> String {
    format!("430423-BENCH-{i:07}")
}

/// Each case's two deadlines, on the schedules of their start days (shared
/// by every case accepted that day).
async fn shared_schedules(f: &Fixture, starts: &[Date]) -> anyhow::Result<()> {
    let calendar = ChinaCalendar::shipped();
    let schedules: Vec<serde_json::Value> = starts
        .iter()
        .flat_map(|start| {
            LIMITS.map(|(amount, kind)| {
                serde_json::json!([
                    kind,
                    start.to_string(),
                    amount,
                    calendar.add_working_days(*start, amount).to_string()
                ])
            })
        })
        .collect();
    let schedules = serde_json::to_string(&schedules)?;
    f.store
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on) \
                     SELECT '430423', j.value->>1, j.value->>2, 'working_days', '[]', j.value->>3 \
                     FROM json_each($1) j",
                )
                .bind(&schedules)
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, linked_after) \
                     SELECT j.value->>0, c.id, s.id, 'running', 0 FROM json_each($1) j \
                     JOIN deadline_schedules s ON s.start_on = j.value->>1 AND s.amount = j.value->>2 \
                     JOIN cases c ON c.clock_start = s.start_on AND c.state = 'handling'",
                )
                .bind(&schedules)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Each case's two deadlines on schedules of their own: a running case had
/// its clock stopped for one or two days for the applicant's supplement, a
/// suspended one (every other case) stands still in an expert review since
/// its start day. Each pause names its case, so no two deadlines
/// share a schedule; every pause ends before the closure day.
async fn distinct_schedules(f: &Fixture, cases: usize, starts: &[Date]) -> anyhow::Result<()> {
    let calendar = ChinaCalendar::shipped();
    for first in (0..cases).step_by(CHUNK) {
        let mut rows = Vec::with_capacity(2 * CHUNK);
        for i in first..(first + CHUNK).min(cases) {
            let start = starts[i % starts.len()];
            let from = start;
            let (pause, state) = if i % 2 == 1 {
                let reason = format!("专家评审：{}", case_number(i));
                (
                    Pause {
                        from,
                        to: None,
                        reason,
                    },
                    "paused",
                )
            } else {
                let to = from + jiff::Span::new().days(1 + (i / 2 % 2) as i64);
                let reason = format!("补正材料：{}", case_number(i));
                (
                    Pause {
                        from,
                        to: Some(to),
                        reason,
                    },
                    "running",
                )
            };
            for (amount, kind) in LIMITS {
                let deadline = Deadline {
                    start,
                    limit: TimeLimit::working_days(amount),
                    pauses: vec![pause.clone()],
                };
                rows.push(serde_json::json!([
                    kind,
                    start.to_string(),
                    amount,
                    serde_json::to_string(&deadline.pauses)?,
                    deadline.due(calendar).to_string(),
                    state,
                    case_number(i),
                ]));
            }
        }
        let rows = serde_json::to_string(&rows)?;
        f.store
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on) \
                         SELECT '430423', j.value->>1, j.value->>2, 'working_days', j.value->>3, j.value->>4 \
                         FROM json_each($1) j",
                    )
                    .bind(&rows)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query(
                        "INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, linked_after) \
                         SELECT j.value->>0, c.id, s.id, j.value->>5, 0 FROM json_each($1) j \
                         JOIN deadline_schedules s ON s.region = '430423' AND s.start_on = j.value->>1 \
                         AND s.amount = j.value->>2 AND s.unit = 'working_days' AND s.pauses = j.value->>3 \
                         JOIN cases c ON c.number = j.value->>6",
                    )
                    .bind(&rows)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await?;
    }
    Ok(())
}
