//! Benchmarks. Each prints a readable table and, with `--json`, one JSON
//! object of its figures on the last line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use futures::StreamExt;
use jiff::Timestamp;
use onewindow_core::calendar::TimeLimit;
use onewindow_core::case::{self, Applicant, Channel, Command, Outcome};
use onewindow_core::catalog::{
    Guide, HandlingCategory, ItemStatus, ItemType, Material, RegionLevel, Step, Target,
};
use onewindow_core::staff::Role;
use onewindow_store::cases::{NewCase, Who, assignee_facts};
use onewindow_store::staff::{NewDepartment, NewStaff, StaffMember};
use onewindow_store::{Store, StoreOptions};
use sqlx::{Connection, Executor};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// N complete case lifecycles (submit, accept, 3 steps, decide, deliver:
    /// 7 durable transactions each, with audit entries) through the store on a
    /// fresh SQLite file, against raw SQLite transactions of the same
    /// durability; optionally also through HTTP.
    Lifecycle {
        #[arg(long, default_value_t = 20_000)]
        n: usize,
        /// Lifecycles in flight at once (their transitions share commits).
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Also run lifecycles through the HTTP API with concurrent clients.
        #[arg(long)]
        http: bool,
        /// Lifecycles for the HTTP run.
        #[arg(long, default_value_t = 2_000)]
        http_n: usize,
        #[arg(long)]
        json: bool,
    },
    /// Calls per second of "the N-th working day after" on one core.
    Calendar {
        #[arg(long, default_value_t = 20_000_000)]
        calls: usize,
        #[arg(long)]
        json: bool,
    },
    /// Supervision ticks over this many open cases (two deadlines each): a
    /// tick with nothing due, then one in which --crossings deadlines pass
    /// at once (cards, notices and outbox messages); peak memory.
    Supervise {
        #[arg(long, default_value_t = 1_000_000)]
        open_cases: usize,
        #[arg(long, default_value_t = 10_000)]
        crossings: usize,
        /// Run on this empty PostgreSQL database instead of a fresh SQLite file.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One calendar change (a closure day) recomputing this many open
    /// deadlines in one transaction on a fresh SQLite file.
    Recompute {
        #[arg(long, default_value_t = 1_000_000)]
        deadlines: usize,
        /// The worst case: every deadline on a schedule of its own and every
        /// other case suspended, so no work is shared.
        #[arg(long)]
        worst_case: bool,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Lifecycle {
            n,
            concurrency,
            http,
            http_n,
            json,
        } => lifecycle(*n, *concurrency, *http, *http_n, *json).await,
        BenchCommand::Calendar { calls, json } => crate::bench_clock::calendar(*calls, *json),
        BenchCommand::Recompute {
            deadlines,
            worst_case: false,
            json,
        } => crate::bench_clock::recompute(*deadlines, *json).await,
        BenchCommand::Recompute {
            deadlines,
            worst_case: true,
            json,
        } => crate::bench_clock::recompute_worst_case(*deadlines, *json).await,
        BenchCommand::Supervise {
            open_cases,
            crossings,
            postgres,
            json,
        } => {
            crate::bench_supervise::supervise(*open_cases, *crossings, postgres.as_deref(), *json)
                .await
        }
    }
}

const TRANSITIONS: usize = 7;

pub(crate) struct Fixture {
    pub store: Store,
    pub item_id: i64,
    pub clerk: StaffMember,
    pub handler: StaffMember,
    reviewer: StaffMember,
    approver: StaffMember,
}

