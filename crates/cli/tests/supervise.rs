//! Electronic supervision as an operator sees it: `onewindow supervise` at a
//! later moment issues each card once; two `serve` processes on one
//! PostgreSQL database issue each card once, with one notice per person and
//! one webhook message per card, delivered; a server killed with SIGKILL in
//! the middle of its work loses and duplicates nothing; two servers started
//! at the same moment on one PostgreSQL database both start.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onewindow_store::{Store, StoreOptions};
use sqlx::{AnyConnection, Connection, Executor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_onewindow");
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

// ---------------------------------------------------------------------------
// Running the binary.

/// What a finished command left behind.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn assert_success(&self, what: &str) {
        assert_eq!(self.code, Some(0), "{what} failed: {}", self.describe());
    }
}

/// The binary, run in `cwd`, with none of the operator's environment settings.
fn command(cwd: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(cwd)
        .env_remove("ONEWINDOW_DATABASE_URL")
        .env_remove("ONEWINDOW_REGION_CODE")
        .env_remove("ONEWINDOW_LISTEN")
        .env_remove("ONEWINDOW_MAX_UPLOAD_MB")
        .env_remove("ONEWINDOW_ALERTS")
        .env_remove("ONEWINDOW_TICK_SECONDS")
        .env_remove("ONEWINDOW_LOG")
        .stdin(Stdio::null());
    c
}

