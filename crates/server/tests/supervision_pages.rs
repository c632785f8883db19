//! The supervision pages, through the real server on a fresh SQLite file:
//! the live list with the figures per department and its filters, a card with
//! its history and the forms each person may use, accountability, the
//! "one case, one notice" document, staff's notices, the case page's cards,
//! the outbox of alerts and the cross-site guard of every form. Cards come
//! from cases accepted through the API whose deadlines pass (the tick is run
//! on the app's own store at later instants); dates come from the cases' own
//! deadlines, never from a hard-coded calendar.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::calendar::china_zone;
use onewindow_core::supervision::Channel;
use onewindow_store::staff::StaffMember;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use support::{PASSWORD, TestApp, spawn_app};

// ---------------------------------------------------------------------------
// People and their browsers

/// Someone using the pages: a browser that does not follow redirects (so a
/// test sees the 303 and its target), with a session either from the log-in
/// form (a cookie) or from a bearer token.
struct Person {
    client: reqwest::Client,
    token: Option<String>,
    base: String,
}

/// What a form submission answered.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Person {
    /// A person whose pages carry `Authorization: Bearer <token>`.
    async fn with_token(app: &TestApp, member: &StaffMember) -> Person {
        Person {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("a client"),
            token: Some(app.token(member).await),
            base: app.base.clone(),
        }
    }

    /// A person who logged in through the /login form and keeps the cookie.
    async fn logged_in(app: &TestApp, login: &str) -> Person {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("a client");
        let response = client
            .post(app.url("/login"))
            .header("Origin", &app.base)
            .form(&[("login", login), ("password", PASSWORD), ("next", "/work")])
            .send()
            .await
            .expect("POST /login");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "log-in of {login}: {}",
            response.text().await.unwrap_or_default()
        );
        Person {
            client,
            token: None,
            base: app.base.clone(),
        }
    }

    /// The API token (only for a person made with a token).
    fn token(&self) -> &str {
        self.token.as_deref().expect("a person with a token")
    }

    fn request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .request(self.client.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// Sends a form as this site's own page does (with its Origin).
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let origin = self.base.clone();
        self.post_from(path, fields, &origin).await
    }

    async fn post_from(&self, path: &str, fields: &[(&str, &str)], origin: &str) -> Reply {
        let response = self
            .request(self.client.post(format!("{}{path}", self.base)))
            .header("Origin", origin)
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("an ASCII location").to_string());
        Reply {
            status,
            location,
            body: response.text().await.expect("a body"),
        }
    }

    /// Follows a 303 to `want` and returns the page there.
    async fn follow(&self, reply: &Reply, want: &str) -> String {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let location = reply.location.as_deref().expect("a location");
        assert_eq!(location, want, "redirected to {location}");
        let (status, page) = self.get(location).await;
        assert_eq!(status, StatusCode::OK, "{location}: {page}");
        page
    }
}

// ---------------------------------------------------------------------------
// Reading pages

/// The page with askama's escapes undone (links and text as a browser shows
/// them).
fn unescape(html: &str) -> String {
    html.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
}

/// The text of an HTML fragment, without its tags.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(text.trim())
}

/// The cells of the table row holding `marker`, as text.
fn row_cells(html: &str, marker: &str) -> Vec<String> {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no row with {marker} in the page"));
    let start = html[..at].rfind("<tr").expect("the row's start");
    let end = at + html[at..].find("</tr>").expect("the row's end");
    html[start..end]
        .split("<t")
        .skip(2)
        .map(|cell| text_of(&format!("<t{cell}")))
        .collect()
}

/// What a textarea holds.
fn textarea(html: &str, id: &str) -> String {
    let marker = format!("<textarea id=\"{id}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no textarea {id} in the page"));
    let open = at + html[at..].find('>').expect("the tag's end") + 1;
    let close = open
        + html[open..]
            .find("</textarea>")
            .expect("the textarea's end");
    unescape(&html[open..close])
}

/// A date as the pages show it: 2026年12月1日.
fn chinese(date: Date) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

fn card_link(id: i64) -> String {
    format!("href=\"/supervision/cards/{id}\"")
}

// ---------------------------------------------------------------------------
// Cases, ticks and cards

