//! The renderer on whole task documents: the Markdown of a Failed task as GitHub would get
//! it (a snapshot), hostile names and messages as text in both formats, and what each
//! verdict's HTML says.

mod samples;

use postcheck_report::view::{Blame, Report};
use pretty_assertions::assert_eq;
use samples::{IMG, SCRIPT};

#[test]
fn the_markdown_of_a_failed_task() {
    let text = postcheck_report::markdown(&samples::failed()).unwrap();
    insta::assert_snapshot!("failed_markdown", text);
}

/// The Markdown rendered as a GFM renderer does (tables, inline HTML passed through).
fn rendered(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut out = String::new();
    html::push_html(
        &mut out,
        Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH),
    );
    out
}

#[test]
fn the_markdown_of_a_failed_task_renders_as_one_table_and_a_details_per_item() {
    let page = rendered(&postcheck_report::markdown(&samples::failed()).unwrap());
    assert!(
        page.starts_with("<h3>❌ Post-upgrade check: Failed (v1.36.3 → v1.37.2)</h3>"),
        "{page}"
    );
    assert_eq!(
        page.matches("<table>").count(),
        4,
        "the summary and three evidence tables:\n{page}"
    );
    let summary = &page[page.find("<table>").unwrap()..page.find("</table>").unwrap()];
    assert_eq!(summary.matches("<tr>").count(), 5, "a header and four items:\n{summary}");
    assert_eq!(summary.matches("<td>").count(), 20, "five cells each:\n{summary}");
    assert!(summary.contains("<td><code>node-ready</code></td>"), "{summary}");
    assert_eq!(page.matches("<details><summary>").count(), 3, "{page}");
    assert!(page.contains("<td>Deployment <code>shop/checkout-api</code></td>"), "{page}");
    assert!(page.contains("checkout-api-6d5f7c9b8-x2k4q_shop"), "the escaped _ reads as _: {page}");
}

#[test]
fn the_markdown_of_a_hostile_task_renders_no_markup_of_its_own() {
    let page = rendered(&postcheck_report::markdown(&samples::hostile()).unwrap());
    for tag in ["<script", "<img", "<a ", "<em>", "<strong>bold", "<del>"] {
        assert!(!page.contains(tag), "{tag} in:\n{page}");
    }
    assert!(
        page.contains(
            "event: \"&gt;&lt;img src=x onerror=alert(2)&gt; | *bold* `code` [link](http://x)"
        ),
        "{page}"
    );
}

#[test]
fn the_markdown_lists_only_what_failed_or_could_not_run() {
    let text = postcheck_report::markdown(&samples::failed()).unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| <code>")).collect();
    assert_eq!(rows.len(), 4, "control-plane, node-ready, workloads, events:\n{text}");
    assert!(!text.contains("cluster-version"), "passed items stay out of the summary");
    assert_eq!(text.matches("<details>").count(), 3, "one per item with evidence");
    let success = postcheck_report::markdown(&samples::success()).unwrap();
    assert!(success.starts_with("### ✅ Post-upgrade check: Success (v1.36.3 → v1.37.2)\n"));
    assert!(success.contains("\nNothing failed.\n"), "{success}");
    let error = postcheck_report::markdown(&samples::error()).unwrap();
    assert!(error.contains("\nNo check item ran.\n"), "{error}");
    assert!(error.contains("could not be reached within the deadline"), "{error}");
}

#[test]
fn a_long_evidence_list_is_cut_in_markdown_and_whole_in_html() {
    let mut task = samples::failed();
    let item = task.status.items_status.iter_mut().find(|i| i.name == "workloads").unwrap();
    item.evidence = (0..120)
        .map(|n| postcheck_model::Evidence::namespaced("Pod", "shop", format!("p-{n}"), "down"))
        .collect();
    let text = postcheck_report::markdown(&task).unwrap();
    assert!(text.contains("<code>shop/p-49</code>") && !text.contains("<code>shop/p-50</code>"));
    assert!(text.contains("… and 70 more: the HTML report has them all."), "{text}");
    let html = postcheck_report::html(&task).unwrap();
    assert!(html.contains("<code>shop/p-119</code>"));
}

/// Every place a hostile value reaches, it arrives as text: no tag, no attribute breakout.
#[test]
fn markup_in_names_and_messages_is_text_in_the_html() {
    let html = postcheck_report::html(&samples::hostile()).unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("onerror=alert(2)>"), "no attribute or tag is opened by a value");
    let script = "&#60;script&#62;alert(1)&#60;/script&#62;";
    let img = "&#34;&#62;&#60;img src=x onerror=alert(2)&#62;";
    // The object's name and namespace, its kind, the reason, the item's name and message,
    // the task's message, a version, the cluster and the task ID: each there, as text.
    for text in [
        format!("<code>ns{img}/web{script}</code>"),
        format!("<span class=\"kind\">Node{script}</span>"),
        format!("<td class=\"reason\">event: {img} | *bold*"),
        format!("<h4><code>pod-health{img}</code></h4>"),
        format!("<p class=\"message\">1 pod {script}</p>"),
        format!("1 fatal item(s) failed: {script}{img}"),
        format!("<code>v1.37{script}</code>"),
        format!("<dt>Cluster</dt><dd><code>{img}</code>"),
        format!("<code>uid{script}</code>"),
    ] {
        assert!(html.contains(&text), "{text} missing:\n{html}");
    }
    // The anchor made from the item name keeps only safe characters.
    assert!(html.contains("id=\"item-pod-health---img-src-x-onerror-alert-2--\""), "{html}");
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