fn bench_guide() -> Guide {
    Guide {
        name: "建筑工程施工许可证核发".into(),
        code: "000117999001".into(),
        implementing_code: "11430423000000000X000117999001".into(),
        item_type: ItemType::License,
        category: HandlingCategory::Promised,
        target: Target::Enterprise,
        statutory_limit: TimeLimit::working_days(15),
        promised_limit: TimeLimit::working_days(5),
        legal_basis: "《建筑工程施工许可管理办法》".into(),
        conditions: vec!["已经办理该建筑工程用地批准手续".into()],
        materials: vec![Material {
            name: "建筑工程施工许可申请表".into(),
            required: true,
            originals: 1,
            copies: 0,
            reason: "申请意愿".into(),
            template_file: None,
            sample_file: None,
        }],
        fees: vec![],
        steps: vec![
            Step {
                name: "承办".into(),
                role: Role::Handler,
                limit_days: 2,
            },
            Step {
                name: "审核".into(),
                role: Role::Reviewer,
                limit_days: 2,
            },
            Step {
                name: "批准".into(),
                role: Role::Approver,
                limit_days: 1,
            },
        ],
        visits: 1,
        location: "政务服务中心".into(),
        office_hours: "工作日".into(),
        contact_phone: "0734-5822001".into(),
        complaint_phone: "12345".into(),
        aliases: vec![],
        life_events: vec![],
        form_fields: vec![],
    }
}

pub(crate) async fn fixture(url: &str, password: &str) -> anyhow::Result<Fixture> {
    let store = Store::connect(&StoreOptions::new(url)).await?;
    store.migrate().await?;
    let now = Timestamp::now();
    let department = store
        .create_department(
            "bench".into(),
            NewDepartment {
                code: "zjj".into(),
                name: "衡山县住房和城乡建设局".into(),
                level: RegionLevel::County,
                parent_id: None,
                region_code: "430423".into(),
                window_location: String::new(),
                phone: String::new(),
                address: String::new(),
            },
            now,
        )
        .await?;
    let mut people = Vec::new();
    for (login, role) in [
        ("clerk", Role::WindowClerk),
        ("handler", Role::Handler),
        ("reviewer", Role::Reviewer),
        ("approver", Role::Approver),
    ] {
        people.push(
            store
                .create_staff(
                    "bench".into(),
                    NewStaff {
                        login: login.into(),
                        name: login.into(),
                        department_id: department.id,
                        roles: vec![role],
                        password: password.into(),
                        phone: String::new(),
                    },
                    now,
                )
                .await?,
        );
    }
    let item = store
        .create_item("bench".into(), department.id, bench_guide(), now)
        .await?;
    store
        .set_item_status("bench".into(), item.id, ItemStatus::Published, now)
        .await?;
    let mut people = people.into_iter();
    let mut next = || people.next().expect("four people");
    Ok(Fixture {
        store,
        item_id: item.id,
        clerk: next(),
        handler: next(),
        reviewer: next(),
        approver: next(),
    })
}

async fn command(
    store: &Store,
    case_id: i64,
    member: &StaffMember,
    command: Command,
) -> anyhow::Result<()> {
    let actor = member.actor();
    let now = Timestamp::now();
    store
        .apply_command(
            case_id,
            None,
            Who::Staff(actor.staff_id),
            None,
            now,
            move |ctx| {
                let on_behalf = case::authorize(
                    &actor,
                    &command,
                    &ctx.case.facts,
                    &ctx.item.guide.steps,
                    ctx.case.department_id,
                    assignee_facts(&ctx.assignee),
                )?;
                let rules = ctx.item.guide.rules();
                Ok((
                    case::decide(
                        &ctx.case.facts,
                        &command,
                        &rules,
                        ctx.calendar.as_ref(),
                        now,
                    )?,
                    on_behalf,
                ))
            },
        )
        .await?;
    Ok(())
}

