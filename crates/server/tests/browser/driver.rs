//! A real browser for the tests: Debian's headless chromium driven through
//! its chromedriver over WebDriver (fantoccini, plain HTTP on 127.0.0.1).
//!
//! One chromedriver serves a test binary: the first browser starts it on a
//! free port, and it is killed with its whole process group (so with every
//! chromium it started) when the last browser of the moment is gone, even
//! after a failed test. Each browser is its own chromium with a temporary
//! profile.
//!
//! The helpers find things as a person does: a field by its label, a button
//! or a link by its text, a form of the case page by its heading. They wait
//! for what they look for (and for a new page after a click) up to
//! [`WAIT`], then fail saying what was missing and where.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long a helper waits for an element, a text or a new page.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often a waiting helper looks again.
const POLL: Duration = Duration::from_millis(50);

/// The flags headless chromium needs on these machines (no sandbox as root,
/// no GPU, small /dev/shm, no network of its own beyond the page).
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A program the browser tests need: `$ENV` when set, else Debian's path.
/// Missing, it fails the test with what to do (never a silent pass).
fn program(env: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "the browser tests need {} (Debian package {package}), which is missing. \
         Run scripts/test.sh: it installs chromium, chromium-driver and a Chinese font \
         (or: apt-get install chromium chromium-driver fonts-wqy-microhei; \
         {env} names another binary).",
        path.display()
    );
    path
}

fn chromium() -> PathBuf {
    program("ONEWINDOW_CHROMIUM", "/usr/bin/chromium", "chromium")
}

/// The UTF-8 locale chromedriver runs in: the caller's when it names one,
/// else C.UTF-8 (every Debian has it).
fn utf8_locale() -> String {
    std::env::var("LANG")
        .ok()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.ends_with(".utf-8") || l.ends_with(".utf8")
        })
        .unwrap_or_else(|| "C.UTF-8".into())
}

// ---------------------------------------------------------------------------
// chromedriver

