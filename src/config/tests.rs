//! Config parsing: defaults, errors that name the key, `_config.yml` and overrides.

use super::*;
use crate::names::FeedName;

#[test]
fn defaults_are_sane() {
    let c = Config::parse("", None).unwrap();
    assert_eq!(c.content_dir, Path::new("content"));
    assert_eq!(c.output_dir, Path::new("feeds"));
    assert_eq!(c.limit, 50);
    assert_eq!(c.rules.timezone, chrono_tz::UTC);
    assert_eq!(c.formats, Format::ALL);
    let c = Config::parse("formats = [\"json\", \"atom\"]", None).unwrap();
    assert_eq!(c.formats, [Format::Atom, Format::Json]);
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let e = Config::parse("lmit = 3", None)
        .map(|_| String::new())
        .unwrap_or_else(|e| crate::error::chain(&e));
    assert!(e.contains("lmit"), "{e}");
    let e = Config::parse("[site]\ntimezone = \"Mars/Base\"", None)
        .map(|_| String::new())
        .unwrap_or_else(|e| crate::error::chain(&e));
    assert!(
        e.contains("site.timezone") && e.contains("Mars/Base"),
        "{e}"
    );
    let e = Config::parse("formats = [\"atom\", \"rdf\"]", None)
        .map(|_| String::new())
        .unwrap_or_else(|e| crate::error::chain(&e));
    assert!(e.contains("rdf"), "{e}");
    let e = Config::parse("[site]\nurl = \"example.com\"", None)
        .map(|_| String::new())
        .unwrap_or_else(|e| crate::error::chain(&e));
    assert!(e.contains("site.url"), "{e}");
}

#[test]
fn jekyll_config_supplies_defaults_and_toml_overrides() {
    let jekyll = "title: 金融消息\nurl: https://finews.example\ntimezone: Asia/Shanghai\nlang: zh-CN\nauthor: ZNing\n";
    let c = Config::parse("[site]\ntitle = \"Override\"\n", Some(jekyll)).unwrap();
    assert_eq!(c.site.title, "Override");
    assert_eq!(c.site.url, "https://finews.example");
    assert_eq!(c.rules.timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(c.site.lang.as_deref(), Some("zh-CN"));
    assert_eq!(c.site.author.as_deref(), Some("ZNing"));
}

#[test]
fn load_reads_the_site_config_and_resolves_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("site")).unwrap();
    std::fs::write(dir.path().join("site/_config.yml"), "title: From Jekyll\n").unwrap();
    std::fs::write(dir.path().join("c.toml"), "content_dir = \"site\"\n").unwrap();
    let c = Config::load(&dir.path().join("c.toml")).unwrap();
    assert_eq!(c.site.title, "From Jekyll");
    assert_eq!(c.content_dir, dir.path().join("site"));
    assert_eq!(c.output_dir, dir.path().join("feeds"));
    std::fs::write(dir.path().join("c.toml"), "limit = \"x\"\n").unwrap();
    let e = Config::load(&dir.path().join("c.toml")).unwrap_err();
    let shown = crate::error::chain(&e);
    assert_eq!(shown.matches("c.toml").count(), 1, "{shown}");
    assert!(shown.contains("limit"), "{shown}");
}

#[test]
fn term_filters_compare_as_feed_names() {
    let c = Config::parse(
        "[tags]\ndeny = [\"Spam\"]\n[categories]\nallow = [\"news\"]\nlimits = { NEWS = 5 }\n",
        None,
    )
    .unwrap();
    assert!(!c.tags.wants(&FeedName::new("spam")));
    assert!(c.tags.wants(&FeedName::new("ham")));
    assert!(c.categories.wants(&FeedName::new("News")));
    assert!(!c.categories.wants(&FeedName::new("other")));
    assert_eq!(c.categories.limit(&FeedName::new("news")), Some(5));
}

#[test]
fn pages_language_follows_the_site_unless_set() {
    let zh = Config::parse("[site]\nlang = \"zh-CN\"", None).unwrap();
    assert_eq!(
        (zh.pages.ui, zh.pages.enabled, zh.pages.entries),
        (Ui::Chinese, true, 20)
    );
    let en = Config::parse("[site]\nlang = \"zh-CN\"\n[pages]\nlang = \"en\"", None).unwrap();
    assert_eq!(en.pages.ui, Ui::English);
    assert_eq!(Config::parse("", None).unwrap().pages.ui, Ui::English);
    let err = Config::parse("[pages]\nlang = \"fr\"", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("pages.lang"), "{err}");
    let titled = Config::parse("[categories]\ntitles = { EmNews = \"东方财富\" }", None).unwrap();
    assert_eq!(
        titled.categories.title(&FeedName::new("emnews")),
        Some("东方财富")
    );
}

#[test]
fn websub_defaults_bounds_and_advertised_hubs() {
    let c = Config::parse(
        "[site]\nurl = \"https://a.example\"\nbaseurl = \"/blog\"",
        None,
    )
    .unwrap();
    let w = &c.websub;
    assert!(w.hub && !w.allow_private_callbacks);
    assert_eq!(
        (w.lease.min, w.lease.default, w.lease.max),
        (3_600, 864_000, 2_678_400)
    );
    assert_eq!(w.lease.grant(None), 864_000);
    assert_eq!(w.lease.grant(Some(5)), 3_600);
    assert_eq!(w.lease.grant(Some(u64::MAX)), 2_678_400);
    let site = crate::url::SiteUrl::new(&c.site.url, &c.site.baseurl);
    assert_eq!(w.advertised(&site), ["https://a.example/blog/websub"]);
    let c = Config::parse(
        "[websub]\nhub = false\nhubs = [\"https://hub.example/\"]",
        Some("url: https://a.example"),
    )
    .unwrap();
    let site = crate::url::SiteUrl::new(&c.site.url, "");
    assert_eq!(c.websub.advertised(&site), ["https://hub.example/"]);
    // No site URL: no absolute hub URL, so the built-in hub is not advertised.
    let c = Config::parse("", None).unwrap();
    assert!(c
        .websub
        .advertised(&crate::url::SiteUrl::new("", ""))
        .is_empty());
    for (text, key) in [
        (
            "[websub]\nmin_lease_seconds = 0",
            "websub.min_lease_seconds",
        ),
        (
            "[websub]\nmin_lease_seconds = 10\nmax_lease_seconds = 5",
            "websub.min_lease_seconds",
        ),
        ("[websub]\nlease_seconds = 1", "websub.lease_seconds"),
        ("[websub]\nhubs = [\"ftp://x\"]", "websub.hubs"),
        (
            "[websub]\nconcurrent_deliveries = 0",
            "websub.concurrent_deliveries",
        ),
        (
            "[websub]\nretry_first_ms = 9\nretry_max_ms = 5",
            "websub.retry_first_ms",
        ),
        ("[websub]\nlease = 5", "lease"),
    ] {
        let e = Config::parse(text, None)
            .map(|_| String::new())
            .unwrap_or_else(|e| crate::error::chain(&e));
        assert!(e.contains(key), "{text}: {e}");
    }
}