fn run(cwd: &Path, args: &[&str]) -> Run {
    let output = command(cwd)
        .args(args)
        .output()
        .expect("the onewindow binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn sqlite_url(db: &Path) -> String {
    format!("sqlite:{}", db.display())
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// `onewindow demo --no-serve` into the SQLite file `db`.
fn demo_file(cwd: &Path, db: &Path, cases: usize, seed: u64) {
    run(
        cwd,
        &[
            "demo",
            "--no-serve",
            "--cases",
            &cases.to_string(),
            "--seed",
            &seed.to_string(),
            "--file",
            path_str(db),
        ],
    )
    .assert_success("the demo");
}

/// `onewindow supervise` on `url`, with extra arguments.
fn supervise(cwd: &Path, url: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--database-url", url, "supervise"];
    args.extend_from_slice(extra);
    run(cwd, &args)
}

/// The figures of the line `supervise` prints:
/// `监察日 2027-01-10：检查期限13个，发出预警5个、黄牌5张、红牌3张；站内消息28条，待发外部消息0条。`
#[derive(Debug, Clone, PartialEq, Eq)]
struct TickLine {
    day: String,
    examined: i64,
    warnings: i64,
    yellow: i64,
    red: i64,
    notices: i64,
    messages: i64,
}

impl TickLine {
    fn issued(&self) -> i64 {
        self.warnings + self.yellow + self.red
    }
}

/// The number written right after `label` in `line`.
fn number_after(line: &str, label: &str) -> Option<i64> {
    let rest = &line[line.find(label)? + label.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn tick_line(out: &str) -> TickLine {
    let line = out
        .lines()
        .find(|l| l.starts_with("监察日 "))
        .unwrap_or_else(|| panic!("supervise prints its 监察日 line: {out:?}"));
    let field = |label: &str| {
        number_after(line, label).unwrap_or_else(|| panic!("no count after {label} in {line:?}"))
    };
    let day = line
        .trim_start_matches("监察日 ")
        .split('：')
        .next()
        .unwrap_or_default()
        .to_string();
    let parsed = TickLine {
        day,
        examined: field("检查期限"),
        warnings: field("发出预警"),
        yellow: field("黄牌"),
        red: field("红牌"),
        notices: field("站内消息"),
        messages: field("待发外部消息"),
    };
    assert!(
        line.ends_with('。'),
        "the line is one finished Chinese sentence: {line:?}"
    );
    parsed
}

// ---------------------------------------------------------------------------
// Reading the database.

async fn open_store(url: &str) -> Store {
    Store::connect(&StoreOptions::new(url))
        .await
        .unwrap_or_else(|e| panic!("the database {url} opens: {e}"))
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn execute(store: &Store, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Today in the county (UTC+8).
fn county_today() -> jiff::civil::Date {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(8))
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// (warnings, yellow cards, red cards).
async fn cards_by_level(store: &Store) -> (i64, i64, i64) {
    (
        count(store, "SELECT COUNT(*) FROM cards WHERE level = 'warning'").await,
        count(store, "SELECT COUNT(*) FROM cards WHERE level = 'yellow'").await,
        count(store, "SELECT COUNT(*) FROM cards WHERE level = 'red'").await,
    )
}

/// Takes back every card the demo's history issued and moves every open
/// deadline's next check back to its start, with its due day long past: the
/// next tick has a card to issue for every open deadline.
///
/// First the shipped holiday data is adopted, as `serve` does when it first
/// starts on a database (the demo does not): otherwise the servers started
/// next would recompute every open deadline and put the due days back.
async fn rewind_supervision(store: &Store) {
    store
        .adopt_shipped_calendar(jiff::Timestamp::now())
        .await
        .expect("the shipped holiday data is adopted");
    // Schedules are shared by every deadline of the same start and limit:
    // those starting today are left alone, since the rectification periods
    // of the cards issued today will join them.
    let long_past = format!(
        "UPDATE deadline_schedules SET due_on = '2026-01-05' \
         WHERE start_on < '{}' AND id IN \
         (SELECT schedule_id FROM object_deadlines WHERE state = 'running')",
        county_today()
    );
    for sql in [
        "DELETE FROM notices",
        "DELETE FROM outbox",
        "DELETE FROM card_events",
        "DELETE FROM accountability",
        "DELETE FROM object_deadlines WHERE object_kind = 'card_rectification'",
        "DELETE FROM cards",
        "UPDATE object_deadlines SET next_check_on = \
         (SELECT s.start_on FROM deadline_schedules s WHERE s.id = object_deadlines.schedule_id) \
         WHERE state = 'running'",
        &long_past,
    ] {
        execute(store, sql).await;
    }
    assert_eq!(count(store, "SELECT COUNT(*) FROM cards").await, 0);
    let open = count(
        store,
        "SELECT COUNT(*) FROM object_deadlines WHERE state = 'running'",
    )
    .await;
    assert!(open > 0, "the demo left open deadlines to supervise");
}

/// The cards the tick must issue at most once, and the alerts of each.
struct Tally {
    cards: i64,
    distinct_conditions: i64,
    notices: i64,
    /// (card, staff) pairs with more than one notice.
    repeated_notices: Vec<(i64, i64, i64)>,
    /// Cards whose number of webhook messages is not one: (card, messages).
    webhook_not_once: Vec<(i64, i64)>,
    /// Cards without any in-app notice: (card, condition, level).
    unnoticed: Vec<(i64, String, String)>,
    outbox_by_state: HashMap<String, i64>,
}

async fn tally(store: &Store) -> Tally {
    let repeated_notices = sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT card_id, staff_id, COUNT(*) FROM notices \
         GROUP BY card_id, staff_id HAVING COUNT(*) > 1 ORDER BY card_id, staff_id",
    )
    .fetch_all(store.pool())
    .await
    .expect("notices are readable");
    let webhook_not_once = sqlx::query_as::<_, (i64, i64)>(
        "SELECT k.id, (SELECT COUNT(*) FROM outbox o WHERE o.card_id = k.id AND o.channel = 'webhook') \
         FROM cards k WHERE (SELECT COUNT(*) FROM outbox o WHERE o.card_id = k.id \
         AND o.channel = 'webhook') <> 1 ORDER BY k.id",
    )
    .fetch_all(store.pool())
    .await
    .expect("the outbox is readable");
    let unnoticed = sqlx::query_as::<_, (i64, String, String)>(
        "SELECT k.id, k.condition, k.level FROM cards k \
         WHERE NOT EXISTS (SELECT 1 FROM notices n WHERE n.card_id = k.id) ORDER BY k.id",
    )
    .fetch_all(store.pool())
    .await
    .expect("cards are readable");
    let outbox_by_state =
        sqlx::query_as::<_, (String, i64)>("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            .fetch_all(store.pool())
            .await
            .expect("the outbox is readable")
            .into_iter()
            .collect();
    Tally {
        cards: count(store, "SELECT COUNT(*) FROM cards").await,
        distinct_conditions: count(
            store,
            "SELECT COUNT(*) FROM (SELECT DISTINCT subject_kind, subject_id, condition FROM cards) t",
        )
        .await,
        notices: count(store, "SELECT COUNT(*) FROM notices").await,
        repeated_notices,
        webhook_not_once,
        unnoticed,
        outbox_by_state,
    }
}

impl Tally {
    fn outbox(&self, state: &str) -> i64 {
        self.outbox_by_state.get(state).copied().unwrap_or(0)
    }

    /// What holds however many ticks ran, on however many nodes, killed or
    /// not (apart from notices reaching someone: see `assert_everyone_told`).
    fn assert_each_card_once(&self, what: &str) {
        assert!(self.cards > 0, "{what}: no card was issued");
        assert_eq!(
            self.cards, self.distinct_conditions,
            "{what}: a subject was carded twice for one condition"
        );
        assert!(
            self.repeated_notices.is_empty(),
            "{what}: (card, staff, notices) told more than once: {:?}",
            self.repeated_notices
        );
        assert!(
            self.webhook_not_once.is_empty(),
            "{what}: (card, webhook messages) not exactly one each: {:?}",
            self.webhook_not_once
        );
    }

    fn assert_everyone_told(&self, what: &str) {
        assert!(
            self.unnoticed.is_empty(),
            "{what}: {} of {} cards notified nobody in the system (card id, condition, level): {:?}",
            self.unnoticed.len(),
            self.cards,
            self.unnoticed
        );
    }
}

/// The monotonic-enough wall clock in microseconds, as the outbox stores it.
fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

// ---------------------------------------------------------------------------
// Servers and a webhook receiver.

/// A running `onewindow serve`, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `serve` on a free port of 127.0.0.1, its log in `log`; returns
    /// once it printed its address.
    fn start(cwd: &Path, url: &str, alerts: &Path, log: PathBuf) -> Server {
        Self::try_start(cwd, url, alerts, log).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As `start`, or why the server printed no address (its log).
    fn try_start(cwd: &Path, url: &str, alerts: &Path, log: PathBuf) -> Result<Server, String> {
        let mut child = Self::spawn(cwd, url, alerts, &log);
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.base.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => {
                    // Gone or stuck: its exit status and log say why.
                    server.kill();
                    return Err(format!(
                        "the server printed no address ({e}; {:?}); log:\n{}",
                        server.child.try_wait(),
                        server.log_tail()
                    ));
                }
            };
            if let Some(rest) = line.split("http://").nth(1) {
                let address = rest.split('/').next().unwrap();
                server.base = format!("http://{address}");
            }
        }
        Ok(server)
    }

    /// Starts `serve` without waiting for it.
    fn spawn(cwd: &Path, url: &str, alerts: &Path, log: &Path) -> Child {
        let log_file = std::fs::File::create(log).expect("a log file");
        command(cwd)
            .args([
                "--database-url",
                url,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--tick-seconds",
                "1",
                "--alerts",
                path_str(alerts),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("the server starts")
    }

    fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A child process killed (SIGKILL) when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Log lines of `log` containing `needle`.
fn log_lines(log: &Path, needle: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

fn write_alerts(dir: &Path, hook: SocketAddr) -> PathBuf {
    let path = dir.join("alerts.json");
    let config = serde_json::json!({
        "webhook": { "url": format!("http://{hook}/hook"), "secret": "s3cret" }
    });
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// What the webhook receiver got: each post's message id and the card id of
/// its payload, in order of arrival.
#[derive(Default)]
struct Received {
    posts: Vec<(String, Option<i64>)>,
    problems: Vec<String>,
}

/// A webhook receiver on 127.0.0.1: minimal HTTP/1.1 with keep-alive,
/// answering every post 200.
struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Received>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the receiver listens");
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let shared = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(stream, shared.clone()));
            }
        });
        Receiver {
            address,
            received,
            task,
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the requests of one connection.
async fn answer(mut stream: tokio::net::TcpStream, received: Arc<Mutex<Received>>) {
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read_buf(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let header = |name: &str| {
            head.lines().skip(1).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            match stream.read_buf(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        {
            let mut received = received.lock().unwrap();
            match header("x-onewindow-message-id") {
                None => received
                    .problems
                    .push(format!("a request without X-Onewindow-Message-Id: {head}")),
                Some(id) => {
                    let card = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["payload"]["card_id"].as_i64());
                    if card.is_none() {
                        received.problems.push(format!(
                            "{id}: a body without payload.card_id: {}",
                            String::from_utf8_lossy(&body)
                        ));
                    }
                    received.posts.push((id, card));
                }
            }
        }
        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
        if stream.write_all(reply).await.is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL: a fresh database per test, dropped after it.

/// The PostgreSQL admin URL when the server answers; None (after a notice)
/// when it does not, or a panic with `TEST_REQUIRE_POSTGRES=1`.
async fn postgres_admin_url() -> Option<String> {
    sqlx::any::install_default_drivers();
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_string());
    let attempt = tokio::time::timeout(Duration::from_secs(5), AnyConnection::connect(&url)).await;
    let problem = match attempt {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            return Some(url);
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 5 s".to_string(),
    };
    if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("PostgreSQL not reachable at {url} ({problem}) and TEST_REQUIRE_POSTGRES=1");
    }
    eprintln!("PostgreSQL not reachable at {url} ({problem}): skipping the PostgreSQL test");
    None
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let mut out = match base[authority_start..].find('/') {
        Some(slash) => format!("{}/{database}", &base[..authority_start + slash]),
        None => format!("{base}/{database}"),
    };
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A database created for one test; dropped with this value.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> PgDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("ow_cli_supervise_{}_{nanos}", std::process::id());
        let mut admin = AnyConnection::connect(admin_url)
            .await
            .expect("connect to the PostgreSQL admin database");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        PgDatabase {
            admin_url: admin_url.to_string(),
            name,
        }
    }

    fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop cannot await: a thread with its own runtime. WITH (FORCE)
        // ends the connections of servers or pools still open.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async {
                match AnyConnection::connect(&admin_url).await {
                    Ok(mut admin) => {
                        if let Err(e) = admin
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await
                        {
                            eprintln!("could not drop test database {name}: {e}");
                        }
                        let _ = admin.close().await;
                    }
                    Err(e) => eprintln!("could not drop test database {name}: {e}"),
                }
            });
        })
        .join();
    }
}

// ---------------------------------------------------------------------------
// 1. onewindow supervise --now: a later day, once

#[tokio::test(flavor = "multi_thread")]
async fn supervise_at_a_later_moment_cards_the_open_cases_once_and_a_bad_now_exits_2() {
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    demo_file(dir.path(), &db, 300, 7);
    let url = sqlite_url(&db);

    let store = open_store(&url).await;
    let before = cards_by_level(&store).await;
    let cards_before = count(&store, "SELECT COUNT(*) FROM cards").await;
    let last_card_before = count(&store, "SELECT COALESCE(MAX(id), 0) FROM cards").await;
    store.close().await;

    // About 40 days on, 09:00 in the county (UTC+8).
    let day = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(8 + 40 * 24))
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let later = format!("{day}T09:00:00+08:00");
    let first = supervise(dir.path(), &url, &["--now", &later]);
    first.assert_success("supervise --now");
    let line = tick_line(&first.stdout);
    eprintln!("first tick at {later}: {line:?}");
    assert_eq!(
        line.day,
        day.to_string(),
        "the line names the day supervised"
    );
    assert!(line.examined > 0, "deadlines were checked: {line:?}");
    assert!(
        line.yellow + line.red > 0,
        "40 days on, open cases are overdue and earn yellow or red cards: {line:?}"
    );
    assert!(
        line.notices > 0,
        "the cards came with in-app notices: {line:?}"
    );
    assert_eq!(
        line.messages, 0,
        "no alert channel is configured, so no external message waits: {line:?}"
    );

    let store = open_store(&url).await;
    let after = cards_by_level(&store).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (line.warnings, line.yellow, line.red),
        "the cards table gained what the line says (warning, yellow, red)"
    );
    // The new yellow and red cards are about cases still open.
    let new_cards = sqlx::query_as::<_, (i64, String, String, Option<String>)>(
        "SELECT k.id, k.level, k.subject_kind, c.state FROM cards k \
         LEFT JOIN cases c ON c.id = k.case_id \
         WHERE k.id > $1 AND k.level IN ('yellow', 'red') ORDER BY k.id",
    )
    .bind(last_card_before)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(new_cards.len() as i64, line.yellow + line.red);
    for (id, level, kind, state) in &new_cards {
        let closed = ["completed", "rejected", "withdrawn", "terminated"];
        match state {
            Some(state) => assert!(
                !closed.contains(&state.as_str()),
                "card {id} ({level}, {kind}) is about a case already {state}"
            ),
            None => assert_eq!(kind, "card", "card {id} ({level}) names no case"),
        }
    }
    let new_notices = count(
        &store,
        &format!("SELECT COUNT(*) FROM notices WHERE card_id > {last_card_before}"),
    )
    .await;
    assert_eq!(
        new_notices, line.notices,
        "the notices written are those counted"
    );
    let cards_after_first = count(&store, "SELECT COUNT(*) FROM cards").await;
    assert_eq!(cards_after_first - cards_before, line.issued());
    store.close().await;

    // The same moment again: everything is already issued.
    let second = supervise(dir.path(), &url, &["--now", &later]);
    second.assert_success("supervise --now, again");
    let again = tick_line(&second.stdout);
    eprintln!("second tick at {later}: {again:?}");
    assert_eq!(
        (again.issued(), again.notices, again.messages),
        (0, 0, 0),
        "a repeated tick issues nothing: {}",
        second.stdout
    );
    let store = open_store(&url).await;
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM cards").await,
        cards_after_first,
        "a repeated tick adds no card"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM (SELECT DISTINCT subject_kind, subject_id, condition FROM cards) t"
        )
        .await,
        cards_after_first,
        "no subject carded twice for a condition"
    );
    store.close().await;

    // A --now that is not an RFC 3339 moment.
    for bad in ["2027-01-1", "明天", "2027-01-10"] {
        let refused = supervise(dir.path(), &url, &["--now", bad]);
        assert_eq!(
            refused.code,
            Some(2),
            "--now {bad:?} exits 2: {}",
            refused.describe()
        );
        assert!(
            refused.stderr.contains("--now")
                && refused.stderr.contains("RFC 3339")
                && refused.stderr.contains("错误"),
            "--now {bad:?} is refused in Chinese naming --now: {}",
            refused.describe()
        );
        assert!(
            !refused.stdout.contains("监察日"),
            "a refused --now runs no tick: {}",
            refused.describe()
        );
    }
    let store = open_store(&url).await;
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM cards").await,
        cards_after_first,
        "a refused --now changed nothing"
    );
    store.close().await;
    eprintln!("test 1 took {:?}", began.elapsed());
}