/// A running chromedriver in a process group of its own; dropping it kills
/// the group: chromedriver and every chromium it started.
pub struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        let path = program(
            "ONEWINDOW_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        );
        let mut child = Command::new(&path)
            // Port 0: chromedriver picks a free port and says which.
            .arg("--port=0")
            // A Chinese browser, as the county's people use: chromium takes
            // its language (navigator.languages, Accept-Language, and with
            // Debian's chromium-l10n its own texts) from LANGUAGE on Linux.
            // LANG must name a locale the system has (UTF-8, so that
            // chromedriver can pass non-ASCII file names to a file field).
            .env("LANGUAGE", "zh_CN:zh")
            .env("LANG", utf8_locale())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("chromedriver's output");
        let (port_tx, port_rx) = mpsc::channel();
        // Reads the port, then keeps draining the output so that chromedriver
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|rest| rest.trim().trim_end_matches('.').parse::<u16>().ok())
                {
                    let _ = port_tx.send(port);
                }
            }
        });
        let mut driver = Chromedriver { child, port: 0 };
        match port_rx.recv_timeout(WAIT) {
            Ok(port) => driver.port = port,
            Err(_) => panic!(
                "{} did not say which port it listens on within {WAIT:?}",
                path.display()
            ),
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (process_group(0)).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The chromedriver of this test binary, started when no browser holds one.
fn chromedriver() -> Arc<Chromedriver> {
    static SHARED: Mutex<Weak<Chromedriver>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(driver) = shared.upgrade() {
        return driver;
    }
    let driver = Arc::new(Chromedriver::start());
    *shared = Arc::downgrade(&driver);
    driver
}

// ---------------------------------------------------------------------------
// The browser

/// One headless chromium with its own profile, at `base`.
pub struct Browser {
    pub client: Client,
    base: String,
    // Dropped after the client: the profile outlives the browser using it,
    // and the driver outlives both.
    _profile: TempDir,
    _driver: Arc<Chromedriver>,
}

/// An XPath string literal of `text`.
pub fn literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

impl Browser {
    /// Opens a browser whose window is `width` × `height` CSS pixels.
    pub async fn open(base: &str, width: u32, height: u32) -> Browser {
        let chromium = chromium();
        let driver = chromedriver();
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        args.push("--lang=zh-CN".into());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| panic!("cannot start headless chromium through chromedriver: {e}"));
        let browser = Browser {
            client,
            base: base.trim_end_matches('/').to_string(),
            _profile: profile,
            _driver: driver,
        };
        browser.resize(width, height).await;
        browser
    }

    /// Ends the browser session (chromium exits).
    pub async fn close(self) {
        let Browser {
            client,
            _profile,
            _driver,
            ..
        } = self;
        let _ = client.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Sizes the window so that the page's viewport is `width` × `height`
    /// (headless chromium's window is taller than its viewport).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("set the window size");
        let inner = self
            .script("return [window.innerWidth, window.innerHeight]", vec![])
            .await;
        let inner_width = inner[0].as_i64().expect("innerWidth");
        let inner_height = inner[1].as_i64().expect("innerHeight");
        if (inner_width, inner_height) != (i64::from(width), i64::from(height)) {
            let (w, h) = self.client.get_window_size().await.expect("window size");
            let w = (w as i64 + i64::from(width) - inner_width).max(1) as u32;
            let h = (h as i64 + i64::from(height) - inner_height).max(1) as u32;
            self.client
                .set_window_size(w, h)
                .await
                .expect("set the window size");
        }
    }

    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    pub async fn number(&self, script: &str) -> f64 {
        let value = self.script(script, vec![]).await;
        value
            .as_f64()
            .unwrap_or_else(|| panic!("{script} gave {value}"))
    }

    /// Opens `path` (of the server, or a full URL) and waits for it to load.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.loaded().await;
    }

    /// Waits until the document has loaded.
    async fn loaded(&self) {
        let until = Instant::now() + WAIT;
        loop {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            if matches!(&state, Ok(Value::String(s)) if s == "complete") {
                return;
            }
            assert!(
                Instant::now() < until,
                "the page did not finish loading: {state:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// What the page shows as text (the body's innerText).
    pub async fn text(&self) -> String {
        match self.script("return document.body.innerText", vec![]).await {
            Value::String(s) => s,
            other => panic!("the body's text: {other}"),
        }
    }

    /// Waits until the page shows `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let until = Instant::now() + WAIT;
        loop {
            let shown = self.text().await;
            if shown.contains(text) {
                return;
            }
            if Instant::now() > until {
                panic!(
                    "{} does not show “{text}”; it shows:\n{shown}",
                    self.path().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The page's main heading.
    pub async fn heading(&self) -> String {
        self.find("//h1").await.text().await.expect("the h1's text")
    }

    /// The whole page as the area where helpers look.
    pub fn page(&self) -> Area<'_> {
        Area {
            browser: self,
            root: None,
            name: "the page".into(),
        }
    }

    /// The first element at `xpath`, waiting for it.
    pub async fn find(&self, xpath: &str) -> Element {
        self.page().find(xpath).await
    }

    /// Every element at `xpath` now.
    pub async fn find_all(&self, xpath: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("find {xpath}: {e}"))
    }

    /// Clicks `element` and waits for the page it leads to.
    pub async fn click_and_wait(&self, element: &Element, what: &str) {
        let before = self.path().await;
        let old = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("the page's root");
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {what} on {before}: {e}"));
        let until = Instant::now() + WAIT;
        loop {
            match old.tag_name().await {
                Err(e) if e.is_stale_element_reference() => break,
                Ok(_) | Err(_) => {}
            }
            if Instant::now() > until {
                panic!(
                    "clicking {what} on {before} led to no new page; it shows:\n{}",
                    self.text().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
        self.loaded().await;
    }

    /// Presses a key on the keyboard (it goes to the focused element).
    pub async fn key(&self, key: Key) {
        let press = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client
            .perform_actions(press)
            .await
            .unwrap_or_else(|e| panic!("press {key:?}: {e}"));
    }

    /// Tag, type and visible name (text, value or label) of the focused element.
    pub async fn focused(&self) -> Value {
        self.script(
            "const e = document.activeElement;
             const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
             return { tag: e.tagName.toLowerCase(), type: e.type || '', id: e.id || '',
                      text: (e.innerText || e.value || label || '').trim(), label: label.trim() };",
            vec![],
        )
        .await
    }

    /// A PNG of the whole page at `width`: the window is made as tall as the
    /// page (at most `max_height`) before the capture.
    pub async fn full_page_png(&self, width: u32, max_height: u32) -> Vec<u8> {
        // From a short viewport, so that a short page is captured short.
        self.resize(width, 300).await;
        let mut height = 0;
        for _ in 0..3 {
            let wanted = (self
                .number("return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
                .await as u32)
                .clamp(200, max_height);
            if wanted == height {
                break;
            }
            height = wanted;
            self.resize(width, height).await;
        }
        self.client.screenshot().await.expect("a screenshot")
    }
}

// ---------------------------------------------------------------------------
// Areas of a page

/// Where helpers look: the page, or one part of it (a form, a row).
pub struct Area<'b> {
    browser: &'b Browser,
    root: Option<Element>,
    name: String,
}

impl<'b> Area<'b> {
    /// Elements at `xpath` (relative: `.//…`) in this area now.
    async fn all(&self, xpath: &str) -> Vec<Element> {
        let found = match &self.root {
            Some(root) => root.find_all(Locator::XPath(xpath)).await,
            None => self.browser.client.find_all(Locator::XPath(xpath)).await,
        };
        found.unwrap_or_else(|e| panic!("find {xpath} in {}: {e}", self.name))
    }

    /// The first element of the first of `xpaths` that finds one, waiting.
    async fn first_of(&self, xpaths: &[String], what: &str) -> Element {
        let until = Instant::now() + WAIT;
        loop {
            for xpath in xpaths {
                if let Some(found) = self.all(xpath).await.into_iter().next() {
                    return found;
                }
            }
            if Instant::now() > until {
                panic!(
                    "no {what} in {} of {}; the page shows:\n{}",
                    self.name,
                    self.browser.path().await,
                    self.browser.text().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element at `xpath` (an absolute `//…` path is made relative).
    pub async fn find(&self, xpath: &str) -> Element {
        let relative = if xpath.starts_with('/') {
            format!(".{xpath}")
        } else {
            xpath.to_string()
        };
        self.first_of(&[relative], xpath).await
    }

    /// A part of this area: the first element at `xpath`.
    pub async fn within(&self, xpath: &str, name: &str) -> Area<'b> {
        Area {
            browser: self.browser,
            root: Some(self.find(xpath).await),
            name: name.to_string(),
        }
    }

    /// Elements whose normalized text is `text`, else starts with it, else
    /// contains it.
    fn by_text(element: &str, text: &str) -> Vec<String> {
        let t = literal(text);
        vec![
            format!(".//{element}[normalize-space(.)={t}]"),
            format!(".//{element}[starts-with(normalize-space(.), {t})]"),
            format!(".//{element}[contains(normalize-space(.), {t})]"),
        ]
    }

    /// The form control labelled `label` (its `<label>`, by text).
    pub async fn field(&self, label: &str) -> Element {
        let label_element = self
            .first_of(&Self::by_text("label", label), &format!("label “{label}”"))
            .await;
        match label_element.attr("for").await.expect("the label's for") {
            Some(id) if !id.is_empty() => self
                .browser
                .client
                .find(Locator::Id(&id))
                .await
                .unwrap_or_else(|e| panic!("the control of label “{label}” (#{id}): {e}")),
            _ => label_element
                .find(Locator::XPath(".//input | .//select | .//textarea"))
                .await
                .unwrap_or_else(|e| panic!("the control inside label “{label}”: {e}")),
        }
    }

    /// Types `value` into the field labelled `label` (after clearing it); a
    /// select takes the option shown as `value`.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        if field.tag_name().await.expect("a tag") == "select" {
            field
                .select_by_label(value)
                .await
                .unwrap_or_else(|e| panic!("choose “{value}” in “{label}”: {e}"));
            return;
        }
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear “{label}”: {e}"));
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into “{label}”: {e}"));
    }

    /// The value of the field labelled `label`.
    pub async fn value(&self, label: &str) -> String {
        self.field(label)
            .await
            .prop("value")
            .await
            .expect("a value")
            .unwrap_or_default()
    }

    /// Ticks the checkbox or radio button labelled `label`.
    pub async fn tick(&self, label: &str) {
        let field = self.field(label).await;
        if !field.is_selected().await.expect("whether it is ticked") {
            field
                .click()
                .await
                .unwrap_or_else(|e| panic!("tick “{label}”: {e}"));
        }
        assert!(
            field.is_selected().await.expect("whether it is ticked"),
            "“{label}” is ticked"
        );
    }

    /// Chooses `file` in the file field labelled `label`.
    pub async fn upload(&self, label: &str, file: &std::path::Path) {
        self.field(label)
            .await
            .send_keys(&file.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choose a file for “{label}”: {e}"));
    }

    /// The button with the text `text`.
    pub async fn button(&self, text: &str) -> Element {
        let t = literal(text);
        self.first_of(
            &[
                format!(".//button[normalize-space(.)={t}]"),
                format!(".//input[(@type='submit' or @type='button') and @value={t}]"),
                format!(".//button[contains(normalize-space(.), {t})]"),
            ],
            &format!("button “{text}”"),
        )
        .await
    }

    /// Clicks the button `text` and waits for the page it leads to.
    pub async fn press(&self, text: &str) {
        let button = self.button(text).await;
        self.browser
            .click_and_wait(&button, &format!("“{text}”"))
            .await;
    }

    /// The link with the text `text`.
    pub async fn link(&self, text: &str) -> Element {
        self.first_of(&Self::by_text("a", text), &format!("link “{text}”"))
            .await
    }

    /// Follows the link `text` and waits for its page.
    pub async fn follow(&self, text: &str) {
        let link = self.link(text).await;
        self.browser
            .click_and_wait(&link, &format!("link “{text}”"))
            .await;
    }

    /// One action form of the case page: the disclosure headed `summary`,
    /// opened.
    pub async fn action(&self, summary: &str) -> Area<'b> {
        let t = literal(summary);
        let details = self
            .first_of(
                &[
                    format!(".//details[summary[normalize-space(.)={t}]]"),
                    format!(".//details[summary[starts-with(normalize-space(.), {t})]]"),
                ],
                &format!("form “{summary}”"),
            )
            .await;
        let open = details.attr("open").await.expect("the open attribute");
        if open.is_none() {
            details
                .find(Locator::XPath("./summary"))
                .await
                .expect("the summary")
                .click()
                .await
                .unwrap_or_else(|e| panic!("open “{summary}”: {e}"));
        }
        Area {
            browser: self.browser,
            root: Some(details),
            name: format!("form “{summary}”"),
        }
    }
}
