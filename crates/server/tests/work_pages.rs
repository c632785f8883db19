//! The staff workbench on the real server: the queue sorted by urgency with
//! its filters and counts, the B backup's view of an absent A's work, the
//! case list across cases (and who may list which department), the
//! supervision dashboard's drill-down into it, and the case page's
//! materials shown inline and its form data under the item's labels.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use onewindow_core::calendar::{ACCEPTANCE_WINDOW, WorkCalendar, civil_date};
use onewindow_core::case::{Applicant, Channel};
use onewindow_core::catalog::{FieldKind, FormField, ItemStatus};
use onewindow_store::cases::NewCase;
use onewindow_store::files::NewFile;
use onewindow_store::staff::StaffMember;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::json;

use support::{PDF, PHONE, TestApp, food_guide, spawn_app};

/// A 2×2 PNG image.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x13\x49\x44\x41\x54\x78\x9c\x63\x90\x8b\x5a\x71\x72\x91\x3a\x03\x10\x03\x59\x00\x25\xfa\x05\x65\x60\x07\xed\x1c\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// Someone browsing the pages: with a session token, or anonymous; never
/// following redirects, so a refusal shows as what it is.
struct Browser {
    client: reqwest::Client,
    token: Option<String>,
    base: String,
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Browser {
    async fn of(app: &TestApp, member: &StaffMember) -> Browser {
        Browser {
            token: Some(app.token(member).await),
            ..Browser::anonymous(app)
        }
    }

    fn anonymous(app: &TestApp) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("a client"),
            token: None,
            base: app.base.clone(),
        }
    }

    async fn response(&self, path: &str) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn get(&self, path: &str) -> Page {
        let response = self.response(path).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a body");
        Page {
            status,
            headers,
            body: unescape(&body),
        }
    }

    /// A page that must answer 200.
    async fn page(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        page.body
    }
}

/// The page with askama's escapes undone (text and links as a browser shows
/// them).
fn unescape(html: &str) -> String {
    html.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

/// The table row of the case numbered `number`.
fn row_of<'a>(page: &'a str, number: &str) -> &'a str {
    let at = page
        .find(&format!(">{number}</a>"))
        .unwrap_or_else(|| panic!("{number} listed in {page}"));
    let start = page[..at].rfind("<tr").expect("the row's start");
    let end = at + page[at..].find("</tr>").expect("the row's end");
    &page[start..end]
}

/// The case numbers a list shows, in order.
fn listed(page: &str) -> Vec<String> {
    page.split("<a class=\"mono\" href=\"/work/cases/")
        .skip(1)
        .filter_map(|rest| {
            let text = rest.split_once("\">")?.1;
            Some(text.split('<').next()?.to_string())
        })
        .collect()
}

fn shanghai_day(at: Timestamp) -> Date {
    civil_date(at)
}

/// An application for `item_id` submitted at `at`, by 张三 unless named.
fn new_case(item_id: i64, applicant: &str) -> NewCase {
    NewCase {
        item_id,
        channel: Channel::Online,
        applicant: Applicant {
            name: applicant.into(),
            phone: PHONE.into(),
            id_number: String::new(),
            organization: format!("衡山县{applicant}餐饮店"),
        },
        form: json!({}),
        materials: vec![],
        registered_by: None,
    }
}

async fn submit_at(app: &TestApp, new: NewCase, at: Timestamp) -> (i64, String) {
    let applied = app
        .store
        .submit_case(new, None, at)
        .await
        .expect("submit a case");
    (applied.case.id, applied.case.number)
}

fn days_ago(days: i64) -> Timestamp {
    Timestamp::now()
        .checked_sub(SignedDuration::from_hours(24 * days))
        .expect("in range")
}

async fn accept(app: &TestApp, case_id: i64) {
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(
        &clerk,
        case_id,
        json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
    )
    .await;
}

/// An instant in Beijing's morning: "2150-03-02" → 10:00 that day.
fn morning(day: &str) -> Timestamp {
    format!("{day}T02:00:00Z").parse().expect("an instant")
}

