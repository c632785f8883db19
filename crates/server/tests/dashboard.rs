//! The supervision dashboard on the real server: the JSON figures, who may
//! see them, the page's server-rendered numbers and their links, and the
//! static script and ECharts served from the binary with a long cache.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::calendar::{china_zone, civil_date};
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{PHONE, TestApp, spawn_app};

/// Today (Shanghai): two applications, one accepted and left open, the
/// other carried through to delivery. Returns the open case's id and its
/// promised due day.
async fn history(app: &TestApp) -> (i64, Date) {
    let clerk = app.token(&app.people.clerk_a).await;
    let handler = app.token(&app.people.handler_a).await;
    let reviewer = app.token(&app.people.reviewer).await;
    let approver = app.token(&app.people.approver).await;

    let open = app.apply(app.item.id).await["case_id"].as_i64().unwrap();
    let case = app
        .act_ok(
            &clerk,
            open,
            json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
        )
        .await;
    let promised: Date = case["promised_due"].as_str().unwrap().parse().unwrap();

    let done = app.apply(app.item.id).await["case_id"].as_i64().unwrap();
    for (token, command) in [
        (
            &clerk,
            json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
        ),
        (
            &handler,
            json!({"action": "complete_step", "opinion": "符合条件"}),
        ),
        (
            &reviewer,
            json!({"action": "complete_step", "opinion": "审核通过"}),
        ),
        (
            &approver,
            json!({"action": "complete_step", "opinion": "同意"}),
        ),
        (
            &approver,
            json!({"action": "decide", "outcome": "approve", "opinion": "准予许可"}),
        ),
        (&clerk, json!({"action": "deliver", "method": "窗口领取"})),
    ] {
        app.act_ok(token, done, command).await;
    }
    // The applicant rates the finished case 非常满意.
    let number = app.case(&clerk, done).await["number"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .post(
            None,
            "/api/v1/lookup/rating",
            &json!({"number": number, "phone": PHONE, "score": 5}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (open, promised)
}

fn department(body: &Value, id: i64) -> &Value {
    body["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .find(|d| d["department_id"] == id)
        .unwrap_or_else(|| panic!("department {id} in {body}"))
}

async fn page(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET page")
}

#[tokio::test]
async fn the_json_figures_count_today_and_the_month_per_department() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let token = app.token(&supervisor).await;
    history(&app).await;
    let today = civil_date(Timestamp::now());

    let (status, body) = app.get(Some(&token), "/api/v1/supervision/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["date"], today.to_string());
    assert_eq!(body["today"]["received"], 2, "{body}");
    assert_eq!(body["today"]["completed"], 1, "{body}");
    assert_eq!(body["today"]["completed_on_time"], 1, "{body}");
    assert_eq!(body["today"]["on_time_rate"], 100.0, "{body}");
    assert_eq!(body["month"]["received"], 2, "{body}");
    assert_eq!(body["overdue"], 0);
    assert_eq!(body["today"]["yellow"], 0);
    // Satisfaction from the applicant's rating; no complaint module: nothing
    // is made up.
    assert_eq!(body["today"]["rated"], 1, "{body}");
    assert_eq!(body["today"]["satisfaction_rate"], 100.0, "{body}");
    assert!(body["complaints"].is_null(), "{body}");
    let months = body["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(
        months[11]["month"],
        format!("{:04}-{:02}", today.year(), today.month())
    );
    assert_eq!(months[11]["figures"]["received"], 2);
    let ours = department(&body, app.department.id);
    assert_eq!(ours["rank"], 1, "{body}");
    assert_eq!(ours["department_name"], "衡山县市场监督管理局");
    assert_eq!(ours["month"]["completed"], 1);
    assert_eq!(
        ours["links"]["yellow"],
        format!(
            "/supervision?department_id={}&level=yellow&from={}&to={today}",
            app.department.id,
            today.first_of_month()
        )
    );
    // Departments with nothing in twelve months are left out of the ranking.
    assert!(
        body["departments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["department_id"] != app.other_department.id),
        "{body}"
    );

    // The same day asked for explicitly.
    let (status, same) = app
        .get(
            Some(&token),
            &format!("/api/v1/supervision/dashboard?date={today}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["today"], body["today"]);
}

#[tokio::test]
async fn cards_count_by_the_day_found_and_match_the_list_they_link_to() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let token = app.token(&supervisor).await;
    let (_open, promised) = history(&app).await;

    // The day after the promised limit the open case earns a yellow card.
    let day = promised.tomorrow().unwrap();
    let at = day
        .at(10, 0, 0, 0)
        .to_zoned_datetime(china_zone())
        .unwrap()
        .timestamp();
    app.store.supervise(at, &[]).await.expect("tick");

    let (status, body) = app
        .get(
            Some(&token),
            &format!("/api/v1/supervision/dashboard?date={day}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["today"]["yellow"], 1, "{body}");
    assert_eq!(body["overdue"], 1, "{body}");
    let ours = department(&body, app.department.id);
    assert_eq!(ours["overdue"], 1);
    for level in ["warning", "yellow", "red"] {
        let key = if level == "warning" {
            "warnings"
        } else {
            level
        };
        let link = ours["links"][key].as_str().unwrap();
        let query = link.strip_prefix("/supervision?").unwrap();
        let (status, list) = app
            .get(
                Some(&token),
                &format!("/api/v1/supervision/cards?{query}&per_page=500"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(
            ours["month"][key], list["total"],
            "{level}: the dashboard counts what its link lists"
        );
    }
}

#[tokio::test]
async fn only_supervisors_see_it_and_a_bad_date_is_named() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let token = app.token(&supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;

    let (status, body) = app.get(None, "/api/v1/supervision/dashboard").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app.get(Some(&clerk), "/api/v1/supervision/dashboard").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");

    for bad in ["2026-13-01", "yesterday", "2026-2-1"] {
        let (status, body) = app
            .get(
                Some(&token),
                &format!("/api/v1/supervision/dashboard?date={bad}"),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "date", "{body}");
    }

    // The page: the error page for a clerk, the log-in for nobody.
    let response = page(&app, &clerk, "/supervision/dashboard").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let html = response.text().await.unwrap();
    assert!(html.contains("无权进行此操作"), "{html}");
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/supervision/dashboard"))
        .send()
        .await
        .unwrap();
    assert!(anonymous.status().is_redirection());
    assert!(
        anonymous.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[tokio::test]
async fn the_page_shows_the_numbers_server_side_with_their_links_and_its_files_are_cached() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let token = app.token(&supervisor).await;
    history(&app).await;
    let today = civil_date(Timestamp::now());
    let month_start = today.first_of_month();

    let response = page(&app, &token, "/supervision/dashboard").await;
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("监察大屏"));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style=\""), "no inline style");

    // Today's numbers, each a link to the list behind it.
    let received_today = format!("/work/cases?received_from={today}&#38;received_to={today}");
    let completed_today = format!("/work/cases?completed_from={today}&#38;completed_to={today}");
    assert!(
        html.contains(&format!(
            "<a class=\"tile-value\" href=\"{received_today}\" data-key=\"today.received\">2</a>"
        )),
        "{html}"
    );
    assert!(html.contains(&format!(
        "<a class=\"tile-value\" href=\"{completed_today}\" data-key=\"today.completed\">1</a>"
    )));
    assert!(html.contains(&format!(
        "href=\"/supervision?level=yellow&#38;from={month_start}&#38;to={today}\" data-key=\"month.yellow\">0</a>"
    )));
    assert!(html.contains("按时率 100.0%"));
    // Complaints have no source yet; satisfaction comes from the rating.
    assert!(html.contains("暂未接入"));
    assert!(
        html.contains("data-pct=\"today.satisfaction_rate\">100.0%</span>"),
        "{html}"
    );
    // The ranking: the department, its numbers linked to its card lists.
    let id = app.department.id;
    assert!(html.contains("衡山县市场监督管理局"));
    assert!(html.contains(&format!(
        "<a href=\"/work/cases?department_id={id}&#38;received_from={month_start}&#38;received_to={today}\">2</a>"
    )));
    assert!(html.contains(&format!(
        "<a href=\"/supervision?department_id={id}&#38;level=red&#38;from={month_start}&#38;to={today}\">0</a>"
    )));
    assert!(html.contains("data-api=\"/api/v1/supervision/dashboard\""));
    assert!(html.contains("更新于"));

    // The script and ECharts, from the binary, addressed by their digest.
    for (prefix, marker) in [
        ("/static/vendor/echarts.min.js?v=", "Apache"),
        ("/static/dashboard.js?v=", "data-chart"),
    ] {
        let start = html
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix} in the page"));
        let end = start + html[start..].find('"').unwrap();
        let src = &html[start..end];
        let response = app.client.get(app.url(src)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{src}");
        let headers = response.headers().clone();
        assert_eq!(
            headers["content-type"], "text/javascript; charset=utf-8",
            "{src}"
        );
        let cache = headers["cache-control"].to_str().unwrap();
        assert!(cache.contains("max-age=31536000"), "{src}: {cache}");
        assert!(cache.contains("immutable"), "{src}: {cache}");
        let body = response.text().await.unwrap();
        assert!(body.contains(marker), "{src}");
    }
    // The supervision page links to the dashboard.
    let html = page(&app, &token, "/supervision")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("href=\"/supervision/dashboard\""));
}
