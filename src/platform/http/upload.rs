//! Reading one uploaded file from a multipart/form-data body, with the size limits and error
//! shapes every upload route shares.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest};
use futures_util::StreamExt as _;

use crate::platform::error::{AppError, AppResult, FieldCode};
use crate::platform::lang::Text;

/// Allowance for the multipart framing around the file when judging `Content-Length`.
const FRAMING_BYTES: usize = 64 * 1024;

fn multipart_error(e: actix_multipart::MultipartError) -> AppError {
    AppError::invalid(
        "file",
        FieldCode::MalformedMultipart,
        Text::new(
            "无法读取上传的 multipart/form-data 内容",
            format!("the multipart/form-data body could not be read: {e}"),
        ),
    )
}

/// Reads the one `file` part (the `what`, for messages) of a multipart/form-data body, at
/// most `max` bytes. A body declared far larger is refused unread; one that turns out too large
/// is drained up to four times `max`, so the client reads our 413 instead of a reset.
pub async fn read_file_part(
    req: &HttpRequest,
    payload: web::Payload,
    max: usize,
    what: &str,
) -> AppResult<Vec<u8>> {
    let drain = 4 * max;
    let multipart = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.type_() == "multipart" && m.subtype() == "form-data");
    if !multipart {
        return Err(AppError::UnsupportedMediaType(format!(
            "expected multipart/form-data with the {what} in a part named `file`"
        )));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain) {
        return Err(AppError::PayloadTooLarge(Some(max)));
    }
    let mut parts = Multipart::new(req.headers(), payload);
    let mut file: Option<Vec<u8>> = None;
    let mut too_large = declared.is_some_and(|n| n > max + FRAMING_BYTES);
    let mut read = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(multipart_error)?;
        let name = part.name().unwrap_or_default().to_string();
        if too_large {
            // Drain what is left, so that the client reads our answer.
            while let Some(chunk) = part.next().await {
                read += chunk.map_err(multipart_error)?.len();
                if read > drain {
                    return Err(AppError::PayloadTooLarge(Some(max)));
                }
            }
            continue;
        }
        if name != "file" {
            return Err(AppError::invalid(
                if name.is_empty() { "file" } else { &name },
                FieldCode::UnknownField,
                Text::new("只接受名为 file 的部分", "the only part accepted is `file`"),
            ));
        }
        if file.is_some() {
            return Err(AppError::invalid(
                "file",
                FieldCode::Duplicate,
                Text::new("只能上传一个文件", "send exactly one `file` part"),
            ));
        }
        let mut buf = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            read += chunk.len();
            if too_large {
                if read > drain {
                    return Err(AppError::PayloadTooLarge(Some(max)));
                }
                continue;
            }
            if buf.len() + chunk.len() > max {
                too_large = true;
                buf = Vec::new();
                continue;
            }
            buf.extend_from_slice(&chunk);
        }
        if !too_large {
            file = Some(buf);
        }
    }
    if too_large {
        return Err(AppError::PayloadTooLarge(Some(max)));
    }
    match file {
        Some(f) if !f.is_empty() => Ok(f),
        Some(_) => Err(AppError::invalid(
            "file",
            FieldCode::Empty,
            Text::new("文件是空的", "the file is empty"),
        )),
        None => Err(AppError::invalid(
            "file",
            FieldCode::Required,
            Text::new(
                "请以名为 file 的部分上传文件",
                format!("attach the {what} as a part named `file`"),
            ),
        )),
    }
}
