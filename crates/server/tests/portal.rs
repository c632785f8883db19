//! The portal beyond the catalog, through the real server: the home page's
//! themes, departments, most-applied items and announcements; announcements
//! published and withdrawn by the administrator; appointments booked,
//! looked up and cancelled, and the window's list of the day; an item's own
//! form fields on the online application.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::civil::Date;
use onewindow_core::appointment::bookable_days;
use onewindow_core::calendar::civil_date;
use onewindow_core::catalog::{FieldKind, FormField, Guide};
use onewindow_store::portal::NewAnnouncement;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use support::*;

async fn page(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET a page");
    (response.status(), response.text().await.expect("the page"))
}

async fn post_form(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = app.client.post(app.url(path)).form(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("POST a form");
    (response.status(), response.text().await.expect("the page"))
}

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in the page:\n{html}"))
        + start.len();
    let to = html[from..].find(end).map_or(html.len(), |i| from + i);
    &html[from..to]
}

/// Creates and publishes an item of the test department, before any page
/// builds the search index.
async fn publish(app: &TestApp, guide: Guide) -> onewindow_store::catalog::ServiceItem {
    let now = jiff::Timestamp::now();
    let item = app
        .store
        .create_item("staff:admin".into(), app.department.id, guide, now)
        .await
        .expect("create an item");
    app.store
        .set_item_status(
            "staff:admin".into(),
            item.id,
            onewindow_core::catalog::ItemStatus::Published,
            now,
        )
        .await
        .expect("publish it")
}

fn with_events(guide: Guide, events: &[&str]) -> Guide {
    Guide {
        life_events: events.iter().map(|e| e.to_string()).collect(),
        ..guide
    }
}

#[tokio::test]
async fn the_home_page_offers_themes_departments_popular_items_and_announcements() {
    let app = spawn_app().await;
    // The food licence serves enterprises under 经营许可; a personal item
    // under 社会保障.
    let mut food = app.item.guide.clone();
    food.life_events = vec!["经营许可".into()];
    app.store
        .update_guide(
            "staff:admin".into(),
            app.item.id,
            None,
            food,
            jiff::Timestamp::now(),
        )
        .await
        .expect("add a life event");
    let pension = with_events(
        food_guide("000300001000", "城乡居民养老保险参保登记"),
        &["社会保障", "退休养老"],
    );
    let pension = Guide {
        target: onewindow_core::catalog::Target::Personal,
        ..pension
    };
    let pension = publish(&app, pension).await;
    for _ in 0..2 {
        app.apply(app.item.id).await;
    }
    app.store
        .publish_announcement(
            "staff:admin".into(),
            app.people.admin.id,
            NewAnnouncement {
                title: "元旦假期政务服务中心工作安排".into(),
                body: "1月1日至3日休息，网上办事大厅正常受理申请。".into(),
                pinned: true,
            },
            jiff::Timestamp::now(),
        )
        .await
        .expect("publish");

    let (status, home) = page(&app, None, "/").await;
    assert_eq!(status, StatusCode::OK);
    let themes = between(&home, "按主题办事", "</section>");
    assert!(
        themes.contains("社会保障") && themes.contains("退休养老"),
        "{themes}"
    );
    assert!(
        !themes.contains("经营许可"),
        "the personal tab shows personal themes: {themes}"
    );
    let departments = between(&home, "按部门办事", "</section>");
    assert!(departments.contains(&app.department.name), "{departments}");
    let popular = between(&home, "高频事项", "</section>");
    assert!(
        popular.contains("食品经营许可（新办）") && popular.contains("近90天2件"),
        "{popular}"
    );
    let notices = between(&home, "通知公告", "</section>");
    assert!(
        notices.contains("置顶") && notices.contains("元旦假期政务服务中心工作安排"),
        "{notices}"
    );

    let (_, enterprise) = page(&app, None, "/?target=enterprise").await;
    assert!(between(&enterprise, "按主题办事", "</section>").contains("经营许可"));

    // A theme tile lists its items only.
    let (_, listed) = page(
        &app,
        None,
        "/?target=personal&event=%E7%A4%BE%E4%BC%9A%E4%BF%9D%E9%9A%9C",
    )
    .await;
    assert!(listed.contains("个人办事 · 主题：社会保障"), "{listed}");
    assert!(listed.contains(&format!("/items/{}", pension.id)));
    assert!(!listed.contains(&format!("href=\"/items/{}\"", app.item.id)));

    // A search inside a theme keeps to it.
    let (_, searched) = page(&app, None, "/?q=%E8%AE%B8%E5%8F%AF&target=personal").await;
    assert!(
        !searched.contains(&format!("href=\"/items/{}\"", app.item.id)),
        "{searched}"
    );
}