/// A case applied for online and accepted at the window today, with its
/// deadlines as the API shows them.
struct Accepted {
    id: i64,
    number: String,
    promised_due: Date,
    step_due: Date,
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
        day(&deadline["due"])
    };
    Accepted {
        id,
        number: case["number"].as_str().expect("a number").to_string(),
        promised_due: due_of("case_promised"),
        step_due: due_of("case_step"),
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

/// Runs the tick the day after the promised deadline: the case's handling
/// step and promised deadline have both passed. Returns that day.
async fn tick_after_promised(app: &TestApp, case: &Accepted, channels: &[Channel]) -> Date {
    let found = next_day(case.promised_due);
    app.store
        .supervise(noon(found), channels)
        .await
        .expect("tick the day after the promised deadline");
    found
}

/// The cards a token sees through the API for a query (without the `?`).
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

/// The only card of `case_id` at `level`.
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

async fn card_state(app: &TestApp, token: &str, card_id: i64) -> String {
    card_detail(app, token, card_id).await["card"]["state"]
        .as_str()
        .expect("a state")
        .to_string()
}

fn id_of(card: &Value) -> i64 {
    card["id"].as_i64().expect("a card id")
}

async fn notices(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.get(Some(token), "/api/v1/notices").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("notices").clone()
}

/// Drives an accepted case through its three steps to a decision.
async fn decide(app: &TestApp, case_id: i64) {
    let handler = app.token(&app.people.handler_a).await;
    let reviewer = app.token(&app.people.reviewer).await;
    let approver = app.token(&app.people.approver).await;
    for (token, opinion) in [
        (&handler, "经审查，符合条件"),
        (&reviewer, "审核通过"),
        (&approver, "同意"),
    ] {
        app.act_ok(
            token,
            case_id,
            json!({"action": "complete_step", "opinion": opinion}),
        )
        .await;
    }
    let case = app
        .act_ok(
            &approver,
            case_id,
            json!({"action": "decide", "outcome": "approve", "opinion": "准予许可"}),
        )
        .await;
    assert_eq!(case["state"], "decided", "{case}");
}

// ---------------------------------------------------------------------------
// 1. The list

#[tokio::test]
async fn the_supervisor_sees_the_figures_per_department_and_every_card_and_staff_only_their_own() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup_token = app.token(&supervisor).await;
    let sup = Person::logged_in(&app, "jiancha").await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    let found = tick_after_promised(&app, &case, &[]).await;
    let (all, total) = cards(&app, &sup_token, "").await;
    assert!(total >= 2, "a warning and a yellow card at least: {all:?}");
    let yellow = card_of(&app, &sup_token, case.id, "yellow").await;
    let warnings: Vec<i64> = all
        .iter()
        .filter(|c| c["level"] == "warning")
        .map(id_of)
        .collect();
    assert!(!warnings.is_empty(), "{all:?}");

    // Anonymous visitors are sent to log in first.
    let anonymous = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let response = anonymous.get(app.url("/supervision")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next="),
        "{:?}",
        response.headers()["location"]
    );

    let (status, page) = sup.get("/supervision").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = unescape(&page);
    assert!(page.contains("电子监察") && page.contains("全县各部门办件时限监察"));
    for heading in [
        "各部门监察情况",
        "部门",
        "在办件",
        "临近期限",
        "已超期",
        "预警",
        "黄牌",
        "红牌",
        "已办结",
        "按时办结率",
    ] {
        assert!(page.contains(heading), "the figures table shows {heading}");
    }

    // The department's row holds the same figures as the API.
    let (status, figures) = app
        .get(Some(&sup_token), "/api/v1/supervision/departments")
        .await;
    assert_eq!(status, StatusCode::OK, "{figures}");
    let mine = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["department_id"] == app.department.id)
        .expect("the department's figures")
        .clone();
    assert_eq!(mine["yellow"], 1, "{mine}");
    let row = row_cells(
        &page,
        &format!("href=\"/supervision?department_id={}\"", app.department.id),
    );
    let rate = match mine["on_time_rate"].as_f64() {
        Some(rate) => format!("{rate}%"),
        None => "—".to_string(),
    };
    assert_eq!(
        row,
        [
            "衡山县市场监督管理局".to_string(),
            mine["open_cases"].to_string(),
            mine["due_soon"].to_string(),
            mine["overdue"].to_string(),
            mine["warnings"].to_string(),
            mine["yellow"].to_string(),
            mine["red"].to_string(),
            mine["decided"].to_string(),
            rate,
        ],
        "{mine}"
    );
    let totals = row_cells(&page, "合计</th>");
    assert_eq!(totals[0], "合计");
    assert_eq!(totals[5], "1", "one yellow card in all: {totals:?}");

    // Every card is listed, with its case and the day it was found.
    assert!(page.contains(&format!("预警和黄红牌（共{total}件）")));
    for card in &all {
        assert!(page.contains(&card_link(id_of(card))), "{card}");
        assert!(page.contains(card["title"].as_str().unwrap()), "{card}");
    }
    assert!(page.contains(&format!("href=\"/work/cases/{}\"", case.id)));
    assert!(page.contains(&case.number));
    assert!(page.contains(&chinese(found)), "found on {found}");

    // The figures link to the list filtered by department and level.
    let yellow_link = format!(
        "/supervision?department_id={}&level=yellow",
        app.department.id
    );
    assert!(page.contains(&yellow_link), "a link to the yellow cards");
    let (status, filtered) = sup.get(&yellow_link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(filtered.contains("预警和黄红牌（共1件）"), "{filtered}");
    assert!(filtered.contains(&card_link(id_of(&yellow))));
    for warning in &warnings {
        assert!(!filtered.contains(&card_link(*warning)), "{warning}");
    }
    let warning_link = format!(
        "/supervision?department_id={}&level=warning",
        app.department.id
    );
    assert!(page.contains(&warning_link));
    let (_, filtered) = sup.get(&warning_link).await;
    assert!(!filtered.contains(&card_link(id_of(&yellow))));
    for warning in &warnings {
        assert!(filtered.contains(&card_link(*warning)), "{warning}");
    }
    let (_, elsewhere) = sup
        .get(&format!(
            "/supervision?department_id={}",
            app.other_department.id
        ))
        .await;
    assert!(elsewhere.contains("预警和黄红牌（共0件）"));
    assert!(elsewhere.contains("没有符合条件的预警或黄红牌"));

    // The supervisor follows the case number to the case and finds its cards.
    let (status, case_page) = sup.get(&format!("/work/cases/{}", case.id)).await;
    assert_eq!(status, StatusCode::OK, "{case_page}");
    assert!(case_page.contains("电子监察"));
    assert!(case_page.contains(&card_link(id_of(&yellow))));

    // The department sees its own cards, without the figures of all.
    let approver = Person::with_token(&app, &app.people.approver).await;
    for path in [
        "/supervision".to_string(),
        format!("/supervision?department_id={}", app.other_department.id),
    ] {
        let (status, own) = approver.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        let own = unescape(&own);
        assert!(own.contains("本部门收到的预警和黄红牌"), "{path}");
        assert!(
            own.contains(&format!("预警和黄红牌（共{total}件）")),
            "{path}"
        );
        for card in &all {
            assert!(own.contains(&card_link(id_of(card))), "{path}: {card}");
        }
        assert!(
            !own.contains("各部门监察情况") && !own.contains("按时办结率"),
            "{path}: no figures for the department"
        );
    }

    // Another department sees none of them, even asking for them.
    let other = Person::with_token(&app, &app.people.other_clerk).await;
    for path in [
        "/supervision".to_string(),
        format!("/supervision?department_id={}", app.department.id),
    ] {
        let (status, none) = other.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{none}");
        assert!(none.contains("预警和黄红牌（共0件）"), "{path}");
        assert!(none.contains("没有符合条件的预警或黄红牌"), "{path}");
        for card in &all {
            assert!(!none.contains(&card_link(id_of(card))), "{path}: {card}");
            assert!(!none.contains(card["title"].as_str().unwrap()), "{path}");
        }
    }
}

