//! The service catalog (R1): departments and service items with every field of
//! a public guide (办事指南, the six disclosures of R1.2).

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::calendar::{DEFAULT_STATUTORY_LIMIT, JOINT_STATUTORY_LIMIT, LimitUnit, TimeLimit};
use crate::staff::Role;

macro_rules! keyed_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $key:literal, $label:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The stable key used in the database, the API and files.
            pub fn key(self) -> &'static str { match self { $($name::$variant => $key),* } }
            /// The Chinese name shown to people.
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),* } }
            /// Accepts the key or the Chinese name.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.key() == s || v.label() == s)
            }
        }
    };
}

keyed_enum!(
    /// Administrative level of a department or hall (R2.6).
    RegionLevel {
        County = "county", "县级";
        Township = "township", "乡镇";
        Village = "village", "村（社区）";
    }
);

keyed_enum!(
    /// The legal kind of an item (事项类型).
    ItemType {
        License = "license", "行政许可";
        Confirmation = "confirmation", "行政确认";
        PublicService = "public_service", "公共服务";
        Payment = "payment", "行政给付";
        Adjudication = "adjudication", "行政裁决";
        Other = "other", "其他行政权力";
    }
);

keyed_enum!(
    /// Handling category (办件类型, R1.3).
    HandlingCategory {
        Instant = "instant", "即办件";
        OneReview = "one_review", "一审一核件";
        Promised = "promised", "承诺件";
        Joint = "joint", "联办件";
        Escalated = "escalated", "上报件";
        Agent = "agent", "代办件";
    }
);

keyed_enum!(
    /// Who the item serves.
    Target {
        Personal = "personal", "个人";
        Enterprise = "enterprise", "法人";
        Both = "both", "个人和法人";
    }
);

keyed_enum!(
    /// Publication state: only published items take applications (R1.1).
    ItemStatus {
        Draft = "draft", "草稿";
        Published = "published", "已发布";
        Suspended = "suspended", "暂停办理";
    }
);

/// A material the applicant hands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub name: String,
    pub required: bool,
    pub originals: u32,
    pub copies: u32,
    /// Why the material is needed (设定依据 / 用途).
    pub reason: String,
    /// File id of the blank form template, if any.
    #[serde(default)]
    pub template_file: Option<i64>,
    /// File id of a filled sample, if any.
    #[serde(default)]
    pub sample_file: Option<i64>,
}

keyed_enum!(
    /// The kind of an item-specific field of the application form.
    FieldKind {
        Text = "text", "文本";
        LongText = "long_text", "多行文本";
        Number = "number", "数字";
        Date = "date", "日期";
        Phone = "phone", "电话号码";
        IdNumber = "id_number", "身份证号码";
        Choice = "choice", "选项";
    }
);

/// A field the item's application form asks for besides the applicant's
/// identity (e.g. the shop's address, the business scope, the date of birth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Stable key of the value in the case's form data (ASCII, snake_case).
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The choices of a `Choice` field.
    #[serde(default)]
    pub options: Vec<String>,
    /// A short help text shown under the field.
    #[serde(default)]
    pub hint: String,
}

impl FormField {
    /// Longest value accepted, in characters.
    pub fn max_chars(&self) -> usize {
        match self.kind {
            FieldKind::LongText => 2000,
            _ => 200,
        }
    }

    /// Checks one submitted value; an empty optional value is fine.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let value = value.trim();
        if value.is_empty() {
            return if self.required {
                Err(format!("请填写{}", self.label))
            } else {
                Ok(())
            };
        }
        if value.chars().count() > self.max_chars() {
            return Err(format!("{}不得超过{}字", self.label, self.max_chars()));
        }
        let ok = match self.kind {
            FieldKind::Text | FieldKind::LongText => true,
            FieldKind::Number => value.parse::<f64>().is_ok_and(|n| n.is_finite()),
            FieldKind::Date => value.parse::<jiff::civil::Date>().is_ok(),
            FieldKind::Phone => crate::case::is_phone(value),
            FieldKind::IdNumber => crate::case::is_id_number(value),
            FieldKind::Choice => self.options.iter().any(|o| o == value),
        };
        if ok {
            return Ok(());
        }
        Err(match self.kind {
            FieldKind::Number => format!("{}须填写数字", self.label),
            FieldKind::Date => format!("{}须为日期，格式如2026-01-31", self.label),
            FieldKind::Phone => format!("{}不是有效的电话号码", self.label),
            FieldKind::IdNumber => format!("{}不是有效的18位身份证号码", self.label),
            _ => format!("{}须从所列选项中选择", self.label),
        })
    }
}

