//! Delivery of one alert message over one external channel: e-mail (SMTP),
//! a signed webhook, or an SMS / WeChat gateway described by an HTTP
//! template. The background sender takes messages from the outbox and calls
//! [`Senders::send`], retrying on error; delivery is at least once, so every
//! message carries a stable id the receivers de-duplicate on.
//!
//! In-app notices are written with the card and never pass through here.
//!
//! TLS is rustls with the ring provider, set explicitly on each client (no
//! process-wide default is needed or installed). HTTPS trusts the Mozilla
//! roots and the system's store; SMTP over TLS the Mozilla roots. HTTP
//! redirects are not followed. Every request is bounded by a timeout of
//! about 10 s (30 s for a whole SMTP conversation).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use onewindow_core::supervision::Channel;
use serde::{Deserialize, Serialize};
use sm3::Sm3;
use url::Url;

/// How long one SMTP command or one HTTP request may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole SMTP conversation may take.
const SMTP_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an unexpected HTTP answer is quoted in the error.
const ANSWER_QUOTE_CHARS: usize = 200;
/// How much of an HTTP answer is read.
const ANSWER_MAX_BYTES: usize = 64 * 1024;

/// The placeholders a [`HttpTemplate`] may use.
const PLACEHOLDERS: [&str; 4] = ["address", "subject", "text", "message_id"];

/// Alert channel configuration, read by `onewindow serve --alerts FILE` from
/// JSON. A channel that is absent is not configured; in-app notices need no
/// configuration.
///
/// ```json
/// {
///   "email": {
///     "url": "smtps://jiancha%40example.gov.cn:password@smtp.example.gov.cn",
///     "from": "衡山县电子监察室 <jiancha@example.gov.cn>"
///   },
///   "webhook": { "url": "https://oa.example.gov.cn/hooks/alerts", "secret": "long-random-secret" },
///   "sms": {
///     "url": "https://sms.example.com/api/send",
///     "method": "POST",
///     "headers": { "Authorization": "Bearer TOKEN" },
///     "body": "{\"mobile\":\"{address}\",\"content\":\"{text}\",\"msgid\":\"{message_id}\"}"
///   },
///   "wechat": {
///     "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY",
///     "body": "{\"msgtype\":\"text\",\"text\":{\"content\":\"{subject}\\n{text}\"}}"
///   }
/// }
/// ```
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    #[serde(default)]
    pub email: Option<SmtpConfig>,
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    #[serde(default)]
    pub sms: Option<HttpTemplate>,
    #[serde(default)]
    pub wechat: Option<HttpTemplate>,
}

/// An SMTP relay.
///
/// `url` is a lettre connection URL:
/// - `smtp://127.0.0.1:2525` — plain SMTP, **no TLS at all** (no STARTTLS
///   either): for a relay on the same machine or a trusted local network;
///   default port 25;
/// - `smtp://user:pass@host:587?tls=required` — STARTTLS, refused when the
///   server does not offer it; `?tls=opportunistic` uses STARTTLS when
///   offered;
/// - `smtps://user:pass@host` — TLS from the first byte, default port 465.
///
/// A user name or password with `@`, `:` or `/` is percent-encoded
/// (`jiancha%40example.gov.cn`). Credentials over plain `smtp://` without a
/// `tls` parameter travel unencrypted. Certificates are checked against the
/// Mozilla roots (webpki-roots).
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub url: String,
    /// The sender, e.g. `衡山县电子监察室 <jiancha@example.gov.cn>`.
    pub from: String,
}

/// A receiver of signed JSON posts:
/// `{"message_id","channel","subject","text","payload","sent_at"}` with the
/// headers `X-Onewindow-Message-Id`, `X-Onewindow-Timestamp` (unix seconds)
/// and `X-Onewindow-Signature: sm3=<hex>`, where hex is
/// [`webhook_signature`]`(secret, timestamp, body)` over the exact body bytes.
/// Any status outside 2xx is a failure.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// An `http://` or `https://` address.
    pub url: String,
    /// The HMAC-SM3 key of `X-Onewindow-Signature`; must not be empty.
    pub secret: String,
}

