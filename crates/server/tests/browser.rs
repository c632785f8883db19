//! The pages in a real browser: headless chromium (Debian's) driven through
//! chromedriver, against the real server on a fresh SQLite file.
//!
//! - The journey of one application: an applicant finds the food licence,
//!   applies online with files, is asked once for a supplement, resubmits;
//!   the window accepts it, handler, reviewer and approver each give their
//!   opinion, the case is approved and delivered, and the applicant rates it;
//!   a supervisor opens the card of another, overdue, case.
//! - A form sent with a required field left empty shows the error at the
//!   field, and the keyboard reaches the submit button and sends the form.
//! - At 360 px the portal's pages need no sideways scrolling.
//! - With ONEWINDOW_SCREENSHOTS=<dir> and ONEWINDOW_SCREENSHOT_BASE=<url>
//!   (scripts/screenshots.sh sets both against a demo county), the ignored
//!   test `screenshots` saves each main page at desktop and phone widths.
//!
//! Everything is found as a person finds it: fields by their labels,
//! buttons and links by their text, pages by their headings.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

#[path = "browser/driver.rs"]
mod driver;

use std::path::{Path, PathBuf};

use fantoccini::key::Key;
use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::calendar::china_zone;
use serde_json::{Value, json};
use tempfile::TempDir;

use driver::{Browser, literal};
use support::{PASSWORD, PDF, PHONE, TestApp, spawn_app};

/// A desktop window.
const DESKTOP: (u32, u32) = (1280, 900);

// ---------------------------------------------------------------------------
// Helpers

/// The applicant's files: one PDF per material of the food licence.
struct Files {
    dir: TempDir,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().expect("a directory for the files");
        for name in ["申请书.pdf", "营业执照.pdf"] {
            std::fs::write(dir.path().join(name), PDF).expect("write a PDF");
        }
        Files { dir }
    }

    fn get(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The first case number (430423-20261123-00017) in `text`.
fn case_number_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let shape = "dddddd-dddddddd-ddddd";
    chars.windows(shape.len()).find_map(|w| {
        let fits = w.iter().zip(shape.chars()).all(|(c, s)| match s {
            'd' => c.is_ascii_digit(),
            _ => *c == s,
        });
        fits.then(|| w.iter().collect())
    })
}

/// Logs in through the /login form and lands on the workbench.
async fn log_in(browser: &Browser, login: &str, password: &str) {
    browser.goto("/login").await;
    assert_eq!(browser.heading().await, "工作人员登录");
    let page = browser.page();
    page.fill("登录名", login).await;
    page.fill("密码", password).await;
    page.press("登录").await;
    let heading = browser.heading().await;
    assert!(
        heading.ends_with("的工作台"),
        "{login} lands on the workbench, got “{heading}” at {}",
        browser.path().await
    );
}

/// Logs out with the navigation's button.
async fn log_out(browser: &Browser) {
    browser.page().press("退出").await;
    assert!(
        browser.text().await.contains("工作人员登录"),
        "after logging out the navigation offers to log in"
    );
}

/// Opens the case `number` from the work queue.
async fn open_from_queue(browser: &Browser, number: &str) {
    browser.goto("/work").await;
    browser.wait_for_text("待办件").await;
    browser.page().follow(number).await;
    let text = browser.text().await;
    assert!(
        text.contains(number),
        "the case page shows {number}:\n{text}"
    );
}

/// After an action on the case page: the page says it was done (and no
/// error), and the case's head (its heading's section) shows `state`.
async fn expect_done(browser: &Browser, action: &str, state: &str) {
    browser.wait_for_text(&format!("已办理：{action}")).await;
    let errors = browser.find_all("//*[@role='alert']").await;
    assert!(errors.is_empty(), "{action}: {}", browser.text().await);
    let head = browser
        .find("//h1/ancestor::section[1]")
        .await
        .text()
        .await
        .expect("the case head's text");
    assert!(
        head.contains(state),
        "after {action} the case is {state}; its head shows: {head}"
    );
}

