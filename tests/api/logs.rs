//! Nothing secret reaches the logs: not a full phone or ID number, not a token, not WeChat's
//! session_key.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

use crate::helpers::*;
use crate::wechat::{spawn_with_fake, wechat_login_ok};

#[derive(Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// Everything captured so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every log line of this test process at DEBUG and above, as production would write
/// them (JSON, with span fields).
pub(crate) fn captured() -> &'static Buffer {
    static BUF: OnceLock<Buffer> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf = Buffer::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        buf
    })
}

#[tokio::test]
async fn logs_carry_no_personal_data_tokens_or_session_keys() {
    let buf = captured();
    let (app, _fake) = spawn_with_fake().await;
    let root = app.admin_token().await;
    let t = small_territory(&app, &root, "志").await;
    let phone = "13566667777";
    let id_number = "11010519491231002X";
    let res = app
        .post(
            "/api/v1/residents",
            &root,
            &json!({"household_id": t.household, "name": "日志", "phone": phone, "id_number": id_number}),
        )
        .await;
    let rid = id_of(&res.json().await.unwrap());
    for field in ["phone", "id_number"] {
        app.post(
            &format!("/api/v1/residents/{rid}/reveal"),
            &root,
            &json!({"field": field, "purpose": "核对日志"}),
        )
        .await;
    }
    app.get(&format!("/api/v1/residents?phone={phone}"), &root)
        .await;
    let pair = wechat_login_ok(&app, "user:o-logs").await;
    let token = token_of(&pair);
    app.post(
        "/api/v1/me/phone",
        &token,
        &json!({"code": format!("phone:{phone}")}),
    )
    .await;
    app.get("/api/v1/me/export", &token).await;
    let refreshed: Value = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": pair["refresh_token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Checked text stays out of the logs, also when WeChat fails the check.
    let wx_id = crate::wechat::me(&app, &token).await["id"].clone();
    // The phone may have bound the account already; a second grant is refused, harmlessly.
    app.post(
        "/api/v1/role-assignments",
        &root,
        &json!({"user_id": wx_id, "role": "resident", "scope_type": "household", "scope_id": t.household}),
    )
    .await;
    for (who, text) in [
        (&token, "[down] 秘密文本内容甲"),
        (&token, "[errcode] 秘密文本内容乙"),
        (&root, "秘密文本内容丙"),
    ] {
        let res = app
            .post(
                "/api/v1/content-check",
                who,
                &json!({"street_id": t.street, "title": "秘密标题", "body": text}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let logs = String::from_utf8_lossy(&buf.0.lock().unwrap()).to_string();
    assert!(logs.contains("personal data revealed"), "the capture works");
    assert!(
        logs.contains("content check: WeChat gave no verdict"),
        "the failed checks are logged"
    );
    assert!(!logs.contains("秘密"), "the logs carry checked text");
    for secret in [
        phone.to_string(),
        id_number.to_string(),
        token.clone(),
        pair["refresh_token"].as_str().unwrap().to_string(),
        refreshed["access_token"].as_str().unwrap().to_string(),
        "fake-session-key-never-to-be-seen".to_string(),
        "fake-app-secret-never-to-be-seen".to_string(),
        ADMIN_PASSWORD.to_string(),
    ] {
        assert!(!logs.contains(&secret), "the logs carry {secret:?}");
    }
    assert!(full_pii_in(&logs).is_none(), "{:?}", full_pii_in(&logs));
}
