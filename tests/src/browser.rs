//! A real headless Chromium driven over W3C WebDriver (Debian's `chromium` + `chromium-driver`,
//! installed by `scripts/test.sh`), with a dozen endpoints spoken over the reqwest client the tests
//! already use: a WebDriver crate (fantoccini) would add its own hyper stack for no gain here.
//! Waits are WebDriver's implicit wait (the browser polls the DOM), never sleeps in the test.

use std::{path::PathBuf, process::Stdio, time::Duration};

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian installs the browser and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser and the driver are installed (`scripts/test.sh` installs them).
pub fn available() -> bool {
    std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists()
}

/// One browser session; the driver process dies with it.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    _driver: Child,
    /// How long a lookup waits for its element to appear.
    pub wait: Duration,
}

/// An element on the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session in a `width`×`height`
    /// window.
    pub async fn start(width: u32, height: u32) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::env::temp_dir().join(format!(
            "repopal-chromedriver-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start chromedriver")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        // The driver answers `/status` once it listens.
        let mut ready = false;
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if !ready {
            bail!("chromedriver did not start (log: {})", log.display());
        }
        let profile = std::env::temp_dir().join(format!(
            "repopal-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await?
            .json()
            .await?;
        let id = res["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("new session: {res}"))?;
        let mut b = Self {
            http,
            base: format!("{base}/session/{id}"),
            _driver: driver,
            wait: Duration::from_secs(30),
        };
        b.set_wait(b.wait).await?;
        Ok(b)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req.send().await?.json().await?;
        if let Some(err) = res["value"]["error"].as_str() {
            bail!("webdriver {path}: {err}: {}", res["value"]["message"]);
        }
        Ok(res["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// How long element lookups wait for their element (WebDriver's implicit wait).
    pub async fn set_wait(&mut self, wait: Duration) -> anyhow::Result<()> {
        self.wait = wait;
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.post("/timeouts", json!({"implicit": ms, "pageLoad": 30_000}))
            .await?;
        Ok(())
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.post("/url", json!({"url": url})).await?;
        Ok(())
    }

    pub async fn url(&self) -> anyhow::Result<String> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    pub async fn source(&self) -> anyhow::Result<String> {
        Ok(self
            .get("/source")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await
            .with_context(|| format!("find {css}"))?;
        Ok(Element(
            v[ELEMENT]
                .as_str()
                .with_context(|| format!("find {css}: {v}"))?
                .to_owned(),
        ))
    }

    /// Every element matching `css` now (waits for at least one).
    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn click(&self, el: &Element) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/click", el.0), json!({}))
            .await?;
        Ok(())
    }

    pub async fn type_into(&self, el: &Element, text: &str) -> anyhow::Result<()> {
        self.post(&format!("/element/{}/clear", el.0), json!({}))
            .await?;
        self.post(&format!("/element/{}/value", el.0), json!({"text": text}))
            .await?;
        Ok(())
    }

    /// Types `text` into the input matching `css`.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let el = self.find(css).await?;
        self.type_into(&el, text).await
    }

    /// Clicks the element matching `css`.
    /// Clicks the first element matching `css`. A submit button or a link loads another page:
    /// then this returns once the old page is gone (at most 5 s), so what is read next is the new
    /// page, not the one the click left.
    pub async fn press(&self, css: &str) -> anyhow::Result<()> {
        let el = self.find(css).await?;
        let tag = self.get(&format!("/element/{}/name", el.0)).await?;
        let tag = tag.as_str().unwrap_or_default().to_ascii_lowercase();
        let kind = self.attribute(&el, "type").await?.unwrap_or_default();
        let navigates = tag == "a"
            || (tag == "button" && kind != "button")
            || (tag == "input" && kind == "submit");
        let old_page = if navigates {
            Some(self.find("html").await?)
        } else {
            None
        };
        self.click(&el).await?;
        if let Some(old) = old_page {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                match self.get(&format!("/element/{}/name", old.0)).await {
                    Err(e) if e.to_string().contains("stale element") => break,
                    _ => tokio::time::sleep(Duration::from_millis(25)).await,
                }
            }
        }
        Ok(())
    }

    pub async fn text(&self, el: &Element) -> anyhow::Result<String> {
        Ok(self
            .get(&format!("/element/{}/text", el.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    pub async fn attribute(&self, el: &Element, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .get(&format!("/element/{}/attribute/{name}", el.0))
            .await?
            .as_str()
            .map(str::to_owned))
    }

    /// The visible text of the element matching `css`.
    /// The text of the first element matching `css`. A page that navigates between the find and
    /// the read (a form just submitted) makes the element stale: it is then found again on the new
    /// page.
    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        let mut tries = 0;
        loop {
            let el = self.find(css).await?;
            match self.text(&el).await {
                Err(e) if tries < 20 && e.to_string().contains("stale element") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => return other,
            }
        }
    }

    /// Sends keys to the focused element (e.g. `"\u{E004}"`, Tab).
    pub async fn keys(&self, text: &str) -> anyhow::Result<()> {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({"type": "keyDown", "value": c.to_string()}),
                    json!({"type": "keyUp", "value": c.to_string()}),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await?;
        Ok(())
    }

    /// The element that has focus.
    pub async fn focused(&self) -> anyhow::Result<Element> {
        let v = self.get("/element/active").await?;
        Ok(Element(
            v[ELEMENT].as_str().context("active element")?.to_owned(),
        ))
    }

    /// Runs `script` in the page (WebDriver's own channel, which the page's CSP does not govern).
    pub async fn run(&self, script: &str) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    pub async fn resize(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await?;
        Ok(())
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &PathBuf) -> anyhow::Result<()> {
        let data = self.get("/screenshot").await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().context("screenshot data")?)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Ends the browser session (the driver is killed when `self` drops).
    pub async fn quit(self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
    }
}
