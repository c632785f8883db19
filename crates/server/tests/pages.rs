//! The web pages, through the real server on a fresh SQLite file: the public
//! catalog and guide, online application and look-up, the staff log-in, work
//! queue and case page, and the cross-site guard of every form.

use std::net::SocketAddr;

use jiff::Timestamp;
use onewindow_core::calendar::TimeLimit;
use onewindow_core::case::CaseState;
use onewindow_core::catalog::{
    Guide, HandlingCategory, ItemStatus, ItemType, Material, RegionLevel, Step, Target,
};
use onewindow_core::staff::Role;
use onewindow_server::{AppState, Settings};
use onewindow_store::catalog::ServiceItem;
use onewindow_store::staff::{NewDepartment, NewStaff, StaffMember};
use onewindow_store::{Store, StoreOptions};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use tempfile::TempDir;

const PASSWORD: &str = "window-clerk-2026";
const PHONE: &str = "13807341234";
const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

struct TestApp {
    address: SocketAddr,
    store: Store,
    /// Follows redirects and keeps cookies, like a browser.
    browser: reqwest::Client,
    food: ServiceItem,
    licence: ServiceItem,
    clerk: StaffMember,
    _dir: TempDir,
}

fn admin() -> String {
    "staff:admin".into()
}

fn material(name: &str, required: bool, originals: u32, copies: u32, reason: &str) -> Material {
    Material {
        name: name.into(),
        required,
        originals,
        copies,
        reason: reason.into(),
        template_file: None,
        sample_file: None,
    }
}

fn base_guide(code: &str, name: &str) -> Guide {
    Guide {
        name: name.into(),
        code: code.into(),
        implementing_code: format!("11430423MB1234567X4{code}"),
        item_type: ItemType::License,
        category: HandlingCategory::OneReview,
        target: Target::Enterprise,
        statutory_limit: TimeLimit::working_days(20),
        promised_limit: TimeLimit::working_days(3),
        legal_basis: "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》"
            .into(),
        conditions: vec![
            "具有与经营的食品品种、数量相适应的经营场所".into(),
            "有食品安全管理人员和保证食品安全的规章制度".into(),
        ],
        materials: vec![
            material("食品经营许可申请书", true, 1, 0, "申请人申请意愿的书面表示"),
            material("营业执照", true, 0, 1, "核验申请人主体资格"),
            material("授权委托书", false, 1, 0, "委托他人办理时核验代理权限"),
        ],
        fees: vec![],
        steps: vec![
            Step {
                name: "承办".into(),
                role: Role::Handler,
                limit_days: 1,
            },
            Step {
                name: "审核".into(),
                role: Role::Reviewer,
                limit_days: 1,
            },
            Step {
                name: "批准".into(),
                role: Role::Approver,
                limit_days: 1,
            },
        ],
        visits: 1,
        location: "衡山县政务服务中心一楼A区".into(),
        office_hours: "工作日 8:30-12:00，14:30-17:30".into(),
        contact_phone: "0734-5822315".into(),
        complaint_phone: "0734-12345".into(),
        aliases: vec!["开饭店".into(), "餐饮许可".into()],
        life_events: vec![],
        form_fields: vec![],
    }
}

async fn publish(store: &Store, department_id: i64, guide: Guide) -> ServiceItem {
    let now = Timestamp::now();
    let item = store
        .create_item(admin(), department_id, guide, now)
        .await
        .expect("create an item");
    store
        .set_item_status(admin(), item.id, ItemStatus::Published, now)
        .await
        .expect("publish the item")
}

async fn person(
    store: &Store,
    department_id: i64,
    login: &str,
    name: &str,
    roles: &[Role],
) -> StaffMember {
    let new = NewStaff {
        login: login.into(),
        name: name.into(),
        department_id,
        roles: roles.to_vec(),
        password: PASSWORD.into(),
        phone: "13807340000".into(),
    };
    store
        .create_staff(admin(), new, Timestamp::now())
        .await
        .expect("create a staff member")
}

