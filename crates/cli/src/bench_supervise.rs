//! `bench supervise`: the supervision tick over a county with many open
//! cases — a tick with nothing due, a tick in which thousands of deadlines
//! cross a threshold at once, and the process's peak memory.

use std::time::{Duration, Instant};

use anyhow::Context;
use jiff::Timestamp;
use jiff::civil::{Date, date};
use onewindow_core::calendar::{ChinaCalendar, WorkCalendar};
use onewindow_core::clock::{DeadlineKind, DeadlineState};
use onewindow_core::supervision::{Channel, SupervisionRules, Watched};
use onewindow_store::Backend;

use crate::bench::fixture;

/// The bench's "now": Monday 7 December 2026, 10:00 in Shanghai.
fn bench_now() -> Timestamp {
    "2026-12-07T02:00:00Z".parse().expect("a valid instant")
}

const PROMISED: u32 = 15;
const STATUTORY: u32 = 30;

pub async fn supervise(
    open_cases: usize,
    crossings: usize,
    database_url: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        crossings <= open_cases,
        "--crossings cannot exceed --open-cases"
    );
    let dir = tempfile::tempdir().context("temporary directory")?;
    let url = match database_url {
        Some(url) => url.to_string(),
        None => format!("sqlite:{}", dir.path().join("supervise.db").display()),
    };
    let f = fixture(&url, "bench-password").await?;
    let store = f.store.clone();
    let backend = store.backend();
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(store.pool())
        .await?;
    anyhow::ensure!(existing == 0, "bench supervise needs an empty database");
    let calendar = ChinaCalendar::shipped();
    let today = date(2026, 12, 7);
    let now = bench_now();
    // Every open case was accepted within the last ten working days: its
    // promised deadline is at least three working days away, so nothing is
    // due for a check today.
    let mut starts = Vec::new();
    let mut day = today;
    while starts.len() < 10 {
        day = day.yesterday()?;
        if calendar.is_working_day(day) {
            starts.push(day);
        }
    }
    let started = Instant::now();
    sqlx::query("UPDATE staff SET email = login || '@hengshan.gov.cn', phone = '13807340000'")
        .execute(store.pool())
        .await?;
    insert_cases(
        &store,
        backend,
        open_cases,
        &starts,
        f.item_id,
        f.clerk.department_id,
        f.handler.id,
    )
    .await?;
    let rules = SupervisionRules::default();
    let mut schedules = Vec::new();
    for start in &starts {
        for (kind, amount) in [
            (DeadlineKind::CasePromised, PROMISED),
            (DeadlineKind::CaseStatutory, STATUTORY),
        ] {
            let due = calendar.add_working_days(*start, amount);
            let watched = Watched {
                kind,
                state: DeadlineState::Running,
                start: *start,
                due,
                item: None,
            };
            let next = rules.next_check(&watched, today, calendar);
            schedules.push((kind, *start, amount, due, next));
        }
    }
    insert_deadlines(&store, &schedules).await?;
    if backend == Backend::Postgres {
        // What autovacuum does on a live server after a bulk load: without
        // statistics the planner would not use the next-check index.
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    let setup = started.elapsed();

    let channels = [
        Channel::InApp,
        Channel::Email,
        Channel::Sms,
        Channel::Webhook,
    ];
    // Ticks with nothing due: an index lookup that finds nothing.
    let mut idle = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let report = store.supervise(now, &channels).await?;
        idle.push(t.elapsed());
        anyhow::ensure!(
            report.examined == 0,
            "an idle tick examined {}",
            report.examined
        );
    }
    idle.sort();

    // `crossings` cases pass their promised deadline: a schedule due last
    // week, checked today.
    let overdue_start = today - jiff::Span::new().days(35);
    let overdue_due = calendar.add_working_days(overdue_start, PROMISED);
    anyhow::ensure!(overdue_due < today, "the crossing schedule must be overdue");
    cross(
        &store,
        backend,
        crossings,
        overdue_start,
        overdue_due,
        today,
    )
    .await?;
    let t = Instant::now();
    let report = store.supervise(now, &channels).await?;
    let crossing = t.elapsed();
    anyhow::ensure!(
        report.issued_total() as usize == crossings,
        "expected {crossings} cards, issued {}",
        report.issued_total()
    );
    let t = Instant::now();
    let after = store.supervise(now, &channels).await?;
    let idle_after = t.elapsed();
    anyhow::ensure!(after.issued_total() == 0, "a repeated tick issued cards");
    let peak_rss = peak_rss_mib();
    store.close().await;

    let backend_name = match backend {
        Backend::Sqlite => "SQLite WAL synchronous=FULL",
        Backend::Postgres => "PostgreSQL",
    };
    outln!(
        "onewindow bench supervise — {open_cases} open cases ({} open deadlines), {backend_name}",
        open_cases * 2
    )?;
    outln!("{:<44} {:>12}", "measure", "value")?;
    outln!(
        "{:<44} {:>9.1} ms",
        "idle tick, median of 7",
        ms(idle[idle.len() / 2])
    )?;
    outln!(
        "{:<44} {:>9.1} ms",
        "idle tick, slowest of 7",
        ms(idle[idle.len() - 1])
    )?;
    outln!(
        "{:<44} {:>9.1} ms",
        format!("tick with {crossings} threshold crossings"),
        ms(crossing)
    )?;
    outln!("{:<44} {:>12}", "  cards issued", report.issued_total())?;
    outln!("{:<44} {:>12}", "  in-app notices written", report.notices)?;
    outln!(
        "{:<44} {:>12}",
        "  outbox messages written",
        report.messages
    )?;
    outln!(
        "{:<44} {:>9.1} ms",
        "the tick after it (nothing new)",
        ms(idle_after)
    )?;
    match peak_rss {
        Some(mib) => outln!("{:<44} {:>9.0} MiB", "peak resident memory (VmHWM)", mib)?,
        None => outln!("{:<44} {:>12}", "peak resident memory", "n/a")?,
    }
    outln!(
        "(setup of {open_cases} cases: {:.1} s)",
        setup.as_secs_f64()
    )?;
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "bench": "supervise", "backend": backend_name, "open_cases": open_cases,
                "idle_tick_ms_median": ms(idle[idle.len() / 2]),
                "idle_tick_ms_max": ms(idle[idle.len() - 1]),
                "crossings": crossings, "crossing_tick_ms": ms(crossing),
                "cards": report.issued_total(), "notices": report.notices, "messages": report.messages,
                "peak_rss_mib": peak_rss,
            })
        )?;
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The process's peak resident set (VmHWM), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `n` cases in handling, assigned to `handler`, accepted on the `starts`
/// in turn.
async fn insert_cases(
    store: &onewindow_store::Store,
    backend: Backend,
    n: usize,
    starts: &[Date],
    item_id: i64,
    department_id: i64,
    handler: i64,
) -> anyhow::Result<()> {
    let start_of = format!(
        "CASE (i % {}) {} END",
        starts.len(),
        starts
            .iter()
            .enumerate()
            .map(|(k, d)| format!("WHEN {k} THEN '{d}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let numbers = match backend {
        Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2)"
        }
        Backend::Postgres => {
            "WITH n(i) AS (SELECT generate_series(CAST($1 AS BIGINT), CAST($2 AS BIGINT) - 1))"
        }
    };
    const CHUNK: usize = 100_000;
    for first in (0..n).step_by(CHUNK) {
        let last = (first + CHUNK).min(n);
        let sql = format!(
            "{numbers} INSERT INTO cases (number, item_id, department_id, channel, applicant_name, \
             applicant_phone, form, state, received_on, clock_start, clock, assignee_id, pending_role, \
             submitted_at, updated_at) \
             SELECT '430423-BENCH-' || CAST(i AS TEXT), $3, $4, 'online', '申请人', '13800000000', '{{}}', \
             'handling', {start_of}, {start_of}, \
             '{{\"promised\":{{\"amount\":{PROMISED},\"unit\":\"working_days\"}},\"statutory\":{{\"amount\":{STATUTORY},\"unit\":\"working_days\"}}}}', \
             $5, 'handler', 0, 0 FROM n"
        );
        let (first, last) = (first as i64, last as i64);
        store
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(first)
                        .bind(last)
                        .bind(item_id)
                        .bind(department_id)
                        .bind(handler)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await?;
    }
    Ok(())
}