/// An HTTP request to a gateway (SMS, WeChat), with placeholders
/// `{address}`, `{subject}`, `{text}` and `{message_id}`:
/// - in `url` the value is percent-encoded;
/// - in `headers` it is put verbatim;
/// - in `body` it is escaped as the inside of a JSON string (without the
///   quotes), so `"content":"{text}"` stays valid JSON whatever the text
///   holds; when the `Content-Type` header is
///   `application/x-www-form-urlencoded` it is percent-encoded instead.
///
/// Any other `{name}` (letters, digits, `_` between braces) is refused when
/// the configuration is read; other braces, such as JSON's, are kept as they
/// are. `Content-Type` defaults to `application/json` when the body starts
/// with `{` or `[`. A `GET` request sends no body, so its `body` must be
/// empty (or left out).
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTemplate {
    pub url: String,
    /// `POST` (the default) or `GET`.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request headers, e.g. `Authorization`; values may use placeholders.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// e.g. `{"mobile":"{address}","content":"{text}","msgid":"{message_id}"}`.
    #[serde(default)]
    pub body: String,
}

fn default_method() -> String {
    "POST".into()
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &redacted_url(&self.url))
            .field("from", &self.from)
            .finish()
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &redacted_url(&self.url))
            .field("secret", &"***")
            .finish()
    }
}

impl fmt::Debug for HttpTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: BTreeMap<&str, &str> =
            self.headers.keys().map(|k| (k.as_str(), "***")).collect();
        f.debug_struct("HttpTemplate")
            .field("url", &redacted_url(&self.url))
            .field("method", &self.method)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

/// A URL without its password and query, which may hold keys.
fn redacted_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "（无效地址）".into(),
    }
}

impl AlertConfig {
    /// Reads and checks the JSON configuration.
    pub fn from_json(text: &str) -> Result<AlertConfig, String> {
        let config: AlertConfig =
            serde_json::from_str(text).map_err(|e| format!("告警通道配置有误：{e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// The configured external channels, in [`Channel::ALL`] order.
    pub fn channels(&self) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .filter(|channel| match channel {
                Channel::InApp => false,
                Channel::Email => self.email.is_some(),
                Channel::Webhook => self.webhook.is_some(),
                Channel::Sms => self.sms.is_some(),
                Channel::Wechat => self.wechat.is_some(),
            })
            .collect()
    }

    /// Every check `from_json` makes beyond the JSON shape.
    fn validate(&self) -> Result<(), String> {
        let fail = |field: &str, reason: String| format!("告警通道配置有误：{field} {reason}");
        if let Some(email) = &self.email {
            smtp_transport(&email.url).map_err(|e| fail("email.url", e))?;
            parse_mailbox(&email.from).map_err(|e| fail("email.from", e))?;
        }
        if let Some(webhook) = &self.webhook {
            http_uri(&webhook.url).map_err(|e| fail("webhook.url", e))?;
            if webhook.secret.trim().is_empty() {
                return Err(fail("webhook.secret", "不能为空".into()));
            }
        }
        for (name, template) in [("sms", &self.sms), ("wechat", &self.wechat)] {
            if let Some(template) = template {
                template.validate(name)?;
            }
        }
        Ok(())
    }
}

impl HttpTemplate {
    fn validate(&self, name: &str) -> Result<(), String> {
        let fail =
            |field: &str, reason: String| format!("告警通道配置有误：{name}.{field} {reason}");
        let method = self.method().map_err(|e| fail("method", e))?;
        check_placeholders(&self.url).map_err(|e| fail("url", e))?;
        for (header, value) in &self.headers {
            check_placeholders(value).map_err(|e| fail(&format!("headers.{header}"), e))?;
        }
        check_placeholders(&self.body).map_err(|e| fail("body", e))?;

        // Render with awkward sample values: what is refused now would be
        // refused for every message later.
        let sample = Outgoing {
            message_id: "sample-1".into(),
            channel: Channel::Sms,
            address: "13800000000".into(),
            subject: "【示例】\"主题\"".into(),
            text: "第一行\n第二行 \"引号\" \\ 反斜杠 & ? # /".into(),
            payload: serde_json::Value::Null,
        };
        self.uri_for(&sample).map_err(|e| fail("url", e))?;
        self.headers_for(&sample).map_err(|e| fail("headers", e))?;
        if method == Method::GET {
            if !self.body.trim().is_empty() {
                return Err(fail(
                    "body",
                    "GET 请求不发送请求体，请留空或改用 POST".into(),
                ));
            }
        } else if self.json_body() {
            let body = self.body_for(&sample);
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&body) {
                return Err(fail(
                    "body",
                    format!("代入示例内容后不是有效的 JSON（{e}）：{body}"),
                ));
            }
        }
        Ok(())
    }

    fn method(&self) -> Result<Method, String> {
        if self.method.eq_ignore_ascii_case("POST") {
            Ok(Method::POST)
        } else if self.method.eq_ignore_ascii_case("GET") {
            Ok(Method::GET)
        } else {
            Err(format!("只能是 POST 或 GET，不能是“{}”", self.method))
        }
    }

    fn content_type(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str())
    }