#[tokio::test]
async fn the_list_filters_by_level_state_and_day_and_a_bad_filter_is_explained_on_the_page() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;

    // The handling step runs over first (a warning), the promised deadline
    // later (a yellow card): cards found on two days.
    let first_day = next_day(case.step_due);
    let second_day = next_day(case.promised_due);
    assert!(first_day < second_day);
    app.store
        .supervise(noon(first_day), &[])
        .await
        .expect("first tick");
    app.store
        .supervise(noon(second_day), &[])
        .await
        .expect("second tick");
    let (all, total) = cards(&app, sup.token(), "").await;
    let yellow = id_of(&card_of(&app, sup.token(), case.id, "yellow").await);
    let found_first: Vec<i64> = all
        .iter()
        .filter(|c| day(&c["found_on"]) == first_day)
        .map(id_of)
        .collect();
    assert!(!found_first.is_empty(), "{all:?}");
    assert!(!found_first.contains(&yellow));

    let listed = |page: &str| -> Vec<i64> {
        all.iter()
            .map(id_of)
            .filter(|id| page.contains(&card_link(*id)))
            .collect()
    };
    let everything: Vec<i64> = all.iter().map(id_of).collect();
    for (query, want) in [
        ("level=yellow".to_string(), vec![yellow]),
        ("level=red".to_string(), vec![]),
        ("state=issued".to_string(), everything.clone()),
        ("state=closed".to_string(), vec![]),
        (format!("from={second_day}"), vec![yellow]),
        (format!("to={first_day}"), found_first.clone()),
        (
            format!("from={first_day}&to={first_day}"),
            found_first.clone(),
        ),
        (format!("from={}", next_day(second_day)), vec![]),
        ("level=&state=&from=&to=".to_string(), everything.clone()),
    ] {
        let (status, page) = sup.get(&format!("/supervision?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(listed(&page), want, "{query}");
        assert!(
            page.contains(&format!("预警和黄红牌（共{}件）", want.len())),
            "{query}"
        );
        assert!(!page.contains("筛选条件有误"), "{query}");
        if want.is_empty() {
            assert!(page.contains("没有符合条件的预警或黄红牌"), "{query}");
        }
    }
    // The typed filter stays in the form.
    let (_, page) = sup
        .get(&format!("/supervision?level=yellow&from={second_day}"))
        .await;
    assert!(page.contains(&format!("value=\"{second_day}\"")));
    assert!(page.contains("value=\"yellow\" selected"));

    // Bad filters are explained in Chinese on the page, not a server error;
    // the list then shows everything and the form keeps what was typed.
    for (query, kept) in [
        ("from=2026-13-01", "2026-13-01"),
        ("to=2026-02-30", "2026-02-30"),
        ("level=purple", ""),
        ("state=forgotten", ""),
        ("department_id=abc", ""),
        ("page=two", ""),
    ] {
        let (status, page) = sup.get(&format!("/supervision?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert!(page.contains("筛选条件有误"), "{query}: {page}");
        assert_eq!(listed(&page), everything, "{query}");
        assert!(page.contains(&format!("预警和黄红牌（共{total}件）")));
        if !kept.is_empty() {
            assert!(page.contains(&format!("value=\"{kept}\"")), "{query}");
        }
    }
    let (_, page) = sup.get("/supervision?department_id=abc").await;
    assert!(page.contains("不是有效的编号"), "{page}");
    let (_, page) = sup.get("/supervision?level=purple").await;
    assert!(page.contains("级别须为"), "{page}");

    // Department staff get the same explanation.
    let approver = Person::with_token(&app, &app.people.approver).await;
    let (status, page) = approver.get("/supervision?from=2026-13-01").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("筛选条件有误"));
}

#[tokio::test]
async fn the_list_pages_through_more_cards_than_fit_on_one_page_keeping_the_filters() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    // A page holds 50 cards; each case earns at least two in one tick.
    let mut last = None;
    for _ in 0..26 {
        last = Some(accepted_case(&app, &clerk).await);
    }
    let last = last.unwrap();
    app.store
        .supervise(noon(next_day(last.promised_due)), &[])
        .await
        .expect("tick");
    let (_, total) = cards(&app, sup.token(), "per_page=500").await;
    assert!(total > 50, "{total} cards");
    let (all, _) = cards(&app, sup.token(), "per_page=500").await;

    let (status, first) = sup.get("/supervision").await;
    assert_eq!(status, StatusCode::OK);
    let first = unescape(&first);
    assert!(first.contains(&format!("预警和黄红牌（共{total}件）")));
    let on_first: Vec<i64> = all
        .iter()
        .map(id_of)
        .filter(|id| first.contains(&card_link(*id)))
        .collect();
    assert_eq!(on_first.len(), 50, "a full first page");
    assert!(first.contains("下一页") && !first.contains("上一页"));
    let next = "/supervision?department_id=&level=&state=&from=&to=&page=2";
    assert!(first.contains(next), "a link to page 2");

    let (status, second) = sup.get(next).await;
    assert_eq!(status, StatusCode::OK);
    let second = unescape(&second);
    let on_second: Vec<i64> = all
        .iter()
        .map(id_of)
        .filter(|id| second.contains(&card_link(*id)))
        .collect();
    assert_eq!(on_second.len() as i64, total - 50, "the rest");
    assert!(on_second.iter().all(|id| !on_first.contains(id)));
    assert!(second.contains("上一页") && !second.contains("下一页"));
    assert!(second.contains("/supervision?department_id=&level=&state=&from=&to=&page=1"));

    // The pager keeps the filters.
    let query = format!("department_id={}&state=issued", app.department.id);
    let (_, filtered) = sup.get(&format!("/supervision?{query}")).await;
    let filtered = unescape(&filtered);
    assert!(filtered.contains(&format!("预警和黄红牌（共{total}件）")));
    assert!(
        filtered.contains(&format!(
            "/supervision?department_id={}&level=&state=issued&from=&to=&page=2",
            app.department.id
        )),
        "{filtered}"
    );
}

// ---------------------------------------------------------------------------
// 2. A card

#[tokio::test]
async fn the_department_explains_a_card_on_its_page_and_the_supervisor_concludes_it() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let approver = Person::logged_in(&app, "liuyang").await;
    let other = Person::with_token(&app, &app.people.other_clerk).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    let found = tick_after_promised(&app, &case, &[]).await;
    let card = card_of(&app, sup.token(), case.id, "yellow").await;
    let id = id_of(&card);
    let path = format!("/supervision/cards/{id}");
    let actions = format!("{path}/actions");
    let answer_due = day(&card["answer_due"]);

    // The department's view: the facts with readable dates, the history and
    // the department's forms.
    let (status, page) = approver.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = unescape(&page);
    for expected in [
        "黄牌",
        card["title"].as_str().unwrap(),
        "衡山县市场监督管理局",
        "食品经营许可（新办）",
        "承办人：李明",
        "已发出",
        "监察事实",
        case.number.as_str(),
        &chinese(case.promised_due),
        &chinese(found),
        &chinese(answer_due),
        "处理过程",
        "系统发出",
        "电子监察系统",
        "责任追究",
        "尚无问责记录",
        "提交情况说明",
        "提交整改报告",
        "申诉（限一次）",
        "一案一通报",
    ] {
        assert!(page.contains(expected), "the card page shows {expected}");
    }
    assert!(page.contains(&format!("href=\"/work/cases/{}\"", case.id)));
    assert!(page.contains(&format!("href=\"{path}/notice\"")));
    for iso in [case.promised_due, found, answer_due] {
        assert!(!page.contains(&iso.to_string()), "{iso} is shown readably");
    }
    assert!(
        !page.contains("value=\"close\"") && !page.contains("登记问责"),
        "the department neither concludes nor records accountability"
    );

    // The supervisor's view before any answer: nothing to conclude yet, but
    // accountability may be recorded.
    let (status, page) = sup.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("您当前没有需要对本督办件办理的操作"));
    assert!(!page.contains("value=\"close\"") && !page.contains("提交情况说明"));
    assert!(page.contains("登记问责"));

    // Another department finds nothing, and can do nothing.
    let (status, page) = other.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("未找到"), "{page}");
    assert!(!page.contains(card["title"].as_str().unwrap()));
    let reply = other
        .post(&actions, &[("action", "explain"), ("text", "与我局无关")])
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let (status, _) = sup.get("/supervision/cards/987654").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A blank explanation is refused in Chinese on the card page.
    let reply = approver
        .post(&actions, &[("action", "explain"), ("text", "  ")])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("操作未完成"), "{}", reply.body);
    assert!(reply.body.contains("请填写情况说明"), "{}", reply.body);
    assert!(reply.body.contains(card["title"].as_str().unwrap()));
    // Too long an explanation is refused, and what was typed is kept.
    let long = "因".repeat(4001);
    let reply = approver
        .post(&actions, &[("action", "explain"), ("text", &long)])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("不能超过4000字"), "{}", reply.body);
    assert!(
        textarea(&reply.body, "text-explain") == long,
        "the typed explanation is kept"
    );
    // The supervisor cannot explain for the department.
    let reply = sup
        .post(&actions, &[("action", "explain"), ("text", "代为说明")])
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains("操作未完成"));
    assert_eq!(card_state(&app, sup.token(), id).await, "issued");

    // The department explains.
    let explanation = "申请人补充材料需外省核验，已于次日办结";
    let reply = approver
        .post(&actions, &[("action", "explain"), ("text", explanation)])
        .await;
    let page = approver.follow(&reply, &format!("{path}?done=1")).await;
    assert!(page.contains("已提交"), "a success notice");
    assert!(page.contains("已说明"));
    assert!(page.contains("情况说明") && page.contains("刘洋") && page.contains(explanation));
    assert_eq!(card_state(&app, sup.token(), id).await, "explained");
    // Answered, it may still be appealed once, not explained again.
    assert!(page.contains("申诉（限一次）"));
    assert!(!page.contains("提交情况说明") && !page.contains("提交整改报告"));

    // The supervisor now concludes it.
    let (_, page) = sup.get(&path).await;
    assert!(page.contains("value=\"close\"") && page.contains("办结结论"));
    let reply = sup
        .post(&actions, &[("action", "close"), ("text", "")])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("请填写办结结论"), "{}", reply.body);
    let reply = sup
        .post(
            &actions,
            &[("action", "close"), ("text", "情况属实，予以办结")],
        )
        .await;
    let page = sup.follow(&reply, &format!("{path}?done=1")).await;
    assert!(page.contains("已提交"));
    assert!(page.contains("已办结") && page.contains("督查员吴刚"));
    assert!(page.contains("情况属实，予以办结"));
    assert!(page.contains("您当前没有需要对本督办件办理的操作"));
    assert_eq!(card_state(&app, sup.token(), id).await, "closed");
    let (_, page) = approver.get(&path).await;
    assert!(page.contains("您当前没有需要对本督办件办理的操作"));

    // A second conclusion is refused with the reason, the card unchanged.
    let reply = sup
        .post(&actions, &[("action", "close"), ("text", "再次办结")])
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("操作未完成"));
    assert_eq!(card_state(&app, sup.token(), id).await, "closed");
}