/// The schedules (kind, start, amount, due, next check) and every open
/// case's promised and statutory deadline on them.
async fn insert_deadlines(
    store: &onewindow_store::Store,
    schedules: &[(DeadlineKind, Date, u32, Date, Option<Date>)],
) -> anyhow::Result<()> {
    let schedules = schedules.to_vec();
    store
        .write(move |conn| {
            Box::pin(async move {
                for (kind, start, amount, due, next) in schedules {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on) \
                         VALUES ('430423', $1, $2, 'working_days', '[]', $3) RETURNING id",
                    )
                    .bind(start.to_string())
                    .bind(i64::from(amount))
                    .bind(due.to_string())
                    .fetch_one(&mut *conn)
                    .await?;
                    sqlx::query(
                        "INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, \
                         linked_after, next_check_on) \
                         SELECT $1, c.id, $2, 'running', 0, $3 FROM cases c WHERE c.clock_start = $4",
                    )
                    .bind(kind.key())
                    .bind(id)
                    .bind(next.map(|d| d.to_string()))
                    .bind(start.to_string())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(())
}

/// Moves the promised deadline of `n` cases onto a schedule already overdue,
/// due for a check today.
async fn cross(
    store: &onewindow_store::Store,
    _backend: Backend,
    n: usize,
    start: Date,
    due: Date,
    today: Date,
) -> anyhow::Result<()> {
    let n = n as i64;
    store
        .write(move |conn| {
            Box::pin(async move {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on) \
                     VALUES ('430423', $1, $2, 'working_days', '[]', $3) RETURNING id",
                )
                .bind(start.to_string())
                .bind(i64::from(PROMISED))
                .bind(due.to_string())
                .fetch_one(&mut *conn)
                .await?;
                sqlx::query(
                    "UPDATE object_deadlines SET schedule_id = $1, next_check_on = $2 \
                     WHERE object_kind = 'case_promised' AND object_id IN \
                     (SELECT id FROM cases ORDER BY id LIMIT $3)",
                )
                .bind(id)
                .bind(today.to_string())
                .bind(n)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}
