//! The public catalog search: jieba words over the published items, through
//! `GET /api/v1/items?q=` and the home page, kept current by the admin API;
//! and what the 300-item demo catalog answers to what people type.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::time::Instant;

use jiff::Timestamp;
use onewindow_core::catalog::{Guide, ItemStatus};
use onewindow_server::auth::urlencode;
use onewindow_server::search::SearchIndex;
use onewindow_store::catalog::{ItemFilter, ServiceItem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, food_guide, spawn_app};

const NO_RESULTS: &str = "没有找到符合条件的事项";

/// The names the public API lists for `q`, best first, and the total.
async fn api_names(app: &TestApp, q: &str) -> (Vec<String>, i64) {
    let (status, body) = app
        .get(None, &format!("/api/v1/items?q={}", urlencode(q)))
        .await;
    assert_eq!(status, StatusCode::OK, "search {q}: {body}");
    let names = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("a name").to_string())
        .collect();
    (names, body["total"].as_i64().expect("a total"))
}

/// The home page for `q`.
async fn home(app: &TestApp, q: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url(&format!("/?q={}", urlencode(q))))
        .send()
        .await
        .expect("GET /");
    let status = response.status();
    (status, response.text().await.expect("a page"))
}

/// Creates an item through the admin API (a draft) and returns its id.
async fn create(app: &TestApp, token: &str, guide: &Guide) -> i64 {
    let (status, body) = app
        .post(
            Some(token),
            "/api/v1/items",
            &json!({ "department_id": app.department.id, "guide": guide }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "create {}: {body}", guide.name);
    body["id"].as_i64().expect("an id")
}

async fn set_status(app: &TestApp, token: &str, id: i64, status: &str) {
    let (code, body) = app
        .put(
            token,
            &format!("/api/v1/items/{id}/status"),
            &json!({ "status": status }),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{status}: {body}");
}

#[tokio::test]
async fn yingye_zhizhao_finds_the_business_registration_through_the_api_and_the_home_page() {
    let app = spawn_app().await;
    let (names, total) = api_names(&app, "营业执照").await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("个体工商户设立登记")
    );
    assert_eq!(total, names.len() as i64);
    assert!(
        !names.contains(&"食品经营许可（新办）".to_string()),
        "an item that only asks for a copy of the licence is not listed: {names:?}"
    );
    let (names, _) = api_names(&app, "办营业执照").await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("个体工商户设立登记")
    );

    let (status, page) = home(&app, "营业执照").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("个体工商户设立登记"));
    assert!(!page.contains("食品经营许可（新办）"));
    assert!(!page.contains(NO_RESULTS));

    // The food licence by what people call it.
    let (names, _) = api_names(&app, "开饭店").await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("食品经营许可（新办）")
    );
}

#[tokio::test]
async fn draft_and_suspended_items_are_never_found() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    // The seeded draft 食品经营许可（变更）.
    let (names, _) = api_names(&app, "食品经营许可（变更）").await;
    assert!(!names.contains(&app.draft.guide.name), "{names:?}");
    let (_, page) = home(&app, "变更").await;
    assert!(!page.contains("食品经营许可（变更）"));
    // Staff asking for published items search the index too.
    let (status, body) = app
        .get(
            Some(&admin),
            &format!("/api/v1/items?q={}&status=published", urlencode("变更")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 0, "{body}");

    let (names, _) = api_names(&app, "食品经营").await;
    assert_eq!(names, vec!["食品经营许可（新办）".to_string()]);
    set_status(&app, &admin, app.item.id, "suspended").await;
    let (names, _) = api_names(&app, "食品经营").await;
    assert!(!names.contains(&app.item.guide.name), "{names:?}");
    // Its alias: nothing else answers to it.
    let (names, total) = api_names(&app, "餐饮许可").await;
    assert!(names.is_empty() && total == 0, "{names:?}");
    let (status, page) = home(&app, "餐饮许可").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("食品经营许可（新办）") && page.contains(NO_RESULTS));

    set_status(&app, &admin, app.item.id, "published").await;
    let (names, _) = api_names(&app, "餐饮许可").await;
    assert_eq!(names, vec!["食品经营许可（新办）".to_string()]);
}

