//! The printable documents of a case as PDF, through the real server: each of
//! the five documents once the case's history allows it, read back with
//! poppler's `pdftotext` and `pdffonts`; markup characters in an applicant's
//! name; the links on the case page; and what another department, a document
//! not yet issued and an unknown kind get.

#[allow(dead_code)]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

use support::{PHONE, TestApp, spawn_app};

const NOTICE: &str = "如不服本决定，可以自收到本决定书之日起六十日内向衡山县人民政府申请行政复议，\
                      或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。";

/// A name made of every character typst markup would act on.
const MARKUP_NAME: &str = "李#四*粗*_斜_[x]$y$\\\"<l>@r`c`~=-+/";

struct Pdf {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Pdf {
    fn is_pdf(&self) -> bool {
        self.status == StatusCode::OK
            && self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
                == Some("application/pdf")
            && self.body.starts_with(b"%PDF")
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Keeps a copy of each PDF in `$DOCUMENTS_OUT`, when set, to look at.
fn keep(case_id: i64, kind: &str, pdf: &Pdf) {
    if let Some(dir) = std::env::var_os("DOCUMENTS_OUT") {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::path::Path::new(&dir).join(format!("{n:02}-{kind}-{case_id}.pdf"));
        std::fs::write(path, &pdf.body).expect("keep the PDF");
    }
}

async fn document(app: &TestApp, token: &str, case_id: i64, kind: &str) -> Pdf {
    let response = app
        .client
        .get(app.url(&format!("/work/cases/{case_id}/documents/{kind}.pdf")))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET a document");
    let pdf = Pdf {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("a body").to_vec(),
    };
    if pdf.is_pdf() {
        keep(case_id, kind, &pdf);
    }
    pdf
}

fn poppler(tool: &str) -> bool {
    let found = Command::new("which")
        .arg(tool)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        eprintln!("NOTICE: {tool} (poppler-utils) is not installed; its checks are skipped");
    }
    found
}

/// Runs a poppler tool on the PDF and returns what it prints.
fn run_poppler(tool: &str, pdf: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let mut command = Command::new(tool);
    command.args(extra).arg(&path);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let output = command.output().expect("run poppler");
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The PDF's text without white space (line breaks fall anywhere), or `None`
/// when pdftotext is missing.
fn text_of(pdf: &Pdf) -> Option<String> {
    assert!(
        pdf.is_pdf(),
        "a PDF, got {}: {}",
        pdf.status,
        pdf.body_text()
    );
    poppler("pdftotext").then(|| squeeze(&run_poppler("pdftotext", &pdf.body, &["-enc", "UTF-8"])))
}

fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            text.contains(&squeeze(needle)),
            "{needle:?} missing from the document:\n{text}"
        );
    }
}

/// Every font of the PDF is embedded (pdffonts' `emb` column says yes), and
/// there is at least one.
fn assert_fonts_embedded(pdf: &Pdf) {
    let raw = pdf.body_text();
    assert!(
        raw.contains("/FontFile2") || raw.contains("/FontFile3"),
        "no embedded font program in the PDF"
    );
    if !poppler("pdffonts") {
        return;
    }
    let listing = run_poppler("pdffonts", &pdf.body, &[]);
    let rows: Vec<&str> = listing.lines().skip(2).collect();
    assert!(!rows.is_empty(), "no font listed:\n{listing}");
    for row in rows {
        // name type encoding emb sub uni object ID
        let columns: Vec<&str> = row.split_whitespace().collect();
        let emb = columns[columns.len() - 5];
        assert_eq!(emb, "yes", "a font not embedded:\n{listing}");
    }
    assert!(listing.contains("NotoSerifSC"), "{listing}");
}

async fn apply_as(app: &TestApp, name: &str, organization: &str) -> i64 {
    let body = json!({
        "item_id": app.item.id,
        "applicant": { "name": name, "phone": PHONE, "organization": organization },
        "form": { "经营场所": "衡山县开云镇建设路1号" },
    });
    let (status, receipt) = app.post(None, "/api/v1/applications", &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "apply: {receipt}");
    receipt["case_id"].as_i64().expect("a case id")
}

