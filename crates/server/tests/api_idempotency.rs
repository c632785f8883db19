//! `Idempotency-Key` through the real server: on an admin route (kept by the
//! middleware) and on the window's case registration (kept by the handler in
//! the job of its effect), a repeat has the effect of one and gets the first
//! answer; the key with another request, a key too long, a refused first try,
//! concurrent repeats and two callers with one key. Also malformed JSON.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use support::{PASSWORD, TestApp, application, spawn_app};

/// What a caller sees of an answer: status, headers, JSON body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn replayed(&self) -> bool {
        self.headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
}

/// POSTs `body` (JSON text, sent as is) with a bearer token and a key.
async fn post_raw(
    app: &TestApp,
    token: &str,
    path: &str,
    body: String,
    key: Option<&str>,
) -> Answer {
    let mut request = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("POST");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a JSON body ({e}), got {status}: {text}"));
    Answer {
        status,
        headers,
        body,
    }
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value, key: &str) -> Answer {
    post_raw(app, token, path, body.to_string(), Some(key)).await
}

fn township(code: &str, name: &str) -> Value {
    json!({ "code": code, "name": name, "level": "township", "phone": "0734-5821100" })
}

async fn department_count(app: &TestApp) -> usize {
    app.store.departments().await.expect("departments").len()
}

async fn staff_count(app: &TestApp) -> usize {
    app.store.staff(None).await.expect("staff").len()
}

async fn admin(app: &TestApp) -> String {
    app.token(&app.people.admin).await
}

#[tokio::test]
async fn a_repeated_admin_request_takes_effect_once_and_is_marked_replayed() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let before = department_count(&app).await;
    let body = township("kyz", "开云镇便民服务中心");

    let first = post(&app, &token, "/api/v1/departments", &body, "dept-kyz-1").await;
    let second = post(&app, &token, "/api/v1/departments", &body, "dept-kyz-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(!first.replayed());
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert!(second.replayed(), "{:?}", second.headers);
    assert_eq!(second.body, first.body);
    assert_eq!(department_count(&app).await, before + 1);

    // The same request under a new key is a new request: the code is taken.
    let again = post(&app, &token, "/api/v1/departments", &body, "dept-kyz-2").await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert_eq!(again.field(), "code");
    assert_eq!(department_count(&app).await, before + 1);
}

#[tokio::test]
async fn a_repeated_case_registration_takes_effect_once() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let body = application(app.item.id);
    let first = post(&app, &clerk, "/api/v1/cases", &body, "window-0001").await;
    let second = post(&app, &clerk, "/api/v1/cases", &body, "window-0001").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body["id"], first.body["id"]);
    assert_eq!(second.body["number"], first.body["number"]);
    assert!(!first.replayed());
    assert!(second.replayed(), "{:?}", second.headers);
    assert_eq!(app.case_count().await, 1);

    // Accepting it, repeated with one key: one acceptance, the repeat marked.
    let accept = json!({"action": "accept", "opinion": "材料齐全，予以受理"});
    let path = format!("/api/v1/cases/{}/actions", first.body["id"]);
    let accepted = post(&app, &clerk, &path, &accept, "accept-0001").await;
    let again = post(&app, &clerk, &path, &accept, "accept-0001").await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(!accepted.replayed());
    assert!(again.replayed(), "{:?}", again.headers);
    assert_eq!(again.body["version"], accepted.body["version"]);
    let events = again.body["events"].as_array().expect("events");
    assert_eq!(
        events.iter().filter(|e| e["action"] == "accept").count(),
        1,
        "{events:?}"
    );

    let mut other = body.clone();
    other["applicant"]["name"] = json!("李四");
    let reused = post(&app, &clerk, "/api/v1/cases", &other, "window-0001").await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reused.body
    );
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert_eq!(app.case_count().await, 1);
}

