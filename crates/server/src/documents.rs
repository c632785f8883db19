//! The printable documents of a case as PDF: 受理通知书, 不予受理决定书,
//! 补正材料一次性告知书, 准予/不予行政许可决定书 and 办结通知书.
//!
//! A document is read from the case's history (the event of the decision it
//! records: its date, reasons, rights notice, supplement list), the item's
//! guide and the department, put into words here, and laid out by one typst
//! template (`documents/notice.typ`) on A4 like an official document. The case
//! data goes to typst as `sys.inputs` strings, which typst prints as text and
//! never evaluates, so whatever an applicant typed prints literally.
//!
//! The template, its fonts (`fonts/`, built into the binary) and typst's
//! standard library are prepared once per process; a document then compiles
//! and exports in tens of milliseconds.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use onewindow_core::calendar::civil_date;
use onewindow_core::case::{Case, Outcome, default_rights_notice};
use onewindow_core::catalog::ItemType;
use onewindow_store::cases::CaseEvent;
use onewindow_store::catalog::ServiceItem;
use onewindow_store::staff::{Department, StaffMember};
use typst::foundations::{Dict, IntoValue, Value};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

use crate::AppState;
use crate::api::cases::can_view;
use crate::auth::{PageUser, StaffUser};
use crate::error::ApiError;
use crate::pages::{date_text, error_page, government_name};

const TEMPLATE: &str = include_str!("../documents/notice.typ");
/// Noto Serif SC Regular (OFL-1.1): body text, full character set.
static REGULAR: &[u8] = include_bytes!("../fonts/NotoSerifSC-Regular.ttf");
/// Noto Serif SC Bold subset to GB 2312 (OFL-1.1): titles and labels.
static BOLD: &[u8] = include_bytes!("../fonts/NotoSerifSC-Bold-GB2312.ttf");

/// The documents a case can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// 受理通知书, after acceptance.
    Acceptance,
    /// 不予受理决定书.
    Rejection,
    /// 补正材料一次性告知书.
    Supplement,
    /// 准予/不予行政许可决定书.
    Decision,
    /// 办结通知书, after delivery.
    Completion,
}

impl DocumentKind {
    /// In the order they arise in a case's history.
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Supplement,
        DocumentKind::Acceptance,
        DocumentKind::Rejection,
        DocumentKind::Decision,
        DocumentKind::Completion,
    ];

    /// The name in the document's address: `/work/cases/{id}/documents/{key}.pdf`.
    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Acceptance => "acceptance",
            DocumentKind::Rejection => "rejection",
            DocumentKind::Supplement => "supplement",
            DocumentKind::Decision => "decision",
            DocumentKind::Completion => "completion",
        }
    }

    pub fn parse(key: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The event of the case's history the document records.
    fn action(self) -> &'static str {
        match self {
            DocumentKind::Acceptance => "accept",
            DocumentKind::Rejection => "reject",
            DocumentKind::Supplement => "request_supplement",
            DocumentKind::Decision => "decide",
            DocumentKind::Completion => "deliver",
        }
    }

    /// The document's title; a decision's depends on its outcome and on
    /// whether the item is an administrative licence.
    pub fn title(self, outcome: Option<Outcome>, licence: bool) -> &'static str {
        match (self, outcome, licence) {
            (DocumentKind::Acceptance, ..) => "受理通知书",
            (DocumentKind::Rejection, ..) => "不予受理决定书",
            (DocumentKind::Supplement, ..) => "补正材料一次性告知书",
            (DocumentKind::Decision, Some(Outcome::Deny), true) => "不予行政许可决定书",
            (DocumentKind::Decision, Some(Outcome::Deny), false) => "不予办理决定书",
            (DocumentKind::Decision, _, true) => "准予行政许可决定书",
            (DocumentKind::Decision, _, false) => "准予办理决定书",
            (DocumentKind::Completion, ..) => "办结通知书",
        }
    }

    /// The word of the document number, as in 衡市监受字〔2026〕第17号.
    fn number_word(self, outcome: Option<Outcome>) -> &'static str {
        match (self, outcome) {
            (DocumentKind::Acceptance, _) => "受",
            (DocumentKind::Rejection, _) => "不受",
            (DocumentKind::Supplement, _) => "补",
            (DocumentKind::Decision, Some(Outcome::Deny)) => "不许",
            (DocumentKind::Decision, _) => "许",
            (DocumentKind::Completion, _) => "结",
        }
    }

    /// Why the document does not exist yet, for the error page.
    fn missing_message(self) -> &'static str {
        match self {
            DocumentKind::Acceptance => "本办件尚未受理，暂不能出具受理通知书。",
            DocumentKind::Rejection => "本办件未作出不予受理决定，没有不予受理决定书。",
            DocumentKind::Supplement => "本办件未发出补正材料告知，没有补正材料一次性告知书。",
            DocumentKind::Decision => "本办件尚未作出准予或不予许可的决定，暂不能出具决定书。",
            DocumentKind::Completion => "本办件尚未办结送达，暂不能出具办结通知书。",
        }
    }
}

