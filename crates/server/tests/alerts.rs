//! Alert delivery against real local receivers: a small SMTP server spoken to
//! over TCP, webhook and gateway receivers on `127.0.0.1:0`, addresses where
//! nothing listens, and the configuration file's checks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, post};
use onewindow_core::supervision::Channel;
use onewindow_server::alerts::{
    AlertConfig, HttpTemplate, Outgoing, Senders, SmtpConfig, WebhookConfig, webhook_signature,
};
use serde_json::{Value, json};
use sm3::{Digest, Sm3};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const SUBJECT: &str = "【黄牌】衡山县市场监督管理局 办件4304232026120300012 承诺办结时限已超期";
const TEXT: &str = "衡山县市场监督管理局：\n办件4304232026120300012（食品经营许可）承诺办结时限为2026年12月2日，现已超期。\n请于今日内办结或说明理由。——衡山县电子监察室";
const PHONE: &str = "13807341234";

fn message(channel: Channel, address: &str) -> Outgoing {
    Outgoing {
        message_id: "card-42-sms-1".into(),
        channel,
        address: address.into(),
        subject: SUBJECT.into(),
        text: TEXT.into(),
        payload: json!({
            "card_id": 42,
            "level": "yellow",
            "case_number": "430423-20261203-00012",
            "department": "衡山县市场监督管理局",
        }),
    }
}

/// A port on 127.0.0.1 where nothing listens.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

// ---------------------------------------------------------------------------
// HMAC-SM3