#[tokio::test]
async fn a_warning_needs_no_answer_and_the_supervisor_may_close_it_directly() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let handler = Person::with_token(&app, &app.people.handler_a).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    tick_after_promised(&app, &case, &[]).await;
    let (warnings, _) = cards(
        &app,
        sup.token(),
        &format!("case_id={}&level=warning", case.id),
    )
    .await;
    let id = id_of(&warnings[0]);
    let path = format!("/supervision/cards/{id}");

    let (status, page) = handler.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("预警") && page.contains("预警无需书面答复"));
    assert!(page.contains("提交情况说明") && page.contains("提交整改报告"));
    assert!(
        !page.contains("申诉（限一次）"),
        "a warning is not appealed"
    );

    let (_, page) = sup.get(&path).await;
    assert!(page.contains("value=\"close\""), "a warning closes at once");
    let reply = sup
        .post(
            &format!("{path}/actions"),
            &[("action", "close"), ("text", "已提醒承办人")],
        )
        .await;
    let page = sup.follow(&reply, &format!("{path}?done=1")).await;
    assert!(page.contains("已办结") && page.contains("已提醒承办人"));
    assert_eq!(card_state(&app, sup.token(), id).await, "closed");
}

#[tokio::test]
async fn an_appeal_is_reviewed_on_the_card_page_upheld_once_and_revoked_once() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let first = accepted_case(&app, &clerk).await;
    let second = accepted_case(&app, &clerk).await;
    assert_eq!(first.promised_due, second.promised_due);
    tick_after_promised(&app, &first, &[]).await;
    let upheld = id_of(&card_of(&app, sup.token(), first.id, "yellow").await);
    let revoked = id_of(&card_of(&app, sup.token(), second.id, "yellow").await);

    for id in [upheld, revoked] {
        let path = format!("/supervision/cards/{id}");
        let reply = approver
            .post(
                &format!("{path}/actions"),
                &[
                    ("action", "appeal"),
                    ("text", "系统故障导致无法流转，有运维记录为证"),
                ],
            )
            .await;
        let page = approver.follow(&reply, &format!("{path}?done=1")).await;
        assert!(page.contains("申诉中") && page.contains("系统故障导致无法流转"));
        assert!(
            page.contains("您当前没有需要对本督办件办理的操作"),
            "nothing more for the department while the appeal is reviewed"
        );
        let (_, page) = sup.get(&path).await;
        assert!(page.contains("复核：维持") && page.contains("复核：撤销"));
        assert!(!page.contains("value=\"close\""));
    }

    // Upheld: the department answers, and may not appeal again.
    let path = format!("/supervision/cards/{upheld}");
    let reply = sup
        .post(
            &format!("{path}/actions"),
            &[("action", "uphold"), ("text", "运维记录显示系统运行正常")],
        )
        .await;
    let page = sup.follow(&reply, &format!("{path}?done=1")).await;
    assert!(page.contains("复核维持") && page.contains("运维记录显示系统运行正常"));
    assert_eq!(card_state(&app, sup.token(), upheld).await, "notified");
    let (_, page) = approver.get(&path).await;
    assert!(page.contains("已通知"));
    assert!(page.contains("提交情况说明") && page.contains("提交整改报告"));
    assert!(!page.contains("申诉（限一次）"), "one appeal only");

    // Revoked: it stays in the record but no longer counts.
    let path = format!("/supervision/cards/{revoked}");
    let reply = sup
        .post(
            &format!("{path}/actions"),
            &[("action", "revoke"), ("text", "经核查，延误系系统故障所致")],
        )
        .await;
    let page = sup.follow(&reply, &format!("{path}?done=1")).await;
    assert!(page.contains("已撤销") && page.contains("不计入统计"));
    assert!(page.contains("复核撤销") && page.contains("经核查，延误系系统故障所致"));
    assert_eq!(card_state(&app, sup.token(), revoked).await, "revoked");
    let (_, list) = sup.get("/supervision?state=revoked").await;
    assert!(list.contains(&card_link(revoked)) && list.contains("（不计入统计）"));
    assert!(!list.contains(&card_link(upheld)));
    let (_, list) = sup.get("/supervision").await;
    let totals = row_cells(&list, "合计</th>");
    assert_eq!(totals[5], "1", "the revoked yellow card is not counted");
}

/// Fails at the time of writing: after a refused action the card page puts
/// the typed text into the first form on the page (情况说明), whatever form
/// it was typed in (`{% if loop.first %}{{ typed }}` in
/// supervision_card.html), so a refused rectification report comes back as
/// an explanation.
#[tokio::test]
async fn a_refused_report_is_shown_again_in_its_own_form() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup_token = app.token(&supervisor).await;
    let handler = Person::with_token(&app, &app.people.handler_a).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    tick_after_promised(&app, &case, &[]).await;
    let id = id_of(&card_of(&app, &sup_token, case.id, "yellow").await);
    let long = "改".repeat(4001);
    let reply = handler
        .post(
            &format!("/supervision/cards/{id}/actions"),
            &[("action", "rectify"), ("text", &long)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("整改情况不能超过4000字"),
        "{}",
        reply.body
    );
    let in_rectify = textarea(&reply.body, "text-rectify");
    let in_explain = textarea(&reply.body, "text-explain");
    assert!(
        in_rectify == long && in_explain.is_empty(),
        "the typed report ({} characters) is back in the 整改报告 form: the 整改报告 box holds {} \
         characters, the 情况说明 box {}",
        long.chars().count(),
        in_rectify.chars().count(),
        in_explain.chars().count()
    );
    assert_eq!(card_state(&app, &sup_token, id).await, "issued");
}

/// Fails at the time of writing, for the same cause as the test above: when
/// another member of the department answered first, the handler's refused
/// report comes back in the first form the page still offers, the one-time
/// appeal (申诉理由), one click away from being sent as the appeal.
#[tokio::test]
async fn a_report_refused_on_a_stale_page_is_not_put_into_the_appeal_form() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup_token = app.token(&supervisor).await;
    let handler = Person::with_token(&app, &app.people.handler_a).await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    tick_after_promised(&app, &case, &[]).await;
    let id = id_of(&card_of(&app, &sup_token, case.id, "yellow").await);
    let actions = format!("/supervision/cards/{id}/actions");

    // Both open the card; the approver explains first.
    let (_, page) = handler.get(&format!("/supervision/cards/{id}")).await;
    assert!(page.contains("提交整改报告"));
    let reply = approver
        .post(&actions, &[("action", "explain"), ("text", "已于次日办结")])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let report = "已对承办人进行提醒谈话，并建立超期预警台账";
    let reply = handler
        .post(&actions, &[("action", "rectify"), ("text", report)])
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("操作未完成"), "{}", reply.body);
    assert!(
        reply.body.contains("申诉（限一次）"),
        "the appeal is still offered"
    );
    assert_eq!(
        textarea(&reply.body, "text-appeal"),
        "",
        "the refused report is not typed into the appeal"
    );
    assert_eq!(card_state(&app, &sup_token, id).await, "explained");
}

