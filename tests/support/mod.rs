//! End-to-end harness: the real server on a free port serving the release build (`dist/`),
//! ChromeDriver on another free port, and a headless Chromium session driven by fantoccini.
//! The host page is opened on `localhost` and the widget is served from `127.0.0.1`, so they
//! are different sites, as on a customer's site; by default the browser denies the widget's
//! origin its storage, as Safari, Brave and incognito windows do to third-party frames
//! ([`Storage`]). The server is the test kit's `TestServer` (the production serve path, on its
//! own runtime), so a test can crash and restart it; [`pages`] has the selectors.

#![allow(dead_code)]

pub mod pages;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use dgbot_server::model::Database;
use dgbot_server::{Chatbot, ServerConfig};
use dgbot_testkit::TestServer;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Browser tests take both cores; run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// What storage the browser gives the pages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Storage {
    /// The widget's origin (`127.0.0.1`) is denied cookies and storage; the host page
    /// (`localhost`) has its own: a browser that blocks third-party storage.
    ThirdPartyBlocked,
    /// Every page has storage.
    Allowed,
    /// No page has storage, not even the host page.
    DeniedEverywhere,
}

/// How a harness starts, beyond the server configuration and the demo chatbot.
#[derive(Clone, Debug)]
pub struct Options {
    pub storage: Storage,
    /// A SQLite file, so the server can be restarted on the same data, or a PostgreSQL
    /// database that a second instance can share ([`Harness::crash_and_fail_over`]); in
    /// memory otherwise.
    pub database: Option<Database>,
    /// More Chromium switches (a benchmark's: the chat frame in the page's process, so DevTools
    /// network emulation of the page reaches it).
    pub browser_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            storage: Storage::ThirdPartyBlocked,
            database: None,
            browser_args: Vec::new(),
        }
    }
}

pub struct Harness {
    /// Where the widget is served from: `http://127.0.0.1:PORT`.
    pub widget_base: String,
    /// The same server under another origin, for host pages: `http://localhost:PORT`.
    pub host_base: String,
    pub client: Client,
    /// The server's state, to check what it stored.
    pub state: dgbot_server::SharedState,
    driver: Child,
    driver_port: u16,
    server: TestServer,
    port: u16,
    /// Assistant messages in the log when `ask` last sent (see `finished_answer`).
    answers_before: std::sync::atomic::AtomicUsize,
    /// CSP reports of servers this harness has stopped (see `take_csp_reports`).
    earlier_csp_reports: Vec<String>,
    _serial: MutexGuard<'static, ()>,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A configuration made once by `configure` on the server's defaults for `port`, as the test
/// kit's repeatable settings.
fn settings_for(
    port: u16,
    configure: impl FnOnce(&mut ServerConfig),
) -> impl Fn(&mut ServerConfig) + Send + Sync + 'static {
    let mut template = ServerConfig::for_repo(format!("http://127.0.0.1:{port}"));
    configure(&mut template);
    move |config| *config = template.clone()
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    /// Start with a customised server configuration (e.g. scripted replies).
    pub async fn start_with(configure: impl FnOnce(&mut ServerConfig)) -> Harness {
        Self::start_custom(configure, |_| {}).await
    }

    /// Start with a customised server configuration and demo chatbot (e.g. its rate limit).
    pub async fn start_custom(
        configure: impl FnOnce(&mut ServerConfig),
        bot: impl FnOnce(&mut Chatbot),
    ) -> Harness {
        Self::start_full(configure, bot, Options::default()).await
    }

    /// The demo server and chatbot as they are, with the browser's storage as `storage` says.
    pub async fn start_with_storage(storage: Storage) -> Harness {
        Self::start_full(
            |_| {},
            |_| {},
            Options {
                storage,
                ..Default::default()
            },
        )
        .await
    }