/// The tooltip of the mark 临时 for a due day counted in `year`.
fn provisional_title(year: i16) -> String {
    format!("title=\"{year}年节假日安排尚未发布，暂按周末休息计算，发布后自动重算\"")
}

// ---------------------------------------------------------------------------
// The queue

#[tokio::test]
async fn the_queue_lists_new_cases_most_urgent_first_with_the_working_days_left() {
    let app = spawn_app().await;
    // Entered out of order: the newest first, the overdue one last.
    let (_, fresh) = submit_at(&app, new_case(app.item.id, "张三"), Timestamp::now()).await;
    let (_, older) = submit_at(&app, new_case(app.item.id, "李四"), days_ago(2)).await;
    let (_, overdue) = submit_at(&app, new_case(app.instant.id, "王五"), days_ago(30)).await;

    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    let page = clerk.page("/work").await;
    assert_eq!(listed(&page), vec![overdue.clone(), older, fresh.clone()]);

    // The acceptance decision is due 5 working days after receipt (art. 32).
    let calendar = app.store.calendar_for(app.store.region_code());
    let today = shanghai_day(Timestamp::now());
    let due = ACCEPTANCE_WINDOW.due_date(calendar.as_ref(), today);
    let left = calendar.working_days_between(today, due);
    let row = row_of(&page, &fresh);
    assert!(row.contains(&format!("剩余{left}个工作日")), "{row}");
    assert!(
        row.contains("张三") && row.contains("食品经营许可（新办）"),
        "{row}"
    );
    assert!(row.contains("待受理") && row.contains("受理期限"), "{row}");
    let received = today;
    assert!(
        row.contains(&format!(
            "{}年{}月{}日",
            received.year(),
            received.month(),
            received.day()
        )),
        "the received date: {row}"
    );
    let row = row_of(&page, &overdue);
    assert!(row.contains("已超期") && row.contains("个工作日"), "{row}");
    assert!(row.contains("row-overdue"), "{row}");
    assert!(row.contains("个体工商户设立登记") && row.contains("王五"));
    assert!(page.contains("共3件"), "{page}");
}

#[tokio::test]
async fn a_filter_narrows_the_queue_and_the_counts_follow() {
    let app = spawn_app().await;
    let (_, fresh) = submit_at(&app, new_case(app.item.id, "张三"), Timestamp::now()).await;
    let (_, other) = submit_at(&app, new_case(app.item.id, "李四"), Timestamp::now()).await;
    let (_, overdue) = submit_at(&app, new_case(app.instant.id, "王五"), days_ago(30)).await;
    let clerk = Browser::of(&app, &app.people.clerk_a).await;

    let page = clerk.page("/work").await;
    assert!(page.contains("仅看超期/临期（1）"), "{page}");
    assert!(page.contains("待受理（3）"), "{page}");
    assert!(
        !page.contains("仅看我代岗的"),
        "nobody is backed up: no such filter"
    );

    let page = clerk.page("/work?urgent=1").await;
    assert_eq!(listed(&page), vec![overdue.clone()]);
    assert!(page.contains("符合条件1件（共3件待办）"), "{page}");
    assert!(page.contains("name=\"urgent\" value=\"1\" checked"));
    // The state's count is of what the other filters keep.
    assert!(page.contains("待受理（1）"), "{page}");

    let page = clerk.page("/work?item=%E9%A3%9F%E5%93%81").await; // 食品
    assert_eq!(listed(&page), vec![fresh.clone(), other.clone()]);
    assert!(page.contains("符合条件2件（共3件待办）"), "{page}");
    assert!(page.contains("仅看超期/临期（0）"), "{page}");
    assert!(
        page.contains("value=\"食品\""),
        "the filter is kept: {page}"
    );

    let page = clerk.page("/work?q=%E6%9D%8E%E5%9B%9B").await; // 李四
    assert_eq!(listed(&page), vec![other.clone()]);

    let page = clerk.page("/work?state=handling").await;
    assert!(listed(&page).is_empty());
    assert!(
        page.contains("没有符合筛选条件的待办件（共3件待办）"),
        "{page}"
    );

    let page = clerk.page("/work?state=nonsense").await;
    assert!(page.contains("办件状态“nonsense”不存在"), "{page}");
    assert_eq!(listed(&page).len(), 3);
}

