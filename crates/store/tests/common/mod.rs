//! The store test harness: a fresh database per test on every backend, and the
//! fixtures the stories share (a fixed clock, a department with its staff, a
//! published item, the decide function the server would pass).
//!
//! Every story runs through [`for_each_backend`]: first on a new SQLite file
//! in a temporary directory, then, when PostgreSQL is reachable, on a new
//! database created for the test and dropped after it (also when the test
//! panics, through [`PgDatabase`]'s `Drop`). PostgreSQL is found at
//! `TEST_DATABASE_URL`, by default `postgres://postgres@127.0.0.1:5432/test`;
//! that database is only used to create and drop the per-test ones. When it
//! does not answer, the stories run on SQLite only, after a notice (or fail,
//! with `TEST_REQUIRE_POSTGRES=1`).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use onewindow_core::calendar::TimeLimit;
use onewindow_core::calendar::WeekendCalendar;
use onewindow_core::case::{Applicant, Case, Channel, Command, Outcome, Transition};
use onewindow_core::catalog::RegionLevel;
use onewindow_core::catalog::{
    Guide, HandlingCategory, ItemStatus, ItemType, Material, Step, Target,
};
use onewindow_core::staff::Role;
use onewindow_store::cases::{Applied, CaseContext, NewCase, Who, assignee_facts};
use onewindow_store::catalog::ServiceItem;
use onewindow_store::files::NewFile;
use onewindow_store::staff::{Department, NewDepartment, NewStaff, StaffMember};
use onewindow_store::{Backend, Store, StoreError, StoreOptions};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use tempfile::TempDir;
use tokio::sync::OnceCell;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The fixed "now" of the stories: Monday 2026-11-23, 10:00 in Shanghai.
pub fn now() -> Timestamp {
    at("2026-11-23T02:00:00Z")
}

pub fn at(instant: &str) -> Timestamp {
    instant.parse().expect("a valid RFC 3339 instant")
}

/// `now()` plus some hours (for events later the same day or on later days).
pub fn later(hours: i64) -> Timestamp {
    now()
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .expect("in range")
}

// ---------------------------------------------------------------------------
// Backends.

/// Which databases the stories run on in this process.
enum Engine {
    Sqlite,
    Postgres { admin_url: String },
}

/// The PostgreSQL admin URL when the server answers, decided once per process.
///
/// Unreachable, the PostgreSQL runs are skipped with a notice; with
/// `TEST_REQUIRE_POSTGRES=1` (for CI) that is a failure instead.
async fn postgres_admin_url() -> Option<String> {
    static REACHABLE: OnceCell<Option<String>> = OnceCell::const_new();
    REACHABLE
        .get_or_init(|| async {
            sqlx::any::install_default_drivers();
            let url = std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|url| !url.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_string());
            let attempt =
                tokio::time::timeout(Duration::from_secs(5), AnyConnection::connect(&url)).await;
            let problem = match attempt {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    return Some(url);
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer within 5 s".to_string(),
            };
            if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("PostgreSQL not reachable at {url} ({problem}) and TEST_REQUIRE_POSTGRES=1");
            }
            eprintln!(
                "PostgreSQL not reachable at {url} ({problem}): skipping PostgreSQL store tests"
            );
            None
        })
        .await
        .clone()
}

async fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    if let Some(admin_url) = postgres_admin_url().await {
        engines.push(Engine::Postgres { admin_url });
    }
    engines
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let mut out = match base[authority_start..].find('/') {
        Some(slash) => format!("{}/{database}", &base[..authority_start + slash]),
        None => format!("{base}/{database}"),
    };
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("random bytes");
    hex::encode(buffer)
}

/// A database created for one test; dropped when this value is.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    dropped: bool,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> PgDatabase {
        let name = format!("ow_test_{}", random_hex(8));
        let mut admin = AnyConnection::connect(admin_url)
            .await
            .expect("connect to the PostgreSQL admin database");
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        PgDatabase {
            admin_url: admin_url.to_string(),
            name,
            dropped: false,
        }
    }

    fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }

    async fn drop_now(&mut self) {
        drop_database(&self.admin_url, &self.name).await;
        self.dropped = true;
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    // WITH (FORCE) (PostgreSQL 13+) ends the connections a panicking test
    // left open.
    match AnyConnection::connect(admin_url).await {
        Ok(mut admin) => {
            if let Err(e) = admin
                .execute(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await
            {
                eprintln!("could not drop test database {name}: {e}");
            }
            let _ = admin.close().await;
        }
        Err(e) => eprintln!("could not drop test database {name}: {e}"),
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // A test failed before `finish`: drop the database from a thread of
        // its own with its own runtime, since Drop cannot await.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(drop_database(&admin_url, &name));
        })
        .join();
    }
}

/// A migrated store on a fresh database, with what keeps that database alive.
pub struct TestStore {
    pub store: Store,
    pub label: String,
    _sqlite_dir: Option<TempDir>,
    postgres: Option<PgDatabase>,
}