    /// "Delete my data" under the composer, confirmed; waits for the chat to say it is done.
    pub async fn delete_my_data(&self) {
        self.client
            .find(Locator::Css("[data-testid=delete]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.wait_css("[data-testid=delete-confirm]")
            .await
            .click()
            .await
            .unwrap();
        let status = self.wait_css("[data-testid=tool-status]").await;
        self.eventually("the deletion", || async {
            status
                .text()
                .await
                .ok()?
                .contains("were deleted")
                .then_some(())
        })
        .await;
    }

    /// Crash the server (every connection ends mid-flight) and start it again on the same port
    /// and database, with `configure` applied to a fresh configuration.
    pub fn restart_server(&mut self, configure: impl FnOnce(&mut ServerConfig)) {
        let reports = std::mem::take(&mut *self.state.csp_reports.lock().unwrap());
        self.earlier_csp_reports.extend(reports);
        self.server.restart_with(settings_for(self.port, configure));
        self.state = self.server.state.clone();
    }

    /// Instance A crashes (every connection ends mid-flight) and the load balancer sends its
    /// port to instance B, already running on the same (PostgreSQL) database with `configure`
    /// applied: the widget's next request reaches B. [`Harness::state`] is B's from then on.
    pub fn crash_and_fail_over(&mut self, configure: impl FnOnce(&mut ServerConfig)) {
        let reports = std::mem::take(&mut *self.state.csp_reports.lock().unwrap());
        self.earlier_csp_reports.extend(reports);
        self.server.fail_over(settings_for(self.port, configure));
        self.state = self.server.state.clone();
    }

    // The browser-test lock is held for the harness's whole life, awaits included: that is its
    // job (each test binary runs its tests on threads of their own, one at a time).
    #[allow(clippy::await_holding_lock)]
    pub async fn start_full(
        configure: impl FnOnce(&mut ServerConfig),
        bot: impl FnOnce(&mut Chatbot),
        options: Options,
    ) -> Harness {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dist = repo_root().join("dist");
        assert!(
            dist.join("index.html").exists(),
            "dist/ has no build of the widget: run `cargo xtask test` (it builds first) or `cargo xtask build`"
        );
        let port = free_port();
        let widget_base = format!("http://127.0.0.1:{port}");
        let mut builder = TestServer::builder()
            .port(port)
            .configure(settings_for(port, configure))
            .chatbot(bot);
        if let Some(database) = &options.database {
            builder = builder.database(database.clone());
        }
        let server = builder.start();
        let state = server.state.clone();

        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver_port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {driver_bin} ({e}); `cargo xtask setup` installs it")
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", driver_port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!(
            "dgbot-chromium-{}-{driver_port}",
            std::process::id()
        ));
        // Content settings in the profile: cookies and storage denied to the widget's origin,
        // or to every site.
        let cookies = match options.storage {
            Storage::ThirdPartyBlocked => {
                json!({ "content_settings": { "exceptions": { "cookies": { "127.0.0.1,*": { "setting": 2 } } } } })
            }
            Storage::Allowed => json!({}),
            Storage::DeniedEverywhere => {
                json!({ "default_content_setting_values": { "cookies": 2 } })
            }
        };
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(profile.join("Default")).unwrap();
        std::fs::write(
            profile.join("Default/Preferences"),
            json!({ "profile": cookies }).to_string(),
        )
        .unwrap();
        let mut caps = serde_json::Map::new();
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            "--window-size=1280,800".into(),
            // The demo chatbot speaks the browser's language: these tests read English.
            "--lang=en-US".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        args.extend(options.browser_args.iter().cloned());
        caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("a WebDriver session in headless Chromium");
        Harness {
            host_base: format!("http://localhost:{port}"),
            widget_base,
            client,
            state,
            driver,
            driver_port,
            server,
            port,
            answers_before: Default::default(),
            earlier_csp_reports: Vec::new(),
            _serial: serial,
        }
    }

