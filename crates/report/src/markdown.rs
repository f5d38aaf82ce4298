//! The Markdown summary: GitHub-flavoured, for CI step summaries and pull-request comments.
//!
//! The verdict line, a table of the items that failed or could not run, and each one's
//! evidence in a collapsible `<details>`. Every value the template prints goes through
//! [`Markdown`], askama's escaper for `.md` templates (`askama.toml`): a value can never
//! open a link, an image, a table cell, emphasis, math or HTML. The template places each
//! value mid-line after fixed text, so none can start a heading, list or quote either.
//! Values inside `<summary>` are HTML, not Markdown, and use the HTML escaper there.

use std::fmt::{self, Write};

use askama::Template;

use crate::RenderError;
use crate::view::{Item, Report};

/// At most this many evidence rows per item: a pull-request comment is limited in size;
/// the HTML report has them all.
pub const MAX_ROWS: usize = 50;

/// askama's escaper for Markdown: HTML's special characters become entities, Markdown's
/// punctuation is backslash-escaped, and line breaks become spaces (a value is one line).
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

impl askama::filters::Escaper for Markdown {
    fn write_escaped_str<W: Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        for c in string.chars() {
            match c {
                '&' => dest.write_str("&amp;")?,
                '<' => dest.write_str("&lt;")?,
                '>' => dest.write_str("&gt;")?,
                '"' => dest.write_str("&quot;")?,
                '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' | '#' | '!' => {
                    dest.write_char('\\')?;
                    dest.write_char(c)?;
                }
                '\n' | '\r' | '\t' => dest.write_char(' ')?,
                c if c.is_control() => {}
                c => dest.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Text escaped for Markdown, outside a template.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = askama::filters::Escaper::write_escaped_str(&Markdown, &mut out, text);
    out
}

#[derive(Template)]
#[template(path = "report.md")]
struct MarkdownReport<'a> {
    report: &'a Report,
    attention: Vec<&'a Item>,
}

/// Renders a report as GitHub-flavoured Markdown.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let page = MarkdownReport { report, attention: report.attention() };
    page.render().map_err(|source| RenderError::Template { format: "Markdown", source })
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markdown_punctuation_and_html_are_text() {
        assert_eq!(escape("a|b *c* `d` [e](f) ![g](h)"), r"a\|b \*c\* \`d\` \[e\](f) \!\[g\](h)");
        assert_eq!(escape("<script>\"&"), "&lt;script&gt;&quot;&amp;");
        assert_eq!(escape("two\nlines"), "two lines");
        assert_eq!(escape("$x$ ~y~ #1 \\"), r"\$x\$ \~y\~ \#1 \\");
    }
}