// ---------------------------------------------------------------------------
// 2. Two servers, one PostgreSQL database

/// Polls until cards stop growing (unchanged for `quiet`) and no message is
/// pending; returns the last tally.
async fn wait_until_settled(
    store: &Store,
    quiet: Duration,
    timeout: Duration,
    done: impl Fn(&Tally) -> bool,
    describe: impl Fn() -> String,
) -> Tally {
    let deadline = Instant::now() + timeout;
    let mut last_cards = -1;
    let mut since = Instant::now();
    loop {
        let t = tally(store).await;
        if t.cards != last_cards {
            last_cards = t.cards;
            since = Instant::now();
        }
        if t.cards > 0 && since.elapsed() >= quiet && done(&t) {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "not settled within {timeout:?}: {} cards, outbox {:?}\n{}",
            t.cards,
            t.outbox_by_state,
            describe()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_postgresql_database_issue_and_deliver_each_card_once() {
    let began = Instant::now();
    let Some(admin_url) = postgres_admin_url().await else {
        return;
    };
    let database = PgDatabase::create(&admin_url).await;
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "--database-url",
            &url,
            "demo",
            "--no-serve",
            "--cases",
            "300",
            "--seed",
            "7",
        ],
    )
    .assert_success("the demo into PostgreSQL");
    assert!(
        !dir.path().join("onewindow-demo.db").exists(),
        "with --database-url the demo wrote no SQLite file"
    );
    let store = open_store(&url).await;
    rewind_supervision(&store).await;

    let receiver = Receiver::start().await;
    let alerts = write_alerts(dir.path(), receiver.address);
    // Both started before either is waited for, so their first ticks overlap.
    let (a_log, b_log) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let (cwd, url_a, alerts_a, log_a) = (
        dir.path().to_path_buf(),
        url.clone(),
        alerts.clone(),
        a_log.clone(),
    );
    let a = std::thread::spawn(move || Server::start(&cwd, &url_a, &alerts_a, log_a));
    let b = Server::start(dir.path(), &url, &alerts, b_log.clone());
    let a = a.join().expect("server A starts");
    assert_ne!(a.base, b.base, "two servers, two ports");
    eprintln!("servers at {} and {}", a.base, b.base);

    let settled = wait_until_settled(
        &store,
        Duration::from_millis(3_000),
        Duration::from_secs(60),
        |t| t.outbox("pending") == 0 && t.outbox("sent") >= t.cards,
        || format!("A:\n{}\nB:\n{}", a.log_tail(), b.log_tail()),
    )
    .await;
    eprintln!(
        "settled after {:?}: {} cards, {} notices, outbox {:?}",
        began.elapsed(),
        settled.cards,
        settled.notices,
        settled.outbox_by_state
    );
    settled.assert_each_card_once("two servers");
    assert_eq!(
        settled.outbox("sent"),
        settled.cards,
        "every webhook message was delivered: outbox {:?}",
        settled.outbox_by_state
    );
    assert_eq!(
        settled.outbox_by_state.values().sum::<i64>(),
        settled.cards,
        "the outbox holds one webhook message per card and nothing else: {:?}",
        settled.outbox_by_state
    );
    // Each card's notices go to distinct people.
    let per_card = sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT card_id, COUNT(*), COUNT(DISTINCT staff_id) FROM notices \
         GROUP BY card_id HAVING COUNT(*) <> COUNT(DISTINCT staff_id)",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(
        per_card.is_empty(),
        "(card, notices, distinct staff) with a person told twice: {per_card:?}"
    );
    let by_level = sqlx::query_as::<_, (String, i64)>(
        "SELECT level, COUNT(*) FROM cards GROUP BY level ORDER BY level",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    eprintln!("cards by level: {by_level:?}");

    // What the receiver got: every message at least once, nothing else.
    let outbox = sqlx::query_as::<_, (String, i64)>(
        "SELECT message_id, card_id FROM outbox WHERE channel = 'webhook' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let expected: HashMap<String, i64> = outbox.into_iter().collect();
    let (posts, problems) = {
        let received = receiver.received.lock().unwrap();
        (received.posts.clone(), received.problems.clone())
    };
    assert!(problems.is_empty(), "malformed webhook posts: {problems:?}");
    let mut times: HashMap<&str, usize> = HashMap::new();
    for (id, card) in &posts {
        *times.entry(id.as_str()).or_default() += 1;
        let Some(expected_card) = expected.get(id) else {
            panic!("the receiver got {id}, which is no message of the outbox");
        };
        assert_eq!(
            card.as_ref(),
            Some(expected_card),
            "{id} carries its own card id"
        );
    }
    let missing: Vec<&String> = expected
        .keys()
        .filter(|id| !times.contains_key(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} messages marked sent never reached the receiver: {missing:?}",
        missing.len()
    );
    let mut repeats: Vec<(&str, usize)> = times.into_iter().filter(|(_, n)| *n > 1).collect();
    repeats.sort();
    eprintln!(
        "the receiver got {} posts for {} messages; delivered more than once: {} {:?}",
        posts.len(),
        expected.len(),
        repeats.len(),
        repeats
    );
    let failed_ticks =
        log_lines(&a_log, "supervision tick failed") + log_lines(&b_log, "supervision tick failed");
    eprintln!("supervision ticks that failed and were retried: {failed_ticks}");

    drop(a);
    drop(b);
    store.close().await;
    drop(database);
    eprintln!("test 2 took {:?}", began.elapsed());
}

// ---------------------------------------------------------------------------
// 3. SIGKILL in the middle of the work

/// When a round of the kill test sends SIGKILL.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// As soon as the server prints its address: its first tick is under way.
    Listening,
    /// As soon as the first cards are committed: the sender is about to work.
    CardsWritten,
    /// As soon as the sender has claimed messages: it is sending them.
    Sending,
    /// After this long (all the work is usually done by then).
    After(Duration),
}

/// Every card by (subject kind, subject id, condition), with the staff its
/// notices went to.
async fn cards_and_readers(store: &Store) -> HashMap<(String, i64, String), Vec<i64>> {
    let rows = sqlx::query_as::<_, (String, i64, String, Option<i64>)>(
        "SELECT k.subject_kind, k.subject_id, k.condition, n.staff_id FROM cards k \
         LEFT JOIN notices n ON n.card_id = k.id ORDER BY k.id, n.staff_id",
    )
    .fetch_all(store.pool())
    .await
    .expect("cards and notices are readable");
    let mut out: HashMap<(String, i64, String), Vec<i64>> = HashMap::new();
    for (kind, subject, condition, staff) in rows {
        let readers = out.entry((kind, subject, condition)).or_default();
        readers.extend(staff);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_during_supervision_loses_and_repeats_nothing() {
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    demo_file(dir.path(), &db, 1000, 7);
    let url = sqlite_url(&db);
    let store = open_store(&url).await;

    // A webhook nobody answers: a port bound, then let go.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = gone.local_addr().unwrap();
    drop(gone);
    let alerts = write_alerts(dir.path(), hook);

    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 500;
    let rounds = [
        KillAt::Listening,
        KillAt::CardsWritten,
        KillAt::Sending,
        KillAt::After(Duration::from_millis(300 + u64::from(jitter))),
    ];
    // What each round ended with: the same day's supervision, however it
    // was interrupted, issues the same cards to the same people.
    let mut outcomes = Vec::new();
    for (round, kill_at) in rounds.into_iter().enumerate() {
        rewind_supervision(&store).await;
        let log = dir.path().join(format!("killed{round}.log"));
        let started = Instant::now();
        match kill_at {
            KillAt::Listening => {
                let mut first = Server::start(dir.path(), &url, &alerts, log);
                first.kill();
            }
            KillAt::CardsWritten | KillAt::Sending | KillAt::After(_) => {
                let mut first = KillOnDrop(Server::spawn(dir.path(), &url, &alerts, &log));
                let until = match kill_at {
                    KillAt::CardsWritten => "SELECT COUNT(*) FROM cards",
                    KillAt::Sending => "SELECT COUNT(*) FROM outbox WHERE attempts > 0",
                    _ => "",
                };
                if let KillAt::After(pause) = kill_at {
                    tokio::time::sleep(pause).await;
                } else {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    while count(&store, until).await == 0 {
                        assert!(
                            Instant::now() < deadline,
                            "round {round}: the server never got to {kill_at:?}; log:\n{}",
                            log_tail(&log)
                        );
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                first.0.kill().expect("SIGKILL");
                first.0.wait().unwrap();
            }
        }
        let killed_after = started.elapsed();
        let at_kill = cards_and_readers(&store).await;
        let attempted = count(&store, "SELECT COUNT(*) FROM outbox WHERE attempts > 0").await;
        let recorded = count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE last_error IS NOT NULL",
        )
        .await;
        eprintln!(
            "round {round}: killed ({kill_at:?}) after {killed_after:?} with {} cards, \
             {attempted} messages attempted, {recorded} failures recorded",
            at_kill.len()
        );

        // Again, on the same file, until the cards stop growing and every
        // message was tried: each has its failure recorded, or is still
        // leased to the killed server, which took it but could not record
        // the outcome (its lease runs out later).
        let mut second = Server::start(
            dir.path(),
            &url,
            &alerts,
            dir.path().join(format!("restarted{round}.log")),
        );
        let settled = wait_until_settled(
            &store,
            Duration::from_millis(2_500),
            Duration::from_secs(60),
            |t| t.outbox("pending") == t.cards,
            || second.log_tail(),
        )
        .await;
        let untried_sql = |now: i64| {
            format!(
                "SELECT COUNT(*) FROM outbox WHERE attempts < 1 \
                 OR (last_error IS NULL AND (lease_until IS NULL OR lease_until <= {now}))"
            )
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&store, &untried_sql(now_micros())).await > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let untried = count(&store, &untried_sql(now_micros())).await;
        let leased = count(
            &store,
            &format!(
                "SELECT COUNT(*) FROM outbox WHERE last_error IS NULL AND lease_until > {}",
                now_micros()
            ),
        )
        .await;
        let after = tally(&store).await;
        eprintln!(
            "round {round}: after the restart {} cards, {} notices, outbox {:?}, \
             {leased} messages still leased to the killed server",
            after.cards, after.notices, after.outbox_by_state
        );
        assert_eq!(after.cards, settled.cards, "no card issued after settling");
        assert_eq!(
            untried,
            0,
            "round {round}: messages neither tried with their failure recorded nor leased; log:\n{}",
            second.log_tail()
        );
        after.assert_each_card_once(&format!("round {round}, killed and restarted"));
        assert_eq!(
            after.outbox("pending"),
            after.cards,
            "round {round}: an unreachable webhook leaves every message pending, \
             none sent or given up: {:?}",
            after.outbox_by_state
        );
        assert_eq!(
            count(
                &store,
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL OR state <> 'pending'",
            )
            .await,
            0,
            "round {round}: nothing was marked delivered"
        );
        let outcome = cards_and_readers(&store).await;
        for (card, readers) in &at_kill {
            assert_eq!(
                outcome.get(card),
                Some(readers),
                "round {round}: a card committed before the kill, with its notices, survives as it was"
            );
        }
        second.kill();
        outcomes.push(outcome);
    }
    for (round, outcome) in outcomes.iter().enumerate().skip(1) {
        let mut differences: Vec<_> = outcome
            .iter()
            .filter(|(card, readers)| outcomes[0].get(*card) != Some(*readers))
            .map(|(card, readers)| (card.clone(), readers.clone(), outcomes[0].get(card)))
            .collect();
        differences.sort();
        let missing: Vec<_> = outcomes[0]
            .keys()
            .filter(|card| !outcome.contains_key(*card))
            .collect();
        assert!(
            differences.is_empty() && missing.is_empty(),
            "rounds 0 and {round} issued different cards or told different people: \
             (card, readers in round {round}, readers in round 0) {differences:?}; \
             missing in round {round}: {missing:?}"
        );
    }

    // One more tick by hand: nothing left to issue.
    let before = tally(&store).await;
    let again = supervise(dir.path(), &url, &["--alerts", path_str(&alerts)]);
    again.assert_success("supervise after the restart");
    let line = tick_line(&again.stdout);
    eprintln!("supervise after the restarts: {line:?}");
    assert_eq!(
        (line.issued(), line.notices, line.messages),
        (0, 0, 0),
        "the tick after the restart issues nothing: {}",
        again.stdout
    );
    let last = tally(&store).await;
    assert_eq!(last.cards, before.cards);
    assert_eq!(last.notices, before.notices);
    last.assert_each_card_once("after supervise");

    // Every card reached someone in the system (checked last, so that a
    // failure here leaves everything above verified).
    last.assert_everyone_told("killed and restarted");
    store.close().await;
    eprintln!("test 3 took {:?}", began.elapsed());
}

// ---------------------------------------------------------------------------
// 4. Two servers started at the same moment

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_started_at_the_same_moment_on_one_postgresql_database_both_start() {
    let began = Instant::now();
    let Some(admin_url) = postgres_admin_url().await else {
        return;
    };
    let database = PgDatabase::create(&admin_url).await;
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "--database-url",
            &url,
            "demo",
            "--no-serve",
            "--cases",
            "20",
            "--seed",
            "7",
        ],
    )
    .assert_success("the demo into PostgreSQL");
    let alerts = dir.path().join("alerts.json");
    std::fs::write(&alerts, "{}").unwrap();

    // The database has not seen this binary's holiday data (the demo does
    // not record it), so each server adopts it as it starts: a roll-out of
    // a new version to every node. To make the two starts meet, a
    // transaction of the test holds the calendar generation counter, which
    // adopting the data updates, until both servers wait for it.
    let mut gate = AnyConnection::connect(&url).await.unwrap();
    let mut gate_tx = gate.begin().await.unwrap();
    gate_tx
        .execute(
            "INSERT INTO counters (name, value) VALUES ('calendar_generation', 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value",
        )
        .await
        .unwrap();
    let start = |name: &str| {
        let (cwd, url, alerts) = (dir.path().to_path_buf(), url.clone(), alerts.clone());
        let log = dir.path().join(format!("{name}.log"));
        std::thread::spawn(move || Server::try_start(&cwd, &url, &alerts, log))
    };
    let (a, b) = (start("a"), start("b"));
    let watcher = open_store(&admin_url).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let waiting = loop {
        let waiting = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&database.name)
        .fetch_one(watcher.pool())
        .await
        .unwrap();
        if waiting >= 2 || Instant::now() > deadline {
            break waiting;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    watcher.close().await;
    gate_tx.commit().await.unwrap();
    let _ = gate.close().await;
    eprintln!("{waiting} servers met at the calendar adoption");
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let refused: Vec<String> = [("A", &a), ("B", &b)]
        .into_iter()
        .filter_map(|(name, started)| {
            started
                .as_ref()
                .err()
                .map(|e| format!("server {name}: {e}"))
        })
        .collect();
    drop((a, b));
    drop(database);
    eprintln!("test 4 took {:?}", began.elapsed());
    assert!(
        refused.is_empty(),
        "a server started beside another on the same database did not start:\n{}",
        refused.join("\n")
    );
}
