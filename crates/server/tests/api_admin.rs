//! The administrator's REST API through the real server: a department's
//! particulars, a window, a staff member's profile and department, their A/B
//! post and presence, a password reset. Every change is audited; an unknown
//! id is not found, bad input names its field, and only the roles that may
//! change a thing change it.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use support::{PASSWORD, TestApp, spawn_app};

/// Sends a JSON request with a bearer token; an empty answer reads as null.
async fn send(
    app: &TestApp,
    method: Method,
    token: &str,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("a response");
    let status = response.status();
    let text = response.text().await.expect("a body");
    if text.is_empty() {
        return (status, Value::Null);
    }
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a JSON body ({e}), got {status}: {text}"));
    (status, value)
}

async fn put(app: &TestApp, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    send(app, Method::PUT, token, path, body).await
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

/// Asserts a refusal of bad input naming `name`, with a Chinese message.
fn assert_invalid(status: StatusCode, body: &Value, name: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(body), "invalid_input", "{body}");
    assert_eq!(field(body), name, "{body}");
    assert!(
        message(body)
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{body}"
    );
}

fn assert_not_found(status: StatusCode, body: &Value, text: &str) {
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(body), "not_found", "{body}");
    assert_eq!(message(body), text, "{body}");
}

/// The last audit entry about an object: who, what, and its detail.
async fn last_audit(app: &TestApp, kind: &str, id: i64) -> (String, String, Value) {
    let entry = app
        .store
        .audit_entries(kind, &id.to_string(), 1)
        .await
        .expect("audit entries")
        .into_iter()
        .next()
        .expect("an audit entry");
    let detail = serde_json::from_str(&entry.detail).expect("a JSON detail");
    (entry.actor, entry.action, detail)
}

fn department_body(name: &str) -> Value {
    json!({
        "name": name,
        "level": "county",
        "window_location": "政务服务中心二楼B区",
        "phone": "0734-5822999",
        "address": "衡山县开云镇新民路8号",
    })
}

#[tokio::test]
async fn an_admin_changes_a_department_s_particulars() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let id = app.department.id;
    let path = format!("/api/v1/departments/{id}");

    let (status, view) = put(&app, &admin, &path, &department_body("衡山县市场监管局")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["name"], "衡山县市场监管局");
    assert_eq!(view["code"], app.department.code.as_str());
    assert_eq!(view["phone"], "0734-5822999");
    assert_eq!(view["level_label"], "县级");
    let (_, listed) = app.get(None, "/api/v1/departments").await;
    let listed = listed
        .as_array()
        .expect("departments")
        .iter()
        .find(|d| d["id"] == id)
        .expect("the department")
        .clone();
    assert_eq!(listed["address"], "衡山县开云镇新民路8号");
    let (actor, action, detail) = last_audit(&app, "department", id).await;
    assert_eq!(actor, format!("staff:{}", app.people.admin.id));
    assert_eq!(action, "update_department");
    assert_eq!(detail["from_name"], "衡山县市场监督管理局");

    let mut township = department_body("开云镇便民服务中心");
    township["level"] = json!("township");
    let (status, view) = put(&app, &admin, &path, &township).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["level"], "township");

    let mut bad_level = department_body("衡山县市场监管局");
    bad_level["level"] = json!("province");
    let (status, body) = put(&app, &admin, &path, &bad_level).await;
    assert_invalid(status, &body, "level");
    let (status, body) = put(&app, &admin, &path, &department_body("  ")).await;
    assert_invalid(status, &body, "name");
    let (status, body) = put(&app, &admin, &path, &json!({ "level": "county" })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = put(
        &app,
        &admin,
        "/api/v1/departments/99999",
        &department_body("无此部门"),
    )
    .await;
    assert_not_found(status, &body, "未找到该部门");
    let clerk = app.token(&app.people.clerk_a).await;
    let (status, body) = put(&app, &clerk, &path, &department_body("窗口改名")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        app.store.department(id).await.unwrap().name,
        "开云镇便民服务中心"
    );
}