    /// The Content-Type to add when none is configured.
    fn default_content_type(&self) -> Option<&'static str> {
        let body = self.body.trim_start();
        (self.content_type().is_none() && (body.starts_with('{') || body.starts_with('[')))
            .then_some("application/json")
    }

    /// Whether placeholder values in the body are form-encoded rather than
    /// JSON-escaped.
    fn form_body(&self) -> bool {
        self.content_type().is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .contains("application/x-www-form-urlencoded")
        })
    }

    /// Whether the body is sent as JSON (declared, or by default).
    fn json_body(&self) -> bool {
        match self.content_type() {
            Some(value) => value.to_ascii_lowercase().contains("json"),
            None => self.default_content_type().is_some(),
        }
    }

    fn uri_for(&self, message: &Outgoing) -> Result<Uri, String> {
        http_uri(&render(&self.url, message, percent_encode))
    }

    fn headers_for(&self, message: &Outgoing) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("“{name}”不是有效的请求头名称"))?;
            let value = render(value, message, str::to_owned);
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| format!("请求头 {name} 的值含有不能放入请求头的字符（如换行）"))?;
            headers.insert(header, value);
        }
        if let Some(content_type) = self.default_content_type() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        Ok(headers)
    }

    fn body_for(&self, message: &Outgoing) -> String {
        if self.form_body() {
            render(&self.body, message, percent_encode)
        } else {
            render(&self.body, message, json_string_inside)
        }
    }

    /// Whether the template needs the message's address.
    fn uses_address(&self) -> bool {
        let uses = |template: &str| {
            placeholders(template)
                .iter()
                .any(|(_, name)| *name == "address")
        };
        uses(&self.url) || uses(&self.body) || self.headers.values().any(|v| uses(v))
    }
}

/// One message to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Stable id; receivers de-duplicate on it (at-least-once delivery).
    pub message_id: String,
    pub channel: Channel,
    /// E-mail address, phone number or WeChat user id; empty for the webhook.
    pub address: String,
    /// e.g. `【黄牌】衡山县市场监督管理局 办件4304232026120300012 承诺办结时限已超期`.
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// Structured data for the webhook (card id, level, case number, ...).
    pub payload: serde_json::Value,
}

/// The configured channels, ready to send.
#[derive(Clone)]
pub struct Senders {
    email: Option<EmailSender>,
    webhook: Option<WebhookConfig>,
    sms: Option<HttpTemplate>,
    wechat: Option<HttpTemplate>,
    http: HttpClient,
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Clone)]
struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl fmt::Debug for Senders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Senders")
            .field("channels", &self.channels())
            .finish_non_exhaustive()
    }
}

impl Senders {
    /// Checks the configuration and prepares the clients.
    pub fn new(config: &AlertConfig) -> Result<Senders, String> {
        config.validate()?;
        let email = match &config.email {
            Some(email) => Some(EmailSender {
                transport: smtp_transport(&email.url)
                    .map_err(|e| format!("告警通道配置有误：email.url {e}"))?,
                from: parse_mailbox(&email.from)
                    .map_err(|e| format!("告警通道配置有误：email.from {e}"))?,
            }),
            None => None,
        };
        Ok(Senders {
            email,
            webhook: config.webhook.clone(),
            sms: config.sms.clone(),
            wechat: config.wechat.clone(),
            http: http_client()?,
        })
    }

