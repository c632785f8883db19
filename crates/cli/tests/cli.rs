//! The `onewindow` command as an operator runs it: the demo county, the audit
//! chain check, the catalog spreadsheet round trip, durability of a server
//! killed with SIGKILL, and the messages for bad input.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx, open_workbook};
use onewindow_store::{Store, StoreOptions};

const BIN: &str = env!("CARGO_BIN_EXE_onewindow");
const SHEETS: [&str; 5] = ["事项", "申请材料", "收费", "办理环节", "表单字段"];
const DEMO_PASSWORD: &str = "demo1234";

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

fn url(db: &Path) -> String {
    format!("sqlite:{}", db.display())
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// `onewindow demo --no-serve` into `db`, run in `cwd`.
fn demo(cwd: &Path, db: &Path, cases: usize, seed: u64) -> Run {
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
}

async fn open_store(db: &Path) -> Store {
    Store::connect(&StoreOptions::new(url(db)))
        .await
        .expect("the database opens")
}

/// Drops the triggers that keep the audit log append-only, as the owner of
/// the database file could before editing it by hand.
async fn drop_audit_guard(store: &Store) {
    for guard in ["audit_log_no_update", "audit_log_no_delete"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {guard}")))
            .execute(store.pool())
            .await
            .unwrap_or_else(|e| panic!("drop {guard}: {e}"));
    }
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn case_rows(store: &Store) -> Vec<(String, String, String)> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT c.number, i.code, c.state FROM cases c \
         JOIN service_items i ON i.id = c.item_id ORDER BY c.number",
    )
    .fetch_all(store.pool())
    .await
    .expect("the cases are readable")
}

// ---------------------------------------------------------------------------
// 1. The demo county
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_builds_a_whole_county_with_covered_posts_and_the_same_seed_builds_the_same_county()
 {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");

    let first = demo(dir.path(), &db, 300, 7);
    first.assert_success("the demo");
    let out = &first.stdout;
    assert!(
        out.contains("300个事项") && out.contains("300件办件") && out.contains("随机种子 7"),
        "the demo prints what it made: {out}"
    );
    assert!(
        out.contains(&format!("演示账号（密码均为 {DEMO_PASSWORD}）")),
        "the demo prints its log-ins and their password: {out}"
    );
    for login in [
        "admin",
        "security",
        "auditor",
        "jiancha",
        "scjgj_cka",
        "scjgj_spb",
    ] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{login} "))),
            "the log-in {login} is listed: {out}"
        );
    }
    let states = out
        .lines()
        .find_map(|l| l.strip_prefix("办件状态："))
        .unwrap_or_else(|| panic!("the demo prints the case counts by state: {out}"));
    let total: i64 = states
        .split('，')
        .map(|part| {
            let digits: String = part
                .trim_end_matches('件')
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            digits
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("a count in {part:?}"))
        })
        .sum();
    assert_eq!(total, 300, "the state counts add up to the cases: {states}");

    let store = open_store(&db).await;
    let county_departments = count(
        &store,
        "SELECT COUNT(*) FROM departments WHERE level = 'county'",
    )
    .await;
    assert!(
        county_departments >= 15,
        "{county_departments} county departments"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM service_items").await,
        300
    );
    let staff = count(&store, "SELECT COUNT(*) FROM staff").await;
    assert!(staff >= 60, "{staff} staff");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 300);

    // Every post of a county department has its A and B: each person holding a
    // working role either has a backup in the same department or is one.
    let people = sqlx::query_as::<_, (i64, String, String, i64, Option<i64>)>(
        "SELECT s.id, s.login, s.roles, s.department_id, s.backup_id FROM staff s \
         JOIN departments d ON d.id = s.department_id WHERE d.level = 'county' ORDER BY s.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let department_of: HashMap<i64, i64> = people.iter().map(|p| (p.0, p.3)).collect();
    let backups: HashSet<i64> = people.iter().filter_map(|p| p.4).collect();
    let post_roles = ["window_clerk", "handler", "reviewer", "approver"];
    let mut posts = 0;
    for (id, login, roles, department, backup) in &people {
        if !roles.split(',').any(|r| post_roles.contains(&r.trim())) {
            continue;
        }
        posts += 1;
        match backup {
            Some(b) => assert_eq!(
                department_of.get(b),
                Some(department),
                "{login}'s backup works in the same department"
            ),
            None => assert!(
                backups.contains(id),
                "{login} ({roles}) of a county department has no backup and backs up nobody"
            ),
        }
    }
    assert!(posts >= 40, "{posts} post holders in county departments");
    let first_cases = case_rows(&store).await;
    assert_eq!(first_cases.len(), 300);
    store.close().await;

    // Again with the same seed, into the same file (which the demo replaces).
    let second = demo(dir.path(), &db, 300, 7);
    second.assert_success("the second demo");
    assert_eq!(
        second.stdout, first.stdout,
        "the same seed prints the same county"
    );
    let store = open_store(&db).await;
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM cases").await,
        300,
        "the file was replaced, not added to"
    );
    let second_cases = case_rows(&store).await;
    store.close().await;
    assert!(
        first_cases == second_cases,
        "the same seed gives the same case numbers, items and states; first difference: {:?}",
        first_cases.iter().zip(&second_cases).find(|(a, b)| a != b)
    );
    assert!(
        !dir.path().join("onewindow.db").exists(),
        "the demo wrote only the file it was given"
    );
}

