//! The harness of the API tests: a real server on `127.0.0.1:0` over a fresh
//! SQLite file, seeded through the store with two departments, their staff
//! (window clerks A and B, handlers A and B, a reviewer, an approver, the
//! admins) and a published item with three steps, a published instant item
//! and an item still in draft.

use jiff::Timestamp;
use onewindow_core::calendar::TimeLimit;
use onewindow_core::catalog::{
    Guide, HandlingCategory, ItemStatus, ItemType, Material, RegionLevel, Step, Target,
};
use onewindow_core::staff::Role;
use onewindow_server::{AppState, Settings};
use onewindow_store::cases::CaseFilter;
use onewindow_store::catalog::ServiceItem;
use onewindow_store::staff::{Department, NewDepartment, NewStaff, StaffMember, hash_password};
use onewindow_store::{Store, StoreOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

/// Everyone's password (the store wants at least 8 characters).
pub const PASSWORD: &str = "hengshan-2026";
/// The applicant's mobile number.
pub const PHONE: &str = "13807341234";
/// The largest upload the test server accepts.
pub const MAX_UPLOAD: usize = 64 * 1024;
/// The smallest file `infer` recognises as a PDF.
pub const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// The people of the seeded departments.
pub struct People {
    /// Window clerk A (王芳), backed up by clerk B.
    pub clerk_a: StaffMember,
    /// Window clerk B (赵丽).
    pub clerk_b: StaffMember,
    /// Handler A (李明), the post holder of the handling step, backed up by B.
    pub handler_a: StaffMember,
    /// Handler B (周强), backed up by handler C.
    pub handler_b: StaffMember,
    pub handler_c: StaffMember,
    pub reviewer: StaffMember,
    pub approver: StaffMember,
    pub admin: StaffMember,
    pub auditor: StaffMember,
    /// A window clerk of the second department.
    pub other_clerk: StaffMember,
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub store: Store,
    /// A client without a cookie store: a request carries a session only when
    /// a test gives it a token.
    pub client: reqwest::Client,
    pub department: Department,
    pub other_department: Department,
    pub people: People,
    /// 食品经营许可（新办）: promised, steps handler, reviewer, approver.
    pub item: ServiceItem,
    /// 个体工商户设立登记: instant, no steps.
    pub instant: ServiceItem,
    /// An item still in draft.
    pub draft: ServiceItem,
    pub _dir: TempDir,
}

fn seeder() -> String {
    "system".into()
}

fn material(name: &str, reason: &str) -> Material {
    Material {
        name: name.into(),
        required: true,
        originals: 1,
        copies: 0,
        reason: reason.into(),
        template_file: None,
        sample_file: None,
    }
}

fn step(name: &str, role: Role, limit_days: u32) -> Step {
    Step {
        name: name.into(),
        role,
        limit_days,
    }
}

pub fn food_guide(code: &str, name: &str) -> Guide {
    Guide {
        name: name.into(),
        code: code.into(),
        implementing_code: format!("11430423MB1234567X4{code}"),
        item_type: ItemType::License,
        category: HandlingCategory::Promised,
        target: Target::Enterprise,
        statutory_limit: TimeLimit::working_days(20),
        promised_limit: TimeLimit::working_days(5),
        legal_basis: "《中华人民共和国食品安全法》第三十五条".into(),
        conditions: vec!["具有与经营的食品品种、数量相适应的经营场所".into()],
        materials: vec![
            material("食品经营许可申请书", "申请人申请意愿的书面表示"),
            material("营业执照", "核验申请人主体资格"),
        ],
        fees: vec![],
        steps: vec![
            step("承办", Role::Handler, 2),
            step("审核", Role::Reviewer, 2),
            step("批准", Role::Approver, 1),
        ],
        visits: 1,
        location: "衡山县政务服务中心一楼A区".into(),
        office_hours: "工作日 8:30-12:00，14:30-17:30".into(),
        contact_phone: "0734-5822315".into(),
        complaint_phone: "0734-12345".into(),
        aliases: vec!["餐饮许可".into()],
        life_events: vec![],
        form_fields: vec![],
    }
}

fn instant_guide() -> Guide {
    Guide {
        category: HandlingCategory::Instant,
        target: Target::Both,
        statutory_limit: TimeLimit::working_days(3),
        promised_limit: TimeLimit::working_days(0),
        steps: vec![],
        legal_basis: "《促进个体工商户发展条例》".into(),
        materials: vec![material("市场主体登记申请书", "记载申请登记事项")],
        aliases: vec![],
        ..food_guide("000101001000", "个体工商户设立登记")
    }
}

async fn department(store: &Store, code: &str, name: &str) -> Department {
    store
        .create_department(
            seeder(),
            NewDepartment {
                code: code.into(),
                name: name.into(),
                level: RegionLevel::County,
                parent_id: None,
                region_code: "430423".into(),
                window_location: "政务服务中心一楼A区".into(),
                phone: "0734-5822315".into(),
                address: "衡山县开云镇".into(),
            },
            Timestamp::now(),
        )
        .await
        .expect("create a department")
}

/// Creates people with one password hashed once (argon2 is slow on purpose).
struct Hiring<'a> {
    store: &'a Store,
    hash: String,
}

