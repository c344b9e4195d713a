//! OPML 2.0 subscription list of every feed, so a reader can import them all at once.

use crate::text::{push_escaped_html, xml_clean};

/// One feed in the list, borrowed from its `FeedInfo`: the list is made again whenever a
/// feed comes or goes, at ~2,000 feeds and more, so nothing is copied for it.
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

/// Renders the list, grouped under "Site", "Categories" and "Tags".
pub fn render(title: &str, groups: &[(&str, Vec<Outline>)]) -> Vec<u8> {
    let mut out =
        String::with_capacity(256 + groups.iter().map(|g| g.1.len() * 200).sum::<usize>());
    let esc = |out: &mut String, s: &str| push_escaped_html(out, &xml_clean(s));
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head>\n");
    out.push_str("<title>");
    esc(&mut out, title);
    out.push_str("</title>\n</head>\n<body>\n");
    for (group, outlines) in groups {
        if outlines.is_empty() {
            continue;
        }
        out.push_str("<outline text=\"");
        esc(&mut out, group);
        out.push_str("\">\n");
        for o in outlines {
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
        }
        out.push_str("</outline>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}
