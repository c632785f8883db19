//! The demo county: departments, windows, staff with A/B posts, the service
//! catalog from `data/demo_catalog.json`, and cases spread over the last six
//! months in every state, all made through the store's ordinary operations
//! with the clock set back, so every case has a true timeline and audit trail.
//! The same seed gives the same county.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Context;
use futures::StreamExt;
use jiff::civil::{Date, Time};
use jiff::{Span, Timestamp};
use onewindow_core::appointment::{BookingRequest, SLOTS, bookable_days};
use onewindow_core::calendar::TimeLimit;
use onewindow_core::calendar::{ChinaCalendar, WorkCalendar, china_zone, civil_date};
use onewindow_core::card::CardCommand;
use onewindow_core::case::{
    self, Applicant, CaseState, Channel, Command, FeeCharged, Outcome, SpecialProcedure,
    SupplementItem, default_rights_notice,
};
use onewindow_core::catalog::{
    DESCRIPTION_KEY, Fee, FieldKind, FormField, Guide, HandlingCategory, ItemStatus, ItemType,
    Material, RegionLevel, Step, Target,
};
use onewindow_core::staff::Role;
use onewindow_core::supervision::Level;
use onewindow_server::documents::{self, Document};
use onewindow_store::Store;
use onewindow_store::cards::CardFilter;
use onewindow_store::cases::{NewCase, Who};
use onewindow_store::catalog::ServiceItem;
use onewindow_store::files::NewFile;
use onewindow_store::portal::NewAnnouncement;
use onewindow_store::staff::{NewDepartment, NewStaff, hash_password};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

pub const DEMO_PASSWORD: &str = "demo1234";
const GOVERNMENT: &str = "衡山县人民政府";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    region: Region,
    departments: Vec<DemoDepartment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Region {
    code: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoDepartment {
    code: String,
    name: String,
    level: RegionLevel,
    window: String,
    phone: String,
    address: String,
    items: Vec<DemoItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoItem {
    name: String,
    item_type: ItemType,
    category: HandlingCategory,
    target: Target,
    statutory_limit: TimeLimit,
    promised_limit: TimeLimit,
    visits: u32,
    legal_basis: String,
    conditions: Vec<String>,
    materials: Vec<DemoMaterial>,
    fees: Vec<Fee>,
    steps: Vec<Step>,
    aliases: Vec<String>,
    life_events: Vec<String>,
    #[serde(default)]
    form_fields: Vec<FormField>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoMaterial {
    name: String,
    required: bool,
    originals: u32,
    copies: u32,
    reason: String,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "邓", "曹", "彭", "曾", "肖",
    "田", "董", "潘", "袁", "蒋", "蔡", "余", "文",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "红梅", "国庆", "文斌",
    "丽华", "春生", "小红", "俊杰", "慧敏", "建国", "亚男", "卫东", "雪梅", "湘平", "衡生",
];
const COMPANIES: &[&str] = &[
    "衡山县南岳食品有限公司",
    "衡山县开云建材有限责任公司",
    "湖南岳北农业科技有限公司",
    "衡山县萱洲湘莲专业合作社",
    "衡山县白果镇便民超市",
    "衡山县紫巾物流有限公司",
    "衡山县东湖医药零售有限公司",
    "湖南衡岳建设工程有限公司",
    "衡山县福田铺竹木加工厂",
    "衡山县新桥餐饮管理有限公司",
];

fn person_name(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

fn mobile(rng: &mut ChaCha8Rng) -> String {
    const PREFIX: &[&str] = &[
        "138", "139", "135", "136", "137", "150", "151", "152", "157", "158", "159", "182", "187",
        "188", "177", "199",
    ];
    format!(
        "{}{:08}",
        PREFIX[rng.random_range(0..PREFIX.len())],
        rng.random_range(0..100_000_000u32)
    )
}

fn id_number(rng: &mut ChaCha8Rng) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let body = format!(
        "430423{:04}{:02}{:02}{:03}",
        rng.random_range(1950..2005u32),
        rng.random_range(1..13u32),
        rng.random_range(1..29u32),
        rng.random_range(0..1000u32)
    );
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize] as char)
}

/// A staff member of the demo, by department and post.
struct Posts {
    /// (department id, role) -> A post holder id.
    holder: HashMap<(i64, Role), i64>,
    logins: Vec<(String, String, String)>,
}

fn item_code(item_type: ItemType, department_index: usize, item_index: usize) -> String {
    let prefix = match item_type {
        ItemType::License => "000117",
        ItemType::Confirmation => "000107",
        ItemType::PublicService => "000123",
        ItemType::Payment => "000104",
        ItemType::Adjudication => "000110",
        ItemType::Other => "000120",
    };
    format!("{prefix}{:03}{:03}", department_index + 1, item_index + 1)
}

// ---------------------------------------------------------------------------
// The catalog's forms: every material that is a form to fill in (申请书,
// 登记表, 承诺书, 委托书 …) gets a blank form and a filled sample, as PDF.

/// What a form asks of the person filling it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    /// An application, registration or declaration form.
    Application,
    /// A written pledge (承诺书).
    Pledge,
    /// A power of attorney or an authorisation (委托书, 授权书).
    Mandate,
    /// A list of people (名册).
    Roster,
}

/// The words a form's name ends in, with its kind.
const FORM_WORDS: &[(&str, FormKind)] = &[
    ("申请书", FormKind::Application),
    ("申请表", FormKind::Application),
    ("登记表", FormKind::Application),
    ("审批表", FormKind::Application),
    ("申报表", FormKind::Application),
    ("备案表", FormKind::Application),
    ("采集表", FormKind::Application),
    ("信息表", FormKind::Application),
    ("核定表", FormKind::Application),
    ("调查表", FormKind::Application),
    ("报告表", FormKind::Application),
    ("告知书", FormKind::Application),
    ("确认书", FormKind::Application),
    ("承诺书", FormKind::Pledge),
    ("委托书", FormKind::Mandate),
    ("授权书", FormKind::Mandate),
    ("名册", FormKind::Roster),
];

/// The form a material is, by its name: the form's own title and kind, or
/// None for documents that are not forms (certificates, contracts, reports).
/// 授权委托书及受托人身份证件 is the form 授权委托书; 车辆情况或购车承诺书 the
/// form 购车承诺书; 异地就医备案表（可线上填报） the form 异地就医备案表.
fn form_of(material: &str) -> Option<(String, FormKind)> {
    let (end, kind) = FORM_WORDS
        .iter()
        .filter_map(|(word, kind)| material.rfind(word).map(|at| (at + word.len(), *kind)))
        .max_by_key(|(end, _)| *end)?;
    let head = &material[..end];
    let start = head.rfind('或').map(|at| at + '或'.len_utf8()).unwrap_or(0);
    let title = head[start..].trim();
    (title.chars().count() > 2).then(|| (title.to_string(), kind))
}

/// The form as its blank and its filled sample.
struct DemoForm {
    title: String,
    blank: Document,
    sample: Document,
}

/// Labels of the applicant's part of an application form, by who applies.
fn applicant_labels(target: Target) -> &'static [&'static str] {
    match target {
        Target::Personal => &[
            "申请人姓名",
            "性别",
            "公民身份号码",
            "联系电话",
            "户籍地址",
            "现居住地址",
        ],
        Target::Enterprise => &[
            "单位名称",
            "统一社会信用代码",
            "法定代表人（负责人）",
            "联系人",
            "联系电话",
            "住所（经营场所）",
        ],
        Target::Both => &[
            "申请人（单位）名称",
            "公民身份号码或统一社会信用代码",
            "法定代表人（负责人）",
            "联系人",
            "联系电话",
            "住所（地址）",
        ],
    }
}