/// The key under which an application keeps the applicant's own description
/// of what they apply for (申请事项说明), beside the item's form fields: no
/// form field may use it.
pub const DESCRIPTION_KEY: &str = "description";

/// Checks the values of an item's form fields, as submitted under their keys;
/// returns the form data to keep with the case (trimmed, empty values left
/// out) or every problem at once, each named `form.<key>`.
pub fn check_form<'a>(
    fields: &[FormField],
    value_of: impl Fn(&str) -> Option<&'a str>,
) -> Result<serde_json::Map<String, serde_json::Value>, Vec<FieldError>> {
    let mut data = serde_json::Map::new();
    let mut errors = Vec::new();
    for field in fields {
        let value = value_of(&field.key).unwrap_or("").trim();
        match field.check(value) {
            Ok(()) if !value.is_empty() => {
                data.insert(field.key.clone(), value.into());
            }
            Ok(()) => {}
            Err(message) => errors.push(FieldError::new(format!("form.{}", field.key), message)),
        }
    }
    if errors.is_empty() {
        Ok(data)
    } else {
        Err(errors)
    }
}

/// A fee of the item (R12.1). Amounts are in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub name: String,
    /// The standard as published, e.g. "住宅类每件80元".
    pub standard: String,
    pub amount_fen: i64,
    pub lower_bound_fen: i64,
    pub legal_basis: String,
}

/// A step of the back-office flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub role: Role,
    /// Working days allowed for this step (0 = the same day).
    pub limit_days: u32,
}

/// The guide of a service item: everything the public page discloses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guide {
    pub name: String,
    /// 事项编码: opaque string.
    pub code: String,
    /// 实施编码: opaque string.
    pub implementing_code: String,
    pub item_type: ItemType,
    pub category: HandlingCategory,
    pub target: Target,
    pub statutory_limit: TimeLimit,
    pub promised_limit: TimeLimit,
    pub legal_basis: String,
    pub conditions: Vec<String>,
    pub materials: Vec<Material>,
    pub fees: Vec<Fee>,
    pub steps: Vec<Step>,
    /// On-site visits the applicant needs: 0, 1 or 2.
    pub visits: u32,
    pub location: String,
    pub office_hours: String,
    pub contact_phone: String,
    pub complaint_phone: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub life_events: Vec<String>,
    /// Item-specific fields of the application form, in the order shown.
    #[serde(default)]
    pub form_fields: Vec<FormField>,
}