/// The look-up's answer about `number` (its section, as text), once shown.
async fn looked_up(browser: &Browser, number: &str) -> String {
    browser
        .find(&format!(
            "//h2[contains(normalize-space(.), {})]/ancestor::section[1]",
            literal(number)
        ))
        .await
        .text()
        .await
        .expect("the answer's text")
}

/// Whether nothing on the page sticks out sideways; else the elements that
/// do, as a person would describe them.
async fn sideways_overflow(browser: &Browser) -> Option<String> {
    let found = browser
        .script(
            "const width = window.innerWidth;
             const doc = document.documentElement;
             if (doc.scrollWidth <= width) { return null; }
             const out = [];
             for (const e of document.body.querySelectorAll('*')) {
               const r = e.getBoundingClientRect();
               if (r.right > width + 1 && r.width > 0) {
                 const name = e.tagName.toLowerCase() + (e.className ? '.' + e.className : '');
                 out.push(name + ' right=' + Math.round(r.right) + ' “' + (e.innerText || '').slice(0, 30).replace(/\\s+/g, ' ') + '”');
               }
             }
             return 'scrollWidth ' + doc.scrollWidth + ' > innerWidth ' + width + ': ' + out.slice(0, 8).join('; ');",
            vec![],
        )
        .await;
    match found {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

// ---------------------------------------------------------------------------
// Supervision: a supervisor and an overdue case

/// Noon in China on `day`: the instant a tick "on that day" runs at.
fn noon(day: Date) -> Timestamp {
    day.at(12, 0, 0, 0)
        .to_zoned_datetime(china_zone())
        .expect("a zoned time")
        .timestamp()
}

/// A case applied for and accepted through the API today, then supervised
/// the day after its promised deadline: it is overdue and has its cards.
/// Returns its number.
async fn overdue_case(app: &TestApp) -> String {
    let clerk = app.token(&app.people.clerk_a).await;
    let receipt = app.apply(app.item.id).await;
    let id = receipt["case_id"].as_i64().expect("a case id");
    app.act_ok(
        &clerk,
        id,
        json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
    )
    .await;
    let case = app.case(&clerk, id).await;
    let promised: Date = case["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["kind"] == "case_promised")
        .and_then(|d| d["due"].as_str())
        .unwrap_or_else(|| panic!("a promised deadline: {case}"))
        .parse()
        .expect("a date");
    app.store
        .supervise(noon(promised.tomorrow().expect("a day")), &[])
        .await
        .expect("tick the day after the promised deadline");
    case["number"].as_str().expect("a number").to_string()
}

// ---------------------------------------------------------------------------
// 1. The journey

/// One staff member completes the current step of `number` with `opinion`
/// in the field labelled `label`, and the case moves to `next`.
async fn complete_step(
    staff: &Browser,
    login: &str,
    number: &str,
    label: &str,
    opinion: &str,
    next: &str,
) {
    log_in(staff, login, PASSWORD).await;
    open_from_queue(staff, number).await;
    let form = staff.page().action("环节办理").await;
    form.fill(label, opinion).await;
    form.press("提交本环节").await;
    expect_done(staff, "环节办理", next).await;
    assert!(
        staff.text().await.contains(opinion),
        "the timeline shows {login}'s opinion"
    );
    log_out(staff).await;
}

#[tokio::test]
async fn an_application_goes_from_the_portal_through_every_desk_to_a_rating_and_supervision() {
    let app = spawn_app().await;
    let files = Files::new();
    let applicant = Browser::open(&app.base, DESKTOP.0, DESKTOP.1).await;
    let staff = Browser::open(&app.base, DESKTOP.0, DESKTOP.1).await;

    // The applicant searches the portal and opens the food licence's guide.
    applicant.goto("/").await;
    let home = applicant.page();
    home.fill("搜索事项", "食品经营").await;
    home.press("搜索").await;
    applicant.wait_for_text("关键词“食品经营”共找到").await;
    let results = applicant.text().await;
    assert!(
        !results.contains("食品经营许可（变更）"),
        "a draft item is not offered: {results}"
    );
    applicant.page().follow("食品经营许可（新办）").await;
    assert_eq!(applicant.heading().await, "食品经营许可（新办）");
    let guide = applicant.text().await;
    for shown in [
        "承诺时限",
        "食品经营许可申请书",
        "营业执照",
        "承办",
        "审核",
        "批准",
    ] {
        assert!(guide.contains(shown), "the guide shows {shown}");
    }

    // … applies online with both materials as PDF files …
    applicant.page().follow("在线申请").await;
    assert_eq!(applicant.heading().await, "在线申请：食品经营许可（新办）");
    let form = applicant.page();
    form.fill("申请人姓名", "张三").await;
    form.fill("联系电话", PHONE).await;
    form.fill("单位名称", "衡山县张三餐饮店").await;
    form.fill("申请事项说明", "在开云镇建设路1号新开一家餐馆")
        .await;
    fill_item_fields(&applicant).await;
    form.upload("食品经营许可申请书", &files.get("申请书.pdf"))
        .await;
    form.upload("营业执照", &files.get("营业执照.pdf")).await;
    form.press("提交申请").await;

    // … and gets a receipt with the case number.
    assert_eq!(applicant.heading().await, "申请已提交");
    let receipt = applicant.text().await;
    let number = case_number_in(&receipt)
        .unwrap_or_else(|| panic!("a case number on the receipt:\n{receipt}"));
    for shown in ["食品经营许可（新办）", "衡山县市场监督管理局", "2 份"] {
        assert!(
            receipt.contains(shown),
            "the receipt shows {shown}:\n{receipt}"
        );
    }

    // The window clerk finds it in the queue and asks once for a better
    // copy of the business licence.
    log_in(&staff, "wangfang", PASSWORD).await;
    open_from_queue(&staff, &number).await;
    assert_eq!(staff.heading().await, "食品经营许可（新办）");
    let case_page = staff.text().await;
    for shown in ["张三", PHONE, "衡山县张三餐饮店", "申请书.pdf", "待受理"] {
        assert!(case_page.contains(shown), "the case page shows {shown}");
    }
    let supplement = staff.page().action("一次性告知补正").await;
    supplement.tick("营业执照").await;
    supplement
        .fill("“营业执照”的补正要求", "复印件不清晰，请上传原件扫描件")
        .await;
    supplement.press("出具一次性告知书").await;
    expect_done(&staff, "一次性告知补正", "待补正").await;

    // The applicant looks the case up from the receipt, reads the notice
    // and resubmits.
    applicant.page().follow("查询办件进度").await;
    assert_eq!(applicant.heading().await, "办件查询");
    let lookup = applicant.page();
    assert_eq!(
        lookup.value("办件编号").await,
        number,
        "the receipt's link fills in the number"
    );
    lookup.fill("联系电话", PHONE).await;
    lookup.press("查询").await;
    let answer = looked_up(&applicant, &number).await;
    assert!(answer.contains("待补正"), "{answer}");
    let notice = applicant.text().await;
    assert!(
        notice.contains("营业执照") && notice.contains("复印件不清晰，请上传原件扫描件"),
        "the applicant sees what to supplement:\n{notice}"
    );
    let answer = applicant.page();
    answer.fill("补正说明", "已上传营业执照原件扫描件").await;
    answer.press("已补正，重新提交").await;
    applicant.wait_for_text("补正材料已提交").await;
    let answer = looked_up(&applicant, &number).await;
    assert!(answer.contains("待受理"), "back with the window: {answer}");

    // The clerk accepts it.
    open_from_queue(&staff, &number).await;
    let accept = staff.page().action("受理").await;
    accept.fill("受理意见", "材料齐全，予以受理").await;
    accept.press("受理").await;
    expect_done(&staff, "受理", "承办中").await;
    log_out(&staff).await;

    // Handler, reviewer and approver each complete their step.
    complete_step(
        &staff,
        "liming",
        &number,
        "承办意见",
        "经现场核查，符合条件",
        "审核中",
    )
    .await;
    complete_step(
        &staff,
        "chenjing",
        &number,
        "审核意见",
        "审核通过，同意承办意见",
        "批准中",
    )
    .await;
    complete_step(&staff, "liuyang", &number, "批准意见", "同意", "待决定").await;

    // The approver approves …
    log_in(&staff, "liuyang", PASSWORD).await;
    open_from_queue(&staff, &number).await;
    let decide = staff.page().action("作出决定").await;
    decide.tick("准予许可（批准）").await;
    decide.fill("决定意见", "准予食品经营许可").await;
    decide.press("作出决定").await;
    expect_done(&staff, "作出决定", "已决定待送达").await;
    log_out(&staff).await;

    // … and the window delivers the licence, which completes the case.
    log_in(&staff, "wangfang", PASSWORD).await;
    open_from_queue(&staff, &number).await;
    let deliver = staff.page().action("送达办结").await;
    deliver.fill("送达方式", "窗口领取").await;
    deliver.press("送达办结").await;
    expect_done(&staff, "送达办结", "已办结").await;
    log_out(&staff).await;

    // The applicant sees it done and rates it: very satisfied, with a word.
    applicant.page().press("查询").await;
    let answer = looked_up(&applicant, &number).await;
    assert!(answer.contains("已办结"), "{answer}");
    let rating = applicant
        .page()
        .within(
            "//section[.//*[normalize-space(.)='办事评价']]",
            "the rating",
        )
        .await;
    rating.tick("非常满意").await;
    rating.fill("意见建议", "窗口服务热情，一次就办好了").await;
    rating.press("提交评价").await;
    applicant.wait_for_text("感谢您的评价").await;
    let rated = applicant.text().await;
    assert!(
        rated.contains("非常满意") && rated.contains("窗口服务热情，一次就办好了"),
        "the applicant sees the rating given:\n{rated}"
    );
    assert!(
        applicant
            .find_all("//button[normalize-space(.)='提交评价']")
            .await
            .is_empty(),
        "a case is rated once"
    );
    applicant.close().await;

    // A supervisor sees the card of an overdue case and opens it.
    app.hire_supervisor().await;
    let late = overdue_case(&app).await;
    log_in(&staff, "jiancha", PASSWORD).await;
    staff.page().follow("电子监察").await;
    assert_eq!(staff.heading().await, "电子监察");
    let list = staff.text().await;
    assert!(
        list.contains(&late),
        "the list shows the overdue case {late}:\n{list}"
    );
    assert!(
        !list.contains(&number),
        "the case finished on time has no card:\n{list}"
    );
    let row = staff
        .page()
        .within(
            &format!(
                "//tr[.//a[normalize-space(.)={}] and .//*[normalize-space(.)='黄牌']]",
                literal(&late)
            ),
            "the yellow card's row",
        )
        .await;
    let title_link = row.find(".//a").await;
    let title = title_link.text().await.expect("the card's title");
    staff.click_and_wait(&title_link, "the card's title").await;
    let heading = staff.heading().await;
    assert!(
        heading.contains("黄牌") && heading.contains(&title),
        "the card page is headed by its level and title: {heading}"
    );
    let card = staff.text().await;
    for shown in [
        late.as_str(),
        "监察事实",
        "处理过程",
        "衡山县市场监督管理局",
    ] {
        assert!(card.contains(shown), "the card shows {shown}:\n{card}");
    }
    staff.close().await;
}

/// Fills the item's own fields that must be filled, if its form shows any:
/// a plausible value by the field's label and kind, the first choice of a
/// list.
async fn fill_item_fields(browser: &Browser) {
    let required = browser
        .find_all(
            "//form//*[(self::input or self::textarea or self::select) and (@required or @aria-required='true')]",
        )
        .await;
    for field in required {
        let kind = field
            .attr("type")
            .await
            .expect("a type")
            .unwrap_or_default();
        if matches!(kind.as_str(), "hidden" | "file" | "checkbox" | "radio") {
            continue;
        }
        let value = field
            .prop("value")
            .await
            .expect("a value")
            .unwrap_or_default();
        if !value.is_empty() {
            continue;
        }
        if field.tag_name().await.expect("a tag") == "select" {
            field.select_by_index(1).await.expect("choose an option");
            continue;
        }
        let label = browser
            .script(
                "const l = arguments[0].labels; return l && l.length ? l[0].innerText : '';",
                vec![serde_json::to_value(&field).expect("an element")],
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        let inputmode = field
            .attr("inputmode")
            .await
            .expect("inputmode")
            .unwrap_or_default();
        if kind == "date" {
            browser
                .script(
                    "arguments[0].value = new Date().toISOString().slice(0, 10)",
                    vec![serde_json::to_value(&field).expect("an element")],
                )
                .await;
            continue;
        }
        let text = if label.contains("信用代码") {
            credit_code("91430423MA4L7Q2K3")
        } else if label.contains("身份证") {
            id_number("43042319900101123")
        } else if label.contains("电话") || inputmode == "tel" {
            PHONE.to_string()
        } else if kind == "number" || inputmode == "decimal" || inputmode == "numeric" {
            "1".to_string()
        } else {
            "衡山县开云镇建设路1号".to_string()
        };
        field.send_keys(&text).await.expect("type");
    }
}

/// A valid unified social credit code (GB 32100 check character).
fn credit_code(first17: &str) -> String {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| CHARS.find(c).expect("a code character") * w)
        .sum();
    let check = CHARS.as_bytes()[(31 - sum % 31) % 31] as char;
    format!("{first17}{check}")
}

// ---------------------------------------------------------------------------
// 2. Errors at the field, and the keyboard

#[tokio::test]
async fn a_missing_name_is_shown_at_its_field_and_the_keyboard_reaches_and_sends_the_form() {
    let app = spawn_app().await;
    let files = Files::new();
    let browser = Browser::open(&app.base, DESKTOP.0, DESKTOP.1).await;
    browser.goto(&format!("/items/{}/apply", app.item.id)).await;
    let form = browser.page();
    form.fill("联系电话", PHONE).await;
    form.fill("单位名称", "衡山县张三餐饮店").await;
    form.upload("食品经营许可申请书", &files.get("申请书.pdf"))
        .await;
    form.upload("营业执照", &files.get("营业执照.pdf")).await;
    form.press("提交申请").await;

    // The form comes back with the message at the name field.
    assert_eq!(
        browser.heading().await,
        "在线申请：食品经营许可（新办）",
        "nothing was filed"
    );
    assert_eq!(app.case_count().await, 0, "no case without a name");
    let page = browser.text().await;
    assert!(page.contains("申请未提交"), "{page}");
    let form = browser.page();
    let name = form.field("申请人姓名").await;
    assert_eq!(
        name.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true"),
        "the name field is marked invalid"
    );
    let described = name
        .attr("aria-describedby")
        .await
        .unwrap()
        .expect("the name field names its error");
    let error = browser
        .find(&format!("//*[@id={}]", literal(&described)))
        .await;
    assert_eq!(error.text().await.unwrap(), "请填写申请人姓名");
    assert!(error.is_displayed().await.unwrap(), "the error is visible");
    let (_, field_y, _, field_h) = name.rectangle().await.unwrap();
    let (_, error_y, _, _) = error.rectangle().await.unwrap();
    assert!(
        error_y >= field_y + field_h - 1.0 && error_y - (field_y + field_h) < 60.0,
        "the error stands right under the field (field {field_y}+{field_h}, error at {error_y})"
    );
    // What was typed is kept; the phone has no error.
    assert_eq!(form.value("联系电话").await, PHONE);
    assert!(!page.contains("请填写联系电话"), "{page}");

    // With the keyboard: type the name, choose the files again, Tab from the
    // description to the submit button and press Enter.
    form.fill("申请人姓名", "张三").await;
    form.upload("食品经营许可申请书", &files.get("申请书.pdf"))
        .await;
    form.upload("营业执照", &files.get("营业执照.pdf")).await;
    form.field("申请事项说明").await.click().await.unwrap();
    let focused = browser.focused().await;
    assert!(
        focused["label"]
            .as_str()
            .unwrap_or_default()
            .starts_with("申请事项说明"),
        "a click puts the focus in the description: {focused}"
    );
    let mut stops = Vec::new();
    for _ in 0..15 {
        browser.key(Key::Tab).await;
        let focused = browser.focused().await;
        stops.push(focused.clone());
        if focused["tag"] == "button" && focused["text"] == "提交申请" {
            break;
        }
    }
    let last = stops.last().expect("a Tab stop");
    assert!(
        last["tag"] == "button" && last["text"] == "提交申请",
        "Tab from the description reaches 提交申请 within 15 presses; it went: {stops:?}"
    );
    let ring = browser
        .script(
            "const s = getComputedStyle(document.activeElement);
             return { outline: s.outlineStyle + ' ' + s.outlineWidth, shadow: s.boxShadow };",
            vec![],
        )
        .await;
    let outline = ring["outline"].as_str().unwrap_or_default();
    let shadow = ring["shadow"].as_str().unwrap_or_default();
    assert!(
        (!outline.starts_with("none") && !outline.ends_with(" 0px")) || shadow != "none",
        "the focused button shows a focus ring: {ring}"
    );
    let submit = browser.client.active_element().await.unwrap();
    browser.key(Key::Enter).await;
    let until = std::time::Instant::now() + driver::WAIT;
    while submit.tag_name().await.is_ok() {
        assert!(
            std::time::Instant::now() < until,
            "Enter on 提交申请 sends the form"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    browser.wait_for_text("申请已提交").await;
    assert!(case_number_in(&browser.text().await).is_some());
    assert_eq!(app.case_count().await, 1);
    browser.close().await;
}

// ---------------------------------------------------------------------------
// 3. Phones

#[tokio::test]
async fn at_360_pixels_the_portal_pages_need_no_sideways_scrolling() {
    let app = spawn_app().await;
    let number = app.apply(app.item.id).await["number"]
        .as_str()
        .expect("a number")
        .to_string();
    let browser = Browser::open(&app.base, 360, 740).await;
    assert_eq!(
        browser.number("return window.innerWidth").await,
        360.0,
        "the page is laid out 360 px wide"
    );
    let mut problems = Vec::new();
    for path in [
        "/".to_string(),
        "/?q=食品".to_string(),
        format!("/items/{}", app.item.id),
        format!("/items/{}/apply", app.item.id),
        "/lookup".to_string(),
    ] {
        browser.goto(&path).await;
        if let Some(problem) = sideways_overflow(&browser).await {
            problems.push(format!("{path}: {problem}"));
        }
    }
    // The look-up with its answer and timeline.
    browser.goto("/lookup").await;
    let lookup = browser.page();
    lookup.fill("办件编号", &number).await;
    lookup.fill("联系电话", PHONE).await;
    lookup.press("查询").await;
    browser.wait_for_text("办理过程").await;
    if let Some(problem) = sideways_overflow(&browser).await {
        problems.push(format!("/lookup (answer): {problem}"));
    }
    assert!(
        problems.is_empty(),
        "sideways scrolling at 360 px:\n{}",
        problems.join("\n")
    );
    browser.close().await;
}

// ---------------------------------------------------------------------------
// 4. Screenshots of a demo county

/// Demo log-ins (`onewindow demo`): everyone's password.
const DEMO_PASSWORD: &str = "demo1234";
/// Widths: a desktop and a phone.
const WIDTHS: [(&str, u32); 2] = [("desktop", 1280), ("phone", 390)];
/// The tallest capture.
const MAX_HEIGHT: u32 = 6000;

/// Saves the page shown as `<dir>/<name>-desktop.png` and `-phone.png`.
async fn capture(browser: &Browser, dir: &Path, name: &str) {
    for (suffix, width) in WIDTHS {
        let png = browser.full_page_png(width, MAX_HEIGHT).await;
        let path = dir.join(format!("{name}-{suffix}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        println!("{} ({})", path.display(), browser.path().await);
    }
    browser.resize(DESKTOP.0, DESKTOP.1).await;
}

/// A valid 18-digit resident ID number (GB 11643 check digit).
fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).expect("a digit") * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// The value shown after the term `term` of a facts list (dt/dd).
async fn fact(browser: &Browser, term: &str) -> String {
    browser
        .find(&format!(
            "//dt[normalize-space(.)={}]/following-sibling::dd[1]",
            literal(term)
        ))
        .await
        .text()
        .await
        .expect("a fact's text")
}

#[tokio::test]
#[ignore = "screenshots of a demo county: run scripts/screenshots.sh"]
async fn screenshots() {
    let (Some(dir), Some(base)) = (
        std::env::var_os("ONEWINDOW_SCREENSHOTS"),
        std::env::var("ONEWINDOW_SCREENSHOT_BASE").ok(),
    ) else {
        panic!(
            "set ONEWINDOW_SCREENSHOTS=<dir> and ONEWINDOW_SCREENSHOT_BASE=<url of a demo server>, \
             or run scripts/screenshots.sh"
        );
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    let files = Files::new();

    // The public portal.
    let visitor = Browser::open(&base, DESKTOP.0, DESKTOP.1).await;
    visitor.goto("/").await;
    capture(&visitor, &dir, "home").await;
    visitor.goto("/?q=营业执照").await;
    capture(&visitor, &dir, "search").await;
    let first = visitor
        .find("//main//a[starts-with(@href, '/items/')]")
        .await;
    visitor.click_and_wait(&first, "the first result").await;
    capture(&visitor, &dir, "guide").await;
    visitor.page().follow("在线申请").await;
    capture(&visitor, &dir, "apply").await;
    let form = visitor.page();
    form.fill("申请人姓名", "张三").await;
    form.fill("联系电话", PHONE).await;
    form.fill("身份证号码", &id_number("43042319900101123"))
        .await;
    if !visitor
        .find_all("//label[starts-with(normalize-space(.), '单位名称')]")
        .await
        .is_empty()
    {
        form.fill("单位名称", "衡山县张三餐饮店").await;
    }
    for input in visitor.find_all("//input[@type='file']").await {
        input
            .send_keys(&files.get("申请书.pdf").display().to_string())
            .await
            .expect("choose a file");
    }
    fill_item_fields(&visitor).await;
    form.press("提交申请").await;
    capture(&visitor, &dir, "receipt").await;
    visitor.goto("/login").await;
    capture(&visitor, &dir, "login").await;

    // The window's workbench and a case.
    let clerk = Browser::open(&base, DESKTOP.0, DESKTOP.1).await;
    log_in(&clerk, "scjgj_cka", DEMO_PASSWORD).await;
    capture(&clerk, &dir, "work").await;
    let first_case = clerk
        .find("//main//a[starts-with(@href, '/work/cases/')]")
        .await;
    clerk.click_and_wait(&first_case, "the first case").await;
    capture(&clerk, &dir, "case").await;
    clerk.close().await;

    // Supervision: the list, a card, the dashboard; a supervised case's
    // history as its applicant looks it up.
    let supervisor = Browser::open(&base, DESKTOP.0, DESKTOP.1).await;
    log_in(&supervisor, "jiancha", DEMO_PASSWORD).await;
    supervisor.goto("/supervision").await;
    capture(&supervisor, &dir, "supervision").await;
    let card = supervisor
        .find("//main//a[starts-with(@href, '/supervision/cards/')]")
        .await;
    supervisor.click_and_wait(&card, "the first card").await;
    capture(&supervisor, &dir, "supervision-card").await;
    let case = supervisor
        .find("//main//a[starts-with(@href, '/work/cases/')]")
        .await;
    supervisor.click_and_wait(&case, "the card's case").await;
    let number = case_number_in(&supervisor.text().await).expect("the case's number");
    let phone = fact(&supervisor, "联系电话").await;
    supervisor.goto("/supervision/dashboard").await;
    // The charts draw after the script has fetched the figures.
    let until = std::time::Instant::now() + driver::WAIT;
    while supervisor.find_all("//canvas").await.is_empty() && std::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    capture(&supervisor, &dir, "dashboard").await;
    supervisor.close().await;

    visitor.goto("/lookup").await;
    let lookup = visitor.page();
    lookup.fill("办件编号", &number).await;
    lookup.fill("联系电话", &phone).await;
    lookup.press("查询").await;
    capture(&visitor, &dir, "lookup").await;
    visitor.close().await;

    // The administrator's hub.
    let admin = Browser::open(&base, DESKTOP.0, DESKTOP.1).await;
    log_in(&admin, "admin", DEMO_PASSWORD).await;
    admin.goto("/admin").await;
    capture(&admin, &dir, "admin").await;
    admin.close().await;
}
