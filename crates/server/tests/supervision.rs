//! Electronic supervision through the HTTP API, on the real server: cases
//! accepted through the API whose deadlines pass (the tick is run on the
//! app's own store at later instants) earn warnings and yellow cards that the
//! supervisor sees everywhere and a department sees only for itself; the
//! card's lifecycle of answers and conclusions, accountability, the
//! supervisor's rules, filters and the outbox. Dates come from the case's own
//! deadlines, never from a hard-coded calendar.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::calendar::china_zone;
use onewindow_core::supervision::Channel;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::Row;

use support::{PDF, TestApp, json_of, spawn_app};

// ---------------------------------------------------------------------------
// Helpers

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Asserts an error response: status, code, field (when given) and a
/// message in Chinese.
#[track_caller]
fn assert_error(
    (status, body): &(StatusCode, Value),
    want_status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(*status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    if let Some(field) = field {
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(has_chinese(message), "a Chinese message: {body}");
}

/// A case applied for online and accepted at the window today, with its
/// deadlines as the API shows them.
struct Accepted {
    id: i64,
    number: String,
    promised_due: Date,
    step_due: Date,
    remaining_working_days: i64,
}

async fn accepted_case(app: &TestApp, clerk: &str) -> Accepted {
    let receipt = app.apply(app.item.id).await;
    let id = receipt["case_id"].as_i64().expect("a case id");
    app.act_ok(
        clerk,
        id,
        json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
    )
    .await;
    let case = app.case(clerk, id).await;
    let due_of = |kind: &str| -> Date {
        let deadline = case["deadlines"]
            .as_array()
            .expect("deadlines")
            .iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("a {kind} deadline: {case}"));
        assert_eq!(deadline["state"], "running", "{deadline}");
        day(&deadline["due"])
    };
    let promised_due = due_of("case_promised");
    assert_eq!(case["promised_due"], promised_due.to_string(), "{case}");
    Accepted {
        id,
        number: case["number"].as_str().expect("a number").to_string(),
        promised_due,
        step_due: due_of("case_step"),
        remaining_working_days: case["remaining_working_days"]
            .as_i64()
            .expect("remaining working days"),
    }
}

fn day(value: &Value) -> Date {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a date, got {value}"))
        .parse()
        .unwrap_or_else(|e| panic!("a date ({e}), got {value}"))
}

/// Noon in China on `day`: the instant a tick "on that day" runs at.
fn noon(day: Date) -> Timestamp {
    day.at(12, 0, 0, 0)
        .to_zoned_datetime(china_zone())
        .expect("a zoned time")
        .timestamp()
}

fn next_day(day: Date) -> Date {
    day.tomorrow().expect("a next day")
}

/// The cards a token sees for a query string (without the `?`).
async fn cards(app: &TestApp, token: &str, query: &str) -> (Vec<Value>, i64) {
    let (status, body) = app
        .get(Some(token), &format!("/api/v1/supervision/cards?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    (
        body["cards"].as_array().expect("cards").clone(),
        body["total"].as_i64().expect("a total"),
    )
}

fn ids(cards: &[Value]) -> Vec<i64> {
    let mut ids: Vec<i64> = cards.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids
}

/// The only card of `case_id` at `level`, as the supervisor lists it.
async fn card_of(app: &TestApp, token: &str, case_id: i64, level: &str) -> Value {
    let (list, total) = cards(app, token, &format!("case_id={case_id}&level={level}")).await;
    assert_eq!(total, 1, "one {level} card for case {case_id}: {list:?}");
    list[0].clone()
}

async fn card_detail(app: &TestApp, token: &str, card_id: i64) -> Value {
    let (status, detail) = app
        .get(Some(token), &format!("/api/v1/supervision/cards/{card_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    detail
}

async fn act_on_card(app: &TestApp, token: &str, card_id: i64, body: Value) -> (StatusCode, Value) {
    app.post(
        Some(token),
        &format!("/api/v1/supervision/cards/{card_id}/actions"),
        &body,
        None,
    )
    .await
}

/// Marks a notice read; the answer has no body.
async fn read_notice(app: &TestApp, token: &str, notice_id: i64) -> (StatusCode, String) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/notices/{notice_id}/read")))
        .bearer_auth(token)
        .send()
        .await
        .expect("POST read");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

async fn notices(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.get(Some(token), "/api/v1/notices").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("notices").clone()
}

fn notices_of_card(notices: &[Value], card_id: i64) -> Vec<Value> {
    notices
        .iter()
        .filter(|n| n["card_id"] == card_id)
        .cloned()
        .collect()
}

/// One department's figures, as the supervisor reads them.
async fn figures(app: &TestApp, token: &str, query: &str, department_id: i64) -> Value {
    let (status, body) = app
        .get(
            Some(token),
            &format!("/api/v1/supervision/departments{query}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("figures")
        .iter()
        .find(|f| f["department_id"] == department_id)
        .unwrap_or_else(|| panic!("figures of department {department_id}: {body}"))
        .clone()
}

async fn upload_file(app: &TestApp, token: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let form = Form::new().part(
        "file",
        Part::bytes(bytes.to_vec())
            .file_name(name.to_string())
            .mime_str("application/pdf")
            .expect("a mime type"),
    );
    json_of(
        app.client
            .post(app.url("/api/v1/files"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("POST /api/v1/files"),
    )
    .await
}

async fn audit_entries(app: &TestApp, action: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(app.store.pool())
        .await
        .expect("count audit entries")
        .try_get("n")
        .expect("a count")
}

// ---------------------------------------------------------------------------
// 1. Issue, visibility, notices

#[tokio::test]
async fn a_passed_promised_deadline_earns_a_yellow_card_seen_by_the_supervisor_and_department() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;
    let handler = app.token(&app.people.handler_a).await;
    let other = app.token(&app.people.other_clerk).await;
    let case = accepted_case(&app, &clerk).await;

    // On the due day itself the promised deadline is not overdue yet.
    let on_due = app
        .store
        .supervise(noon(case.promised_due), &[])
        .await
        .expect("tick on the due day");
    assert_eq!(on_due.issued.get("yellow"), None, "{on_due:?}");

    let found = next_day(case.promised_due);
    let report = app
        .store
        .supervise(noon(found), &[])
        .await
        .expect("tick the day after");
    assert_eq!(report.issued.get("yellow"), Some(&1), "{report:?}");

    // The supervisor sees it with the case, the department and the due day.
    let card = card_of(&app, &sup, case.id, "yellow").await;
    let card_id = card["id"].as_i64().unwrap();
    assert!(report.card_ids.contains(&card_id), "{report:?}");
    assert_eq!(card["level_label"], "黄牌");
    assert_eq!(card["condition"], "overdue:case_promised");
    assert_eq!(card["subject_kind"], "case");
    assert_eq!(card["case_number"], case.number.as_str());
    assert_eq!(card["department_id"], app.department.id);
    assert_eq!(card["department_name"], "衡山县市场监督管理局");
    assert_eq!(card["item_id"], app.item.id);
    assert_eq!(card["item_name"], "食品经营许可（新办）");
    assert_eq!(card["handler_id"], app.people.handler_a.id);
    assert_eq!(card["handler_name"], "李明");
    assert_eq!(card["due_on"], case.promised_due.to_string());
    assert_eq!(card["found_on"], found.to_string());
    assert_eq!(card["state"], "issued");
    assert_eq!(card["counted"], true);
    assert_eq!(card["appealed"], false);
    let title = card["title"].as_str().unwrap();
    assert!(
        title.contains(&case.number) && title.contains("承诺办结时限已超期"),
        "{title}"
    );
    assert!(
        day(&card["answer_due"]) > found,
        "a yellow card gives the department days to answer: {card}"
    );

    // The department's approver sees it in their own list, whatever
    // department they ask for.
    for query in [
        "",
        "department_id=0",
        &format!("department_id={}", app.other_department.id),
    ] {
        let (list, total) = cards(&app, &approver, query).await;
        assert!(ids(&list).contains(&card_id), "{query}: {list:?}");
        assert_eq!(total, list.len() as i64);
        assert!(
            list.iter().all(|c| c["department_id"] == app.department.id),
            "{query}: {list:?}"
        );
    }
    let detail = card_detail(&app, &approver, card_id).await;
    assert_eq!(detail["card"]["id"], card_id);
    assert_eq!(detail["events"][0]["action"], "issue");
    assert_eq!(detail["events"][0]["to_state"], "issued");

    // The other department sees nothing of it, even when asking for it.
    for query in ["", &format!("department_id={}", app.department.id)] {
        let (list, total) = cards(&app, &other, query).await;
        assert_eq!((list.len(), total), (0, 0), "{query}: {list:?}");
    }
    let refused = app
        .get(
            Some(&other),
            &format!("/api/v1/supervision/cards/{card_id}"),
        )
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);
    let refused = act_on_card(
        &app,
        &other,
        card_id,
        json!({"action": "explain", "text": "与我局无关"}),
    )
    .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);
    // Without a token there is nothing at all.
    let (status, _) = app.get(None, "/api/v1/supervision/cards").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Those the default settings name for a yellow card have an unread
    // notice: the handler, their B, the reviewers and the approvers.
    let handler_notices = notices_of_card(&notices(&app, &handler).await, card_id);
    assert_eq!(handler_notices.len(), 1, "{handler_notices:?}");
    let notice = &handler_notices[0];
    assert_eq!(notice["read"], false);
    assert!(
        notice["title"].as_str().unwrap().contains("黄牌"),
        "{notice}"
    );
    assert!(
        notice["body"].as_str().unwrap().contains(&case.number),
        "{notice}"
    );
    for member in [
        &app.people.handler_b,
        &app.people.reviewer,
        &app.people.approver,
    ] {
        let token = app.token(member).await;
        assert_eq!(
            notices_of_card(&notices(&app, &token).await, card_id).len(),
            1,
            "{} is alerted",
            member.name
        );
    }
    for member in [&app.people.handler_c, &app.people.other_clerk, &supervisor] {
        let token = app.token(member).await;
        assert!(
            notices_of_card(&notices(&app, &token).await, card_id).is_empty(),
            "{} is not alerted",
            member.name
        );
    }

    // Someone else cannot read the handler's notice, and the card stays issued.
    let notice_id = notice["id"].as_i64().unwrap();
    let (status, body) = read_notice(&app, &other, notice_id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON error");
    assert_error(&(status, body), StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(
        card_detail(&app, &sup, card_id).await["card"]["state"],
        "issued"
    );

    // The handler reads it: the card is notified, once.
    for _ in 0..2 {
        let (status, body) = read_notice(&app, &handler, notice_id).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let detail = card_detail(&app, &sup, card_id).await;
    assert_eq!(detail["card"]["state"], "notified", "{detail}");
    assert_eq!(detail["card"]["state_label"], "已通知");
    let notify: Vec<&Value> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "notify")
        .collect();
    assert_eq!(notify.len(), 1, "{detail}");
    assert_eq!(notify[0]["actor_id"], app.people.handler_a.id);
    assert_eq!(notify[0]["from_state"], "issued");
    let handler_notices = notices_of_card(&notices(&app, &handler).await, card_id);
    assert_eq!(handler_notices[0]["read"], true);
}

// ---------------------------------------------------------------------------
// 2. The card's lifecycle

#[tokio::test]
async fn the_department_answers_a_card_the_supervisor_concludes_it_a_revoked_one_stops_counting() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;
    let handler = app.token(&app.people.handler_a).await;
    let admin = app.token(&app.people.admin).await;
    let first = accepted_case(&app, &clerk).await;
    let second = accepted_case(&app, &clerk).await;
    assert_eq!(first.promised_due, second.promised_due);
    let found = next_day(first.promised_due);
    app.store
        .supervise(noon(found), &[])
        .await
        .expect("tick the day after the promised deadline");
    let explained = card_of(&app, &sup, first.id, "yellow").await["id"]
        .as_i64()
        .unwrap();
    let appealed = card_of(&app, &sup, second.id, "yellow").await["id"]
        .as_i64()
        .unwrap();

    // Nobody answered yet: the supervisor cannot close it.
    let refused = act_on_card(
        &app,
        &sup,
        explained,
        json!({"action": "close", "text": "予以办结"}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "card_transition_refused",
        None,
    );
    // Each side does only its own part.
    let refused = act_on_card(
        &app,
        &handler,
        explained,
        json!({"action": "close", "text": "已办结"}),
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "role_required", None);
    let refused = act_on_card(
        &app,
        &sup,
        explained,
        json!({"action": "explain", "text": "代为说明"}),
    )
    .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "role_required", None);
    // Bad input names its field.
    let refused = act_on_card(
        &app,
        &approver,
        explained,
        json!({"action": "apologise", "text": "抱歉"}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("action"),
    );
    let refused = act_on_card(
        &app,
        &approver,
        explained,
        json!({"action": "explain", "text": "  "}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("text"),
    );
    let refused = act_on_card(
        &app,
        &approver,
        explained,
        json!({"action": "explain", "text": "见附件", "attachments": [987654]}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("attachments"),
    );
    assert_eq!(
        card_detail(&app, &sup, explained).await["card"]["state"],
        "issued",
        "refused actions change nothing"
    );

    // The department explains, with an uploaded file.
    let (status, file) = upload_file(&app, &admin, "情况说明.pdf", PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let file_id = file["id"].as_i64().unwrap();
    let (status, detail) = act_on_card(
        &app,
        &approver,
        explained,
        json!({"action": "explain", "text": "申请人补充材料需外省核验，已于次日办结", "attachments": [file_id]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["card"]["state"], "explained");
    let event = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["action"], "explain");
    assert_eq!(event["from_state"], "issued");
    assert_eq!(event["to_state"], "explained");
    assert_eq!(event["actor_id"], app.people.approver.id);
    assert_eq!(event["actor_name"], "刘洋");
    assert_eq!(event["text"], "申请人补充材料需外省核验，已于次日办结");
    assert_eq!(event["attachments"], json!([file_id]));
    // The attachment is the card's: not public, not another department's,
    // and not to be published as a guide's form.
    let path = format!("/api/v1/files/{file_id}");
    assert_eq!(app.get(None, &path).await.0, StatusCode::UNAUTHORIZED);
    let other = app.token(&app.people.other_clerk).await;
    assert_eq!(app.get(Some(&other), &path).await.0, StatusCode::NOT_FOUND);
    for token in [&sup, &approver] {
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);
    }
    let (_, item) = app
        .get(None, &format!("/api/v1/items/{}", app.item.id))
        .await;
    let mut guide = item["guide"].clone();
    guide["materials"][0]["template_file"] = json!(file_id);
    let (status, refused) = app
        .put(
            &admin,
            &format!("/api/v1/items/{}", app.item.id),
            &json!({"guide": guide, "version": item["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(
        refused["error"]["field"], "guide.materials[0].template_file",
        "{refused}"
    );
    // Once is enough.
    let refused = act_on_card(
        &app,
        &handler,
        explained,
        json!({"action": "rectify", "text": "再补一份"}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "card_transition_refused",
        None,
    );

    // The supervisor concludes, with a conclusion.
    let refused = act_on_card(
        &app,
        &sup,
        explained,
        json!({"action": "close", "text": " "}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("conclusion"),
    );
    let (status, detail) = act_on_card(
        &app,
        &sup,
        explained,
        json!({"action": "close", "text": "情况属实，予以办结"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["card"]["state"], "closed");
    assert_eq!(detail["card"]["state_label"], "已办结");
    assert_eq!(detail["card"]["counted"], true);
    let actions: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["issue", "explain", "close"], "{detail}");
    let refused = act_on_card(
        &app,
        &sup,
        explained,
        json!({"action": "close", "text": "再次办结"}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "card_transition_refused",
        None,
    );

    // The other card: an appeal, no second one, then revoked.
    let before = figures(&app, &sup, "", app.department.id).await;
    assert_eq!(before["yellow"], 2, "{before}");
    let (status, detail) = act_on_card(
        &app,
        &approver,
        appealed,
        json!({"action": "appeal", "text": "系统故障导致无法流转，有运维记录为证"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["card"]["state"], "appealed");
    assert_eq!(detail["card"]["appealed"], true);
    let refused = act_on_card(
        &app,
        &handler,
        appealed,
        json!({"action": "appeal", "text": "再申诉一次"}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::CONFLICT,
        "second_appeal_refused",
        None,
    );
    let refused = act_on_card(
        &app,
        &sup,
        appealed,
        json!({"action": "revoke", "text": ""}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("reasons"),
    );
    let (status, detail) = act_on_card(
        &app,
        &sup,
        appealed,
        json!({"action": "revoke", "text": "经核查，延误系系统故障所致"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["card"]["state"], "revoked");
    assert_eq!(detail["card"]["counted"], false);
    // Revoked, it stays in the record but no longer counts.
    let (list, _) = cards(&app, &sup, "state=revoked").await;
    assert_eq!(ids(&list), [appealed]);
    let after = figures(&app, &sup, "", app.department.id).await;
    assert_eq!(after["yellow"], 1, "{after}");
    assert_eq!(after["warnings"], before["warnings"], "{after}");

    // A warning is closed directly, and not appealed.
    let warning = card_of(&app, &sup, first.id, "warning").await;
    let warning_id = warning["id"].as_i64().unwrap();
    assert!(
        warning["condition"].as_str().unwrap().contains("case_step"),
        "the handling step ran over: {warning}"
    );
    assert!(warning["answer_due"].is_null(), "{warning}");
    let refused = act_on_card(
        &app,
        &approver,
        warning_id,
        json!({"action": "appeal", "text": "不服"}),
    )
    .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("reasons"),
    );
    let (status, detail) = act_on_card(
        &app,
        &sup,
        warning_id,
        json!({"action": "close", "text": "已提醒承办人"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["card"]["state"], "closed");

    // Figures: the supervisor's only, with the overdue cases of the day.
    let refused = app
        .get(Some(&approver), "/api/v1/supervision/departments")
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    let refused = app
        .get(
            Some(&sup),
            "/api/v1/supervision/departments?date=2026-02-30",
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("date"),
    );
    let on_found = figures(&app, &sup, &format!("?date={found}"), app.department.id).await;
    assert_eq!(on_found["open_cases"], 2, "{on_found}");
    assert_eq!(on_found["overdue"], 2, "{on_found}");
    assert_eq!(on_found["yellow"], 1, "{on_found}");
    let elsewhere = figures(&app, &sup, "", app.other_department.id).await;
    assert_eq!(
        (&elsewhere["open_cases"], &elsewhere["yellow"]),
        (&json!(0), &json!(0)),
        "{elsewhere}"
    );
}

// ---------------------------------------------------------------------------
// 3. Accountability

#[tokio::test]
async fn the_supervisor_records_accountability_against_the_handler_and_the_card_shows_it() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;
    let auditor = app.token(&app.people.auditor).await;
    let case = accepted_case(&app, &clerk).await;
    app.store
        .supervise(noon(next_day(case.promised_due)), &[])
        .await
        .expect("tick");
    let card_id = card_of(&app, &sup, case.id, "yellow").await["id"]
        .as_i64()
        .unwrap();
    let record = |sanction: &str| {
        json!({
            "person_id": app.people.handler_a.id,
            "responsibility": "direct",
            "sanction": sanction,
            "basis": "无正当理由超过承诺时限未办结，依据《衡山县政务服务电子监察问责办法》第八条",
            "card_id": card_id,
            "case_id": case.id,
        })
    };
    let path = "/api/v1/supervision/accountability";

    // Not the department's to decide.
    let refused = app
        .post(Some(&approver), path, &record("admonition"), None)
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    // Bad input names its field.
    let refused = app.post(Some(&sup), path, &record("firing"), None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("sanction"),
    );
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("诫勉谈话"),
        "the message lists the sanctions: {}",
        refused.1
    );
    let mut body = record("admonition");
    body["responsibility"] = json!("collective");
    let refused = app.post(Some(&sup), path, &body, None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("responsibility"),
    );
    let mut body = record("admonition");
    body["basis"] = json!("   ");
    let refused = app.post(Some(&sup), path, &body, None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("basis"),
    );
    let mut body = record("admonition");
    body["card_id"] = json!(987654);
    let refused = app.post(Some(&sup), path, &body, None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("card_id"),
    );
    let mut body = record("admonition");
    body["person_id"] = json!(987654);
    let refused = app.post(Some(&sup), path, &body, None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("person_id"),
    );
    assert!(
        card_detail(&app, &sup, card_id).await["accountability"]
            .as_array()
            .unwrap()
            .is_empty(),
        "refused records leave nothing"
    );

    let (status, recorded) = app
        .post(Some(&sup), path, &record("admonition"), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    assert_eq!(recorded["person_id"], app.people.handler_a.id);
    assert_eq!(recorded["person_name"], "李明");
    assert_eq!(recorded["department_name"], "衡山县市场监督管理局");
    assert_eq!(recorded["responsibility"], "direct");
    assert_eq!(recorded["sanction"], "admonition");
    assert_eq!(recorded["sanction_label"], "诫勉谈话");
    assert_eq!(recorded["card_id"], card_id);
    assert_eq!(recorded["case_id"], case.id);
    assert_eq!(recorded["decided_by"], supervisor.id);

    // The card's detail shows it, to the department too.
    for token in [&sup, &approver] {
        let detail = card_detail(&app, token, card_id).await;
        let listed = detail["accountability"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{detail}");
        assert_eq!(listed[0]["id"], recorded["id"]);
        assert_eq!(listed[0]["sanction_label"], "诫勉谈话");
    }
    // The full list: the supervisor and the audit admin.
    for token in [&sup, &auditor] {
        let (status, all) = app.get(Some(token), path).await;
        assert_eq!(status, StatusCode::OK, "{all}");
        assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    }
    let refused = app.get(Some(&approver), path).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(audit_entries(&app, "accountability.record").await, 1);
}

// ---------------------------------------------------------------------------
// 4. Rules

#[tokio::test]
async fn the_supervisor_changes_the_rules_audited_and_the_next_tick_follows_them() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let admin = app.token(&app.people.admin).await;
    let handler = app.token(&app.people.handler_a).await;
    let path = "/api/v1/supervision/rules";

    // The defaults: warn 2 working days before the promised deadline, yellow
    // when it passes, red when the statutory one does.
    let (status, defaults) = app.get(Some(&sup), path).await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(defaults["deadlines"]["warning_days"]["case_promised"], 2);
    assert_eq!(
        defaults["deadlines"]["overdue_level"]["case_promised"],
        "yellow"
    );
    assert_eq!(
        defaults["deadlines"]["overdue_level"]["case_statutory"],
        "red"
    );
    assert_eq!(defaults["rectification_days"], 5);
    assert_eq!(defaults["instant_not_same_day"], "yellow");
    assert_eq!(defaults["item_warning_days"], json!({}));
    assert_eq!(
        defaults["recipients"]["yellow"],
        json!(["handler", "backup", "reviewer", "approver"])
    );
    let (status, seen) = app.get(Some(&admin), path).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen, defaults);
    let refused = app.get(Some(&handler), path).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    let refused = app.put(&admin, path, &defaults).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);

    // Bad documents are refused, naming the field, in Chinese.
    let with = |pointer: &str, value: Value| {
        let mut rules = defaults.clone();
        *rules.pointer_mut(pointer).expect(pointer) = value;
        rules
    };
    let mut unknown_field = defaults.clone();
    unknown_field["warning"] = json!(3);
    for (rules, field) in [
        (
            with("/deadlines/warning_days", json!({"case_foo": 2})),
            "rules",
        ),
        (
            with("/deadlines/overdue_level/case_promised", json!("purple")),
            "rules",
        ),
        (unknown_field, "rules"),
        (with("/rectification_days", json!(-1)), "rules"),
        (
            with("/item_warning_days", json!({"000117001000": -3})),
            "rules",
        ),
        (with("/rectification_days", json!(0)), "rectification_days"),
        (
            with("/deadlines/warning_days/case_promised", json!(99)),
            "warning_days.case_promised",
        ),
        (with("/recipients/red", json!([])), "recipients.red"),
        (with("/recipients/red", json!(["mayor"])), "rules"),
    ] {
        let refused = app.put(&sup, path, &rules).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some(field),
        );
    }
    assert_eq!(app.get(Some(&sup), path).await.1, defaults, "unchanged");
    assert_eq!(audit_entries(&app, "supervision.rules").await, 0);

    // A case accepted today is 5 working days from its promised deadline:
    // the default 2 days give no warning.
    let case = accepted_case(&app, &clerk).await;
    assert!(
        case.remaining_working_days > 2,
        "{}",
        case.remaining_working_days
    );

    // The supervisor wants 10 days' warning for this item and 7 days for
    // answers.
    let mut changed = with(
        "/item_warning_days",
        json!({ app.item.guide.code.clone(): 10 }),
    );
    changed["rectification_days"] = json!(7);
    let (status, saved) = app.put(&sup, path, &changed).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved, changed);
    assert_eq!(app.get(Some(&admin), path).await.1, changed);
    assert_eq!(audit_entries(&app, "supervision.rules").await, 1);
    let (status, verified) = app.get(Some(&sup), "/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["intact"], true, "{verified}");

    // The next tick (the supervisor's, at the real now) warns at once.
    let (status, tick) = app
        .post(Some(&sup), "/api/v1/supervision/tick", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{tick}");
    let warning = card_of(&app, &sup, case.id, "warning").await;
    assert_eq!(warning["condition"], "due_soon:case_promised", "{warning}");
    assert_eq!(warning["found_on"], tick["today"], "{tick}");
    assert!(
        tick["card_ids"]
            .as_array()
            .unwrap()
            .contains(&warning["id"]),
        "{tick}"
    );
    let refused = app
        .post(Some(&handler), "/api/v1/supervision/tick", &json!({}), None)
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);

    // A yellow card issued later gives the department the new 7 working days.
    let found = next_day(case.promised_due);
    app.store
        .supervise(noon(found), &[])
        .await
        .expect("tick after the deadline");
    let yellow = card_of(&app, &sup, case.id, "yellow").await;
    let (status, due) = app
        .get(
            None,
            &format!("/api/v1/calendar/due?start={found}&amount=7"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{due}");
    assert_eq!(yellow["answer_due"], due["due"], "{yellow}");
}

/// Fails at the time of writing: saving the rules leaves every running
/// deadline's `next_check_on` where the old rules put it, so a case already
/// ticked is not judged under the new warning days until that stale day.
#[tokio::test]
async fn more_warning_days_reach_a_case_already_watched_under_the_old_ones() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let path = "/api/v1/supervision/rules";
    let case = accepted_case(&app, &clerk).await;
    assert!(
        case.remaining_working_days > 2,
        "{}",
        case.remaining_working_days
    );

    // Watched under the defaults: no warning yet.
    let (status, tick) = app
        .post(Some(&sup), "/api/v1/supervision/tick", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{tick}");
    let (list, _) = cards(&app, &sup, &format!("case_id={}", case.id)).await;
    assert!(list.is_empty(), "{list:?}");

    let (_, mut rules) = app.get(Some(&sup), path).await;
    rules["item_warning_days"] = json!({ app.item.guide.code.clone(): 10 });
    let (status, saved) = app.put(&sup, path, &rules).await;
    assert_eq!(status, StatusCode::OK, "{saved}");

    // The same day, the next tick applies the new warning days.
    let (status, tick) = app
        .post(Some(&sup), "/api/v1/supervision/tick", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{tick}");
    let (list, _) = cards(&app, &sup, &format!("case_id={}", case.id)).await;
    assert_eq!(list.len(), 1, "a warning after the change: {list:?} {tick}");
    assert_eq!(list[0]["condition"], "due_soon:case_promised");
}

/// Art. 32: an application nobody decided on within five working days counts
/// as accepted from receipt. The tick applies it, as the system, once.
#[tokio::test]
async fn the_tick_accepts_an_application_nobody_answered_as_of_its_receipt() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    // Received a month ago (far past five working days, holidays or not).
    let received = noon(
        onewindow_core::calendar::civil_date(Timestamp::now())
            .checked_sub(jiff::Span::new().days(30))
            .expect("a day"),
    );
    let case_id = app.submit_at(received).await;
    let before = app.case(&clerk, case_id).await;
    assert_eq!(before["state"], "submitted", "{before}");

    let (status, tick) = app
        .post(Some(&sup), "/api/v1/supervision/tick", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{tick}");
    assert_eq!(tick["deemed_accepted"], json!([case_id]), "{tick}");

    let case = app.case(&clerk, case_id).await;
    assert_eq!(case["state"], "handling", "{case}");
    assert_eq!(case["deemed_accepted"], true, "{case}");
    assert_eq!(case["received_on"], before["received_on"], "{case}");
    let accept = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "accept")
        .expect("an acceptance on the timeline");
    assert_eq!(
        accept["actor_name"],
        Value::Null,
        "the system, not a person: {accept}"
    );
    // The window can no longer refuse it.
    let (status, refused) = app
        .act(
            &clerk,
            case_id,
            json!({"action": "reject", "reasons": "材料不全", "rights_notice": "如不服，可依法申请行政复议或者提起行政诉讼。"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");

    // A second tick accepts nothing more.
    let (status, again) = app
        .post(Some(&sup), "/api/v1/supervision/tick", &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["deemed_accepted"], json!([]), "{again}");
    let (_, verified) = app.get(Some(&sup), "/api/v1/audit/verify").await;
    assert_eq!(verified["intact"], true, "{verified}");
}

// ---------------------------------------------------------------------------
// 5. Filters

#[tokio::test]
async fn cards_filter_by_level_state_day_item_and_department_and_bad_filters_name_their_field() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let handler = app.token(&app.people.handler_a).await;
    let case = accepted_case(&app, &clerk).await;

    // The handling step runs over first (a warning), the promised deadline
    // later (a yellow card).
    let first_day = next_day(case.step_due);
    let second_day = next_day(case.promised_due);
    assert!(first_day < second_day);
    let first = app
        .store
        .supervise(noon(first_day), &[])
        .await
        .expect("first tick");
    assert!(!first.card_ids.is_empty(), "{first:?}");
    assert_eq!(first.issued.get("yellow"), None, "{first:?}");
    let second = app
        .store
        .supervise(noon(second_day), &[])
        .await
        .expect("second tick");
    assert_eq!(second.issued.get("yellow"), Some(&1), "{second:?}");

    let (all, total) = cards(&app, &sup, "").await;
    assert_eq!(total as usize, all.len());
    assert_eq!(
        ids(&all),
        {
            let mut both = [first.card_ids.clone(), second.card_ids.clone()].concat();
            both.sort_unstable();
            both
        },
        "every card issued is listed"
    );
    let yellow = ids_of(&all, |c| c["level"] == "yellow");
    let warnings = ids_of(&all, |c| c["level"] == "warning");
    assert_eq!(yellow.len(), 1);
    assert!(!warnings.is_empty());
    assert!(
        all.iter().any(|c| c["condition"]
            .as_str()
            .unwrap()
            .starts_with("overdue:case_step")),
        "{all:?}"
    );

    for (query, want) in [
        ("level=yellow".to_string(), yellow.clone()),
        ("level=warning".to_string(), warnings.clone()),
        ("level=red".to_string(), vec![]),
        (
            format!("from={second_day}"),
            ids_of(&all, |c| day(&c["found_on"]) >= second_day),
        ),
        (
            format!("to={first_day}"),
            ids_of(&all, |c| day(&c["found_on"]) <= first_day),
        ),
        (
            format!("from={first_day}&to={first_day}"),
            ids_of(&all, |c| c["found_on"] == first_day.to_string()),
        ),
        (format!("from={}", next_day(second_day)), vec![]),
        (format!("case_id={}", case.id), ids(&all)),
        (format!("item_id={}", app.item.id), ids(&all)),
        (format!("item_id={}", app.instant.id), vec![]),
        (format!("department_id={}", app.department.id), ids(&all)),
        (format!("department_id={}", app.other_department.id), vec![]),
        ("state=issued".to_string(), ids(&all)),
        ("state=closed".to_string(), vec![]),
        (
            format!("level=warning&to={first_day}"),
            ids_of(&all, |c| {
                c["level"] == "warning" && day(&c["found_on"]) <= first_day
            }),
        ),
        ("level=&state=".to_string(), ids(&all)),
    ] {
        let (list, total) = cards(&app, &sup, &query).await;
        assert_eq!(ids(&list), want, "{query}");
        assert_eq!(total as usize, want.len(), "{query}");
    }
    // The day filters really split the two ticks' cards.
    assert_eq!(ids_of(&all, |c| day(&c["found_on"]) >= second_day), yellow);
    assert!(!ids_of(&all, |c| day(&c["found_on"]) <= first_day).is_empty());

    // Reading the notice moves the yellow card to notified.
    let notice = notices_of_card(&notices(&app, &handler).await, yellow[0])[0]["id"]
        .as_i64()
        .unwrap();
    let (status, _) = read_notice(&app, &handler, notice).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (list, _) = cards(&app, &sup, "state=notified").await;
    assert_eq!(ids(&list), yellow);
    let (list, total) = cards(&app, &sup, "state=issued").await;
    assert_eq!(total as usize, all.len() - 1);
    assert!(!ids(&list).contains(&yellow[0]));

    // Pages: newest first, total of all.
    let (page_one, total) = cards(&app, &sup, "per_page=1&page=1").await;
    assert_eq!((page_one.len(), total as usize), (1, all.len()));
    assert_eq!(page_one[0]["id"], all[0]["id"]);
    let (page_two, total) = cards(&app, &sup, "per_page=1&page=2").await;
    assert_eq!((page_two.len(), total as usize), (1, all.len()));
    assert_eq!(page_two[0]["id"], all[1]["id"]);
    assert_ne!(page_one[0]["id"], page_two[0]["id"]);

    for (query, field) in [
        ("level=purple", "level"),
        ("state=forgotten", "state"),
        ("from=2026-13-01", "from"),
        ("to=2026-02-30", "to"),
        ("from=20261201", "from"),
        ("to=yesterday", "to"),
    ] {
        let refused = app
            .get(Some(&sup), &format!("/api/v1/supervision/cards?{query}"))
            .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some(field),
        );
    }
    let refused = app
        .get(Some(&sup), "/api/v1/supervision/cards?case_id=abc")
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        None,
    );
    let refused = app
        .get(Some(&sup), "/api/v1/supervision/cards/987654")
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);
}

fn ids_of(all: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<i64> {
    ids(&all.iter().filter(|c| keep(c)).cloned().collect::<Vec<_>>())
}

// ---------------------------------------------------------------------------
// 6. Outbox

#[tokio::test]
async fn the_outbox_lists_messages_by_state_and_re_sends_only_failed_ones() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let admin = app.token(&app.people.admin).await;
    let approver = app.token(&app.people.approver).await;
    let case = accepted_case(&app, &clerk).await;
    let found = next_day(case.promised_due);
    let report = app
        .store
        .supervise(noon(found), &[Channel::Webhook])
        .await
        .expect("tick with a webhook");
    assert!(report.messages > 0, "{report:?}");
    let yellow = card_of(&app, &sup, case.id, "yellow").await["id"]
        .as_i64()
        .unwrap();

    // One webhook message per card issued, pending.
    let (status, pending) = app.get(Some(&admin), "/api/v1/outbox?state=pending").await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    let pending = pending.as_array().unwrap().clone();
    assert_eq!(pending.len() as u64, report.messages, "{pending:?}");
    assert!(
        pending
            .iter()
            .all(|m| m["state"] == "pending" && m["channel"] == "webhook")
    );
    let message = pending
        .iter()
        .find(|m| m["card_id"] == yellow)
        .expect("the yellow card's message")
        .clone();
    assert_eq!(message["message_id"], format!("card-{yellow}-webhook"));
    assert!(message["subject"].as_str().unwrap().contains(&case.number));
    let (status, listed) = app.get(Some(&sup), "/api/v1/outbox").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), pending.len());
    for state in ["sent", "failed"] {
        let (status, listed) = app
            .get(Some(&admin), &format!("/api/v1/outbox?state={state}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed, json!([]), "{state}");
    }
    let refused = app.get(Some(&admin), "/api/v1/outbox?state=bogus").await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        Some("state"),
    );
    let refused = app.get(Some(&approver), "/api/v1/outbox").await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);

    // A pending message is not re-sent; nor by anyone but the admin.
    let id = message["id"].as_i64().unwrap();
    let resend = format!("/api/v1/outbox/{id}/resend");
    let refused = app.post(Some(&admin), &resend, &json!({}), None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        None,
    );
    let refused = app.post(Some(&sup), &resend, &json!({}), None).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    let refused = app
        .post(
            Some(&admin),
            "/api/v1/outbox/987654/resend",
            &json!({}),
            None,
        )
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found", None);

    // Every attempt fails until it is left as failed; the admin re-sends it.
    let mut at = noon(found);
    for _ in 0..onewindow_store::outbox::MAX_ATTEMPTS {
        at += jiff::SignedDuration::from_hours(2);
        let claimed = app
            .store
            .claim_messages(at, 100, jiff::SignedDuration::from_secs(60))
            .await
            .expect("claim");
        let mine = claimed.iter().find(|m| m.id == id).expect("claimed");
        app.store
            .message_failed(mine.id, "连接被拒绝", at)
            .await
            .expect("record the failure");
    }
    let (_, failed) = app.get(Some(&admin), "/api/v1/outbox?state=failed").await;
    let failed = failed.as_array().unwrap().clone();
    let ours = failed.iter().find(|m| m["id"] == id).expect("failed now");
    assert_eq!(ours["last_error"], "连接被拒绝");
    assert_eq!(ours["attempts"], onewindow_store::outbox::MAX_ATTEMPTS);
    let resends = audit_entries(&app, "outbox.resend").await;
    let (status, again) = app.post(Some(&admin), &resend, &json!({}), None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], id);
    assert_eq!(again["state"], "pending");
    assert_eq!(again["attempts"], 0);
    assert_eq!(audit_entries(&app, "outbox.resend").await, resends + 1);
    // Pending again, it is not re-sent twice.
    let refused = app.post(Some(&admin), &resend, &json!({}), None).await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        None,
    );
}