/// A plausible value for a form's field named `label`, as an applicant of
/// the county writes it.
fn sample_value(rng: &mut ChaCha8Rng, label: &str, matter: &str, day: Date) -> String {
    let has = |words: &[&str]| words.iter().any(|w| label.contains(w));
    if has(&["单位名称", "（单位）名称"]) {
        COMPANIES[rng.random_range(0..COMPANIES.len())].into()
    } else if has(&["信用代码"]) {
        format!("91430423MA4L{:06}", rng.random_range(0..1_000_000))
    } else if has(&["身份号码", "证件号码"]) {
        id_number(rng)
    } else if has(&["电话"]) {
        mobile(rng)
    } else if has(&["性别"]) {
        ["男", "女"][rng.random_range(0..2)].into()
    } else if has(&["地址", "住所", "场所"]) {
        format!(
            "衡山县开云镇{}{}号",
            ["衡山大道", "解放路", "沿河路", "建设路", "人民路"][rng.random_range(0..5)],
            rng.random_range(1..300)
        )
    } else if has(&["事项"]) {
        matter.into()
    } else if has(&["日期", "期限"]) {
        format!("自{}起至事项办结之日止", date_words(day))
    } else if has(&["权限"]) {
        "代为提交申请材料、领取办理结果".into()
    } else if has(&["理由", "说明", "情况"]) {
        format!("因生产经营需要，申请办理{matter}，所附材料真实有效。")
    } else if has(&["姓名", "人", "代表"]) {
        person_name(rng)
    } else {
        "详见所附材料".into()
    }
}

fn date_words(day: Date) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

/// Every distinct form of the catalog, in catalog order, with its blank and
/// a sample filled in as for the first item that asks for it. A form that
/// several departments use is issued in the hall's name.
fn demo_forms(catalog: &Catalog, hall: &str, day: Date, rng: &mut ChaCha8Rng) -> Vec<DemoForm> {
    struct Use<'a> {
        kind: FormKind,
        item: &'a DemoItem,
        departments: Vec<&'a str>,
    }
    let mut order: Vec<String> = Vec::new();
    let mut uses: HashMap<String, Use<'_>> = HashMap::new();
    for d in &catalog.departments {
        for item in &d.items {
            for m in &item.materials {
                let Some((title, kind)) = form_of(&m.name) else {
                    continue;
                };
                let entry = uses.entry(title.clone()).or_insert_with(|| {
                    order.push(title.clone());
                    Use {
                        kind,
                        item,
                        departments: Vec::new(),
                    }
                });
                if !entry.departments.contains(&d.name.as_str()) {
                    entry.departments.push(&d.name);
                }
            }
        }
    }
    let blank_date = "　　　　年　　月　　日".to_string();
    order
        .into_iter()
        .map(|title| {
            let form = &uses[&title];
            let issuer = match form.departments.as_slice() {
                [one] => one.to_string(),
                _ => hall.to_string(),
            };
            let shared = form.departments.len() > 1 || title.contains("授权委托书");
            let matter = form.item.name.as_str();
            let (signer, paragraphs, labels): (&str, Vec<String>, Vec<String>) = match form
                .kind
            {
                FormKind::Application => {
                    let mut labels: Vec<String> = applicant_labels(form.item.target)
                        .iter()
                        .map(|l| l.to_string())
                        .collect();
                    for f in form.item.form_fields.iter().take(8) {
                        if !labels.contains(&f.label) {
                            labels.push(f.label.clone());
                        }
                    }
                    labels.push("申请事项".into());
                    labels.push("申请理由及情况说明".into());
                    let opening = if shared {
                        "本人（本单位）申请办理下列事项，现将有关情况如实填报如下。".to_string()
                    } else {
                        format!("本人（本单位）申请办理{matter}，现将有关情况如实填报如下。")
                    };
                    (
                        "申请人（签名或盖章）",
                        vec![
                            opening,
                            "本人（本单位）对所填内容和所附材料的真实性、合法性负责。".into(),
                        ],
                        labels,
                    )
                }
                FormKind::Pledge => (
                    "承诺人（签名或盖章）",
                    vec![
                        "本人（本单位）郑重承诺：".into(),
                        "一、所提交的申请材料和所填信息真实、准确、完整，复印件与原件一致；".into(),
                        "二、已知晓并将遵守有关法律、法规规定的条件、标准和技术要求；".into(),
                        "三、如有虚假承诺或者违反承诺，愿意承担相应的法律责任，接受行政机关依法撤销有关决定，并同意将失信信息记入信用记录。".into(),
                    ],
                    vec![
                        "承诺人（单位）".into(),
                        "公民身份号码或统一社会信用代码".into(),
                        "联系电话".into(),
                        "承诺事项".into(),
                    ],
                ),
                FormKind::Mandate => (
                    "委托人（签名或盖章）",
                    vec![
                        "委托人（授权人）现委托（授权）下列受托人，在下列权限内代为办理有关事项。受托人在权限内所签署的文件和办理的事项，委托人均予承认。".into(),
                    ],
                    vec![
                        "委托人姓名（名称）".into(),
                        "委托人证件号码".into(),
                        "受托人姓名".into(),
                        "受托人证件号码".into(),
                        "受托人联系电话".into(),
                        "委托事项".into(),
                        "委托权限".into(),
                        "委托期限".into(),
                    ],
                ),
                FormKind::Roster => (
                    "填报单位（盖章）",
                    vec!["现将有关人员情况报送如下，所填内容真实准确。".into()],
                    ["填报单位名称", "联系人", "联系电话"]
                        .iter()
                        .map(|l| l.to_string())
                        .chain((1..=4).flat_map(|n| {
                            [format!("人员{n}姓名"), format!("人员{n}公民身份号码")]
                        }))
                        .collect(),
                ),
            };
            let blank = Document {
                issuer: issuer.clone(),
                title: title.clone(),
                number: "（空白表格）".into(),
                recipient: issuer.clone(),
                paragraphs: paragraphs.clone(),
                facts: labels.iter().map(|l| (l.clone(), String::new())).collect(),
                contacts: vec![
                    format!("{signer}："),
                    format!("填写日期：{blank_date}"),
                ],
                date: blank_date.clone(),
                notes: vec![
                    "填写说明：请用黑色钢笔或签字笔填写，也可打印后签名，字迹须清楚；所填内容应与所附材料一致。".into(),
                    "本表可在衡山县政务服务网办事指南页面免费下载，也可在县政务服务中心窗口免费领取。".into(),
                ],
                file_name: format!("{title}（空白表格）.pdf"),
                ..Document::default()
            };
            // The sample: the item's own fields filled in as an applicant
            // would, the rest by the field's name.
            let own = form_values(rng, &form.item.form_fields, day);
            let facts: Vec<(String, String)> = labels
                .iter()
                .map(|label| {
                    let value = form
                        .item
                        .form_fields
                        .iter()
                        .find(|f| &f.label == label)
                        .and_then(|f| own.get(&f.key))
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| sample_value(rng, label, matter, day));
                    (label.clone(), value)
                })
                .collect();
            let signature = person_name(rng);
            let sample = Document {
                number: "（填写样例）".into(),
                facts,
                contacts: vec![
                    format!("{signer}：{signature}"),
                    format!("填写日期：{}", date_words(day)),
                ],
                date: date_words(day),
                notes: vec![
                    "本样例所填单位、人员和号码均为虚构，仅供填写参考，请按实际情况填写。".into(),
                ],
                file_name: format!("{title}（填写样例）.pdf"),
                ..blank.clone()
            };
            DemoForm {
                title,
                blank,
                sample,
            }
        })
        .collect()
}

/// Lays out the forms as PDF, on every core: each form's blank and sample.
fn render_forms(forms: &[DemoForm]) -> anyhow::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let render = |d: &Document| {
        documents::render(d).map_err(|e| anyhow::anyhow!("{}：{}", d.title, e.message))
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    let chunk = forms.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = forms
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|f| Ok((render(&f.blank)?, render(&f.sample)?)))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut pdfs = Vec::with_capacity(forms.len());
        for worker in workers {
            let part = worker
                .join()
                .map_err(|_| anyhow::anyhow!("生成表格样本的线程异常退出"))??;
            pdfs.extend(part);
        }
        Ok(pdfs)
    })
}