async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("onewindow.db");
    let store = Store::connect(&StoreOptions::new(format!("sqlite:{}", path.display())))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let department = store
        .create_department(
            admin(),
            NewDepartment {
                code: "scjgj".into(),
                name: "衡山县市场监督管理局".into(),
                level: RegionLevel::County,
                parent_id: None,
                region_code: "430423".into(),
                window_location: "政务服务中心一楼A区 1-8号窗口".into(),
                phone: "0734-5822315".into(),
                address: "衡山县开云镇".into(),
            },
            Timestamp::now(),
        )
        .await
        .expect("create a department");
    let clerk = person(
        &store,
        department.id,
        "wangfang",
        "王芳",
        &[Role::WindowClerk],
    )
    .await;
    person(&store, department.id, "liming", "李明", &[Role::Handler]).await;
    person(&store, department.id, "chenjing", "陈静", &[Role::Reviewer]).await;
    person(&store, department.id, "liuyang", "刘洋", &[Role::Approver]).await;
    let food = publish(
        &store,
        department.id,
        base_guide("000117001000", "食品经营许可（新办）"),
    )
    .await;
    let licence = publish(
        &store,
        department.id,
        Guide {
            category: HandlingCategory::Instant,
            target: Target::Both,
            statutory_limit: TimeLimit::working_days(3),
            promised_limit: TimeLimit::working_days(0),
            steps: vec![],
            legal_basis: "《促进个体工商户发展条例》".into(),
            materials: vec![material(
                "市场主体登记申请书",
                true,
                1,
                0,
                "记载申请登记事项",
            )],
            aliases: vec!["营业执照".into(), "个体户".into()],
            ..base_guide("000101001000", "个体工商户设立登记")
        },
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port");
    let address = listener.local_addr().expect("the bound address");
    let state = AppState::new(store.clone(), Settings::default());
    tokio::spawn(async move { onewindow_server::serve(listener, state).await });
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("a client");
    TestApp {
        address,
        store,
        browser,
        food,
        licence,
        clerk,
        _dir: dir,
    }
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self.browser.get(self.url(path)).send().await.expect("GET");
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let response = self
            .browser
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST");
        let status = response.status();
        let final_url = response.url().to_string();
        (status, response.text().await.expect("a body"), final_url)
    }

    /// Fills in the online application of the food licence with every
    /// required material and returns the receipt page.
    async fn apply_for_food_licence(&self) -> (StatusCode, String) {
        let (_, form_page) = self.get(&format!("/items/{}/apply", self.food.id)).await;
        let token = hidden_value(&form_page, "token");
        let form = Form::new()
            .text("token", token)
            .text("name", "张三")
            .text("phone", PHONE)
            .text("id_number", "11010519491231002X")
            .text("organization", "衡山县张三餐饮有限公司")
            .text(
                "description",
                "在开云镇衡山大道开设小吃店，经营面积40平方米。",
            )
            .part("material_0", pdf_part("申请书.pdf"))
            .part("material_1", pdf_part("营业执照.pdf"))
            .part("material_2", Part::bytes(Vec::new()).file_name(""));
        let path = format!("/items/{}/apply", self.food.id);
        let response = self
            .browser
            .post(self.url(&path))
            .multipart(form)
            .send()
            .await
            .expect("POST the application");
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    async fn log_in_as_clerk(&self) -> String {
        let (status, body, url) = self
            .post_form(
                "/login",
                &[
                    ("login", "wangfang"),
                    ("password", PASSWORD),
                    ("next", "/work"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            url.ends_with("/work"),
            "after log-in the browser is at {url}"
        );
        body
    }
}

fn pdf_part(name: &str) -> Part {
    Part::bytes(PDF.to_vec())
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .expect("a MIME type")
}

/// The value of `<input type="hidden" name="NAME" value="...">`.
fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden field {name} in the page"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The case number on a receipt: 430423-YYYYMMDD-NNNNN.
fn case_number(html: &str) -> String {
    let start = html.find("430423-").expect("a case number on the page");
    html[start..start + 21].to_string()
}

#[tokio::test]
async fn the_home_page_lists_published_items_and_search_finds_them_by_alias() {
    let app = spawn_app().await;
    let (status, home) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        home.contains("衡山县政务服务网"),
        "the hall's name is in the header"
    );
    assert!(home.contains("食品经营许可（新办）") && home.contains("个体工商户设立登记"));
    assert!(
        home.contains("比法定时限压缩 85%"),
        "3 of 20 working days is 85% shorter"
    );
    assert!(
        home.contains("/lookup"),
        "the home page links to the case look-up"
    );

    let (status, found) = app.get("/?q=营业执照").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        found.contains("个体工商户设立登记"),
        "the alias 营业执照 finds the registration"
    );
    assert!(
        !found.contains("食品经营许可（新办）"),
        "other items are not listed"
    );

    let (_, by_category) = app.get("/?q=&department=&category=instant").await;
    assert!(
        by_category.contains("个体工商户设立登记") && !by_category.contains("食品经营许可（新办）")
    );
    let (_, nothing) = app.get("/?q=不存在的事项").await;
    assert!(nothing.contains("没有找到符合条件的事项"));
}