    /// Run a Chrome DevTools Protocol command through ChromeDriver (`goog/cdp/execute`).
    /// Make the page's requests to URLs matching these patterns fail (DevTools'
    /// `Network.setBlockedURLs`; an empty list lets everything through again). Applies to the
    /// top-level page, so open the chat with `open_chat_page`.
    pub async fn block_urls(&self, patterns: &[&str]) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp("Network.setBlockedURLs", json!({ "urls": patterns }))
            .await;
    }

    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> serde_json::Value {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let session = self.client.session_id().await.unwrap().expect("a session");
        let body = json!({ "cmd": cmd, "params": params }).to_string();
        let request = format!(
            "POST /session/{session}/goog/cdp/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.driver_port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        // Read the head, then exactly Content-Length bytes (ChromeDriver keeps the socket open).
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let (head_end, length) = loop {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "chromedriver closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .expect("a Content-Length");
                break (i + 4, length);
            }
        };
        while buf.len() < head_end + length {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "chromedriver closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = &buf[head_end..head_end + length];
        serde_json::from_slice::<serde_json::Value>(body).unwrap_or_else(|e| panic!("{cmd}: {e}"))["value"].clone()
    }

    /// Open a page of the host site (`path` under `http://localhost:PORT`).
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.host_base))
            .await
            .unwrap();
    }

    /// Run `body` (a function body; `arguments` are `args`) in the current frame and return
    /// its JSON result.
    pub async fn js(&self, body: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client
            .execute(body, args)
            .await
            .unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    /// End the test: the browser closes, and the chat page's Content-Security-Policy must not
    /// have been violated once during it (the server collects the browser's reports).
    pub async fn finish(mut self) {
        // Reports are sent as the violation happens; give the last one time to arrive.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let reports = self.take_csp_reports();
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        assert!(
            reports.is_empty(),
            "the chat page's CSP was violated: {reports:#?}"
        );
    }

    /// The CSP violation reports the server has received from chat pages, since the start or
    /// the last call.
    pub fn take_csp_reports(&mut self) -> Vec<String> {
        let mut all = std::mem::take(&mut self.earlier_csp_reports);
        all.extend(std::mem::take(&mut *self.state.csp_reports.lock().unwrap()));
        all
    }

    /// The launcher button inside the loader's shadow root, once it shows (its look, the
    /// server's `/launcher/{id}` module, has arrived).
    pub async fn launcher(&self) -> Element {
        let host = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Id("dgbot-root"))
            .await
            .unwrap();
        let button = host
            .shadow_root()
            .await
            .unwrap()
            .find(Locator::Css("button"))
            .await
            .unwrap();
        self.eventually("the launcher shown", || async {
            button.is_displayed().await.unwrap_or(false).then_some(())
        })
        .await;
        button
    }

    /// The loader's `data-state` on the host page (`pages::host`): `closed`, `open`, `expanded`
    /// or `peek`.
    pub async fn loader_state(&self) -> String {
        self.js(pages::host::STATE_JS, vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn panel_open(&self) -> bool {
        let state = self.loader_state().await;
        state == pages::host::OPEN || state == pages::host::EXPANDED
    }

    /// Wait until the closed chat shows its popup messages: the loader's see-through window
    /// (`peekChat`) beside the launcher.
    pub async fn wait_popup_window(&self) {
        self.eventually("the popup window", || async {
            (self.loader_state().await == pages::host::PEEK).then_some(())
        })
        .await;
    }

    /// Switch WebDriver into the chat iframe.
    pub async fn enter_chat(&self) {
        let host = self.client.find(Locator::Id("dgbot-root")).await.unwrap();
        let frame = host
            .shadow_root()
            .await
            .unwrap()
            .find(Locator::Css("iframe"))
            .await
            .unwrap();
        frame.enter_frame().await.unwrap();
    }

    pub async fn wait_css(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Poll until `f` returns Some, for at most 20 s.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Click `el` with a script: for a button in the log while it may still be scrolling to
    /// the newest message (WebDriver's click lands where the button was a moment ago).
    pub async fn press(&self, el: &Element) {
        self.js(
            "arguments[0].click();",
            vec![serde_json::to_value(el).unwrap()],
        )
        .await;
    }

    /// Type into the composer and press Enter.
    pub async fn ask(&self, question: &str) {
        let answers = self.count(pages::widget::ANSWER).await;
        self.answers_before
            .store(answers, std::sync::atomic::Ordering::SeqCst);
        let composer = self.wait_css(pages::widget::COMPOSER).await;
        composer.send_keys(question).await.unwrap();
        composer
            .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
            .await
            .unwrap();
    }

    /// The chat page's address for opening it top-level (not in the host page's cross-origin
    /// iframe), told the host origin: DevTools' metrics and network rules then apply to it.
    pub fn chat_page_url(&self) -> String {
        format!(
            "{}/chat/?chatbot_id=demo-shop&host={}",
            self.widget_base, self.host_base
        )
    }

    /// Open the chat page top-level ([`Harness::chat_page_url`]) and wait for the welcome.
    pub async fn open_chat_page(&self) {
        self.client.goto(&self.chat_page_url()).await.unwrap();
        self.wait_css(pages::widget::WELCOME).await;
    }

    /// Open the demo page, open the chat and wait for the welcome message.
    pub async fn open_chat(&self) {
        self.client
            .goto(&format!("{}/demo/", self.host_base))
            .await
            .unwrap();
        self.launcher().await.click().await.unwrap();
        self.enter_chat().await;
        self.wait_css(pages::widget::WELCOME).await;
    }

    /// Wait until the visitor's last message in the log reads `text`.
    pub async fn sent(&self, text: &str) {
        self.eventually(&format!("the visitor's message {text:?}"), || async {
            let all = self
                .client
                .find_all(Locator::Css(pages::widget::VISITOR_MESSAGE))
                .await
                .ok()?;
            (all.last()?.text().await.ok()? == text).then_some(())
        })
        .await;
    }

    /// The main thread's task time so far, in seconds (DevTools `Performance.getMetrics`
    /// `TaskDuration`; `Performance.enable` first).
    pub async fn task_seconds(&self) -> f64 {
        let metrics = self.cdp("Performance.getMetrics", json!({})).await;
        metrics["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "TaskDuration")
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    }

    /// The last finished assistant message element, with its lazily loaded parts (tables,
    /// products, forms: `aria-busy` while their chunk loads) drawn.
    pub async fn last_answer(&self) -> Element {
        self.finished_answer().await;
        self.eventually("the answer's lazily loaded parts", || async {
            let busy = self
                .client
                .find_all(Locator::Css("[data-testid=message] [aria-busy=true]"))
                .await
                .ok()?;
            busy.is_empty().then_some(())
        })
        .await;
        let all = self
            .client
            .find_all(Locator::Css(pages::widget::ANSWER))
            .await
            .unwrap();
        all.last().unwrap().clone()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// The text of the answer to the last `ask`, once it has finished streaming.
    pub async fn finished_answer(&self) -> String {
        let before = self
            .answers_before
            .load(std::sync::atomic::Ordering::SeqCst);
        self.eventually("a finished assistant answer", || async {
            let all = self
                .client
                .find_all(Locator::Css(
                    "[data-testid=message][data-role=assistant] .bubble",
                ))
                .await
                .ok()?;
            let last = all.get(before..)?.last()?;
            let class = last.attr("class").await.ok()??;
            if class.split(' ').any(|c| c == "streaming") {
                return None;
            }
            let text = last.text().await.ok()?;
            (!text.is_empty()).then_some(text)
        })
        .await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        self.server.crash();
    }
}

/// A throwaway PostgreSQL cluster (the test kit's).
#[allow(unused_imports)]
pub use dgbot_testkit::postgres;
