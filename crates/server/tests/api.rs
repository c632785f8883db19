//! The HTTP API, through the real server on a fresh SQLite file: a case from
//! online application to delivery, supplements, refused transitions, bad
//! input, uploads checked by content, roles and A/B backups, idempotency keys,
//! concurrent requests, the OpenAPI document, the catalog spreadsheet and the
//! audit chain. Every assertion is about what a caller of the API would see.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use support::{MAX_UPLOAD, PDF, PHONE, TestApp, application, json_of, spawn_app};

/// A rights notice that names both remedies.
const NOTICE: &str =
    "如不服本决定，可以自收到本决定书之日起六十日内申请行政复议，或者六个月内依法提起行政诉讼。";

/// `430423-20261123-00001`: six digits, eight digits, five digits.
fn is_case_number(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && [6, 8, 5]
            .iter()
            .zip(&parts)
            .all(|(len, part)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()))
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

fn case_id(receipt: &Value) -> i64 {
    receipt["case_id"].as_i64().expect("a case id")
}

fn number(receipt: &Value) -> &str {
    receipt["number"].as_str().expect("a case number")
}

/// The actions of a case's timeline, in order.
fn actions(case: &Value) -> Vec<String> {
    case["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect()
}

fn count_of(case: &Value, action: &str) -> usize {
    actions(case).iter().filter(|a| *a == action).count()
}

/// The case's state as the store has it, bypassing the API.
async fn stored_state(app: &TestApp, case_id: i64) -> &'static str {
    app.store
        .case(case_id)
        .await
        .expect("the case")
        .facts
        .state
        .key()
}