/// Fails at the time of writing: the card routes take the id as `Path<i64>`,
/// so an address that is not a number gets axum's plain-text, English
/// "400 Invalid URL: Cannot parse `abc` to a `i64`" instead of the Chinese
/// not-found page the case page gives for the same mistake (/work/cases/abc).
#[tokio::test]
async fn a_card_address_that_is_not_a_number_gets_the_chinese_not_found_page() {
    let app = spawn_app().await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let (status, page) = approver.get("/work/cases/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("未找到页面或记录"), "{page}");
    for path in ["/supervision/cards/abc", "/supervision/cards/abc/notice"] {
        let (status, page) = approver.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {page}");
        assert!(page.contains("未找到页面或记录"), "{path}: {page}");
    }
}

/// A case of the food licence filed and accepted at the window at 10:00 on
/// `day`, decided on the store's calendar as the server decides it (the API
/// accepts only now). Returns its id.
async fn accepted_on(app: &TestApp, day: Date) -> i64 {
    let at = day
        .at(10, 0, 0, 0)
        .to_zoned_datetime(china_zone())
        .expect("a zoned time")
        .timestamp();
    let id = app.submit_at(at).await;
    app.accept_at(id, at).await;
    id
}

/// What a page shows between `from` and the next `to` after it.
fn between<'a>(page: &'a str, from: &str, to: &str) -> &'a str {
    page.split(from)
        .nth(1)
        .and_then(|rest| rest.split(to).next())
        .unwrap_or_else(|| panic!("no {from} in the page: {page}"))
}

#[tokio::test]
async fn the_card_page_explains_the_answer_deadline_and_records_a_closure_moving_it() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    // Accepted Monday 2 November 2026 with 5 working days promised: due
    // Monday 9 November. Found overdue on Tuesday the 10th, the department
    // answers within 5 working days: by Tuesday 17 November.
    let case_id = accepted_on(&app, Date::constant(2026, 11, 2)).await;
    app.store
        .supervise(noon(Date::constant(2026, 11, 10)), &[])
        .await
        .expect("tick on 10 November");
    let yellow = card_of(&app, sup.token(), case_id, "yellow").await;
    let id = id_of(&yellow);
    assert_eq!(day(&yellow["answer_due"]), Date::constant(2026, 11, 17));

    let path = format!("/supervision/cards/{id}");
    let (status, page) = sup.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = unescape(&page);
    assert!(page.contains("期限计算说明"), "{page}");
    let explained = between(&page, "<summary>黄红牌整改期限：", "</details>");
    assert!(explained.starts_with("2026年11月17日"), "{explained}");
    assert!(
        explained.contains("2026年11月10日"),
        "counted from the day found: {explained}"
    );
    assert!(explained.contains("<ol><li>"), "{explained}");
    assert!(!page.contains("临时"), "a published year: {page}");
    assert!(!page.contains("日历调整记录"), "nothing moved it yet");

    // The county closes on Thursday 12 November: the answer is due a day
    // later, and the card records the change.
    let admin = app.token(&app.people.admin).await;
    let (status, body) = app
        .post(
            Some(&admin),
            "/api/v1/calendar/overrides",
            &json!({"date": "2026-11-12", "kind": "closure", "reason": "暴雨红色预警，全县停止办公"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, page) = sup.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = unescape(&page);
    let answer = between(&page, "<dt>说明/整改期限</dt>", "</dd>");
    assert!(answer.contains("2026年11月18日"), "{answer}");
    let records = between(&page, "日历调整记录", "</ul>");
    assert!(
        records.contains("黄红牌整改期限：2026年11月17日 → 2026年11月18日"),
        "old and new due day: {records}"
    );
    assert!(
        records.contains("2026-11-12") && records.contains("暴雨红色预警，全县停止办公"),
        "the day and why: {records}"
    );
    let explained = between(&page, "<summary>黄红牌整改期限：", "</details>");
    assert!(explained.starts_with("2026年11月18日"), "{explained}");
    assert!(
        explained.contains("暴雨红色预警，全县停止办公"),
        "the closure is part of the explanation: {explained}"
    );

    // The department's own people see the same; another department nothing.
    let approver = Person::with_token(&app, &app.people.approver).await;
    let (status, page) = approver.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unescape(&page).contains("2026年11月17日 → 2026年11月18日"));
    let other = Person::with_token(&app, &app.people.other_clerk).await;
    let (status, page) = other.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("日历调整记录"));
    // Nothing of it is provisional: the notice adds no note.
    let (status, notice) = sup.get(&format!("{path}/notice")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unescape(&notice).contains("请你单位于2026年11月18日前"));
    assert!(!notice.contains("临时"), "{notice}");
}

