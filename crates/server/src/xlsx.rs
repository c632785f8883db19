//! The catalog as a spreadsheet, for editing in Excel or WPS: one sheet of
//! items and one sheet each for materials, fees, steps and application form
//! fields, joined by the item code. Export, edit a cell, import: the change is
//! applied. An import with any bad cell is refused whole, each problem named
//! by sheet, row and column.
//!
//! A workbook exported before the form-field sheet existed still imports: its
//! items already in the catalog keep their form fields (`ImportRow::
//! keep_form_fields`, merged by the store inside its write job), new ones
//! have none.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use onewindow_core::calendar::{LimitUnit, TimeLimit};
use onewindow_core::catalog::{
    Fee, FieldKind, FormField, Guide, HandlingCategory, ItemStatus, ItemType, Material, Step,
    Target,
};
use onewindow_core::staff::Role;
use onewindow_store::catalog::{ImportRow, ServiceItem};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

const ITEMS: &str = "事项";
const MATERIALS: &str = "申请材料";
const FEES: &str = "收费";
const STEPS: &str = "办理环节";
const FORM_FIELDS: &str = "表单字段";
/// The sheets in the order they are written and their problems reported.
const SHEET_ORDER: [&str; 5] = [ITEMS, MATERIALS, FEES, STEPS, FORM_FIELDS];

const ITEM_HEADERS: [&str; 21] = [
    "部门编码",
    "事项编码",
    "实施编码",
    "事项名称",
    "状态",
    "事项类型",
    "办件类型",
    "服务对象",
    "法定时限",
    "法定时限单位",
    "承诺时限",
    "承诺时限单位",
    "到现场次数",
    "设定依据",
    "受理条件",
    "办理地点",
    "办理时间",
    "咨询电话",
    "投诉电话",
    "别名",
    "主题分类",
];
const MATERIAL_HEADERS: [&str; 8] = [
    "事项编码",
    "材料名称",
    "是否必需",
    "原件份数",
    "复印件份数",
    "用途说明",
    "模板文件编号",
    "样表文件编号",
];
const FEE_HEADERS: [&str; 6] = [
    "事项编码",
    "收费项目",
    "收费标准",
    "收费金额（元）",
    "收费下限（元）",
    "收费依据",
];
const STEP_HEADERS: [&str; 4] = ["事项编码", "环节名称", "岗位", "环节时限（工作日）"];
const FORM_FIELD_HEADERS: [&str; 7] = [
    "事项编码",
    "字段标识",
    "字段名称",
    "类型",
    "是否必填",
    "选项",
    "填写说明",
];

