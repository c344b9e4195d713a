//! The `/` page: every feed (site, categories, tags) with names as written, post counts and
//! last-updated times, subscribe links, and `<link rel="alternate">` autodiscovery.

use std::fmt::Write;

use crate::layout::FeedKind;
use crate::render::site::FeedInfo;
use crate::snapshot::Snapshot;
use crate::text::escape_html as esc;

/// Renders the page (deterministic for a snapshot).
pub fn render(snapshot: &Snapshot) -> String {
    let mut html = String::with_capacity(4096 + snapshot.feeds.len() * 400);
    let title = if snapshot.site_title.is_empty() {
        "feedd"
    } else {
        &snapshot.site_title
    };
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} — feeds</title>\n",
        esc(title)
    );
    // Autodiscovery for the site feed and each category; tags are listed below.
    for feed in snapshot
        .feeds
        .values()
        .filter(|f| f.kind() != FeedKind::Tag)
    {
        for &format in &snapshot.formats {
            let _ = writeln!(
                html,
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}{}\">",
                format.media_type(),
                esc(&feed.title),
                format.label(),
                esc(&feed.path),
                format.file_name()
            );
        }
    }
    html.push_str("<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{padding:.3rem .5rem;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}</style>\n</head>\n<body>\n");
    let _ = writeln!(
        html,
        "<h1>{}</h1>\n<p>{} posts. Subscribe to the whole site, a category or a tag, in any format. <a href=\"feeds.opml\">All feeds as OPML</a>.</p>",
        esc(title),
        snapshot.posts
    );
    for (kind, heading) in [
        (FeedKind::Site, "Site"),
        (FeedKind::Category, "Categories"),
        (FeedKind::Tag, "Tags"),
    ] {
        let feeds: Vec<&FeedInfo> = snapshot
            .feeds
            .values()
            .map(|f| &**f)
            .filter(|f| f.kind() == kind)
            .collect();
        if feeds.is_empty() {
            continue;
        }
        let _ = writeln!(
            html,
            "<h2>{heading}</h2>\n<table>\n<tr><th>name</th><th>posts</th><th>updated</th><th>subscribe</th></tr>"
        );
        for feed in feeds {
            let name = if feed.kind() == FeedKind::Site {
                "All posts"
            } else {
                &feed.label
            };
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>",
                esc(name),
                feed.posts,
                esc(&feed.updated)
            );
            for (i, &format) in snapshot.formats.iter().enumerate() {
                if i > 0 {
                    html.push_str(" · ");
                }
                let _ = write!(
                    html,
                    "<a href=\"{}{}\" type=\"{}\">{}</a>",
                    esc(&feed.path),
                    format.file_name(),
                    format.media_type(),
                    format.label()
                );
            }
            html.push_str("</td></tr>\n");
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}