#[tokio::test]
async fn a_key_sent_with_another_request_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let body = township("kyz", "开云镇便民服务中心");
    let first = post(&app, &token, "/api/v1/departments", &body, "k-100").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let before = department_count(&app).await;

    let other_body = township("dyz", "店门镇便民服务中心");
    let reused = post(&app, &token, "/api/v1/departments", &other_body, "k-100").await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reused.body
    );
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert!(!reused.replayed());
    assert_eq!(reused.field(), "Idempotency-Key");
    let message = reused.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("幂等键"), "{message}");

    // Another route with the same key is another request too.
    let window = json!({ "department_id": app.department.id, "name": "A09综合窗口" });
    let elsewhere = post(&app, &token, "/api/v1/windows", &window, "k-100").await;
    assert_eq!(
        elsewhere.code(),
        "idempotency_key_reused",
        "{}",
        elsewhere.body
    );
    assert_eq!(department_count(&app).await, before);
    let windows = app.store.windows(None).await.expect("windows");
    assert!(windows.iter().all(|w| w.name != "A09综合窗口"));
}

#[tokio::test]
async fn a_refused_request_releases_its_key_for_the_corrected_one() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let before = staff_count(&app).await;
    let mut body = json!({
        "login": "tangjun",
        "name": "唐军",
        "department_id": app.department.id,
        "roles": ["handler"],
    });

    let missing = post(&app, &token, "/api/v1/staff", &body, "hire-tangjun").await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert_eq!(missing.code(), "invalid_input");
    assert_eq!(missing.field(), "password");
    // Malformed JSON with the key is refused too, and releases it as well.
    let broken = post_raw(
        &app,
        &token,
        "/api/v1/staff",
        "{\"login\": \"tangjun\",".into(),
        Some("hire-tangjun"),
    )
    .await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.body
    );
    assert_eq!(broken.field(), "body");
    assert_eq!(staff_count(&app).await, before);

    body["password"] = json!(PASSWORD);
    let hired = post(&app, &token, "/api/v1/staff", &body, "hire-tangjun").await;
    assert_eq!(hired.status, StatusCode::CREATED, "{}", hired.body);
    assert!(!hired.replayed());
    let again = post(&app, &token, "/api/v1/staff", &body, "hire-tangjun").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert!(again.replayed());
    assert_eq!(again.body["id"], hired.body["id"]);
    assert_eq!(staff_count(&app).await, before + 1);
    app.login("tangjun", PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_with_one_key_take_effect_once() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let before = department_count(&app).await;
    let body = township("kyz", "开云镇便民服务中心");
    let answers = futures::future::join_all(
        (0..6).map(|_| post(&app, &token, "/api/v1/departments", &body, "dept-race")),
    )
    .await;
    let fresh: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED && !a.replayed())
        .collect();
    assert_eq!(fresh.len(), 1, "one answer ran the request");
    for answer in &answers {
        match answer.status {
            StatusCode::CREATED => assert_eq!(answer.body, fresh[0].body),
            StatusCode::CONFLICT => assert_eq!(answer.code(), "idempotency_key_in_progress"),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(department_count(&app).await, before + 1);

    // The same on the case route, whose handler keeps the key itself.
    let clerk = app.token(&app.people.clerk_a).await;
    let case = application(app.item.id);
    let answers = futures::future::join_all(
        (0..6).map(|_| post(&app, &clerk, "/api/v1/cases", &case, "case-race")),
    )
    .await;
    let numbers: Vec<&Value> = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .map(|a| &a.body["number"])
        .collect();
    assert!(!numbers.is_empty());
    assert!(numbers.iter().all(|n| *n == numbers[0]), "{numbers:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED && !a.replayed())
            .count(),
        1,
        "one answer is the first, the others are marked as replays"
    );
    for answer in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
        assert_eq!(answer.code(), "idempotency_key_in_progress");
    }
    assert_eq!(app.case_count().await, 1);
}