fn header_row(sheet: &mut Worksheet, headers: &[&str], widths: &[f64]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold().set_background_color("#DCE6F1");
    for (col, (header, width)) in headers
        .iter()
        .zip(widths.iter().chain(std::iter::repeat(&14.0)))
        .enumerate()
    {
        sheet.write_string_with_format(0, col as u16, *header, &bold)?;
        sheet.set_column_width(col as u16, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn step_role_label(role: Role) -> &'static str {
    role.label()
}

/// Writes every item and its lists.
pub fn export(items: &[(String, ServiceItem)]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet().set_name(ITEMS)?;
    header_row(
        sheet,
        &ITEM_HEADERS,
        &[
            10.0, 16.0, 24.0, 30.0, 10.0, 12.0, 12.0, 10.0, 8.0, 10.0, 8.0, 10.0, 8.0, 40.0, 40.0,
            30.0, 24.0, 14.0, 14.0, 20.0, 16.0,
        ],
    )?;
    for (i, (department_code, item)) in items.iter().enumerate() {
        let g = &item.guide;
        let row = i as u32 + 1;
        let texts: [String; 21] = [
            department_code.clone(),
            g.code.clone(),
            g.implementing_code.clone(),
            g.name.clone(),
            item.status.label().into(),
            g.item_type.label().into(),
            g.category.label().into(),
            g.target.label().into(),
            String::new(),
            unit_label(g.statutory_limit.unit).into(),
            String::new(),
            unit_label(g.promised_limit.unit).into(),
            String::new(),
            g.legal_basis.clone(),
            g.conditions.join("\n"),
            g.location.clone(),
            g.office_hours.clone(),
            g.contact_phone.clone(),
            g.complaint_phone.clone(),
            g.aliases.join("、"),
            g.life_events.join("、"),
        ];
        for (col, text) in texts.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(row, col as u16, text)?;
            }
        }
        sheet.write_number(row, 8, f64::from(g.statutory_limit.amount))?;
        sheet.write_number(row, 10, f64::from(g.promised_limit.amount))?;
        sheet.write_number(row, 12, f64::from(g.visits))?;
    }

    let sheet = workbook.add_worksheet().set_name(MATERIALS)?;
    header_row(
        sheet,
        &MATERIAL_HEADERS,
        &[16.0, 36.0, 10.0, 10.0, 10.0, 40.0, 12.0, 12.0],
    )?;
    let mut row = 1;
    for (_, item) in items {
        for m in &item.guide.materials {
            sheet.write_string(row, 0, &item.guide.code)?;
            sheet.write_string(row, 1, &m.name)?;
            sheet.write_string(row, 2, if m.required { "是" } else { "否" })?;
            sheet.write_number(row, 3, f64::from(m.originals))?;
            sheet.write_number(row, 4, f64::from(m.copies))?;
            sheet.write_string(row, 5, &m.reason)?;
            if let Some(id) = m.template_file {
                sheet.write_number(row, 6, id as f64)?;
            }
            if let Some(id) = m.sample_file {
                sheet.write_number(row, 7, id as f64)?;
            }
            row += 1;
        }
    }

    let sheet = workbook.add_worksheet().set_name(FEES)?;
    header_row(sheet, &FEE_HEADERS, &[16.0, 24.0, 24.0, 14.0, 14.0, 40.0])?;
    let mut row = 1;
    for (_, item) in items {
        for f in &item.guide.fees {
            sheet.write_string(row, 0, &item.guide.code)?;
            sheet.write_string(row, 1, &f.name)?;
            sheet.write_string(row, 2, &f.standard)?;
            sheet.write_number(row, 3, f.amount_fen as f64 / 100.0)?;
            sheet.write_number(row, 4, f.lower_bound_fen as f64 / 100.0)?;
            sheet.write_string(row, 5, &f.legal_basis)?;
            row += 1;
        }
    }

    let sheet = workbook.add_worksheet().set_name(STEPS)?;
    header_row(sheet, &STEP_HEADERS, &[16.0, 20.0, 10.0, 18.0])?;
    let mut row = 1;
    for (_, item) in items {
        for s in &item.guide.steps {
            sheet.write_string(row, 0, &item.guide.code)?;
            sheet.write_string(row, 1, &s.name)?;
            sheet.write_string(row, 2, step_role_label(s.role))?;
            sheet.write_number(row, 3, f64::from(s.limit_days))?;
            row += 1;
        }
    }

    let sheet = workbook.add_worksheet().set_name(FORM_FIELDS)?;
    header_row(
        sheet,
        &FORM_FIELD_HEADERS,
        &[16.0, 20.0, 24.0, 12.0, 10.0, 36.0, 40.0],
    )?;
    let mut row = 1;
    for (_, item) in items {
        for f in &item.guide.form_fields {
            sheet.write_string(row, 0, &item.guide.code)?;
            sheet.write_string(row, 1, &f.key)?;
            sheet.write_string(row, 2, &f.label)?;
            sheet.write_string(row, 3, f.kind.label())?;
            sheet.write_string(row, 4, if f.required { "是" } else { "否" })?;
            if !f.options.is_empty() {
                sheet.write_string(row, 5, join_options(&f.options))?;
            }
            if !f.hint.is_empty() {
                sheet.write_string(row, 6, &f.hint)?;
            }
            row += 1;
        }
    }
    workbook.save_to_buffer()
}

