//! Uploaded materials: the type is checked by content, not by the file name's
//! extension, and the size against the configured limit.

use axum::extract::Multipart;
use onewindow_store::files::NewFile;

use crate::error::ApiError;

/// Types accepted for materials, by content: PDF, images, OFD (a zip), and
/// Office documents (zip or the old compound format).
const ACCEPTED: &[(&str, &str)] = &[
    ("application/pdf", "PDF"),
    ("image/jpeg", "JPG"),
    ("image/png", "PNG"),
    ("application/zip", "OFD/DOCX/XLSX"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "DOCX",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "XLSX",
    ),
    ("application/msword", "DOC"),
    ("application/x-ole-storage", "DOC/XLS"),
];

/// Checks a file's content and size; returns the file with its real type.
pub fn check_file(
    field: &str,
    name: &str,
    bytes: Vec<u8>,
    max_bytes: usize,
) -> Result<NewFile, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::invalid(field, format!("文件“{name}”是空文件")));
    }
    if bytes.len() > max_bytes {
        return Err(ApiError::invalid(
            field,
            format!(
                "文件“{name}”大小为{:.1}MB，超过上限{:.1}MB",
                mb(bytes.len()),
                mb(max_bytes)
            ),
        ));
    }
    let detected = infer::get(&bytes).map(|t| t.mime_type());
    match detected.filter(|mime| ACCEPTED.iter().any(|(m, _)| m == mime)) {
        Some(mime) => Ok(NewFile {
            name: clean_name(name),
            content_type: mime.to_string(),
            bytes,
        }),
        None => Err(ApiError::invalid(
            field,
            format!(
                "文件“{name}”的内容不是允许的格式（实际为{}）；请上传PDF、JPG、PNG、OFD或Word/Excel文件",
                detected.unwrap_or("无法识别的类型")
            ),
        )),
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// A file name safe to show and to send back in Content-Disposition.
fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "附件".into()
    } else {
        cleaned
    }
}

/// The parts of a multipart application: the JSON part named `application`
/// and every file part, named by the material it is for.
pub struct MultipartApplication {
    pub application: Option<String>,
    pub files: Vec<(String, NewFile)>,
}

pub async fn read_multipart(
    mut multipart: Multipart,
    max_bytes: usize,
) -> Result<MultipartApplication, ApiError> {
    let mut out = MultipartApplication {
        application: None,
        files: Vec::new(),
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::invalid("body", format!("上传内容格式错误：{e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| {
            ApiError::invalid(
                name.clone(),
                format!("读取上传文件失败（可能超过大小上限）：{e}"),
            )
        })?;
        match file_name {
            None if name == "application" => {
                out.application = Some(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| ApiError::invalid("application", "申请内容须为UTF-8文本"))?,
                );
            }
            None => return Err(ApiError::invalid(name, "未知的表单字段")),
            Some(file_name) => {
                let material = name.strip_prefix("material:").unwrap_or(&name).to_string();
                if material.trim().is_empty() {
                    return Err(ApiError::invalid(
                        "material",
                        "上传文件须注明对应的申请材料名称",
                    ));
                }
                let file = check_file(
                    &format!("material:{material}"),
                    &file_name,
                    bytes.to_vec(),
                    max_bytes,
                )?;
                out.files.push((material, file));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_executable_is_refused_by_content() {
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        let err = check_file("material:营业执照", "执照.pdf", elf, 1024).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("material:营业执照"));
    }

    #[test]
    fn a_real_pdf_passes_and_an_oversized_one_does_not() {
        let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n".to_vec();
        assert_eq!(
            check_file("f", "a.pdf", pdf.clone(), 1024)
                .unwrap()
                .content_type,
            "application/pdf"
        );
        assert!(
            check_file("f", "a.pdf", pdf, 10)
                .unwrap_err()
                .message
                .contains("超过上限")
        );
    }
}
