//! The application form fields in the catalog spreadsheet, through the real
//! server: they go out on their own sheet 「表单字段」, an edited cell comes
//! back in, a bad cell refuses the whole workbook naming sheet, row and
//! column, and a workbook from before the sheet existed still imports.

// Each test binary uses its own part of the shared harness.
#[allow(dead_code)]
mod support;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use jiff::Timestamp;
use onewindow_core::catalog::{FieldKind, FormField};
use reqwest::StatusCode;
use serde_json::Value;

use support::{TestApp, json_of, spawn_app};

const FORM_SHEET: &str = "表单字段";

type Sheets = Vec<(String, Vec<Vec<Data>>)>;

/// Every sheet of a workbook, as rows of cells from A1.
fn read_workbook(bytes: &[u8]) -> Sheets {
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    workbook
        .worksheets()
        .into_iter()
        .map(|(name, range)| (name, range.rows().map(<[Data]>::to_vec).collect()))
        .collect()
}

/// A new workbook with the same sheets and cells, as a person would save it.
fn write_workbook(sheets: &Sheets) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Data::Empty => continue,
                    Data::String(s) => sheet.write_string(r, c, s),
                    Data::Float(f) => sheet.write_number(r, c, *f),
                    Data::Int(i) => sheet.write_number(r, c, *i as f64),
                    Data::Bool(b) => sheet.write_boolean(r, c, *b),
                    other => sheet.write_string(r, c, other.to_string()),
                }
                .unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn sheet<'a>(sheets: &'a mut Sheets, name: &str) -> &'a mut Vec<Vec<Data>> {
    &mut sheets
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("sheet {name}"))
        .1
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// The 0-based row on the form-field sheet of an item's field, and the
/// column under a header.
fn form_cell(sheets: &mut Sheets, code: &str, key: &str, header: &str) -> (usize, usize) {
    let rows = sheet(sheets, FORM_SHEET);
    let column = rows[0]
        .iter()
        .position(|h| text(h) == header)
        .unwrap_or_else(|| panic!("column {header}"));
    let row = rows
        .iter()
        .position(|r| text(&r[0]) == code && text(&r[1]) == key)
        .unwrap_or_else(|| panic!("row of {code} {key}"));
    (row, column)
}

fn set(sheets: &mut Sheets, name: &str, at: (usize, usize), value: &str) {
    let rows = sheet(sheets, name);
    while rows.len() <= at.0 {
        rows.push(Vec::new());
    }
    let row = &mut rows[at.0];
    while row.len() <= at.1 {
        row.push(Data::Empty);
    }
    row[at.1] = Data::String(value.into());
}

fn field(key: &str, label: &str, kind: FieldKind, required: bool, options: &[&str]) -> FormField {
    FormField {
        key: key.into(),
        label: label.into(),
        kind,
        required,
        options: options.iter().map(|o| o.to_string()).collect(),
        hint: String::new(),
    }
}

/// The seeded food licence item given three form fields, as an admin would
/// set them on the item's page.
async fn with_form_fields(app: &TestApp) {
    let mut guide = app.item.guide.clone();
    guide.form_fields = vec![
        FormField {
            hint: "填写至门牌号".into(),
            ..field("shop_address", "经营场所地址", FieldKind::Text, true, &[])
        },
        field(
            "main_format",
            "主体业态",
            FieldKind::Choice,
            true,
            &["食品销售经营者", "餐饮服务经营者"],
        ),
        field("area", "经营面积", FieldKind::Number, false, &[]),
    ];
    app.store
        .update_guide("system".into(), app.item.id, None, guide, Timestamp::now())
        .await
        .expect("the item takes form fields");
}