// ---------------------------------------------------------------------------
// 2. The audit chain
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_passes_an_untouched_chain_and_names_the_entry_that_was_edited_or_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db");
    demo(dir.path(), &db, 20, 3).assert_success("the demo");

    let verify = |db: &Path| run(dir.path(), &["audit", "verify", "--database-url", &url(db)]);
    let intact = verify(&db);
    intact.assert_success("audit verify of an untouched database");
    assert!(
        intact.stdout.contains("审计日志完整") && intact.stdout.contains("校验通过"),
        "audit verify says the chain is intact: {}",
        intact.describe()
    );

    let store = open_store(&db).await;
    let last = count(&store, "SELECT MAX(seq) FROM audit_log").await;
    assert!(last > 100, "the demo wrote {last} audit entries");
    assert!(
        intact.stdout.contains(&format!("共{last}条记录")),
        "audit verify counts the entries: {}",
        intact.stdout
    );
    let copy = dir.path().join("copy.db");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "VACUUM INTO '{}'",
        copy.display()
    )))
    .execute(store.pool())
    .await
    .expect("a copy of the database");
    let edited = last / 2;
    drop_audit_guard(&store).await;
    let changed = sqlx::query("UPDATE audit_log SET detail = $1 WHERE seq = $2")
        .bind(r#"{"note":"改过的记录"}"#)
        .bind(edited)
        .execute(store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 1);
    store.close().await;

    let broken = verify(&db);
    assert_eq!(
        broken.code,
        Some(1),
        "an edited entry fails the check: {}",
        broken.describe()
    );
    assert!(
        broken.stdout.contains(&format!("第{edited}条记录")),
        "the output names entry {edited}: {}",
        broken.describe()
    );

    // The copy is intact until its last entry is deleted.
    verify(&copy).assert_success("audit verify of the copy");
    let store = open_store(&copy).await;
    drop_audit_guard(&store).await;
    let deleted = sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(last)
        .execute(store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 1);
    store.close().await;
    let truncated = verify(&copy);
    assert_eq!(
        truncated.code,
        Some(1),
        "a deleted last entry fails the check: {}",
        truncated.describe()
    );
    assert!(
        truncated.stdout.contains(&format!("第{last}条")),
        "the output names the missing entry {last}: {}",
        truncated.describe()
    );
}

// ---------------------------------------------------------------------------
// 3. The catalog spreadsheet
// ---------------------------------------------------------------------------

/// A sheet's non-empty cells, by absolute (row, column).
type Cells = Vec<((u32, u32), Data)>;

fn read_book(path: &Path) -> Vec<(String, Cells)> {
    let mut book: Xlsx<_> = open_workbook(path).expect("an .xlsx workbook");
    SHEETS
        .iter()
        .map(|name| {
            let range = book
                .worksheet_range(name)
                .unwrap_or_else(|e| panic!("sheet {name}: {e}"));
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let cells = range
                .used_cells()
                .map(|(r, c, d)| ((r0 + r as u32, c0 + c as u32), d.clone()))
                .collect();
            (name.to_string(), cells)
        })
        .collect()
}