#[tokio::test]
async fn the_guide_page_shows_the_six_disclosures() {
    let app = spawn_app().await;
    let (status, guide) = app.get(&format!("/items/{}", app.food.id)).await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "000117001000",
        "11430423MB1234567X4000117001000",
        "行政许可",
        "一审一核件",
        "衡山县市场监督管理局",
        "具有与经营的食品品种、数量相适应的经营场所",
        "食品经营许可申请书",
        "复印件1份",
        "承办岗",
        "审核岗",
        "3个工作日",
        "20个工作日",
        "比法定时限压缩 85%",
        "不收费",
        "《中华人民共和国食品安全法》第三十五条",
        "衡山县政务服务中心一楼A区",
        "0734-5822315",
        "0734-12345",
    ] {
        assert!(guide.contains(expected), "the guide shows {expected}");
    }
    assert!(
        guide.contains(&format!("/items/{}/apply", app.food.id)),
        "an 在线申请 button"
    );
    let (status, _) = app.get("/items/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_blank_form_of_a_material_can_be_downloaded_from_the_guide() {
    let app = spawn_app().await;
    let now = Timestamp::now();
    let blank = onewindow_store::files::NewFile {
        name: "食品经营许可申请书（空白）.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: PDF.to_vec(),
    };
    let file = app
        .store
        .store_file(blank, now)
        .await
        .expect("store the blank form");
    let mut guide = app.food.guide.clone();
    guide.materials[0].template_file = Some(file.id);
    app.store
        .update_guide(admin(), app.food.id, None, guide, now)
        .await
        .expect("link the blank form");
    let (_, page) = app.get(&format!("/items/{}", app.food.id)).await;
    let href = format!("/items/{}/files/{}", app.food.id, file.id);
    assert!(page.contains(&href), "the guide links the blank form");
    let response = app.browser.get(app.url(&href)).send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.expect("the file").as_ref(), PDF);

    // Files the guide does not name (a case's materials) are not served here.
    let (status, _) = app
        .get(&format!("/items/{}/files/{}", app.food.id, file.id + 1))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn applying_online_gives_a_receipt_and_the_case_can_be_looked_up() {
    let app = spawn_app().await;
    let (status, receipt) = app.apply_for_food_licence().await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert!(receipt.contains("申请已提交"));
    let number = case_number(&receipt);
    let case = app
        .store
        .case_by_number(&number)
        .await
        .expect("the case is filed");
    assert_eq!(case.facts.state, CaseState::Submitted);
    assert_eq!(
        app.store
            .case_materials(case.id)
            .await
            .expect("materials")
            .len(),
        2
    );
    assert_eq!(
        case.form["description"],
        "在开云镇衡山大道开设小吃店，经营面积40平方米。"
    );

    let (status, result, _) = app
        .post_form("/lookup", &[("number", &number), ("phone", PHONE)])
        .await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "待受理",
        "食品经营许可（新办）",
        "衡山县市场监督管理局",
        "提交申请",
        "年",
    ] {
        assert!(result.contains(expected), "the look-up shows {expected}");
    }

    let (status, wrong, _) = app
        .post_form("/lookup", &[("number", &number), ("phone", "13900000000")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(wrong.contains("未找到该办件"));
    assert!(
        !wrong.contains("食品经营许可（新办）"),
        "a wrong phone reveals nothing"
    );
}

#[tokio::test]
async fn the_applicant_withdraws_from_the_look_up_page() {
    let app = spawn_app().await;
    let (_, receipt) = app.apply_for_food_licence().await;
    let number = case_number(&receipt);
    let (_, result, _) = app
        .post_form("/lookup", &[("number", &number), ("phone", PHONE)])
        .await;
    assert!(
        result.contains("撤回申请"),
        "an open application offers withdrawal"
    );

    // A wrong phone withdraws nothing.
    let withdraw_with = |phone: &'static str| {
        let number = number.clone();
        let app = &app;
        async move {
            app.post_form(
                "/lookup",
                &[
                    ("number", &number),
                    ("phone", phone),
                    ("action", "withdraw"),
                    ("reason", "不再需要"),
                ],
            )
            .await
        }
    };
    let (status, _, _) = withdraw_with("13900000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let case = app.store.case_by_number(&number).await.unwrap();
    assert_eq!(case.facts.state, CaseState::Submitted);

    let (status, page, _) = withdraw_with(PHONE).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("申请已撤回"));
    assert!(page.contains("已撤回"));
    assert!(
        !page.contains("确认撤回"),
        "a withdrawn application offers nothing more"
    );
    let case = app.store.case_by_number(&number).await.unwrap();
    assert_eq!(case.facts.state, CaseState::Withdrawn);

    // Withdrawing twice is refused with the reason.
    let (status, again, _) = withdraw_with(PHONE).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(again.contains("不能执行"), "{again}");
}