#[tokio::test]
async fn an_item_published_through_the_admin_api_is_found_at_once() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    // Search once so that the index exists before the change.
    let (names, _) = api_names(&app, "药品零售").await;
    assert!(names.is_empty(), "{names:?}");

    let guide = Guide {
        aliases: vec!["开药店".into()],
        ..food_guide("000117009000", "药品零售企业经营许可")
    };
    let id = create(&app, &admin, &guide).await;
    let (names, _) = api_names(&app, "药品零售").await;
    assert!(names.is_empty(), "a draft is not found: {names:?}");

    set_status(&app, &admin, id, "published").await;
    let (names, _) = api_names(&app, "药品零售").await;
    assert_eq!(names, vec!["药品零售企业经营许可".to_string()]);
    let (names, _) = api_names(&app, "开药店").await;
    assert_eq!(names, vec!["药品零售企业经营许可".to_string()]);
    let (_, page) = home(&app, "开药店").await;
    assert!(page.contains("药品零售企业经营许可"));

    // An edit of the guide is found at once too.
    let (status, body) = app
        .put(
            &admin,
            &format!("/api/v1/items/{id}"),
            &json!({ "guide": Guide { aliases: vec!["卖药".into()], ..guide.clone() } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (names, _) = api_names(&app, "卖药").await;
    assert_eq!(names, vec!["药品零售企业经营许可".to_string()]);
    let (names, _) = api_names(&app, "开药店").await;
    assert!(names.is_empty(), "the old alias is gone: {names:?}");
}

#[tokio::test]
async fn name_matches_rank_above_alias_and_guide_text_matches() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let by_text = Guide {
        conditions: vec!["从业人员持有有效的健康证明，配备餐具消毒柜".into()],
        ..food_guide("000117011000", "食品小作坊登记")
    };
    let by_alias = Guide {
        aliases: vec!["健康证明".into()],
        ..food_guide("000117012000", "公共场所卫生许可")
    };
    let by_name = food_guide("000117013000", "从业人员健康证明核发");
    // Created in the reverse of the expected order, so that id order is wrong.
    for guide in [&by_text, &by_alias, &by_name] {
        let id = create(&app, &admin, guide).await;
        set_status(&app, &admin, id, "published").await;
    }
    let (names, _) = api_names(&app, "健康证明").await;
    assert_eq!(
        names,
        vec![
            "从业人员健康证明核发".to_string(),
            "公共场所卫生许可".into()
        ],
        "the name first, then the alias; the guide's text is not listed beside them"
    );
    // Guide text alone finds an item when no name or alias does.
    let (names, _) = api_names(&app, "消毒柜").await;
    assert_eq!(names, vec!["食品小作坊登记".to_string()]);
    // Two names: every word in the name ranks above some of them.
    let (names, _) = api_names(&app, "食品许可").await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("食品经营许可（新办）")
    );
}