fn write_book(path: &Path, sheets: &[(String, Cells)]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, cells) in sheets {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        for ((row, col), data) in cells {
            let col = *col as u16;
            match data {
                Data::String(s) => sheet.write_string(*row, col, s).map(|_| ()),
                Data::Float(f) => sheet.write_number(*row, col, *f).map(|_| ()),
                Data::Int(i) => sheet.write_number(*row, col, *i as f64).map(|_| ()),
                Data::Bool(b) => sheet.write_boolean(*row, col, *b).map(|_| ()),
                Data::Empty => Ok(()),
                other => panic!("unexpected cell {other:?} in {name}"),
            }
            .unwrap();
        }
    }
    book.save(path).expect("the workbook is written");
}

fn cell<'a>(sheets: &'a [(String, Cells)], sheet: &str, at: (u32, u32)) -> Option<&'a Data> {
    sheets
        .iter()
        .find(|(name, _)| name == sheet)
        .and_then(|(_, cells)| cells.iter().find(|(p, _)| *p == at).map(|(_, d)| d))
}

fn set_cell(sheets: &mut [(String, Cells)], sheet: &str, at: (u32, u32), value: Data) {
    let cells = &mut sheets
        .iter_mut()
        .find(|(name, _)| name == sheet)
        .expect("the sheet")
        .1;
    match cells.iter_mut().find(|(p, _)| *p == at) {
        Some((_, d)) => *d = value,
        None => cells.push((at, value)),
    }
}

fn last_row(sheets: &[(String, Cells)], sheet: &str) -> u32 {
    sheets
        .iter()
        .find(|(name, _)| name == sheet)
        .map(|(_, cells)| cells.iter().map(|((r, _), _)| *r).max().unwrap_or(0))
        .unwrap()
}