/// Accepts the case and takes it through its three steps to the decision.
async fn to_deciding(app: &TestApp, id: i64) {
    let people = &app.people;
    let clerk = app.token(&people.clerk_a).await;
    app.act_ok(
        &clerk,
        id,
        json!({"action": "accept", "opinion": "材料齐全，予以受理"}),
    )
    .await;
    for (who, opinion) in [
        (&people.handler_a, "经审查，符合条件"),
        (&people.reviewer, "审核通过"),
        (&people.approver, "同意"),
    ] {
        let token = app.token(who).await;
        app.act_ok(
            &token,
            id,
            json!({"action": "complete_step", "opinion": opinion}),
        )
        .await;
    }
}

fn number_of(case: &Value) -> String {
    case["number"].as_str().expect("a case number").to_string()
}

async fn error_page(app: &TestApp, token: &str, case_id: i64, kind: &str) -> (StatusCode, String) {
    let pdf = document(app, token, case_id, kind).await;
    let content_type = pdf
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/html"),
        "an error page, got {content_type}"
    );
    (pdf.status, pdf.body_text())
}

#[tokio::test]
async fn acceptance_decision_and_completion_notices_print_the_case() {
    let app = spawn_app().await;
    let id = apply_as(&app, "张三", "衡山县张三餐饮店").await;
    let clerk = app.token(&app.people.clerk_a).await;

    // Nothing is issued before the acceptance decision.
    let (status, page) = error_page(&app, &clerk, id, "acceptance").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page.contains("本办件尚未受理，暂不能出具受理通知书"),
        "{page}"
    );

    to_deciding(&app, id).await;
    let case = app.case(&clerk, id).await;
    let number = number_of(&case);
    let department = app.department.name.as_str();

    let started = Instant::now();
    let acceptance = document(&app, &clerk, id, "acceptance").await;
    let first = started.elapsed();
    assert!(acceptance.is_pdf(), "{}", acceptance.body_text());
    let disposition = acceptance.headers[CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("inline;")
            && disposition.contains(&format!("filename=\"acceptance-{id}.pdf\""))
            // 受理通知书
            && disposition.contains("filename*=UTF-8''%E5%8F%97%E7%90%86%E9%80%9A%E7%9F%A5%E4%B9%A6"),
        "{disposition}"
    );
    assert_eq!(acceptance.headers["cache-control"], "no-store");
    assert_fonts_embedded(&acceptance);
    if let Some(text) = text_of(&acceptance) {
        assert_contains(
            &text,
            &[
                "受理通知书",
                "张三",
                "衡山县张三餐饮店",
                &number,
                department,
                "食品经营许可（新办）",
                "衡市监受字〔",
                "决定予以受理",
                "承诺办结期限",
                "法定办结期限",
                "0734-5822315",
                "（印章）",
            ],
        );
    }

    // The decision and completion documents wait for their events.
    let (status, page) = error_page(&app, &clerk, id, "decision").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("尚未作出准予或不予许可的决定"), "{page}");
    let (status, _) = error_page(&app, &clerk, id, "completion").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, page) = error_page(&app, &clerk, id, "rejection").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("没有不予受理决定书"), "{page}");

    let approver = app.token(&app.people.approver).await;
    app.act_ok(
        &approver,
        id,
        json!({"action": "decide", "outcome": "approve", "opinion": "符合食品经营许可条件"}),
    )
    .await;
    let started = Instant::now();
    let decision = document(&app, &clerk, id, "decision").await;
    let second = started.elapsed();
    assert_fonts_embedded(&decision);
    if let Some(text) = text_of(&decision) {
        assert_contains(
            &text,
            &[
                "准予行政许可决定书",
                "张三",
                &number,
                department,
                "衡市监许字〔",
                "决定准予行政许可",
                "符合食品经营许可条件",
                "《中华人民共和国食品安全法》第三十五条",
            ],
        );
        assert!(!text.contains("行政复议"), "{text}");
    }

    app.act_ok(
        &clerk,
        id,
        json!({"action": "deliver", "method": "窗口领取"}),
    )
    .await;
    let completion = document(&app, &clerk, id, "completion").await;
    if let Some(text) = text_of(&completion) {
        assert_contains(
            &text,
            &[
                "办结通知书",
                "张三",
                &number,
                department,
                "衡市监结字〔",
                "现已办结",
                "窗口领取",
                "作出准予行政许可的决定",
                "0734-12345",
            ],
        );
    }

    // The case page links the documents the history allows.
    let page = app
        .client
        .get(app.url(&format!("/work/cases/{id}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .expect("GET the case page")
        .text()
        .await
        .expect("a page");
    for kind in ["acceptance", "decision", "completion"] {
        assert!(
            page.contains(&format!("/work/cases/{id}/documents/{kind}.pdf")),
            "{kind} link missing"
        );
    }
    assert!(!page.contains("documents/rejection.pdf"));
    assert!(!page.contains("documents/supplement.pdf"));

    eprintln!("render times over HTTP (debug build): first {first:?}, later {second:?}");
    assert!(
        second < Duration::from_secs(3),
        "a document took {second:?} to render"
    );
}

#[tokio::test]
async fn a_rejection_gives_its_reasons_and_the_rights_notice() {
    let app = spawn_app().await;
    let id = apply_as(&app, "王五", "").await;
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(
        &clerk,
        id,
        json!({
            "action": "reject",
            "reasons": "申请事项不属于本机关职权范围。\n经营场所位于南岳区，应向南岳区市场监督管理局申请。",
            "rights_notice": NOTICE,
        }),
    )
    .await;
    let number = number_of(&app.case(&clerk, id).await);
    let rejection = document(&app, &clerk, id, "rejection").await;
    assert_fonts_embedded(&rejection);
    if poppler("pdftotext") {
        // Each line of the reasons is a paragraph of its own.
        let raw = run_poppler("pdftotext", &rejection.body, &["-enc", "UTF-8"]);
        assert!(
            raw.lines()
                .any(|line| line.trim_start().starts_with("经营场所位于南岳区")),
            "{raw}"
        );
    }
    if let Some(text) = text_of(&rejection) {
        assert_contains(
            &text,
            &[
                "不予受理决定书",
                "王五",
                &number,
                &app.department.name,
                "衡市监不受字〔",
                "申请事项不属于本机关职权范围。",
                "应向南岳区市场监督管理局申请。",
                "行政复议",
                "行政诉讼",
            ],
        );
    }
    let (status, page) = error_page(&app, &clerk, id, "acceptance").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("本办件尚未受理"), "{page}");
}

#[tokio::test]
async fn the_supplement_notice_lists_every_material_and_its_problem() {
    let app = spawn_app().await;
    let id = apply_as(&app, "赵六", "衡山县赵六小吃店").await;
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(
        &clerk,
        id,
        json!({
            "action": "request_supplement",
            "items": [
                {"material": "营业执照", "problem": "缺少副本复印件"},
                {"material": "食品经营许可申请书", "problem": "未加盖公章，经营项目填写不完整"},
                {"material": "经营场所平面图", "problem": "未标明食品处理区布局"},
            ],
            "note": "请一次性补齐以上材料",
        }),
    )
    .await;
    let number = number_of(&app.case(&clerk, id).await);
    let supplement = document(&app, &clerk, id, "supplement").await;
    assert_fonts_embedded(&supplement);
    if let Some(text) = text_of(&supplement) {
        assert_contains(
            &text,
            &[
                "补正材料一次性告知书",
                "衡山县赵六小吃店",
                "赵六",
                &number,
                &app.department.name,
                "衡市监补字〔",
                "营业执照",
                "缺少副本复印件",
                "食品经营许可申请书",
                "未加盖公章，经营项目填写不完整",
                "经营场所平面图",
                "未标明食品处理区布局",
                "请一次性补齐以上材料",
                "不再要求补正其他材料",
            ],
        );
    }
}

#[tokio::test]
async fn a_denial_gives_its_reasons_and_the_rights_notice() {
    let app = spawn_app().await;
    let id = apply_as(&app, "钱七", "").await;
    to_deciding(&app, id).await;
    let approver = app.token(&app.people.approver).await;
    app.act_ok(
        &approver,
        id,
        json!({
            "action": "decide",
            "outcome": "deny",
            "opinion": "不予许可",
            "reasons": "经现场核查，经营场所与有毒有害场所的距离不足25米，不符合食品安全要求。",
            "rights_notice": NOTICE,
        }),
    )
    .await;
    let clerk = app.token(&app.people.clerk_a).await;
    let number = number_of(&app.case(&clerk, id).await);
    let denial = document(&app, &clerk, id, "decision").await;
    assert_fonts_embedded(&denial);
    if let Some(text) = text_of(&denial) {
        assert_contains(
            &text,
            &[
                "不予行政许可决定书",
                "钱七",
                &number,
                &app.department.name,
                "衡市监不许字〔",
                "距离不足25米，不符合食品安全要求。",
                "决定不予行政许可",
                "衡山县人民政府申请行政复议",
                "提起行政诉讼",
            ],
        );
    }
}

#[tokio::test]
async fn markup_characters_in_a_name_print_literally() {
    let app = spawn_app().await;
    let organization = "#[鼎]*盛*$商行$ <x> @y \\z \"q\"";
    let id = apply_as(&app, MARKUP_NAME, organization).await;
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(
        &clerk,
        id,
        json!({"action": "accept", "opinion": "受理 #strong[x] $a$"}),
    )
    .await;
    let acceptance = document(&app, &clerk, id, "acceptance").await;
    assert!(acceptance.is_pdf(), "{}", acceptance.body_text());
    if let Some(text) = text_of(&acceptance) {
        assert_contains(
            &text,
            &[
                MARKUP_NAME,
                organization,
                "受理 #strong[x] $a$",
                "受理通知书",
            ],
        );
    }
}

#[tokio::test]
async fn other_departments_unknown_kinds_and_anonymous_visitors_get_no_document() {
    let app = spawn_app().await;
    let id = apply_as(&app, "孙八", "").await;
    let clerk = app.token(&app.people.clerk_a).await;
    app.act_ok(&clerk, id, json!({"action": "accept", "opinion": "受理"}))
        .await;
    assert!(document(&app, &clerk, id, "acceptance").await.is_pdf());

    // Another department's clerk: the case reads as absent, as on the case page.
    let other = app.token(&app.people.other_clerk).await;
    let (status, page) = error_page(&app, &other, id, "acceptance").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("未找到该办件"), "{page}");
    assert!(!page.contains("孙八"));

    // Unknown kinds, no extension, unknown or malformed cases.
    for (case, kind) in [
        (id.to_string(), "licence.pdf"),
        (id.to_string(), "acceptance"),
        (id.to_string(), "acceptance.txt"),
        ("999999".to_string(), "acceptance.pdf"),
        ("abc".to_string(), "acceptance.pdf"),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/work/cases/{case}/documents/{kind}")))
            .bearer_auth(&clerk)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{case}/{kind}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("未找到") || page.contains("没有这种文书"),
            "{page}"
        );
    }

    // Without a session: the log-in page, never the document.
    let response = app
        .client
        .get(app.url(&format!("/work/cases/{id}/documents/acceptance.pdf")))
        .send()
        .await
        .expect("GET");
    assert!(
        response.url().path().starts_with("/login"),
        "{}",
        response.url()
    );
    let page = response.text().await.unwrap();
    assert!(!page.starts_with("%PDF"));
}

