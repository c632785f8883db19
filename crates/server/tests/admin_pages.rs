//! The administrator's pages, through the real server on a fresh SQLite file:
//! who may open them, the catalog editor (validation named per field, the
//! preview of the unsaved guide, saving, more rows, publishing), departments,
//! windows, people with their backups, absence, roles and passwords, calendar
//! overrides with the month view, and the cross-site guard of every form.
//! Dates come from the server's own calendar, never a hard-coded one.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use jiff::civil::Date;
use onewindow_core::calendar::{WorkCalendar, civil_date};
use onewindow_core::catalog::ItemStatus;
use onewindow_core::staff::Role;
use onewindow_store::catalog::ItemFilter;
use onewindow_store::staff::StaffMember;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use support::{PASSWORD, TestApp, spawn_app};

// ---------------------------------------------------------------------------
// A browser

/// Someone using the pages: redirects are not followed (a test sees the 303
/// and its target), the session is a bearer token or none.
struct Browser {
    client: reqwest::Client,
    token: Option<String>,
    base: String,
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Browser {
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

    async fn of(app: &TestApp, member: &StaffMember) -> Browser {
        Browser {
            token: Some(app.token(member).await),
            ..Browser::anonymous(app)
        }
    }

    fn request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn reply(response: reqwest::Response) -> Reply {
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

    async fn get(&self, path: &str) -> Reply {
        let response = self
            .request(self.client.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Browser::reply(response).await
    }

    /// A page that must answer 200.
    async fn page(&self, path: &str) -> String {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.body
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
        Browser::reply(response).await
    }

    /// Sends a multipart form (a file upload) as this site's own page does.
    async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Reply {
        let response = self
            .request(self.client.post(format!("{}{path}", self.base)))
            .header("Origin", self.base.clone())
            .multipart(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        Browser::reply(response).await
    }

    /// Follows a 303 and returns the page there.
    async fn follow(&self, reply: &Reply) -> String {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let location = reply.location.as_deref().expect("a location");
        self.page(location).await
    }
}

/// The page with askama's escapes undone.
fn unescape(html: &str) -> String {
    html.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// The opening tag of the element carrying `attribute` (e.g. `data-date="…"`).
fn tag_with<'a>(html: &'a str, attribute: &str) -> &'a str {
    let at = html
        .find(attribute)
        .unwrap_or_else(|| panic!("no {attribute} in the page"));
    let start = html[..at].rfind('<').expect("the tag's start");
    let end = at + html[at..].find('>').expect("the tag's end");
    &html[start..=end]
}

async fn item_count(app: &TestApp) -> i64 {
    app.store
        .items(&ItemFilter {
            limit: 1,
            ..ItemFilter::default()
        })
        .await
        .expect("count items")
        .1
}

// ---------------------------------------------------------------------------
// Who may open the pages

#[tokio::test]
async fn only_administrators_open_the_admin_pages_and_visitors_are_sent_to_log_in() {
    let app = spawn_app().await;
    let anonymous = Browser::anonymous(&app);
    for path in ["/admin", "/admin/items/new", "/admin/calendar"] {
        let reply = anonymous.get(path).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            reply.location.as_deref(),
            Some(format!("/login?next={path}").as_str())
        );
    }

    let clerk = Browser::of(&app, &app.people.clerk_a).await;
    let auditor = Browser::of(&app, &app.people.auditor).await;
    let edit = format!("/admin/items/{}/edit", app.item.id);
    let department = format!("/admin/departments/{}", app.department.id);
    for path in [
        "/admin",
        "/admin/items",
        "/admin/items/new",
        edit.as_str(),
        "/admin/departments",
        department.as_str(),
        "/admin/calendar",
    ] {
        for person in [&clerk, &auditor] {
            let reply = person.get(path).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                reply.body
            );
            assert!(reply.body.contains("无权进行此操作"), "{path}");
            assert!(reply.body.contains("岗位"), "{path}: the role is named");
        }
    }
    // Writing is refused the same way, and nothing is written.
    let before = item_count(&app).await;
    let reply = clerk
        .post("/admin/items/new", &guide_form("乡村民宿经营备案", "save"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = clerk
        .post(
            &format!("/admin/items/{}/status", app.item.id),
            &[("status", "suspended")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(item_count(&app).await, before);
    assert_eq!(
        app.store.item(app.item.id).await.unwrap().status,
        ItemStatus::Published
    );

    // The administrator's hub links everything, with its figures.
    let admin = Browser::of(&app, &app.people.admin).await;
    let hub = admin.page("/admin").await;
    for link in [
        "/admin/items",
        "/admin/items/new",
        "/admin/departments",
        "/admin/calendar",
        "/supervision/rules",
        "/admin/outbox",
    ] {
        assert!(hub.contains(&format!("href=\"{link}")), "{link} on the hub");
    }
    assert!(hub.contains("监察规则") && hub.contains("/admin/announcements"));
    // Two published items and one draft were seeded.
    assert!(
        hub.contains("<strong>2</strong><span>已发布</span>"),
        "{hub}"
    );
    assert!(hub.contains("<strong>1</strong><span>草稿</span>"));
}

// ---------------------------------------------------------------------------
// The catalog

/// A complete guide form with two materials (and a blank third row), two
/// steps, one fee and one item-specific form field.
fn guide_form(name: &'static str, action: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("department_id", "1"),
        ("version", ""),
        ("blank_rows", "3"),
        ("name", name),
        ("code", "000199001000"),
        ("implementing_code", "11430423MB1234567X4000199001000"),
        ("item_type", "confirmation"),
        ("category", "promised"),
        ("target", "both"),
        ("statutory_amount", "20"),
        ("statutory_unit", "working_days"),
        ("promised_amount", "5"),
        ("promised_unit", "working_days"),
        ("legal_basis", "《湖南省乡村民宿管理办法》第十二条"),
        ("conditions", "房屋权属清晰\n符合消防安全要求"),
        ("visits", "1"),
        ("materials[0].name", "乡村民宿经营备案表"),
        ("materials[0].required", "1"),
        ("materials[0].originals", "1"),
        ("materials[0].copies", "0"),
        ("materials[0].reason", "申请人申请意愿的书面表示"),
        ("materials[1].name", "营业执照"),
        ("materials[1].originals", "0"),
        ("materials[1].copies", "1"),
        ("materials[1].reason", "核验经营主体资格"),
        ("materials[2].name", ""),
        ("materials[2].required", "1"),
        ("materials[2].originals", "1"),
        ("materials[2].copies", "0"),
        ("materials[2].reason", ""),
        ("fees[0].name", "证照工本费"),
        ("fees[0].standard", "每证10元"),
        ("fees[0].amount_fen", "10"),
        ("fees[0].lower_bound_fen", ""),
        ("fees[0].legal_basis", "湘价费〔2020〕1号"),
        ("fees[1].name", ""),
        ("steps[0].name", "承办"),
        ("steps[0].role", "handler"),
        ("steps[0].limit_days", "3"),
        ("steps[1].name", "批准"),
        ("steps[1].role", "approver"),
        ("steps[1].limit_days", "2"),
        ("steps[2].name", ""),
        ("steps[2].role", "handler"),
        ("steps[2].limit_days", ""),
        ("form_fields[0].label", "民宿地址"),
        ("form_fields[0].key", "homestay_address"),
        ("form_fields[0].kind", "text"),
        ("form_fields[0].required", "1"),
        ("form_fields[0].options", ""),
        ("form_fields[0].hint", "填写到门牌号"),
        ("form_fields[1].label", ""),
        ("form_fields[1].kind", "text"),
        ("form_fields[1].required", "1"),
        ("location", "衡山县政务服务中心一楼C区"),
        ("office_hours", "工作日 8:30-12:00，14:30-17:30"),
        ("contact_phone", "0734-5822888"),
        ("complaint_phone", "12345"),
        ("aliases", "民宿备案"),
        ("life_events", "开办民宿"),
        ("action", action),
    ]
}

/// `form` with `name` set to `value`.
fn with<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    name: &str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    for pair in form.iter_mut().filter(|(k, _)| *k == name) {
        pair.1 = value;
    }
    form
}

/// The item id in `/admin/items/{id}/edit?...`.
fn edited_item(location: &str) -> i64 {
    location
        .strip_prefix("/admin/items/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("an item's edit page: {location}"))
}

#[tokio::test]
async fn an_item_is_written_through_the_form_previewed_saved_published_and_shown_publicly() {
    let app = spawn_app().await;
    assert_eq!(app.department.id, 1, "the form names department 1");
    let admin = Browser::of(&app, &app.people.admin).await;
    let anonymous = Browser::anonymous(&app);
    let before = item_count(&app).await;

    let blank = admin.page("/admin/items/new").await;
    assert!(
        blank.contains("name=\"materials[2].name\""),
        "three blank rows"
    );
    assert!(blank.contains("预览公开页面"));

    // A missing name and an unreadable fee: every problem named, in
    // Chinese, nothing saved, what was typed kept.
    let form = with(
        with(guide_form("", "save"), "fees[0].amount_fen", "十元"),
        "location",
        "",
    );
    let refused = admin.post("/admin/items/new", &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescape(&refused.body);
    assert!(page.contains("有3处需要修改"), "{page}");
    assert!(page.contains("href=\"#g-name\">事项名称</a>：事项名称不能为空"));
    assert!(page.contains("href=\"#g-location\">办理地点</a>：办理地点不能为空"));
    assert!(page.contains("收费第1行“金额”</a>：金额须为不小于0的数字"));
    assert!(
        page.contains("id=\"g-name-error\">事项名称不能为空"),
        "beside the field"
    );
    assert!(page.contains("value=\"营业执照\""), "typed rows stay");
    assert!(page.contains("value=\"十元\""));
    assert_eq!(item_count(&app).await, before, "nothing saved");

    // The preview shows the unsaved guide as the public sees it, saves nothing.
    let preview = admin
        .post(
            "/admin/items/new",
            &guide_form("乡村民宿经营备案", "preview"),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("预览：尚未保存"));
    assert!(preview.body.contains("乡村民宿经营备案"));
    assert!(preview.body.contains("乡村民宿经营备案表"));
    assert!(preview.body.contains("衡山县市场监督管理局"));
    let banner = preview.body.find("预览：尚未保存").unwrap();
    let guide = preview
        .body
        .find("<h1>乡村民宿经营备案</h1>")
        .expect("the guide's title");
    assert!(banner < guide, "the banner comes first");
    assert_eq!(item_count(&app).await, before, "a preview saves nothing");

    // Saved: a draft with the two filled materials (the blank row left out)
    // and the form field.
    let saved = admin
        .post("/admin/items/new", &guide_form("乡村民宿经营备案", "save"))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.location.clone().unwrap();
    let id = edited_item(&location);
    assert_eq!(item_count(&app).await, before + 1);
    let item = app.store.item(id).await.unwrap();
    assert_eq!(item.status, ItemStatus::Draft);
    let materials: Vec<_> = item
        .guide
        .materials
        .iter()
        .map(|m| (m.name.as_str(), m.required))
        .collect();
    assert_eq!(
        materials,
        [("乡村民宿经营备案表", true), ("营业执照", false)]
    );
    assert_eq!(item.guide.materials[1].copies, 1);
    assert_eq!(item.guide.fees.len(), 1);
    assert_eq!(item.guide.fees[0].amount_fen, 1000);
    assert_eq!(item.guide.steps.len(), 2);
    assert_eq!(item.guide.form_fields.len(), 1);
    assert_eq!(item.guide.form_fields[0].key, "homestay_address");
    assert_eq!(item.guide.conditions.len(), 2);
    let edit = admin.follow(&saved).await;
    assert!(edit.contains("事项已创建（草稿）"));
    assert!(edit.contains("value=\"homestay_address\""));
    // A draft is not public.
    assert_eq!(
        anonymous.get(&format!("/items/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Published from the list: the public guide shows it.
    let published = admin
        .post(
            &format!("/admin/items/{id}/status"),
            &[
                ("status", "published"),
                ("back", "/admin/items?status=draft&page=1"),
            ],
        )
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    assert_eq!(
        published.location.as_deref(),
        Some("/admin/items?status=draft&page=1&done=published")
    );
    let public = anonymous.page(&format!("/items/{id}")).await;
    assert!(public.contains("乡村民宿经营备案"));
    assert!(public.contains("营业执照"));
    assert!(public.contains("在线申请"));
    let listed = admin.page("/admin/items?q=民宿").await;
    assert!(listed.contains("乡村民宿经营备案") && listed.contains("已发布"));

    // More rows: saved, then the form comes back with six blank rows.
    let version = app.store.item(id).await.unwrap().version.to_string();
    let form = with(
        with(guide_form("乡村民宿经营备案", "more"), "version", &version),
        "department_id",
        "",
    );
    let more = admin.post(&format!("/admin/items/{id}/edit"), &form).await;
    assert_eq!(more.status, StatusCode::SEE_OTHER, "{}", more.body);
    let page = admin.follow(&more).await;
    assert!(page.contains("办事指南已保存"));
    let material_rows = page.matches("name=\"materials[").count() / 5;
    assert!(
        page.contains("name=\"materials[7].name\""),
        "2 rows + 6 blank"
    );
    assert!(
        !page.contains("name=\"materials[8].name\""),
        "{material_rows}"
    );

    // A save from a form opened on an older version is refused, not merged.
    let stale = with(
        guide_form("乡村民宿经营备案（改）", "save"),
        "version",
        &version,
    );
    let refused = admin.post(&format!("/admin/items/{id}/edit"), &stale).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("事项已被他人修改"));
    assert!(
        refused.body.contains("乡村民宿经营备案（改）"),
        "typed text kept"
    );
    assert_eq!(
        app.store.item(id).await.unwrap().guide.name,
        "乡村民宿经营备案"
    );

    // Suspended: still public, no longer taking applications.
    let suspended = admin
        .post(
            &format!("/admin/items/{id}/status"),
            &[("status", "suspended")],
        )
        .await;
    assert_eq!(
        suspended.location.as_deref(),
        Some(format!("/admin/items/{id}/edit?done=suspended").as_str())
    );
    assert_eq!(
        app.store.item(id).await.unwrap().status,
        ItemStatus::Suspended
    );
}

#[tokio::test]
async fn publishing_an_incomplete_draft_is_refused_with_its_problems() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;
    // A draft stored before the rules tightened: no materials.
    let mut guide = app.draft.guide.clone();
    guide.materials.clear();
    sqlx::query("UPDATE service_items SET guide = $1 WHERE id = $2")
        .bind(serde_json::to_string(&guide).unwrap())
        .bind(app.draft.id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let reply = admin
        .post(
            &format!("/admin/items/{}/status", app.draft.id),
            &[("status", "published")],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("未能将状态改为“已发布”"));
    assert!(reply.body.contains("申请材料清单不能为空"));
    assert_eq!(
        app.store.item(app.draft.id).await.unwrap().status,
        ItemStatus::Draft
    );
}

// ---------------------------------------------------------------------------
// Departments, windows and people

#[tokio::test]
async fn departments_windows_people_backups_and_absence_are_kept_through_the_pages() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;

    let created = admin
        .post(
            "/admin/departments",
            &[
                ("code", "wlj"),
                ("name", "衡山县文化旅游广电体育局"),
                ("level", "county"),
                ("parent_id", ""),
                ("region_code", ""),
                ("window_location", "政务服务中心二楼"),
                ("phone", "0734-5822777"),
                ("address", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let departments = app.store.departments().await.unwrap();
    let tourism = departments
        .iter()
        .find(|d| d.code == "wlj")
        .expect("created");
    assert_eq!(tourism.region_code, app.store.region_code());
    let path = format!("/admin/departments/{}", tourism.id);
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{path}?done=department").as_str())
    );
    let page = admin.follow(&created).await;
    assert!(page.contains("部门已创建"));
    // The same code again is refused, naming the field.
    let twice = admin
        .post(
            "/admin/departments",
            &[("code", "wlj"), ("name", "重复"), ("level", "county")],
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        twice.body.contains("编码：部门编码“wlj”已存在"),
        "{}",
        twice.body
    );
    assert!(twice.body.contains("value=\"重复\""), "typed values kept");

    // A window.
    let window = admin
        .post(
            &format!("{path}/windows"),
            &[("name", "B05 文旅综合窗口"), ("location", "二楼B区")],
        )
        .await;
    assert_eq!(window.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.windows(Some(tourism.id)).await.unwrap().len(), 1);

    // Two people, A and B.
    let person = |login: &'static str, name: &'static str, email: &'static str| {
        vec![
            ("name", name),
            ("login", login),
            ("role_handler", "1"),
            ("phone", "13807340099"),
            ("email", email),
            ("password", "wenlv-2026"),
            ("password_again", "wenlv-2026"),
        ]
    };
    let a = admin
        .post(
            &format!("{path}/staff"),
            &person("zhangwei", "张伟", "zhang.wei@hengshan.gov.cn"),
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let b = admin
        .post(&format!("{path}/staff"), &person("liuna", "刘娜", ""))
        .await;
    assert_eq!(b.status, StatusCode::SEE_OTHER, "{}", b.body);
    // Passwords typed differently: nothing created, the password not echoed.
    let mut mismatch = person("wangqiang", "王强", "");
    mismatch.last_mut().unwrap().1 = "wenlv-2027";
    let refused = admin.post(&format!("{path}/staff"), &mismatch).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("两次输入的密码不一致"));
    assert!(refused.body.contains("value=\"wangqiang\""));
    assert!(!refused.body.contains("wenlv-2026"));
    let staff = app.store.staff(Some(tourism.id)).await.unwrap();
    assert_eq!(staff.len(), 2);
    let (zhang, liu) = (&staff[0], &staff[1]);
    assert_eq!(zhang.roles, vec![Role::Handler]);
    assert_eq!(
        app.store.staff_emails(Some(tourism.id)).await.unwrap()[&zhang.id],
        "zhang.wei@hengshan.gov.cn"
    );
    app.login("zhangwei", "wenlv-2026").await;

    // Absent without a B is refused with the rule.
    let refused = admin
        .post(
            &format!("/admin/staff/{}/absence", zhang.id),
            &[("absent", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("该岗位未设置B角，不能登记缺岗"));

    // 刘娜 backs up 张伟, who is then marked absent.
    let backup_id = liu.id.to_string();
    let backup = admin
        .post(
            &format!("/admin/staff/{}/backup", zhang.id),
            &[("backup_id", backup_id.as_str())],
        )
        .await;
    assert_eq!(backup.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.staff_member(zhang.id).await.unwrap().backup_id,
        Some(liu.id)
    );
    let absent = admin
        .post(
            &format!("/admin/staff/{}/absence", zhang.id),
            &[("absent", "1")],
        )
        .await;
    assert_eq!(absent.status, StatusCode::SEE_OTHER);
    assert!(app.store.staff_member(zhang.id).await.unwrap().absent);
    let page = admin.follow(&absent).await;
    assert!(page.contains("已登记不在岗，其待办工作由B角办理"));
    assert!(page.contains("担任张伟的B角"));
    let row = &page[page.find(&format!("id=\"staff-{}\"", zhang.id)).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("不在岗") && row.contains("登记返岗"), "{row}");

    // B cannot be away at the same time.
    let refused = admin
        .post(
            &format!("/admin/staff/{}/absence", liu.id),
            &[("absent", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("A、B角不能同时缺岗"));
    assert!(!app.store.staff_member(liu.id).await.unwrap().absent);

    // The person's own page: roles and e-mail change, the password is reset.
    let staff_path = format!("/admin/staff/{}", zhang.id);
    let page = admin.page(&staff_path).await;
    assert!(page.contains("zhang.wei@hengshan.gov.cn"));
    let profile = admin
        .post(
            &staff_path,
            &[
                ("name", "张伟"),
                ("role_handler", "1"),
                ("role_reviewer", "1"),
                ("phone", "13807340099"),
                ("email", "zw@hengshan.gov.cn"),
            ],
        )
        .await;
    assert_eq!(profile.status, StatusCode::SEE_OTHER, "{}", profile.body);
    assert_eq!(
        app.store.staff_member(zhang.id).await.unwrap().roles,
        vec![Role::Handler, Role::Reviewer]
    );
    let refused = admin
        .post(
            &staff_path,
            &[
                ("name", "张伟"),
                ("role_admin", "1"),
                ("role_audit_admin", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("三员") || refused.body.contains("须由不同人员担任"));
    let reset = admin
        .post(
            &format!("{staff_path}/password"),
            &[
                ("password", "new-pass-2026"),
                ("password_again", "new-pass-2026"),
            ],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert!(admin.follow(&reset).await.contains("密码已重置"));
    app.login("zhangwei", "new-pass-2026").await;

    // Renamed department.
    let renamed = admin
        .post(
            &path,
            &[
                ("name", "衡山县文化旅游局"),
                ("level", "county"),
                ("window_location", "政务服务中心二楼"),
                ("phone", "0734-5822777"),
                ("address", "衡山县开云镇"),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.department(tourism.id).await.unwrap().name,
        "衡山县文化旅游局"
    );
}

// ---------------------------------------------------------------------------
// The calendar

#[tokio::test]
async fn a_handler_who_leaves_the_post_hands_on_the_cases_and_the_page_says_so() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;
    let case_id = app.submit_at(jiff::Timestamp::now()).await;
    app.accept_at(case_id, jiff::Timestamp::now()).await;
    let handler_a = &app.people.handler_a;
    assert_eq!(
        app.store.case(case_id).await.unwrap().assignee_id,
        Some(handler_a.id)
    );

    let saved = admin
        .post(
            &format!("/admin/staff/{}", handler_a.id),
            &[
                ("name", handler_a.name.as_str()),
                ("role_reviewer", "1"),
                ("phone", handler_a.phone.as_str()),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = admin.follow(&saved).await;
    assert!(page.contains("已转交本部门相应岗位人员办理"), "{page}");
    let handed = app.store.case(case_id).await.unwrap().assignee_id;
    assert!(
        handed.is_some_and(|id| id != handler_a.id),
        "the case went to another handler: {handed:?}"
    );

    // A change that leaves the post as it was says only that it was saved.
    let renamed = admin
        .post(
            &format!("/admin/staff/{}", handler_a.id),
            &[
                ("name", "李明明"),
                ("role_reviewer", "1"),
                ("phone", handler_a.phone.as_str()),
                ("email", ""),
            ],
        )
        .await;
    let page = admin.follow(&renamed).await;
    assert!(page.contains("人员信息已保存"), "{page}");
    assert!(!page.contains("已转交"), "{page}");
}

#[tokio::test]
async fn an_override_is_listed_and_its_day_shown_closed_until_revoked() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;
    let calendar = app.store.calendar_for(app.store.region_code());
    // A working day of next month, as the server's own calendar has it.
    let next_month = civil_date(jiff::Timestamp::now())
        .first_of_month()
        .checked_add(jiff::Span::new().months(1))
        .unwrap();
    let day: Date =
        calendar.next_working_day_from(next_month.checked_add(jiff::Span::new().days(9)).unwrap());
    let date = day.to_string();
    let cell = format!("data-date=\"{date}\"");

    let page = admin.page("/admin/calendar").await;
    assert!(
        tag_with(&page, &cell).contains("day-workday"),
        "a working day first"
    );

    // The reason is required.
    let refused = admin
        .post(
            "/admin/calendar",
            &[
                ("date", &date),
                ("kind", "closure"),
                ("region", ""),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("请填写调整原因"));
    assert!(app.store.overrides().await.unwrap().is_empty());

    let added = admin
        .post(
            "/admin/calendar",
            &[
                ("date", &date),
                ("kind", "closure"),
                ("region", ""),
                ("reason", "受强降雨影响，按县人民政府通知停止对外办公"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = admin.follow(&added).await;
    assert!(page.contains("已登记日历调整"), "the effect is reported");
    assert!(page.contains("期限"));
    assert!(page.contains("受强降雨影响，按县人民政府通知停止对外办公"));
    let row = &page[page.find("id=\"override-").expect("the override's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("系统管理员"), "who added it: {row}");
    assert!(row.contains("生效中"));
    let tag = tag_with(&page, &cell);
    assert!(
        tag.contains("day-holiday") && tag.contains("day-override"),
        "{tag}"
    );
    assert!(tag.contains("停止办公"), "{tag}");

    // Revoked: listed as such, the day works again.
    let id = app.store.overrides().await.unwrap()[0].day.id;
    let revoked = admin
        .post(
            &format!("/admin/calendar/{id}/revoke"),
            &[("reason", "通知已撤回"), ("month", "")],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let page = admin.follow(&revoked).await;
    assert!(page.contains("已撤销日历调整"));
    assert!(page.contains("通知已撤回"));
    assert!(tag_with(&page, &cell).contains("day-workday"));
}

// ---------------------------------------------------------------------------
// Cross-site requests

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;
    let evil = "http://evil.example";
    let before = app.store.departments().await.unwrap().len();
    let reply = admin
        .post_from(
            "/admin/departments",
            &[("code", "evil"), ("name", "冒名部门"), ("level", "county")],
            evil,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("请求来源校验未通过"));
    assert_eq!(app.store.departments().await.unwrap().len(), before);

    let items = item_count(&app).await;
    let reply = admin
        .post_from(
            "/admin/items/new",
            &guide_form("乡村民宿经营备案", "save"),
            evil,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(item_count(&app).await, items);

    for path in [
        format!("/admin/items/{}/status", app.item.id),
        format!("/admin/staff/{}/password", app.people.clerk_a.id),
        format!("/admin/staff/{}/absence", app.people.clerk_a.id),
        "/admin/calendar".to_string(),
    ] {
        let reply = admin
            .post_from(
                &path,
                &[
                    ("status", "suspended"),
                    ("password", "hijacked-2026"),
                    ("password_again", "hijacked-2026"),
                    ("absent", "1"),
                    ("date", "2030-01-02"),
                    ("kind", "closure"),
                    ("reason", "x"),
                ],
                evil,
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        app.store.item(app.item.id).await.unwrap().status,
        ItemStatus::Published
    );
    assert!(
        !app.store
            .staff_member(app.people.clerk_a.id)
            .await
            .unwrap()
            .absent
    );
    app.login(&app.people.clerk_a.login, PASSWORD).await;
}

// ---------------------------------------------------------------------------
// A material's blank form and filled sample

/// A small PDF whose bytes say `text`.
fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n%\u{e2}\u{e3}\n1 0 obj<</Title({text})>>endobj\ntrailer<<>>\n%%EOF\n")
        .into_bytes()
}

/// The smallest PNG signature and header the content check recognises.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

/// The form a material's file row sends: upload `file` as its `kind`
/// (template or sample), or remove it when `file` is None.
fn file_form(
    version: i64,
    material: &str,
    kind: &str,
    file: Option<(&str, Vec<u8>)>,
) -> reqwest::multipart::Form {
    let form = reqwest::multipart::Form::new()
        .text("version", version.to_string())
        .text("material", material.to_string())
        .text("kind", kind.to_string());
    match file {
        Some((name, bytes)) => form.text("action", "upload").part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        ),
        None => form.text("action", "remove"),
    }
}

/// The links of a guide page to the item's files, with their text.
fn file_links(html: &str, item_id: i64) -> Vec<(String, String)> {
    let prefix = format!("<a href=\"/items/{item_id}/files/");
    html.match_indices(&prefix)
        .map(|(at, _)| {
            let rest = &html[at + "<a href=\"".len()..];
            let href = &rest[..rest.find('"').expect("the link's end")];
            let text = &rest[rest.find('>').expect("the tag's end") + 1..];
            let text = &text[..text.find("</a>").expect("the link's text")];
            (href.to_string(), text.to_string())
        })
        .collect()
}

async fn download(app: &TestApp, href: &str) -> (StatusCode, Vec<u8>) {
    let response = reqwest::get(format!("{}{href}", app.base))
        .await
        .expect("the download answers");
    let status = response.status();
    (status, response.bytes().await.expect("a body").to_vec())
}

#[tokio::test]
async fn a_materials_blank_form_and_sample_are_uploaded_linked_on_the_guide_replaced_and_removed() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;
    let item = &app.item;
    let material = item.guide.materials[0].name.clone();
    let edit = format!("/admin/items/{}/edit", item.id);
    let upload = format!("/admin/items/{}/materials/0/files", item.id);
    let page = admin.page(&edit).await;
    assert!(
        page.contains(&format!("action=\"{upload}\"")),
        "the editor offers an upload for the first material"
    );
    let guide = format!("/items/{}", item.id);
    assert!(file_links(&admin.page(&guide).await, item.id).is_empty());

    // A blank form: the guide links it and serves the same bytes to anyone.
    let blank = pdf("blank form");
    let reply = admin
        .post_multipart(
            &upload,
            file_form(
                item.version,
                &material,
                "template",
                Some(("申请书.pdf", blank.clone())),
            ),
        )
        .await;
    assert!(admin.follow(&reply).await.contains("文件已上传"));
    let links = file_links(&Browser::anonymous(&app).page(&guide).await, item.id);
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0].1, "空白表格");
    assert_eq!(download(&app, &links[0].0).await, (StatusCode::OK, blank));

    // A sample beside it, as a picture; then the blank replaced.
    let version = app.store.item(item.id).await.expect("the item").version;
    let reply = admin
        .post_multipart(
            &upload,
            file_form(
                version,
                &material,
                "sample",
                Some(("样例.png", PNG.to_vec())),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let version = app.store.item(item.id).await.expect("the item").version;
    let newer = pdf("blank form, 2026 edition");
    let reply = admin
        .post_multipart(
            &upload,
            file_form(
                version,
                &material,
                "template",
                Some(("申请书（新版）.pdf", newer.clone())),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let replaced = file_links(&admin.page(&guide).await, item.id);
    let texts: Vec<&str> = replaced.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["空白表格", "填写样例"]);
    assert_eq!(
        download(&app, &replaced[0].0).await,
        (StatusCode::OK, newer)
    );
    assert_eq!(
        download(&app, &replaced[1].0).await,
        (StatusCode::OK, PNG.to_vec())
    );
    assert_eq!(
        download(&app, &links[0].0).await.0,
        StatusCode::NOT_FOUND,
        "the replaced blank is no longer served"
    );

    // The blank removed: only the sample is left.
    let version = app.store.item(item.id).await.expect("the item").version;
    let reply = admin
        .post_multipart(&upload, file_form(version, &material, "template", None))
        .await;
    assert!(admin.follow(&reply).await.contains("文件已删除"));
    let left = file_links(&admin.page(&guide).await, item.id);
    assert_eq!(left, replaced[1..].to_vec());
    let stored = app.store.item(item.id).await.expect("the item");
    assert_eq!(stored.guide.materials[0].template_file, None);
    assert!(stored.guide.materials[0].sample_file.is_some());
}

#[tokio::test]
async fn a_pdf_that_is_really_text_or_a_stale_page_changes_nothing_and_says_why() {
    let app = spawn_app().await;
    let admin = Browser::of(&app, &app.people.admin).await;
    let item = &app.item;
    let material = item.guide.materials[1].name.clone();
    let upload = format!("/admin/items/{}/materials/1/files", item.id);

    let text = "这是一份文本文件，不是PDF".as_bytes().to_vec();
    let reply = admin
        .post_multipart(
            &upload,
            file_form(
                item.version,
                &material,
                "template",
                Some(("申请表.pdf", text)),
            ),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let body = unescape(&reply.body);
    assert!(
        body.contains(&format!("申请材料“{material}”的空白表格未上传"))
            && body.contains("内容不是允许的格式"),
        "the refusal names the material and the problem: {body}"
    );
    assert_eq!(app.store.item(item.id).await.expect("the item"), *item);

    // A page opened before someone else's save, or naming another material.
    let stale = admin
        .post_multipart(
            &upload,
            file_form(
                item.version - 1,
                &material,
                "sample",
                Some(("样例.pdf", pdf("x"))),
            ),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("已被他人修改"));
    let elsewhere = admin
        .post_multipart(
            &upload,
            file_form(
                item.version,
                "不存在的材料",
                "sample",
                Some(("样例.pdf", pdf("x"))),
            ),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::CONFLICT, "{}", elsewhere.body);
    assert_eq!(app.store.item(item.id).await.expect("the item"), *item);

    // Nor can the guide form attach a stored file by typing its id.
    let file = app
        .store
        .store_file(
            onewindow_store::files::NewFile {
                name: "他人的材料.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: pdf("someone's material"),
            },
            jiff::Timestamp::now(),
        )
        .await
        .expect("a stored file");
    let id = file.id.to_string();
    let mut form = guide_form("乡村民宿经营备案", "save");
    form.push(("materials[0].template_file", &id));
    let created = admin.post("/admin/items/new", &form).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.as_deref().expect("a location");
    let stored = app
        .store
        .item(edited_item(location))
        .await
        .expect("the new item");
    assert_eq!(stored.guide.materials[0].template_file, None);
}
