//! The HTML pages for people, rendered by the engine beside the feeds (one pipeline):
//! a page per feed in its folder (`categories/<name>/index.html`), the index at the root
//! (the site feed's page and a directory of the most active feeds), and a complete list
//! per kind (`categories/index.html`). Written with `maud`: templates are Rust, checked
//! at compile time, and every interpolated value is HTML-escaped unless marked otherwise
//! (nothing from posts or config ever is). No external resources: one style sheet and one
//! small script, both served by feedd; without the script everything is there, only the
//! copy buttons, the filter box and the A–Z order are missing.

mod archive;
mod lists;
mod readers;
mod texts;

use maud::{html, Markup, DOCTYPE};

pub use archive::{archive_page, Around};
pub use readers::{readers_page, CHART_DAYS};

use super::{EntryParts, FeedHead};
use crate::config::Config;
use crate::index::FeedGroup;
use crate::layout::{FeedKey, FeedKind, Format};
use crate::names::FeedName;
pub use lists::{index, list, row, Listed};
pub use texts::Texts;

pub const CSS: &str = include_str!("feedd.css");
pub const JS: &str = include_str!("feedd.js");

/// A feed related to another: key, name as written, posts they share.
pub type Related = (FeedKey, String, usize);

/// What every page needs to know about the site.
pub struct Shell<'a> {
    pub config: &'a Config,
    pub texts: &'static Texts,
}