#[tokio::test]
async fn a_card_whose_days_fall_in_an_unpublished_year_is_marked_provisional_on_its_pages() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    // No holiday arrangement is published for 2150: Saturday and Sunday are
    // its only days off, and everything counted in it may still change.
    let case_id = accepted_on(&app, Date::constant(2150, 3, 2)).await;
    app.store
        .supervise(noon(Date::constant(2150, 3, 20)), &[])
        .await
        .expect("tick on 20 March 2150");
    let yellow = card_of(&app, sup.token(), case_id, "yellow").await;
    let id = id_of(&yellow);
    let title = "title=\"2150年节假日安排尚未发布，暂按周末休息计算，发布后自动重算\"";

    let (status, page) = sup.get(&format!("/supervision/cards/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = unescape(&page);
    for fact in ["<dt>期限届满日</dt>", "<dt>说明/整改期限</dt>"] {
        let shown = between(&page, fact, "</dd>");
        assert!(
            shown.contains("2150年") && shown.contains(">临时</span>") && shown.contains(title),
            "{fact} is marked, with why: {shown}"
        );
    }
    let explained = between(&page, "<summary>黄红牌整改期限：", "</details>");
    assert!(explained.contains("临时结果"), "{explained}");

    // The list marks its answer deadline and says what the mark means.
    let (status, list) = sup.get("/supervision").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = unescape(&list);
    let cells = row_cells(&list, &card_link(id));
    assert!(
        cells
            .iter()
            .any(|c| c.starts_with("2150年") && c.ends_with("临时")),
        "{cells:?}"
    );
    assert!(list.contains("表示期限所在年度的节假日安排尚未发布"));

    // The printed notice says it in words.
    let (status, notice) = sup.get(&format!("/supervision/cards/{id}/notice")).await;
    assert_eq!(status, StatusCode::OK, "{notice}");
    assert!(
        unescape(&notice).contains(
            "注：本通报所列期限为临时计算结果（2150年节假日安排尚未发布，暂按周末休息计算，发布后自动重算）"
        ),
        "{notice}"
    );
}

// ---------------------------------------------------------------------------
// 3. Accountability and the notice document

#[tokio::test]
async fn the_supervisor_records_accountability_on_the_card_page_and_the_notice_shows_it() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::logged_in(&app, "jiancha").await;
    let sup_token = app.token(&supervisor).await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    tick_after_promised(&app, &case, &[]).await;
    let id = id_of(&card_of(&app, &sup_token, case.id, "yellow").await);
    let path = format!("/supervision/cards/{id}");
    let record = format!("{path}/accountability");
    let handler_id = app.people.handler_a.id.to_string();
    let basis = "无正当理由超过承诺时限未办结，依据《衡山县政务服务电子监察问责办法》第八条";

    // The form offers the department's people and the sanctions.
    let (_, page) = sup.get(&path).await;
    assert!(page.contains("登记问责") && page.contains("事实和依据"));
    assert!(page.contains("李明（") && page.contains("刘洋（"));
    assert!(page.contains("诫勉谈话") && page.contains("通报批评"));

    // Refused records are explained on the page.
    let reply = sup
        .post(
            &record,
            &[
                ("person_id", &handler_id),
                ("responsibility", "direct"),
                ("sanction", "admonition"),
                ("basis", "   "),
            ],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("问责记录未登记"), "{}", reply.body);
    assert!(reply.body.contains("请填写问责依据"), "{}", reply.body);
    let reply = sup
        .post(
            &record,
            &[
                ("person_id", ""),
                ("responsibility", "direct"),
                ("sanction", "admonition"),
                ("basis", basis),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("请选择被问责人"), "{}", reply.body);
    let reply = sup
        .post(
            &record,
            &[
                ("person_id", &handler_id),
                ("responsibility", "direct"),
                ("sanction", "firing"),
                ("basis", basis),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("请选择处理方式"), "{}", reply.body);
    // The department cannot record one.
    let reply = approver
        .post(
            &record,
            &[
                ("person_id", &handler_id),
                ("responsibility", "direct"),
                ("sanction", "admonition"),
                ("basis", basis),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains("问责记录未登记"));
    let detail = card_detail(&app, &sup_token, id).await;
    assert_eq!(detail["accountability"], json!([]), "nothing recorded");

    let reply = sup
        .post(
            &record,
            &[
                ("person_id", &handler_id),
                ("responsibility", "direct"),
                ("sanction", "admonition"),
                ("basis", basis),
            ],
        )
        .await;
    let page = sup
        .follow(&reply, &format!("{path}?done=accountability"))
        .await;
    assert!(page.contains("问责记录已登记"));
    for expected in [
        "李明（衡山县市场监督管理局）",
        "直接责任（承办人）",
        "诫勉谈话",
        basis,
    ] {
        assert!(page.contains(expected), "the table shows {expected}");
    }
    assert!(!page.contains("尚无问责记录"));
    let detail = card_detail(&app, &sup_token, id).await;
    assert_eq!(detail["accountability"].as_array().unwrap().len(), 1);

    // The department sees the record, without the form.
    let (_, page) = approver.get(&path).await;
    assert!(page.contains("李明（衡山县市场监督管理局）") && page.contains("诫勉谈话"));
    assert!(!page.contains("登记问责"));

    // The notice document lists it too.
    let (status, notice) = approver.get(&format!("{path}/notice")).await;
    assert_eq!(status, StatusCode::OK, "{notice}");
    assert!(notice.contains("责任追究"));
    assert!(notice.contains("李明（衡山县市场监督管理局），直接责任（承办人），给予诫勉谈话"));
}

#[tokio::test]
async fn the_notice_document_addresses_the_department_with_the_case_and_the_answer_deadline() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let other = Person::with_token(&app, &app.people.other_clerk).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    let found = tick_after_promised(&app, &case, &[]).await;
    let yellow = card_of(&app, sup.token(), case.id, "yellow").await;
    let id = id_of(&yellow);
    let answer_due = day(&yellow["answer_due"]);
    let reply = approver
        .post(
            &format!("/supervision/cards/{id}/actions"),
            &[("action", "explain"), ("text", "已于次日办结")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    for person in [&sup, &approver] {
        let (status, notice) = person.get(&format!("/supervision/cards/{id}/notice")).await;
        assert_eq!(status, StatusCode::OK, "{notice}");
        let notice = unescape(&notice);
        for expected in [
            "电子监察督办通报",
            &format!("监察通报〔{}〕{id}号", found.year()),
            "衡山县市场监督管理局：",
            "“食品经营许可（新办）”事项",
            &format!("编号{}", case.number),
            "出现以下情况：承诺办结时限超期",
            &format!("该期限届满日为{}", chinese(case.promised_due)),
            &format!("系统于{}发现并予以黄牌", chinese(found)),
            &format!("请你单位于{}前", chinese(answer_due)),
            "处理情况",
            "系统发出",
            "情况说明（刘洋）：已于次日办结",
            "抄送：衡山县市场监督管理局主要负责人",
        ] {
            assert!(notice.contains(expected), "the notice shows {expected}");
        }
        assert!(!notice.contains("责任追究"), "no accountability yet");
    }

    // A warning asks for speed, not for an answer by a day.
    let (warnings, _) = cards(
        &app,
        sup.token(),
        &format!("case_id={}&level=warning", case.id),
    )
    .await;
    let (status, notice) = sup
        .get(&format!(
            "/supervision/cards/{}/notice",
            id_of(&warnings[0])
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(notice.contains("电子监察督办通报") && notice.contains("予以预警"));
    assert!(notice.contains("请你单位抓紧办理"));
    assert!(!notice.contains("前通过电子监察系统作出情况说明"));

    // Another department gets nothing.
    let (status, page) = other.get(&format!("/supervision/cards/{id}/notice")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("电子监察督办通报"));
}

// ---------------------------------------------------------------------------
// 4. Notices, the workbench and the case page

#[tokio::test]
async fn signing_a_notice_opens_the_card_and_marks_it_notified() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup_token = app.token(&supervisor).await;
    let handler_token = app.token(&app.people.handler_a).await;
    let handler = Person::logged_in(&app, "liming").await;
    let other = Person::with_token(&app, &app.people.other_clerk).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;

    // Before any card: no unread notices on the workbench.
    let (status, work) = handler.get("/work").await;
    assert_eq!(status, StatusCode::OK);
    assert!(work.contains("href=\"/work/notices\"") && work.contains("我的消息"));
    assert!(!work.contains("条未读"));
    assert!(work.contains("href=\"/supervision\"") && work.contains("本部门督办件"));

    tick_after_promised(&app, &case, &[]).await;
    let yellow = card_of(&app, &sup_token, case.id, "yellow").await;
    let card_id = id_of(&yellow);
    let mine = notices(&app, &handler_token).await;
    let unread = mine.iter().filter(|n| n["read"] == false).count();
    assert!(unread >= 1, "{mine:?}");
    let notice = mine
        .iter()
        .find(|n| n["card_id"] == card_id)
        .expect("a notice of the yellow card")
        .clone();
    let notice_id = notice["id"].as_i64().unwrap();

    let (_, work) = handler.get("/work").await;
    assert!(work.contains(&format!("{unread}条未读")), "{work}");
    let (status, page) = handler.get("/work/notices").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = unescape(&page);
    assert!(page.contains("我的消息") && page.contains(&format!("{unread}条未读")));
    assert!(page.contains(notice["title"].as_str().unwrap()));
    assert!(page.contains(notice["body"].as_str().unwrap()));
    assert!(page.contains("签收并查看督办件"));
    assert!(page.contains(&format!("/work/notices/{notice_id}/read")));

    // Someone else cannot sign for it.
    let reply = other
        .post(&format!("/work/notices/{notice_id}/read"), &[])
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(card_state(&app, &sup_token, card_id).await, "issued");

    // Signing opens the card, now notified.
    let reply = handler
        .post(&format!("/work/notices/{notice_id}/read"), &[])
        .await;
    let page = handler
        .follow(&reply, &format!("/supervision/cards/{card_id}"))
        .await;
    assert!(page.contains(yellow["title"].as_str().unwrap()));
    assert!(page.contains("已通知"));
    assert!(page.contains("送达通知") && page.contains("李明"));
    assert_eq!(card_state(&app, &sup_token, card_id).await, "notified");

    let (_, page) = handler.get("/work/notices").await;
    assert!(page.contains("已签收"));
    assert!(page.contains(&format!("href=\"/supervision/cards/{card_id}\"")));
    let left = unread - 1;
    let (_, work) = handler.get("/work").await;
    if left > 0 {
        assert!(page.contains(&format!("{left}条未读")));
        assert!(work.contains(&format!("{left}条未读")));
    } else {
        assert!(!page.contains("条未读") && !work.contains("条未读"));
    }
    // Signing again changes nothing and still opens the card.
    let reply = handler
        .post(&format!("/work/notices/{notice_id}/read"), &[])
        .await;
    handler
        .follow(&reply, &format!("/supervision/cards/{card_id}"))
        .await;
    assert_eq!(card_state(&app, &sup_token, card_id).await, "notified");

    // The supervisor's workbench links to the supervision and the outbox.
    let sup = Person::with_token(&app, &supervisor).await;
    let (_, work) = sup.get("/work").await;
    assert!(work.contains("href=\"/supervision\"") && work.contains("电子监察"));
    assert!(work.contains("href=\"/admin/outbox\"") && work.contains("提醒消息发送"));
}

#[tokio::test]
async fn the_case_page_lists_the_cards_of_the_case() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup_token = app.token(&supervisor).await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    let quiet = accepted_case(&app, &clerk).await;
    let path = format!("/work/cases/{}", case.id);

    let (status, page) = approver.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page.contains("电子监察"), "no cards yet");

    let found = tick_after_promised(&app, &case, &[]).await;
    let (list, total) = cards(&app, &sup_token, &format!("case_id={}", case.id)).await;
    assert!(total >= 2, "{list:?}");
    let (_, page) = approver.get(&path).await;
    let page = unescape(&page);
    assert!(page.contains("电子监察"));
    for card in &list {
        assert!(page.contains(&card_link(id_of(card))), "{card}");
        assert!(page.contains(card["title"].as_str().unwrap()), "{card}");
        assert!(page.contains(card["level_label"].as_str().unwrap()));
    }
    assert!(page.contains(&chinese(found)) && page.contains("已发出"));

    // Another case's cards are not on this one's page.
    let (others, _) = cards(&app, &sup_token, &format!("case_id={}", quiet.id)).await;
    let (_, quiet_page) = approver.get(&format!("/work/cases/{}", quiet.id)).await;
    for card in &list {
        assert!(!quiet_page.contains(&card_link(id_of(card))));
    }
    for card in &others {
        assert!(quiet_page.contains(&card_link(id_of(card))));
    }
}

// ---------------------------------------------------------------------------
// 5. Figures

/// Fails at the time of writing: the 合计 row's on-time rate is truncated
/// (`on_time * 1000 / decided` in integers, pages/supervision.rs) while each
/// department's rate is rounded (`DepartmentFiguresView::from`), so with one
/// department at 2 of 3 the row says 66.7% and the total 66.6%.
#[tokio::test]
async fn the_total_on_time_rate_agrees_with_the_only_department_s_rate() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let clerk = app.token(&app.people.clerk_a).await;
    // The first case runs over its promised deadline; two more are on time.
    let late = accepted_case(&app, &clerk).await;
    tick_after_promised(&app, &late, &[]).await;
    card_of(&app, sup.token(), late.id, "yellow").await;
    let on_time = [
        accepted_case(&app, &clerk).await,
        accepted_case(&app, &clerk).await,
    ];
    decide(&app, late.id).await;
    for case in &on_time {
        decide(&app, case.id).await;
    }
    let (_, figures) = app
        .get(Some(sup.token()), "/api/v1/supervision/departments")
        .await;
    let mine = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["department_id"] == app.department.id)
        .expect("the department's figures")
        .clone();
    assert_eq!(
        (&mine["decided"], &mine["decided_on_time"]),
        (&json!(3), &json!(2)),
        "{mine}"
    );
    assert_eq!(mine["on_time_rate"], 66.7, "{mine}");

    let (_, page) = sup.get("/supervision").await;
    let row = row_cells(
        &page,
        &format!("href=\"/supervision?department_id={}\"", app.department.id),
    );
    assert_eq!(row[7], "3");
    assert_eq!(row[8], "66.7%", "{row:?}");
    let totals = row_cells(&page, "合计</th>");
    assert_eq!(totals[7], "3", "{totals:?}");
    assert_eq!(
        totals[8], "66.7%",
        "the total of one department is that department's"
    );
}

// ---------------------------------------------------------------------------
// 6. The outbox

/// Fails the message of `card_id` until no attempt is left; returns its id.
async fn fail_message_of(app: &TestApp, admin: &str, card_id: i64, from: Timestamp) -> i64 {
    let (status, pending) = app.get(Some(admin), "/api/v1/outbox?state=pending").await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    let id = pending
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["card_id"] == card_id)
        .unwrap_or_else(|| panic!("a message of card {card_id}: {pending}"))["id"]
        .as_i64()
        .unwrap();
    let mut at = from;
    for _ in 0..onewindow_store::outbox::MAX_ATTEMPTS {
        at += jiff::SignedDuration::from_hours(2);
        let claimed = app
            .store
            .claim_messages(at, 100, jiff::SignedDuration::from_secs(60))
            .await
            .expect("claim");
        assert!(claimed.iter().any(|m| m.id == id), "claimed at {at}");
        app.store
            .message_failed(id, "连接被拒绝", at)
            .await
            .expect("record the failure");
    }
    id
}

