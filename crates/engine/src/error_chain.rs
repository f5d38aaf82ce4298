//! An error and its causes as one line, for a person: what a task's message and an
//! unreadable source's reason say. Shared by gathering, the actions and the verdict, so it
//! belongs to none of them.

/// An error and its sources as one line, skipping causes already said.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}