#[tokio::test]
async fn punctuation_blank_and_very_long_queries_get_a_clear_answer() {
    let app = spawn_app().await;
    let (_, listed) = app.get(None, "/api/v1/items").await;
    for q in ["！？。，、", "%_\\'\"<>", "...", "——"] {
        let (names, total) = api_names(&app, q).await;
        assert!(names.is_empty() && total == 0, "{q}: {names:?}");
        let (status, page) = home(&app, q).await;
        assert_eq!(status, StatusCode::OK, "{q}");
        assert!(page.contains(NO_RESULTS), "{q}");
    }
    // Blank: the normal listing.
    let (status, blank) = app
        .get(None, &format!("/api/v1/items?q={}", urlencode("   ")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(blank["total"], listed["total"]);
    assert_eq!(blank["total"], 2, "the two published items: {blank}");
    let (status, page) = home(&app, " 　").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("个体工商户设立登记") && page.contains("食品经营许可（新办）"));

    let long = "营业执照".repeat(500);
    assert_eq!(long.chars().count(), 2000);
    let (names, _) = api_names(&app, &long).await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("个体工商户设立登记")
    );
    let (status, _) = home(&app, &long).await;
    assert_eq!(status, StatusCode::OK);
    let noise: String = "的！a1，".repeat(400);
    let (status, body) = app
        .get(None, &format!("/api/v1/items?q={}", urlencode(&noise)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = home(&app, &noise).await;
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------
// The demo catalog (crates/cli/data/demo_catalog.json): 27 departments, 300
// items, indexed the way the server does.

fn demo_items() -> (Vec<ServiceItem>, HashMap<i64, String>) {
    let catalog: Value =
        serde_json::from_str(include_str!("../../cli/data/demo_catalog.json")).expect("JSON");
    let mut items = Vec::new();
    let mut departments = HashMap::new();
    for (d, department) in catalog["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .enumerate()
    {
        let department_id = d as i64 + 1;
        departments.insert(
            department_id,
            department["name"].as_str().expect("a name").to_string(),
        );
        for item in department["items"].as_array().expect("items") {
            let mut guide = item.clone();
            let id = items.len() as i64 + 1;
            for (field, value) in [
                ("code", format!("DEMO{id:04}")),
                ("implementing_code", format!("IMPL{id:04}")),
                ("location", "政务服务中心".to_string()),
                ("office_hours", "工作日".to_string()),
                ("contact_phone", "0734-5822315".to_string()),
                ("complaint_phone", "0734-12345".to_string()),
            ] {
                guide[field] = Value::String(value);
            }
            let guide: Guide = serde_json::from_value(guide).expect("a guide");
            items.push(ServiceItem {
                id,
                department_id,
                status: ItemStatus::Published,
                guide,
                version: 1,
                updated_at: Timestamp::UNIX_EPOCH,
            });
        }
    }
    (items, departments)
}

fn names(index: &SearchIndex, q: &str) -> Vec<String> {
    let filter = ItemFilter {
        limit: 20,
        ..ItemFilter::default()
    };
    index
        .search(q, &filter)
        .expect("a search")
        .items
        .into_iter()
        .map(|i| i.guide.name)
        .collect()
}

#[test]
fn the_demo_catalog_answers_what_people_type() {
    let (mut items, departments) = demo_items();
    assert_eq!(items.len(), 300);
    // One suspended and one draft item are left out.
    let suspended = items
        .iter()
        .position(|i| i.guide.name == "公司设立登记")
        .expect("公司设立登记");
    items[suspended].status = ItemStatus::Suspended;
    let draft = items
        .iter()
        .position(|i| i.guide.name == "居民身份证补领")
        .expect("居民身份证补领");
    items[draft].status = ItemStatus::Draft;
    let started = Instant::now();
    let index = SearchIndex::build(items.clone(), &departments).expect("an index");
    let built = started.elapsed();
    assert_eq!(index.len(), 298);
    // A rebuild after a catalog change: the dictionary is loaded already.
    let started = Instant::now();
    let rebuilt = SearchIndex::build(items.clone(), &departments).expect("an index");
    let rebuilt_in = started.elapsed();
    assert_eq!(rebuilt.len(), 298);

    let found = names(&index, "营业执照");
    assert_eq!(found[0], "营业执照补领、换发", "{found:?}");
    assert!(
        found.contains(&"个体工商户设立登记".to_string()),
        "{found:?}"
    );
    assert!(!found.contains(&"公司设立登记".to_string()), "suspended");
    assert!(
        found[..10]
            .iter()
            .all(|n| n.contains("登记") || n.contains("营业执照")),
        "{found:?}"
    );

    let found = names(&index, "办营业执照");
    assert!(
        found[..5].contains(&"个体工商户设立登记".to_string()),
        "{found:?}"
    );

    let found = names(&index, "开饭店");
    assert_eq!(found[0], "食品经营许可（新办）", "{found:?}");

    let found = names(&index, "食品经营");
    assert!(
        found[..4].iter().all(|n| n.starts_with("食品经营许可")),
        "{found:?}"
    );

    let found = names(&index, "身份证");
    assert!(found[..3].iter().all(|n| n.contains("身份证")), "{found:?}");
    assert!(!found.contains(&"居民身份证补领".to_string()), "draft");

    let found = names(&index, "公积金提取");
    assert!(
        found[..2].iter().all(|n| n.starts_with("住房公积金提取")),
        "{found:?}"
    );

    let found = names(&index, "退休");
    assert!(found[..4].iter().all(|n| n.contains("退休")), "{found:?}");
    assert!(found.contains(&"企业职工正常退休审批".to_string()));

    let found = names(&index, "领养老金");
    assert!(found[0].contains("养老保险待遇申领"), "{found:?}");

    // Department and category filters apply to the hits.
    let market = departments
        .iter()
        .find(|(_, n)| n.contains("市场监督"))
        .map(|(id, _)| *id)
        .expect("the market regulator");
    let filter = ItemFilter {
        department_id: Some(market),
        limit: 100,
        ..ItemFilter::default()
    };
    let found = index.search("营业执照", &filter).expect("a search");
    assert!(found.items.iter().all(|i| i.department_id == market));
    assert_eq!(found.total as usize, found.items.len());

    // Timing is printed, not asserted: `cargo test --test search -- --nocapture`.
    let queries = [
        "营业执照",
        "办营业执照",
        "开饭店",
        "食品经营",
        "身份证",
        "公积金提取",
        "退休",
        "领养老金",
        "我想咨询一下怎么办理不动产登记",
        "不存在的事项",
    ];
    let rounds = 20;
    let filter = ItemFilter {
        limit: 20,
        ..ItemFilter::default()
    };
    let started = Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    for _ in 0..rounds {
        for q in queries {
            let one = Instant::now();
            index.search(q, &filter).expect("a search");
            slowest = slowest.max(one.elapsed());
        }
    }
    let mean = started.elapsed() / (rounds * queries.len() as u32);
    println!(
        "catalog search over {} items: first build (with jieba's dictionary) {built:?}, \
         rebuild {rebuilt_in:?}, mean query {mean:?}, slowest {slowest:?}",
        index.len()
    );
}