#[tokio::test]
async fn a_key_over_200_characters_is_refused_naming_the_header() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let before = department_count(&app).await;
    let long = "k".repeat(201);
    let body = township("kyz", "开云镇便民服务中心");
    let refused = post(&app, &token, "/api/v1/departments", &body, &long).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.field(), "Idempotency-Key");
    assert_eq!(department_count(&app).await, before);

    let clerk = app.token(&app.people.clerk_a).await;
    let case = application(app.item.id);
    let refused = post(&app, &clerk, "/api/v1/cases", &case, &long).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.field(), "Idempotency-Key");
    assert_eq!(app.case_count().await, 0);

    // 200 characters are fine.
    let longest = "k".repeat(200);
    let created = post(&app, &token, "/api/v1/departments", &body, &longest).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let app = spawn_app().await;
    // Two window clerks register the same application under one key: two
    // cases.
    let clerk_a = app.token(&app.people.clerk_a).await;
    let clerk_b = app.token(&app.people.clerk_b).await;
    let case = application(app.item.id);
    let a = post(&app, &clerk_a, "/api/v1/cases", &case, "shared-key").await;
    let b = post(&app, &clerk_b, "/api/v1/cases", &case, "shared-key").await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    assert_ne!(a.body["number"], b.body["number"]);
    assert_eq!(app.case_count().await, 2);

    // Two applicants online who happen to pick one key: two cases; the
    // first applicant's repeat gets their own answer again.
    let apply = |body: Value| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(app.url("/api/v1/applications"))
                .header("Idempotency-Key", "1")
                .json(&body)
                .send()
                .await
                .expect("POST");
            let replayed = response.headers().contains_key("idempotent-replayed");
            let (status, body) = support::json_of(response).await;
            (status, body, replayed)
        }
    };
    let mut other = case.clone();
    other["applicant"]["name"] = json!("李四");
    other["applicant"]["phone"] = json!("13907345678");
    let (first_status, first, _) = apply(case.clone()).await;
    let (second_status, second, _) = apply(other).await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    assert_eq!(second_status, StatusCode::CREATED, "{second}");
    assert_ne!(first["number"], second["number"]);
    let (again_status, again, replayed) = apply(case.clone()).await;
    assert_eq!(again_status, StatusCode::CREATED, "{again}");
    assert!(replayed);
    assert_eq!(again["number"], first["number"]);
    assert_eq!(app.case_count().await, 4);

    // The admin and a security admin open the same window under one key:
    // two windows.
    let admin_token = admin(&app).await;
    let hired = post(
        &app,
        &admin_token,
        "/api/v1/staff",
        &json!({
            "login": "baomi", "name": "安全保密管理员", "department_id": app.department.id,
            "roles": ["security_admin"], "password": PASSWORD,
        }),
        "hire-baomi",
    )
    .await;
    assert_eq!(hired.status, StatusCode::CREATED, "{}", hired.body);
    let security = app.login("baomi", PASSWORD).await;
    let before = staff_count(&app).await;
    let person = json!({
        "login": "caoyu", "name": "曹宇", "department_id": app.department.id,
        "roles": ["handler"], "password": PASSWORD,
    });
    let by_admin = post(&app, &admin_token, "/api/v1/staff", &person, "hire-1").await;
    let mut other = person.clone();
    other["login"] = json!("caoyu2");
    let by_security = post(&app, &security, "/api/v1/staff", &other, "hire-1").await;
    assert_eq!(by_admin.status, StatusCode::CREATED, "{}", by_admin.body);
    assert_eq!(
        by_security.status,
        StatusCode::CREATED,
        "{}",
        by_security.body
    );
    assert!(!by_security.replayed());
    assert_ne!(by_admin.body["id"], by_security.body["id"]);
    assert_eq!(staff_count(&app).await, before + 2);
}

#[tokio::test]
async fn malformed_json_is_refused_naming_the_field_or_the_body() {
    let app = spawn_app().await;
    let token = admin(&app).await;
    let before = department_count(&app).await;
    let cases = [
        ("{\"code\": \"kyz\", \"name\": ", "body"),
        (
            "{\"code\": 5, \"name\": \"开云镇\", \"level\": \"township\"}",
            "code",
        ),
        ("{\"code\": \"kyz\", \"level\": \"township\"}", "name"),
        ("\"开云镇\"", "body"),
    ];
    for (text, field) in cases {
        let answer = post_raw(&app, &token, "/api/v1/departments", text.into(), None).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{text}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "invalid_input", "{text}");
        assert_eq!(answer.field(), field, "{text}: {}", answer.body);
        let message = answer.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{message}"
        );
    }
    let applied = app
        .client
        .post(app.url("/api/v1/applications"))
        .header("Content-Type", "application/json")
        .body("{\"item_id\": ")
        .send()
        .await
        .expect("POST");
    assert_eq!(applied.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(department_count(&app).await, before);
    assert_eq!(app.case_count().await, 0);
}
