//! Log lines without secrets: whatever a library or a message puts in a log line, the
//! service's log writer ([`RedactingWriter`]) masks what looks like a credential before it
//! reaches the file: `Authorization` and `X-Auth-Token` values, bearer tokens, `token=`,
//! `password=`, signatures, postcheck's own `pct_` tokens, and the user info of URLs.
//!
//! This is the last line of defence; the first is that the service never logs a
//! credential on purpose (credentials have redacted `Debug`, endpoints with user info or a
//! query are refused at registration).

use std::io;

use tracing_subscriber::fmt::MakeWriter;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Markers after which the value, up to a delimiter, is a secret (compared without case).
const MARKERS: &[(&str, Until)] = &[
    ("authorization: ", Until::Quote),
    ("authorization=", Until::Delimiter),
    ("x-auth-token: ", Until::Delimiter),
    ("x-auth-token=", Until::Delimiter),
    ("bearer ", Until::Delimiter),
    ("token=", Until::Delimiter),
    ("token: ", Until::Delimiter),
    ("\"token\":\"", Until::Delimiter),
    ("password=", Until::Delimiter),
    ("\"password\":\"", Until::Delimiter),
    ("signature=", Until::Delimiter),
    ("pct_", Until::Delimiter),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// Whitespace, quote, comma, `&`, `;`, braces.
    Delimiter,
    /// The next double quote or the end of the line (a header value with spaces).
    Quote,
}

fn ends(c: char, until: Until) -> bool {
    match until {
        Until::Delimiter => c.is_whitespace() || "\"',&;{}()[]<>\\".contains(c),
        Until::Quote => c == '"' || c == '\n' || c == '\\',
    }
}

/// `line` with every secret it seems to hold masked.
pub fn redact(line: &str) -> String {
    redact_markers(&redact_userinfo(line))
}

fn redact_markers(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    'scan: while i < line.len() {
        for (marker, until) in MARKERS {
            if lower[i..].starts_with(marker) {
                let start = i + marker.len();
                let value_len =
                    line[start..].find(|c| ends(c, *until)).unwrap_or(line.len() - start);
                out.push_str(&line[i..start]);
                if value_len > 0 {
                    out.push_str(MASK);
                }
                i = start + value_len;
                continue 'scan;
            }
        }
        let c = line[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn redact_userinfo(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_len = after
            .find(|c: char| c == '/' || c.is_whitespace() || "\"'<>".contains(c))
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str(MASK);
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

/// A log writer that redacts every line written through it.
#[derive(Debug, Clone)]
pub struct RedactingWriter<M> {
    inner: M,
}

impl<M> RedactingWriter<M> {
    /// Wraps a writer maker (such as `std::io::stderr`).
    pub fn new(inner: M) -> Self {
        Self { inner }
    }
}

/// One write through a [`RedactingWriter`].
#[derive(Debug)]
pub struct Redacting<W> {
    inner: W,
}

impl<W: io::Write> io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingWriter<M> {
    type Writer = Redacting<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Redacting { inner: self.inner.make_writer() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_headers_tokens_and_userinfo() {
        let cases = [
            ("GET https://user:s3cret@h:6443/api x", "GET https://***@h:6443/api x"),
            ("Authorization: Bearer abc.def", "Authorization: ***"),
            (
                "authorization: SDK-HMAC-SHA256 Access=AK, Signature=ab\" next",
                "authorization: ***\" next",
            ),
            ("header x-auth-token: pct_ABCDEF done", "header x-auth-token: *** done"),
            ("url=https://h/?token=abc&x=1", "url=https://h/?token=***&x=1"),
            ("\"token\":\"xyz\",\"a\":1", "\"token\":\"***\",\"a\":1"),
            ("made pct_0123456789 here", "made pct_*** here"),
            ("postgres://app:pw@db/x password=pw2", "postgres://***@db/x password=***"),
            ("nothing to hide: https://h:6443/api", "nothing to hide: https://h:6443/api"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }

    #[test]
    fn the_writer_redacts_what_passes_through() {
        let mut out = Vec::new();
        io::Write::write_all(&mut Redacting { inner: &mut out }, b"Bearer tok123 ok\n").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Bearer *** ok\n");
    }
}