async fn message_state(app: &TestApp, admin: &str, id: i64) -> Value {
    let (status, all) = app.get(Some(admin), "/api/v1/outbox").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    all.as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("message {id}: {all}"))
        .clone()
}

#[tokio::test]
async fn the_outbox_page_lists_messages_by_state_and_the_admin_re_sends_a_failed_one() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let admin = Person::logged_in(&app, "admin").await;
    let admin_token = app.token(&app.people.admin).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    let found = tick_after_promised(&app, &case, &[Channel::Webhook]).await;
    let yellow = card_of(&app, sup.token(), case.id, "yellow").await;
    let yellow_id = id_of(&yellow);

    // Everyone else is refused.
    for member in [
        &app.people.approver,
        &app.people.handler_a,
        &app.people.auditor,
    ] {
        let person = Person::with_token(&app, member).await;
        let (status, page) = person.get("/admin/outbox").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", member.name);
        assert!(page.contains("无权进行此操作"));
        assert!(page.contains("只有系统管理员和监察员可以查看提醒消息发送情况"));
    }

    // The admin and the supervisor see the pending messages.
    for person in [&admin, &sup] {
        let (status, page) = person.get("/admin/outbox").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page = unescape(&page);
        assert!(page.contains("提醒消息发送情况"));
        assert!(page.contains(&format!("【黄牌】{}", yellow["title"].as_str().unwrap())));
        assert!(page.contains(&card_link(yellow_id)));
        assert!(!page.contains("/resend\""), "nothing failed yet");
    }
    let (_, page) = admin.get("/admin/outbox?state=sent").await;
    assert!(page.contains("没有消息"));
    let (_, page) = admin.get("/admin/outbox?state=failed").await;
    assert!(page.contains("没有消息"));

    // A message that failed every attempt can be re-sent.
    let id = fail_message_of(&app, &admin_token, yellow_id, noon(found)).await;
    assert_eq!(
        message_state(&app, &admin_token, id).await["state"],
        "failed"
    );
    let resend = format!("/admin/outbox/{id}/resend");
    let (status, failed) = admin.get("/admin/outbox?state=failed").await;
    assert_eq!(status, StatusCode::OK);
    let failed = unescape(&failed);
    assert!(failed.contains("连接被拒绝"));
    assert!(failed.contains(&format!("{resend}\"")) && failed.contains(">重新发送<"));
    assert!(failed.contains(&card_link(yellow_id)));
    let (_, pending) = admin.get("/admin/outbox?state=pending").await;
    assert!(!pending.contains("/resend\"") && !pending.contains("连接被拒绝"));

    // Only the admin re-sends.
    let reply = sup.post(&resend, &[]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.body.contains("只有系统管理员可以重新发送提醒消息"));
    assert_eq!(
        message_state(&app, &admin_token, id).await["state"],
        "failed"
    );

    let reply = admin.post(&resend, &[]).await;
    let page = admin
        .follow(&reply, "/admin/outbox?state=failed&resent=1")
        .await;
    assert!(page.contains("已重新排队发送"));
    assert!(!page.contains(&resend), "no longer failed");
    let message = message_state(&app, &admin_token, id).await;
    assert_eq!(message["state"], "pending", "{message}");
    assert_eq!(message["attempts"], 0, "{message}");
    let (_, pending) = admin.get("/admin/outbox?state=pending").await;
    assert!(unescape(&pending).contains(&card_link(yellow_id)));

    // A pending message is not re-sent: the reason is shown.
    let reply = admin.post(&resend, &[]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("只有发送失败的消息才能重新发送"));
    let reply = admin.post("/admin/outbox/987654/resend", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------
// 7. Cross-site forms

#[tokio::test]
async fn every_supervision_form_refuses_a_cross_site_post() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let sup = Person::with_token(&app, &supervisor).await;
    let approver = Person::with_token(&app, &app.people.approver).await;
    let handler = Person::with_token(&app, &app.people.handler_a).await;
    let admin = Person::with_token(&app, &app.people.admin).await;
    let clerk = app.token(&app.people.clerk_a).await;
    let case = accepted_case(&app, &clerk).await;
    let found = tick_after_promised(&app, &case, &[Channel::Webhook]).await;
    let yellow = id_of(&card_of(&app, sup.token(), case.id, "yellow").await);
    let message = fail_message_of(&app, admin.token(), yellow, noon(found)).await;
    let notice = notices(&app, handler.token())
        .await
        .iter()
        .find(|n| n["card_id"] == yellow)
        .expect("the handler's notice")["id"]
        .as_i64()
        .unwrap();
    let handler_id = app.people.handler_a.id.to_string();
    let evil = "https://evil.example";

    let refused = [
        (
            &approver,
            format!("/supervision/cards/{yellow}/actions"),
            vec![("action", "explain"), ("text", "已于次日办结")],
        ),
        (
            &sup,
            format!("/supervision/cards/{yellow}/accountability"),
            vec![
                ("person_id", handler_id.as_str()),
                ("responsibility", "direct"),
                ("sanction", "admonition"),
                ("basis", "超过承诺时限"),
            ],
        ),
        (&handler, format!("/work/notices/{notice}/read"), vec![]),
        (&admin, format!("/admin/outbox/{message}/resend"), vec![]),
    ];
    for (person, path, fields) in &refused {
        let reply = person.post_from(path, fields, evil).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            reply.body
        );
        assert!(
            reply.body.contains("不接受来自其他网站的提交"),
            "{path}: {}",
            reply.body
        );
    }
    // Nothing happened.
    let detail = card_detail(&app, sup.token(), yellow).await;
    assert_eq!(detail["card"]["state"], "issued", "{detail}");
    assert_eq!(detail["accountability"], json!([]));
    let read = notices(&app, handler.token())
        .await
        .iter()
        .find(|n| n["id"] == notice)
        .expect("the notice")["read"]
        .clone();
    assert_eq!(read, false);
    assert_eq!(
        message_state(&app, admin.token(), message).await["state"],
        "failed"
    );

    // The same forms from this site go through.
    for (person, path, fields) in &refused {
        let reply = person.post(path, fields).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{path}: {}",
            reply.body
        );
    }
    let detail = card_detail(&app, sup.token(), yellow).await;
    assert_eq!(detail["card"]["state"], "explained", "{detail}");
    assert_eq!(detail["accountability"].as_array().unwrap().len(), 1);
    assert_eq!(
        message_state(&app, admin.token(), message).await["state"],
        "pending"
    );
}