/// A choice field's options in one cell: separated by 、, or one a line when
/// an option itself contains 、 (so that the import splits them back alike).
fn join_options(options: &[String]) -> String {
    if options.iter().any(|o| o.contains('、')) {
        options.join("\n")
    } else {
        options.join("、")
    }
}

/// The options of a choice field as typed in one cell: one a line when the
/// cell has several lines, otherwise separated by 、.
fn split_options(text: &str) -> Vec<String> {
    let parts: Vec<&str> = if text.contains('\n') {
        text.lines().collect()
    } else {
        text.split('、').collect()
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn unit_label(unit: LimitUnit) -> &'static str {
    match unit {
        LimitUnit::WorkingDays => "工作日",
        LimitUnit::NaturalDays => "自然日",
    }
}

/// Why an import was refused: every bad cell, by sheet, row and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub problems: Vec<CellProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    pub sheet: String,
    /// 1-based, as Excel shows it.
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.sheet.is_empty() {
            // A problem with the whole file, not with one cell.
            return f.write_str(&self.message);
        }
        write!(
            f,
            "「{}」表第{}行“{}”列：{}",
            self.sheet, self.row, self.column, self.message
        )
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "导入未执行，共发现{}处错误（目录未作任何修改）：",
            self.problems.len()
        )?;
        for p in self.problems.iter().take(20) {
            write!(f, "\n{p}")?;
        }
        if self.problems.len() > 20 {
            write!(f, "\n……（其余{}处略）", self.problems.len() - 20)?;
        }
        Ok(())
    }
}

impl ImportError {
    fn file(message: impl Into<String>) -> ImportError {
        ImportError {
            problems: vec![CellProblem {
                sheet: String::new(),
                row: 0,
                column: String::new(),
                message: message.into(),
            }],
        }
    }

    /// The first bad cell as `sheet!column row`, for the error's field.
    pub fn field(&self) -> String {
        match self.problems.first() {
            Some(p) if !p.sheet.is_empty() => format!("{}!{}{}", p.sheet, p.column, p.row),
            _ => "file".into(),
        }
    }
}

struct SheetReader<'a> {
    sheet: &'a str,
    headers: &'a [&'a str],
    problems: &'a mut Vec<CellProblem>,
}