async fn export(app: &TestApp, token: &str) -> Vec<u8> {
    let response = app
        .client
        .get(app.url("/api/v1/catalog/export"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.unwrap().to_vec()
}

async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    json_of(
        app.client
            .post(app.url("/api/v1/catalog/import"))
            .bearer_auth(token)
            .header(
                "Content-Type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(bytes)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn form_fields_of(app: &TestApp, id: i64) -> Vec<Value> {
    let (status, item) = app.get(None, &format!("/api/v1/items/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{item}");
    item["guide"]["form_fields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn form_fields_go_out_on_their_own_sheet_and_an_edited_label_comes_back_in() {
    let app = spawn_app().await;
    with_form_fields(&app).await;
    let admin = app.token(&app.people.admin).await;

    let mut sheets = read_workbook(&export(&app, &admin).await);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["事项", "申请材料", "收费", "办理环节", "表单字段"]);
    let rows = sheet(&mut sheets, FORM_SHEET).clone();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            (0..7)
                .map(|c| r.get(c).map(text).unwrap_or_default())
                .collect()
        })
        .collect();
    let code = app.item.guide.code.clone();
    assert_eq!(
        cells,
        [
            vec![
                "事项编码",
                "字段标识",
                "字段名称",
                "类型",
                "是否必填",
                "选项",
                "填写说明"
            ],
            vec![
                &code,
                "shop_address",
                "经营场所地址",
                "文本",
                "是",
                "",
                "填写至门牌号"
            ],
            vec![
                &code,
                "main_format",
                "主体业态",
                "选项",
                "是",
                "食品销售经营者、餐饮服务经营者",
                ""
            ],
            vec![&code, "area", "经营面积", "数字", "否", "", ""],
        ],
        "one row per field, the kind by its Chinese name"
    );

    // An untouched copy changes nothing.
    let (status, summary) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["unchanged"], 3, "{summary}");

    // A new label, a third option on its own line, and a field added to the
    // instant item with its kind given by key.
    let at = form_cell(&mut sheets, &code, "area", "字段名称");
    set(&mut sheets, FORM_SHEET, at, "经营面积（平方米）");
    let at = form_cell(&mut sheets, &code, "main_format", "选项");
    set(
        &mut sheets,
        FORM_SHEET,
        at,
        "食品销售经营者\n餐饮服务经营者\n单位食堂",
    );
    let new_row = rows.len();
    for (col, value) in [
        app.instant.guide.code.as_str(),
        "opening_date",
        "拟开业日期",
        "date",
        "否",
    ]
    .into_iter()
    .enumerate()
    {
        set(&mut sheets, FORM_SHEET, (new_row, col), value);
    }
    let (status, summary) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["updated"], 2, "{summary}");
    assert_eq!(summary["unchanged"], 1, "{summary}");

    let fields = form_fields_of(&app, app.item.id).await;
    assert_eq!(fields.len(), 3);
    assert_eq!(fields[2]["label"], "经营面积（平方米）");
    assert_eq!(fields[2]["kind"], "number");
    assert_eq!(
        fields[1]["options"],
        serde_json::json!(["食品销售经营者", "餐饮服务经营者", "单位食堂"])
    );
    assert_eq!(fields[0]["hint"], "填写至门牌号");
    let fields = form_fields_of(&app, app.instant.id).await;
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0]["key"], "opening_date");
    assert_eq!(fields[0]["kind"], "date");
    assert_eq!(fields[0]["required"], false);

    // The next export shows the edits, the kind again by its Chinese name.
    let mut again = read_workbook(&export(&app, &admin).await);
    let instant_code = app.instant.guide.code.clone();
    let at = form_cell(&mut again, &instant_code, "opening_date", "类型");
    assert_eq!(text(&sheet(&mut again, FORM_SHEET)[at.0][at.1]), "日期");
    let at = form_cell(&mut again, &code, "area", "字段名称");
    assert_eq!(
        text(&sheet(&mut again, FORM_SHEET)[at.0][at.1]),
        "经营面积（平方米）"
    );
}