    /// The configured external channels, in [`Channel::ALL`] order.
    pub fn channels(&self) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .filter(|channel| match channel {
                Channel::InApp => false,
                Channel::Email => self.email.is_some(),
                Channel::Webhook => self.webhook.is_some(),
                Channel::Sms => self.sms.is_some(),
                Channel::Wechat => self.wechat.is_some(),
            })
            .collect()
    }

    /// Delivers one message; `Err` (the reason in Chinese, with the
    /// transport's error text) when it failed and should be retried.
    pub async fn send(&self, message: &Outgoing) -> Result<(), String> {
        let not_configured = || format!("未配置{}通道，无法发送", message.channel.label());
        match message.channel {
            Channel::InApp => Err("站内消息随告警卡片写入，不经外部通道发送".into()),
            Channel::Email => match &self.email {
                Some(email) => email.send(message).await,
                None => Err(not_configured()),
            },
            Channel::Webhook => match &self.webhook {
                Some(webhook) => self.send_webhook(webhook, message).await,
                None => Err(not_configured()),
            },
            Channel::Sms => match &self.sms {
                Some(template) => self.send_template(template, message).await,
                None => Err(not_configured()),
            },
            Channel::Wechat => match &self.wechat {
                Some(template) => self.send_template(template, message).await,
                None => Err(not_configured()),
            },
        }
    }

    async fn send_webhook(
        &self,
        webhook: &WebhookConfig,
        message: &Outgoing,
    ) -> Result<(), String> {
        let label = message.channel.label();
        let uri = http_uri(&webhook.url)?;
        let message_id = HeaderValue::from_str(&message.message_id)
            .map_err(|_| format!("消息编号“{}”不能放入请求头", message.message_id))?;
        let now = jiff::Timestamp::now().as_second();
        let sent_at = jiff::Timestamp::from_second(now)
            .map_err(|e| format!("系统时钟有误：{e}"))?
            .to_string();
        let body = serde_json::to_vec(&WebhookBody {
            message_id: &message.message_id,
            channel: message.channel,
            subject: &message.subject,
            text: &message.text,
            payload: &message.payload,
            sent_at,
        })
        .map_err(|e| format!("无法生成 Webhook 内容：{e}"))?;
        let timestamp = now.to_string();
        let signature = format!(
            "sm3={}",
            webhook_signature(&webhook.secret, &timestamp, &body)
        );
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-onewindow-message-id", message_id);
        headers.insert(
            "x-onewindow-timestamp",
            HeaderValue::from_str(&timestamp).map_err(|e| e.to_string())?,
        );
        headers.insert(
            "x-onewindow-signature",
            HeaderValue::from_str(&signature).map_err(|e| e.to_string())?,
        );
        let (status, answer) = self
            .exchange(label, Method::POST, uri, headers, body)
            .await?;
        check_status(label, status, &answer)
    }

    async fn send_template(
        &self,
        template: &HttpTemplate,
        message: &Outgoing,
    ) -> Result<(), String> {
        let label = message.channel.label();
        if message.address.trim().is_empty() && template.uses_address() {
            return Err(format!("{label}消息没有收件人（address 为空）"));
        }
        let method = template.method()?;
        let uri = template.uri_for(message)?;
        let headers = template.headers_for(message)?;
        let body = if method == Method::GET {
            Vec::new()
        } else {
            template.body_for(message).into_bytes()
        };
        let (status, answer) = self.exchange(label, method, uri, headers, body).await?;
        check_status(label, status, &answer)?;
        if message.channel == Channel::Wechat {
            check_wechat_answer(&answer)?;
        }
        Ok(())
    }

    /// Sends one HTTP request (redirects are not followed: a signed post is
    /// meant for one address); the status and the start of the answer.
    async fn exchange(
        &self,
        label: &str,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<(StatusCode, String), String> {
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        request
            .headers_mut()
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(concat!(
                "onewindow/",
                env!("CARGO_PKG_VERSION")
            )));
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("{label}发送失败：{}", error_chain(&e)))?;
            let status = response.status();
            // The status decides; an answer that cannot be read is empty.
            let answer = match Limited::new(response.into_body(), ANSWER_MAX_BYTES)
                .collect()
                .await
            {
                Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
                Err(_) => String::new(),
            };
            Ok((status, answer))
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("{label}发送超时（{} 秒）", TIMEOUT.as_secs())),
        }
    }
}

/// An HTTP/1.1 client over rustls with the ring provider, trusting the
/// Mozilla roots and the system's store (where an administrator adds the CA
/// of an intranet gateway). No connection is kept for reuse: alerts are few,
/// and a fresh connection never fails for having gone stale.
fn http_client() -> Result<HttpClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("无法配置 TLS：{e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_connect_timeout(Some(TIMEOUT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(https))
}

impl EmailSender {
    async fn send(&self, message: &Outgoing) -> Result<(), String> {
        let to = parse_mailbox(&message.address).map_err(|e| format!("收件地址{e}"))?;
        let email = lettre::Message::builder()
            .message_id(Some(format!(
                "<{}@onewindow>",
                percent_encode(&message.message_id)
            )))
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|e| format!("无法生成邮件：{e}"))?;
        match tokio::time::timeout(SMTP_TOTAL_TIMEOUT, self.transport.send(email)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("电子邮件发送失败：{}", error_chain(&e))),
            Err(_) => Err(format!(
                "电子邮件发送超时（{} 秒）",
                SMTP_TOTAL_TIMEOUT.as_secs()
            )),
        }
    }
}

