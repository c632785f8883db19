//! `onewindow calendar`: the command-line contract other tools depend on —
//! `days` lines (any range, streamed), `add` due dates, `explain` in Chinese,
//! overrides read from an existing `--database-url`, and exit code 2 for bad
//! dates, ranges or databases. Also: `supervise` adopts the shipped data.

use std::io::{BufRead, BufReader};
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
            "--from",
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

/// Runs `args` expecting exit code 2 with nothing on stdout; returns stderr.
fn refused(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = onewindow(dir.path(), args);
    assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
    assert!(stdout.is_empty(), "{args:?} printed {stdout}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

#[test]
fn dates_outside_the_supported_range_are_refused_naming_it() {
    for (args, flag) in [
        (
            ["add", "--start", "2003-12-31", "--working-days", "1"],
            "--start",
        ),
        (
            ["add", "--start", "2200-01-01", "--working-days", "1"],
            "--start",
        ),
        (
            ["add", "--start", "9999-12-31", "--working-days", "1"],
            "--start",
        ),
        (
            ["explain", "--start", "9999-12-30", "--working-days", "3"],
            "--start",
        ),
        (
            ["days", "--from", "2199-12-30", "--to", "2200-01-02"],
            "--to",
        ),
        (
            ["days", "--from", "1999-12-31", "--to", "2004-01-02"],
            "--from",
        ),
    ] {
        let mut all = vec!["calendar"];
        all.extend(args);
        let stderr = refused(&all);
        assert!(stderr.contains(flag), "{all:?}: {stderr}");
        assert!(
            stderr.contains("2004年1月1日至2199年12月31日"),
            "{all:?}: {stderr}"
        );
    }
}

#[test]
fn the_last_supported_day_with_a_huge_limit_is_refused_and_a_long_one_counted() {
    for args in [
        [
            "calendar",
            "add",
            "--start",
            "2199-12-31",
            "--working-days",
            "4000000000",
        ],
        [
            "calendar",
            "explain",
            "--start",
            "2199-12-31",
            "--working-days",
            "4000000000",
        ],
    ] {
        let stderr = refused(&args);
        assert!(stderr.contains("--working-days"), "{stderr}");
        assert!(stderr.contains("3650"), "{stderr}");
    }
    // The longest limit from the last day: counted on past the index with
    // Saturday and Sunday off, and said to be provisional.
    let out = ok(&[
        "calendar",
        "add",
        "--start",
        "2199-12-31",
        "--working-days",
        "3650",
    ]);
    let due: jiff::civil::Date = out.trim().parse().expect("a date");
    assert!(due > jiff::civil::date(2213, 1, 1), "{due}");
    assert!(!matches!(
        due.weekday(),
        jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
    ));
    let out = ok(&[
        "calendar",
        "explain",
        "--start",
        "2199-12-31",
        "--working-days",
        "3650",
    ]);
    assert!(
        out.contains(&format!("期限届满日：{}年", due.year())),
        "{out}"
    );
    assert!(out.contains("临时结果"), "{out}");
}

#[test]
fn days_lists_the_whole_supported_range_one_line_per_date() {
    let out = ok(&[
        "calendar",
        "days",
        "--from",
        "2004-01-01",
        "--to",
        "2199-12-31",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    let expected = jiff::civil::date(2004, 1, 1)
        .until(jiff::civil::date(2199, 12, 31))
        .unwrap()
        .get_days()
        + 1;
    assert_eq!(lines.len(), expected as usize);
    assert_eq!(lines[0], "2004-01-01\tholiday");
    assert_eq!(lines[lines.len() - 1], "2199-12-31\tworkday");
    assert!(lines.contains(&"2025-01-26\tworkday"), "调休上班 of 2025");
}

#[test]
fn a_reader_that_stops_early_ends_days_quietly_with_success() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("ONEWINDOW_DATABASE_URL")
        .args([
            "calendar",
            "days",
            "--from",
            "2004-01-01",
            "--to",
            "2199-12-31",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    assert_eq!(first, "2004-01-01\tholiday\n");
    drop(reader);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_database_file_that_does_not_exist_is_refused_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonexistent.db");
    let url = format!("sqlite:{}", path.display());
    for args in [
        vec![
            "calendar",
            "add",
            "--start",
            "2026-11-23",
            "--working-days",
            "1",
        ],
        vec![
            "calendar",
            "days",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-24",
        ],
    ] {
        let mut args = args;
        args.extend(["--database-url", &url]);
        let (code, stdout, stderr) = onewindow(dir.path(), &args);
        assert_eq!(code, Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains("--database-url"), "{stderr}");
        assert!(stderr.contains("不存在"), "{stderr}");
        assert!(!path.exists(), "the database file was created");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn supervise_adopts_the_shipped_holiday_data_first() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("county.db").display());
    let markers = || async {
        let store = onewindow_store::Store::connect(&onewindow_store::StoreOptions::new(&url))
            .await
            .unwrap();
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM counters WHERE name LIKE 'calendar_data:%'")
                .fetch_one(store.pool())
                .await
                .unwrap();
        store.close().await;
        count
    };
    let (code, _, stderr) = onewindow(dir.path(), &["migrate", "--database-url", &url]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(markers().await, 0, "migrating adopts nothing");
    let (code, stdout, stderr) = onewindow(
        dir.path(),
        &[
            "supervise",
            "--now",
            "2026-12-01T09:00:00+08:00",
            "--database-url",
            &url,
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("监察日 2026-12-01"), "{stdout}");
    assert_eq!(markers().await, 1, "supervise recorded the data it adopted");
}