#[tokio::test]
async fn a_bad_kind_and_a_duplicate_key_refuse_the_whole_workbook_naming_sheet_row_and_column() {
    let app = spawn_app().await;
    with_form_fields(&app).await;
    let admin = app.token(&app.people.admin).await;
    let before = app.store.item(app.item.id).await.unwrap();

    let mut sheets = read_workbook(&export(&app, &admin).await);
    let code = app.item.guide.code.clone();
    // A good edit elsewhere that must not take effect either.
    let name_at = {
        let items = sheet(&mut sheets, "事项");
        let row = items
            .iter()
            .position(|r| text(&r[1]) == code)
            .expect("the item's row");
        (row, 3)
    };
    set(&mut sheets, "事项", name_at, "不该生效的名称");
    let kind_at = form_cell(&mut sheets, &code, "shop_address", "类型");
    set(&mut sheets, FORM_SHEET, kind_at, "下拉框");
    let duplicate_at = form_cell(&mut sheets, &code, "area", "字段标识");
    set(&mut sheets, FORM_SHEET, duplicate_at, "main_format");

    let (status, body) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("未作任何修改"), "{message}");
    assert!(
        message.contains(&format!("「表单字段」表第{}行“类型”列", kind_at.0 + 1)),
        "{message}"
    );
    assert!(message.contains("“下拉框”不是有效取值"), "{message}");
    assert!(message.contains("文本、多行文本、数字"), "{message}");
    assert!(
        message.contains(&format!(
            "「表单字段」表第{}行“字段标识”列",
            duplicate_at.0 + 1
        )),
        "{message}"
    );
    assert!(message.contains("“main_format”重复"), "{message}");
    assert_eq!(
        body["error"]["field"],
        format!("表单字段!类型{}", kind_at.0 + 1),
        "the first bad cell is the error's field"
    );

    let after = app.store.item(app.item.id).await.unwrap();
    assert_eq!(after.version, before.version, "nothing was imported");
    assert_eq!(after.guide, before.guide);

    // A choice without options and a key in Chinese are named at their cells.
    let mut sheets = read_workbook(&export(&app, &admin).await);
    let options_at = form_cell(&mut sheets, &code, "main_format", "选项");
    set(&mut sheets, FORM_SHEET, options_at, "");
    let key_at = form_cell(&mut sheets, &code, "area", "字段标识");
    set(&mut sheets, FORM_SHEET, key_at, "面积");
    let (status, body) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!(
            "「表单字段」表第{}行“选项”列：选项类字段须列出至少一个选项",
            options_at.0 + 1
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("「表单字段」表第{}行“字段标识”列", key_at.0 + 1)),
        "{message}"
    );
    assert_eq!(
        app.store.item(app.item.id).await.unwrap().version,
        before.version
    );
}

#[tokio::test]
async fn a_workbook_from_before_the_form_field_sheet_still_imports_and_items_keep_their_fields() {
    let app = spawn_app().await;
    with_form_fields(&app).await;
    let admin = app.token(&app.people.admin).await;
    let fields_before = form_fields_of(&app, app.item.id).await;
    assert_eq!(fields_before.len(), 3);

    let mut sheets = read_workbook(&export(&app, &admin).await);
    sheets.retain(|(name, _)| name != FORM_SHEET);
    let (status, summary) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["updated"], 0, "{summary}");
    assert_eq!(summary["unchanged"], 3, "{summary}");
    assert_eq!(form_fields_of(&app, app.item.id).await, fields_before);

    // An edit in such a workbook is applied, and the fields stay.
    let code = app.item.guide.code.clone();
    let items = sheet(&mut sheets, "事项");
    let name_column = items[0]
        .iter()
        .position(|h| text(h) == "事项名称")
        .expect("name column");
    let row = items
        .iter()
        .position(|r| r.iter().any(|c| text(c) == code))
        .expect("the item's row");
    set(
        &mut sheets,
        "事项",
        (row, name_column),
        "食品经营许可（新办，旧模板）",
    );
    let (status, summary) = import(&app, &admin, write_workbook(&sheets)).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["updated"], 1, "{summary}");
    assert_eq!(form_fields_of(&app, app.item.id).await, fields_before);
    let (_, item) = app
        .get(None, &format!("/api/v1/items/{}", app.item.id))
        .await;
    assert_eq!(
        item["guide"]["name"], "食品经营许可（新办，旧模板）",
        "{item}"
    );
}
