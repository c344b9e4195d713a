//! Splitting a post into front matter and body, with Jekyll's `YAML_FRONT_MATTER_REGEXP`
//! semantics: the file must start with `---`; the block ends at the first line that is
//! `---` or `...`; blank lines after the closing fence are not body.

/// A post's text split at its front matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The YAML between the fences, or `None` when the file has no front matter.
    pub yaml: Option<&'a str>,
    /// 1-based line of the file where `yaml` starts.
    pub yaml_line: usize,
    pub body: &'a str,
    /// 1-based line of the file where `body` starts.
    pub body_line: usize,
}

/// Whether the front matter was left unclosed (no closing `---`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unclosed;

/// Splits `text` (BOM already removed). An opening `---` without a closing fence is
/// `Err(Unclosed)`: Jekyll would publish the YAML as body text, which is never meant.
pub fn split(text: &str) -> Result<Split<'_>, Unclosed> {
    let no_front_matter = Split {
        yaml: None,
        yaml_line: 1,
        body: text,
        body_line: 1,
    };
    let Some(after_open) = text.strip_prefix("---") else {
        return Ok(no_front_matter);
    };
    // `---\s*\n`: whitespace (newlines included) up to a newline.
    let ws_len = after_open.len() - after_open.trim_start().len();
    let Some(nl) = after_open[..ws_len].find('\n') else {
        return Ok(no_front_matter);
    };
    let yaml_start = 3 + nl + 1;
    let mut line_start = yaml_start;
    loop {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = &text[line_start..line_end];
        let trimmed = line.trim_end();
        if (trimmed == "---" || trimmed == "...") && is_fence_line(line) {
            let yaml = &text[yaml_start..line_start];
            let body_start = skip_blank_lines(text, line_start + 3);
            return Ok(Split {
                yaml: Some(yaml),
                yaml_line: 1 + count_lines(&text[..yaml_start]),
                body: &text[body_start..],
                body_line: 1 + count_lines(&text[..body_start]),
            });
        }
        if line_end >= text.len() {
            return Err(Unclosed);
        }
        line_start = line_end + 1;
    }
}

fn is_fence_line(line: &str) -> bool {
    line[3..].chars().all(char::is_whitespace)
}

/// `(---)\s*$\n?`: eat whitespace through the last newline of the run (or to the end).
fn skip_blank_lines(text: &str, from: usize) -> usize {
    let rest = &text[from..];
    let ws_len = rest.len() - rest.trim_start().len();
    if ws_len == rest.len() {
        return text.len();
    }
    match rest[..ws_len].rfind('\n') {
        Some(i) => from + i + 1,
        None => from + ws_len,
    }
}

fn count_lines(text: &str) -> usize {
    text.bytes().filter(|b| *b == b'\n').count()
}

/// Jekyll's trap: blank lines (or whitespace) before the opening `---` mean the front matter
/// is read as body text. Returns the line of that ignored `---`.
pub fn ignored_front_matter_line(text: &str) -> Option<usize> {
    if text.starts_with("---") {
        return None;
    }
    let trimmed = text.trim_start();
    let skipped = &text[..text.len() - trimmed.len()];
    (!skipped.is_empty() && trimmed.starts_with("---")).then(|| 1 + count_lines(skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_jekyll() {
        let s = split("---\ntitle: x\n---\n\n\n  First\n").unwrap();
        assert_eq!(s.yaml, Some("title: x\n"));
        assert_eq!(s.body, "  First\n");
        assert_eq!((s.yaml_line, s.body_line), (2, 6));
        let crlf = split("---\r\ntitle: x\r\n---\r\nBody\r\n").unwrap();
        assert_eq!(crlf.yaml, Some("title: x\r\n"));
        assert_eq!(crlf.body, "Body\r\n");
        let dots = split("--- \ntitle: x\n... \nBody").unwrap();
        assert_eq!(dots.body, "Body");
        let empty = split("---\n---\nBody").unwrap();
        assert_eq!(empty.yaml, Some(""));
        let eof = split("---\ntitle: x\n---").unwrap();
        assert_eq!(eof.body, "");
    }

    #[test]
    fn blank_line_before_fence_means_no_front_matter() {
        let text = "\n---\ntitle: x\n---\nBody";
        assert_eq!(split(text).unwrap().yaml, None);
        assert_eq!(ignored_front_matter_line(text), Some(2));
        assert_eq!(split("No front matter at all.").unwrap().yaml, None);
        assert_eq!(split("----\nx").unwrap().yaml, None);
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert_eq!(split("---\ntitle: x\nbody"), Err(Unclosed));
    }
}
