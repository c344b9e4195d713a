//! Permalink expansion, ids, slugs and URL normalisation, table-driven.

use super::*;
use chrono::{FixedOffset, TimeZone};

fn date(y: i32, m: u32, d: u32) -> PostDate {
    FixedOffset::east_opt(0)
        .and_then(|o| o.with_ymd_and_hms(y, m, d, 10, 0, 0).single())
        .unwrap()
}

fn url(template: &str, slug: &str, categories: &[&str]) -> String {
    let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
    let d = date(2023, 2, 6);
    let basename = format!("2023-02-06-{slug}");
    expand(
        style_template(template),
        &Placeholders {
            date: &d,
            slug,
            basename: &basename,
            categories: &categories,
            output_ext: ".html",
            path: &basename,
        },
    )
    .unwrap()
}

/// One row per permalink rule of JEKYLL.md §5.
#[test]
fn permalink_styles_match_jekyll() {
    let rows = [
        ("date", "plain", vec![], "/2023/02/06/plain.html"),
        ("pretty", "plain", vec![], "/2023/02/06/plain/"),
        ("ordinal", "plain", vec![], "/2023/037/plain.html"),
        ("weekdate", "plain", vec![], "/2023/W06/Mon/plain.html"),
        ("none", "plain", vec![], "/plain.html"),
        ("/custom/:year/my page.html", "own", vec![], "/custom/2023/my page.html"),
        ("/:collection/:path/", "plain", vec![], "/posts/2023-02-06-plain/"),
        (
            "date",
            "Hello Wörld_Ünï.code ÄÖ!",
            vec!["news", "Tech News", "C++", "Tech News"],
            "/news/tech%20news/c++/2023/02/06/Hello-W%C3%B6rld_%C3%9Cn%C3%AF.code-%C3%84%C3%96!.html",
        ),
        (
            "/blog/:slug:output_ext",
            "Hello Wörld_Ünï.code ÄÖ!",
            vec![],
            "/blog/hello-w%C3%B6rld-%C3%BCn%C3%AF-code-%C3%A4%C3%B6.html",
        ),
        ("/:slugified_categories/:title", "x", vec!["news", "Tech News", "C++"], "/news/tech-news/c/x"),
        ("date", "x", vec!["TechWeb", "Techweb"], "/techweb/2023/02/06/x.html"),
        ("date", "x", vec!["Career", "In", "touxingPEVC"], "/career/in/touxingpevc/2023/02/06/x.html"),
    ];
    for (template, slug, cats, want) in rows {
        assert_eq!(url(template, slug, &cats), want, "{template} {slug}");
    }
}

#[test]
fn unknown_placeholder_is_an_error() {
    let d = date(2023, 1, 1);
    let p = Placeholders {
        date: &d,
        slug: "x",
        basename: "x",
        categories: &[],
        output_ext: ".html",
        path: "x",
    };
    let err = expand("/:nope/:title", &p).unwrap_err();
    assert_eq!(
        err,
        PermalinkError::UnknownPlaceholder {
            name: "nope".into()
        }
    );
    assert_eq!(err.to_string(), "unknown permalink placeholder `:nope`");
}

#[test]
fn post_id_is_url_folder_plus_raw_slug() {
    assert_eq!(
        post_id("/2023/01/01/normal.html", "normal"),
        "/2023/01/01/normal"
    );
    assert_eq!(post_id("/2023/02/06/plain/", "plain"), "/2023/02/06/plain");
    assert_eq!(
        post_id("/2023/01/09/My-Custom-Slug.html", "My Custom Slug"),
        "/2023/01/09/My Custom Slug"
    );
    assert_eq!(post_id("/posts/2023-02-06-plain/", "plain"), "/posts/plain");
    assert_eq!(post_id("/plain.html", "plain"), "/plain");
}

#[test]
fn absolute_url_normalizes_like_addressable() {
    let site = SiteUrl::new("https://example.com", "");
    assert_eq!(
        site.absolute("/2023/01/09/My Custom Slug"),
        "https://example.com/2023/01/09/My%20Custom%20Slug"
    );
    assert_eq!(
        site.absolute("/a/（括号）？！"),
        "https://example.com/a/(%E6%8B%AC%E5%8F%B7)%3F!"
    );
    assert_eq!(
        site.absolute("/x/ＡＢＣ１２３：test"),
        "https://example.com/x/ABC123:test"
    );
    assert_eq!(
        site.absolute("/x/%E8%A5%BF.html"),
        "https://example.com/x/%E8%A5%BF.html"
    );
    assert_eq!(site.absolute("/a&b.html"), "https://example.com/a&b.html");
    let blog = SiteUrl::new("https://Example.com/", "/blog/");
    assert_eq!(
        blog.absolute("/feed.xml"),
        "https://example.com//blog/feed.xml"
    );
    let port = SiteUrl::new("HTTPS://Example.com:443", "");
    assert_eq!(port.absolute("/a/../b"), "https://example.com/b");
}
