//! End-to-end tests in a real browser: Debian's headless Chromium driven through its
//! ChromeDriver (both started and stopped by the test, nothing downloaded) with the `fantoccini`
//! WebDriver client. This module only adds what the tests say in one line: start, fill the field
//! of a label, submit and wait for the next page.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

pub struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
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
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let status = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if status.get(format!("{base}/status")).send().await.is_ok() {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ready {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver did not answer on {base}");
        }
        let profile = std::env::temp_dir().join(format!("hirebridge-chromium-{}", uuid::Uuid::new_v4()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", format!("--user-data-dir={}", profile.display())]
            }
        });
        let Value::Object(capabilities) = capabilities else { unreachable!() };
        // ChromeDriver is on loopback: plain HTTP, no TLS stack needed.
        let client = ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&base).await;
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("create a WebDriver session: {e}");
            }
        };
        Browser { client, driver, profile }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("go to {url}: {e}"));
    }

    /// Finds the input labelled `label` (by the label's `for`) and types `text` into it.
    pub async fn fill_labelled(&self, label: &str, text: &str) {
        let script = "const l=[...document.querySelectorAll('label')].find(l=>l.textContent.trim()===arguments[0]);return l?l.htmlFor:null;";
        let id = self.client.execute(script, vec![json!(label)]).await.expect("find a label");
        let id = id.as_str().unwrap_or_else(|| panic!("no field labelled {label:?}"));
        let field = self.client.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.clear().await.expect("clear the field");
        field.send_keys(text).await.expect("type into the field");
    }

    /// Clicks what submits a form, and waits for the next page to have loaded.
    pub async fn click(&self, css: &str) {
        let mark = "window.__hirebridge_old_page = true; return true;";
        self.client.execute(mark, vec![]).await.expect("mark the page");
        let element =
            self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"));
        element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        let loaded =
            "return window.__hirebridge_old_page === undefined && document.readyState === 'complete';";
        for _ in 0..100 {
            // While the next page loads a script may fail; that is "not yet".
            if let Ok(Value::Bool(true)) = self.client.execute(loaded, vec![]).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page after clicking {css} did not load");
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        let body = self.client.find(Locator::Css("body")).await.expect("a body");
        body.text().await.expect("the page's text")
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("the page's source")
    }

    /// Ends the session (Chromium exits), then ChromeDriver.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Also when a test fails half-way: no ChromeDriver or profile is left behind.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