/// Stores each form's blank and sample (in catalog order, so the same seed
/// gives the same file numbers); returns the files by the form's title.
async fn store_forms(
    store: &Store,
    forms: &[DemoForm],
    pdfs: Vec<(Vec<u8>, Vec<u8>)>,
    at: Timestamp,
) -> anyhow::Result<HashMap<String, (i64, i64)>> {
    let files: Vec<_> = forms
        .iter()
        .zip(pdfs)
        .flat_map(|(form, (blank, sample))| {
            [(&form.blank, blank), (&form.sample, sample)].map(|(document, bytes)| {
                store.store_file(
                    NewFile {
                        name: document.file_name.clone(),
                        content_type: "application/pdf".into(),
                        bytes,
                    },
                    at,
                )
            })
        })
        .collect();
    let stored = in_order(files).await;
    let mut ids = HashMap::new();
    for (form, pair) in forms.iter().zip(stored.chunks(2)) {
        let [blank, sample] = pair else {
            anyhow::bail!("表格样本未能全部保存");
        };
        let blank = blank.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        let sample = sample.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        ids.insert(form.title.clone(), (blank.id, sample.id));
    }
    Ok(ids)
}

/// The environment variable naming the day the demo is built for.
pub const TODAY_VARIABLE: &str = "ONEWINDOW_DEMO_TODAY";

/// The day the demo is built for: `ONEWINDOW_DEMO_TODAY` (YYYY-MM-DD) when
/// set, else today in Asia/Shanghai.
pub fn demo_today() -> anyhow::Result<Date> {
    match std::env::var(TODAY_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => parse_today(&text),
        _ => Ok(civil_date(Timestamp::now())),
    }
}

/// A day given for the demo, as YYYY-MM-DD within the calendar's range.
pub fn parse_today(text: &str) -> anyhow::Result<Date> {
    let day: Date = text
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("演示日期须为 YYYY-MM-DD 格式，如 2026-11-20：{text}"))?;
    let first = Date::constant(2001, 1, 1);
    let last = Date::constant(2199, 6, 30);
    anyhow::ensure!(
        (first..=last).contains(&day),
        "演示日期须在2001-01-01至2199-06-30之间：{text}"
    );
    Ok(day)
}

/// Creates the county and its history as of today (or the day named by
/// `ONEWINDOW_DEMO_TODAY`); returns a report to print.
pub async fn build(store: &Store, seed: u64, case_count: usize) -> anyhow::Result<String> {
    build_for(store, seed, case_count, demo_today()?).await
}

/// Creates the county and its history as it stood at the start of `today`
/// (00:00 in Asia/Shanghai): nothing of it depends on the wall clock, so the
/// same seed and day give the same county at whatever hour it is built.
pub async fn build_for(
    store: &Store,
    seed: u64,
    case_count: usize,
    today: Date,
) -> anyhow::Result<String> {
    let catalog: Catalog = serde_json::from_str(include_str!("../data/demo_catalog.json"))
        .context("demo catalog data")?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let now = at_time(today, 0, 0);
    let setup_at = at_time(today.checked_sub(Span::new().days(200))?, 8, 0);
    let actor = "system:demo".to_string();

    // The catalog's forms are laid out (on every core) while the offices
    // and their people are set up; they have their own random numbers.
    let hall_name = format!("{}政务服务中心", catalog.region.name);
    let forms = demo_forms(
        &catalog,
        &hall_name,
        civil_date(setup_at),
        &mut ChaCha8Rng::seed_from_u64(seed ^ 0x666f_726d),
    );
    let rendering = tokio::task::spawn_blocking(move || {
        let pdfs = render_forms(&forms);
        (forms, pdfs)
    });

    // The hall's own office: supervision centre and the three admins.
    let hall = store
        .create_department(
            actor.clone(),
            NewDepartment {
                code: "zwzx".into(),
                name: hall_name.clone(),
                level: RegionLevel::County,
                parent_id: None,
                region_code: catalog.region.code.clone(),
                window_location: "政务服务中心一楼综合服务区".into(),
                phone: "0734-5822000".into(),
                address: "衡山县开云镇衡山大道县政务服务中心".into(),
            },
            setup_at,
        )
        .await?;
    let password_hash = hash_password(DEMO_PASSWORD)?;
    let mut posts = Posts {
        holder: HashMap::new(),
        logins: Vec::new(),
    };
    let mut staff_count = 0;
    for (login, roles, title) in [
        ("admin", vec![Role::Admin], "系统管理员"),
        ("security", vec![Role::SecurityAdmin], "安全保密管理员"),
        ("auditor", vec![Role::AuditAdmin], "安全审计员"),
        ("jiancha", vec![Role::Supervisor], "电子监察室监察员"),
        ("jiancha2", vec![Role::Supervisor], "电子监察室监察员"),
    ] {
        let name = person_name(&mut rng);
        store
            .insert_staff(
                actor.clone(),
                NewStaff {
                    login: login.into(),
                    name: name.clone(),
                    department_id: hall.id,
                    roles,
                    password: String::new(),
                    phone: mobile(&mut rng),
                },
                password_hash.clone(),
                setup_at,
            )
            .await?;
        staff_count += 1;
        posts.logins.push((
            login.into(),
            format!("{name}（{title}）"),
            hall.name.clone(),
        ));
    }

    let mut items: Vec<ServiceItem> = Vec::new();
    let mut department_names = HashMap::new();
    let mut department_ids = Vec::new();
    for (d_index, d) in catalog.departments.iter().enumerate() {
        let department = store
            .create_department(
                actor.clone(),
                NewDepartment {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    level: d.level,
                    parent_id: None,
                    region_code: catalog.region.code.clone(),
                    window_location: d.window.clone(),
                    phone: d.phone.clone(),
                    address: d.address.clone(),
                },
                setup_at,
            )
            .await?;
        department_names.insert(department.id, department.name.clone());
        store
            .create_window(
                actor.clone(),
                department.id,
                format!("{}窗口", short_name(&d.name)),
                d.window.clone(),
                setup_at,
            )
            .await?;
        // Posts and their B: the county departments have a pair for the window,
        // for handling, and for review and approval; townships and villages one
        // pair doing everything.
        let pairs: Vec<(&str, Vec<Role>)> = if d.level == RegionLevel::County {
            vec![
                ("ck", vec![Role::WindowClerk]),
                ("cb", vec![Role::Handler]),
                ("sp", vec![Role::Reviewer, Role::Approver]),
            ]
        } else {
            vec![(
                "zh",
                vec![
                    Role::WindowClerk,
                    Role::Handler,
                    Role::Reviewer,
                    Role::Approver,
                ],
            )]
        };
        for (suffix, roles) in pairs {
            let mut ids = Vec::new();
            for ab in ["a", "b"] {
                let name = person_name(&mut rng);
                let login = format!("{}_{suffix}{ab}", d.code);
                let member = store
                    .insert_staff(
                        actor.clone(),
                        NewStaff {
                            login: login.clone(),
                            name: name.clone(),
                            department_id: department.id,
                            roles: roles.clone(),
                            password: String::new(),
                            phone: mobile(&mut rng),
                        },
                        password_hash.clone(),
                        setup_at,
                    )
                    .await?;
                staff_count += 1;
                ids.push(member.id);
                if d_index == 0 {
                    let post: Vec<_> = roles.iter().map(|r| r.label()).collect();
                    posts.logins.push((
                        login,
                        format!("{name}（{}岗{}角）", post.join("、"), ab.to_uppercase()),
                        d.name.clone(),
                    ));
                }
            }
            store
                .set_backup(actor.clone(), ids[0], Some(ids[1]), setup_at)
                .await?;
            for role in roles {
                posts.holder.insert((department.id, role), ids[0]);
            }
        }
        department_ids.push(department.id);
    }

    // The forms are laid out by now: the catalog's materials link them.
    let (forms, pdfs) = rendering.await.context("demo forms")?;
    let form_files = store_forms(store, &forms, pdfs?, setup_at).await?;
    for (d_index, d) in catalog.departments.iter().enumerate() {
        let department_id = department_ids[d_index];
        for (i_index, item) in d.items.iter().enumerate() {
            let code = item_code(item.item_type, d_index, i_index);
            let guide = Guide {
                name: item.name.clone(),
                implementing_code: format!(
                    "114304230{:02}{:07}{}",
                    d_index + 1,
                    5_000_000 + d_index * 37,
                    code
                ),
                code,
                item_type: item.item_type,
                category: item.category,
                target: item.target,
                statutory_limit: item.statutory_limit,
                promised_limit: item.promised_limit,
                legal_basis: item.legal_basis.clone(),
                conditions: item.conditions.clone(),
                materials: item
                    .materials
                    .iter()
                    .map(|m| Material {
                        name: m.name.clone(),
                        required: m.required,
                        originals: m.originals,
                        copies: m.copies,
                        reason: m.reason.clone(),
                        template_file: form_of(&m.name)
                            .and_then(|(title, _)| form_files.get(&title))
                            .map(|(blank, _)| *blank),
                        sample_file: form_of(&m.name)
                            .and_then(|(title, _)| form_files.get(&title))
                            .map(|(_, sample)| *sample),
                    })
                    .collect(),
                fees: item.fees.clone(),
                steps: item.steps.clone(),
                visits: item.visits,
                location: format!("{}（{}）", d.window, d.address),
                office_hours:
                    "工作日上午8:30—12:00，下午14:30—17:30（法定节假日除外；节假日可预约办理）"
                        .into(),
                contact_phone: d.phone.clone(),
                complaint_phone: "0734-12345（县政务服务便民热线）".into(),
                aliases: item.aliases.clone(),
                life_events: item.life_events.clone(),
                form_fields: item.form_fields.clone(),
            };
            let created = store
                .create_item(actor.clone(), department_id, guide, setup_at)
                .await?;
            // A few items stay in draft or are suspended, as in a real catalog.
            let status = match (d_index * 31 + i_index) % 97 {
                0 => ItemStatus::Draft,
                1 => ItemStatus::Suspended,
                _ => ItemStatus::Published,
            };
            let item = store
                .set_item_status(actor.clone(), created.id, status, setup_at)
                .await?;
            items.push(item);
        }
    }

    let published: Vec<&ServiceItem> = items
        .iter()
        .filter(|i| i.status == ItemStatus::Published)
        .collect();
    // Most cases follow a random story; some are staged so that every state
    // and the supervision's findings are there however few cases there are.
    let staged = stages(case_count);
    let mut plans: Vec<Plan> = (0..case_count - staged.len())
        .map(|_| plan_case(&mut rng, &published, today, now))
        .collect();
    for stage in staged {
        let plan = match stage_case(&mut rng, &published, stage, today) {
            Some(plan) => plan,
            None => plan_case(&mut rng, &published, today, now),
        };
        plans.push(plan);
    }
    plans.sort_by_key(|p| p.events.first().map(|e| e.0).unwrap_or(now));
    let failures = run_plans(store, &plans, &posts, &department_names, &mut rng, now).await?;

    // Two A post holders are away today: their B sees and handles their work.
    let mut absent = Vec::new();
    for code in ["scjgj", "rsj"] {
        if let Some(d) = store
            .departments()
            .await?
            .into_iter()
            .find(|d| d.code == code)
            && let Some(a) = posts.holder.get(&(d.id, Role::Handler))
        {
            let member = store.set_absent(actor.clone(), *a, true, now).await?;
            absent.push(format!("{}（{}承办A角）", member.name, d.name));
        }
    }

    let (announcements, appointments) = portal_content(
        store,
        &published,
        &catalog.region.code,
        hall.id,
        &mut rng,
        now,
    )
    .await?;

    let mut report = String::new();
    writeln!(
        report,
        "演示数据已生成：{}，{}个部门，{}名工作人员，{}个事项，{}件办件（随机种子 {seed}）。",
        catalog.region.name,
        catalog.departments.len() + 1,
        staff_count,
        items.len(),
        plans.len()
    )?;
    let mut counts = store.case_counts().await?;
    counts.sort_by_key(|(s, _)| case::CaseState::ALL.iter().position(|x| x == s));
    let counts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{}{n}件", s.label()))
        .collect();
    writeln!(report, "办件状态：{}", counts.join("，"))?;
    let mut cards = Vec::new();
    for level in [Level::Warning, Level::Yellow, Level::Red] {
        let (_, total) = store
            .cards(&CardFilter {
                level: Some(level),
                limit: 1,
                ..CardFilter::default()
            })
            .await?;
        cards.push(format!(
            "{}{total}{}",
            level.label(),
            if level == Level::Warning {
                "个"
            } else {
                "张"
            }
        ));
    }
    writeln!(report, "电子监察：{}", cards.join("，"))?;
    for (reason, count) in &failures {
        writeln!(report, "（{count}个计划操作未能执行，已跳过：{reason}）")?;
    }
    writeln!(report, "今日缺岗（由B角代办）：{}", absent.join("，"))?;
    writeln!(
        report,
        "通知公告{announcements}条；今后10个工作日已有窗口预约{appointments}个。"
    )?;
    writeln!(report, "演示账号（密码均为 {DEMO_PASSWORD}）：")?;
    for (login, who, department) in &posts.logins {
        writeln!(report, "  {login:<12} {who} — {department}")?;
    }
    write!(
        report,
        "  其他部门账号为“部门编码_岗位A/B”，如 rsj_cka（人社局窗口A角）、zrzyj_spa（自然资源局审批A角）。"
    )?;
    Ok(report)
}