/// An application by 张三 for the food licence, filed at `at` and accepted
/// by the clerk at the same instant, decided on the store's calendar as the
/// server decides it. Returns the case number.
async fn accepted_at(app: &TestApp, at: Timestamp) -> String {
    use onewindow_core::case::{Applicant, Channel, Command};
    use onewindow_store::cases::{NewCase, Who};
    let case = app
        .store
        .submit_case(
            NewCase {
                item_id: app.food.id,
                channel: Channel::Online,
                applicant: Applicant {
                    name: "张三".into(),
                    phone: PHONE.into(),
                    id_number: String::new(),
                    organization: "衡山县张三餐饮有限公司".into(),
                },
                form: serde_json::json!({}),
                materials: vec![],
                registered_by: None,
            },
            None,
            at,
        )
        .await
        .expect("submit")
        .case;
    let store = app.store.clone();
    app.store
        .apply_command(
            case.id,
            Some(case.version),
            Who::Staff(app.clerk.id),
            None,
            at,
            move |context| {
                let calendar = store.calendar_for(&context.region);
                let command = Command::Accept {
                    opinion: "材料齐全，予以受理".into(),
                };
                let rules = context.item.guide.rules();
                let transition = onewindow_core::case::decide(
                    &context.case.facts,
                    &command,
                    &rules,
                    calendar.as_ref(),
                    at,
                )?;
                Ok((transition, None))
            },
        )
        .await
        .expect("accept");
    case.number
}