impl SheetReader<'_> {
    fn problem(&mut self, row: usize, col: usize, message: impl Into<String>) {
        self.problems.push(CellProblem {
            sheet: self.sheet.into(),
            row: row + 1,
            column: self.headers.get(col).copied().unwrap_or("?").into(),
            message: message.into(),
        });
    }

    fn text(&self, cells: &[Data], col: usize) -> String {
        match cells.get(col) {
            Some(Data::String(s)) => s.trim().to_string(),
            Some(Data::Int(i)) => i.to_string(),
            Some(Data::Float(f)) if f.fract() == 0.0 => format!("{}", *f as i64),
            Some(Data::Float(f)) => f.to_string(),
            Some(Data::Bool(b)) => {
                if *b {
                    "是".into()
                } else {
                    "否".into()
                }
            }
            Some(other) => other.to_string().trim().to_string(),
            None => String::new(),
        }
    }

    fn number(&mut self, cells: &[Data], row: usize, col: usize) -> Option<f64> {
        match cells.get(col) {
            Some(Data::Int(i)) => Some(*i as f64),
            Some(Data::Float(f)) => Some(*f),
            Some(Data::String(s)) if s.trim().parse::<f64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.problem(row, col, "应填写数字");
                None
            }
        }
    }

    fn count(&mut self, cells: &[Data], row: usize, col: usize) -> u32 {
        match self.number(cells, row, col) {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 3650.0 => n as u32,
            Some(_) => {
                self.problem(row, col, "应为不小于0的整数");
                0
            }
            None => 0,
        }
    }

    fn fen(&mut self, cells: &[Data], row: usize, col: usize) -> i64 {
        match self.number(cells, row, col) {
            Some(yuan) if yuan >= 0.0 => (yuan * 100.0).round() as i64,
            Some(_) => {
                self.problem(row, col, "金额不能为负数");
                0
            }
            None => 0,
        }
    }

    fn parsed<T>(
        &mut self,
        cells: &[Data],
        row: usize,
        col: usize,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &str,
    ) -> Option<T> {
        let text = self.text(cells, col);
        let value = parse(&text);
        if value.is_none() {
            let message = if text.is_empty() {
                format!("不能为空，应为：{allowed}")
            } else {
                format!("“{text}”不是有效取值，应为：{allowed}")
            };
            self.problem(row, col, message);
        }
        value
    }

    /// The rows under a correct header row that are not blank, with their
    /// 0-based index; a wrong header row is reported and yields no rows.
    fn data_rows<'r>(&mut self, range: &'r calamine::Range<Data>) -> Vec<(usize, &'r [Data])> {
        let mut rows = range.rows().enumerate();
        match rows.next() {
            Some((_, header)) if self.check_headers(header) => {}
            _ => return Vec::new(),
        }
        rows.filter(|(_, cells)| (0..self.headers.len()).any(|c| !self.text(cells, c).is_empty()))
            .collect()
    }

    fn check_headers(&mut self, cells: &[Data]) -> bool {
        for (col, expected) in self.headers.iter().enumerate() {
            if self.text(cells, col) != *expected {
                self.problem(0, col, format!("表头应为“{expected}”，请使用导出的模板"));
                return false;
            }
        }
        true
    }
}

fn labels<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|v| label(*v)).collect::<Vec<_>>().join("、")
}

fn step_role(text: &str) -> Option<Role> {
    match text {
        "承办" | "handler" => Some(Role::Handler),
        "审核" | "reviewer" => Some(Role::Reviewer),
        "批准" | "approver" => Some(Role::Approver),
        _ => None,
    }
}