/// The JSON posted to the webhook, fields in this order.
#[derive(Serialize)]
struct WebhookBody<'a> {
    message_id: &'a str,
    channel: Channel,
    subject: &'a str,
    text: &'a str,
    payload: &'a serde_json::Value,
    /// RFC 3339, UTC, whole seconds; the same instant as the timestamp header.
    sent_at: String,
}

/// HMAC-SM3 of `timestamp + "." + body` with `secret`, lowercase hex.
/// Receivers verify `X-Onewindow-Signature: sm3=<hex>` with this.
pub fn webhook_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sm3> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Ok for a 2xx status, else an error naming the status.
fn check_status(label: &str, status: StatusCode, answer: &str) -> Result<(), String> {
    if status.is_success() {
        return Ok(());
    }
    let quoted: String = answer.trim().chars().take(ANSWER_QUOTE_CHARS).collect();
    if quoted.is_empty() {
        Err(format!("{label}接收方返回 HTTP {status}"))
    } else {
        Err(format!("{label}接收方返回 HTTP {status}：{quoted}"))
    }
}

/// WeChat Work answers HTTP 200 with `{"errcode":…,"errmsg":…}`; a non-zero
/// code is a failure.
fn check_wechat_answer(answer: &str) -> Result<(), String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(answer) else {
        return Ok(());
    };
    match value.get("errcode").and_then(serde_json::Value::as_i64) {
        Some(code) if code != 0 => {
            let reason = value
                .get("errmsg")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            Err(format!("企业微信接口返回错误 errcode={code}：{reason}"))
        }
        _ => Ok(()),
    }
}

fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("不是有效的 SMTP 地址（{}）", error_chain(&e)))?;
    Ok(transport.timeout(Some(TIMEOUT)).build())
}

fn parse_mailbox(address: &str) -> Result<Mailbox, String> {
    address
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| format!("“{address}”不是有效的电子邮件地址（{e}）"))
}

/// An absolute `http://` or `https://` URL; characters a URL cannot hold
/// (Chinese, spaces) are percent-encoded.
fn http_uri(url: &str) -> Result<Uri, String> {
    let mut parsed = Url::parse(url.trim()).map_err(|e| format!("不是有效的网址（{e}）"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "应是 http:// 或 https:// 网址，不能是 {}: 网址",
            parsed.scheme()
        ));
    }
    parsed.set_fragment(None);
    parsed
        .as_str()
        .parse::<Uri>()
        .map_err(|e| format!("不是有效的网址（{e}）"))
}

/// A placeholder's value.
fn field<'a>(message: &'a Outgoing, name: &str) -> Option<&'a str> {
    match name {
        "address" => Some(&message.address),
        "subject" => Some(&message.subject),
        "text" => Some(&message.text),
        "message_id" => Some(&message.message_id),
        _ => None,
    }
}

/// The `{name}` placeholders of a template: byte range and name.
fn placeholders(template: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let bytes = template.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            let name_len = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let end = i + 1 + name_len;
            if name_len > 0 && bytes.get(end) == Some(&b'}') {
                found.push((i..end + 1, &template[i + 1..end]));
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    found
}

fn check_placeholders(template: &str) -> Result<(), String> {
    match placeholders(template)
        .into_iter()
        .find(|(_, name)| !PLACEHOLDERS.contains(name))
    {
        Some((_, name)) => Err(format!(
            "含有未知的占位符 {{{name}}}，可用的是 {{address}}、{{subject}}、{{text}}、{{message_id}}"
        )),
        None => Ok(()),
    }
}

/// Replaces the placeholders in one pass (a value holding `{text}` is not
/// replaced again), each value escaped by `escape`.
fn render(template: &str, message: &Outgoing, escape: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    for (range, name) in placeholders(template) {
        if let Some(value) = field(message, name) {
            out.push_str(&template[last..range.start]);
            out.push_str(&escape(value));
            last = range.end;
        }
    }
    out.push_str(&template[last..]);
    out
}

/// Percent-encodes every byte but the unreserved characters of RFC 3986.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The inside of a JSON string literal holding `value`.
fn json_string_inside(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// An error with its causes, each said once.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push('：');
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