impl TestStore {
    async fn open(engine: &Engine) -> TestStore {
        sqlx::any::install_default_drivers();
        let (url, label, sqlite_dir, postgres) = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("onewindow.db");
                let url = format!("sqlite:{}", path.display());
                (url, "SQLite".to_string(), Some(dir), None)
            }
            Engine::Postgres { admin_url } => {
                let database = PgDatabase::create(admin_url).await;
                let label = format!("PostgreSQL database {}", database.name);
                (database.url(), label, None, Some(database))
            }
        };
        let store = Store::connect(&StoreOptions::new(url))
            .await
            .unwrap_or_else(|e| panic!("connect to {label}: {e}"));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate {label}: {e}"));
        TestStore {
            store,
            label,
            _sqlite_dir: sqlite_dir,
            postgres,
        }
    }

    async fn finish(mut self) {
        self.store.close().await;
        if let Some(database) = self.postgres.as_mut() {
            database.drop_now().await;
        }
    }
}

/// Runs `test` on a fresh, migrated store of every backend, one after the
/// other.
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    for engine in engines().await {
        let test_store = TestStore::open(&engine).await;
        eprintln!("-- on {}", test_store.label);
        test(test_store.store.clone()).await;
        test_store.finish().await;
    }
}

// ---------------------------------------------------------------------------
// Fixtures.

/// Who performs admin work in the stories.
pub fn admin() -> String {
    "staff:admin".to_string()
}

/// A guide of a promised item with three steps (handle, review, approve), in
/// the shape of the core's sample guide.
pub fn guide(code: &str, name: &str) -> Guide {
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
        materials: vec![Material {
            name: format!("{name}申请书"),
            required: true,
            originals: 1,
            copies: 0,
            reason: "申请人申请意愿的书面表示".into(),
            template_file: None,
            sample_file: None,
        }],
        fees: vec![],
        steps: vec![
            Step {
                name: "承办".into(),
                role: Role::Handler,
                limit_days: 2,
            },
            Step {
                name: "审核".into(),
                role: Role::Reviewer,
                limit_days: 2,
            },
            Step {
                name: "批准".into(),
                role: Role::Approver,
                limit_days: 1,
            },
        ],
        visits: 1,
        location: "衡山县政务服务中心一楼B区".into(),
        office_hours: "工作日 8:30-12:00，14:30-17:30".into(),
        contact_phone: "0734-5822001".into(),
        complaint_phone: "0734-12345".into(),
        aliases: vec![],
        life_events: vec![],
        form_fields: vec![],
    }
}

/// An instant item: no steps, accepted and decided the same day.
pub fn instant_guide(code: &str, name: &str) -> Guide {
    Guide {
        category: HandlingCategory::Instant,
        steps: vec![],
        promised_limit: TimeLimit::working_days(0),
        visits: 1,
        ..guide(code, name)
    }
}

pub async fn department(store: &Store, code: &str, name: &str) -> Department {
    store
        .create_department(
            admin(),
            NewDepartment {
                code: code.into(),
                name: name.into(),
                level: RegionLevel::County,
                parent_id: None,
                region_code: "430423".into(),
                window_location: "政务服务中心一楼".into(),
                phone: "0734-5822001".into(),
                address: "衡山县开云镇".into(),
            },
            now(),
        )
        .await
        .expect("create a department")
}

/// One argon2 hash for every fixture person (hashing is slow on purpose).
pub fn fixture_password_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        onewindow_store::staff::hash_password(FIXTURE_PASSWORD).expect("hash a password")
    })
    .clone()
}

pub const FIXTURE_PASSWORD: &str = "correct horse battery";

pub async fn person(
    store: &Store,
    department_id: i64,
    login: &str,
    name: &str,
    roles: &[Role],
) -> StaffMember {
    store
        .insert_staff(
            admin(),
            NewStaff {
                login: login.into(),
                name: name.into(),
                department_id,
                roles: roles.to_vec(),
                password: String::new(),
                phone: "13807340000".into(),
            },
            fixture_password_hash(),
            now(),
        )
        .await
        .expect("create a staff member")
}

/// A department with a window clerk, a handler (A) and their backup (B), a
/// reviewer and an approver, and a published three-step item.
pub struct World {
    pub department: Department,
    pub clerk: StaffMember,
    pub handler_a: StaffMember,
    pub handler_b: StaffMember,
    pub reviewer: StaffMember,
    pub approver: StaffMember,
    pub item: ServiceItem,
}