#[tokio::test]
async fn the_supervisor_edits_the_rules_on_a_page_and_bad_values_are_explained() {
    let app = spawn_app().await;
    let supervisor = app.hire_supervisor().await;
    let person = Person::with_token(&app, &supervisor).await;
    let (status, page) = person.get("/supervision/rules").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let page = text_of(&page);
    assert!(
        page.contains("监察规则") && page.contains("承诺办结时限") && page.contains("超标准收费"),
        "{page}"
    );

    // The defaults as the form holds them, with the promised warning at 4
    // days and fees above the standard only a yellow card.
    let mut fields: Vec<(String, String)> = vec![
        ("warning_case_promised".into(), "4".into()),
        ("overdue_case_acceptance".into(), "warning".into()),
        ("overdue_case_promised".into(), "yellow".into()),
        ("overdue_case_statutory".into(), "red".into()),
        ("overdue_case_step".into(), "warning".into()),
        ("overdue_case_delivery".into(), "yellow".into()),
        ("overdue_case_suspension".into(), "yellow".into()),
        ("overdue_card_rectification".into(), "warning".into()),
        ("anomaly_fee_above_standard".into(), "yellow".into()),
        ("instant".into(), "yellow".into()),
        ("rectification_days".into(), "5".into()),
        ("item_warning_days".into(), "XK-001=6".into()),
    ];
    for level in ["warning", "yellow", "red"] {
        fields.push((format!("to_{level}_handler"), "1".into()));
    }
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = person.post("/supervision/rules", &form).await;
    let page = person.follow(&reply, "/supervision/rules?done=1").await;
    assert!(text_of(&page).contains("监察规则已保存"), "{page}");
    let (status, rules) = app
        .get(Some(person.token()), "/api/v1/supervision/rules")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rules["deadlines"]["warning_days"]["case_promised"], 4);
    assert_eq!(rules["anomalies"]["fee_above_standard"], "yellow");
    assert!(
        rules["anomalies"].get("off_system").is_none(),
        "left out: not watched"
    );
    assert_eq!(rules["item_warning_days"]["XK-001"], 6);
    assert_eq!(rules["recipients"]["red"], serde_json::json!(["handler"]));

    // A bad value is explained and nothing changes.
    let mut bad = form.clone();
    bad.retain(|(k, _)| *k != "rectification_days");
    bad.push(("rectification_days", "0"));
    let reply = person.post("/supervision/rules", &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&reply.body).contains("规则未保存"),
        "{}",
        reply.body
    );
    let mut bad = form.clone();
    bad.push(("item_warning_days", "XK-001 six"));
    bad.retain(|(k, v)| *k != "item_warning_days" || *v == "XK-001 six");
    let reply = person.post("/supervision/rules", &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&reply.body).contains("事项编码=天数"),
        "{}",
        reply.body
    );
    let (_, unchanged) = app
        .get(Some(person.token()), "/api/v1/supervision/rules")
        .await;
    assert_eq!(unchanged, rules);

    // Others may not change them.
    let approver = Person::with_token(&app, &app.people.approver).await;
    let (status, _) = approver.get("/supervision/rules").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reply = approver.post("/supervision/rules", &form).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}