async fn one_lifecycle(f: &Fixture, i: usize) -> anyhow::Result<()> {
    let applied = f
        .store
        .submit_case(
            NewCase {
                item_id: f.item_id,
                channel: Channel::Online,
                applicant: Applicant {
                    name: format!("申请人{i}"),
                    phone: "13800000000".into(),
                    id_number: String::new(),
                    organization: String::new(),
                },
                form: serde_json::json!({ "项目名称": format!("安置房项目{i}") }),
                materials: vec![],
                registered_by: None,
            },
            None,
            Timestamp::now(),
        )
        .await?;
    let id = applied.case.id;
    command(
        &f.store,
        id,
        &f.clerk,
        Command::Accept {
            opinion: "予以受理".into(),
        },
    )
    .await?;
    command(
        &f.store,
        id,
        &f.handler,
        Command::CompleteStep {
            opinion: "拟同意".into(),
        },
    )
    .await?;
    command(
        &f.store,
        id,
        &f.reviewer,
        Command::CompleteStep {
            opinion: "同意".into(),
        },
    )
    .await?;
    command(
        &f.store,
        id,
        &f.approver,
        Command::CompleteStep {
            opinion: "同意".into(),
        },
    )
    .await?;
    command(
        &f.store,
        id,
        &f.approver,
        Command::Decide {
            outcome: Outcome::Approve,
            opinion: "准予许可".into(),
            reasons: String::new(),
            rights_notice: String::new(),
            decided_on: None,
        },
    )
    .await?;
    command(
        &f.store,
        id,
        &f.clerk,
        Command::Deliver {
            method: "电子送达".into(),
            fees: vec![],
        },
    )
    .await?;
    Ok(())
}