/// The documents a case's history allows, in the order they arise.
pub fn available<'a>(actions: impl IntoIterator<Item = &'a str>) -> Vec<DocumentKind> {
    let actions: Vec<&str> = actions.into_iter().collect();
    DocumentKind::ALL
        .into_iter()
        .filter(|k| actions.contains(&k.action()))
        .collect()
}

/// A link to one document on the case page.
#[derive(Debug, Clone)]
pub struct DocumentLink {
    pub title: String,
    pub href: String,
}

/// The links to the documents of `case`, given the actions of its history.
pub fn links<'a>(case: &Case, actions: impl IntoIterator<Item = &'a str>) -> Vec<DocumentLink> {
    available(actions)
        .into_iter()
        .map(|kind| DocumentLink {
            // The case page does not load the item; the title of a decision
            // names the outcome only.
            title: match (kind, case.facts.outcome) {
                (DocumentKind::Decision, Some(Outcome::Deny)) => "不予许可决定书".into(),
                (DocumentKind::Decision, _) => "准予许可决定书".into(),
                (kind, _) => kind.title(None, true).into(),
            },
            href: format!("/work/cases/{}/documents/{}.pdf", case.id, kind.key()),
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The document's content.

/// A document in words, ready for the template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The issuing authority, e.g. 衡山县市场监督管理局.
    pub issuer: String,
    pub title: String,
    /// e.g. 衡市监受字〔2026〕第17号.
    pub number: String,
    /// Whom the document is addressed to (the organisation or the person).
    pub recipient: String,
    pub paragraphs: Vec<String>,
    /// Material and problem, one row each (supplement notice).
    pub items: Vec<(String, String)>,
    /// Paragraphs after the list.
    pub closing: Vec<String>,
    /// Label and value of the case's facts.
    pub facts: Vec<(String, String)>,
    pub contacts: Vec<String>,
    /// The document's date, 2026年11月23日.
    pub date: String,
    /// Small print at the foot of the page.
    pub notes: Vec<String>,
    /// The file name offered to the browser, e.g. 受理通知书（430423-20261123-00001）.pdf.
    pub file_name: String,
}

/// Text as it may go on paper: no control characters, trimmed.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Text typed in a form (reasons, notices) as paragraphs, one per line.
fn paragraphs_of(text: &str) -> Vec<String> {
    text.lines()
        .map(clean)
        .filter(|line| !line.is_empty())
        .collect()
}

/// Paragraphs as a typst array of strings.
fn strings(values: &[String]) -> Value {
    values
        .iter()
        .map(|s| clean(s))
        .collect::<Vec<_>>()
        .into_value()
}

/// Pairs as a typst array of two-string arrays.
fn pairs(values: &[(String, String)]) -> Value {
    values
        .iter()
        .map(|(a, b)| vec![clean(a), clean(b)])
        .collect::<Vec<_>>()
        .into_value()
}

impl Document {
    /// The document as typst's `sys.inputs`: strings and arrays of strings.
    pub fn inputs(&self) -> Dict {
        let mut dict = Dict::new();
        let mut text = |key: &str, value: &str| {
            dict.insert(key.into(), clean(value).into_value());
        };
        text("issuer", &self.issuer);
        text("title", &self.title);
        text("number", &self.number);
        text("recipient", &self.recipient);
        text("date", &self.date);
        dict.insert("paragraphs".into(), strings(&self.paragraphs));
        dict.insert("items".into(), pairs(&self.items));
        dict.insert("closing".into(), strings(&self.closing));
        dict.insert("facts".into(), pairs(&self.facts));
        dict.insert("contacts".into(), strings(&self.contacts));
        dict.insert("notes".into(), strings(&self.notes));
        dict
    }
}

/// Short forms of department names in document numbers (衡市监, 衡住建...).
const DEPARTMENT_SHORT: &[(&str, &str)] = &[
    ("市场监督管理", "市监"),
    ("住房和城乡建设", "住建"),
    ("人力资源和社会保障", "人社"),
    ("自然资源", "自然资"),
    ("行政审批", "审批"),
    ("政务服务", "政务"),
    ("交通运输", "交"),
    ("卫生健康", "卫健"),
    ("生态环境", "环"),
    ("农业农村", "农"),
    ("文化旅游", "文旅"),
    ("应急管理", "应急"),
    ("医疗保障", "医保"),
    ("退役军人事务", "退役军人"),
    ("城市管理", "城管"),
    ("发展和改革", "发改"),
    ("教育", "教"),
    ("民政", "民"),
    ("公安", "公"),
    ("水利", "水"),
    ("林业", "林"),
    ("商务", "商"),
    ("财政", "财"),
    ("司法", "司"),
    ("税务", "税"),
];

/// The prefix of a document number: the region's first character and the
/// department's short form, e.g. 衡 + 市监 for 衡山县市场监督管理局.
fn number_prefix(region_name: &str, department: &str) -> String {
    let region = region_name.trim().trim_end_matches("政务服务网");
    let own = department.strip_prefix(region).unwrap_or(department);
    let short = DEPARTMENT_SHORT
        .iter()
        .find(|(long, _)| own.starts_with(long))
        .map(|(_, short)| short.to_string())
        .unwrap_or_else(|| {
            own.trim_end_matches(['局', '委', '办', '厅', '处'])
                .chars()
                .take(2)
                .collect()
        });
    let region_char: String = region.chars().take(1).collect();
    format!("{region_char}{short}")
}

/// e.g. 衡市监受字〔2026〕第17号; the case's id numbers it.
pub fn document_number(
    region_name: &str,
    department: &str,
    kind: DocumentKind,
    outcome: Option<Outcome>,
    year: i16,
    serial: i64,
) -> String {
    format!(
        "{}{}字〔{year}〕第{serial}号",
        number_prefix(region_name, department),
        kind.number_word(outcome)
    )
}

/// What a document is made from.
pub struct Sources<'a> {
    pub region_name: &'a str,
    pub government: &'a str,
    pub case: &'a Case,
    pub events: &'a [CaseEvent],
    pub item: &'a ServiceItem,
    pub department: &'a Department,
}

fn last_event<'a>(events: &'a [CaseEvent], action: &str) -> Option<&'a CaseEvent> {
    events.iter().rev().find(|e| e.action == action)
}