impl World {
    pub async fn new(store: &Store) -> World {
        let department = department(store, "HSSJ", "衡山县市场监督管理局").await;
        let id = department.id;
        let clerk = person(store, id, "clerk", "窗口王芳", &[Role::WindowClerk]).await;
        let handler_a = person(store, id, "handler_a", "承办李明", &[Role::Handler]).await;
        let handler_b = person(store, id, "handler_b", "承办赵强", &[Role::Handler]).await;
        let reviewer = person(store, id, "reviewer", "审核陈静", &[Role::Reviewer]).await;
        let approver = person(store, id, "approver", "批准刘洋", &[Role::Approver]).await;
        store
            .set_backup(admin(), handler_a.id, Some(handler_b.id), now())
            .await
            .expect("set the B backup");
        let handler_a = store.staff_member(handler_a.id).await.expect("reload A");
        let item = published_item(store, id, guide("000117001000", "食品经营许可（新办）")).await;
        World {
            department,
            clerk,
            handler_a,
            handler_b,
            reviewer,
            approver,
            item,
        }
    }
}

pub async fn published_item(store: &Store, department_id: i64, guide: Guide) -> ServiceItem {
    let item = store
        .create_item(admin(), department_id, guide, now())
        .await
        .expect("create an item");
    store
        .set_item_status(admin(), item.id, ItemStatus::Published, now())
        .await
        .expect("publish the item")
}

pub fn applicant() -> Applicant {
    Applicant {
        name: "张三".into(),
        phone: "13807341234".into(),
        id_number: "11010519491231002X".into(),
        organization: "衡山县张三餐饮有限公司".into(),
    }
}

pub fn application(item_id: i64) -> NewCase {
    NewCase {
        item_id,
        channel: Channel::Online,
        applicant: applicant(),
        form: serde_json::json!({ "shop_name": "张三小吃", "area_m2": 40 }),
        materials: vec![],
        registered_by: None,
    }
}

pub fn file(name: &str, bytes: &[u8]) -> NewFile {
    NewFile {
        name: name.into(),
        content_type: "application/pdf".into(),
        bytes: bytes.to_vec(),
    }
}

pub async fn submit(store: &Store, item_id: i64) -> Case {
    store
        .submit_case(application(item_id), None, now())
        .await
        .expect("submit a case")
        .case
}

// ---------------------------------------------------------------------------
// Commands, decided as the server does.

/// The decide function the server passes to `apply_command` for a staff
/// member: authorization (role, department, assignee or their B while absent),
/// then the core state machine on the weekend calendar.
pub fn as_staff(
    actor: &StaffMember,
    command: Command,
    now: Timestamp,
) -> impl Fn(&CaseContext) -> Result<(Transition, Option<i64>), StoreError> + Send + 'static {
    let actor = actor.actor();
    move |context: &CaseContext| {
        let steps = &context.item.guide.steps;
        let on_behalf_of = onewindow_core::case::authorize(
            &actor,
            &command,
            &context.case.facts,
            steps,
            context.case.department_id,
            assignee_facts(&context.assignee),
        )
        .map_err(StoreError::Domain)?;
        let rules = context.item.guide.rules();
        let transition = onewindow_core::case::decide(
            &context.case.facts,
            &command,
            &rules,
            &WeekendCalendar,
            now,
        )
        .map_err(StoreError::Domain)?;
        Ok((transition, on_behalf_of))
    }
}

/// `actor` gives `command` on `case_id`, expecting `expected_version`.
pub async fn act_at(
    store: &Store,
    actor: &StaffMember,
    case_id: i64,
    expected_version: Option<i64>,
    command: Command,
    now: Timestamp,
) -> Result<Applied, StoreError> {
    store
        .apply_command(
            case_id,
            expected_version,
            Who::Staff(actor.id),
            None,
            now,
            as_staff(actor, command, now),
        )
        .await
}

/// `actor` gives `command` on the case as last read, at `now()`.
pub async fn act(
    store: &Store,
    actor: &StaffMember,
    case: &Case,
    command: Command,
) -> Result<Applied, StoreError> {
    act_at(store, actor, case.id, Some(case.version), command, now()).await
}

pub fn accept() -> Command {
    Command::Accept {
        opinion: "材料齐全，予以受理".into(),
    }
}

pub fn complete_step(opinion: &str) -> Command {
    Command::CompleteStep {
        opinion: opinion.into(),
    }
}

pub fn approve() -> Command {
    Command::Decide {
        outcome: Outcome::Approve,
        opinion: "准予许可".into(),
        reasons: String::new(),
        rights_notice: String::new(),
        decided_on: None,
    }
}

pub fn deliver() -> Command {
    Command::Deliver {
        method: "窗口领取".into(),
        fees: vec![],
    }
}

// ---------------------------------------------------------------------------
// Raw reads for checks.

pub async fn count(store: &Store, sql: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .try_get::<i64, _>(0)
        .expect("a count")
}

pub async fn audit_entry_count(store: &Store) -> i64 {
    count(store, "SELECT COUNT(*) FROM audit_log").await
}

pub fn is_postgres(store: &Store) -> bool {
    store.backend() == Backend::Postgres
}
