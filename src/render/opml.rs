//! OPML 2.0 subscription list of every feed, so a reader can import them all at once.

use crate::text::{escape_html, xml_clean};

/// One feed in the list.
pub struct Outline {
    pub title: String,
    pub xml_url: String,
    pub html_url: String,
    /// `rss` for RSS and Atom (OPML's convention), `json` otherwise is not standard: we
    /// list the preferred XML format.
    pub kind: &'static str,
}

/// Renders the list, grouped under "Site", "Categories" and "Tags".
pub fn render(title: &str, groups: &[(&str, Vec<Outline>)]) -> Vec<u8> {
    let esc = |s: &str| escape_html(&xml_clean(s));
    let mut out =
        String::with_capacity(256 + groups.iter().map(|g| g.1.len() * 200).sum::<usize>());
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head>\n");
    out.push_str(&format!("<title>{}</title>\n</head>\n<body>\n", esc(title)));
    for (group, outlines) in groups {
        if outlines.is_empty() {
            continue;
        }
        out.push_str(&format!("<outline text=\"{}\">\n", esc(group)));
        for o in outlines {
            out.push_str(&format!(
                "<outline type=\"{}\" text=\"{}\" title=\"{}\" xmlUrl=\"{}\" htmlUrl=\"{}\"/>\n",
                o.kind,
                esc(&o.title),
                esc(&o.title),
                esc(&o.xml_url),
                esc(&o.html_url)
            ));
        }
        out.push_str("</outline>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}
