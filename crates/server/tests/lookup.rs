//! The applicant's side after applying, on the look-up page: resubmitting
//! after the one-time supplement notice, and rating the finished case once
//! (a poor grade must say why); the same rating through the API.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{PHONE, TestApp, spawn_app};

/// Posts the look-up form as the page does (with the site's own Origin).
async fn lookup_form(app: &TestApp, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let response = app
        .client
        .post(app.url("/lookup"))
        .header("Origin", &app.base)
        .form(fields)
        .send()
        .await
        .expect("POST /lookup");
    let status = response.status();
    (status, response.text().await.expect("a page"))
}

fn number(receipt: &Value) -> String {
    receipt["number"]
        .as_str()
        .expect("a case number")
        .to_string()
}

fn case_id(receipt: &Value) -> i64 {
    receipt["case_id"]
        .as_i64()
        .or_else(|| receipt["id"].as_i64())
        .expect("a case id")
}

/// Carries the case through its three steps, the decision and delivery.
async fn finish(app: &TestApp, id: i64) {
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(
        &clerk,
        id,
        json!({"action": "accept", "opinion": "予以受理"}),
    )
    .await;
    for person in [
        &app.people.handler_a,
        &app.people.reviewer,
        &app.people.approver,
    ] {
        let token = app.token(person).await;
        app.act_ok(
            &token,
            id,
            json!({"action": "complete_step", "opinion": "同意"}),
        )
        .await;
    }
    let approver = app.token(&app.people.approver).await;
    app.act_ok(
        &approver,
        id,
        json!({"action": "decide", "outcome": "approve", "opinion": "准予许可"}),
    )
    .await;
    app.act_ok(
        &clerk,
        id,
        json!({"action": "deliver", "method": "窗口领取"}),
    )
    .await;
}

#[tokio::test]
async fn the_applicant_resubmits_after_the_notice_and_rates_the_finished_case_once() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let (id, number) = (case_id(&receipt), number(&receipt));
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(
        &clerk,
        id,
        json!({
            "action": "request_supplement",
            "items": [{"material": "营业执照", "problem": "缺少副本复印件"}],
        }),
    )
    .await;

    let (status, page) = lookup_form(&app, &[("number", &number), ("phone", PHONE)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("已补正，重新提交") && page.contains("缺少副本复印件"),
        "{page}"
    );
    assert!(!page.contains("提交评价"), "nothing to rate yet");
    let (status, page) = lookup_form(
        &app,
        &[
            ("number", &number),
            ("phone", PHONE),
            ("action", "resubmit"),
            ("note", "已将营业执照副本复印件送至窗口"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("补正材料已提交"), "{page}");
    assert!(!page.contains("已补正，重新提交"), "resubmitted once");
    assert_eq!(app.case(&clerk, id).await["state"], "submitted");

    finish(&app, id).await;
    let (_, page) = lookup_form(&app, &[("number", &number), ("phone", PHONE)]).await;
    assert!(
        page.contains("办事评价") && page.contains("非常满意"),
        "{page}"
    );

    // A poor grade without a reason is refused on the page, the case still shown.
    let (status, page) = lookup_form(
        &app,
        &[
            ("number", &number),
            ("phone", PHONE),
            ("action", "rate"),
            ("score", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("请说明不满意的原因"), "{page}");
    assert!(page.contains("提交评价"), "the form is offered again");

    let (_, page) = lookup_form(
        &app,
        &[
            ("number", &number),
            ("phone", PHONE),
            ("action", "rate"),
            ("score", "4"),
            ("comment", "窗口服务热情"),
        ],
    )
    .await;
    assert!(page.contains("感谢您的评价"), "{page}");
    assert!(
        page.contains("您的评价：") && page.contains("满意"),
        "{page}"
    );
    assert!(!page.contains("提交评价"), "rated once");
    let events = app.case(&clerk, id).await["events"].clone();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rate" && e["action_label"] == "评价"),
        "{events}"
    );

    // Through the API a second rating is refused; a wrong phone finds nothing.
    let (status, body) = app
        .post(
            None,
            "/api/v1/lookup/rating",
            &json!({"number": number, "phone": PHONE, "score": 5}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("只能评价一次")
    );
    let (status, _) = app
        .post(
            None,
            "/api/v1/lookup/rating",
            &json!({"number": number, "phone": "13900000000", "score": 5}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rating_through_the_api_names_a_bad_score() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let (id, number) = (case_id(&receipt), number(&receipt));
    finish(&app, id).await;
    let (status, body) = app
        .post(
            None,
            "/api/v1/lookup/rating",
            &json!({"number": number, "phone": PHONE, "score": 9}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "score");
    let (status, body) = app
        .post(
            None,
            "/api/v1/lookup/rating",
            &json!({"number": number, "phone": PHONE, "score": 5, "comment": "办事快"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["label"], "非常满意");
}