impl<'a> Shell<'a> {
    pub fn new(config: &'a Config) -> Shell<'a> {
        Shell {
            config,
            texts: Texts::of(config.pages.ui),
        }
    }

    /// A site-relative path under `baseurl` (`/blog` + `/tags/x/`); `blog`, `/blog/`
    /// and `/blog` are the same base.
    pub fn href(&self, path: &str) -> String {
        crate::url::under_base(&self.config.site.baseurl, path)
    }

    fn site_name(&self) -> &str {
        let title = self.config.site.title.as_str();
        if title.is_empty() {
            "feedd"
        } else {
            title
        }
    }

    fn lang(&self) -> &str {
        self.config
            .site
            .lang
            .as_deref()
            .unwrap_or(match self.config.pages.ui {
                crate::config::Ui::Chinese => "zh-CN",
                crate::config::Ui::English => "en",
            })
    }

    /// The document around a page's main content. `alternates` are this page's feeds
    /// only (autodiscovery offers what the reader is looking at, not 2,000 choices).
    fn page(
        &self,
        title: &str,
        alternates: &[(String, Format)],
        crumbs: Markup,
        main: Markup,
    ) -> Markup {
        let t = self.texts;
        let title = if title.is_empty() {
            self.site_name()
        } else {
            title
        };
        html! {
            (DOCTYPE)
            html lang=(self.lang()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) }
                    meta name="color-scheme" content="light dark";
                    link rel="stylesheet" href=(self.href("/feedd.css"));
                    @for (url, format) in alternates {
                        link rel="alternate" type=(format.media_type()) title=(format!("{title} ({})", format.label())) href=(url);
                    }
                    script src=(self.href("/feedd.js")) defer {}
                }
                body {
                    header.top {
                        nav { a href=(self.href("/")) { (self.site_name()) } (crumbs) }
                    }
                    main { (main) }
                    footer {
                        a href=(self.href("/")) { (t.feeds_of_site) }
                        " · "
                        a href=(self.href(&format!("/{}", crate::layout::OPML_FILE))) { (t.all_feeds_opml) }
                    }
                }
            }
        }
    }

    /// Autodiscovery links for one feed: its URL in each enabled format.
    fn alternates(&self, head: &FeedHead<'_>) -> Vec<(String, Format)> {
        (self.config.formats.iter())
            .map(|&f| (head.self_url(f), f))
            .collect()
    }

    /// The subscribe block: each enabled format's URL, to copy into a reader.
    fn subscribe(&self, head: &FeedHead<'_>) -> Markup {
        let t = self.texts;
        html! {
            section.subscribe aria-labelledby="subscribe" {
                h2 #subscribe { (t.subscribe) }
                p { (t.what_is_a_feed) }
                ul.formats {
                    @for &format in &self.config.formats {
                        @let url = head.self_url(format);
                        li {
                            a.fmt href=(url) { (format.label()) }
                            // Shown as people read it (CJK names unescaped); every reader
                            // takes either form.
                            input readonly value=(readable(&url)) aria-label=(format!("{} URL", format.label()));
                            button type="button" hidden data-copy=(url) data-done=(t.copied) { (t.copy) }
                        }
                    }
                }
            }
        }
    }

    /// The newest entries of a feed, with dates, terms and excerpts.
    fn entries(&self, entries: &[&EntryParts], total: usize) -> Markup {
        let t = self.texts;
        let shown = &entries[..entries.len().min(self.config.pages.entries)];
        html! {
            section aria-labelledby="newest" {
                h2 #newest { (t.newest) }
                @if shown.is_empty() {
                    p { (t.no_posts) }
                } @else {
                    ol.entries {
                        @for e in shown {
                            li { (self.entry(e)) }
                        }
                    }
                    p.total { (t.count(total)) }
                }
            }
        }
    }

    /// A link to older posts: the newest archive document's page when the feed has
    /// archives, the next page of a custom feed's result (its URL shows a browser the
    /// page), and from a later page back to the first.
    fn older(&self, head: &FeedHead<'_>) -> Markup {
        // Site-relative, as every other link of the pages: a copy of the site served
        // elsewhere (a staging host, 127.0.0.1) pages through itself.
        let local = |url: String| match crate::url::split_origin(&url) {
            Some((_, path)) if path.starts_with('/') => path.to_string(),
            _ => url,
        };
        let archive = (head.history.prev.clone()).filter(|_| self.config.pages.enabled);
        let next = (head.paging.next.as_deref()).map(|q| head.page_url(Format::Atom, q));
        let first = (head.paging.first.as_deref()).map(|q| head.page_url(Format::Atom, q));
        let (archive, next, first) = (archive.map(local), next.map(local), first.map(local));
        html! {
            @if archive.is_some() || next.is_some() || first.is_some() {
                nav.pager {
                    @if let Some(first) = first {
                        a href=(first) { (self.texts.newest) }
                        " "
                    }
                    @if let Some(older) = archive.or(next) {
                        a href=(older) { (self.texts.older) }
                    }
                }
            }
        }
    }

    fn entry(&self, e: &EntryParts) -> Markup {
        let p = &e.page;
        // A term links to its page when it has a feed, called what that page calls it.
        let term =
            |terms: &crate::config::TermFeeds, kind: fn(FeedName) -> FeedKey, label: &str| {
                let name = FeedName::new(label);
                (!name.is_empty() && terms.wants(&name)).then(|| {
                    let shown = terms.title(&name).unwrap_or(label).to_string();
                    (self.href(&kind(name).url_path()), shown)
                })
            };
        let (categories, tags) = (&self.config.categories, &self.config.tags);
        html! {
            article {
                h3 { a href=(Esc(&p.link)) { (Esc(&p.title)) } }
                p.meta {
                    time datetime=(super::rfc3339(&p.date)) { (super::minutes(&p.date)) }
                    @for c in p.categories.iter() {
                        " "
                        @match term(categories, FeedKey::Category, c) {
                            Some((href, shown)) => a.term href=(href) { (shown) },
                            None => span.term { (c) },
                        }
                    }
                    @for tag in p.tags.iter() {
                        " "
                        @match term(tags, FeedKey::Tag, tag) {
                            Some((href, shown)) => a.term.tag href=(href) { "#" (shown) },
                            None => span.term.tag { "#" (tag) },
                        }
                    }
                }
                @if !e.summary.is_empty() {
                    p.excerpt { (Esc(&excerpt(&e.summary))) }
                }
            }
        }
    }
}

