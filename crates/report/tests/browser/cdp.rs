//! A small client of the Chrome DevTools protocol, just what the report's browser tests
//! need: start Debian's Chromium headless, open a page at a viewport size, and collect
//! what the page did (console errors, exceptions, network requests) while it loaded.
//!
//! One WebSocket to the browser (tungstenite, blocking), one flattened session per page;
//! every read has a deadline, so a browser that hangs fails the test instead of hanging it.

use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long any one step (start, navigate, a command) may take.
const STEP: Duration = Duration::from_secs(30);

/// Where Chromium is: `POSTCHECK_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub(crate) fn chromium_path() -> PathBuf {
    std::env::var_os("POSTCHECK_CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from)
}

/// A running headless Chromium and the DevTools connection to it. Dropping it closes the
/// browser and removes its profile.
pub(crate) struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// What one page did while it loaded, and what it looked like.
#[derive(Debug)]
pub(crate) struct PageRun {
    /// Console messages of level error, uncaught exceptions, and the browser's own error log
    /// entries (a blocked resource, a Content-Security-Policy violation).
    pub(crate) errors: Vec<String>,
    /// Every request the page made, the document's own load excepted.
    pub(crate) requests: Vec<String>,
    /// `document.documentElement.scrollWidth`.
    pub(crate) scroll_width: u64,
    /// `innerWidth`.
    pub(crate) inner_width: u64,
    /// The answer of the page's `probe` expression, when one was given.
    pub(crate) probe: Value,
    /// The screenshot of the viewport, PNG.
    pub(crate) png: Vec<u8>,
    /// The screenshot of the whole page, PNG.
    pub(crate) full_png: Vec<u8>,
    /// The page printed on paper (the print style sheet applies), PDF.
    pub(crate) pdf: Vec<u8>,
}