#[tokio::test]
async fn the_queue_pages_through_a_long_list_keeping_its_filters() {
    let app = spawn_app().await;
    for i in 0..52 {
        submit_at(
            &app,
            new_case(app.item.id, &format!("申请人{i}")),
            Timestamp::now(),
        )
        .await;
    }
    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    let page = clerk.page("/work?item=%E9%A3%9F%E5%93%81").await;
    assert_eq!(listed(&page).len(), 50);
    assert!(
        page.contains("第1/2页") && page.contains("本页第1–50件"),
        "{page}"
    );
    let next = "/work?state=&item=%E9%A3%9F%E5%93%81&q=&urgent=&backup=&page=2";
    assert!(page.contains(&format!("href=\"{next}\"")), "{page}");
    let second = clerk.page(next).await;
    assert_eq!(listed(&second).len(), 2);
    assert!(second.contains("第2/2页") && second.contains("上一页"));
    // A page past the end shows the last one.
    let past = clerk.page("/work?page=9").await;
    assert_eq!(listed(&past).len(), 2);
}

#[tokio::test]
async fn the_backup_sees_an_absent_colleague_s_cases_only_while_they_are_away() {
    let app = spawn_app().await;
    let (id, number) = submit_at(&app, new_case(app.item.id, "张三"), Timestamp::now()).await;
    accept(&app, id).await;
    let a = Browser::of(&app, &app.people.handler_a).await;
    let b = Browser::of(&app, &app.people.handler_b).await;

    assert_eq!(listed(&a.page("/work").await), vec![number.clone()]);
    let page = b.page("/work").await;
    assert!(listed(&page).is_empty(), "{page}");

    app.store
        .set_absent(
            "system".into(),
            app.people.handler_a.id,
            true,
            Timestamp::now(),
        )
        .await
        .expect("A is away");
    let page = b.page("/work").await;
    assert_eq!(listed(&page), vec![number.clone()]);
    let row = row_of(&page, &number);
    assert!(row.contains("代李明"), "{row}");
    assert!(page.contains("仅看我代岗的（1）"), "{page}");
    let page = b.page("/work?backup=1").await;
    assert_eq!(listed(&page), vec![number.clone()]);
    // B's backup (C) does not see it: only A's own B does.
    let c = Browser::of(&app, &app.people.handler_c).await;
    assert!(listed(&c.page("/work").await).is_empty());

    app.store
        .set_absent(
            "system".into(),
            app.people.handler_a.id,
            false,
            Timestamp::now(),
        )
        .await
        .expect("A is back");
    assert!(listed(&b.page("/work").await).is_empty());
    assert_eq!(listed(&a.page("/work").await), vec![number]);
}

#[tokio::test]
async fn due_days_counted_in_an_unpublished_year_are_marked_provisional_in_the_queue_and_the_list()
{
    let app = spawn_app().await;
    // No holiday arrangement is published for 2150: the acceptance window
    // of an application received then counts Saturday and Sunday off only.
    let (_, future) = submit_at(&app, new_case(app.item.id, "张三"), morning("2150-03-02")).await;
    // Received Monday 2 November 2026, a published year: due 9 November.
    let (_, past) = submit_at(&app, new_case(app.item.id, "李四"), morning("2026-11-02")).await;

    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    for path in ["/work", "/work/cases"] {
        let page = clerk.page(path).await;
        let row = row_of(&page, &future);
        assert!(
            row.contains(">临时</span>") && row.contains(&provisional_title(2150)),
            "{path}: the 2150 due day is marked, with why: {row}"
        );
        let row = row_of(&page, &past);
        assert!(row.contains("2026年11月9日"), "{path}: {row}");
        assert!(!row.contains("临时"), "{path}: {row}");
        // The legend says what the mark means, for screens nothing hovers on.
        assert!(
            page.contains("表示期限所在年度的节假日安排尚未发布"),
            "{path}: {page}"
        );
    }

    // Without a provisional day on the page, neither mark nor legend.
    let page = clerk.page("/work?q=%E6%9D%8E%E5%9B%9B").await;
    assert_eq!(listed(&page), vec![past.clone()]);
    assert!(!page.contains("临时"), "{page}");
}