/// A text of the event's detail, trimmed; line breaks are kept (reasons are
/// split into paragraphs at them, and `clean` makes them spaces elsewhere).
fn detail_text(event: &CaseEvent, key: &str) -> String {
    event
        .detail
        .get(key)
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn event_date(event: &CaseEvent) -> Date {
    civil_date(event.at)
}

/// Puts the document of `kind` into words, or says why the case has none.
pub fn compose(sources: &Sources<'_>, kind: DocumentKind) -> Result<Document, ApiError> {
    let Sources {
        region_name,
        government,
        case,
        events,
        item,
        department,
    } = sources;
    let missing = || ApiError::new(StatusCode::CONFLICT, "conflict", kind.missing_message());
    let event = last_event(events, kind.action()).ok_or_else(missing)?;
    let guide = &item.guide;
    let licence = guide.item_type == ItemType::License;
    let decision = last_event(events, "decide");
    let outcome = match kind {
        DocumentKind::Decision | DocumentKind::Completion => decision
            .and_then(|e| e.detail.get("outcome"))
            .and_then(|o| o.as_str())
            .and_then(Outcome::parse)
            .or(case.facts.outcome),
        _ => None,
    };
    let decided_on = decision.map(|e| {
        e.detail
            .get("decided_on")
            .and_then(|d| d.as_str())
            .and_then(|d| d.parse::<Date>().ok())
            .unwrap_or_else(|| event_date(e))
    });
    let accepted_on = last_event(events, "accept").map(event_date);
    let date = match kind {
        DocumentKind::Decision => decided_on.unwrap_or_else(|| event_date(event)),
        _ => event_date(event),
    };
    let title = kind.title(outcome, licence);
    let applicant = &case.applicant;
    let person = clean(&applicant.name);
    let organization = clean(&applicant.organization);
    let recipient = if organization.is_empty() {
        person.clone()
    } else {
        organization.clone()
    };
    let you = if organization.is_empty() {
        "你"
    } else {
        "你单位"
    };
    let item_name = clean(&guide.name);
    // The materials the document answers: those of the (re)submission before
    // its event. A supplement notice printed after the resubmission still
    // names the first submission.
    let received_on = match kind {
        DocumentKind::Supplement | DocumentKind::Rejection => events
            .iter()
            .rfind(|e| e.id < event.id && (e.action == "submit" || e.action == "resubmit"))
            .map(event_date)
            .unwrap_or(case.facts.received_on),
        _ => case.facts.received_on,
    };
    let received = date_text(received_on);
    let applied = format!(
        "{you}于{received}提出的“{item_name}”申请（办件编号：{}）",
        case.number
    );
    let law = "《中华人民共和国行政许可法》";
    let rights = |event: &CaseEvent| {
        let stored = paragraphs_of(&detail_text(event, "rights_notice"));
        if stored.iter().any(|p| p.contains("行政复议")) {
            stored
        } else {
            vec![default_rights_notice(&department.name, government)]
        }
    };
    let instant = guide.promised_limit.amount == 0;
    let promised_limit = guide.promised_limit.label();

    let mut paragraphs = Vec::new();
    let mut items = Vec::new();
    let mut closing = Vec::new();
    match kind {
        DocumentKind::Acceptance => {
            let deemed = event
                .detail
                .get("deemed_accepted")
                .and_then(|v| v.as_bool())
                == Some(true);
            if deemed {
                paragraphs.push(format!(
                    "{applied}，本机关未在收到申请材料之日起五个工作日内作出是否受理的决定。\
                     依照{law}第三十二条第一款第（四）项的规定，该申请自{received}起即为受理。"
                ));
            } else if licence {
                paragraphs.push(format!(
                    "{applied}，经审查，申请事项属于本机关职权范围，申请材料齐全、符合法定形式。\
                     根据{law}第三十二条第一款第（五）项的规定，本机关决定予以受理。"
                ));
            } else {
                paragraphs.push(format!(
                    "{applied}，经审查，申请事项属于本机关职责范围，申请材料齐全、符合规定形式，\
                     本机关决定予以受理。"
                ));
            }
            let opinion = detail_text(event, "opinion");
            if !opinion.is_empty() {
                paragraphs.push(format!("受理意见：{opinion}"));
            }
            match (case.facts.promised_due, case.facts.statutory_due) {
                (Some(_), _) if instant => {
                    paragraphs.push("本事项为即办件，本机关当场办结。".to_string())
                }
                (Some(promised), Some(statutory)) => paragraphs.push(format!(
                    "本机关承诺在{promised_limit}内办结，即于{}前作出决定；法定办结期限为{}。\
                     依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，\
                     所需时间不计算在办理期限内，本机关将书面告知{you}。",
                    date_text(promised),
                    date_text(statutory)
                )),
                (Some(promised), None) => {
                    paragraphs.push(format!("本机关承诺于{}前作出决定。", date_text(promised)))
                }
                _ => {}
            }
            paragraphs.push(format!(
                "{you}可凭办件编号和申请时留存的手机号码在{region_name}政务服务网查询办理进度。"
            ));
        }
        DocumentKind::Rejection => {
            paragraphs.push(format!("{applied}，经审查，本机关决定不予受理，理由如下："));
            paragraphs.extend(paragraphs_of(&detail_text(event, "reasons")));
            if licence {
                paragraphs.push(format!(
                    "根据{law}第三十二条第一款的规定，本机关决定对该申请不予受理。"
                ));
            }
            paragraphs.extend(rights(event));
        }
        DocumentKind::Supplement => {
            paragraphs.push(format!(
                "{applied}，经审查，申请材料不齐全或者不符合法定形式。{}现一次性告知{you}需要补正的全部内容如下：",
                if licence {
                    format!("根据{law}第三十二条第一款第（四）项的规定，")
                } else {
                    String::new()
                }
            ));
            items = event
                .detail
                .get("items")
                .and_then(|v| v.as_array())
                .map(|list| {
                    list.iter()
                        .map(|i| {
                            let field = |k: &str| {
                                i.get(k)
                                    .and_then(|v| v.as_str())
                                    .map(clean)
                                    .unwrap_or_default()
                            };
                            (field("material"), field("problem"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let note = detail_text(event, "note");
            if !note.is_empty() {
                closing.push(format!("其他说明：{note}"));
            }
            closing.push(format!(
                "请{you}按上述要求一次性补正全部材料后重新提交。本机关自收到全部补正材料之日起\
                 重新计算受理期限；除上述内容外，本机关不再要求补正其他材料。"
            ));
        }
        DocumentKind::Decision => {
            let accepted = accepted_on
                .map(|d| format!("，本机关于{}受理", date_text(d)))
                .unwrap_or_default();
            let opinion = detail_text(event, "opinion");
            let basis = clean(&guide.legal_basis);
            match outcome {
                Some(Outcome::Deny) => {
                    paragraphs.push(format!(
                        "{applied}{accepted}。经审查，该申请不符合法定条件、标准，理由如下："
                    ));
                    paragraphs.extend(paragraphs_of(&detail_text(event, "reasons")));
                    if !opinion.is_empty() {
                        paragraphs.push(format!("审查意见：{opinion}"));
                    }
                    paragraphs.push(if licence {
                        format!("根据{law}第三十八条第二款的规定，本机关决定不予行政许可。")
                    } else {
                        "本机关决定不予办理。".to_string()
                    });
                    paragraphs.extend(rights(event));
                }
                _ => {
                    let basis = if basis.is_empty() {
                        String::new()
                    } else {
                        format!("{basis}和")
                    };
                    paragraphs.push(format!(
                        "{applied}{accepted}。经审查，该申请符合法定条件、标准。"
                    ));
                    if !opinion.is_empty() {
                        paragraphs.push(format!("审查意见：{opinion}"));
                    }
                    if licence {
                        paragraphs.push(format!(
                            "根据{basis}{law}第三十八条第一款的规定，本机关决定准予行政许可。\
                             本机关将自作出本决定之日起十个工作日内向{you}颁发、送达行政许可证件。"
                        ));
                    } else {
                        paragraphs.push(format!("根据{basis}有关规定，本机关决定准予办理。"));
                    }
                }
            }
        }
        DocumentKind::Completion => {
            let accepted = accepted_on
                .map(|d| format!("，本机关已于{}受理", date_text(d)))
                .unwrap_or_default();
            let decided = match (decided_on, outcome) {
                (Some(d), Some(o)) => format!(
                    "，于{}作出{}的决定",
                    date_text(d),
                    match (o, licence) {
                        (Outcome::Approve, true) => "准予行政许可",
                        (Outcome::Approve, false) => "准予办理",
                        (Outcome::Deny, true) => "不予行政许可",
                        (Outcome::Deny, false) => "不予办理",
                    }
                ),
                _ => String::new(),
            };
            let method = detail_text(event, "method");
            let delivered = if method.is_empty() {
                format!("，于{}送达", date_text(date))
            } else {
                format!("，于{}以“{method}”方式送达", date_text(date))
            };
            paragraphs.push(format!(
                "{applied}{accepted}{decided}{delivered}。该申请现已办结。"
            ));
            let fees: Vec<String> = event
                .detail
                .get("fees")
                .and_then(|v| v.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|f| {
                            let name = clean(f.get("name")?.as_str()?);
                            let fen = f.get("amount_fen")?.as_i64()?;
                            Some(format!("{name}{}.{:02}元", fen / 100, fen % 100))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if fees.is_empty() {
                paragraphs.push("本事项办理未收取任何费用。".to_string());
            } else {
                paragraphs.push(format!("本事项依法收取费用：{}。", fees.join("，")));
            }
            if let Some(due) = case.facts.promised_due {
                let on_time = date <= due || decided_on.is_some_and(|d| d <= due);
                paragraphs.push(format!(
                    "本事项承诺办结期限为{}，{}。",
                    date_text(due),
                    if on_time {
                        "已按期办结"
                    } else {
                        "已办结"
                    }
                ));
            }
            paragraphs.push(format!(
                "感谢{you}对本机关工作的支持。如对办理过程或结果有意见、建议，请拨打监督投诉电话反映，\
                 也可通过“好差评”渠道对本次服务作出评价。"
            ));
        }
    }

    let mut facts = vec![
        (
            "申请人".to_string(),
            if organization.is_empty() {
                person.clone()
            } else {
                format!("{organization}（申请人：{person}）")
            },
        ),
        ("申请事项".to_string(), item_name.clone()),
        ("办件编号".to_string(), case.number.clone()),
        ("收件日期".to_string(), received.clone()),
    ];
    let mut fact = |label: &str, value: Option<Date>| {
        if let Some(value) = value {
            facts.push((label.to_string(), date_text(value)));
        }
    };
    match kind {
        DocumentKind::Rejection => fact("决定日期", Some(date)),
        DocumentKind::Supplement => fact("告知日期", Some(date)),
        DocumentKind::Acceptance => {
            fact("受理日期", Some(date));
            fact("承诺办结期限", case.facts.promised_due);
            fact("法定办结期限", case.facts.statutory_due);
        }
        DocumentKind::Decision => {
            fact("受理日期", accepted_on);
            fact("决定日期", Some(date));
            fact("承诺办结期限", case.facts.promised_due);
        }
        DocumentKind::Completion => {
            fact("受理日期", accepted_on);
            fact("决定日期", decided_on);
            fact("承诺办结期限", case.facts.promised_due);
            fact("办结日期", Some(date));
        }
    }

    let mut contacts = Vec::new();
    let phone = clean(if guide.contact_phone.trim().is_empty() {
        &department.phone
    } else {
        &guide.contact_phone
    });
    if !phone.is_empty() {
        contacts.push(format!("联系电话：{phone}"));
    }
    let place = clean(if guide.location.trim().is_empty() {
        &department.address
    } else {
        &guide.location
    });
    if !place.is_empty() {
        contacts.push(format!("办理地点：{place}"));
    }
    let complaint = clean(&guide.complaint_phone);
    if !complaint.is_empty() {
        contacts.push(format!("监督投诉电话：{complaint}"));
    }

    let number = document_number(
        region_name,
        &department.name,
        kind,
        outcome,
        date.year(),
        case.id,
    );
    Ok(Document {
        issuer: clean(&department.name),
        title: title.to_string(),
        number,
        recipient,
        paragraphs,
        items,
        closing,
        facts,
        contacts,
        date: date_text(date),
        notes: vec!["本文书一式两份，一份送达申请人，一份由本机关存档。".to_string()],
        file_name: format!("{title}（{}）.pdf", case.number),
    })
}

// ---------------------------------------------------------------------------
// Rendering.

type Engine = TypstEngine<TypstTemplateMainFile>;

/// The template with its fonts and typst's library, prepared once.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        TypstEngine::builder()
            .main_file(TEMPLATE)
            .fonts([REGULAR, BOLD])
            .build()
    })
}

/// Lays out the document and exports it as PDF (fonts subset and embedded).
/// CPU-bound: call it off the async runtime.
pub fn render(document: &Document) -> Result<Vec<u8>, ApiError> {
    // The document type (typst-layout's PagedDocument) is inferred from
    // typst_pdf::pdf below.
    let paged = engine()
        .compile_with_input(document.inputs())
        .output
        .map_err(|e| ApiError::internal(format!("typst: {e}")))?;
    let options = typst_pdf::PdfOptions {
        ident: typst::foundations::Smart::Custom(document.number.clone()),
        ..Default::default()
    };
    typst_pdf::pdf(&paged, &options).map_err(|e| ApiError::internal(format!("typst-pdf: {e:?}")))
}

/// `inline; filename="..."; filename*=UTF-8''...` with the Chinese name
/// percent-encoded (RFC 6266 / 5987) and an ASCII name for old clients.
pub fn content_disposition(ascii_name: &str, file_name: &str) -> String {
    let encoded: String = file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let ascii: String = ascii_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

// ---------------------------------------------------------------------------
// The page.

/// The case if `member` may see it; another department's case reads as absent
/// (the same rule as the case page).
async fn visible_case(state: &AppState, member: &StaffMember, id: &str) -> Result<Case, ApiError> {
    let not_found = || ApiError::not_found("未找到该办件");
    let id: i64 = id.trim().parse().map_err(|_| not_found())?;
    let case = state.store.case(id).await.map_err(|e| match e {
        onewindow_store::StoreError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    if !can_view(&StaffUser(member.clone()), &case) {
        return Err(not_found());
    }
    Ok(case)
}

/// `GET /work/cases/{id}/documents/{kind}.pdf`.
pub async fn document_pdf(
    State(state): State<AppState>,
    PageUser(member): PageUser,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let result = async {
        let kind = file
            .strip_suffix(".pdf")
            .and_then(DocumentKind::parse)
            .ok_or_else(|| ApiError::not_found("没有这种文书。"))?;
        let case = visible_case(&state, &member, &id).await?;
        let events = state.store.case_events(case.id).await?;
        let item = state.store.item(case.item_id).await?;
        let department = state.store.department(case.department_id).await?;
        let government = government_name(&state);
        let document = compose(
            &Sources {
                region_name: state
                    .settings
                    .region_name
                    .trim()
                    .trim_end_matches("政务服务网"),
                government: &government,
                case: &case,
                events: &events,
                item: &item,
                department: &department,
            },
            kind,
        )?;
        let started = Instant::now();
        let (document, pdf) = tokio::task::spawn_blocking(move || {
            let pdf = render(&document);
            (document, pdf)
        })
        .await
        .map_err(|e| ApiError::internal(format!("rendering task: {e}")))?;
        let pdf = pdf?;
        tracing::debug!(
            case = case.id,
            kind = kind.key(),
            ms = started.elapsed().as_millis() as u64,
            bytes = pdf.len(),
            "document rendered"
        );
        let ascii = format!("{}-{}.pdf", kind.key(), case.id);
        Ok::<_, ApiError>((document, ascii, pdf))
    }
    .await;
    match result {
        Ok((document, ascii, pdf)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                // The pages' policy (object-src 'none'...) would keep some
                // browsers' built-in PDF viewers from showing the document.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "frame-ancestors 'none'".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    content_disposition(&ascii, &document.file_name),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(e) => error_page(&state, Some(member.name.clone()), &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_numbers_use_the_short_department_name() {
        assert_eq!(
            document_number(
                "衡山县",
                "衡山县市场监督管理局",
                DocumentKind::Acceptance,
                None,
                2026,
                17
            ),
            "衡市监受字〔2026〕第17号"
        );
        assert_eq!(
            document_number(
                "衡山县",
                "衡山县住房和城乡建设局",
                DocumentKind::Decision,
                Some(Outcome::Deny),
                2026,
                3
            ),
            "衡住建不许字〔2026〕第3号"
        );
        assert_eq!(
            document_number(
                "衡山县",
                "衡山县气象局",
                DocumentKind::Completion,
                None,
                2027,
                1
            ),
            "衡气象结字〔2027〕第1号"
        );
    }

    #[test]
    fn documents_follow_the_history() {
        assert_eq!(available(["submit"]), vec![]);
        assert_eq!(
            available([
                "submit",
                "request_supplement",
                "resubmit",
                "accept",
                "decide"
            ]),
            vec![
                DocumentKind::Supplement,
                DocumentKind::Acceptance,
                DocumentKind::Decision
            ]
        );
        assert_eq!(
            DocumentKind::parse("rejection"),
            Some(DocumentKind::Rejection)
        );
        assert_eq!(DocumentKind::parse("other"), None);
    }

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(
            content_disposition("acceptance-1.pdf", "受理通知书（1）.pdf"),
            "inline; filename=\"acceptance-1.pdf\"; \
             filename*=UTF-8''%E5%8F%97%E7%90%86%E9%80%9A%E7%9F%A5%E4%B9%A6%EF%BC%881%EF%BC%89.pdf"
        );
    }

    #[test]
    fn markup_characters_stay_text() {
        let document = Document {
            issuer: "衡山县市场监督管理局".into(),
            title: "受理通知书".into(),
            number: "衡市监受字〔2026〕第1号".into(),
            recipient: "#set page(width: 1pt) *粗* [x] $y$ \\ \" <l> @r".into(),
            date: "2026年11月23日".into(),
            ..Default::default()
        };
        let pdf = render(&document).expect("a PDF");
        assert!(pdf.starts_with(b"%PDF"));
    }
}