#[tokio::test]
async fn a_case_goes_from_online_application_to_delivery_with_every_step_on_its_timeline() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let number = number(&receipt).to_string();
    assert!(is_case_number(&number), "case number {number}");
    assert!(number.starts_with("430423-"), "{number}");
    assert_eq!(receipt["state_label"], "待受理");

    let (status, public) = app.lookup(&number, PHONE).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["state_label"], "待受理");
    assert_eq!(public["department_name"], "衡山县市场监督管理局");
    assert_eq!(public["item_name"], "食品经营许可（新办）");

    let id = case_id(&receipt);
    let people = &app.people;
    let clerk = app.token(&people.clerk_a).await;
    let handler = app.token(&people.handler_a).await;
    let reviewer = app.token(&people.reviewer).await;
    let approver = app.token(&people.approver).await;

    let case = app
        .act_ok(
            &clerk,
            id,
            json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
        )
        .await;
    assert_eq!(case["state"], "handling");
    assert_eq!(case["department_id"], app.department.id);
    assert_eq!(case["current_step"], "承办");
    assert_eq!(case["assignee_id"], people.handler_a.id);
    assert!(case["promised_due"].is_string(), "{case}");

    let case = app
        .act_ok(
            &handler,
            id,
            json!({"action": "complete_step", "opinion": "经审查，符合条件"}),
        )
        .await;
    assert_eq!(case["state"], "reviewing");
    let case = app
        .act_ok(
            &reviewer,
            id,
            json!({"action": "complete_step", "opinion": "审核通过"}),
        )
        .await;
    assert_eq!(case["state"], "approving");
    let case = app
        .act_ok(
            &approver,
            id,
            json!({"action": "complete_step", "opinion": "同意"}),
        )
        .await;
    assert_eq!(case["state"], "deciding");
    let case = app
        .act_ok(
            &approver,
            id,
            json!({"action": "decide", "outcome": "approve", "opinion": "准予许可"}),
        )
        .await;
    assert_eq!(case["state"], "decided");
    let case = app
        .act_ok(
            &clerk,
            id,
            json!({"action": "deliver", "method": "窗口领取"}),
        )
        .await;
    assert_eq!(case["state"], "completed");
    assert_eq!(case["allowed_actions"], json!([]));

    let case = app.case(&clerk, id).await;
    assert_eq!(
        actions(&case),
        [
            "submit",
            "accept",
            "complete_step",
            "complete_step",
            "complete_step",
            "decide",
            "deliver"
        ]
    );
    let actors: Vec<Option<&str>> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor_name"].as_str())
        .collect();
    assert_eq!(
        actors,
        [
            None,
            Some("王芳"),
            Some("李明"),
            Some("陈静"),
            Some("刘洋"),
            Some("刘洋"),
            Some("王芳")
        ]
    );
    assert_eq!(case["events"][1]["detail"]["opinion"], "材料齐全，予以受理");
    assert_eq!(case["events"][6]["to_state_label"], "已办结");

    let (status, public) = app.lookup(&number, PHONE).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["state_label"], "已办结");
    assert_eq!(public["outcome"], "准予许可（批准）");
    assert_eq!(public["timeline"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn a_wrong_phone_reads_as_an_unknown_case_in_the_public_lookup() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let (status, body) = app.lookup(number(&receipt), "13900000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), "not_found");
    assert!(!body.to_string().contains("张三"), "{body}");
}

#[tokio::test]
async fn an_instant_item_is_accepted_decided_and_delivered_in_one_visit() {
    let app = spawn_app().await;
    let receipt = app.apply(app.instant.id).await;
    let id = case_id(&receipt);
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;

    let case = app
        .act_ok(
            &clerk,
            id,
            json!({"action": "accept", "opinion": "当场受理"}),
        )
        .await;
    assert_eq!(case["state"], "deciding");
    assert_eq!(case["current_step"], Value::Null);
    // A promised limit of 0 working days: due the day it is accepted.
    assert_eq!(case["promised_due"], case["received_on"]);
    assert_eq!(case["remaining_working_days"], 0);

    let case = app
        .act_ok(
            &approver,
            id,
            json!({"action": "decide", "outcome": "approve", "opinion": "准予登记"}),
        )
        .await;
    assert_eq!(case["state"], "decided");
    let case = app
        .act_ok(
            &clerk,
            id,
            json!({"action": "deliver", "method": "当场送达"}),
        )
        .await;
    assert_eq!(case["state"], "completed");
    assert_eq!(actions(&case), ["submit", "accept", "decide", "deliver"]);
    let days: HashSet<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["at"].as_str().unwrap()[..10])
        .collect();
    assert_eq!(days.len(), 1, "all on one day: {days:?}");
}

#[tokio::test]
async fn a_supplement_is_asked_once_listing_the_materials_and_the_applicant_resubmits() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let (id, number) = (case_id(&receipt), number(&receipt).to_string());
    let clerk = app.token(&app.people.clerk_a).await;

    let supplement = json!({
        "action": "request_supplement",
        "items": [
            {"material": "营业执照", "problem": "缺少副本复印件"},
            {"material": "食品经营许可申请书", "problem": "未加盖公章"},
        ],
        "note": "请一次性补齐以上材料",
    });
    let case = app.act_ok(&clerk, id, supplement.clone()).await;
    assert_eq!(case["state"], "awaiting_supplement");

    let (status, public) = app.lookup(&number, PHONE).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["state_label"], "待补正");
    assert_eq!(public["allowed_actions"], json!(["resubmit", "withdraw"]));
    let notice = public["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action_label"] == "一次性告知补正")
        .expect("the supplement notice on the timeline");
    let listed: Vec<&str> = notice["detail"]["items"]
        .as_array()
        .expect("the listed materials")
        .iter()
        .map(|i| i["material"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["营业执照", "食品经营许可申请书"]);
    assert_eq!(notice["detail"]["items"][0]["problem"], "缺少副本复印件");
    assert_eq!(notice["detail"]["note"], "请一次性补齐以上材料");

    // The applicant cannot give staff commands through the public look-up.
    let (status, body) = app
        .post(
            None,
            "/api/v1/lookup/actions",
            &json!({"number": number, "phone": PHONE, "action": "accept"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Nor resubmit with someone else's phone.
    let (status, body) = app
        .post(
            None,
            "/api/v1/lookup/actions",
            &json!({"number": number, "phone": "13900000000", "action": "resubmit"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, public) = app
        .post(
            None,
            "/api/v1/lookup/actions",
            &json!({"number": number, "phone": PHONE, "action": "resubmit", "note": "已补齐"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["state_label"], "待受理");

    let (status, body) = app.act(&clerk, id, supplement).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "second_supplement_refused");
    assert!(error_message(&body).contains("一次性"), "{body}");
    assert_eq!(stored_state(&app, id).await, "submitted");
    let case = app.case(&clerk, id).await;
    assert_eq!(count_of(&case, "request_supplement"), 1);
    assert!(
        !case["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("request_supplement")),
        "{case}"
    );
}

#[tokio::test]
async fn a_refused_transition_names_the_state_and_a_rejection_needs_reasons_and_remedies() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;

    let rejected = case_id(&app.apply(app.item.id).await);
    let case = app
        .act_ok(
            &clerk,
            rejected,
            json!({"action": "reject", "reasons": "不属于本机关职权范围", "rights_notice": NOTICE}),
        )
        .await;
    assert_eq!(case["state"], "rejected");
    let (status, body) = app
        .act(
            &approver,
            rejected,
            json!({"action": "decide", "outcome": "approve", "opinion": "准予许可"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "transition_refused");
    assert!(error_message(&body).contains("不予受理"), "{body}");
    assert!(error_message(&body).contains("作出决定"), "{body}");
    assert_eq!(stored_state(&app, rejected).await, "rejected");

    let open = case_id(&app.apply(app.item.id).await);
    let (status, body) = app
        .act(
            &clerk,
            open,
            json!({"action": "reject", "reasons": "  ", "rights_notice": NOTICE}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");
    assert_eq!(error_field(&body), "reasons");
    assert!(has_chinese(error_message(&body)), "{body}");

    let (status, body) = app
        .act(
            &clerk,
            open,
            json!({"action": "reject", "reasons": "材料不符合法定形式", "rights_notice": "无"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "rights_notice");
    assert!(error_message(&body).contains("复议"), "{body}");
    assert_eq!(stored_state(&app, open).await, "submitted");
}

#[tokio::test]
async fn a_rejection_that_leaves_out_the_reasons_names_the_reasons_field() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let open = case_id(&app.apply(app.item.id).await);
    let (status, body) = app
        .act(
            &clerk,
            open,
            json!({"action": "reject", "rights_notice": NOTICE}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");
    assert_eq!(error_field(&body), "reasons", "{body}");
    assert_eq!(stored_state(&app, open).await, "submitted");
}

#[tokio::test]
async fn bad_input_is_answered_with_422_naming_the_field_never_500() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;

    let response = app
        .client
        .post(app.url("/api/v1/applications"))
        .header("Content-Type", "application/json")
        .body(r#"{"item_id": 1, "applicant": {"#)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");
    assert!(has_chinese(error_message(&body)), "{body}");

    let receipt = app.apply(app.item.id).await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/cases/{}/actions", case_id(&receipt))))
        .bearer_auth(&clerk)
        .header("Content-Type", "application/json")
        .body("{\"action\": \"accept\",,}")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");

    let (status, body) = app
        .act(&clerk, case_id(&receipt), json!({"action": "approve_all"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");

    let mut wrong_type = application(app.item.id);
    wrong_type["item_id"] = json!("食品经营许可");
    let (status, body) = app
        .post(None, "/api/v1/applications", &wrong_type, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "item_id");

    let mut bad_phone = application(app.item.id);
    bad_phone["applicant"]["phone"] = json!("12345");
    let (status, body) = app
        .post(None, "/api/v1/applications", &bad_phone, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "applicant.phone");
    assert!(error_message(&body).contains("电话"), "{body}");

    let mut unknown_item = application(app.item.id);
    unknown_item["item_id"] = json!(987_654);
    let (status, body) = app
        .post(None, "/api/v1/applications", &unknown_item, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "item_id");

    let (status, body) = app
        .post(
            None,
            "/api/v1/applications",
            &application(app.draft.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "item_not_published");

    let (status, body) = app.get(Some(&clerk), "/api/v1/cases/987654").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), "not_found");

    let (status, body) = app.get(None, "/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), "not_found");

    // Only the one good application above was filed.
    assert_eq!(app.case_count().await, 1);
}

#[tokio::test]
async fn an_application_without_the_applicants_phone_names_applicant_phone() {
    let app = spawn_app().await;
    let mut body = application(app.item.id);
    body["applicant"]
        .as_object_mut()
        .unwrap()
        .remove("phone")
        .unwrap();
    let (status, body) = app.post(None, "/api/v1/applications", &body, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "invalid_input");
    assert_eq!(error_field(&body), "applicant.phone", "{body}");
    assert_eq!(app.case_count().await, 0);
}

/// A multipart application with one file for `material`.
fn upload(item_id: i64, material: &str, file_name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        // Browsers send field names as raw UTF-8.
        .percent_encode_noop()
        .text("application", application(item_id).to_string())
        .part(
            format!("material:{material}"),
            Part::bytes(bytes)
                .file_name(file_name.to_string())
                .mime_str("application/pdf")
                .unwrap(),
        )
}

async fn post_upload(app: &TestApp, form: Form) -> (StatusCode, Value) {
    json_of(
        app.client
            .post(app.url("/api/v1/applications"))
            .multipart(form)
            .send()
            .await
            .expect("POST multipart"),
    )
    .await
}

#[tokio::test]
async fn uploaded_materials_are_checked_by_content_and_size_and_a_refused_file_files_no_case() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;

    let (status, receipt) = post_upload(
        &app,
        upload(app.item.id, "营业执照", "营业执照副本.pdf", PDF.to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let case = app.case(&clerk, case_id(&receipt)).await;
    let materials = case["materials"].as_array().expect("materials");
    assert_eq!(materials.len(), 1, "{case}");
    assert_eq!(materials[0]["material_name"], "营业执照");
    assert_eq!(materials[0]["file_name"], "营业执照副本.pdf");
    assert_eq!(materials[0]["content_type"], "application/pdf");
    assert_eq!(materials[0]["size"], PDF.len());
    assert_eq!(
        materials[0]["sm3"],
        onewindow_core::audit::sm3_hex(PDF),
        "the digest of the bytes sent"
    );
    // The stored file is the one sent.
    let file = app
        .client
        .get(app.url(&format!(
            "/api/v1/files/{}",
            materials[0]["file_id"].as_i64().unwrap()
        )))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["x-content-type-options"], "nosniff");
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);

    let before = app.case_count().await;
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    let (status, body) = post_upload(&app, upload(app.item.id, "营业执照", "执照.pdf", elf)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "material:营业执照");
    assert!(error_message(&body).contains("执照.pdf"), "{body}");

    let text = "这不是PDF，只是一段文字。\n".repeat(20).into_bytes();
    let (status, body) = post_upload(
        &app,
        upload(app.item.id, "食品经营许可申请书", "申请书.pdf", text),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "material:食品经营许可申请书");

    let mut big = PDF.to_vec();
    big.resize(MAX_UPLOAD + 1024, b' ');
    let (status, body) =
        post_upload(&app, upload(app.item.id, "营业执照", "大文件.pdf", big)).await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert_eq!(error_field(&body), "material:营业执照");
    assert!(error_message(&body).contains("超过"), "{body}");

    // Past the limit of the whole request too (8 x the file limit, at least 1 MiB).
    let mut huge = PDF.to_vec();
    huge.resize(2 * 1024 * 1024, b' ');
    let (status, body) =
        post_upload(&app, upload(app.item.id, "营业执照", "扫描件.pdf", huge)).await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert_eq!(error_field(&body), "material:营业执照", "{body}");

    assert_eq!(
        app.case_count().await,
        before,
        "no case for a refused upload"
    );

    // An applicant's material cannot be published as a guide's form, nor
    // can a file that does not exist; a file uploaded for the catalog can.
    let admin = app.token(&app.people.admin).await;
    let (_, item) = app
        .get(None, &format!("/api/v1/items/{}", app.item.id))
        .await;
    let path = format!("/api/v1/items/{}", app.item.id);
    for (file, why) in [
        (materials[0]["file_id"].clone(), "办件材料"),
        (json!(987_654), "不存在"),
    ] {
        let mut guide = item["guide"].clone();
        guide["materials"][1]["sample_file"] = file;
        let (status, body) = app
            .put(
                &admin,
                &path,
                &json!({"guide": guide, "version": item["version"]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_field(&body), "guide.materials[1].sample_file");
        assert!(error_message(&body).contains(why), "{body}");
    }
    let form = Form::new().part(
        "file",
        Part::bytes(PDF.to_vec())
            .file_name("申请书样例.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let (status, uploaded) = json_of(
        app.client
            .post(app.url("/api/v1/files"))
            .bearer_auth(&admin)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    let mut guide = item["guide"].clone();
    guide["materials"][1]["sample_file"] = uploaded["id"].clone();
    let (status, body) = app
        .put(
            &admin,
            &path,
            &json!({"guide": guide, "version": item["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["guide"]["materials"][1]["sample_file"], uploaded["id"]);

    // Another department does not get the file either.
    let other = app.token(&app.people.other_clerk).await;
    let (status, _) = app
        .get(
            Some(&other),
            &format!("/api/v1/files/{}", materials[0]["file_id"]),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_act_only_with_their_role_in_their_department_and_b_only_while_a_is_away() {
    let app = spawn_app().await;
    let people = &app.people;
    let id = case_id(&app.apply(app.item.id).await);
    let submitted = case_id(&app.apply(app.item.id).await);

    // No token.
    let (status, body) = app.get(None, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_code(&body), "unauthenticated");
    let (status, _) = app
        .post(
            None,
            &format!("/api/v1/cases/{id}/actions"),
            &json!({"action": "accept"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.get(Some(&"0".repeat(64)), "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A handler cannot accept.
    let handler_a = app.token(&people.handler_a).await;
    let (status, body) = app
        .act(&handler_a, submitted, json!({"action": "accept"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "role_required");
    assert!(error_message(&body).contains("窗口受理"), "{body}");

    // Another department's clerk neither sees nor acts on the case.
    assert_eq!(people.other_clerk.department_id, app.other_department.id);
    let other = app.token(&people.other_clerk).await;
    let (status, _) = app
        .get(Some(&other), &format!("/api/v1/cases/{submitted}"))
        .await;
    assert!(
        matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{status}"
    );
    let (status, body) = app
        .act(
            &other,
            submitted,
            json!({"action": "accept", "opinion": "受理"}),
        )
        .await;
    assert!(
        matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{status}: {body}"
    );
    let (status, page) = app.get(Some(&other), "/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 0, "{page}");
    assert_eq!(stored_state(&app, submitted).await, "submitted");

    // The handling step is A's; B may not take it while A is at work.
    let clerk = app.token(&people.clerk_a).await;
    let case = app.act_ok(&clerk, id, json!({"action": "accept"})).await;
    assert_eq!(case["assignee_id"], people.handler_a.id);
    let handler_b = app.token(&people.handler_b).await;
    let step = json!({"action": "complete_step", "opinion": "经审查，符合条件"});
    let (status, body) = app.act(&handler_b, id, step.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "not_assignee");
    assert_eq!(stored_state(&app, id).await, "handling");

    // Only an admin or the department's approver records who is away.
    let absence = format!("/api/v1/staff/{}/absence", people.handler_a.id);
    let (status, _) = app
        .put(&handler_b, &absence, &json!({"absent": true}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let approver = app.token(&people.approver).await;
    let (status, body) = app.put(&approver, &absence, &json!({"absent": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["absent"], true);

    // Someone who is not A's backup still may not.
    let handler_c = app.token(&people.handler_c).await;
    let (status, body) = app.act(&handler_c, id, step.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "not_assignee");

    // B sees A's work in the queue and does it, recorded on A's behalf.
    let (status, queue) = app.get(Some(&handler_b), "/api/v1/queue").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        queue.as_array().unwrap().iter().any(|c| c["id"] == id),
        "{queue}"
    );
    let case = app.act_ok(&handler_b, id, step).await;
    assert_eq!(case["state"], "reviewing");
    let event = case["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["action"], "complete_step");
    assert_eq!(event["actor_name"], "周强");
    assert_eq!(event["on_behalf_name"], "李明");

    // A and B are never away together.
    let admin = app.token(&people.admin).await;
    let (status, body) = app
        .put(
            &admin,
            &format!("/api/v1/staff/{}/absence", people.handler_b.id),
            &json!({"absent": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_field(&body), "absent");
    assert!(error_message(&body).contains("同时缺岗"), "{body}");
    let b = app.store.staff_member(people.handler_b.id).await.unwrap();
    assert!(!b.absent);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_repeated_post_take_effect_once() {
    let app = spawn_app().await;
    let body = application(app.item.id);
    let (first_status, first) = app
        .post(None, "/api/v1/applications", &body, Some("apply-7f3a"))
        .await;
    let (second_status, second) = app
        .post(None, "/api/v1/applications", &body, Some("apply-7f3a"))
        .await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    assert_eq!(second_status, StatusCode::CREATED, "{second}");
    assert_eq!(first["number"], second["number"]);
    assert_eq!(first["case_id"], second["case_id"]);
    assert_eq!(app.case_count().await, 1);

    let mut other = body.clone();
    other["applicant"]["name"] = json!("李四");
    let (status, error) = app
        .post(None, "/api/v1/applications", &other, Some("apply-7f3a"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error_code(&error), "idempotency_key_reused");
    assert_eq!(app.case_count().await, 1);

    let id = case_id(&first);
    let clerk = app.token(&app.people.clerk_a).await;
    let accept = json!({"action": "accept", "opinion": "予以受理"});
    let path = format!("/api/v1/cases/{id}/actions");
    let (status_a, case_a) = app
        .post(Some(&clerk), &path, &accept, Some("accept-1"))
        .await;
    let (status_b, case_b) = app
        .post(Some(&clerk), &path, &accept, Some("accept-1"))
        .await;
    assert_eq!(status_a, StatusCode::OK, "{case_a}");
    assert_eq!(status_b, StatusCode::OK, "{case_b}");
    assert_eq!(case_a["version"], case_b["version"]);
    let case = app.case(&clerk, id).await;
    assert_eq!(count_of(&case, "accept"), 1, "{case}");
    assert_eq!(case["version"], case_a["version"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clerks_accepting_the_same_case_at_once_get_one_success_and_one_conflict() {
    let app = spawn_app().await;
    let id = case_id(&app.apply(app.item.id).await);
    let clerk_a = app.token(&app.people.clerk_a).await;
    let clerk_b = app.token(&app.people.clerk_b).await;
    let version = app.case(&clerk_a, id).await["version"].clone();

    let (a, b) = tokio::join!(
        app.act(
            &clerk_a,
            id,
            json!({"action": "accept", "opinion": "A受理", "version": version})
        ),
        app.act(
            &clerk_b,
            id,
            json!({"action": "accept", "opinion": "B受理", "version": version})
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    let refused = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert!(
        matches!(
            error_code(refused),
            "version_conflict" | "transition_refused"
        ),
        "{refused}"
    );
    let case = app.case(&clerk_a, id).await;
    assert_eq!(count_of(&case, "accept"), 1, "{case}");
    assert_eq!(case["state"], "handling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_applications_all_succeed_with_distinct_numbers() {
    let app = spawn_app().await;
    let before = app.case_count().await;
    let results = futures::future::join_all((0..50).map(|i| {
        let mut body = application(app.item.id);
        body["applicant"]["name"] = json!(format!("申请人{i}"));
        let app = &app;
        async move { app.post(None, "/api/v1/applications", &body, None).await }
    }))
    .await;
    let mut numbers = HashSet::new();
    for (status, receipt) in &results {
        assert_eq!(*status, StatusCode::CREATED, "{receipt}");
        let number = number(receipt);
        assert!(is_case_number(number), "{number}");
        numbers.insert(number.to_string());
    }
    assert_eq!(numbers.len(), 50);
    assert_eq!(app.case_count().await, before + 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retry_racing_the_first_request_with_the_same_key_files_one_case() {
    let app = spawn_app().await;
    let body = application(app.item.id);
    let (a, b) = tokio::join!(
        app.post(None, "/api/v1/applications", &body, Some("retry-42")),
        app.post(None, "/api/v1/applications", &body, Some("retry-42")),
    );
    assert_eq!(a.0, StatusCode::CREATED, "{}", a.1);
    assert_eq!(b.0, StatusCode::CREATED, "{}", b.1);
    assert_eq!(a.1["number"], b.1["number"]);
    assert_eq!(app.case_count().await, 1);
}

#[tokio::test]
async fn the_openapi_document_and_its_browsable_page_are_served_from_the_server_itself() {
    let app = spawn_app().await;
    let (status, document) = app.get(None, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        document["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/applications",
        "/api/v1/cases/{id}/actions",
        "/api/v1/lookup",
        "/api/v1/catalog/import",
    ] {
        assert!(paths.contains_key(path), "{path} documented");
    }

    let response = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    let mut assets = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            assets.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    assert!(!assets.is_empty(), "{html}");
    for asset in &assets {
        assert!(
            !(asset.starts_with("http:") || asset.starts_with("https:") || asset.starts_with("//")),
            "external asset {asset}"
        );
        let path = match asset.strip_prefix("./") {
            Some(relative) => format!("/api/docs/{relative}"),
            None if asset.starts_with('/') => asset.clone(),
            None => format!("/api/docs/{asset}"),
        };
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert!(!html.contains("https://"), "no external URL in the page");
    assert!(!html.contains("http://"), "no external URL in the page");
}

/// Every sheet of a workbook, as rows of cells from A1.
fn read_workbook(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    workbook
        .worksheets()
        .into_iter()
        .map(|(name, range)| {
            assert_eq!(range.start(), Some((0, 0)), "sheet {name} starts at A1");
            (name, range.rows().map(<[Data]>::to_vec).collect())
        })
        .collect()
}

/// A new workbook with the same sheets and cells, as a person would save it.
fn write_workbook(sheets: &[(String, Vec<Vec<Data>>)]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Data::Empty => continue,
                    Data::String(s) => sheet.write_string(r, c, s),
                    Data::Float(f) => sheet.write_number(r, c, *f),
                    Data::Int(i) => sheet.write_number(r, c, *i as f64),
                    Data::Bool(b) => sheet.write_boolean(r, c, *b),
                    other => sheet.write_string(r, c, other.to_string()),
                }
                .unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

/// The position of the item's row and of a column on the 事项 sheet.
fn cell_of(sheets: &[(String, Vec<Vec<Data>>)], code: &str, header: &str) -> (usize, usize) {
    let rows = &sheets.iter().find(|(n, _)| n == "事项").expect("事项").1;
    let column = rows[0]
        .iter()
        .position(|h| *h == Data::String(header.into()))
        .unwrap_or_else(|| panic!("column {header}"));
    let row = rows
        .iter()
        .position(|r| r[1] == Data::String(code.into()))
        .unwrap_or_else(|| panic!("row of {code}"));
    (row, column)
}

fn set_cell(sheets: &mut [(String, Vec<Vec<Data>>)], at: (usize, usize), value: Data) {
    let rows = &mut sheets.iter_mut().find(|(n, _)| n == "事项").unwrap().1;
    rows[at.0][at.1] = value;
}

async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    json_of(
        app.client
            .post(app.url("/api/v1/catalog/import"))
            .bearer_auth(token)
            .header(
                "Content-Type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(bytes)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_catalog_goes_out_to_a_spreadsheet_and_an_edited_cell_comes_back_in() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;

    let clerk = app.token(&app.people.clerk_a).await;
    let response = app
        .client
        .get(app.url("/api/v1/catalog/export"))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = app
        .client
        .get(app.url("/api/v1/catalog/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let exported = response.bytes().await.unwrap().to_vec();
    let mut sheets = read_workbook(&exported);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["事项", "申请材料", "收费", "办理环节", "表单字段"]);

    let code = &app.item.guide.code;
    let name_cell = cell_of(&sheets, code, "事项名称");
    set_cell(
        &mut sheets,
        name_cell,
        Data::String("食品经营许可（新办·告知承诺）".into()),
    );
    let limit_cell = cell_of(&sheets, code, "承诺时限");
    set_cell(&mut sheets, limit_cell, Data::Float(6.0));
    let (status, summary) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["updated"], 1, "{summary}");
    assert_eq!(summary["created"], 0, "{summary}");
    assert_eq!(summary["unchanged"], 2, "{summary}");

    let (status, item) = app
        .get(None, &format!("/api/v1/items/{}", app.item.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(item["name"], "食品经营许可（新办·告知承诺）");
    assert_eq!(item["guide"]["promised_limit"]["amount"], 6);
    assert_eq!(item["guide"]["steps"].as_array().unwrap().len(), 3);
    assert_eq!(item["guide"]["materials"].as_array().unwrap().len(), 2);
    let version = item["version"].clone();

    // A bad cell refuses the whole file and names where it is.
    let mut bad = sheets.clone();
    set_cell(&mut bad, name_cell, Data::String("不该生效的名称".into()));
    set_cell(&mut bad, limit_cell, Data::String("abc".into()));
    let (status, body) = import(&app, &admin, write_workbook(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = error_message(&body);
    assert!(message.contains("事项"), "{message}");
    assert!(
        message.contains(&format!("第{}行", limit_cell.0 + 1)),
        "{message}"
    );
    assert!(message.contains("承诺时限"), "{message}");

    let mut bad = sheets.clone();
    set_cell(&mut bad, name_cell, Data::String("不该生效的名称".into()));
    let category_cell = cell_of(&bad, code, "办件类型");
    set_cell(&mut bad, category_cell, Data::String("快办件".into()));
    let (status, body) = import(&app, &admin, write_workbook(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = error_message(&body);
    assert!(
        message.contains(&format!("第{}行", category_cell.0 + 1)),
        "{message}"
    );
    assert!(message.contains("办件类型"), "{message}");
    assert!(message.contains("快办件"), "{message}");

    let (_, item) = app
        .get(None, &format!("/api/v1/items/{}", app.item.id))
        .await;
    assert_eq!(item["name"], "食品经营许可（新办·告知承诺）");
    assert_eq!(item["version"], version, "the catalog is unchanged");

    let (status, body) = import(&app, &admin, b"not a workbook".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn the_audit_chain_verifies_until_an_entry_is_edited_in_the_database() {
    let app = spawn_app().await;
    let auditor = app.token(&app.people.auditor).await;
    let clerk = app.token(&app.people.clerk_a).await;

    let (status, _) = app.get(Some(&clerk), "/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, report) = app.get(Some(&auditor), "/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["intact"], true, "{report}");
    assert!(report["entries"].as_i64().unwrap() > 3, "{report}");

    // The database refuses the edit until its append-only guard is dropped,
    // as the database owner could.
    let refused = sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 3")
        .execute(app.store.pool())
        .await;
    assert!(refused.is_err(), "the audit log is append-only");
    let on = match app.store.backend() {
        onewindow_store::Backend::Sqlite => "",
        onewindow_store::Backend::Postgres => " ON audit_log",
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP TRIGGER audit_log_no_update{on}"
    )))
    .execute(app.store.pool())
    .await
    .expect("drop the guard");
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 3")
        .execute(app.store.pool())
        .await
        .expect("tamper with entry 3");
    let (status, report) = app.get(Some(&auditor), "/api/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["intact"], false, "{report}");
    assert_eq!(report["broken_seq"], 3, "{report}");
    assert!(has_chinese(report["message"].as_str().unwrap()), "{report}");
}

#[tokio::test]
async fn the_applicant_withdraws_through_the_lookup_and_the_window_can_no_longer_accept() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let (status, public) = app
        .post(
            None,
            "/api/v1/lookup/actions",
            &json!({"number": number(&receipt), "phone": PHONE, "action": "withdraw", "reason": "不再经营"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["state_label"], "已撤回");
    assert_eq!(public["allowed_actions"], json!([]));

    let clerk = app.token(&app.people.clerk_a).await;
    let (status, body) = app
        .act(&clerk, case_id(&receipt), json!({"action": "accept"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "transition_refused");
    assert!(error_message(&body).contains("已撤回"), "{body}");
}

#[tokio::test]
async fn a_clerk_registers_an_application_at_the_window_only_for_their_department() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let (status, case) = app
        .post(
            Some(&clerk),
            "/api/v1/cases",
            &application(app.item.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["channel"], "window");
    assert_eq!(case["state"], "submitted");
    assert_eq!(case["events"][0]["actor_name"], "王芳");

    let other = app.token(&app.people.other_clerk).await;
    let (status, body) = app
        .post(
            Some(&other),
            "/api/v1/cases",
            &application(app.item.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let handler = app.token(&app.people.handler_a).await;
    let (status, _) = app
        .post(
            Some(&handler),
            "/api/v1/cases",
            &application(app.item.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.case_count().await, 1);
}

#[tokio::test]
async fn a_special_procedure_suspends_the_case_and_the_step_holder_resumes_it() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let id = case_id(&receipt);
    let clerk = app.token(&app.people.clerk_a).await;
    let handler = app.token(&app.people.handler_a).await;
    let before = app.act_ok(&clerk, id, json!({"action": "accept"})).await;

    let case = app
        .act_ok(
            &handler,
            id,
            json!({"action": "suspend", "procedure": "site_inspection", "reason": "需现场核查经营场所", "planned_days": 3}),
        )
        .await;
    assert_eq!(case["state"], "suspended");
    let (_, public) = app.lookup(number(&receipt), PHONE).await;
    assert_eq!(public["state_label"], "特别程序中");

    let case = app
        .act_ok(
            &handler,
            id,
            json!({"action": "resume", "note": "核查完毕"}),
        )
        .await;
    assert_eq!(case["state"], "handling");
    // Suspended and resumed the same day: no working day was paused.
    assert_eq!(case["paused_working_days"], 0);
    assert_eq!(case["promised_due"], before["promised_due"]);
}

#[tokio::test]
async fn accepting_a_case_another_clerk_already_accepted_is_refused_as_a_transition() {
    let app = spawn_app().await;
    let id = case_id(&app.apply(app.item.id).await);
    let clerk_a = app.token(&app.people.clerk_a).await;
    let clerk_b = app.token(&app.people.clerk_b).await;
    app.act_ok(&clerk_a, id, json!({"action": "accept"})).await;
    // B's page was stale and sends no version: the case is being handled now,
    // which is what B must be told (not that B lacks a permission B has).
    let (status, body) = app.act(&clerk_b, id, json!({"action": "accept"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "transition_refused", "{body}");
    assert!(error_message(&body).contains("承办中"), "{body}");
}

#[tokio::test]
async fn the_approver_terminates_a_case_while_a_handler_has_it() {
    let app = spawn_app().await;
    let receipt = app.apply(app.item.id).await;
    let id = case_id(&receipt);
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;
    app.act_ok(&clerk, id, json!({"action": "accept"})).await;
    // Terminate needs the approver's role in any open state; the handling
    // step being assigned to the handler does not make it the handler's call.
    let (status, body) = app
        .act(
            &approver,
            id,
            json!({"action": "terminate", "reason": "申请人已注销，依法终止办理"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "terminated");
    let (_, public) = app.lookup(number(&receipt), PHONE).await;
    assert_eq!(public["state_label"], "已终止");
}

#[tokio::test]
async fn a_malformed_query_string_or_path_gets_the_json_error_body_too() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let receipt = app.apply(app.item.id).await;

    // Every error body is {"error": {"code", "message", "field"?}} (error.rs),
    // whichever extractor refuses the request.
    let raw = |path: String| {
        let request = app.client.get(app.url(&path)).bearer_auth(&clerk);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str::<Value>(&text).ok(), text)
        }
    };
    let missing_phone = raw(format!("/api/v1/lookup?number={}", number(&receipt))).await;
    let bad_page = raw("/api/v1/cases?page=abc".into()).await;
    let bad_id = raw("/api/v1/cases/abc".into()).await;

    let (status, body, text) = &missing_phone;
    assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let body = body
        .as_ref()
        .unwrap_or_else(|| panic!("a JSON error body: {text}"));
    assert_eq!(error_code(body), "invalid_input");
    assert_eq!(error_field(body), "phone", "{body}");

    let (status, body, text) = &bad_page;
    assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let body = body
        .as_ref()
        .unwrap_or_else(|| panic!("a JSON error body: {text}"));
    assert_eq!(error_field(body), "page", "{body}");

    let (status, body, text) = &bad_id;
    assert!(
        matches!(
            *status,
            StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "{status}: {text}"
    );
    let body = body
        .as_ref()
        .unwrap_or_else(|| panic!("a JSON error body: {text}"));
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[tokio::test]
async fn the_admin_opens_a_window_that_everyone_can_list_and_a_clerk_cannot() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let body = json!({ "department_id": app.department.id, "name": "市场监管窗口", "location": "一楼B区5号" });
    let (status, window) = app.post(Some(&admin), "/api/v1/windows", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{window}");
    assert_eq!(window["name"], "市场监管窗口");

    let path = format!("/api/v1/windows?department_id={}", app.department.id);
    let (status, windows) = app.get(None, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        windows
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["location"] == "一楼B区5号")
    );

    let clerk = app.token(&app.people.clerk_a).await;
    let (status, _) = app.post(Some(&clerk), "/api/v1/windows", &body, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let blank = json!({ "department_id": app.department.id, "name": " " });
    let (status, error) = app
        .post(Some(&admin), "/api/v1/windows", &blank, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["field"], "name");
    let nowhere = json!({ "department_id": 999_999, "name": "无此部门窗口" });
    let (status, error) = app
        .post(Some(&admin), "/api/v1/windows", &nowhere, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "department_id");
}

#[tokio::test]
async fn staff_and_items_of_a_missing_department_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let person = json!({
        "login": "nobody_dept", "name": "无部门", "department_id": 999_999,
        "roles": ["handler"], "password": "long-enough-1",
    });
    let (status, error) = app.post(Some(&admin), "/api/v1/staff", &person, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "department_id");

    let mut guide = serde_json::to_value(&app.item.guide).unwrap();
    guide["code"] = json!("000117999777");
    let item = json!({ "department_id": 999_999, "guide": guide });
    let (status, error) = app.post(Some(&admin), "/api/v1/items", &item, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "department_id");

    // A guide with several gaps is refused naming every one of them.
    guide["name"] = json!(" ");
    guide["location"] = json!("");
    guide["visits"] = json!(3);
    let item = json!({ "department_id": app.item.department_id, "guide": guide });
    let (status, error) = app.post(Some(&admin), "/api/v1/items", &item, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let fields: Vec<&str> = error["error"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "location", "visits"], "{error}");
    assert_eq!(error["error"]["field"], "name");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("到办事现场次数只能是0、1或2次"),
        "{error}"
    );
}
