//! A small WebDriver client for end-to-end tests in a real browser: Debian's headless Chromium
//! driven through its ChromeDriver, both started and stopped by the test.
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    profile: std::path::PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium session. Panics with what to install when
    /// they are missing: these tests are meant to run.
    pub async fn start() -> Browser {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            std::path::Path::new(&chromedriver).exists() && std::path::Path::new(&chromium).exists(),
            "browser tests need Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("hirebridge-chromium-{}", uuid::Uuid::new_v4()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("create a WebDriver session")
            .json()
            .await
            .expect("WebDriver answers JSON");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Browser { http, session: format!("{base}/session/{session}"), driver, profile }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{}", self.session, path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value =
            request.send().await.expect("WebDriver call").json().await.expect("WebDriver JSON");
        if answer["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css})))
            .await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {found}")).to_owned()
    }

    /// Finds the input labelled `label` (by the label's `for`) and types `text` into it.
    pub async fn fill_labelled(&self, label: &str, text: &str) {
        let script = "const l=[...document.querySelectorAll('label')].find(l=>l.textContent.trim()===arguments[0]);return l?l.htmlFor:null;";
        let id = self
            .call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": [label]})))
            .await;
        let id = id.as_str().unwrap_or_else(|| panic!("no field labelled {label:?}")).to_owned();
        let element = self.element(&format!("#{id}")).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text})))
            .await;
    }

    /// Clicks what submits a form, and waits for the next page to have loaded.
    pub async fn click(&self, css: &str) {
        let mark = "window.__hirebridge_old_page = true; return true;";
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": mark, "args": []}))).await;
        let element = self.element(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await;
        let loaded =
            "return window.__hirebridge_old_page === undefined && document.readyState === 'complete';";
        for _ in 0..100 {
            let answer: Value = self
                .http
                .post(format!("{}/execute/sync", self.session))
                .json(&json!({"script": loaded, "args": []}))
                .send()
                .await
                .expect("WebDriver call")
                .json()
                .await
                .expect("WebDriver JSON");
            if answer["value"] == json!(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page after clicking {css} did not load");
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        let body = self.element("body").await;
        self.call(reqwest::Method::GET, &format!("/element/{body}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