#[tokio::test]
async fn the_administrator_publishes_and_withdraws_announcements() {
    let app = spawn_app().await;
    let admin = app.token(&app.people.admin).await;
    let clerk = app.token(&app.people.clerk_a).await;

    let (status, _) = page(&app, Some(&clerk), "/admin/announcements").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, refused) = post_form(
        &app,
        Some(&admin),
        "/admin/announcements",
        &[("title", " "), ("body", "正文")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("请填写公告标题"));
    assert!(refused.contains("正文"), "the typed body is kept");

    let (status, listed) = post_form(
        &app,
        Some(&admin),
        "/admin/announcements",
        &[
            ("title", "关于<启用>新版办事指南的公告"),
            ("body", "第一段。\n第二段。"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed.contains("公告已发布"));
    assert!(
        listed.contains("新版办事指南的公告") && !listed.contains("<启用>"),
        "escaped"
    );
    let id = app.store.announcements(false, 10).await.unwrap()[0].id;

    let (status, article) = page(&app, None, &format!("/announcements/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(article.contains("第一段。\n第二段。"));
    let (_, list) = page(&app, None, "/announcements").await;
    assert!(list.contains(&format!("/announcements/{id}")));

    let (status, _) = post_form(
        &app,
        Some(&clerk),
        &format!("/admin/announcements/{id}/withdraw"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, after) = post_form(
        &app,
        Some(&admin),
        &format!("/admin/announcements/{id}/withdraw"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(after.contains("公告已撤下") && after.contains("已撤下"));
    let (status, _) = page(&app, None, &format!("/announcements/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, home) = page(&app, None, "/").await;
    assert!(!home.contains("新版办事指南"));

    // From another site, nothing is published.
    let response = app
        .client
        .post(app.url("/admin/announcements"))
        .bearer_auth(&admin)
        .header("Origin", "https://evil.example")
        .form(&[("title", "伪造公告"), ("body", "伪造")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.announcements(true, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_applicant_books_a_visit_looks_it_up_and_cancels_it() {
    let app = spawn_app().await;
    let days: Vec<Date> = bookable_days(
        &*app.store.calendar_for(app.store.region_code()),
        civil_date(jiff::Timestamp::now()),
    );
    let first = days[0];
    let path = format!("/items/{}/appointment", app.item.id);

    let (status, form) = page(&app, None, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("上午 8:30—9:30") && form.contains("余4"),
        "capacity 4 per slot"
    );
    assert!(form.contains(&format!("{}月{}日", first.month(), first.day())));
    assert!(
        form.contains(&format!("value=\"{}/0830\"", days[9])),
        "ten working days"
    );

    // Nothing chosen and a bad phone: both named, the typed name kept.
    let (status, refused) =
        post_form(&app, None, &path, &[("name", "刘洋"), ("phone", "123")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("请选择预约日期") && refused.contains("请填写有效的手机或固定电话号码")
    );
    assert!(refused.contains("value=\"刘洋\""));

    let pick = format!("{first}/0930");
    let mut codes = Vec::new();
    for name in ["刘洋", "陈静", "王芳", "赵丽"] {
        let (status, receipt) = post_form(
            &app,
            None,
            &path,
            &[("pick", &pick), ("name", name), ("phone", PHONE)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{receipt}");
        assert!(receipt.contains("预约成功") && receipt.contains("上午 9:30—10:30"));
        codes.push(between(&receipt, "receipt-code mono\">", "<").to_string());
    }
    // The slot is full now: it says so and offers no radio button for it.
    let (status, full) = post_form(
        &app,
        None,
        &path,
        &[("pick", &pick), ("name", "周强"), ("phone", PHONE)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(full.contains("预约已满"), "{full}");
    let (_, form) = page(&app, None, &path).await;
    assert!(!form.contains(&format!("value=\"{pick}\"")) && form.contains("已满"));

    // Look-up with the wrong phone finds nothing; with the right one, the booking.
    let (status, _) = post_form(
        &app,
        None,
        "/appointments",
        &[("code", &codes[0]), ("phone", "13900000000")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, found) = post_form(
        &app,
        None,
        "/appointments",
        &[("code", &codes[0]), ("phone", PHONE)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(found.contains("刘洋") && found.contains("取消预约"));

    let (status, cancelled) = post_form(
        &app,
        None,
        "/appointments/cancel",
        &[("code", &codes[0]), ("phone", PHONE)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cancelled.contains("预约已取消") && !cancelled.contains("取消预约</button>"));
    let (_, form) = page(&app, None, &path).await;
    assert!(
        form.contains(&format!("value=\"{pick}\"")),
        "a place is free again"
    );

    // The window sees the day's bookings, the cancelled one struck through.
    let clerk = app.token(&app.people.clerk_a).await;
    let (status, window) = page(
        &app,
        Some(&clerk),
        &format!("/work/appointments?day={first}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        window.contains("有效预约 <strong>3</strong> 人"),
        "{window}"
    );
    assert!(window.contains("row-cancelled") && window.contains(&codes[1]));
    let (_, anonymous) = page(&app, None, "/work/appointments").await;
    assert!(
        anonymous.contains("type=\"password\""),
        "sent to the log-in page"
    );

    // A draft item takes no bookings.
    let (status, _) = page(&app, None, &format!("/items/{}/appointment", app.draft.id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn shop_fields() -> Vec<FormField> {
    vec![
        FormField {
            key: "shop_address".into(),
            label: "经营场所地址".into(),
            kind: FieldKind::Text,
            required: true,
            options: vec![],
            hint: "填写到门牌号".into(),
        },
        FormField {
            key: "main_format".into(),
            label: "主体业态".into(),
            kind: FieldKind::Choice,
            required: true,
            options: vec!["食品销售经营者".into(), "餐饮服务经营者".into()],
            hint: String::new(),
        },
        FormField {
            key: "area".into(),
            label: "经营面积（平方米）".into(),
            kind: FieldKind::Number,
            required: false,
            options: vec![],
            hint: String::new(),
        },
    ]
}

#[tokio::test]
async fn the_application_form_asks_for_the_items_own_fields() {
    let app = spawn_app().await;
    let mut guide = app.item.guide.clone();
    guide.form_fields = shop_fields();
    app.store
        .update_guide(
            "staff:admin".into(),
            app.item.id,
            None,
            guide,
            jiff::Timestamp::now(),
        )
        .await
        .expect("add form fields");
    let path = format!("/items/{}/apply", app.item.id);
    let (_, form) = page(&app, None, &path).await;
    assert!(form.contains("经营场所地址") && form.contains("填写到门牌号"));
    assert!(form.contains("<option>餐饮服务经营者</option>"));
    assert!(form.contains("name=\"f_area\"") && form.contains("inputmode=\"decimal\""));

    let send = |fields: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let path = path.clone();
        async move {
            let mut form = Form::new()
                .text("name", "刘洋")
                .text("phone", PHONE)
                .text("organization", "衡山县刘记餐饮店")
                .part(
                    "material_0",
                    Part::bytes(PDF.to_vec()).file_name("申请书.pdf"),
                )
                .part(
                    "material_1",
                    Part::bytes(PDF.to_vec()).file_name("执照.pdf"),
                );
            for (k, v) in fields {
                form = form.text(k, v);
            }
            let response = app
                .client
                .post(app.url(&path))
                .multipart(form)
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let before = app.case_count().await;
    let (status, refused) = send(vec![("f_main_format", "小卖部"), ("f_area", "一百")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("请填写经营场所地址"));
    assert!(refused.contains("主体业态须从所列选项中选择"));
    assert!(refused.contains("经营面积（平方米）须填写数字"));
    assert!(refused.contains("value=\"一百\""), "typed values are kept");
    assert_eq!(app.case_count().await, before, "nothing filed");

    let (status, receipt) = send(vec![
        ("f_shop_address", "开云镇解放路12号"),
        ("f_main_format", "餐饮服务经营者"),
        ("f_area", "86.5"),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    let number = between(&receipt, "430423-", "<");
    let number = format!("430423-{number}");
    let case = app
        .store
        .lookup_case(&number, PHONE)
        .await
        .expect("the case");
    assert_eq!(case.form["shop_address"], "开云镇解放路12号");
    assert_eq!(case.form["area"], "86.5");

    // The API refuses an application without a required field, naming it.
    let mut body = application(app.item.id);
    body["form"] = json!({ "main_format": "餐饮服务经营者" });
    let (status, error) = app.post(None, "/api/v1/applications", &body, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["field"], "form.shop_address");
    assert_eq!(
        error["error"]["problems"].as_array().map(Vec::len),
        Some(1),
        "{error}"
    );

    // Every problem of the form at once, as the page shows them.
    body["form"] = json!({ "main_format": "小卖部", "area": "一百" });
    let (status, error) = app.post(None, "/api/v1/applications", &body, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["error"]["code"], "invalid_input", "{error}");
    assert_eq!(error["error"]["field"], "form.shop_address", "{error}");
    let problems: Vec<(&str, &str)> = error["error"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| (p["field"].as_str().unwrap(), p["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [
            ("form.shop_address", "请填写经营场所地址"),
            ("form.main_format", "主体业态须从所列选项中选择"),
            ("form.area", "经营面积（平方米）须填写数字"),
        ],
        "{error}"
    );
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("请填写经营场所地址") && message.contains("须填写数字"),
        "{message}"
    );
    assert_eq!(
        app.case_count().await,
        before + 1,
        "only the good one filed"
    );
}