/// The hall's announcements, as a county hall publishes them.
const ANNOUNCEMENTS: [(i64, bool, &str, &str); 5] = [
    (
        2,
        true,
        "关于元旦期间政务服务中心工作安排的通知",
        "根据国务院办公厅关于节假日安排的通知，元旦放假期间县政务服务中心窗口暂停对外服务，节后第一个工作日恢复正常办公。\n\n放假期间，网上办事大厅正常受理申请，办件在节后依次办理；急需办理的，可拨打政务服务便民热线12345预约。\n\n特此通知。",
    ),
    (
        9,
        false,
        "县政务服务中心推行“一件事一次办”的公告",
        "为进一步优化营商环境，自即日起，县政务服务中心对开办企业、开饭店、新生儿出生、退休等高频“一件事”实行一次告知、一表申请、一窗受理、一次办结。\n\n办事群众可在本网“按主题办事”栏目查看相关事项的办事指南，也可到政务服务中心一楼综合服务区咨询。",
    ),
    (
        18,
        false,
        "关于开通窗口预约办理服务的通知",
        "即日起，县政务服务中心各部门窗口开通网上预约服务。办事群众可在事项办事指南页面点击“预约办理”，选择今后10个工作日内的时段；按预约时段到窗口出示预约号，即可优先办理。\n\n不能按时前来的，请在预约日前一天通过“预约查询”取消预约。",
    ),
    (
        33,
        false,
        "不动产登记窗口延时服务的公告",
        "为方便上班族办事，不动产登记窗口每周三延时服务至18:30，提供抵押登记、预告登记、查询等业务的受理。",
    ),
    (
        47,
        false,
        "关于公布县级政务服务事项目录（2026年版）的公告",
        "经县人民政府审定，现将《衡山县政务服务事项目录（2026年版）》予以公布，各事项的办事指南已在本网同步更新。目录实行动态调整，事项变化情况将及时公告。",
    ),
];

/// Publishes the hall's announcements and books the coming days' window
/// visits; returns how many of each.
async fn portal_content(
    store: &Store,
    published: &[&ServiceItem],
    region: &str,
    hall_id: i64,
    rng: &mut ChaCha8Rng,
    now: Timestamp,
) -> anyhow::Result<(usize, usize)> {
    let admin = store
        .staff(Some(hall_id))
        .await?
        .into_iter()
        .find(|m| m.login == "admin")
        .context("the demo administrator")?;
    for (days_ago, pinned, title, body) in ANNOUNCEMENTS {
        let at = at_time(
            civil_date(now).checked_sub(Span::new().days(days_ago))?,
            9,
            30,
        );
        store
            .publish_announcement(
                "system:demo".into(),
                admin.id,
                NewAnnouncement {
                    title: title.into(),
                    body: body.into(),
                    pinned,
                },
                at,
            )
            .await?;
    }
    let calendar = store.calendar_for(region);
    let today = civil_date(now);
    // As many a slot as `serve` takes.
    let capacity = onewindow_server::Settings::default().appointment_capacity;
    let mut booked = 0;
    for day in bookable_days(&*calendar, today) {
        for _ in 0..rng.random_range(4..9) {
            let item = published[rng.random_range(0..published.len())];
            let slot = SLOTS[rng.random_range(0..SLOTS.len())];
            let request = BookingRequest {
                day: day.to_string(),
                slot: slot.key.into(),
                name: person_name(rng),
                phone: mobile(rng),
                note: String::new(),
            };
            let Ok(booking) = request.check(&*calendar, today) else {
                continue;
            };
            // A full slot is skipped, as a person would pick another.
            if store
                .book_appointment(item.id, booking, capacity, now)
                .await
                .is_ok()
            {
                booked += 1;
            }
        }
    }
    Ok((ANNOUNCEMENTS.len(), booked))
}

