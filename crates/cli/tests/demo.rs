//! The demo county as `onewindow demo --no-serve` builds it for a given day
//! (`ONEWINDOW_DEMO_TODAY`): every case state is there, every form among the
//! materials comes with its blank and its filled sample as PDF, nothing
//! happens after the day, and the same seed and day build the same county.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use jiff::civil::{Date, Time};
use onewindow_core::calendar::china_zone;
use onewindow_core::case::CaseState;
use onewindow_core::catalog::Guide;
use onewindow_store::{Store, StoreOptions};

const BIN: &str = env!("CARGO_BIN_EXE_onewindow");
/// A day long past: whatever the demo took from the wall clock instead
/// would stand out against it, and differ between two builds.
const DAY: &str = "2026-03-16";
const SEED: &str = "11";
const CASES: &str = "200";

/// Builds the demo county into `db`; panics with its output when it fails.
fn build_demo(db: &Path) {
    let output = Command::new(BIN)
        .current_dir(db.parent().expect("the database's directory"))
        .env_remove("ONEWINDOW_DATABASE_URL")
        .env_remove("ONEWINDOW_REGION_CODE")
        .env_remove("ONEWINDOW_LOG")
        .env("ONEWINDOW_DEMO_TODAY", DAY)
        .args(["demo", "--no-serve", "--seed", SEED, "--cases", CASES])
        .arg("--file")
        .arg(db)
        .stdin(Stdio::null())
        .output()
        .expect("the onewindow binary runs");
    assert!(
        output.status.success(),
        "the demo failed: {:?}\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Every action the demo planned fits the lifecycle and its rules.
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        !report.contains("未能执行"),
        "a planned action was refused: {report}"
    );
}

async fn open(db: &Path) -> Store {
    Store::connect(&StoreOptions::new(format!("sqlite:{}", db.display())))
        .await
        .expect("the demo database opens")
}