impl Hiring<'_> {
    async fn person(
        &self,
        department: &Department,
        login: &str,
        name: &str,
        roles: &[Role],
    ) -> StaffMember {
        self.store
            .insert_staff(
                seeder(),
                NewStaff {
                    login: login.into(),
                    name: name.into(),
                    department_id: department.id,
                    roles: roles.to_vec(),
                    password: PASSWORD.into(),
                    phone: "13807340000".into(),
                },
                self.hash.clone(),
                Timestamp::now(),
            )
            .await
            .expect("create a staff member")
    }
}

async fn backed_up(store: &Store, a: &StaffMember, b: &StaffMember) -> StaffMember {
    store
        .set_backup(seeder(), a.id, Some(b.id), Timestamp::now())
        .await
        .expect("set a backup");
    store.staff_member(a.id).await.expect("reload")
}

async fn published(store: &Store, department: &Department, guide: Guide) -> ServiceItem {
    let now = Timestamp::now();
    let item = store
        .create_item(seeder(), department.id, guide, now)
        .await
        .expect("create an item");
    store
        .set_item_status(seeder(), item.id, ItemStatus::Published, now)
        .await
        .expect("publish the item")
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("onewindow.db");
    let store = Store::connect(&StoreOptions::new(format!("sqlite:{}", path.display())))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");

    // The audit test counts on entry 3 being a staff member's creation, so
    // the two departments come first.
    let market = department(&store, "scjgj", "衡山县市场监督管理局").await;
    let housing = department(&store, "zjj", "衡山县住房和城乡建设局").await;
    let hiring = Hiring {
        store: &store,
        hash: hash_password(PASSWORD).expect("hash the password"),
    };
    let clerk_a = hiring
        .person(&market, "wangfang", "王芳", &[Role::WindowClerk])
        .await;
    let clerk_b = hiring
        .person(&market, "zhaoli", "赵丽", &[Role::WindowClerk])
        .await;
    let handler_a = hiring
        .person(&market, "liming", "李明", &[Role::Handler])
        .await;
    let handler_b = hiring
        .person(&market, "zhouqiang", "周强", &[Role::Handler])
        .await;
    let handler_c = hiring
        .person(&market, "sunwei", "孙伟", &[Role::Handler])
        .await;
    let reviewer = hiring
        .person(&market, "chenjing", "陈静", &[Role::Reviewer])
        .await;
    let approver = hiring
        .person(&market, "liuyang", "刘洋", &[Role::Approver])
        .await;
    let admin = hiring
        .person(&market, "admin", "系统管理员", &[Role::Admin])
        .await;
    let auditor = hiring
        .person(&market, "auditor", "安全审计员", &[Role::AuditAdmin])
        .await;
    let other_clerk = hiring
        .person(&housing, "huangmin", "黄敏", &[Role::WindowClerk])
        .await;
    let clerk_a = backed_up(&store, &clerk_a, &clerk_b).await;
    let handler_a = backed_up(&store, &handler_a, &handler_b).await;
    let handler_b = backed_up(&store, &handler_b, &handler_c).await;

    let item = published(
        &store,
        &market,
        food_guide("000117001000", "食品经营许可（新办）"),
    )
    .await;
    let instant = published(&store, &market, instant_guide()).await;
    let draft = store
        .create_item(
            seeder(),
            market.id,
            food_guide("000117002000", "食品经营许可（变更）"),
            Timestamp::now(),
        )
        .await
        .expect("create a draft item");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port");
    let address = listener.local_addr().expect("the bound address");
    let state = AppState::new(
        store.clone(),
        Settings {
            max_upload_bytes: MAX_UPLOAD,
            ..Default::default()
        },
    );
    tokio::spawn(async move { onewindow_server::serve(listener, state).await });
    TestApp {
        base: format!("http://{address}"),
        store,
        client: reqwest::Client::new(),
        department: market,
        other_department: housing,
        people: People {
            clerk_a,
            clerk_b,
            handler_a,
            handler_b,
            handler_c,
            reviewer,
            approver,
            admin,
            auditor,
            other_clerk,
        },
        item,
        instant,
        draft,
        _dir: dir,
    }
}

/// The body of an online application for `item_id` by 张三.
pub fn application(item_id: i64) -> Value {
    json!({
        "item_id": item_id,
        "applicant": { "name": "张三", "phone": PHONE, "organization": "衡山县张三餐饮店" },
        "form": { "经营场所": "衡山县开云镇建设路1号" },
    })
}

/// Reads a response as JSON; a body that is not JSON fails the test with it.
pub async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("a body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a JSON body ({e}), got {status}: {text}"));
    (status, value)
}