#[tokio::test]
async fn an_admin_renames_and_moves_a_window() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let (status, window) = app
        .post(
            Some(&admin),
            "/api/v1/windows",
            &json!({ "department_id": app.department.id, "name": "A01", "location": "一楼A区" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{window}");
    let id = window["id"].as_i64().expect("a window id");
    let path = format!("/api/v1/windows/{id}");

    let (status, view) = put(
        &app,
        &admin,
        &path,
        &json!({ "name": " A01综合受理窗口 ", "location": "一楼B区" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        view,
        json!({ "id": id, "department_id": app.department.id, "name": "A01综合受理窗口", "location": "一楼B区" })
    );
    let (_, listed) = app
        .get(
            None,
            &format!("/api/v1/windows?department_id={}", app.department.id),
        )
        .await;
    assert_eq!(listed, json!([view]));
    assert_eq!(last_audit(&app, "window", id).await.1, "update_window");

    let (status, body) = put(&app, &admin, &path, &json!({ "name": "" })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = put(&app, &admin, &path, &json!({ "location": "二楼" })).await;
    assert_invalid(status, &body, "name");
    let (status, body) = put(
        &app,
        &admin,
        "/api/v1/windows/99999",
        &json!({ "name": "B01" }),
    )
    .await;
    assert_not_found(status, &body, "未找到该窗口");
    let approver = app.token(&app.people.approver).await;
    let (status, _) = put(&app, &approver, &path, &json!({ "name": "B01" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.window(id).await.unwrap().name, "A01综合受理窗口");
}

/// A staff member's profile as the API takes it.
fn profile(name: &str, department_id: i64, roles: &[&str]) -> Value {
    json!({
        "name": name,
        "department_id": department_id,
        "roles": roles,
        "phone": "13807349999",
        "email": "chen.jing@hengshan.gov.cn",
    })
}

#[tokio::test]
async fn an_admin_edits_a_person_and_moves_them_to_another_department() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let reviewer = &app.people.reviewer;
    let path = format!("/api/v1/staff/{}", reviewer.id);
    let market = app.department.id;
    let housing = app.other_department.id;

    let (status, view) = put(
        &app,
        &admin,
        &path,
        &profile("陈静（副科长）", market, &["reviewer", "approver"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["name"], "陈静（副科长）");
    assert_eq!(view["roles"], json!(["reviewer", "approver"]));
    assert_eq!(view["login"], "chenjing");
    let emails = app.store.staff_emails(Some(market)).await.unwrap();
    assert_eq!(emails[&reviewer.id], "chen.jing@hengshan.gov.cn");

    // Moved to the other department: the answer and the listing say so, and
    // the audit entry names both departments.
    let (status, view) = put(
        &app,
        &admin,
        &path,
        &profile("陈静", housing, &["reviewer"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["department_id"], housing);
    let (_, listed) = app
        .get(
            Some(&admin),
            &format!("/api/v1/staff?department_id={housing}"),
        )
        .await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == reviewer.id),
        "{listed}"
    );
    let (actor, action, detail) = last_audit(&app, "staff", reviewer.id).await;
    assert_eq!(actor, format!("staff:{}", app.people.admin.id));
    assert_eq!(action, "update_staff");
    assert_eq!(detail["from_department_id"], market);
    assert_eq!(detail["department_id"], housing);

    // Clerk A has a B, clerk B is A's B: neither leaves the department.
    for member in [&app.people.clerk_a, &app.people.clerk_b] {
        let (status, body) = put(
            &app,
            &admin,
            &format!("/api/v1/staff/{}", member.id),
            &profile(&member.name, housing, &["window_clerk"]),
        )
        .await;
        assert_invalid(status, &body, "department_id");
        assert!(message(&body).contains("B角"), "{body}");
        let stored = app.store.staff_member(member.id).await.unwrap();
        assert_eq!(stored.department_id, market);
    }

    let cases = [
        (profile("陈静", 99999, &["reviewer"]), "department_id"),
        (profile("陈静", housing, &["chief"]), "roles"),
        (profile("陈静", housing, &[]), "roles"),
        (profile("陈静", housing, &["admin", "audit_admin"]), "roles"),
        (profile(" ", housing, &["reviewer"]), "name"),
        (
            json!({ "name": "陈静", "department_id": housing, "roles": ["reviewer"], "email": "chenjing" }),
            "email",
        ),
        (
            json!({ "name": "陈静", "roles": ["reviewer"] }),
            "department_id",
        ),
    ];
    for (body, name) in cases {
        let (status, answer) = put(&app, &admin, &path, &body).await;
        assert_invalid(status, &answer, name);
    }
    let (status, body) = put(
        &app,
        &admin,
        "/api/v1/staff/99999",
        &profile("无此人", market, &["handler"]),
    )
    .await;
    assert_not_found(status, &body, "未找到该工作人员");
    let approver = app.token(&app.people.approver).await;
    let (status, body) = put(
        &app,
        &approver,
        &path,
        &profile("陈静", market, &["reviewer"]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let stored = app.store.staff_member(reviewer.id).await.unwrap();
    assert_eq!(stored.department_id, housing);
    assert_eq!(stored.name, "陈静");
}

#[tokio::test]
async fn a_password_reset_ends_the_person_s_sessions() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let handler = &app.people.handler_c;
    let old_session = app.token(handler).await;
    let path = format!("/api/v1/staff/{}/password", handler.id);

    let (status, body) = put(&app, &admin, &path, &json!({ "password": "hengshan-2027" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions_ended"], 1);
    let (status, _) = app.get(Some(&old_session), "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(
            None,
            "/api/v1/auth/login",
            &json!({ "login": handler.login, "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let token = app.login(&handler.login, "hengshan-2027").await;
    let reset = app
        .store
        .audit_entries("staff", &handler.id.to_string(), 5)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "reset_password")
        .expect("the reset is audited");
    assert_eq!(reset.actor, format!("staff:{}", app.people.admin.id));

    let (status, body) = put(&app, &admin, &path, &json!({ "password": "short" })).await;
    assert_invalid(status, &body, "password");
    let (status, body) = put(&app, &admin, &path, &json!({})).await;
    assert_invalid(status, &body, "password");
    let (status, body) = put(
        &app,
        &admin,
        "/api/v1/staff/99999/password",
        &json!({ "password": "long enough 1" }),
    )
    .await;
    assert_not_found(status, &body, "未找到该工作人员");
    // Neither the audit admin nor a colleague resets anyone's password.
    for other in [&app.people.auditor, &app.people.handler_a] {
        let token = app.token(other).await;
        let (status, _) = put(&app, &token, &path, &json!({ "password": "taken over 1" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = app.get(Some(&token), "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "the refused resets changed nothing");
}

#[tokio::test]
async fn a_security_admin_manages_people_but_not_departments() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let (status, body) = app
        .post(
            Some(&admin),
            "/api/v1/staff",
            &json!({
                "login": "baomi", "name": "安全保密管理员", "department_id": app.department.id,
                "roles": ["security_admin"], "password": PASSWORD,
            }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let security = app.login("baomi", PASSWORD).await;
    let handler = &app.people.handler_c;
    let (status, body) = put(
        &app,
        &security,
        &format!("/api/v1/staff/{}", handler.id),
        &profile("孙伟", app.department.id, &["handler", "reviewer"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["roles"], json!(["handler", "reviewer"]));
    let (status, body) = put(
        &app,
        &security,
        &format!("/api/v1/staff/{}/password", handler.id),
        &json!({ "password": "hengshan-2027" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = put(
        &app,
        &security,
        &format!("/api/v1/departments/{}", app.department.id),
        &department_body("改名"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_b_backup_is_someone_else_of_the_same_department() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let people = &app.people;
    let reviewer = people.reviewer.id;
    let path = format!("/api/v1/staff/{reviewer}/backup");

    let refused = [
        (Some(reviewer), "不能指定本人"),
        (Some(people.other_clerk.id), "同一部门"),
        (Some(99999), "不存在"),
    ];
    for (backup_id, text) in refused {
        let (status, body) = put(&app, &admin, &path, &json!({ "backup_id": backup_id })).await;
        assert_invalid(status, &body, "backup_id");
        assert!(message(&body).contains(text), "{body}");
    }
    assert_eq!(
        app.store.staff_member(reviewer).await.unwrap().backup_id,
        None
    );

    let (status, body) = put(
        &app,
        &admin,
        &path,
        &json!({ "backup_id": people.approver.id }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, staff) = app.get(Some(&admin), "/api/v1/staff").await;
    let listed = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == reviewer)
        .expect("the reviewer")
        .clone();
    assert_eq!(listed["backup_id"], people.approver.id);
    assert_eq!(last_audit(&app, "staff", reviewer).await.1, "set_backup");
    let (status, body) = put(
        &app,
        &admin,
        "/api/v1/staff/99999/backup",
        &json!({ "backup_id": people.approver.id }),
    )
    .await;
    assert_not_found(status, &body, "未找到该工作人员");

    // Absent, then present again; the audit records both.
    let absence = format!("/api/v1/staff/{reviewer}/absence");
    let (status, view) = put(&app, &admin, &absence, &json!({ "absent": true })).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["absent"], true);
    let (status, view) = put(&app, &admin, &absence, &json!({ "absent": false })).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["absent"], false);
    assert_eq!(last_audit(&app, "staff", reviewer).await.1, "set_absent");
    let (status, body) = put(&app, &admin, &absence, &json!({ "absent": "yes" })).await;
    assert_invalid(status, &body, "absent");
    let (status, body) = put(
        &app,
        &admin,
        "/api/v1/staff/99999/absence",
        &json!({ "absent": true }),
    )
    .await;
    assert_not_found(status, &body, "未找到该工作人员");
}

#[tokio::test]
async fn the_openapi_document_lists_the_admin_changes() {
    let app = spawn_app().await;
    let (status, document) = app.get(None, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/departments/{id}",
        "/api/v1/windows/{id}",
        "/api/v1/staff/{id}",
        "/api/v1/staff/{id}/password",
    ] {
        let operation = &document["paths"][path]["put"];
        assert!(operation.is_object(), "PUT {path} is documented");
        assert!(
            operation["responses"]["404"].is_object(),
            "PUT {path} documents 404"
        );
        assert!(
            operation["requestBody"].is_object(),
            "PUT {path} has a body"
        );
    }
    let schemas = &document["components"]["schemas"];
    assert!(schemas["UpdateStaffRequest"]["properties"]["department_id"].is_object());
}
