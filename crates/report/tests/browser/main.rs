//! The HTML report in a real browser: Debian's Chromium, headless, with JavaScript off,
//! opens the reports of a `Success`, a `Failed` with evidence on several items and an
//! `Error` at a desktop's 1280×800 and a phone's 390×844, and each page must fit the
//! width (no horizontal scrolling), log no error, make no request, and print to PDF.
//!
//! Ignored in a plain `cargo test` (it needs Chromium); `scripts/test` runs it with
//! `--include-ignored`, and it fails loudly when Chromium is missing. Screenshots go to
//! `target/tmp/report-screenshots/`; with `POSTCHECK_UPDATE_SCREENSHOTS=1` also to
//! `docs/report/`, the ones the README shows.

#[path = "../samples/mod.rs"]
mod samples;

mod cdp;

use std::path::{Path, PathBuf};

use postcheck_model::PostCheckTask;

use cdp::Browser;

/// The viewports: a desktop's and a phone's, in CSS pixels.
const VIEWPORTS: [(&str, u32, u32); 2] = [("desktop", 1280, 800), ("phone", 390, 844)];

fn screenshot_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots")];
    if std::env::var_os("POSTCHECK_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report"));
    }
    dirs
}

/// Writes the report of `task` to a file, opens it at each viewport, checks what the page
/// did and saves the screenshots as `NAME-desktop.png` and `NAME-phone.png` (and of the
/// whole page, `NAME-VIEWPORT-full.png`, when `full_page`; docs/ keeps the desktop's).
fn check_in_the_browser(
    browser: &mut Browser,
    name: &str,
    task: &PostCheckTask,
    probe: &str,
    full_page: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.html"));
    std::fs::write(&file, postcheck_report::html(task).unwrap()).unwrap();
    for (viewport, width, height) in VIEWPORTS {
        let run = browser.open(&file, width, height, Some(probe));
        let at = format!("{name} at {width}×{height}");
        assert_eq!(run.inner_width, u64::from(width), "{at}: the viewport");
        assert!(
            run.scroll_width <= run.inner_width,
            "{at}: the page is {}px wide, wider than the viewport",
            run.scroll_width
        );
        assert!(run.errors.is_empty(), "{at}: the page logged errors: {:#?}", run.errors);
        assert!(run.requests.is_empty(), "{at}: the page fetched: {:#?}", run.requests);
        assert_eq!(run.probe, serde_json::json!(true), "{at}: {probe}");
        assert!(run.png.starts_with(b"\x89PNG"), "{at}: a PNG screenshot");
        assert!(run.pdf.starts_with(b"%PDF") && run.pdf.len() > 1000, "{at}: it prints");
        for (n, out) in screenshot_dirs().into_iter().enumerate() {
            std::fs::create_dir_all(&out).unwrap();
            std::fs::write(out.join(format!("{name}-{viewport}.png")), &run.png).unwrap();
            // Whole pages: every one under target/, only the desktop's in docs/.
            if full_page && (n == 0 || viewport == "desktop") {
                std::fs::write(out.join(format!("{name}-{viewport}-full.png")), &run.full_png)
                    .unwrap();
            }
        }
    }
}

#[test]
#[ignore = "needs Chromium (/usr/bin/chromium); scripts/test runs it"]
fn the_reports_of_each_verdict_fit_a_desktop_and_a_phone() {
    let mut browser = Browser::start();
    let banner = |phase: &str| {
        format!(
            "document.querySelector('header.verdict h1').textContent.includes('{phase}') && \
             getComputedStyle(document.querySelector('header.verdict')).backgroundColor !== 'rgba(0, 0, 0, 0)'"
        )
    };
    check_in_the_browser(&mut browser, "success", &samples::success(), &banner("Success"), false);
    check_in_the_browser(
        &mut browser,
        "failed",
        &samples::failed(),
        &format!(
            "{} && document.querySelectorAll('table.evidence tbody tr').length === 7",
            banner("Failed")
        ),
        true,
    );
    check_in_the_browser(&mut browser, "error", &samples::error(), &banner("Error"), false);
}

/// The hostile document in the browser: its markup stays text, so the page has no script
/// and no image, and nothing ran (an `onerror` would have logged a CSP error or fetched).
#[test]
#[ignore = "needs Chromium (/usr/bin/chromium); scripts/test runs it"]
fn markup_in_a_document_stays_text_in_the_browser() {
    let mut browser = Browser::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.html");
    std::fs::write(&file, postcheck_report::html(&samples::hostile()).unwrap()).unwrap();
    let probe = format!(
        "document.querySelectorAll('script, img, iframe, object').length === 0 && \
         document.querySelector('td.reason').textContent.startsWith('event: {}')",
        samples::IMG.replace('\'', "\\'")
    );
    let run = browser.open(&file, 1280, 800, Some(&probe));
    assert_eq!(run.probe, serde_json::json!(true), "{probe}");
    assert!(run.errors.is_empty(), "{:#?}", run.errors);
    assert!(run.requests.is_empty(), "{:#?}", run.requests);
}

/// The browser checks themselves can fail: a page too wide for a phone, that fetches an
/// image (from a closed port on loopback) and so logs a load error, is caught on all three.
#[test]
#[ignore = "needs Chromium (/usr/bin/chromium); scripts/test runs it"]
fn the_checks_catch_a_page_that_overflows_fetches_and_logs_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.html");
    std::fs::write(
        &file,
        format!(
            "<!doctype html><meta name=viewport content='width=device-width'>\
             <div style='width:2000px'>wide</div><img src='http://127.0.0.1:{port}/x.png'>"
        ),
    )
    .unwrap();
    let mut browser = Browser::start();
    let run = browser.open(&file, 390, 844, None);
    assert!(run.scroll_width > run.inner_width, "{run:?}");
    assert_eq!(run.requests, [format!("http://127.0.0.1:{port}/x.png")]);
    assert!(!run.errors.is_empty(), "the failed load is logged: {run:?}");
}