impl Browser {
    /// Starts Chromium with a fresh profile. Panics, saying what is missing, when it
    /// cannot: the tests that call this must fail, never pass without a browser.
    pub(crate) fn start() -> Self {
        let path = chromium_path();
        assert!(
            path.exists(),
            "Chromium is not installed at {} (apt-get install -y chromium, or set POSTCHECK_CHROMIUM)",
            path.display()
        );
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let mut child = Command::new(&path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--mute-audio",
                "--font-render-hinting=none",
                "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", path.display()));
        let url = devtools_url(&mut child);
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("an unexpected DevTools address {url}"))
            .to_owned();
        let stream = TcpStream::connect(&address).expect("connecting to DevTools");
        stream.set_read_timeout(Some(STEP)).expect("a read timeout");
        stream.set_write_timeout(Some(STEP)).expect("a write timeout");
        let (socket, _) =
            tungstenite::client(url.as_str(), stream).expect("the DevTools handshake");
        Self { child, socket, next_id: 0, _profile: profile }
    }

    /// Sends a command (to the browser, or to a page's session) and returns its result;
    /// events that arrive meanwhile go to `events`.
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
        events: &mut Vec<Value>,
    ) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket.send(Message::text(message.to_string())).expect("sending a DevTools command");
        let deadline = Instant::now() + STEP;
        loop {
            assert!(Instant::now() < deadline, "{method}: no answer within {STEP:?}");
            let answer = self.read();
            if answer["id"].as_u64() == Some(id) {
                if let Some(error) = answer.get("error") {
                    panic!("{method} failed: {error}");
                }
                return answer["result"].clone();
            }
            if answer.get("method").is_some() {
                events.push(answer);
            }
        }
    }

    /// The next message from the browser.
    fn read(&mut self) -> Value {
        loop {
            match self.socket.read().expect("reading from DevTools (did Chromium hang or die?)") {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("DevTools speaks JSON");
                }
                Message::Close(frame) => panic!("DevTools closed the connection: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Waits for an event of `method` on `session`, keeping every event seen.
    fn wait_for(&mut self, session: &str, method: &str, events: &mut Vec<Value>) {
        if events.iter().any(|e| e["method"] == method && e["sessionId"] == session) {
            return;
        }
        let deadline = Instant::now() + STEP;
        loop {
            assert!(Instant::now() < deadline, "no {method} within {STEP:?}");
            let event = self.read();
            let done = event["method"] == method && event["sessionId"] == session;
            events.push(event);
            if done {
                return;
            }
        }
    }

    /// Opens `file` in a new tab of its own browser context at `width`×`height` CSS pixels
    /// (a phone's when narrower than 600), with JavaScript disabled, waits for it to load,
    /// evaluates `probe` (if any) and takes a screenshot of the viewport.
    pub(crate) fn open(
        &mut self,
        file: &Path,
        width: u32,
        height: u32,
        probe: Option<&str>,
    ) -> PageRun {
        let mut events = Vec::new();
        let context = self.call(None, "Target.createBrowserContext", json!({}), &mut events);
        let context = context["browserContextId"].as_str().expect("a context id").to_owned();
        let target = self.call(
            None,
            "Target.createTarget",
            json!({"url": "about:blank", "browserContextId": context}),
            &mut events,
        );
        let target = target["targetId"].as_str().expect("a target id").to_owned();
        let session = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
            &mut events,
        );
        let session = session["sessionId"].as_str().expect("a session id").to_owned();
        let s = Some(session.as_str());
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            self.call(s, domain, json!({}), &mut events);
        }
        self.call(
            s,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
            &mut events,
        );
        self.call(s, "Emulation.setScriptExecutionDisabled", json!({"value": true}), &mut events);
        // Only what happens from the navigation on counts.
        events.clear();
        let url = format!("file://{}", file.display());
        let navigated = self.call(s, "Page.navigate", json!({"url": url}), &mut events);
        assert!(navigated.get("errorText").is_none(), "opening {url}: {navigated}");
        self.wait_for(&session, "Page.loadEventFired", &mut events);

        let evaluate = |browser: &mut Self, expression: &str, events: &mut Vec<Value>| {
            let answer = browser.call(
                s,
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
                events,
            );
            assert!(answer.get("exceptionDetails").is_none(), "{expression}: {answer}");
            answer["result"]["value"].clone()
        };
        let widths = evaluate(
            self,
            "[document.documentElement.scrollWidth, window.innerWidth]",
            &mut events,
        );
        let probe = probe.map_or(Value::Null, |p| evaluate(self, p, &mut events));
        let shot = self.call(s, "Page.captureScreenshot", json!({"format": "png"}), &mut events);
        let metrics = self.call(s, "Page.getLayoutMetrics", json!({}), &mut events);
        let whole = json!({"x": 0, "y": 0, "width": width,
            "height": metrics["cssContentSize"]["height"], "scale": 1});
        let full = self.call(
            s,
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true, "clip": whole}),
            &mut events,
        );
        let printed =
            self.call(s, "Page.printToPDF", json!({"printBackground": true}), &mut events);
        self.call(
            None,
            "Target.disposeBrowserContext",
            json!({"browserContextId": context}),
            &mut events,
        );

        let mut errors = Vec::new();
        let mut requests = Vec::new();
        for event in events.iter().filter(|e| e["sessionId"] == session.as_str()) {
            let p = &event["params"];
            match event["method"].as_str().unwrap_or("") {
                "Runtime.consoleAPICalled"
                    if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                {
                    errors.push(format!("console.{}: {}", p["type"], p["args"]));
                }
                "Runtime.exceptionThrown" => {
                    errors.push(format!("exception: {}", p["exceptionDetails"]))
                }
                "Log.entryAdded" if p["entry"]["level"] == "error" => {
                    errors.push(format!("log: {}", p["entry"]["text"]));
                }
                "Network.requestWillBeSent" if p["request"]["url"] != url.as_str() => {
                    requests.push(p["request"]["url"].as_str().unwrap_or("").to_owned());
                }
                _ => {}
            }
        }
        PageRun {
            errors,
            requests,
            scroll_width: widths[0].as_u64().expect("scrollWidth"),
            inner_width: widths[1].as_u64().expect("innerWidth"),
            probe,
            png: decode(&shot),
            full_png: decode(&full),
            pdf: decode(&printed),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let close = json!({"id": u64::MAX, "method": "Browser.close"});
        let _ = self.socket.send(Message::text(close.to_string()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bytes of a `Page.captureScreenshot` or `Page.printToPDF` answer.
fn decode(shot: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .expect("base64 data")
}

/// Reads Chromium's stderr until it says where DevTools listens; keeps draining it after.
fn devtools_url(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("Chromium's stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut said = Vec::new();
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(Ok(url.trim().to_owned()));
                    sent = true;
                } else {
                    said.push(line);
                }
            }
        }
        if !sent {
            let _ = tx.send(Err(said.join("\n")));
        }
    });
    match rx.recv_timeout(STEP) {
        Ok(Ok(url)) => url,
        Ok(Err(said)) => panic!("Chromium exited before DevTools listened:\n{said}"),
        Err(_) => panic!("Chromium did not start DevTools within {STEP:?}"),
    }
}