async fn texts(store: &Store, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn number(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

// ---------------------------------------------------------------------------
// Forms

/// The words a form's name ends in (申请书, 登记表, 承诺书, 委托书 …).
const FORM_WORDS: &[&str] = &[
    "申请书",
    "申请表",
    "登记表",
    "审批表",
    "申报表",
    "备案表",
    "采集表",
    "信息表",
    "核定表",
    "调查表",
    "报告表",
    "告知书",
    "确认书",
    "承诺书",
    "委托书",
    "授权书",
    "名册",
];

/// The title of the form a material is, if it is one: 授权委托书及受托人
/// 身份证件 is the form 授权委托书, 车辆情况或购车承诺书 the form 购车承诺书.
fn form_title(material: &str) -> Option<String> {
    let end = FORM_WORDS
        .iter()
        .filter_map(|w| material.rfind(w).map(|at| at + w.len()))
        .max()?;
    let head = &material[..end];
    let start = head.rfind('或').map(|at| at + '或'.len_utf8()).unwrap_or(0);
    let title = head[start..].trim();
    (title.chars().count() > 2).then(|| title.to_string())
}

/// The text of a PDF without white space, or None when pdftotext is missing.
fn pdf_text(bytes: &[u8], dir: &Path) -> Option<String> {
    let path = dir.join("form.pdf");
    std::fs::write(&path, bytes).expect("write the form");
    let output = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    assert!(output.status.success(), "pdftotext reads the form");
    Some(
        String::from_utf8_lossy(&output.stdout)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// The county's rows, for comparing two builds

/// A card's condition without the id of the case event an anomaly was
/// found in (`anomaly:fee_above_standard:318`): the case names it.
fn condition(column: &str) -> String {
    format!(
        "CASE WHEN {column} LIKE 'anomaly:%' THEN rtrim({column}, '0123456789') ELSE {column} END"
    )
}

/// A card by what it is about rather than its id, which the concurrent
/// history hands out in any order.
fn card_key(id: &str) -> String {
    format!(
        "(SELECT k.subject_kind || '/' || k.subject_id || '/' || {} || '/' || k.level \
         || '/' || k.found_on FROM cards k WHERE k.id = {id})",
        condition("k.condition")
    )
}

/// A deadline schedule by its content rather than its id.
fn schedule_key(id: &str) -> String {
    format!(
        "(SELECT s.region || '/' || s.start_on || '/' || s.amount || '/' || s.unit || '/' \
         || s.pauses || '/' || s.due_on FROM deadline_schedules s WHERE s.id = {id})"
    )
}

/// What a table's rows are compared without: ids of rows the day's cases
/// write side by side (their order, not their content, varies), the audit
/// chain's hashes (which follow that order), the password hashes' random
/// salt, the file bytes (their SM3 digest stands for them); and the
/// references to such ids replaced by what they name.
fn compared(table: &str) -> (Vec<&'static str>, Vec<(&'static str, String)>) {
    let card_object = format!(
        "CASE WHEN object_kind LIKE 'card%' THEN {} ELSE object_id END",
        card_key("object_id")
    );
    match table {
        "staff" => (vec!["password_hash"], vec![]),
        "files" => (vec!["bytes"], vec![]),
        "case_events" => (vec!["id"], vec![]),
        "cards" => (vec!["id"], vec![("condition", condition("condition"))]),
        "card_events" | "notices" | "accountability" | "outbox" => {
            (vec!["id"], vec![("card_id", card_key("card_id"))])
        }
        "audit_head" => (vec!["hash"], vec![]),
        "audit_log" => (
            vec!["seq", "prev_hash", "hash"],
            vec![
                ("object_id", card_object),
                (
                    "detail",
                    format!(
                        "CASE WHEN action = 'supervision.issue' THEN (SELECT group_concat(key, ';') \
                         FROM (SELECT {} AS key FROM json_each(audit_log.detail, '$.cards') j \
                         ORDER BY key)) ELSE detail END",
                        card_key("j.value")
                    ),
                ),
            ],
        ),
        "deadline_schedules" => (vec!["id"], vec![]),
        "object_deadlines" => (
            vec!["id"],
            vec![
                ("object_id", card_object),
                ("schedule_id", schedule_key("schedule_id")),
            ],
        ),
        "schedule_changes" => (
            vec!["id"],
            vec![("schedule_id", schedule_key("schedule_id"))],
        ),
        _ => (vec![], vec![]),
    }
}

/// Every row of every table of the county (not the migrations' own
/// bookkeeping), each as one line of quoted values, sorted.
async fn county(store: &Store) -> BTreeMap<String, Vec<String>> {
    let tables = texts(
        store,
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' ORDER BY name",
    )
    .await;
    let mut rows = BTreeMap::new();
    for table in tables {
        let (skip, swap) = compared(&table);
        let columns = texts(
            store,
            &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
        )
        .await;
        let values: Vec<String> = columns
            .iter()
            .filter(|c| !skip.contains(&c.as_str()))
            .map(|c| match swap.iter().find(|(name, _)| name == c) {
                Some((_, expression)) => format!("quote({expression})"),
                None => format!("quote({c})"),
            })
            .collect();
        let mut lines = texts(
            store,
            &format!("SELECT {} FROM {table}", values.join(" || '|' || ")),
        )
        .await;
        lines.sort();
        rows.insert(table, lines);
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_day_builds_every_state_and_every_form_and_the_same_county_twice() {
    let first_dir = tempfile::tempdir().expect("a temporary directory");
    let second_dir = tempfile::tempdir().expect("a temporary directory");
    let first_db = first_dir.path().join("demo.db");
    let second_db = second_dir.path().join("demo.db");
    build_demo(&first_db);
    let store = open(&first_db).await;

    // Every state of the lifecycle occurs.
    let counts = store.case_counts().await.expect("the case counts");
    let missing: Vec<&str> = CaseState::ALL
        .iter()
        .filter(|s| !counts.iter().any(|(state, n)| state == *s && *n > 0))
        .map(|s| s.label())
        .collect();
    assert!(missing.is_empty(), "no case is {missing:?}: {counts:?}");

    // Nothing of the history happens after the start of the demo day.
    let day: Date = DAY.parse().expect("the demo day");
    let start = day
        .to_datetime(Time::midnight())
        .to_zoned_datetime(china_zone())
        .expect("the day's start")
        .timestamp()
        .as_microsecond();
    let late = number(
        &store,
        &format!("SELECT COUNT(*) FROM case_events WHERE at > {start}"),
    )
    .await;
    assert_eq!(late, 0, "case events dated after the start of {DAY}");
    let late = number(
        &store,
        &format!("SELECT COUNT(*) FROM cases WHERE received_on >= '{DAY}'"),
    )
    .await;
    assert_eq!(late, 0, "cases received on or after {DAY}");
    assert!(
        number(&store, "SELECT COUNT(*) FROM case_events").await > 200,
        "the cases have their timelines"
    );

    // Every form among the materials has its blank and its sample, as PDF
    // with the form's title in it.
    let guides: Vec<Guide> = texts(&store, "SELECT guide FROM service_items ORDER BY id")
        .await
        .iter()
        .map(|g| serde_json::from_str(g).expect("a stored guide"))
        .collect();
    let mut forms: BTreeMap<i64, String> = BTreeMap::new();
    for guide in &guides {
        for m in &guide.materials {
            let Some(title) = form_title(&m.name) else {
                continue;
            };
            let (Some(blank), Some(sample)) = (m.template_file, m.sample_file) else {
                panic!(
                    "{}: the form {} has no blank or no sample",
                    guide.name, m.name
                );
            };
            forms.insert(blank, title.clone());
            forms.insert(sample, title);
        }
    }
    assert!(
        forms.len() > 100,
        "the catalog has its forms: {}",
        forms.len()
    );
    let mut read_text = true;
    for (id, title) in &forms {
        let (info, bytes) = store.file(*id).await.expect("the form's file");
        assert!(bytes.starts_with(b"%PDF"), "{} is not a PDF", info.name);
        assert_eq!(info.content_type, "application/pdf", "{}", info.name);
        if !read_text {
            continue;
        }
        match pdf_text(&bytes, first_dir.path()) {
            Some(text) => assert!(text.contains(title), "{} does not say {title}", info.name),
            None => {
                println!("pdftotext is not installed: the forms' text is not checked");
                read_text = false;
            }
        }
    }

    // The same seed and day, built again later, give the same county.
    let first = county(&store).await;
    store.close().await;
    build_demo(&second_db);
    let store = open(&second_db).await;
    let second = county(&store).await;
    store.close().await;
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (table, a) in &first {
        let b = &second[table];
        if a != b {
            let only_first: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(3).collect();
            let only_second: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(3).collect();
            panic!(
                "{table} differs ({} and {} rows): first only {only_first:?}, second only {only_second:?}",
                a.len(),
                b.len()
            );
        }
    }
}