fn yes_no(text: &str) -> Option<bool> {
    match text {
        "是" | "必需" | "Y" | "y" | "true" => Some(true),
        "否" | "非必需" | "N" | "n" | "false" | "" => Some(false),
        _ => None,
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(['、', ',', '，', ';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Reads a workbook written by [`export`] (and edited by people).
pub fn import(bytes: &[u8]) -> Result<Vec<ImportRow>, ImportError> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        ImportError::file(format!("无法读取文件，请上传.xlsx格式的事项目录（{e}）"))
    })?;
    let mut sheet = |name: &str| {
        workbook
            .worksheet_range(name)
            .map_err(|_| ImportError::file(format!("文件中缺少「{name}」工作表，请使用导出的模板")))
    };
    let items = sheet(ITEMS)?;
    let materials = sheet(MATERIALS)?;
    let fees = sheet(FEES)?;
    let steps = sheet(STEPS)?;
    // Optional: a workbook exported before the sheet existed has none, and
    // its items keep the fields they have (see the module comment).
    let form_fields =
        if workbook.sheet_names().iter().any(|n| n == FORM_FIELDS) {
            Some(workbook.worksheet_range(FORM_FIELDS).map_err(|e| {
                ImportError::file(format!("无法读取「{FORM_FIELDS}」工作表（{e}）"))
            })?)
        } else {
            None
        };
    let mut problems = Vec::new();

    // Lists first, keyed by item code.
    let mut material_lists: HashMap<String, Vec<(usize, Material)>> = HashMap::new();
    let mut reader = SheetReader {
        sheet: MATERIALS,
        headers: &MATERIAL_HEADERS,
        problems: &mut problems,
    };
    for (row, cells) in reader.data_rows(&materials) {
        let code = reader.text(cells, 0);
        let name = reader.text(cells, 1);
        if name.is_empty() {
            reader.problem(row, 1, "材料名称不能为空");
        }
        let required = reader
            .parsed(cells, row, 2, yes_no, "是、否")
            .unwrap_or(false);
        let file_id = |r: &mut SheetReader, col| {
            if r.text(cells, col).is_empty() {
                None
            } else {
                Some(i64::from(r.count(cells, row, col)))
            }
        };
        let material = Material {
            name,
            required,
            originals: reader.count(cells, row, 3),
            copies: reader.count(cells, row, 4),
            reason: reader.text(cells, 5),
            template_file: file_id(&mut reader, 6),
            sample_file: file_id(&mut reader, 7),
        };
        material_lists
            .entry(code)
            .or_default()
            .push((row, material));
    }
    let mut fee_lists: HashMap<String, Vec<(usize, Fee)>> = HashMap::new();
    let mut reader = SheetReader {
        sheet: FEES,
        headers: &FEE_HEADERS,
        problems: &mut problems,
    };
    for (row, cells) in reader.data_rows(&fees) {
        let code = reader.text(cells, 0);
        let fee = Fee {
            name: reader.text(cells, 1),
            standard: reader.text(cells, 2),
            amount_fen: reader.fen(cells, row, 3),
            lower_bound_fen: reader.fen(cells, row, 4),
            legal_basis: reader.text(cells, 5),
        };
        if fee.lower_bound_fen > fee.amount_fen {
            reader.problem(row, 4, "收费下限不能高于收费金额");
        }
        fee_lists.entry(code).or_default().push((row, fee));
    }
    let mut step_lists: HashMap<String, Vec<(usize, Step)>> = HashMap::new();
    let mut reader = SheetReader {
        sheet: STEPS,
        headers: &STEP_HEADERS,
        problems: &mut problems,
    };
    for (row, cells) in reader.data_rows(&steps) {
        let code = reader.text(cells, 0);
        let name = reader.text(cells, 1);
        if name.is_empty() {
            reader.problem(row, 1, "环节名称不能为空");
        }
        let role = reader
            .parsed(cells, row, 2, step_role, "承办、审核、批准")
            .unwrap_or(Role::Handler);
        let limit_days = reader.count(cells, row, 3);
        step_lists.entry(code).or_default().push((
            row,
            Step {
                name,
                role,
                limit_days,
            },
        ));
    }

    let mut form_field_lists: HashMap<String, Vec<(usize, FormField)>> = HashMap::new();
    let mut reader = SheetReader {
        sheet: FORM_FIELDS,
        headers: &FORM_FIELD_HEADERS,
        problems: &mut problems,
    };
    let form_field_rows = match &form_fields {
        Some(range) => reader.data_rows(range),
        None => Vec::new(),
    };
    for (row, cells) in form_field_rows {
        let code = reader.text(cells, 0);
        let kind = reader
            .parsed(
                cells,
                row,
                3,
                FieldKind::parse,
                &labels(FieldKind::ALL, FieldKind::label),
            )
            .unwrap_or(FieldKind::Text);
        let required = reader
            .parsed(cells, row, 4, yes_no, "是、否")
            .unwrap_or(false);
        // Key, name and options are checked by `Guide::validate` below and
        // reported at this row.
        let field = FormField {
            key: reader.text(cells, 1),
            label: reader.text(cells, 2),
            kind,
            required,
            options: split_options(&reader.text(cells, 5)),
            hint: reader.text(cells, 6),
        };
        form_field_lists.entry(code).or_default().push((row, field));
    }

    let mut out = Vec::new();
    let mut seen_codes = HashMap::new();
    let mut reader = SheetReader {
        sheet: ITEMS,
        headers: &ITEM_HEADERS,
        problems: &mut problems,
    };
    for (row, cells) in reader.data_rows(&items) {
        let code = reader.text(cells, 1);
        if let Some(first) = seen_codes.insert(code.clone(), row + 1) {
            reader.problem(row, 1, format!("事项编码与第{first}行重复"));
        }
        // Claimed before any cell of the row can fail, so that a bad item row
        // does not make its lists look like rows of an unknown item.
        let lists = ItemLists {
            materials: material_lists.remove(&code).unwrap_or_default(),
            fees: fee_lists.remove(&code).unwrap_or_default(),
            steps: step_lists.remove(&code).unwrap_or_default(),
            form_fields: form_field_lists.remove(&code).unwrap_or_default(),
        };
        let status = reader.parsed(
            cells,
            row,
            4,
            ItemStatus::parse,
            &labels(ItemStatus::ALL, ItemStatus::label),
        );
        let item_type = reader.parsed(
            cells,
            row,
            5,
            ItemType::parse,
            &labels(ItemType::ALL, ItemType::label),
        );
        let category = reader.parsed(
            cells,
            row,
            6,
            HandlingCategory::parse,
            &labels(HandlingCategory::ALL, HandlingCategory::label),
        );
        let target = reader.parsed(
            cells,
            row,
            7,
            Target::parse,
            &labels(Target::ALL, Target::label),
        );
        let statutory_amount = reader.count(cells, row, 8);
        let statutory_unit = reader.parsed(cells, row, 9, LimitUnit::parse, "工作日、自然日");
        let promised_amount = reader.count(cells, row, 10);
        let promised_unit = reader.parsed(cells, row, 11, LimitUnit::parse, "工作日、自然日");
        let visits = reader.count(cells, row, 12);
        let (
            Some(status),
            Some(item_type),
            Some(category),
            Some(target),
            Some(statutory_unit),
            Some(promised_unit),
        ) = (
            status,
            item_type,
            category,
            target,
            statutory_unit,
            promised_unit,
        )
        else {
            continue;
        };
        let guide = Guide {
            name: reader.text(cells, 3),
            code: code.clone(),
            implementing_code: reader.text(cells, 2),
            item_type,
            category,
            target,
            statutory_limit: TimeLimit {
                amount: statutory_amount,
                unit: statutory_unit,
            },
            promised_limit: TimeLimit {
                amount: promised_amount,
                unit: promised_unit,
            },
            legal_basis: reader.text(cells, 13),
            conditions: reader
                .text(cells, 14)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            materials: without_rows(&lists.materials),
            fees: without_rows(&lists.fees),
            steps: without_rows(&lists.steps),
            visits,
            location: reader.text(cells, 15),
            office_hours: reader.text(cells, 16),
            contact_phone: reader.text(cells, 17),
            complaint_phone: reader.text(cells, 18),
            aliases: split_list(&reader.text(cells, 19)),
            life_events: split_list(&reader.text(cells, 20)),
            form_fields: without_rows(&lists.form_fields),
        };
        if let Err(errors) = guide.validate() {
            for e in errors {
                match lists.cell_of(&e.field) {
                    Some((sheet, headers, list_row, col)) => add_unless_cell_taken(
                        reader.problems,
                        CellProblem {
                            sheet: sheet.into(),
                            row: list_row + 1,
                            column: headers[col].into(),
                            message: e.message,
                        },
                    ),
                    None => reader.problem(row, guide_field_column(&e.field), e.message),
                }
            }
        }
        out.push(ImportRow {
            department_code: reader.text(cells, 0),
            status,
            guide,
            keep_form_fields: form_fields.is_none(),
        });
    }
    // List rows whose item code is not on the item sheet, by their own row.
    let mut orphans: Vec<CellProblem> = Vec::new();
    let mut add_orphans = |sheet: &str, rows: Vec<(String, usize)>| {
        orphans.extend(rows.into_iter().map(|(code, row)| CellProblem {
            sheet: sheet.into(),
            row: row + 1,
            column: "事项编码".into(),
            message: format!("事项编码“{code}”在「事项」表中不存在"),
        }))
    };
    add_orphans(MATERIALS, leftover_rows(material_lists));
    add_orphans(FEES, leftover_rows(fee_lists));
    add_orphans(STEPS, leftover_rows(step_lists));
    add_orphans(FORM_FIELDS, leftover_rows(form_field_lists));
    problems.extend(orphans);
    // In the order a person reads the workbook: sheet by sheet, row by row.
    problems.sort_by_key(|p| {
        let sheet = SHEET_ORDER.iter().position(|s| *s == p.sheet);
        (sheet, p.row)
    });
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ImportError { problems })
    }
}