impl Guide {
    /// Checks every field; returns all problems at once so a form or an import
    /// can show them together.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut need = |field: &str, value: &str, label: &str| {
            if value.trim().is_empty() {
                errors.push(FieldError::new(field, format!("{label}不能为空")));
            }
        };
        need("name", &self.name, "事项名称");
        need("code", &self.code, "事项编码");
        need("implementing_code", &self.implementing_code, "实施编码");
        need("legal_basis", &self.legal_basis, "设定依据");
        need("location", &self.location, "办理地点");
        need("office_hours", &self.office_hours, "办理时间");
        need("contact_phone", &self.contact_phone, "咨询电话");
        need("complaint_phone", &self.complaint_phone, "投诉电话");
        if self.name.chars().count() > 200 {
            errors.push(FieldError::new("name", "事项名称不得超过200字"));
        }
        if let Err(e) = self.statutory_limit.validate("statutory_limit") {
            errors.push(e);
        }
        if let Err(e) = self.promised_limit.validate("promised_limit") {
            errors.push(e);
        }
        if let Some(problem) = self.promised_limit_problem() {
            errors.push(FieldError::new("promised_limit", problem));
        }
        if self.visits > 2 {
            errors.push(FieldError::new("visits", "到办事现场次数只能是0、1或2次"));
        }
        if self.materials.is_empty() {
            errors.push(FieldError::new("materials", "申请材料清单不能为空"));
        }
        for (i, m) in self.materials.iter().enumerate() {
            if m.name.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("materials[{i}].name"),
                    "材料名称不能为空",
                ));
            }
        }
        for (i, f) in self.fees.iter().enumerate() {
            if f.name.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("fees[{i}].name"),
                    "收费项目名称不能为空",
                ));
            }
            if f.lower_bound_fen < 0 || f.amount_fen < f.lower_bound_fen {
                errors.push(FieldError::new(
                    format!("fees[{i}].amount_fen"),
                    "收费标准须不低于收费下限，且不能为负数",
                ));
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.name.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("steps[{i}].name"),
                    "环节名称不能为空",
                ));
            }
            if !matches!(s.role, Role::Handler | Role::Reviewer | Role::Approver) {
                errors.push(FieldError::new(
                    format!("steps[{i}].role"),
                    "环节岗位只能是承办、审核或批准",
                ));
            }
        }
        for (i, f) in self.form_fields.iter().enumerate() {
            let key_ok = !f.key.is_empty()
                && f.key.len() <= 40
                && f.key.starts_with(|c: char| c.is_ascii_lowercase())
                && f.key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                errors.push(FieldError::new(
                    format!("form_fields[{i}].key"),
                    "表单字段标识须以小写英文字母开头，只含小写字母、数字和下划线，不超过40个字符",
                ));
            } else if f.key == DESCRIPTION_KEY {
                errors.push(FieldError::new(
                    format!("form_fields[{i}].key"),
                    format!("表单字段标识“{DESCRIPTION_KEY}”已用于申请事项说明，请换一个"),
                ));
            } else if self.form_fields[..i].iter().any(|g| g.key == f.key) {
                errors.push(FieldError::new(
                    format!("form_fields[{i}].key"),
                    format!("表单字段标识“{}”重复", f.key),
                ));
            }
            if f.label.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("form_fields[{i}].label"),
                    "表单字段名称不能为空",
                ));
            }
            if f.kind == FieldKind::Choice && f.options.iter().all(|o| o.trim().is_empty()) {
                errors.push(FieldError::new(
                    format!("form_fields[{i}].options"),
                    "选项类字段须列出至少一个选项",
                ));
            }
        }
        if self.category != HandlingCategory::Instant && self.steps.is_empty() {
            errors.push(FieldError::new("steps", "除即办件外，事项须设置办理环节"));
        }
        if self.promised_limit.unit == LimitUnit::WorkingDays {
            let sum: u32 = self.steps.iter().map(|s| s.limit_days).sum();
            if sum > self.promised_limit.amount {
                errors.push(FieldError::new(
                    "steps",
                    format!("各环节时限之和（{sum}个工作日）超过承诺时限"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Why the promised limit could end later than the statutory limit in
    /// force, if it could. The two are compared in one unit, conservatively:
    /// N natural days never end later than N working days (both count from
    /// the day after the start, and a natural-day period ending on a day off
    /// moves only to the next working day), so a promise in natural days is
    /// held against the working days as if they were natural days. A promise
    /// in working days cannot be held against natural days at all (a working
    /// day count can cross the Spring Festival), so that mix is refused
    /// unless the promise is the same day.
    fn promised_limit_problem(&self) -> Option<String> {
        let promised = self.promised_limit;
        if promised.amount == 0 {
            return None;
        }
        let statutory = self.statutory_limit_in_force();
        let statutory_label = if self.statutory_limit.amount == 0 && statutory.amount > 0 {
            format!(
                "事项未设定，依《中华人民共和国行政许可法》为{}",
                statutory.label()
            )
        } else {
            statutory.label()
        };
        if promised.unit == LimitUnit::WorkingDays && statutory.unit == LimitUnit::NaturalDays {
            return Some(format!(
                "承诺时限按工作日计算、法定时限（{statutory_label}）按自然日计算，无法确认承诺时限不长于法定时限，请将承诺时限改按自然日填写"
            ));
        }
        (promised.amount > statutory.amount).then(|| {
            format!(
                "承诺时限（{}）不得长于法定时限（{statutory_label}）",
                promised.label()
            )
        })
    }

    /// How much shorter the promised limit is than the statutory limit in
    /// force, in percent ("比法定时限压缩 X%"), when both are in the same unit.
    pub fn compression_percent(&self) -> Option<u32> {
        let statutory = self.statutory_limit_in_force();
        if self.promised_limit.unit != statutory.unit || statutory.amount == 0 {
            return None;
        }
        let saved = statutory.amount.saturating_sub(self.promised_limit.amount);
        Some((saved * 100 + statutory.amount / 2) / statutory.amount)
    }

    /// The rules a case of this item follows.
    pub fn rules(&self) -> crate::case::ItemRules<'_> {
        crate::case::ItemRules {
            category: self.category,
            steps: &self.steps,
            promised_limit: self.promised_limit,
            statutory_limit: self.statutory_limit_in_force(),
        }
    }

    /// The statutory limit cases run against: the item's own, or, when it
    /// sets none (0) and is not handled on the spot, the Administrative
    /// Licensing Law's default — 20 working days, 45 for joint or centralised
    /// handling (art. 42).
    pub fn statutory_limit_in_force(&self) -> TimeLimit {
        match (self.statutory_limit.amount, self.category) {
            (0, HandlingCategory::Instant) => self.statutory_limit,
            (0, HandlingCategory::Joint) => JOINT_STATUTORY_LIMIT,
            (0, _) => DEFAULT_STATUTORY_LIMIT,
            _ => self.statutory_limit,
        }
    }

    pub fn is_free(&self) -> bool {
        self.fees.iter().all(|f| f.amount_fen == 0)
    }
}

/// Formats an amount in fen as yuan, e.g. 8050 -> "80.50元".
pub fn yuan(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("{}元", fen / 100)
    } else {
        format!("{}.{:02}元", fen / 100, fen % 100)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_guide() -> Guide {
        Guide {
            name: "食品经营许可（新办）".into(),
            code: "000117001000".into(),
            implementing_code: "11430423MB1234567X4000117001000".into(),
            item_type: ItemType::License,
            category: HandlingCategory::Promised,
            target: Target::Enterprise,
            statutory_limit: TimeLimit::working_days(20),
            promised_limit: TimeLimit::working_days(5),
            legal_basis: "《中华人民共和国食品安全法》第三十五条".into(),
            conditions: vec!["具有与经营的食品品种、数量相适应的经营场所".into()],
            materials: vec![Material {
                name: "食品经营许可申请书".into(),
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
            form_fields: vec![
                FormField {
                    key: "shop_address".into(),
                    label: "经营场所地址".into(),
                    kind: FieldKind::Text,
                    required: true,
                    options: vec![],
                    hint: String::new(),
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
            ],
        }
    }

    #[test]
    fn form_fields_check_every_value_and_report_all_problems() {
        let guide = sample_guide();
        let values = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
        };
        let data = check_form(
            &guide.form_fields,
            values(&[
                ("shop_address", " 开云镇解放路12号 "),
                ("main_format", "餐饮服务经营者"),
            ]),
        )
        .unwrap();
        assert_eq!(data["shop_address"], "开云镇解放路12号");
        assert!(
            !data.contains_key("area"),
            "an empty optional value is left out"
        );

        let errors = check_form(
            &guide.form_fields,
            values(&[("main_format", "小卖部"), ("area", "一百")]),
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["form.shop_address", "form.main_format", "form.area"]
        );
        assert_eq!(errors[0].message, "请填写经营场所地址");
        assert_eq!(errors[2].message, "经营面积（平方米）须填写数字");
    }

    #[test]
    fn form_field_definitions_are_checked() {
        let mut guide = sample_guide();
        guide.form_fields[1].key = "shop_address".into();
        guide.form_fields[2].options.clear();
        guide.form_fields[2].kind = FieldKind::Choice;
        guide.form_fields[0].label = " ".into();
        let errors = guide.validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "form_fields[0].label",
                "form_fields[1].key",
                "form_fields[2].options"
            ]
        );
        guide.form_fields[0].key = "Shop Address".into();
        assert!(guide.validate().unwrap_err()[0].field == "form_fields[0].key");
        guide.form_fields[0].key = DESCRIPTION_KEY.into();
        assert!(guide.validate().unwrap_err()[0].field == "form_fields[0].key");
    }

    #[test]
    fn dates_ids_and_phones_in_form_fields() {
        let field = |kind| FormField {
            key: "x".into(),
            label: "字段".into(),
            kind,
            required: false,
            options: vec![],
            hint: String::new(),
        };
        assert!(field(FieldKind::Date).check("2026-02-29").is_err());
        assert!(field(FieldKind::Date).check("2028-02-29").is_ok());
        assert!(
            field(FieldKind::IdNumber)
                .check("11010519491231002X")
                .is_ok()
        );
        assert!(
            field(FieldKind::IdNumber)
                .check("110105194912310021")
                .is_err()
        );
        assert!(field(FieldKind::Phone).check("13807340001").is_ok());
        assert!(field(FieldKind::Number).check("NaN").is_err());
        assert!(field(FieldKind::LongText).check(&"字".repeat(2000)).is_ok());
        assert!(field(FieldKind::Text).check(&"字".repeat(201)).is_err());
    }

    #[test]
    fn a_complete_guide_is_valid() {
        assert_eq!(sample_guide().validate(), Ok(()));
        assert_eq!(sample_guide().compression_percent(), Some(75));
    }

    #[test]
    fn a_promised_limit_longer_than_the_statutory_one_is_refused() {
        let mut guide = sample_guide();
        guide.promised_limit = TimeLimit::working_days(30);
        guide.name.clear();
        let errors = guide.validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"promised_limit"));
        assert!(fields.contains(&"name"));
    }

    fn promised_limit_error(guide: &Guide) -> Option<String> {
        let errors = guide.validate().err()?;
        errors
            .into_iter()
            .find(|e| e.field == "promised_limit")
            .map(|e| e.message)
    }

    fn natural_days(amount: u32) -> TimeLimit {
        TimeLimit {
            amount,
            unit: LimitUnit::NaturalDays,
        }
    }

    #[test]
    fn the_promise_is_held_against_the_law_s_default_when_the_item_sets_no_limit() {
        let mut guide = sample_guide();
        guide.statutory_limit = TimeLimit::working_days(0);
        guide.promised_limit = TimeLimit::working_days(20);
        assert_eq!(guide.validate(), Ok(()));
        assert_eq!(guide.compression_percent(), Some(0));
        guide.promised_limit = TimeLimit::working_days(21);
        assert_eq!(
            promised_limit_error(&guide).as_deref(),
            Some(
                "承诺时限（21个工作日）不得长于法定时限（事项未设定，依《中华人民共和国行政许可法》为20个工作日）"
            )
        );
        // Joint handling (联办件): 45 working days.
        guide.category = HandlingCategory::Joint;
        guide.promised_limit = TimeLimit::working_days(45);
        assert_eq!(guide.validate(), Ok(()));
        guide.promised_limit = TimeLimit::working_days(46);
        assert!(promised_limit_error(&guide).is_some());
        // An item of its own limit is held to it.
        guide.statutory_limit = TimeLimit::working_days(30);
        assert_eq!(
            promised_limit_error(&guide).as_deref(),
            Some("承诺时限（46个工作日）不得长于法定时限（30个工作日）")
        );
    }

    #[test]
    fn limits_in_different_units_are_compared_conservatively() {
        let mut guide = sample_guide();
        // Natural days against working days: at most as many.
        guide.promised_limit = natural_days(20);
        assert_eq!(guide.validate(), Ok(()));
        guide.promised_limit = natural_days(21);
        assert_eq!(
            promised_limit_error(&guide).as_deref(),
            Some("承诺时限（21个自然日）不得长于法定时限（20个工作日）")
        );
        // Working days against natural days cannot be compared.
        guide.statutory_limit = natural_days(60);
        guide.promised_limit = TimeLimit::working_days(5);
        assert!(
            promised_limit_error(&guide).is_some_and(|m| m.contains("请将承诺时限改按自然日填写")),
        );
        // Unless the promise is to decide the same day.
        guide.promised_limit = TimeLimit::working_days(0);
        guide.steps.iter_mut().for_each(|s| s.limit_days = 0);
        assert_eq!(guide.validate(), Ok(()));
    }

    #[test]
    fn enums_parse_keys_and_chinese_names() {
        assert_eq!(
            HandlingCategory::parse("即办件"),
            Some(HandlingCategory::Instant)
        );
        assert_eq!(
            HandlingCategory::parse("joint"),
            Some(HandlingCategory::Joint)
        );
        assert_eq!(HandlingCategory::parse("快办件"), None);
    }

    #[test]
    fn fees_read_in_yuan() {
        assert_eq!(yuan(8000), "80元");
        assert_eq!(yuan(8050), "80.50元");
    }

    #[test]
    fn items_without_limits_of_their_own_take_the_law_s_defaults() {
        let mut guide = sample_guide();
        guide.category = HandlingCategory::Promised;
        guide.statutory_limit = TimeLimit::working_days(0);
        assert_eq!(guide.rules().statutory_limit, TimeLimit::working_days(20));
        guide.category = HandlingCategory::Joint;
        assert_eq!(guide.rules().statutory_limit, TimeLimit::working_days(45));
        guide.category = HandlingCategory::Instant;
        assert_eq!(guide.rules().statutory_limit, TimeLimit::working_days(0));
    }
}