/// The same number of bare INSERT/UPDATE transactions, one after another, on
/// SQLite with the same durability (WAL, synchronous=FULL).
async fn raw_baseline(path: &std::path::Path, transactions: usize) -> anyhow::Result<Duration> {
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=rwc", path.display())).await?;
    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        .await?;
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL)",
    )
    .await?;
    let started = Instant::now();
    let mut id = 0i64;
    for i in 0..transactions {
        let mut tx = conn.begin().await?;
        if i % TRANSITIONS == 0 {
            id += 1;
            sqlx::query("INSERT INTO t (id, state, version) VALUES ($1, 'submitted', 1)")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE t SET state = 'next', version = version + 1 WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(started.elapsed())
}

async fn lifecycle(
    n: usize,
    concurrency: usize,
    http: bool,
    http_n: usize,
    json: bool,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let raw_elapsed = raw_baseline(&dir.path().join("raw.db"), n * TRANSITIONS).await?;
    let f = Arc::new(
        fixture(
            &format!("sqlite:{}", dir.path().join("store.db").display()),
            "bench-password",
        )
        .await?,
    );
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(0..n)
        .map(|i| {
            let f = Arc::clone(&f);
            async move { one_lifecycle(&f, i).await }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let store_elapsed = started.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
        anyhow::bail!("{failed} lifecycles failed; first: {e:#}");
    }
    f.store.close().await;
    let raw_tx = (n * TRANSITIONS) as f64 / raw_elapsed.as_secs_f64();
    let raw_lifecycles = raw_tx / TRANSITIONS as f64;
    let store_lifecycles = n as f64 / store_elapsed.as_secs_f64();
    let ratio = store_lifecycles / raw_lifecycles;
    outln!(
        "onewindow bench lifecycle — {n} lifecycles × {TRANSITIONS} durable transactions, SQLite WAL synchronous=FULL"
    )?;
    outln!(
        "{:<44} {:>10} {:>14} {:>14}",
        "run",
        "seconds",
        "transactions/s",
        "lifecycles/s"
    )?;
    outln!(
        "{:<44} {:>10.2} {:>14.0} {:>14.0}",
        "raw SQLite, bare INSERT/UPDATE, one by one",
        raw_elapsed.as_secs_f64(),
        raw_tx,
        raw_lifecycles
    )?;
    outln!(
        "{:<44} {:>10.2} {:>14.0} {:>14.0}",
        format!("store, {concurrency} lifecycles in flight"),
        store_elapsed.as_secs_f64(),
        store_lifecycles * TRANSITIONS as f64,
        store_lifecycles
    )?;
    outln!("store / raw: {:.2}×", ratio)?;
    let mut figures = serde_json::json!({
        "bench": "lifecycle",
        "n": n,
        "concurrency": concurrency,
        "raw_seconds": raw_elapsed.as_secs_f64(),
        "raw_transactions_per_second": raw_tx,
        "raw_lifecycles_per_second": raw_lifecycles,
        "store_seconds": store_elapsed.as_secs_f64(),
        "store_lifecycles_per_second": store_lifecycles,
        "store_over_raw": ratio,
    });
    if http {
        let (seconds, p50, p99) = http_lifecycles(dir.path(), http_n, concurrency).await?;
        let rate = http_n as f64 / seconds;
        outln!(
            "{:<44} {:>10.2} {:>14.0} {:>14.0}   (request p50 {:.1} ms, p99 {:.1} ms)",
            format!("HTTP, {concurrency} clients, {http_n} lifecycles"),
            seconds,
            rate * TRANSITIONS as f64,
            rate,
            p50,
            p99
        )?;
        figures["http_n"] = http_n.into();
        figures["http_seconds"] = seconds.into();
        figures["http_lifecycles_per_second"] = rate.into();
        figures["http_p50_ms"] = p50.into();
        figures["http_p99_ms"] = p99.into();
    }
    if json {
        outln!("{figures}")?;
    }
    Ok(())
}

/// Lifecycles through the real server on a random port: returns seconds and
/// request latency p50/p99 in milliseconds.
async fn http_lifecycles(
    dir: &std::path::Path,
    n: usize,
    clients: usize,
) -> anyhow::Result<(f64, f64, f64)> {
    let password = "bench-password";
    let f = fixture(
        &format!("sqlite:{}", dir.join("http.db").display()),
        password,
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state =
        onewindow_server::AppState::new(f.store.clone(), onewindow_server::Settings::default());
    let server = tokio::spawn(onewindow_server::serve(listener, state));
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for member in [&f.clerk, &f.handler, &f.reviewer, &f.approver] {
        let body: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "login": member.login, "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens.push(body["token"].as_str().context("token")?.to_string());
    }
    let tokens = Arc::new(tokens);
    let item_id = f.item_id;
    let started = Instant::now();
    let latencies: Vec<anyhow::Result<Vec<f64>>> = futures::stream::iter(0..n)
        .map(|i| {
            let client = client.clone();
            let base = base.clone();
            let tokens = Arc::clone(&tokens);
            async move {
                let mut lat = Vec::with_capacity(TRANSITIONS);
                let t = Instant::now();
                let receipt: serde_json::Value = client
                    .post(format!("{base}/api/v1/applications"))
                    .json(&serde_json::json!({ "item_id": item_id, "applicant": { "name": format!("申请人{i}"), "phone": "13800000000" }, "form": {} }))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                let id = receipt["case_id"].as_i64().context("case id")?;
                let steps: [(usize, serde_json::Value); 6] = [
                    (0, serde_json::json!({ "action": "accept", "opinion": "予以受理" })),
                    (1, serde_json::json!({ "action": "complete_step", "opinion": "拟同意" })),
                    (2, serde_json::json!({ "action": "complete_step", "opinion": "同意" })),
                    (3, serde_json::json!({ "action": "complete_step", "opinion": "同意" })),
                    (3, serde_json::json!({ "action": "decide", "outcome": "approve", "opinion": "准予许可" })),
                    (0, serde_json::json!({ "action": "deliver", "method": "电子送达" })),
                ];
                for (who, body) in steps {
                    let t = Instant::now();
                    client
                        .post(format!("{base}/api/v1/cases/{id}/actions"))
                        .bearer_auth(&tokens[who])
                        .json(&body)
                        .send()
                        .await?
                        .error_for_status()?;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(lat)
            }
        })
        .buffer_unordered(clients.max(1))
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    server.abort();
    let mut all = Vec::new();
    for l in latencies {
        all.extend(l?);
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok((seconds, pct(0.5), pct(0.99)))
}