/// Plausible values of an item's form fields (every required one, about
/// half of the others), as an applicant fills them in on `day`.
fn form_values(
    rng: &mut ChaCha8Rng,
    fields: &[FormField],
    day: Date,
) -> serde_json::Map<String, serde_json::Value> {
    const ROADS: [&str; 6] = ["衡山大道", "解放路", "沿河路", "建设路", "人民路", "紫金路"];
    const TOWNS: [&str; 5] = ["开云镇", "店门镇", "白果镇", "萱洲镇", "长江镇"];
    let mut values = serde_json::Map::new();
    for f in fields {
        if !f.required && rng.random_bool(0.5) {
            continue;
        }
        let label = f.label.as_str();
        let has = |words: &[&str]| words.iter().any(|w| label.contains(w));
        let value = match f.kind {
            FieldKind::Choice => match f.options.len() {
                0 => continue,
                n => f.options[rng.random_range(0..n)].clone(),
            },
            FieldKind::Number => rng.random_range(1..300).to_string(),
            FieldKind::Date => day
                .checked_sub(Span::new().days(rng.random_range(1..365)))
                .unwrap_or(day)
                .to_string(),
            FieldKind::Phone => mobile(rng),
            FieldKind::IdNumber => id_number(rng),
            FieldKind::LongText => "详见所附申请材料。".to_string(),
            FieldKind::Text if has(&["地址", "住所", "坐落", "地点", "位置", "场所"]) =>
            {
                format!(
                    "衡山县{}{}{}号",
                    TOWNS[rng.random_range(0..TOWNS.len())],
                    ROADS[rng.random_range(0..ROADS.len())],
                    rng.random_range(1..300)
                )
            }
            FieldKind::Text if has(&["信用代码"]) => {
                format!("91430423MA4L{:06}", rng.random_range(0..1_000_000))
            }
            FieldKind::Text if has(&["姓名", "负责人", "代表人"]) => person_name(rng),
            FieldKind::Text if has(&["编号", "证号", "号码", "代号"]) => {
                format!("{:010}", rng.random_range(0..10_000_000_000u64))
            }
            FieldKind::Text if has(&["名称"]) => {
                COMPANIES[rng.random_range(0..COMPANIES.len())].to_string()
            }
            FieldKind::Text => "详见申请材料".to_string(),
        };
        values.insert(f.key.clone(), value.into());
    }
    values
}

fn short_name(name: &str) -> &str {
    name.strip_prefix("衡山县").unwrap_or(name)
}

fn at_time(date: Date, hour: i8, minute: i8) -> Timestamp {
    date.to_datetime(Time::constant(hour, minute, 0, 0))
        .to_zoned_datetime(china_zone())
        .map(|z| z.timestamp())
        .unwrap_or_else(|_| Timestamp::UNIX_EPOCH)
}

/// One case's story: who applies for what, and the commands with their times.
struct Plan {
    item: ServiceItem,
    channel: Channel,
    applicant: Applicant,
    form: serde_json::Value,
    events: Vec<(Timestamp, Option<Command>)>,
}

/// A working-hours moment some working days (drawn from `days`) after
/// `from`'s date.
fn later(rng: &mut ChaCha8Rng, from: Timestamp, days: std::ops::Range<u32>) -> Timestamp {
    let days = rng.random_range(days);
    let date = ChinaCalendar::shipped().add_working_days(civil_date(from), days);
    let candidate = at_time(date, rng.random_range(8..17), rng.random_range(0..60));
    if candidate <= from {
        from + Span::new().minutes(rng.random_range(5..90))
    } else {
        candidate
    }
}

/// Who applies for `item`, and whether online or at the window.
fn applicant_for(rng: &mut ChaCha8Rng, item: &ServiceItem) -> (Applicant, Channel) {
    let enterprise = item.guide.target == Target::Enterprise
        || (item.guide.target == Target::Both && rng.random_bool(0.3));
    let applicant = Applicant {
        name: person_name(rng),
        phone: mobile(rng),
        id_number: id_number(rng),
        organization: if enterprise {
            COMPANIES[rng.random_range(0..COMPANIES.len())].into()
        } else {
            String::new()
        },
    };
    let channel = if rng.random_bool(0.45) {
        Channel::Online
    } else {
        Channel::Window
    };
    (applicant, channel)
}

/// The application form of `item` as filled in on `day`.
fn application_form(rng: &mut ChaCha8Rng, item: &ServiceItem, day: Date) -> serde_json::Value {
    let mut form = form_values(rng, &item.guide.form_fields, day);
    form.insert(
        DESCRIPTION_KEY.into(),
        format!("申请办理{}", item.guide.name).into(),
    );
    serde_json::Value::Object(form)
}

/// The working day `n` working days before `day` (1: the last working day
/// before it).
fn working_days_before(day: Date, n: u32) -> Date {
    let calendar = ChinaCalendar::shipped();
    let mut at = day;
    for _ in 0..n.max(1) {
        at = at.yesterday().unwrap_or(at);
        while !calendar.is_working_day(at) {
            at = at.yesterday().unwrap_or(at);
        }
    }
    at
}

