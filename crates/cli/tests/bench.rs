//! `onewindow bench` as BENCHMARKS.md runs it, at tiny sizes: each bench
//! prints its table and, with `--json`, one JSON object of its figures as the
//! last line of stdout.

use std::process::{Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_onewindow");

/// Runs `onewindow bench ARGS --json` in a fresh directory; returns the
/// JSON object on the last line of stdout.
fn bench(args: &[&str]) -> serde_json::Map<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("ONEWINDOW_DATABASE_URL")
        .stdin(Stdio::null())
        .arg("bench")
        .args(args)
        .arg("--json")
        .output()
        .expect("the onewindow binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    match serde_json::from_str(last) {
        Ok(Value::Object(figures)) => figures,
        _ => panic!("{args:?}: the last line is not one JSON object: {stdout}"),
    }
}

/// The figure `name` of `figures`, which must be a number above zero.
fn positive(figures: &serde_json::Map<String, Value>, name: &str) -> f64 {
    let value = figures
        .get(name)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number {name} in {figures:?}"));
    assert!(value > 0.0, "{name} = {value} in {figures:?}");
    value
}

#[test]
fn bench_calendar_reports_its_call_rates_as_json() {
    let figures = bench(&["calendar", "--calls", "20000"]);
    assert_eq!(figures["bench"], "calendar");
    assert_eq!(positive(&figures, "calls"), 20_000.0);
    for name in ["seconds", "calls_per_second", "loop_calls_per_second"] {
        positive(&figures, name);
    }
}

#[test]
fn bench_recompute_reports_every_deadline_moved_and_the_worst_case_shares_nothing() {
    let shared = bench(&["recompute", "--deadlines", "200"]);
    let worst = bench(&["recompute", "--deadlines", "200", "--worst-case"]);
    for (figures, layout) in [(&shared, "shared"), (&worst, "worst_case")] {
        assert_eq!(figures["bench"], "recompute");
        assert_eq!(figures["layout"], layout);
        assert_eq!(positive(figures, "deadlines"), 200.0);
        assert_eq!(positive(figures, "examined"), 200.0);
        assert_eq!(positive(figures, "moved"), 200.0);
        positive(figures, "seconds");
    }
    // Cases accepted the same day share their schedules; in the worst case
    // each deadline is recomputed on its own.
    assert!(positive(&shared, "schedules_moved") < 200.0, "{shared:?}");
    assert_eq!(positive(&worst, "schedules_moved"), 200.0, "{worst:?}");
}

/// A bench whose reader has gone (`onewindow bench … | head -0`) ends
/// quietly with success instead of a panic on the closed pipe.
#[test]
fn a_bench_whose_reader_has_gone_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // A pipe whose reading end is closed before the bench starts: its first
    // line already meets the closed pipe.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("ONEWINDOW_DATABASE_URL")
        .args(["bench", "calendar", "--calls", "1000"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the onewindow binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