#[tokio::test]
async fn the_look_up_marks_a_promised_day_counted_in_an_unpublished_year_as_provisional() {
    let app = spawn_app().await;
    // No holiday arrangement is published for 2150: its promised day is
    // counted with Saturday and Sunday off only.
    let future = accepted_at(&app, "2150-03-02T02:00:00Z".parse().unwrap()).await;
    let (status, page, _) = app
        .post_form("/lookup", &[("number", &future), ("phone", PHONE)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let promised = page
        .split("<dt>承诺办结日期</dt>")
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .expect("the promised day");
    assert!(promised.contains("2150年3月"), "{promised}");
    assert!(
        promised.contains(">临时</span>")
            && promised
                .contains("title=\"2150年节假日安排尚未发布，暂按周末休息计算，发布后自动重算\""),
        "the promised day is marked, with why: {promised}"
    );
    // Said in words too, for a phone where nothing hovers.
    assert!(
        page.contains("承诺办结日期为临时计算结果，2150年节假日安排尚未发布"),
        "{page}"
    );

    // Accepted on Monday 2 November 2026, a published year: no mark.
    let published = accepted_at(&app, "2026-11-02T02:00:00Z".parse().unwrap()).await;
    let (status, page, _) = app
        .post_form("/lookup", &[("number", &published), ("phone", PHONE)])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("2026年11月5日"),
        "promised 3 working days later: {page}"
    );
    assert!(!page.contains("临时"), "{page}");
    assert!(!page.contains("尚未发布"), "{page}");
}

#[tokio::test]
async fn a_wrong_application_is_shown_again_with_the_messages_and_the_typed_values() {
    let app = spawn_app().await;
    let elf =
        Part::bytes(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec()).file_name("申请书.pdf");
    let form = Form::new()
        .text("name", "李四<script>")
        .text("phone", "12345")
        .text("organization", "")
        .part("material_0", elf);
    let path = format!("/items/{}/apply", app.food.id);
    let response = app
        .browser
        .post(app.url(&path))
        .multipart(form)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.expect("a body");
    assert!(page.contains("联系电话格式不正确"));
    assert!(page.contains("请填写单位名称"));
    assert!(
        page.contains("不是允许的格式"),
        "the renamed executable is refused by its content"
    );
    assert!(
        page.contains("本材料为必需材料"),
        "the missing business licence is named"
    );
    assert!(
        page.contains("value=\"李四&#60;script&#62;\""),
        "typed values are kept, escaped: {page}"
    );
    assert!(page.contains("value=\"12345\""));
    let (cases, _) = app.store.cases(&Default::default()).await.expect("cases");
    assert!(cases.is_empty(), "nothing was filed");
}

#[tokio::test]
async fn the_clerk_logs_in_finds_the_case_in_the_queue_and_accepts_it() {
    let app = spawn_app().await;
    let (_, receipt) = app.apply_for_food_licence().await;
    let number = case_number(&receipt);
    let case = app.store.case_by_number(&number).await.expect("the case");

    let (_, to_login) = app.get("/work").await;
    assert!(
        to_login.contains("工作人员登录"),
        "an anonymous visitor is sent to the log-in page"
    );
    let queue = app.log_in_as_clerk().await;
    for expected in [
        app.clerk.name.as_str(),
        "衡山县市场监督管理局",
        "窗口受理",
        number.as_str(),
        "受理期限",
    ] {
        assert!(queue.contains(expected), "the queue shows {expected}");
    }

    let (status, page) = app.get(&format!("/work/cases/{}", case.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("张三") && page.contains("申请事项说明") && page.contains("营业执照.pdf")
    );
    assert!(
        page.contains("/api/v1/files/"),
        "materials link to their files"
    );
    assert!(
        page.contains("衡山县人民政府"),
        "the rights notice is prefilled"
    );
    assert!(page.contains("value=\"request_supplement\"") && page.contains("value=\"reject\""));
    let version = hidden_value(&page, "version");

    // A rejection without reasons is refused and the form keeps what was typed.
    let path = format!("/work/cases/{}/actions", case.id);
    let (status, refused, _) = app
        .post_form(
            &path,
            &[
                ("action", "reject"),
                ("version", &version),
                ("reasons", ""),
                ("rights_notice", "可申请行政复议"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("不予受理理由不能为空"), "{refused}");
    assert!(refused.contains("可申请行政复议</textarea>"), "{refused}");

    let (status, accepted, url) = app
        .post_form(
            &path,
            &[
                ("action", "accept"),
                ("version", &version),
                ("opinion", "材料齐全，予以受理"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        url.contains(&format!("/work/cases/{}?ok=accept", case.id)),
        "redirected back to the case: {url}"
    );
    assert!(accepted.contains("已办理：受理"));
    assert!(accepted.contains("承办中"));
    assert!(accepted.contains("王芳"), "the timeline names who acted");
    assert_eq!(
        app.store.case(case.id).await.expect("the case").facts.state,
        CaseState::Handling
    );

    // The same form sent again (stale version) is refused with the reason.
    let (status, stale, _) = app
        .post_form(&path, &[("action", "accept"), ("version", &version)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(stale.contains("操作未完成"));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    let evil = [("Origin", "https://evil.example")];
    let response = app
        .browser
        .post(app.url("/login"))
        .header(evil[0].0, evil[0].1)
        .form(&[("login", "wangfang"), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .expect("a body")
            .contains("不接受来自其他网站的提交")
    );

    app.log_in_as_clerk().await;
    let case = app
        .store
        .submit_case(
            onewindow_store::cases::NewCase {
                item_id: app.licence.id,
                channel: onewindow_core::case::Channel::Online,
                applicant: onewindow_core::case::Applicant {
                    name: "赵六".into(),
                    phone: PHONE.into(),
                    id_number: String::new(),
                    organization: String::new(),
                },
                form: serde_json::json!({}),
                materials: vec![],
                registered_by: None,
            },
            None,
            Timestamp::now(),
        )
        .await
        .expect("submit")
        .case;
    let path = format!("/work/cases/{}/actions", case.id);
    let response = app
        .browser
        .post(app.url(&path))
        .header("Origin", "https://evil.example")
        .form(&[("action", "accept"), ("version", &case.version.to_string())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.case(case.id).await.expect("case").facts.state,
        CaseState::Submitted
    );

    // The browser's own Origin passes.
    let response = app
        .browser
        .post(app.url(&path))
        .header("Origin", format!("http://{}", app.address))
        .form(&[("action", "accept"), ("version", &case.version.to_string())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.store.case(case.id).await.expect("case").facts.state,
        CaseState::Deciding
    );
}

#[tokio::test]
async fn log_in_goes_back_only_to_local_pages_and_log_out_ends_the_session() {
    let app = spawn_app().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    for (next, expected) in [
        ("/work/cases/1", "/work/cases/1"),
        ("//evil.example", "/work"),
        ("https://evil.example", "/work"),
    ] {
        let response = no_redirects
            .post(app.url("/login"))
            .form(&[
                ("login", "wangfang"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], expected);
    }
    let (status, wrong, _) = app
        .post_form("/login", &[("login", "wangfang"), ("password", "nope")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(wrong.contains("登录名或密码错误") && wrong.contains("value=\"wangfang\""));

    app.log_in_as_clerk().await;
    let (_, body, url) = app.post_form("/logout", &[]).await;
    assert!(url.ends_with('/'), "log-out goes home: {url}");
    assert!(body.contains("工作人员登录"));
    let (_, work) = app.get("/work").await;
    assert!(work.contains("name=\"password\""), "the session is over");
}

#[tokio::test]
async fn the_stylesheet_is_served_from_the_binary_with_a_long_cache() {
    let app = spawn_app().await;
    let (_, home) = app.get("/").await;
    let start = home
        .find("/static/site.css?v=")
        .expect("a versioned stylesheet link");
    let href = home[start..].split('"').next().expect("the link");
    let response = app.browser.get(app.url(href)).send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let page = app.browser.get(app.url("/")).send().await.expect("GET");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
}