fn plan_case(rng: &mut ChaCha8Rng, items: &[&ServiceItem], today: Date, now: Timestamp) -> Plan {
    // Instant and one-review items are most of the work of a hall.
    let item = loop {
        let item = items[rng.random_range(0..items.len())];
        let weight = match item.guide.category {
            HandlingCategory::Instant | HandlingCategory::OneReview => 10,
            HandlingCategory::Promised => 6,
            _ => 3,
        };
        if rng.random_range(0..10) < weight {
            break item.clone();
        }
    };
    let (applicant, channel) = applicant_for(rng, &item);
    // A day of the six months before today (the history ends as today
    // begins); the hall's window is open on working days only.
    let day = today
        .checked_sub(Span::new().days(rng.random_range(1..=182)))
        .unwrap_or(today);
    let day = if channel == Channel::Window {
        let calendar = ChinaCalendar::shipped();
        match calendar.next_working_day_from(day) {
            open if open < today => open,
            _ => working_days_before(today, 1),
        }
    } else {
        day
    };
    let submitted = at_time(day, rng.random_range(8..18), rng.random_range(0..60));
    let form = application_form(rng, &item, day);
    let mut events: Vec<(Timestamp, Option<Command>)> = vec![(submitted, None)];
    let mut t = submitted;
    let g = &item.guide;
    let instant = g.category == HandlingCategory::Instant;
    let notice = default_rights_notice("本机关", GOVERNMENT);
    let roll = rng.random_range(0..100);
    if roll < 4 {
        t = later(rng, t, 0..2);
        events.push((
            t,
            Some(Command::Reject {
                reasons: "申请事项不属于本机关职权范围，请向有关行政机关申请".into(),
                rights_notice: notice.clone(),
            }),
        ));
    } else {
        if !instant && roll < 16 {
            t = later(rng, t, 0..2);
            let missing: Vec<SupplementItem> = g
                .materials
                .iter()
                .filter(|_| rng.random_bool(0.4))
                .take(3)
                .map(|m| SupplementItem {
                    material: m.name.clone(),
                    problem: "未提供或复印件不清晰，请补充提交".into(),
                })
                .collect();
            let missing = if missing.is_empty() {
                vec![SupplementItem {
                    material: g.materials[0].name.clone(),
                    problem: "缺少签字盖章".into(),
                }]
            } else {
                missing
            };
            events.push((
                t,
                Some(Command::RequestSupplement {
                    items: missing,
                    note: "请一次性补齐以上材料".into(),
                }),
            ));
            if rng.random_bool(0.12) {
                // Some applicants never come back.
                return Plan {
                    item,
                    channel,
                    applicant,
                    form,
                    events,
                };
            }
            t = later(rng, t, 1..6);
            events.push((
                t,
                Some(Command::Resubmit {
                    note: "已补齐材料".into(),
                }),
            ));
        }
        if roll >= 96 {
            t = later(rng, t, 0..3);
            events.push((
                t,
                Some(Command::Withdraw {
                    reason: "申请人主动撤回".into(),
                }),
            ));
        } else {
            t = if instant {
                t + Span::new().minutes(rng.random_range(5..40))
            } else {
                later(rng, t, 0..3)
            };
            events.push((
                t,
                Some(Command::Accept {
                    opinion: "材料齐全，符合法定形式，予以受理".into(),
                }),
            ));
            let overrun = rng.random_bool(0.06);
            for (i, step) in g.steps.iter().enumerate() {
                let days = if overrun && i == 0 {
                    step.limit_days + rng.random_range(3..8)
                } else {
                    rng.random_range(0..=step.limit_days)
                };
                t = if instant {
                    t + Span::new().minutes(rng.random_range(5..30))
                } else {
                    later(rng, t, days..days + 1)
                };
                if i == 0 && !instant && rng.random_bool(0.03) {
                    events.push((
                        t,
                        Some(Command::Suspend {
                            procedure: SpecialProcedure::ExpertReview,
                            reason: "需组织专家评审".into(),
                            planned_days: 5,
                        }),
                    ));
                    t = later(rng, t, 3..8);
                    events.push((
                        t,
                        Some(Command::Resume {
                            note: "专家评审意见已出具".into(),
                        }),
                    ));
                }
                let opinion = match step.role {
                    Role::Reviewer => "经审核，申请材料真实有效，同意",
                    Role::Approver => "同意",
                    _ => "经审查，符合条件，拟同意",
                };
                events.push((
                    t,
                    Some(Command::CompleteStep {
                        opinion: opinion.into(),
                    }),
                ));
            }
            if rng.random_bool(0.01) {
                t = later(rng, t, 1..2);
                events.push((
                    t,
                    Some(Command::Terminate {
                        reason: "申请人死亡，申请事项已无必要继续办理".into(),
                    }),
                ));
            } else {
                let deny = rng.random_bool(0.04);
                t = if instant {
                    t + Span::new().minutes(rng.random_range(1..10))
                } else {
                    later(rng, t, 0..2)
                };
                events.push((
                    t,
                    Some(if deny {
                        Command::Decide {
                            outcome: Outcome::Deny,
                            opinion: "不符合许可条件".into(),
                            reasons: "经现场核查，申请人经营场所与申请材料不一致，不符合法定条件"
                                .into(),
                            rights_notice: notice,
                            decided_on: None,
                        }
                    } else {
                        Command::Decide {
                            outcome: Outcome::Approve,
                            opinion: "准予许可".into(),
                            reasons: String::new(),
                            rights_notice: String::new(),
                            decided_on: None,
                        }
                    }),
                ));
                t = if instant {
                    t + Span::new().minutes(rng.random_range(1..10))
                } else {
                    later(rng, t, 0..3)
                };
                let method = ["窗口领取", "邮寄送达", "电子送达"][rng.random_range(0..3)];
                // Fees as the catalog sets them; now and then one above it.
                let overcharge = rng.random_bool(0.02);
                let fees = g
                    .fees
                    .iter()
                    .filter(|f| f.amount_fen > 0)
                    .map(|f| FeeCharged {
                        name: f.name.clone(),
                        amount_fen: if overcharge {
                            f.amount_fen * 2
                        } else {
                            f.amount_fen
                        },
                    })
                    .collect();
                events.push((
                    t,
                    Some(Command::Deliver {
                        method: method.into(),
                        fees,
                    }),
                ));
            }
        }
    }
    // The present stops the story: recent cases are still in progress.
    events.retain(|(at, _)| *at < now);
    Plan {
        item,
        channel,
        applicant,
        form,
        events,
    }
}

/// A story the demo stages on purpose, so that the county shows every state
/// of the lifecycle and what the supervision finds however few cases it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Ends, recently, in this state.
    In(CaseState),
    /// Accepted weeks ago and still with the handler, past its promised
    /// limit: the supervision has carded it.
    Late,
    /// Never answered by the window within five working days: the
    /// supervision tick accepts it as of receipt (art. 32) and cards the
    /// silence.
    Unanswered,
}

/// The stories staged among `case_count` cases: every stage once per 200
/// cases (at least once), as many as there are cases.
fn stages(case_count: usize) -> Vec<Stage> {
    let all: Vec<Stage> = CaseState::ALL
        .iter()
        .map(|s| Stage::In(*s))
        .chain([Stage::Late, Stage::Unanswered])
        .collect();
    let rounds = (case_count / 200).max(1);
    (0..rounds)
        .flat_map(|_| all.iter().copied())
        .take(case_count)
        .collect()
}

const REJECTIONS: [&str; 3] = [
    "申请事项不属于本机关职权范围，请向有关行政机关申请",
    "申请人不具备法律、法规规定的申请主体资格",
    "申请事项依法不需要取得行政许可",
];
const TERMINATIONS: [&str; 3] = [
    "申请人死亡，申请事项已无必要继续办理",
    "申请人经营主体已注销，申请事项无法继续办理",
    "申请事项所依据的规划已依法调整，不再具备办理条件",
];
const PROCEDURES: [(SpecialProcedure, &str); 6] = [
    (
        SpecialProcedure::ExpertReview,
        "需组织专家对技术方案进行评审",
    ),
    (
        SpecialProcedure::Hearing,
        "涉及申请人与他人之间重大利益关系，依申请举行听证",
    ),
    (
        SpecialProcedure::SiteInspection,
        "需会同乡镇对申请场所进行现场勘验",
    ),
    (
        SpecialProcedure::Testing,
        "需委托有资质的检验检测机构出具检测报告",
    ),
    (SpecialProcedure::Quarantine, "需由动物卫生监督机构实施检疫"),
    (
        SpecialProcedure::Appraisal,
        "需委托有资质的鉴定机构对房屋安全状况进行鉴定",
    ),
];