#[test]
fn markup_in_names_and_messages_is_text_in_the_markdown() {
    let text = postcheck_report::markdown(&samples::hostile()).unwrap();
    assert!(!text.contains("<script") && !text.contains("<img"), "{text}");
    assert!(!text.contains(SCRIPT) && !text.contains(IMG));
    assert!(text.contains(r"event: &quot;&gt;&lt;img src=x onerror=alert(2)&gt; \| \*bold\* \`code\` \[link\](http://x)"), "{text}");
    // Every table row still has its columns: no value added a cell.
    for row in text.lines().filter(|l| l.starts_with("| ")) {
        let cells = row.replace(r"\|", "").matches('|').count();
        assert!(cells == 6 || cells == 3, "{row}");
    }
}

#[test]
fn each_verdict_has_its_banner_and_the_upgrade() {
    for (task, phase, meaning) in [
        (samples::success(), "Success", "every check that applies passed"),
        (samples::failed(), "Failed", "the cluster was examined and a Fatal item failed"),
        (samples::error(), "Error", "the cluster could not be examined"),
    ] {
        let html = postcheck_report::html(&task).unwrap();
        let class = format!("<header class=\"verdict tone-{}\">", phase.to_lowercase());
        assert!(html.contains(&class), "{phase}: {html}");
        assert!(html.contains(&format!("</span> {phase}</h1>")), "{phase}");
        assert!(html.contains(meaning), "{phase}");
        assert!(html.contains("<dt>From</dt><dd><code>v1.36.3</code></dd>"), "{phase}");
        assert!(html.contains("<dt>To</dt><dd><code>v1.37.2</code></dd>"), "{phase}");
        assert!(html.contains(
            "<time datetime=\"2026-11-29T05:00:00.000Z\">2026-11-29 05:00:00 UTC</time>"
        ));
        assert!(!html.contains(" src=") && !html.contains("href=\"http"), "nothing to fetch");
    }
    let error = postcheck_report::html(&samples::error()).unwrap();
    assert!(error.contains("No check item ran"), "{error}");
    assert!(error.contains("<dt>Took</dt><dd>2 min 0 s</dd>"), "{error}");
}

#[test]
fn failed_items_come_grouped_with_their_evidence_as_a_table() {
    let report = Report::from_postcheck(&samples::failed());
    let groups: Vec<&str> = report.groups.iter().map(|g| g.code).collect();
    assert_eq!(groups, ["MasterCheck", "NodeCheck", "AddonCheck", "LimitCheck"]);
    let html = postcheck_report::html(&samples::failed()).unwrap();
    assert!(html.contains(
        "<tr><td class=\"object\"><span class=\"kind\">Deployment</span> <code>shop/checkout-api</code></td><td class=\"reason\">1 of 3 replica(s) available; rollout stuck: ProgressDeadlineExceeded</td></tr>"
    ), "{html}");
    assert!(html.contains("<caption>3 objects</caption>"));
    assert!(html.contains("<a href=\"#item-node-ready\">"), "the summary links to the item");
}

/// The blame hook: once evidence carries blame, both formats show it without a template
/// change.
#[test]
fn blame_shows_as_a_column_and_counts_once_evidence_has_it() {
    let mut report = Report::from_postcheck(&samples::failed());
    assert!(!postcheck_report::html::render(&report).unwrap().contains("Against the baseline"));
    let item = report
        .groups
        .iter_mut()
        .flat_map(|g| &mut g.items)
        .find(|i| i.name == "node-ready")
        .unwrap();
    item.evidence[0].blame = Some(Blame::New);
    item.evidence[1].blame = Some(Blame::PreExisting);
    item.has_blame = true;
    report.blame.new = 1;
    report.blame.pre_existing = 1;
    let html = postcheck_report::html::render(&report).unwrap();
    assert!(html.contains("<th scope=\"col\">Against the baseline</th>"), "{html}");
    assert!(html.contains("<span class=\"badge tone-failed\">new</span>"), "{html}");
    assert!(html.contains("1 pre-existing</span>"), "{html}");
    let text = postcheck_report::markdown::render(&report).unwrap();
    assert!(text.contains("Against the baseline: 1 new, 1 pre-existing, 0 resolved."), "{text}");
    assert!(text.contains("| Object | Reason | Against the baseline |"), "{text}");
    assert!(text.contains(" | new |"), "{text}");
}