impl TestApp {
    /// A supervisor (督查员吴刚, log-in jiancha) of a new supervision centre.
    pub async fn hire_supervisor(&self) -> StaffMember {
        let now = Timestamp::now();
        let centre = self
            .store
            .create_department(
                "system".into(),
                NewDepartment {
                    code: "dzjc".into(),
                    name: "衡山县电子监察中心".into(),
                    level: RegionLevel::County,
                    parent_id: None,
                    region_code: "430423".into(),
                    window_location: "政务服务中心三楼".into(),
                    phone: "0734-5822000".into(),
                    address: "衡山县开云镇".into(),
                },
                now,
            )
            .await
            .expect("create the supervision centre");
        self.store
            .insert_staff(
                "system".into(),
                NewStaff {
                    login: "jiancha".into(),
                    name: "督查员吴刚".into(),
                    department_id: centre.id,
                    roles: vec![Role::Supervisor],
                    password: PASSWORD.into(),
                    phone: "13807340001".into(),
                },
                hash_password(PASSWORD).expect("hash the password"),
                now,
            )
            .await
            .expect("create the supervisor")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn login(&self, login: &str, password: &str) -> String {
        let (status, body) = json_of(
            self.client
                .post(self.url("/api/v1/auth/login"))
                .json(&json!({ "login": login, "password": password }))
                .send()
                .await
                .expect("POST /api/v1/auth/login"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "log-in of {login}: {body}");
        body["token"].as_str().expect("a token").to_string()
    }

    /// The token of a seeded person.
    pub async fn token(&self, member: &StaffMember) -> String {
        self.login(&member.login, PASSWORD).await
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        json_of(request.send().await.expect("GET")).await
    }

    pub async fn post(
        &self,
        token: Option<&str>,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        json_of(request.send().await.expect("POST")).await
    }

    pub async fn put(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        json_of(
            self.client
                .put(self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .await
                .expect("PUT"),
        )
        .await
    }

    /// Applies online for `item_id` and returns the receipt.
    pub async fn apply(&self, item_id: i64) -> Value {
        let (status, receipt) = self
            .post(None, "/api/v1/applications", &application(item_id), None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "apply: {receipt}");
        receipt
    }

    /// An online application for the food licence filed at `at` through
    /// the store (the API files only now). Returns the case's id.
    pub async fn submit_at(&self, at: Timestamp) -> i64 {
        use onewindow_core::case::{Applicant, Channel};
        use onewindow_store::cases::NewCase;
        self.store
            .submit_case(
                NewCase {
                    item_id: self.item.id,
                    channel: Channel::Online,
                    applicant: Applicant {
                        name: "张三".into(),
                        phone: PHONE.into(),
                        id_number: String::new(),
                        organization: "衡山县张三餐饮店".into(),
                    },
                    form: json!({}),
                    materials: vec![],
                    registered_by: None,
                },
                None,
                at,
            )
            .await
            .expect("submit a case")
            .case
            .id
    }

    /// Window clerk B accepts case `case_id` at `at`, decided through the
    /// store on the calendar in force as the server decides it (the API
    /// accepts only now).
    pub async fn accept_at(&self, case_id: i64, at: Timestamp) {
        use onewindow_core::case::Command;
        use onewindow_store::cases::Who;
        let store = self.store.clone();
        self.store
            .apply_command(
                case_id,
                None,
                Who::Staff(self.people.clerk_b.id),
                None,
                at,
                move |context| {
                    let calendar = store.calendar_for(&context.region);
                    let command = Command::Accept {
                        opinion: "材料齐全，予以受理".into(),
                    };
                    let transition = onewindow_core::case::decide(
                        &context.case.facts,
                        &command,
                        &context.item.guide.rules(),
                        calendar.as_ref(),
                        at,
                    )?;
                    Ok((transition, None))
                },
            )
            .await
            .expect("accept the case");
    }

    /// Gives a command on a case.
    pub async fn act(&self, token: &str, case_id: i64, command: Value) -> (StatusCode, Value) {
        self.post(
            Some(token),
            &format!("/api/v1/cases/{case_id}/actions"),
            &command,
            None,
        )
        .await
    }

    /// Gives a command that must succeed; returns the case after it.
    pub async fn act_ok(&self, token: &str, case_id: i64, command: Value) -> Value {
        let (status, case) = self.act(token, case_id, command.clone()).await;
        assert_eq!(status, StatusCode::OK, "{command}: {case}");
        case
    }

    /// A case as staff see it.
    pub async fn case(&self, token: &str, case_id: i64) -> Value {
        let (status, case) = self
            .get(Some(token), &format!("/api/v1/cases/{case_id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "GET case {case_id}: {case}");
        case
    }

    /// The public look-up by number and phone.
    pub async fn lookup(&self, number: &str, phone: &str) -> (StatusCode, Value) {
        use onewindow_server::auth::urlencode;
        let path = format!(
            "/api/v1/lookup?number={}&phone={}",
            urlencode(number),
            urlencode(phone)
        );
        self.get(None, &path).await
    }

    /// How many cases the store holds.
    pub async fn case_count(&self) -> i64 {
        self.store
            .cases(&CaseFilter::default())
            .await
            .expect("count cases")
            .1
    }
}