fn without_rows<T: Clone>(list: &[(usize, T)]) -> Vec<T> {
    list.iter().map(|(_, item)| item.clone()).collect()
}

/// An item's list rows from the other sheets, each with its 0-based row.
struct ItemLists {
    materials: Vec<(usize, Material)>,
    fees: Vec<(usize, Fee)>,
    steps: Vec<(usize, Step)>,
    form_fields: Vec<(usize, FormField)>,
}

impl ItemLists {
    /// Where a validation error about a list entry (`form_fields[2].key`)
    /// points: its sheet, headers, 0-based row and column.
    fn cell_of(
        &self,
        field: &str,
    ) -> Option<(&'static str, &'static [&'static str], usize, usize)> {
        let (list, rest) = field.split_once('[')?;
        let (index, part) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        let part = part.trim_start_matches('.');
        let (sheet, headers, rows, col): (_, &'static [&'static str], Vec<usize>, _) = match list {
            "materials" => (
                MATERIALS,
                &MATERIAL_HEADERS,
                self.materials.iter().map(|(r, _)| *r).collect(),
                1,
            ),
            "fees" => (
                FEES,
                &FEE_HEADERS,
                self.fees.iter().map(|(r, _)| *r).collect(),
                // The amount is refused for being below the lower bound,
                // which the fee sheet already reports at the lower bound.
                if part == "amount_fen" { 4 } else { 1 },
            ),
            "steps" => (
                STEPS,
                &STEP_HEADERS,
                self.steps.iter().map(|(r, _)| *r).collect(),
                if part == "role" { 2 } else { 1 },
            ),
            "form_fields" => (
                FORM_FIELDS,
                &FORM_FIELD_HEADERS,
                self.form_fields.iter().map(|(r, _)| *r).collect(),
                match part {
                    "label" => 2,
                    "kind" => 3,
                    "required" => 4,
                    "options" => 5,
                    "hint" => 6,
                    _ => 1,
                },
            ),
            _ => return None,
        };
        Some((sheet, headers, *rows.get(index)?, col))
    }
}

/// Adds a problem unless the same cell is already reported: the sheet readers
/// check some cells that `Guide::validate` checks again.
fn add_unless_cell_taken(problems: &mut Vec<CellProblem>, problem: CellProblem) {
    let taken = problems
        .iter()
        .any(|p| p.sheet == problem.sheet && p.row == problem.row && p.column == problem.column);
    if !taken {
        problems.push(problem);
    }
}

/// The (item code, row) of every list row left unclaimed by the item sheet.
fn leftover_rows<T>(lists: HashMap<String, Vec<(usize, T)>>) -> Vec<(String, usize)> {
    lists
        .into_iter()
        .flat_map(|(code, rows)| rows.into_iter().map(move |(row, _)| (code.clone(), row)))
        .collect()
}

/// The item sheet's column for a guide field named in a validation error.
fn guide_field_column(field: &str) -> usize {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "code" => 1,
        "implementing_code" => 2,
        "name" => 3,
        "statutory_limit" => 8,
        "promised_limit" => 10,
        "visits" => 12,
        "legal_basis" => 13,
        "location" => 15,
        "office_hours" => 16,
        "contact_phone" => 17,
        "complaint_phone" => 18,
        _ => 1,
    }
}
