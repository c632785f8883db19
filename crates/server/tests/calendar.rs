//! The calendar through the HTTP API: days and due dates with their
//! explanation, dates outside the supported range refused, local overrides
//! kept by the admin (and refused to others), a case whose deadlines move —
//! and say why — when the calendar changes, and an ended deadline that does
//! not.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::civil::Date;
use onewindow_core::calendar::WorkCalendar;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::spawn_app;

#[tokio::test]
async fn days_and_due_dates_come_from_the_published_holidays_and_explain_themselves() {
    let app = spawn_app().await;
    let (status, days) = app
        .get(None, "/api/v1/calendar/days?from=2026-09-30&to=2026-10-10")
        .await;
    assert_eq!(status, StatusCode::OK, "{days}");
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 11);
    assert_eq!(days[0]["kind"], "workday");
    assert_eq!(days[1]["date"], "2026-10-01");
    assert_eq!(days[1]["kind"], "holiday");
    assert_eq!(days[1]["note"], "国庆节");
    assert_eq!(
        days[10]["kind"], "workday",
        "Saturday 10 October was worked"
    );
    assert_eq!(days[10]["note"], "国庆节调休上班");
    assert_eq!(days[0]["provisional"], false);

    let (status, due) = app
        .get(None, "/api/v1/calendar/due?start=2025-01-20&amount=20")
        .await;
    assert_eq!(status, StatusCode::OK, "{due}");
    assert_eq!(due["due"], "2025-02-21");
    assert_eq!(due["provisional"], false);
    let text = due["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("春节"), "{text}");

    let (_, due) = app
        .get(
            None,
            "/api/v1/calendar/due?start=2031-03-02&amount=5&unit=natural_days",
        )
        .await;
    assert_eq!(due["provisional"], true, "{due}");

    for (path, field) in [
        ("/api/v1/calendar/days?from=2026-10-10&to=2026-10-01", "to"),
        (
            "/api/v1/calendar/days?from=2026-02-30&to=2026-03-01",
            "from",
        ),
        ("/api/v1/calendar/due?start=tomorrow&amount=3", "start"),
        (
            "/api/v1/calendar/due?start=2026-01-05&amount=3&unit=hours",
            "unit",
        ),
    ] {
        let (status, body) = app.get(None, path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
}

fn date(value: &Value) -> Date {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_closure_day_moves_the_open_cases_deadlines_and_the_case_says_why() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let admin = app.token(&app.people.admin).await;
    let receipt = app.apply(app.item.id).await;
    let case_id = receipt["case_id"].as_i64().unwrap();
    app.act_ok(
        &clerk,
        case_id,
        json!({ "action": "accept", "opinion": "材料齐全，予以受理" }),
    )
    .await;
    let before = app.case(&clerk, case_id).await;
    let promised = date(&before["promised_due"]);
    let statutory = date(&before["statutory_due"]);
    let deadlines = before["deadlines"].as_array().unwrap();
    let kinds: Vec<&str> = deadlines
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"case_promised") && kinds.contains(&"case_statutory"),
        "{kinds:?}"
    );
    let promised_view = deadlines
        .iter()
        .find(|d| d["kind"] == "case_promised")
        .unwrap();
    assert_eq!(date(&promised_view["due"]), promised);
    assert_eq!(promised_view["state"], "running");
    assert!(
        promised_view["explanation"][0]
            .as_str()
            .unwrap()
            .contains("起算日"),
        "{promised_view}"
    );

    // Only the admin keeps the calendar.
    let closure = json!({ "date": promised.to_string(), "kind": "closure", "reason": "暴雨红色预警，全县停止办公" });
    let (status, body) = app
        .post(Some(&clerk), "/api/v1/calendar/overrides", &closure, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = app
        .post(Some(&admin), "/api/v1/calendar/overrides", &closure, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["moved"].as_u64().unwrap() >= 2, "{body}");
    let override_id = body["override"]["id"].as_i64().unwrap();

    let after = app.case(&clerk, case_id).await;
    let calendar = app.store.calendar_for(app.store.region_code());
    assert!(!calendar.is_working_day(promised));
    assert_eq!(
        date(&after["promised_due"]),
        calendar.add_working_days(promised, 1),
        "the closed day no longer counts"
    );
    assert!(date(&after["statutory_due"]) > statutory);
    let changes = after["deadline_changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["old_due"] == promised.to_string()
            && c["reason"].as_str().unwrap().contains("暴雨红色预警")),
        "{changes:?}"
    );
    let explained = after["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "case_promised")
        .unwrap()["explanation"]
        .to_string();
    assert!(explained.contains("停止办公"), "{explained}");

    // The same day twice is refused, naming the field.
    let (status, body) = app
        .post(Some(&admin), "/api/v1/calendar/overrides", &closure, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "date");
    // A reason is required; the kind must be known.
    for (bad, field) in [
        (
            json!({ "date": "2026-12-24", "kind": "closure", "reason": " " }),
            "reason",
        ),
        (
            json!({ "date": "2026-12-24", "kind": "holiday", "reason": "x" }),
            "kind",
        ),
        (
            json!({ "date": "2026-12-32", "kind": "closure", "reason": "x" }),
            "date",
        ),
    ] {
        let (status, body) = app
            .post(Some(&admin), "/api/v1/calendar/overrides", &bad, None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["error"]["field"], field, "{bad}: {body}");
    }

    // Revoking puts the deadlines back and leaves both changes on record.
    let (status, body) = app
        .post(
            Some(&admin),
            &format!("/api/v1/calendar/overrides/{override_id}/revoke"),
            &json!({ "reason": "预警解除，正常办公" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = app.case(&clerk, case_id).await;
    assert_eq!(date(&back["promised_due"]), promised);
    assert_eq!(date(&back["statutory_due"]), statutory);
    assert!(back["deadline_changes"].as_array().unwrap().len() >= 4);

    let (status, list) = app.get(Some(&admin), "/api/v1/calendar/overrides").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["id"], override_id);
    assert!(list[0]["revoked_at"].is_string(), "{list}");

    let (_, audit) = app
        .get(
            Some(&app.token(&app.people.auditor).await),
            "/api/v1/audit/verify",
        )
        .await;
    assert_eq!(audit["intact"], true, "{audit}");
}

#[tokio::test]
async fn dates_outside_the_supported_range_and_oversized_requests_are_refused_by_field() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    for (path, field, says) in [
        (
            "/api/v1/calendar/days?from=2003-12-31&to=2004-01-05",
            "from",
            "2004年1月1日至2199年12月31日",
        ),
        (
            "/api/v1/calendar/days?from=2199-12-01&to=2200-01-01",
            "to",
            "2004年1月1日至2199年12月31日",
        ),
        (
            "/api/v1/calendar/due?start=9999-12-31&amount=1",
            "start",
            "2004年1月1日至2199年12月31日",
        ),
        (
            "/api/v1/calendar/due?start=2199-12-31&amount=4000000000",
            "amount",
            "3650",
        ),
        (
            "/api/v1/calendar/days?from=2004-01-01&to=2199-12-31",
            "to",
            "3660天",
        ),
    ] {
        let (status, body) = app.get(None, path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
    }
    let (status, body) = app
        .post(
            Some(&admin),
            "/api/v1/calendar/overrides",
            &json!({ "date": "2200-01-01", "kind": "closure", "reason": "x" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "date", "{body}");

    // The last day with the longest limit is counted past the index, as
    // provisional; the longest listed range is answered in full.
    let (status, due) = app
        .get(None, "/api/v1/calendar/due?start=2199-12-31&amount=3650")
        .await;
    assert_eq!(status, StatusCode::OK, "{due}");
    assert!(date(&due["due"]) > jiff::civil::date(2213, 1, 1), "{due}");
    assert_eq!(due["provisional"], true, "{due}");
    let (status, days) = app
        .get(None, "/api/v1/calendar/days?from=2190-01-01&to=2199-12-31")
        .await;
    assert_eq!(status, StatusCode::OK, "{days}");
    assert_eq!(days.as_array().unwrap().len(), 3652);
}

#[tokio::test]
async fn an_ended_deadline_keeps_the_due_day_it_ended_with_when_the_calendar_changes() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let admin = app.token(&app.people.admin).await;
    let receipt = app.apply(app.item.id).await;
    let case_id = receipt["case_id"].as_i64().unwrap();
    app.act_ok(
        &clerk,
        case_id,
        json!({ "action": "accept", "opinion": "材料齐全，予以受理" }),
    )
    .await;
    let acceptance = |case: &Value| {
        case["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "case_acceptance")
            .cloned()
            .unwrap_or_else(|| panic!("an acceptance deadline: {case}"))
    };
    let before = acceptance(&app.case(&clerk, case_id).await);
    assert_eq!(before["state"], "ended", "accepting ends it: {before}");
    let ended_due = date(&before["due"]);

    // A closure on its due day would move it, were it still open.
    let closure = json!({ "date": ended_due.to_string(), "kind": "closure", "reason": "暴雨红色预警，全县停止办公" });
    let (status, body) = app
        .post(Some(&admin), "/api/v1/calendar/overrides", &closure, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let after = acceptance(&app.case(&clerk, case_id).await);
    assert_eq!(date(&after["due"]), ended_due, "{after}");
    assert_eq!(after["provisional"], false, "{after}");
    let lines: Vec<&str> = after["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let text = lines.join("\n");
    let due_line = format!(
        "期限届满日：{}",
        onewindow_core::clock::long_date(ended_due)
    );
    assert!(text.contains(&due_line), "{text}");
    assert!(text.contains("届满日以结束时为准"), "{text}");
    assert!(!text.contains("停止办公"), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("期限届满日")).count(),
        1,
        "{text}"
    );
}