#[tokio::test]
async fn an_instant_item_has_its_notices_on_the_day() {
    let app = spawn_app().await;
    let receipt = app.apply(app.instant.id).await;
    let id = receipt["case_id"].as_i64().expect("a case id");
    let clerk = app.token(&app.people.clerk_a).await;
    let approver = app.token(&app.people.approver).await;
    app.act_ok(
        &clerk,
        id,
        json!({"action": "accept", "opinion": "当场受理"}),
    )
    .await;
    app.act_ok(
        &approver,
        id,
        json!({"action": "decide", "outcome": "approve", "opinion": "准予登记"}),
    )
    .await;
    app.act_ok(
        &clerk,
        id,
        json!({"action": "deliver", "method": "当场送达", "fees": [{"name": "工本费", "amount_fen": 1050}]}),
    )
    .await;
    let acceptance = document(&app, &clerk, id, "acceptance").await;
    if let Some(text) = text_of(&acceptance) {
        assert_contains(
            &text,
            &["受理通知书", "个体工商户设立登记", "即办件", "张三"],
        );
    }
    let completion = document(&app, &clerk, id, "completion").await;
    if let Some(text) = text_of(&completion) {
        assert_contains(
            &text,
            &[
                "办结通知书",
                "当场送达",
                "工本费10.50元",
                "衡山县张三餐饮店",
            ],
        );
    }
}