/// The page of one category's or tag's feed.
pub fn feed_page(
    shell: &Shell<'_>,
    head: &FeedHead<'_>,
    group: &FeedGroup,
    (entries, related): (&[&EntryParts], &[Related]),
    readers: Option<&crate::stats::report::FeedReaders>,
) -> Vec<u8> {
    let t = shell.texts;
    let kind = group.key.kind();
    let alternates = shell.alternates(head);
    let list = kind.folder().map(|f| shell.href(&format!("/{f}/")));
    let crumbs = html! {
        @if let Some(list) = &list {
            " › " a href=(list) { (t.kind(kind)) }
        }
    };
    let main = html! {
        h1 { (head.display) }
        p.lead {
            @if head.query.is_some() {
                (t.selection_lead(&head.display, shell.site_name()))
            } @else {
                (t.lead(kind, &head.display, shell.site_name()))
            }
            // The site's own page for the term, when it has one.
            @if group.page.as_deref().is_some_and(|p| p != group.key.url_path()) {
                " " a href=(head.alternate_url) { (t.on_the_site) }
            }
        }
        @if let Some(readers) = readers {
            (readers::feed_readers(shell, readers))
        }
        (shell.subscribe(head))
        (shell.entries(entries, group.total))
        (shell.older(head))
        @if !related.is_empty() {
            section aria-labelledby="related" {
                h2 #related { (t.related) }
                ul.related {
                    @for (key, label, shared) in related {
                        li {
                            a href=(shell.href(&key.url_path())) {
                                @if key.kind() == FeedKind::Tag { "#" }
                                (label)
                            }
                            " " span.n { (shared) }
                        }
                    }
                }
            }
        }
    };
    shell
        .page(&head.title, &alternates, crumbs, main)
        .into_string()
        .into_bytes()
}

/// The page for a path that has nothing (browsers get it with the 404).
pub fn not_found(shell: &Shell<'_>) -> Vec<u8> {
    let t = shell.texts;
    let main = html! {
        h1 { (t.not_found) }
        p { (t.not_found_help) }
        p { a href=(shell.href("/")) { (t.back_to_index) } }
    };
    shell
        .page(t.not_found, &[], html! {}, main)
        .into_string()
        .into_bytes()
}

/// A URL with its percent-encoded UTF-8 shown as text (`%E8%A5%BF…` → `西…`); bytes that
/// are not text, and encoded delimiters, stay encoded.
fn readable(url: &str) -> String {
    let upper = url.to_ascii_uppercase();
    let keeps_meaning = ["%2F", "%3F", "%23", "%25", "%20", "%0", "%1", "%7F"]
        .iter()
        .all(|e| !upper.contains(e));
    match percent_encoding::percent_decode_str(url).decode_utf8() {
        Ok(text) if keeps_meaning => text.into_owned(),
        _ => url.to_string(),
    }
}

/// At most ~160 characters of a summary, cut at a character boundary.
/// Text escaped for a page by `escape::push_escaped_html`: the same four entities as
/// maud's own escaping, which looks at every byte alone; titles, links and excerpts are
/// most of the bytes of the pages, and a build makes tens of thousands of them.
struct Esc<'a>(&'a str);

impl maud::Render for Esc<'_> {
    fn render_to(&self, buffer: &mut String) {
        crate::escape::push_escaped_html(buffer, self.0);
    }
}

fn excerpt(summary: &str) -> String {
    const MAX: usize = 160;
    match summary.char_indices().nth(MAX) {
        None => summary.to_string(),
        Some((at, _)) => format!("{}…", summary[..at].trim_end()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_read_as_text_only_when_nothing_changes_meaning() {
        use super::readable;
        assert_eq!(
            readable("https://x/tags/%E8%A5%BF/feed.xml"),
            "https://x/tags/西/feed.xml"
        );
        assert_eq!(
            readable("https://x/tags/a%2Fb/feed.xml"),
            "https://x/tags/a%2Fb/feed.xml"
        );
        assert_eq!(
            readable("https://x/tags/%FF/feed.xml"),
            "https://x/tags/%FF/feed.xml"
        );
        assert_eq!(readable("https://x/tags/a%20b/"), "https://x/tags/a%20b/");
    }
}
