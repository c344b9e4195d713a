//! OPML 2.0 subscription list of every feed, so a reader can import them all at once.
//!
//! The list is made again whenever a feed comes or goes (a new tag: often, on a site
//! with thousands), so each feed's line is rendered once (`outline`) and kept by the
//! engine while the feed's info stays the same; the list joins the kept lines.

use crate::escape::push_escaped_html;
use crate::text::xml_clean;

/// One feed in the list, borrowed from its `FeedInfo`.
pub struct Outline<'a> {
    pub title: &'a str,
    /// The feed's folder URL and file name: `xmlUrl` is the two together.
    pub base_url: &'a str,
    pub file_name: &'a str,
    pub html_url: &'a str,
    /// `rss` for RSS and Atom (OPML's convention), `json` otherwise is not standard: we
    /// list the preferred XML format.
    pub kind: &'static str,
}

fn esc(out: &mut String, s: &str) {
    push_escaped_html(out, &xml_clean(s));
}

/// One feed's `<outline …/>` line.
pub fn outline(o: &Outline<'_>) -> String {
    let mut out = String::with_capacity(64 + 2 * o.title.len() + 2 * o.base_url.len());
    out.push_str("<outline type=\"");
    out.push_str(o.kind);
    out.push_str("\" text=\"");
    esc(&mut out, o.title);
    out.push_str("\" title=\"");
    esc(&mut out, o.title);
    out.push_str("\" xmlUrl=\"");
    esc(&mut out, o.base_url);
    esc(&mut out, o.file_name);
    out.push_str("\" htmlUrl=\"");
    esc(&mut out, o.html_url);
    out.push_str("\"/>\n");
    out
}

/// Renders the list from its lines (`outline`), grouped under "Site", "Categories" and
/// "Tags".
pub fn render(title: &str, groups: &[(&str, Vec<&str>)]) -> Vec<u8> {
    let size: usize = groups.iter().flat_map(|g| &g.1).map(|l| l.len()).sum();
    let mut out = String::with_capacity(256 + size);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head>\n");
    out.push_str("<title>");
    esc(&mut out, title);
    out.push_str("</title>\n</head>\n<body>\n");
    for (group, lines) in groups {
        if lines.is_empty() {
            continue;
        }
        out.push_str("<outline text=\"");
        esc(&mut out, group);
        out.push_str("\">\n");
        for line in lines {
            out.push_str(line);
        }
        out.push_str("</outline>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}