/// HMAC (RFC 2104) over SM3, built by hand: block size 64.
fn hmac_sm3_by_hand(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sm3::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let mut inner = Sm3::new();
    inner.update(&ipad);
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sm3::new();
    outer.update(&opad);
    outer.update(inner);
    outer
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn sm3_matches_the_standard_vector() {
    // GB/T 32905-2016, example 1.
    let digest: String = Sm3::digest(b"abc")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

#[test]
fn webhook_signature_is_hmac_sm3_of_timestamp_dot_body() {
    let body = "{\"text\":\"办件已超期\"}".as_bytes();
    let long_key = "k".repeat(100);
    for secret in ["s3cret", "", long_key.as_str(), "衡山县电子监察室密钥"] {
        let mut signed = b"1764720000.".to_vec();
        signed.extend_from_slice(body);
        let expected = hmac_sm3_by_hand(secret.as_bytes(), &signed);
        let actual = webhook_signature(secret, "1764720000", body);
        assert_eq!(actual, expected, "secret {secret:?}");
        assert_eq!(actual.len(), 64);
        assert!(
            actual
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
    assert_ne!(
        webhook_signature("s3cret", "1764720000", body),
        webhook_signature("s3cret", "1764720001", body)
    );
}

// ---------------------------------------------------------------------------
// E-mail

/// What the SMTP receiver saw.
#[derive(Debug, Default)]
struct SmtpSession {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// Serves one SMTP conversation on 127.0.0.1, returning its port and the
/// session once the client quits (or stops speaking SMTP).
async fn smtp_receiver() -> (u16, tokio::task::JoinHandle<SmtpSession>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut session = SmtpSession::default();
        // A client that is not speaking SMTP (a TLS hello) ends the session.
        let _ = smtp_conversation(socket, &mut session).await;
        session
    });
    (port, task)
}

async fn smtp_conversation(socket: TcpStream, session: &mut SmtpSession) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 relay.test ESMTP ready\r\n").await?;
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-relay.test\r\n250 8BITMIME\r\n",
            "HELO" | "RSET" | "NOOP" => b"250 OK\r\n",
            "MAIL" => {
                session.mail_from = command;
                b"250 OK\r\n"
            }
            "RCPT" => {
                session.rcpt_to.push(command);
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await? == 0 || line == ".\r\n" {
                        break;
                    }
                    // Undo dot-stuffing.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                session.data = data;
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut bits = 0u32;
    let mut count = 0;
    for byte in text.bytes() {
        let Some(value) = ALPHABET.iter().position(|&a| a == byte) else {
            continue; // '=', whitespace, line breaks
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

/// The byte written as two hex digits at `at`.
fn hex_pair(bytes: &[u8], at: usize) -> Option<u8> {
    let high = hex_value(*bytes.get(at)?)?;
    let low = hex_value(*bytes.get(at + 1)?)?;
    Some(high * 16 + low)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match hex_pair(bytes, i + 1) {
            Some(byte) if bytes[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// Quoted-printable; `underscore_is_space` for RFC 2047 "Q" words.
fn quoted_printable_decode(text: &str, underscore_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if bytes[i + 1..].starts_with(b"\n") => i += 2,
            b'=' if let Some(byte) = hex_pair(bytes, i + 1) => {
                out.push(byte);
                i += 3;
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

/// Decodes RFC 2047 encoded words; adjacent words join without the space.
fn decode_header(value: &str) -> String {
    let mut bytes = Vec::new();
    let mut pending_space = String::new();
    let mut last_was_word = false;
    for token in value.split_whitespace() {
        let word = token
            .strip_prefix("=?")
            .and_then(|rest| rest.strip_suffix("?="))
            .and_then(|inner| {
                let mut parts = inner.splitn(3, '?');
                let charset = parts.next()?;
                let encoding = parts.next()?;
                let text = parts.next()?;
                assert!(charset.eq_ignore_ascii_case("utf-8"), "charset {charset}");
                Some(match encoding {
                    "B" | "b" => base64_decode(text),
                    "Q" | "q" => quoted_printable_decode(text, true),
                    other => panic!("unknown encoding {other}"),
                })
            });
        match word {
            Some(decoded) => {
                if !last_was_word {
                    bytes.extend_from_slice(pending_space.as_bytes());
                }
                bytes.extend_from_slice(&decoded);
                last_was_word = true;
            }
            None => {
                bytes.extend_from_slice(pending_space.as_bytes());
                bytes.extend_from_slice(token.as_bytes());
                last_was_word = false;
            }
        }
        pending_space = " ".into();
    }
    String::from_utf8(bytes).expect("a UTF-8 header")
}

/// The unfolded headers (lower-case names) and the decoded body of a message.
fn parse_mail(data: &str) -> (BTreeMap<String, String>, String) {
    let (head, body) = data.split_once("\r\n\r\n").expect("headers and a body");
    let mut headers = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            headers.insert(name, value);
        }
        let (name, value) = line.split_once(':').expect("a header line");
        current = Some((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    if let Some((name, value)) = current {
        headers.insert(name, value);
    }
    let encoding = headers
        .get("content-transfer-encoding")
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    let body = match encoding.as_str() {
        "base64" => base64_decode(body),
        "quoted-printable" => quoted_printable_decode(body, false),
        _ => body.as_bytes().to_vec(),
    };
    let body = String::from_utf8(body).expect("a UTF-8 body");
    (headers, body.replace("\r\n", "\n"))
}

fn email_config(port: u16) -> AlertConfig {
    AlertConfig::from_json(
        &json!({
            "email": {
                "url": format!("smtp://127.0.0.1:{port}"),
                "from": "衡山县电子监察室 <jiancha@example.gov.cn>",
            }
        })
        .to_string(),
    )
    .expect("a valid e-mail configuration")
}

#[tokio::test]
async fn email_reaches_a_plain_smtp_relay_with_chinese_intact() {
    let (port, session) = smtp_receiver().await;
    let senders = Senders::new(&email_config(port)).unwrap();
    assert_eq!(senders.channels(), vec![Channel::Email]);

    let outgoing = message(Channel::Email, "scjgj@hengshan.example.gov.cn");
    senders.send(&outgoing).await.expect("delivered");

    let session = session.await.unwrap();
    assert!(
        session.mail_from.contains("<jiancha@example.gov.cn>"),
        "{}",
        session.mail_from
    );
    assert_eq!(session.rcpt_to.len(), 1);
    assert!(
        session.rcpt_to[0].contains("<scjgj@hengshan.example.gov.cn>"),
        "{:?}",
        session.rcpt_to
    );

    // Everything on the wire is ASCII: lettre encodes headers and body.
    assert!(session.data.is_ascii(), "{}", session.data);
    let (headers, body) = parse_mail(&session.data);
    assert_eq!(decode_header(&headers["subject"]), SUBJECT);
    assert_eq!(body.trim_end(), TEXT);
    assert_eq!(headers["message-id"], "<card-42-sms-1@onewindow>");
    assert!(headers["to"].contains("scjgj@hengshan.example.gov.cn"));
    assert!(
        decode_header(&headers["from"]).contains("衡山县电子监察室"),
        "{}",
        headers["from"]
    );
    assert!(
        headers["content-type"]
            .to_ascii_lowercase()
            .contains("text/plain; charset=utf-8"),
        "{}",
        headers["content-type"]
    );
    assert!(headers.contains_key("date"));
}

#[tokio::test]
async fn email_to_a_bad_address_or_a_closed_relay_is_an_error() {
    let port = closed_port().await;
    let senders = Senders::new(&email_config(port)).unwrap();

    let error = senders
        .send(&message(Channel::Email, "scjgj@hengshan.example.gov.cn"))
        .await
        .expect_err("nothing listens");
    assert!(error.contains("电子邮件发送失败"), "{error}");

    let error = senders
        .send(&message(Channel::Email, "不是邮箱"))
        .await
        .expect_err("not an address");
    assert!(error.contains("不是有效的电子邮件地址"), "{error}");
}

// ---------------------------------------------------------------------------
// Webhook and gateways

/// One request as a receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    query: Option<String>,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Received>>>;

/// An HTTP receiver on 127.0.0.1 answering every request with `status` and
/// `answer`; returns its base address and what it received.
async fn http_receiver(status: StatusCode, answer: &'static str) -> (String, Log) {
    async fn record(
        State((log, status, answer)): State<(Log, StatusCode, &'static str)>,
        headers: HeaderMap,
        RawQuery(query): RawQuery,
        body: Bytes,
    ) -> (StatusCode, &'static str) {
        log.lock().unwrap().push(Received {
            headers,
            query,
            body,
        });
        (status, answer)
    }
    let log: Log = Arc::default();
    let app = Router::new()
        .route("/hook", post(record))
        .route(
            "/moved",
            any(|| async { (StatusCode::PERMANENT_REDIRECT, [("location", "/hook")]) }),
        )
        .route("/sms/send", any(record))
        .route("/wechat/send", any(record))
        .with_state((log.clone(), status, answer));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, log)
}

fn webhook_senders(url: String) -> Senders {
    Senders::new(&AlertConfig {
        webhook: Some(WebhookConfig {
            url,
            secret: "hengshan-webhook-secret".into(),
        }),
        ..AlertConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn webhook_posts_signed_json() {
    let (base, log) = http_receiver(StatusCode::NO_CONTENT, "").await;
    let senders = webhook_senders(format!("{base}/hook"));
    assert_eq!(senders.channels(), vec![Channel::Webhook]);
    let outgoing = message(Channel::Webhook, "");
    senders.send(&outgoing).await.expect("delivered");

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-onewindow-message-id"), "card-42-sms-1");
    let timestamp = header("x-onewindow-timestamp");
    let seconds: i64 = timestamp.parse().expect("unix seconds");
    let now = jiff::Timestamp::now().as_second();
    assert!((now - 60..=now).contains(&seconds), "{seconds} vs {now}");

    // The receiver's check: HMAC-SM3 over the exact bytes received.
    let signature = header("x-onewindow-signature");
    let hex = signature.strip_prefix("sm3=").expect("sm3= prefix");
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(&request.body);
    assert_eq!(hex, hmac_sm3_by_hand(b"hengshan-webhook-secret", &signed));
    assert_eq!(
        hex,
        webhook_signature("hengshan-webhook-secret", &timestamp, &request.body)
    );
    assert_ne!(
        hex,
        webhook_signature("another-secret", &timestamp, &request.body)
    );

    let body: Value = serde_json::from_slice(&request.body).expect("JSON");
    assert_eq!(body["message_id"], "card-42-sms-1");
    assert_eq!(body["channel"], "webhook");
    assert_eq!(body["subject"], SUBJECT);
    assert_eq!(body["text"], TEXT);
    assert_eq!(body["payload"], outgoing.payload);
    let sent_at: jiff::Timestamp = body["sent_at"]
        .as_str()
        .expect("sent_at")
        .parse()
        .expect("RFC 3339");
    assert_eq!(sent_at.as_second(), seconds);
}

#[tokio::test]
async fn webhook_answering_500_is_an_error_naming_the_status() {
    let (base, log) = http_receiver(StatusCode::INTERNAL_SERVER_ERROR, "数据库不可用").await;
    let senders = webhook_senders(format!("{base}/hook"));
    let error = senders
        .send(&message(Channel::Webhook, ""))
        .await
        .expect_err("a 500 answer");
    assert!(error.contains("500"), "{error}");
    assert!(error.contains("数据库不可用"), "{error}");
    assert_eq!(log.lock().unwrap().len(), 1);

    // Any other status outside 2xx too.
    let (base, _) = http_receiver(StatusCode::NOT_FOUND, "").await;
    let senders = webhook_senders(format!("{base}/elsewhere"));
    let error = senders
        .send(&message(Channel::Webhook, ""))
        .await
        .expect_err("a 404 answer");
    assert!(error.contains("404"), "{error}");

    // A redirect is not followed: the signed post is meant for one address.
    let (base, log) = http_receiver(StatusCode::OK, "").await;
    let senders = webhook_senders(format!("{base}/moved"));
    let error = senders
        .send(&message(Channel::Webhook, ""))
        .await
        .expect_err("a 308 answer");
    assert!(error.contains("308"), "{error}");
    assert!(log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn tls_to_a_plain_receiver_is_an_error() {
    // The rustls client (ring provider) is set up, starts a handshake and
    // reports the failure.
    let (base, log) = http_receiver(StatusCode::OK, "").await;
    let senders = webhook_senders(format!("{}/hook", base.replace("http://", "https://")));
    let error = senders
        .send(&message(Channel::Webhook, ""))
        .await
        .expect_err("no TLS there");
    assert!(error.contains("Webhook发送失败"), "{error}");
    assert!(log.lock().unwrap().is_empty());

    let (port, session) = smtp_receiver().await;
    let config = AlertConfig::from_json(
        &json!({
            "email": {
                "url": format!("smtps://127.0.0.1:{port}"),
                "from": "jiancha@example.gov.cn",
            }
        })
        .to_string(),
    )
    .unwrap();
    let error = Senders::new(&config)
        .unwrap()
        .send(&message(Channel::Email, "scjgj@hengshan.example.gov.cn"))
        .await
        .expect_err("no TLS there");
    assert!(error.contains("电子邮件发送失败"), "{error}");
    assert!(session.await.unwrap().rcpt_to.is_empty());
}

const SMS_BODY: &str =
    r#"{"mobile":"{address}","content":"{text}","msgid":"{message_id}","sign":"{subject}"}"#;

#[tokio::test]
async fn sms_template_fills_in_escaped_values() {
    let (base, log) = http_receiver(StatusCode::OK, r#"{"code":0}"#).await;
    let config = AlertConfig::from_json(
        &json!({
            "sms": {
                "url": format!("{base}/sms/send?to={{address}}&id={{message_id}}&s={{subject}}"),
                "headers": { "Authorization": "Bearer tok-{message_id}" },
                "body": SMS_BODY,
            }
        })
        .to_string(),
    )
    .expect("a valid SMS configuration");
    assert_eq!(config.channels(), vec![Channel::Sms]);
    let senders = Senders::new(&config).unwrap();

    let mut outgoing = message(Channel::Sms, PHONE);
    outgoing.text = "第一行\n他说：\"请尽快办理\"\t反斜杠\\ {text} 完".into();
    outgoing.subject = "【红牌】A&B=C?#".into();
    senders.send(&outgoing).await.expect("delivered");

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["authorization"], "Bearer tok-card-42-sms-1");
    let body: Value = serde_json::from_slice(&request.body).expect("valid JSON");
    assert_eq!(body["mobile"], PHONE);
    assert_eq!(body["content"], outgoing.text);
    assert_eq!(body["msgid"], "card-42-sms-1");
    assert_eq!(body["sign"], outgoing.subject);

    // In the URL each value is percent-encoded and decodes back whole.
    let query = request.query.clone().expect("a query");
    let pairs: BTreeMap<String, String> = query
        .split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap();
            (key.to_string(), percent_decode(value))
        })
        .collect();
    assert_eq!(pairs.len(), 3, "{query}");
    assert_eq!(pairs["to"], PHONE);
    assert_eq!(pairs["id"], "card-42-sms-1");
    assert_eq!(pairs["s"], outgoing.subject);
}

#[tokio::test]
async fn sms_gateway_answering_503_or_not_listening_is_an_error() {
    let template = |base: &str| HttpTemplate {
        url: format!("{base}/sms/send"),
        method: "POST".into(),
        headers: BTreeMap::new(),
        body: SMS_BODY.into(),
    };
    let (base, _) = http_receiver(StatusCode::SERVICE_UNAVAILABLE, "").await;
    let senders = Senders::new(&AlertConfig {
        sms: Some(template(&base)),
        ..AlertConfig::default()
    })
    .unwrap();
    let error = senders
        .send(&message(Channel::Sms, PHONE))
        .await
        .expect_err("a 503 answer");
    assert!(error.contains("503"), "{error}");

    // The template names {address}: a message without one is refused.
    let error = senders
        .send(&message(Channel::Sms, ""))
        .await
        .expect_err("no phone number");
    assert!(error.contains("address"), "{error}");

    let port = closed_port().await;
    let senders = Senders::new(&AlertConfig {
        sms: Some(template(&format!("http://127.0.0.1:{port}"))),
        ..AlertConfig::default()
    })
    .unwrap();
    let error = senders
        .send(&message(Channel::Sms, PHONE))
        .await
        .expect_err("nothing listens");
    assert!(error.contains("短信发送失败"), "{error}");
}

#[tokio::test]
async fn wechat_get_template_and_errcode_answers() {
    // A GET gateway: the values travel in the URL, no body is sent.
    let (base, log) = http_receiver(StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#).await;
    let config = AlertConfig::from_json(
        &json!({
            "wechat": {
                "url": format!("{base}/wechat/send?touser={{address}}&content={{text}}"),
                "method": "get",
            }
        })
        .to_string(),
    )
    .unwrap();
    let senders = Senders::new(&config).unwrap();
    assert_eq!(senders.channels(), vec![Channel::Wechat]);
    senders
        .send(&message(Channel::Wechat, "LiMing"))
        .await
        .expect("delivered");
    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert!(received[0].body.is_empty());
    let query = received[0].query.clone().unwrap();
    assert!(
        query.starts_with("touser=LiMing&content=%E8%A1%A1"),
        "{query}"
    );

    // A group robot answers 200 with a non-zero errcode on failure.
    let (base, _) = http_receiver(
        StatusCode::OK,
        r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#,
    )
    .await;
    let config = AlertConfig::from_json(
        &json!({
            "wechat": {
                "url": format!("{base}/wechat/send?key=abc"),
                "body": r#"{"msgtype":"text","text":{"content":"{subject}\n{text}"}}"#,
            }
        })
        .to_string(),
    )
    .unwrap();
    let senders = Senders::new(&config).unwrap();
    let error = senders
        .send(&message(Channel::Wechat, ""))
        .await
        .expect_err("errcode 93000");
    assert!(error.contains("93000"), "{error}");
}

#[tokio::test]
async fn unconfigured_and_in_app_channels_are_errors() {
    let (base, log) = http_receiver(StatusCode::OK, "").await;
    let senders = webhook_senders(format!("{base}/hook"));
    for channel in [
        Channel::InApp,
        Channel::Email,
        Channel::Sms,
        Channel::Wechat,
    ] {
        let error = senders
            .send(&message(channel, PHONE))
            .await
            .expect_err("not sent");
        assert!(!error.is_empty());
    }
    assert!(log.lock().unwrap().is_empty());

    let port = closed_port().await;
    let senders = webhook_senders(format!("http://127.0.0.1:{port}/hook"));
    let error = senders
        .send(&message(Channel::Webhook, ""))
        .await
        .expect_err("nothing listens");
    assert!(error.contains("Webhook发送失败"), "{error}");
}

// ---------------------------------------------------------------------------
// Configuration

#[test]
fn config_lists_configured_channels_in_order() {
    let config = AlertConfig::from_json(
        r#"{
            "wechat": {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",
                       "body": "{\"msgtype\":\"text\",\"text\":{\"content\":\"{text}\"}}"},
            "email": {"url": "smtps://jiancha%40example.gov.cn:pw@smtp.example.gov.cn",
                      "from": "衡山县电子监察室 <jiancha@example.gov.cn>"},
            "webhook": {"url": "https://oa.example.gov.cn/hooks/alerts", "secret": "s"},
            "sms": {"url": "https://sms.example.com/send", "method": "POST",
                    "headers": {"Authorization": "Bearer T"},
                    "body": "{\"mobile\":\"{address}\",\"content\":\"{text}\",\"msgid\":\"{message_id}\"}"}
        }"#,
    )
    .expect("a valid configuration");
    assert_eq!(
        config.channels(),
        vec![
            Channel::Email,
            Channel::Webhook,
            Channel::Sms,
            Channel::Wechat
        ]
    );
    assert_eq!(config.sms.as_ref().unwrap().method, "POST");
    assert_eq!(config.wechat.as_ref().unwrap().method, "POST");
    let senders = Senders::new(&config).unwrap();
    assert_eq!(senders.channels(), config.channels());

    // Secrets stay out of debug output.
    let debug = format!("{config:?}");
    for secret in [":pw@", "\"s\"", "key=K", "Bearer T"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }

    let empty = AlertConfig::from_json("{}").unwrap();
    assert!(empty.channels().is_empty());
    assert!(Senders::new(&empty).unwrap().channels().is_empty());

    let email_only = AlertConfig::from_json(
        r#"{"email": {"url": "smtp://127.0.0.1:2525", "from": "jiancha@example.gov.cn"}}"#,
    )
    .unwrap();
    assert_eq!(email_only.channels(), vec![Channel::Email]);
}

fn refused(json: &str) -> String {
    let error = AlertConfig::from_json(json).expect_err(json);
    assert!(error.starts_with("告警通道配置有误："), "{error}");
    error
}

#[test]
fn config_refuses_unknown_fields_and_bad_values() {
    let error = refused(r#"{"emial": {"url": "smtp://127.0.0.1", "from": "a@b.cn"}}"#);
    assert!(error.contains("unknown field `emial`"), "{error}");
    let error = refused(r#"{"webhook": {"url": "https://a.cn/h", "secret": "s", "sign": 1}}"#);
    assert!(error.contains("unknown field `sign`"), "{error}");

    let error = refused(r#"{"webhook": {"url": "https://a.cn/h"}}"#);
    assert!(error.contains("missing field `secret`"), "{error}");
    let error = refused(r#"{"webhook": {"url": "https://a.cn/h", "secret": "  "}}"#);
    assert!(error.contains("webhook.secret"), "{error}");
    let error = refused(r#"{"webhook": {"url": "ftp://a.cn/h", "secret": "s"}}"#);
    assert!(error.contains("webhook.url"), "{error}");
    let error = refused(r#"{"webhook": {"url": "not a url", "secret": "s"}}"#);
    assert!(error.contains("webhook.url"), "{error}");

    let error = refused(r#"{"email": {"url": "http://smtp.example.cn", "from": "a@b.cn"}}"#);
    assert!(error.contains("email.url"), "{error}");
    let error = refused(r#"{"email": {"url": "smtp://127.0.0.1", "from": "监察室"}}"#);
    assert!(error.contains("email.from"), "{error}");

    let error = refused(r#"{"sms": {"url": "https://s.cn/send", "method": "PUT", "body": "{}"}}"#);
    assert!(error.contains("sms.method"), "{error}");
    let error = refused(
        r#"{"sms": {"url": "https://s.cn/send", "body": "{\"to\":\"{phone}\",\"c\":\"{text}\"}"}}"#,
    );
    assert!(error.contains("{phone}"), "{error}");
    let error = refused(r#"{"sms": {"url": "https://s.cn/send?u={user}", "body": "{}"}}"#);
    assert!(
        error.contains("sms.url") && error.contains("{user}"),
        "{error}"
    );
    let error = refused(
        r#"{"wechat": {"url": "https://w.cn/send", "headers": {"X-Key": "{key}"}, "body": "{}"}}"#,
    );
    assert!(error.contains("{key}"), "{error}");
    // Placeholder outside quotes: invalid JSON once filled in.
    let error = refused(r#"{"sms": {"url": "https://s.cn/send", "body": "{\"c\":{text}}"}}"#);
    assert!(error.contains("JSON"), "{error}");
    let error = refused(r#"{"sms": {"url": "https://s.cn/send", "method": "GET", "body": "{}"}}"#);
    assert!(error.contains("GET"), "{error}");

    let error = refused("{not json");
    assert!(error.len() > "告警通道配置有误：".len(), "{error}");

    // A configuration built in code is checked the same way.
    let error = Senders::new(&AlertConfig {
        webhook: Some(WebhookConfig {
            url: "https://a.cn/h".into(),
            secret: String::new(),
        }),
        ..AlertConfig::default()
    })
    .expect_err("empty secret");
    assert!(error.contains("webhook.secret"), "{error}");
    let error = Senders::new(&AlertConfig {
        email: Some(SmtpConfig {
            url: "smtp://127.0.0.1:2525".into(),
            from: "".into(),
        }),
        ..AlertConfig::default()
    })
    .expect_err("no sender");
    assert!(error.contains("email.from"), "{error}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out() {
    // Accepts the connection and reads, but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut sink).await;
    });
    let senders = webhook_senders(format!("http://127.0.0.1:{port}/hook"));
    let started = std::time::Instant::now();
    let error = senders
        .send(&message(Channel::Webhook, ""))
        .await
        .expect_err("no answer");
    assert!(error.contains("超时"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    silent.abort();
}
