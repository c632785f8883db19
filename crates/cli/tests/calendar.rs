//! `onewindow calendar`: the command-line contract other tools depend on —
//! `days` lines, `add` due dates, `explain` in Chinese, overrides read from
//! `--database-url`, and exit code 2 for bad dates or ranges.

use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_onewindow");

/// Runs the binary in `cwd` without the operator's environment; returns the
/// exit code, stdout and stderr.
fn onewindow(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN)
        .current_dir(cwd)
        .env_remove("ONEWINDOW_DATABASE_URL")
        .env_remove("ONEWINDOW_REGION_CODE")
        .stdin(Stdio::null())
        .args(args)
        .output()
        .expect("the onewindow binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = onewindow(dir.path(), args);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    stdout
}

#[test]
fn days_prints_one_tab_separated_line_per_date_through_national_day() {
    let out = ok(&[
        "calendar",
        "days",
        "--from",
        "2026-09-18",
        "--to",
        "2026-10-11",
    ]);
    let expected = "\
2026-09-18\tworkday
2026-09-19\trestday
2026-09-20\tworkday
2026-09-21\tworkday
2026-09-22\tworkday
2026-09-23\tworkday
2026-09-24\tworkday
2026-09-25\tholiday
2026-09-26\tholiday
2026-09-27\tholiday
2026-09-28\tworkday
2026-09-29\tworkday
2026-09-30\tworkday
2026-10-01\tholiday
2026-10-02\tholiday
2026-10-03\tholiday
2026-10-04\tholiday
2026-10-05\tholiday
2026-10-06\tholiday
2026-10-07\tholiday
2026-10-08\tworkday
2026-10-09\tworkday
2026-10-10\tworkday
2026-10-11\trestday
";
    assert_eq!(out, expected);
}

#[test]
fn add_prints_the_nth_working_day_after_the_start_day() {
    for (start, n, due) in [
        // Across the 2025 Spring Festival, with its two adjusted Saturdays/Sundays.
        ("2025-01-20", "20", "2025-02-21"),
        // Friday before the 2026 Spring Festival: Saturday 14 February was worked.
        ("2026-02-13", "1", "2026-02-14"),
        ("2026-02-14", "1", "2026-02-24"),
        // Across National Day 2024.
        ("2024-09-30", "1", "2024-10-08"),
        // The start day itself for zero days.
        ("2026-11-23", "0", "2026-11-23"),
    ] {
        let out = ok(&["calendar", "add", "--start", start, "--working-days", n]);
        assert_eq!(out, format!("{due}\n"), "{start} + {n}");
    }
}

#[test]
fn explain_names_the_holidays_crossed_and_marks_unpublished_years_provisional() {
    let out = ok(&[
        "calendar",
        "explain",
        "--start",
        "2025-01-20",
        "--working-days",
        "20",
    ]);
    assert!(out.contains("春节"), "{out}");
    assert!(out.contains("2025年1月26日（星期日）"), "{out}");
    assert!(out.contains("期限届满日：2025年2月21日（星期五）"), "{out}");
    assert!(out.contains("国办发明电〔2024〕12号"), "{out}");
    assert!(!out.contains("临时结果"), "{out}");

    let out = ok(&[
        "calendar",
        "explain",
        "--start",
        "2030-12-20",
        "--working-days",
        "10",
    ]);
    assert!(out.contains("临时结果"), "{out}");
    assert!(out.contains("2030年"), "{out}");
}

#[test]
fn bad_dates_and_ranges_exit_with_code_2_and_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    for (args, names) in [
        (
            vec![
                "calendar",
                "add",
                "--start",
                "2025-02-30",
                "--working-days",
                "3",
            ],
            "--start",
        ),
        (
            vec![
                "calendar",
                "add",
                "--start",
                "20250101",
                "--working-days",
                "3",
            ],
            "--start",
        ),
        (
            vec![
                "calendar",
                "days",
                "--from",
                "2026-10-11",
                "--to",
                "2026-10-01",
            ],
            "--to",
        ),
        (
            vec![
                "calendar",
                "days",
                "--from",
                "2000-01-01",
                "--to",
                "2026-01-01",
            ],
            "--to",
        ),
        (
            vec![
                "calendar",
                "explain",
                "--start",
                "2025-01-01",
                "--working-days",
                "99999",
            ],
            "--working-days",
        ),
        (
            vec![
                "calendar",
                "add",
                "--start",
                "2025-01-01",
                "--working-days",
                "three",
            ],
            "--working-days",
        ),
    ] {
        let (code, stdout, stderr) = onewindow(dir.path(), &args);
        assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{args:?} printed {stdout}");
        assert!(stderr.contains(names), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overrides_of_the_database_given_apply_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("county.db").display());
    let (code, _, stderr) = onewindow(dir.path(), &["migrate", "--database-url", &url]);
    assert_eq!(code, Some(0), "{stderr}");
    let store = onewindow_store::Store::connect(&onewindow_store::StoreOptions::new(&url))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO calendar_overrides (region, day, kind, reason, created_at) VALUES \
         ('', '2026-11-24', 'closure', '暴雨红色预警，全县停止办公', 0), \
         ('430499', '2026-11-25', 'closure', '另一县的停工日', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;

    let args = [
        "calendar",
        "add",
        "--start",
        "2026-11-23",
        "--working-days",
        "1",
    ];
    assert_eq!(ok(&args), "2026-11-24\n", "shipped data alone");
    let mut with_db = args.to_vec();
    with_db.extend(["--database-url", &url]);
    let (code, out, stderr) = onewindow(dir.path(), &with_db);
    assert_eq!((code, out.as_str()), (Some(0), "2026-11-25\n"), "{stderr}");

    let (_, out, _) = onewindow(
        dir.path(),
        &[
            "calendar",
            "days",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-25",
            "--database-url",
            &url,
        ],
    );
    assert_eq!(out, "2026-11-24\tholiday\n2026-11-25\tworkday\n");
    let (_, out, _) = onewindow(
        dir.path(),
        &[
            "calendar",
            "explain",
            "--start",
            "2026-11-23",
            "--working-days",
            "1",
            "--database-url",
            &url,
        ],
    );
    assert!(out.contains("暴雨红色预警"), "{out}");
}