// ---------------------------------------------------------------------------
// The case list

#[tokio::test]
async fn the_case_list_filters_by_state_and_date_within_the_department() {
    let app = spawn_app().await;
    let today = shanghai_day(Timestamp::now());
    let (_, new) = submit_at(&app, new_case(app.item.id, "张三"), Timestamp::now()).await;
    let (accepted_id, accepted) =
        submit_at(&app, new_case(app.item.id, "李四"), Timestamp::now()).await;
    accept(&app, accepted_id).await;
    let old_at = days_ago(40);
    let (_, old) = submit_at(&app, new_case(app.instant.id, "王五"), old_at).await;
    let old_day = shanghai_day(old_at);
    // The other department's application.
    let works = app
        .store
        .create_item(
            "system".into(),
            app.other_department.id,
            food_guide("000999001000", "建筑工程施工许可"),
            Timestamp::now(),
        )
        .await
        .expect("an item of the other department");
    app.store
        .set_item_status(
            "system".into(),
            works.id,
            ItemStatus::Published,
            Timestamp::now(),
        )
        .await
        .expect("publish it");
    let (_, theirs) = submit_at(&app, new_case(works.id, "赵六"), Timestamp::now()).await;

    let approver = Browser::of(&app, &app.people.approver).await;
    let page = approver.page("/work/cases").await;
    assert_eq!(
        listed(&page),
        vec![accepted.clone(), new.clone(), old.clone()],
        "newest first, this department only"
    );
    assert!(page.contains("办件（共3件）"), "{page}");
    assert!(
        !page.contains("name=\"department_id\""),
        "no choice of department"
    );

    let page = approver.page("/work/cases?state=handling").await;
    assert_eq!(listed(&page), vec![accepted.clone()]);
    assert!(page.contains("办件（共1件）"));
    assert!(page.contains("<option value=\"handling\" selected>"));

    let page = approver
        .page(&format!(
            "/work/cases?received_from={today}&received_to={today}"
        ))
        .await;
    assert_eq!(listed(&page), vec![accepted.clone(), new.clone()]);
    assert!(page.contains(&format!("value=\"{today}\"")), "kept: {page}");

    let page = approver
        .page(&format!("/work/cases?received_to={old_day}"))
        .await;
    assert_eq!(listed(&page), vec![old.clone()]);

    let page = approver
        .page("/work/cases?received_from=2026-13-01&item=x")
        .await;
    assert!(
        page.contains("筛选条件有误") && page.contains("收件日期（起）"),
        "the bad field is named: {page}"
    );
    assert_eq!(listed(&page).len(), 3, "and the list is unfiltered");

    // Another department's clerk lists their own department's cases and
    // cannot ask for this one's.
    let other = Browser::of(&app, &app.people.other_clerk).await;
    let page = other.page("/work/cases").await;
    assert_eq!(listed(&page), vec![theirs.clone()]);
    let refused = other
        .get(&format!("/work/cases?department_id={}", app.department.id))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("只能查看本部门的办件"));
    for number in [&new, &accepted, &old] {
        assert!(!refused.body.contains(number.as_str()));
    }

    // The supervision centre sees every department, and picks one.
    let supervisor = app.hire_supervisor().await;
    let sup = Browser::of(&app, &supervisor).await;
    let page = sup.page("/work/cases").await;
    assert_eq!(listed(&page).len(), 4, "{page}");
    assert!(page.contains("name=\"department_id\""));
    let page = sup
        .page(&format!(
            "/work/cases?department_id={}",
            app.other_department.id
        ))
        .await;
    assert_eq!(listed(&page), vec![theirs]);

    // Nobody logged in is sent to log in.
    let anonymous = Browser::anonymous(&app).get("/work/cases").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_dashboard_s_received_and_completed_figures_open_the_case_list() {
    let app = spawn_app().await;
    let clerk = app.token(&app.people.clerk_a).await;
    let handler = app.token(&app.people.handler_a).await;
    let reviewer = app.token(&app.people.reviewer).await;
    let approver = app.token(&app.people.approver).await;
    let open = app.apply(app.item.id).await["case_id"].as_i64().unwrap();
    accept(&app, open).await;
    let done = app.apply(app.item.id).await["case_id"].as_i64().unwrap();
    for (token, command) in [
        (&clerk, json!({"action": "accept", "opinion": "材料齐全"})),
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
    let done_number = app.case(&clerk, done).await["number"]
        .as_str()
        .unwrap()
        .to_string();

    let supervisor = app.hire_supervisor().await;
    let sup = Browser::of(&app, &supervisor).await;
    let today = shanghai_day(Timestamp::now());
    let month_start = today.first_of_month();
    let id = app.department.id;
    let board = sup.page("/supervision/dashboard").await;
    let received = format!("/work/cases?received_from={today}&received_to={today}");
    let completed = format!("/work/cases?completed_from={today}&completed_to={today}");
    assert!(
        board.contains(&format!(
            "href=\"{received}\" data-key=\"today.received\">2</a>"
        )),
        "{board}"
    );
    assert!(board.contains(&format!(
        "href=\"{completed}\" data-key=\"today.completed\">1</a>"
    )));
    let ranked =
        format!("/work/cases?department_id={id}&received_from={month_start}&received_to={today}");
    assert!(
        board.contains(&format!("<a href=\"{ranked}\">2</a>")),
        "{board}"
    );

    // Each link lists as many cases as the figure says.
    let page = sup.page(&received).await;
    assert_eq!(listed(&page).len(), 2, "{page}");
    let page = sup.page(&ranked).await;
    assert_eq!(listed(&page).len(), 2, "{page}");
    let page = sup.page(&completed).await;
    assert_eq!(listed(&page), vec![done_number], "{page}");
    assert!(page.contains("办结"));
    let page = sup.page("/work/cases?overdue=1").await;
    assert!(listed(&page).is_empty(), "nothing is overdue yet");

    // The JSON the page refreshes from carries the same links.
    let (status, body) = app
        .get(
            Some(&app.token(&supervisor).await),
            "/api/v1/supervision/dashboard",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["today_links"]["received"], received);
    assert_eq!(body["today_links"]["completed"], completed);
}

// ---------------------------------------------------------------------------
// The case page

#[tokio::test]
async fn the_case_page_shows_materials_inline_and_the_form_under_the_item_s_labels() {
    let app = spawn_app().await;
    // The item asks for two fields of its own.
    let mut guide = app.item.guide.clone();
    guide.form_fields = vec![
        FormField {
            key: "shop_address".into(),
            label: "经营场所地址".into(),
            kind: FieldKind::Text,
            required: true,
            options: vec![],
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
        FormField {
            key: "seats".into(),
            label: "就餐座位数".into(),
            kind: FieldKind::Number,
            required: false,
            options: vec![],
            hint: String::new(),
        },
    ];
    app.store
        .update_guide("system".into(), app.item.id, None, guide, Timestamp::now())
        .await
        .expect("add the form fields");
    let mut new = new_case(app.item.id, "张三");
    new.form = json!({ "area": "40", "shop_address": "衡山县开云镇建设路1号", "legacy_note": "旧版表单内容" });
    new.materials = vec![
        (
            "营业执照".into(),
            NewFile {
                name: "营业执照.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: PDF.to_vec(),
            },
        ),
        (
            "经营场所照片".into(),
            NewFile {
                name: "门头照片.png".into(),
                content_type: "image/png".into(),
                bytes: PNG.to_vec(),
            },
        ),
        (
            "食品安全管理制度".into(),
            NewFile {
                name: "制度.docx".into(),
                content_type:
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
                bytes: b"PK\x03\x04 not really a document".to_vec(),
            },
        ),
    ];
    let (id, _) = submit_at(&app, new, Timestamp::now()).await;
    let files: Vec<i64> = app
        .store
        .case_materials(id)
        .await
        .expect("materials")
        .iter()
        .map(|m| m.file.id)
        .collect();
    let (pdf, png, docx) = (files[0], files[1], files[2]);

    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    let page = clerk.get(&format!("/work/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("frame-src"),
        "the page may frame this site's own files: {csp}"
    );
    let page = page.body;

    // The form: the item's fields in their order, a blank one said so, then
    // values the item does not define under their keys.
    let address = page
        .find("<dt>经营场所地址</dt>")
        .expect("the address label");
    let area = page
        .find("<dt>经营面积（平方米）</dt>")
        .expect("the area label");
    let seats = page.find("<dt>就餐座位数</dt>").expect("the seats label");
    let legacy = page.find("<dt>legacy_note</dt>").expect("the other key");
    assert!(
        address < area && area < seats && seats < legacy,
        "in field order"
    );
    assert!(page.contains("衡山县开云镇建设路1号</dd>") && page.contains(">40</dd>"));
    assert!(page[seats..legacy].contains("未填写"));
    assert!(page.contains("旧版表单内容"));

    // The PDF in a frame, the image as an image, the document to download.
    let pdf_href = format!("/work/cases/{id}/materials/{pdf}");
    let png_href = format!("/work/cases/{id}/materials/{png}");
    assert!(
        page.contains(&format!(
            "<iframe class=\"material-frame\" src=\"{pdf_href}\""
        )),
        "{page}"
    );
    assert!(page.contains(&format!("<img class=\"material-image\" src=\"{png_href}\"")));
    assert!(!page.contains(&format!("src=\"/work/cases/{id}/materials/{docx}\"")));
    assert!(page.contains("此类文件不能在页面中预览"));
    for file in [pdf, png, docx] {
        assert!(
            page.contains(&format!("href=\"/api/v1/files/{file}\" download=")),
            "a download link for {file}"
        );
    }
    assert!(page.contains("营业执照.pdf") && page.contains("门头照片.png"));

    // The frame's address answers with the PDF, inline, as its stored type.
    let response = clerk.response(&pdf_href).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("inline"), "{disposition}");
    assert!(disposition.contains("%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);

    let image = clerk.response(&png_href).await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), PNG);
    // Saved on request; a document is never shown inline.
    let saved = clerk.response(&format!("{pdf_href}?download=1")).await;
    let disposition = saved.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let document = clerk
        .response(&format!("/work/cases/{id}/materials/{docx}"))
        .await;
    assert_eq!(document.status(), StatusCode::OK);
    let disposition = document.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
}

#[tokio::test]
async fn a_material_is_kept_from_other_departments_and_from_anonymous_visitors() {
    let app = spawn_app().await;
    let mut new = new_case(app.item.id, "张三");
    new.materials = vec![(
        "营业执照".into(),
        NewFile {
            name: "营业执照.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: PDF.to_vec(),
        },
    )];
    let (id, _) = submit_at(&app, new, Timestamp::now()).await;
    let (other_id, _) = submit_at(&app, new_case(app.item.id, "李四"), Timestamp::now()).await;
    let file = app.store.case_materials(id).await.expect("materials")[0]
        .file
        .id;
    let path = format!("/work/cases/{id}/materials/{file}");

    let other = Browser::of(&app, &app.people.other_clerk).await;
    let refused = other.get(&path).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
    assert!(!refused.body.contains("%PDF"));
    assert!(refused.body.contains("未找到该办件"));

    let anonymous = Browser::anonymous(&app).get(&path).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    let location = anonymous.headers["location"].to_str().unwrap();
    assert!(location.starts_with("/login?next="), "{location}");
    assert!(!anonymous.body.contains("%PDF"));

    // The file through another case's address, or a made-up one: absent.
    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    for wrong in [
        format!("/work/cases/{other_id}/materials/{file}"),
        format!("/work/cases/{id}/materials/{}", file + 100),
        format!("/work/cases/{id}/materials/abc"),
    ] {
        let page = clerk.get(&wrong).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{wrong}: {}", page.body);
    }
    // The supervision centre may look.
    let supervisor = app.hire_supervisor().await;
    let sup = Browser::of(&app, &supervisor).await;
    let response = sup.response(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
}

#[tokio::test]
async fn the_workbench_pages_have_no_inline_script_or_style() {
    let app = spawn_app().await;
    let (id, _) = submit_at(&app, new_case(app.item.id, "张三"), days_ago(30)).await;
    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    for path in [
        "/work".to_string(),
        "/work?urgent=1&item=%E9%A3%9F".to_string(),
        "/work/cases".to_string(),
        format!("/work/cases/{id}"),
    ] {
        let page = clerk.page(&path).await;
        assert!(!page.contains("<script"), "{path}");
        assert!(!page.contains("style=\""), "{path}");
        // Every text box and list has its label.
        for id in page
            .split(" id=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|id| id.starts_with("q-") || id.starts_with("l-"))
        {
            assert!(
                page.contains(&format!("for=\"{id}\"")),
                "{path}: #{id} has a label"
            );
        }
    }
}

#[tokio::test]
async fn the_case_page_explains_a_deadline_across_national_day_and_records_a_closure_moving_it() {
    let app = spawn_app().await;
    // Accepted Tuesday 29 September 2026: the 5 working days promised are
    // 30 September, 8 and 9 October, Saturday 10 October (worked in exchange
    // for the National Day holiday, 1–7 October) and Monday 12 October.
    let (id, _) = submit_at(&app, new_case(app.item.id, "张三"), morning("2026-09-29")).await;
    app.accept_at(id, morning("2026-09-29")).await;
    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    let path = format!("/work/cases/{id}");
    let page = clerk.page(&path).await;
    assert!(page.contains("期限计算说明"), "{page}");
    let promised = page
        .split("<summary>承诺办结时限：")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_else(|| panic!("the promised deadline explained: {page}"));
    assert!(promised.starts_with("2026年10月12日"), "{promised}");
    assert!(
        promised.contains("国庆节"),
        "the holiday crossed: {promised}"
    );
    assert!(
        promised.contains("10月1日") && promised.contains("10月7日"),
        "{promised}"
    );
    assert!(
        promised.contains("2026年10月10日") && promised.contains("调休"),
        "the adjusted working day: {promised}"
    );
    assert!(!promised.contains("临时结果"), "{promised}");
    assert!(!page.contains("日历调整记录"), "nothing moved it yet");

    // The county closes on Friday 9 October: the promised day moves to
    // Tuesday 13 October, and the case says so.
    let admin = app.token(&app.people.admin).await;
    let (status, body) = app
        .post(
            Some(&admin),
            "/api/v1/calendar/overrides",
            &json!({"date": "2026-10-09", "kind": "closure", "reason": "台风红色预警，全县停止办公"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let page = clerk.page(&path).await;
    let records = page
        .split("日历调整记录")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_else(|| panic!("the change records: {page}"));
    let line = records
        .split("<li>")
        .find(|line| line.contains("承诺办结时限"))
        .unwrap_or_else(|| panic!("the promised deadline's change: {records}"));
    assert!(line.contains("2026年10月12日 → 2026年10月13日"), "{line}");
    assert!(
        line.contains("2026-10-09") && line.contains("台风红色预警，全县停止办公"),
        "the day and why: {line}"
    );
    let promised = page
        .split("<summary>承诺办结时限：")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .expect("the promised deadline explained");
    assert!(promised.starts_with("2026年10月13日"), "{promised}");
    assert!(
        promised.contains("台风红色预警，全县停止办公"),
        "the override applied is explained: {promised}"
    );
}

#[tokio::test]
async fn the_case_page_marks_a_deadline_counted_in_an_unpublished_year_as_provisional() {
    let app = spawn_app().await;
    let (id, _) = submit_at(&app, new_case(app.item.id, "张三"), morning("2150-03-02")).await;
    app.accept_at(id, morning("2150-03-02")).await;
    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    let page = clerk.page(&format!("/work/cases/{id}")).await;
    let promised = page
        .split("<summary>承诺办结时限：")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_else(|| panic!("the promised deadline explained: {page}"));
    assert!(promised.starts_with("2150年3月"), "{promised}");
    assert!(promised.contains("临时结果"), "{promised}");
    assert!(
        promised.contains("2150年") && promised.contains("尚未发布"),
        "the explanation says which year is unpublished: {promised}"
    );
}