/// A story that ends as `stage` says, recent to `today` (nothing of it
/// happens on `today` or later); None when no published item fits it.
fn stage_case(
    rng: &mut ChaCha8Rng,
    items: &[&ServiceItem],
    stage: Stage,
    today: Date,
) -> Option<Plan> {
    use CaseState as S;
    let worked = |g: &Guide| g.category != HandlingCategory::Instant && !g.steps.is_empty();
    let has_role = |g: &Guide, role: Role| g.steps.iter().any(|s| s.role == role);
    let candidates: Vec<&ServiceItem> = items
        .iter()
        .copied()
        .filter(|item| {
            let g = &item.guide;
            worked(g)
                && match stage {
                    Stage::In(S::Reviewing) => has_role(g, Role::Reviewer),
                    Stage::In(S::Approving) => has_role(g, Role::Approver),
                    Stage::In(S::AwaitingSupplement) => !g.materials.is_empty(),
                    Stage::Late => {
                        g.promised_limit.unit == onewindow_core::calendar::LimitUnit::WorkingDays
                            && (1..=20).contains(&g.promised_limit.amount)
                    }
                    _ => true,
                }
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let item = candidates[rng.random_range(0..candidates.len())].clone();
    let (applicant, channel) = applicant_for(rng, &item);
    let g = &item.guide;
    // How many working days ago the application came in: long enough ago
    // for the story's steps (one working day each at most) to end before
    // today, recent enough to be today's work.
    let ago = match stage {
        Stage::In(S::Submitted) => rng.random_range(1..=2),
        Stage::In(S::AwaitingSupplement) => rng.random_range(3..=5),
        Stage::In(S::Handling | S::Suspended | S::Rejected | S::Withdrawn) => {
            rng.random_range(3..=6)
        }
        Stage::In(S::Reviewing | S::Approving | S::Deciding | S::Terminated) => {
            rng.random_range(6..=10)
        }
        Stage::In(_) => rng.random_range(8..=14),
        Stage::Late => g.promised_limit.amount + rng.random_range(3..=10),
        Stage::Unanswered => rng.random_range(6..=9),
    };
    let day = working_days_before(today, ago);
    let submitted = at_time(day, rng.random_range(8..17), rng.random_range(0..60));
    let form = application_form(rng, &item, day);
    let mut events: Vec<(Timestamp, Option<Command>)> = vec![(submitted, None)];
    let mut t = submitted;
    let accept = Command::Accept {
        opinion: "材料齐全，符合法定形式，予以受理".into(),
    };
    // The first `count` steps done, each within a working day of the one
    // before.
    let steps = |rng: &mut ChaCha8Rng,
                 events: &mut Vec<(Timestamp, Option<Command>)>,
                 t: &mut Timestamp,
                 count: usize| {
        for step in g.steps.iter().take(count) {
            *t = later(rng, *t, 0..2);
            let opinion = match step.role {
                Role::Reviewer => "经审核，申请材料真实有效，同意",
                Role::Approver => "同意",
                _ => "经审查，符合条件，拟同意",
            };
            events.push((
                *t,
                Some(Command::CompleteStep {
                    opinion: opinion.into(),
                }),
            ));
        }
    };
    match stage {
        Stage::In(S::Submitted) | Stage::Unanswered => {}
        Stage::In(S::AwaitingSupplement) => {
            t = later(rng, t, 0..2);
            let material = &g.materials[rng.random_range(0..g.materials.len())];
            events.push((
                t,
                Some(Command::RequestSupplement {
                    items: vec![SupplementItem {
                        material: material.name.clone(),
                        problem: "未加盖公章，复印件未注明“与原件一致”".into(),
                    }],
                    note: "请一次性补齐以上材料后重新提交".into(),
                }),
            ));
        }
        Stage::In(S::Rejected) => {
            t = later(rng, t, 0..2);
            events.push((
                t,
                Some(Command::Reject {
                    reasons: REJECTIONS[rng.random_range(0..REJECTIONS.len())].into(),
                    rights_notice: default_rights_notice("本机关", GOVERNMENT),
                }),
            ));
        }
        Stage::In(S::Withdrawn) => {
            t = later(rng, t, 1..3);
            events.push((
                t,
                Some(Command::Withdraw {
                    reason: "申请人已另行办理，主动撤回申请".into(),
                }),
            ));
        }
        Stage::Late => {
            t = later(rng, t, 0..1);
            events.push((t, Some(accept)));
        }
        Stage::In(state) => {
            t = later(rng, t, 0..2);
            events.push((t, Some(accept)));
            let first = |role: Role| g.steps.iter().position(|s| s.role == role);
            match state {
                S::Handling => {}
                S::Reviewing => {
                    let count = first(Role::Reviewer).unwrap_or(0);
                    steps(rng, &mut events, &mut t, count);
                }
                S::Approving => {
                    let count = first(Role::Approver).unwrap_or(0);
                    steps(rng, &mut events, &mut t, count);
                }
                S::Suspended => {
                    t = later(rng, t, 0..2);
                    let (procedure, reason) = PROCEDURES[rng.random_range(0..PROCEDURES.len())];
                    events.push((
                        t,
                        Some(Command::Suspend {
                            procedure,
                            reason: reason.into(),
                            planned_days: rng.random_range(10..=30),
                        }),
                    ));
                }
                S::Terminated => {
                    t = later(rng, t, 1..3);
                    events.push((
                        t,
                        Some(Command::Terminate {
                            reason: TERMINATIONS[rng.random_range(0..TERMINATIONS.len())].into(),
                        }),
                    ));
                }
                _ => {
                    // Deciding, decided, completed: every step done.
                    steps(rng, &mut events, &mut t, g.steps.len());
                    if matches!(state, S::Decided | S::Completed) {
                        t = later(rng, t, 0..2);
                        events.push((
                            t,
                            Some(Command::Decide {
                                outcome: Outcome::Approve,
                                opinion: "准予许可".into(),
                                reasons: String::new(),
                                rights_notice: String::new(),
                                decided_on: None,
                            }),
                        ));
                    }
                    if state == S::Completed {
                        t = later(rng, t, 0..2);
                        let fees = g
                            .fees
                            .iter()
                            .filter(|f| f.amount_fen > 0)
                            .map(|f| FeeCharged {
                                name: f.name.clone(),
                                amount_fen: f.amount_fen,
                            })
                            .collect();
                        events.push((
                            t,
                            Some(Command::Deliver {
                                method: "窗口领取".into(),
                                fees,
                            }),
                        ));
                    }
                }
            }
        }
    }
    let start_of_today = at_time(today, 0, 0);
    events.retain(|(at, _)| *at < start_of_today);
    Some(Plan {
        item,
        channel,
        applicant,
        form,
        events,
    })
}

/// The supervision centre's work on the history's cards: departments
/// explain or rectify most yellow and red cards within their days, the
/// supervisor closes most answers and the warnings of finished cases; a few
/// cards are appealed, one of them revoked.
async fn answer_cards(
    store: &Store,
    rng: &mut ChaCha8Rng,
    posts: &Posts,
    staff: &[onewindow_store::staff::StaffMember],
    day: Date,
    today: Date,
    revoked: &mut bool,
) -> anyhow::Result<()> {
    // Cards of the last week are still waiting for their answer.
    if day >= today - Span::new().days(7) {
        return Ok(());
    }
    let Some(supervisor) = staff.iter().find(|s| s.login == "jiancha") else {
        return Ok(());
    };
    let (mut cards, _) = store
        .cards(&CardFilter {
            from: Some(day),
            to: Some(day),
            limit: 500,
            ..CardFilter::default()
        })
        .await?;
    // In an order of their own (not of ids, which the concurrent history
    // hands out in any order), so that the same seed gives the same answers.
    cards.sort_by(|a, b| {
        let key = |c: &onewindow_store::cards::CardRecord| {
            (
                c.case_number.clone(),
                c.subject_kind.clone(),
                c.deadline_kind.clone(),
                c.condition.clone(),
                c.level.key(),
            )
        };
        key(a).cmp(&key(b))
    });
    for card in &cards {
        let Some(approver) = posts
            .holder
            .get(&(card.department_id, Role::Approver))
            .and_then(|id| staff.iter().find(|s| s.id == *id))
        else {
            continue;
        };
        let at = at_time(card.found_on.tomorrow()?, 16, rng.random_range(0..60));
        if card.level == Level::Warning {
            if rng.random_bool(0.6) {
                let conclusion = "已提醒承办人抓紧办理，予以办结".to_string();
                store
                    .act_on_card(
                        card.id,
                        supervisor,
                        CardCommand::Close { conclusion },
                        vec![],
                        at,
                    )
                    .await?;
            }
            continue;
        }
        let roll = rng.random_range(0..100);
        let answer = if roll < 8 {
            CardCommand::Appeal {
                reasons: "该件因申请人补充现场核查资料延误，非本单位原因，申请复核".into(),
            }
        } else if roll < 55 {
            CardCommand::Explain {
                text: "经查，该件因需外单位协查意见延误，已督促承办人加快办理，今后将提前协调"
                    .into(),
            }
        } else if roll < 90 {
            CardCommand::Rectify {
                text: "已对承办人进行提醒谈话，调整审批环节分工，同类事项承诺时限内办结".into(),
            }
        } else {
            continue;
        };
        let appealed = matches!(answer, CardCommand::Appeal { .. });
        store
            .act_on_card(card.id, approver, answer, vec![], at)
            .await?;
        let later = at + Span::new().hours(20);
        let conclusion = if appealed && !*revoked {
            *revoked = true;
            CardCommand::Revoke {
                reasons: "经核查，延误系申请人原因，撤销该黄牌".into(),
            }
        } else if appealed {
            CardCommand::Uphold {
                reasons: "经核查，延误系内部流转不畅所致，维持原处理".into(),
            }
        } else if rng.random_bool(0.8) {
            CardCommand::Close {
                conclusion: "情况说明属实，整改到位，予以办结".into(),
            }
        } else {
            continue;
        };
        store
            .act_on_card(card.id, supervisor, conclusion, vec![], later)
            .await?;
    }
    Ok(())
}

fn who_for(command: &Command, department_id: i64, facts_role: Option<Role>, posts: &Posts) -> Who {
    let role = match command {
        Command::Resubmit { .. } | Command::Withdraw { .. } => return Who::Applicant,
        Command::Accept { .. }
        | Command::Reject { .. }
        | Command::RequestSupplement { .. }
        | Command::Deliver { .. } => Some(Role::WindowClerk),
        Command::Decide { .. } | Command::Terminate { .. } | Command::Extend { .. } => {
            Some(Role::Approver)
        }
        Command::CompleteStep { .. } | Command::Suspend { .. } | Command::Resume { .. } => {
            facts_role
        }
    };
    role.and_then(|r| posts.holder.get(&(department_id, r)).copied())
        .map(Who::Staff)
        .unwrap_or(Who::System)
}

/// One day of the demo's history: its applications (time, plan) and its
/// commands (time, plan, event).
type DayPlan = (Vec<(Timestamp, usize)>, Vec<(Timestamp, usize, usize)>);

/// Applies the plans day by day: each day's applications in time order (so
/// case numbers do not depend on timing), then each case's commands of the day
/// in their order.
async fn run_plans(
    store: &Store,
    plans: &[Plan],
    posts: &Posts,
    departments: &HashMap<i64, String>,
    rng: &mut ChaCha8Rng,
    now: Timestamp,
) -> anyhow::Result<std::collections::BTreeMap<String, usize>> {
    let today = civil_date(now);
    let mut revoked = false;
    let staff = store.staff(None).await?;
    let mut by_day: std::collections::BTreeMap<Date, DayPlan> = Default::default();
    for (p, plan) in plans.iter().enumerate() {
        for (e, (at, command)) in plan.events.iter().enumerate() {
            let day = by_day.entry(civil_date(*at)).or_default();
            match command {
                None => day.0.push((*at, p)),
                Some(_) => day.1.push((*at, p, e)),
            }
        }
    }
    let mut case_ids: Vec<Option<i64>> = vec![None; plans.len()];
    let mut failures = std::collections::BTreeMap::new();
    for (day, (mut submits, mut commands)) in by_day {
        submits.sort();
        let results: Vec<_> = submits
            .iter()
            .map(|&(at, p)| {
                let plan = &plans[p];
                let new = NewCase {
                    item_id: plan.item.id,
                    channel: plan.channel,
                    applicant: plan.applicant.clone(),
                    form: plan.form.clone(),
                    materials: Vec::new(),
                    registered_by: match plan.channel {
                        Channel::Window => posts
                            .holder
                            .get(&(plan.item.department_id, Role::WindowClerk))
                            .copied(),
                        Channel::Online => None,
                    },
                };
                async move { (p, store.submit_case(new, None, at).await) }
            })
            .collect::<Vec<_>>();
        let results = in_order(results).await;
        for (p, result) in results {
            case_ids[p] = Some(result.context("demo application")?.case.id);
        }
        // Each case's commands of the day in their order; cases side by side.
        commands.sort();
        let mut by_case: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        let mut delivered = Vec::new();
        for &(at, p, e) in &commands {
            by_case.entry(p).or_default().push(e);
            if matches!(plans[p].events[e].1, Some(Command::Deliver { .. })) {
                delivered.push((at, p));
            }
        }
        let results: Vec<Vec<Result<(), onewindow_store::StoreError>>> =
            futures::stream::iter(by_case)
                .map(|(p, events)| {
                    let case_id = case_ids[p];
                    async move {
                        let mut results = Vec::new();
                        for e in events {
                            results.push(match case_id {
                                Some(case_id) => {
                                    apply_planned(store, &plans[p], e, case_id, posts, departments)
                                        .await
                                }
                                None => Ok(()),
                            });
                        }
                        results
                    }
                })
                .buffer_unordered(256)
                .collect()
                .await;
        for result in results.into_iter().flatten() {
            if let Err(e) = result {
                *failures.entry(e.to_string()).or_insert(0) += 1;
            }
        }
        // The supervision centre watched as the days went by: the evening
        // tick issues that day's warnings and cards.
        let evening = at_time(day, 18, 0).min(now);
        store
            .supervise(evening, &[])
            .await
            .context("demo supervision tick")?;
        // Most applicants rate the service once their case is done.
        for (at, p) in delivered {
            let Some(case_id) = case_ids[p] else { continue };
            if !rng.random_bool(0.6) {
                continue;
            }
            let roll = rng.random_range(0..100);
            let (score, comment) = match roll {
                0..62 => (5, ""),
                62..88 => (4, "窗口工作人员耐心细致"),
                88..97 => (3, "等候时间稍长"),
                97..99 => (2, "材料要求没有一次说清楚，多跑了一趟"),
                _ => (1, "办理时间超过承诺时限，也没有电话告知进度"),
            };
            let number = store.case(case_id).await?.number;
            let rating = onewindow_core::rating::Rating {
                score,
                comment: comment.into(),
            };
            let at =
                (at + Span::new().hours(rng.random_range(1..30))).min(now - Span::new().minutes(1));
            // A case whose delivery did not go through is not rated.
            let _ = store
                .rate_case(&number, &plans[p].applicant.phone, rating, at)
                .await;
        }
        answer_cards(store, rng, posts, &staff, day, today, &mut revoked).await?;
    }
    // The night's tick: the county as it stands when today begins.
    store
        .supervise(now, &[])
        .await
        .context("demo supervision tick")?;
    Ok(failures)
}

/// Applies event `e` of a plan to its case as the post holder would.
async fn apply_planned(
    store: &Store,
    plan: &Plan,
    e: usize,
    case_id: i64,
    posts: &Posts,
    departments: &HashMap<i64, String>,
) -> Result<(), onewindow_store::StoreError> {
    let (at, Some(command)) = plan.events[e].clone() else {
        return Ok(());
    };
    let who = who_for(
        &command,
        plan.item.department_id,
        step_role_before(plan, e),
        posts,
    );
    let command = match command {
        Command::Reject { reasons, .. } => Command::Reject {
            reasons,
            rights_notice: default_rights_notice(
                &departments[&plan.item.department_id],
                GOVERNMENT,
            ),
        },
        other => other,
    };
    store
        .apply_command(case_id, None, who, None, at, |ctx| {
            let rules = ctx.item.guide.rules();
            Ok((
                case::decide(&ctx.case.facts, &command, &rules, ctx.calendar.as_ref(), at)?,
                None,
            ))
        })
        .await?;
    Ok(())
}

/// Awaits futures in order, after starting each of them in order: each
/// application reaches the writer's queue in the order given, so the writer
/// numbers them in that order whatever the scheduler does.
async fn in_order<T>(futures: Vec<impl std::future::Future<Output = T>>) -> Vec<T> {
    use futures::FutureExt;
    let waker = futures::task::noop_waker();
    let mut context = std::task::Context::from_waker(&waker);
    let mut started = futures::stream::FuturesOrdered::new();
    for future in futures {
        // The first poll queues the job, then waits for the commit. Tokio's
        // cooperative budget could make that first poll yield before queueing
        // once the task has done enough work; `unconstrained` opts out of it.
        let mut future = tokio::task::unconstrained(future).boxed_local();
        match future.poll_unpin(&mut context) {
            std::task::Poll::Ready(value) => {
                started.push_back(futures::future::ready(value).boxed_local())
            }
            std::task::Poll::Pending => started.push_back(future),
        }
    }
    started.collect().await
}

/// The role of the step a plan's event `e` works on (for choosing the actor).
fn step_role_before(plan: &Plan, e: usize) -> Option<Role> {
    let steps_done = plan.events[..e]
        .iter()
        .filter(|(_, c)| matches!(c, Some(Command::CompleteStep { .. })))
        .count();
    plan.item
        .guide
        .steps
        .get(steps_done)
        .map(|s| s.role)
        .or(Some(Role::Approver))
}