/// Everything an import could change.
async fn catalog_state(db: &Path) -> (Vec<(String, String, String, i64, String)>, i64) {
    let store = open_store(db).await;
    let items = sqlx::query_as::<_, (String, String, String, i64, String)>(
        "SELECT code, name, status, version, guide FROM service_items ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let audit = count(&store, "SELECT seq FROM audit_head WHERE id = 1").await;
    store.close().await;
    (items, audit)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalog_exported_edited_in_one_cell_and_imported_changes_that_item_only_and_a_bad_cell_changes_nothing()
 {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.db");
    demo(dir.path(), &db, 0, 5).assert_success("the demo");
    let database = url(&db);
    let catalog = |args: &[&str]| {
        let mut all = vec!["catalog"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database-url", &database]);
        run(dir.path(), &all)
    };

    let exported = dir.path().join("c.xlsx");
    let export = catalog(&["export", path_str(&exported)]);
    export.assert_success("catalog export");
    assert!(
        export.stdout.contains("已导出300个事项"),
        "{}",
        export.describe()
    );

    let mut sheets = read_book(&exported);
    assert_eq!(
        cell(&sheets, "事项", (0, 3)),
        Some(&Data::String("事项名称".into()))
    );
    let old_name = match cell(&sheets, "事项", (1, 3)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("the first item's name cell holds {other:?}"),
    };
    let code = match cell(&sheets, "事项", (1, 1)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("the first item's code cell holds {other:?}"),
    };
    let new_name = format!("{old_name}（窗口更名）");

    // An untouched copy imports as all unchanged.
    let copied = dir.path().join("copied.xlsx");
    write_book(&copied, &sheets);
    let same = catalog(&["import", path_str(&copied)]);
    same.assert_success("catalog import of an unedited copy");
    assert!(
        same.stdout.contains("新增0个，更新0个，未变300个"),
        "an unedited catalog changes nothing: {}",
        same.describe()
    );

    set_cell(&mut sheets, "事项", (1, 3), Data::String(new_name.clone()));
    let edited = dir.path().join("edited.xlsx");
    write_book(&edited, &sheets);
    let import = catalog(&["import", path_str(&edited)]);
    import.assert_success("catalog import of the edited workbook");
    assert!(import.stdout.contains("更新1个"), "{}", import.describe());
    assert!(
        import.stdout.contains("新增0个，更新1个，未变299个"),
        "only the edited item changed: {}",
        import.describe()
    );

    let again = dir.path().join("again.xlsx");
    catalog(&["export", path_str(&again)]).assert_success("the second export");
    let reread = read_book(&again);
    assert_eq!(
        cell(&reread, "事项", (1, 1)),
        Some(&Data::String(code.clone()))
    );
    assert_eq!(
        cell(&reread, "事项", (1, 3)),
        Some(&Data::String(new_name.clone())),
        "the new name is exported"
    );

    // A bad cell: the import is refused whole, naming sheet, row and column.
    let before = catalog_state(&db).await;
    let mut bad = reread.clone();
    set_cell(
        &mut bad,
        "事项",
        (1, 3),
        Data::String("不该生效的名称".into()),
    );
    set_cell(&mut bad, "事项", (4, 10), Data::String("abc".into()));
    let bad_path = dir.path().join("bad.xlsx");
    write_book(&bad_path, &bad);
    let refused = catalog(&["import", path_str(&bad_path)]);
    assert_eq!(
        refused.code,
        Some(2),
        "a bad cell refuses the import: {}",
        refused.describe()
    );
    assert!(
        refused.stdout.contains("「事项」表第5行“承诺时限”列"),
        "the output names the sheet, the row and the column: {}",
        refused.describe()
    );
    assert_eq!(
        catalog_state(&db).await,
        before,
        "a refused import changed the catalog"
    );

    // A workbook the reader accepts but the store refuses (an unknown
    // department on the last row) changes nothing either, not even the rows
    // before it.
    let mut unknown = reread.clone();
    set_cell(
        &mut unknown,
        "事项",
        (1, 3),
        Data::String("不该生效的名称".into()),
    );
    let last = last_row(&unknown, "事项");
    set_cell(
        &mut unknown,
        "事项",
        (last, 0),
        Data::String("nosuch".into()),
    );
    let unknown_path = dir.path().join("unknown.xlsx");
    write_book(&unknown_path, &unknown);
    let refused = catalog(&["import", path_str(&unknown_path)]);
    assert_eq!(
        refused.code,
        Some(2),
        "an unknown department refuses the import: {}",
        refused.describe()
    );
    assert!(
        refused.stdout.contains("nosuch") && refused.stdout.contains("未作任何修改"),
        "the output names the unknown department and says nothing changed: {}",
        refused.describe()
    );
    assert_eq!(
        catalog_state(&db).await,
        before,
        "a refused import changed the catalog"
    );
}

// ---------------------------------------------------------------------------
// 4. Durability under SIGKILL
// ---------------------------------------------------------------------------

/// A running `onewindow serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(cwd: &Path, db: &Path) -> Server {
        let mut child = command(cwd)
            .args([
                "serve",
                "--database-url",
                &url(db),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
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
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.base.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("the server printed no address ({e})"));
            if let Some(rest) = line.split("http://").nth(1) {
                let address = rest.split('/').next().unwrap();
                assert!(
                    address.starts_with("127.0.0.1:"),
                    "the server listens on 127.0.0.1: {line}"
                );
                server.base = format!("http://{address}");
            }
        }
        server
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

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn log_in(client: &reqwest::Client, base: &str, login: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": login, "password": DEMO_PASSWORD }))
        .send()
        .await
        .expect("the log-in request is answered");
    assert!(
        response.status().is_success(),
        "log-in as {login}: {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().expect("a token").to_string()
}

#[derive(Default)]
struct Acknowledged {
    /// case id -> number, for every 201 to an application.
    applications: Vec<(i64, String)>,
    /// case id -> state, for every 2xx to an accept.
    acceptances: Vec<(i64, String)>,
    /// Answers that were neither 2xx nor cut off by the kill.
    refusals: Vec<String>,
}

/// A valid value for each of the item's own form fields.
fn filled_form(guide: &onewindow_core::catalog::Guide) -> serde_json::Value {
    use onewindow_core::catalog::FieldKind;
    let mut form = serde_json::Map::new();
    for f in &guide.form_fields {
        let value = match f.kind {
            FieldKind::Choice => f.options.first().cloned().unwrap_or_default(),
            FieldKind::Number => "1".into(),
            FieldKind::Date => "2026-01-05".into(),
            FieldKind::Phone => "13800138000".into(),
            FieldKind::IdNumber => "11010519491231002X".into(),
            FieldKind::Text | FieldKind::LongText => "断电测试".into(),
        };
        form.insert(f.key.clone(), value.into());
    }
    form.insert(
        onewindow_core::catalog::DESCRIPTION_KEY.into(),
        "断电测试".into(),
    );
    serde_json::Value::Object(form)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_application_and_acceptance_survives_a_sigkill_of_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.db");
    demo(dir.path(), &db, 0, 11).assert_success("the demo");
    let store = open_store(&db).await;
    let item_id = count(
        &store,
        "SELECT i.id FROM service_items i JOIN departments d ON d.id = i.department_id \
         WHERE d.code = 'scjgj' AND i.status = 'published' ORDER BY i.id LIMIT 1",
    )
    .await;
    let form = filled_form(&store.item(item_id).await.unwrap().guide);
    store.close().await;

    let mut server = Server::start(dir.path(), &db);
    let base = server.base.clone();
    let client = http();
    let token = log_in(&client, &base, "scjgj_cka").await;

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let started = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(5);
    const LIMIT: usize = 2000;
    let mut clients = Vec::new();
    for n in 0..16 {
        let (client, base, token, form) =
            (client.clone(), base.clone(), token.clone(), form.clone());
        let (acknowledged, started, killed) = (
            Arc::clone(&acknowledged),
            Arc::clone(&started),
            Arc::clone(&killed),
        );
        clients.push(tokio::spawn(async move {
            let refuse = |what: String| {
                if !killed.load(Ordering::SeqCst) {
                    acknowledged.lock().unwrap().refusals.push(what);
                }
            };
            let mut i = 0;
            while Instant::now() < deadline && started.fetch_add(1, Ordering::SeqCst) < LIMIT {
                i += 1;
                let application = serde_json::json!({
                    "item_id": item_id,
                    "applicant": { "name": format!("测试申请人{n}-{i}"), "phone": "13800138000" },
                    "form": form,
                });
                let Ok(response) = client
                    .post(format!("{base}/api/v1/applications"))
                    .json(&application)
                    .send()
                    .await
                else {
                    break; // the server is gone
                };
                let status = response.status();
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    break; // cut off by the kill
                };
                if status.as_u16() != 201 {
                    refuse(format!("application: {status} {body}"));
                    continue;
                }
                let case_id = body["case_id"].as_i64().expect("a case id");
                let number = body["number"].as_str().expect("a number").to_string();
                acknowledged
                    .lock()
                    .unwrap()
                    .applications
                    .push((case_id, number));

                if started.fetch_add(1, Ordering::SeqCst) >= LIMIT {
                    break;
                }
                let Ok(response) = client
                    .post(format!("{base}/api/v1/cases/{case_id}/actions"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "action": "accept", "opinion": "予以受理" }))
                    .send()
                    .await
                else {
                    break;
                };
                let status = response.status();
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    break;
                };
                if !status.is_success() {
                    refuse(format!("accept of case {case_id}: {status} {body}"));
                    continue;
                }
                let state = body["state"].as_str().expect("a state").to_string();
                acknowledged
                    .lock()
                    .unwrap()
                    .acceptances
                    .push((case_id, state));
            }
        }));
    }

    // Kill while the clients are busy: after 2.5 s or half the requests.
    let began = Instant::now();
    while began.elapsed() < Duration::from_millis(2500)
        && started.load(Ordering::SeqCst) < LIMIT / 2
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    killed.store(true, Ordering::SeqCst);
    server.kill();
    let killed_after = began.elapsed();
    let requests_at_kill = started.load(Ordering::SeqCst);
    for c in clients {
        c.await.expect("a client task");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    eprintln!(
        "killed after {:?} with {requests_at_kill} requests started: {} applications and {} acceptances acknowledged",
        killed_after,
        acknowledged.applications.len(),
        acknowledged.acceptances.len()
    );
    assert!(
        acknowledged.refusals.is_empty(),
        "the server refused valid requests before it was killed: {:?}",
        &acknowledged.refusals[..acknowledged.refusals.len().min(5)]
    );
    assert!(
        acknowledged.applications.len() >= 16,
        "only {} applications were acknowledged before the kill ({requests_at_kill} requests started)",
        acknowledged.applications.len()
    );
    assert!(
        !acknowledged.acceptances.is_empty(),
        "no acceptance was acknowledged before the kill"
    );

    // Reopen the database: everything acknowledged is there.
    let store = open_store(&db).await;
    for (case_id, number) in &acknowledged.applications {
        let row =
            sqlx::query_as::<_, (String, String)>("SELECT number, state FROM cases WHERE id = $1")
                .bind(*case_id)
                .fetch_optional(store.pool())
                .await
                .unwrap();
        let Some((stored_number, _)) = row else {
            panic!("the acknowledged application {number} (case {case_id}) is lost");
        };
        assert_eq!(&stored_number, number, "case {case_id} kept its number");
    }
    for (case_id, state) in &acknowledged.acceptances {
        let stored: String = sqlx::query_scalar("SELECT state FROM cases WHERE id = $1")
            .bind(*case_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_ne!(
            stored, "submitted",
            "the acknowledged acceptance of case {case_id} is lost"
        );
        assert_eq!(
            &stored, state,
            "case {case_id} is as the acceptance left it"
        );
    }
    store.close().await;

    let verify = run(
        dir.path(),
        &["audit", "verify", "--database-url", &url(&db)],
    );
    verify.assert_success("audit verify after the kill");
    assert!(
        verify.stdout.contains("审计日志完整"),
        "{}",
        verify.describe()
    );

    // And the server starts again on it and shows the last accepted case.
    let server = Server::start(dir.path(), &db);
    let token = log_in(&client, &server.base, "scjgj_cka").await;
    let (case_id, state) = acknowledged.acceptances.last().unwrap();
    let response = client
        .get(format!("{}/api/v1/cases/{case_id}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["state"].as_str(), Some(state.as_str()));
    drop(server);
}

// ---------------------------------------------------------------------------
// 5. Bad input
// ---------------------------------------------------------------------------

#[test]
fn an_unsupported_database_url_is_refused_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["migrate", "--database-url", "mysql://x"],
        vec!["audit", "verify", "--database-url", "mysql://x"],
    ] {
        let r = run(dir.path(), &args);
        assert!(
            matches!(r.code, Some(c) if c != 0),
            "{args:?} fails: {}",
            r.describe()
        );
        assert!(
            r.stderr.contains("mysql://x"),
            "{args:?}: the message names the URL: {}",
            r.describe()
        );
        assert!(
            r.stderr.contains("sqlite:") && r.stderr.contains("postgres://"),
            "{args:?}: the message says which URLs work: {}",
            r.describe()
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file is left behind"
    );
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused_with_exit_code_2_and_a_chinese_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let text = dir.path().join("目录.txt");
    std::fs::write(
        &text,
        "事项编码,事项名称\n000117001001,个体工商户设立登记\n",
    )
    .unwrap();
    let disguised: PathBuf = dir.path().join("目录.xlsx");
    std::fs::write(&disguised, "这不是一个电子表格").unwrap();
    for file in [&text, &disguised] {
        let r = run(
            dir.path(),
            &[
                "catalog",
                "import",
                path_str(file),
                "--database-url",
                &url(&db),
            ],
        );
        assert_eq!(
            r.code,
            Some(2),
            "importing {} exits 2: {}",
            file.display(),
            r.describe()
        );
        let message = format!("{}{}", r.stdout, r.stderr);
        assert!(
            message.contains("无法读取文件") && message.contains(".xlsx"),
            "the message says in Chinese that an .xlsx file is needed: {}",
            r.describe()
        );
    }
}

const ITEM_HEADERS: [&str; 21] = [
    "部门编码",
    "事项编码",
    "实施编码",
    "事项名称",
    "状态",
    "事项类型",
    "办件类型",
    "服务对象",
    "法定时限",
    "法定时限单位",
    "承诺时限",
    "承诺时限单位",
    "到现场次数",
    "设定依据",
    "受理条件",
    "办理地点",
    "办理时间",
    "咨询电话",
    "投诉电话",
    "别名",
    "主题分类",
];
const MATERIAL_HEADERS: [&str; 8] = [
    "事项编码",
    "材料名称",
    "是否必需",
    "原件份数",
    "复印件份数",
    "用途说明",
    "模板文件编号",
    "样表文件编号",
];
const FEE_HEADERS: [&str; 6] = [
    "事项编码",
    "收费项目",
    "收费标准",
    "收费金额（元）",
    "收费下限（元）",
    "收费依据",
];
const STEP_HEADERS: [&str; 4] = ["事项编码", "环节名称", "岗位", "环节时限（工作日）"];
const FORM_FIELD_HEADERS: [&str; 7] = [
    "事项编码",
    "字段标识",
    "字段名称",
    "类型",
    "是否必填",
    "选项",
    "填写说明",
];

/// A workbook of the export's layout: the given sheets with their header
/// rows, and the extra cells.
fn template(sheets: &[&str], extra: &[(&str, (u32, u32), &str)]) -> Vec<(String, Cells)> {
    sheets
        .iter()
        .map(|name| {
            let headers: &[&str] = match *name {
                "事项" => &ITEM_HEADERS,
                "申请材料" => &MATERIAL_HEADERS,
                "收费" => &FEE_HEADERS,
                "表单字段" => &FORM_FIELD_HEADERS,
                _ => &STEP_HEADERS,
            };
            let mut cells: Cells = headers
                .iter()
                .enumerate()
                .map(|(c, h)| ((0, c as u32), Data::String(h.to_string())))
                .collect();
            for (sheet, at, text) in extra {
                if sheet == name {
                    cells.push((*at, Data::String(text.to_string())));
                }
            }
            (name.to_string(), cells)
        })
        .collect()
}

fn import_into_empty_database(dir: &Path, workbook: &Path) -> Run {
    let db = dir.join("empty.db");
    run(
        dir,
        &[
            "catalog",
            "import",
            path_str(workbook),
            "--database-url",
            &url(&db),
        ],
    )
}

#[test]
fn a_file_level_import_error_names_no_phantom_sheet_or_row_0() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("目录.txt");
    std::fs::write(&text, "这不是一个电子表格").unwrap();
    let no_fees = dir.path().join("no_fees.xlsx");
    write_book(&no_fees, &template(&["事项", "申请材料", "办理环节"], &[]));
    for (file, says) in [(&text, "无法读取文件"), (&no_fees, "缺少「收费」工作表")] {
        let r = import_into_empty_database(dir.path(), file);
        assert_eq!(r.code, Some(2), "{}", r.describe());
        assert!(r.stdout.contains(says), "{}", r.describe());
        assert!(
            !r.stdout.contains("「」表") && !r.stdout.contains("第0行"),
            "a problem with the whole file is not reported as a cell of sheet \"\" row 0: {}",
            r.describe()
        );
    }
}

#[test]
fn a_material_row_for_an_item_code_missing_from_the_item_sheet_is_named_by_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let workbook = dir.path().join("orphan.xlsx");
    write_book(
        &workbook,
        &template(
            &SHEETS,
            &[
                ("申请材料", (1, 0), "000117999001"),
                ("申请材料", (1, 1), "营业执照"),
                ("申请材料", (1, 2), "是"),
                ("申请材料", (1, 3), "1"),
                ("申请材料", (1, 4), "0"),
            ],
        ),
    );
    let r = import_into_empty_database(dir.path(), &workbook);
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stdout.contains("000117999001"),
        "the unknown code is named: {}",
        r.describe()
    );
    assert!(
        r.stdout.contains("「申请材料」表第2行“事项编码”列"),
        "the material row is named by its row as Excel shows it (2), not row 0: {}",
        r.describe()
    );
}
