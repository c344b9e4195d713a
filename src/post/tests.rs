//! Table-driven tests: one row per Jekyll rule (JEKYLL.md §1–§5) that decides whether a
//! post appears and its URL, id, date, title, categories and tags.

use super::*;

fn rules() -> PostRules {
    PostRules {
        timezone: chrono_tz::Asia::Shanghai,
        permalink: "date".into(),
        excerpt_separator: "\n\n".into(),
        site_url: crate::url::SiteUrl::new("https://example.com", ""),
    }
}

fn parse(path: &str, text: &str) -> Post {
    match Post::parse(path, text, &rules()) {
        Ok(Some(post)) => post,
        other => panic!("{path}: {other:?}"),
    }
}

struct Row {
    rule: &'static str,
    path: &'static str,
    text: &'static str,
    url: &'static str,
    id: &'static str,
    date: &'static str,
    title: &'static str,
    categories: &'static [&'static str],
    tags: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        rule: "seed article: offset kept, category and Chinese tag",
        path: "_posts/2022-03-15-NW202203152309612181.md",
        text: "---\nlayout: post\ntitle: \"精心部署贴心服务 维护客户权益\"\ndate: 2022-03-15 12:52:16 +0800\ncategories: xihaidushibao\ntags: 西海都市报新闻\n---\n<p>x</p>\n",
        url: "/xihaidushibao/2022/03/15/NW202203152309612181.html",
        id: "/xihaidushibao/2022/03/15/NW202203152309612181",
        date: "2022-03-15T12:52:16+08:00",
        title: "精心部署贴心服务 维护客户权益",
        categories: &["xihaidushibao"],
        tags: &["西海都市报新闻"],
    },
    Row {
        rule: "unquoted offset-less timestamp with seconds is UTC",
        path: "_posts/2021-12-08-202112082206672930.md",
        text: "---\ntitle: x\ndate: 2021-12-08 10:46:18\ncategories: emnews\n---\nbody\n",
        url: "/emnews/2021/12/08/202112082206672930.html",
        id: "/emnews/2021/12/08/202112082206672930",
        date: "2021-12-08T18:46:18+08:00",
        title: "x",
        categories: &["emnews"],
        tags: &[],
    },
    Row {
        rule: "UTC reading moves the URL day",
        path: "_posts/2021-12-08-late.md",
        text: "---\ndate: 2021-12-08 20:00:00\n---\n",
        url: "/2021/12/09/late.html",
        id: "/2021/12/09/late",
        date: "2021-12-09T04:00:00+08:00",
        title: "Late",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "quoted timestamp is site-local",
        path: "_posts/2023-03-01-q.md",
        text: "---\ndate: \"2023-03-01 10:00:00\"\n---\n",
        url: "/2023/03/01/q.html",
        id: "/2023/03/01/q",
        date: "2023-03-01T10:00:00+08:00",
        title: "Q",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "no date: file name at local midnight",
        path: "_posts/2023-01-02-no-front-matter.md",
        text: "No front matter at all.",
        url: "/2023/01/02/no-front-matter.html",
        id: "/2023/01/02/no-front-matter",
        date: "2023-01-02T00:00:00+08:00",
        title: "No Front Matter",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "blank line before --- means no front matter",
        path: "_posts/2021-12-08-202112082206703990.md",
        text: "\n---\nlayout: post\ntitle: \"FF\"\ndate: 2021-12-08 10:18:31\ncategories: emnews\n---\nbody",
        url: "/2021/12/08/202112082206703990.html",
        id: "/2021/12/08/202112082206703990",
        date: "2021-12-08T00:00:00+08:00",
        title: "202112082206703990",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "front matter date beats the file name",
        path: "_posts/2023-03-01-h.md",
        text: "---\ndate: 2023-02-15 09:00:00 +0800\n---\n",
        url: "/2023/02/15/h.html",
        id: "/2023/02/15/h",
        date: "2023-02-15T09:00:00+08:00",
        title: "H",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "folder categories, then categories (split), then category",
        path: "news/_posts/2023-01-07-a.md",
        text: "---\ncategories: Career In touxingPEVC\ncategory: Single Word\ntags: alpha beta-gamma\n---\n",
        url: "/news/career/in/touxingpevc/single%20word/2023/01/07/a.html",
        id: "/news/career/in/touxingpevc/single%20word/2023/01/07/a",
        date: "2023-01-07T00:00:00+08:00",
        title: "A",
        categories: &["news", "Career", "In", "touxingPEVC", "Single Word"],
        tags: &["alpha", "beta-gamma"],
    },
    Row {
        rule: "category list plus singular; case kept in names, folded in URLs",
        path: "_posts/2023-01-07-b.md",
        text: "---\ncategories: [TechWeb, Techweb]\ntag: one two\ntags: [x]\n---\n",
        url: "/techweb/2023/01/07/b.html",
        id: "/techweb/2023/01/07/b",
        date: "2023-01-07T00:00:00+08:00",
        title: "B",
        categories: &["TechWeb", "Techweb"],
        tags: &["one two"],
    },
    Row {
        rule: "title: \"\" stays empty; title: 2023 is a string",
        path: "_posts/2023-01-07-c.md",
        text: "---\ntitle: \"\"\ntags: [2023, null, x]\n---\n",
        url: "/2023/01/07/c.html",
        id: "/2023/01/07/c",
        date: "2023-01-07T00:00:00+08:00",
        title: "",
        categories: &[],
        tags: &["2023", "x"],
    },
    Row {
        rule: "front-matter slug changes URL and id, not the derived title",
        path: "_posts/2023-01-09-fm-slug.md",
        text: "---\nslug: My Custom Slug\n---\n",
        url: "/2023/01/09/My-Custom-Slug.html",
        id: "/2023/01/09/My Custom Slug",
        date: "2023-01-09T00:00:00+08:00",
        title: "Fm Slug",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "own permalink with placeholders",
        path: "_posts/2023-01-09-own.md",
        text: "---\npermalink: /custom/:year/my page.html\n---\n",
        url: "/custom/2023/my page.html",
        id: "/custom/2023/own",
        date: "2023-01-09T00:00:00+08:00",
        title: "Own",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "non-Markdown extension keeps its extension",
        path: "_posts/2023-01-11-text-post.txt",
        text: "raw text",
        url: "/2023/01/11/text-post.txt",
        id: "/2023/01/11/text-post",
        date: "2023-01-11T00:00:00+08:00",
        title: "Text Post",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "BOM and CRLF",
        path: "_posts/2023-01-12-crlf.md",
        text: "\u{feff}---\r\ntitle: Crlf\r\ntags: a b\r\n---\r\nBody\r\n",
        url: "/2023/01/12/crlf.html",
        id: "/2023/01/12/crlf",
        date: "2023-01-12T00:00:00+08:00",
        title: "Crlf",
        categories: &[],
        tags: &["a", "b"],
    },
    Row {
        rule: "duplicate keys: last wins; an offset date converts to the site zone",
        path: "_posts/2023-03-01-dup.md",
        text: "---\ntitle: one\ntitle: two\ndate: 2023-03-01 23:30:00 -0500\n---\n",
        url: "/2023/03/02/dup.html",
        id: "/2023/03/02/dup",
        date: "2023-03-02T12:30:00+08:00",
        title: "two",
        categories: &[],
        tags: &[],
    },
    Row {
        rule: "Unicode slug: :title pretty-slugified and encoded, id raw",
        path: "_posts/2024-05-06-A股午评.md",
        text: "---\ncategories: emnews\n---\n",
        url: "/emnews/2024/05/06/A%E8%82%A1%E5%8D%88%E8%AF%84.html",
        id: "/emnews/2024/05/06/A股午评",
        date: "2024-05-06T00:00:00+08:00",
        title: "A股午评",
        categories: &["emnews"],
        tags: &[],
    },
];

#[test]
fn jekyll_rules_table() {
    for row in ROWS {
        let post = parse(row.path, row.text);
        assert_eq!(post.url, row.url, "{}: url", row.rule);
        assert_eq!(post.id, row.id, "{}: id", row.rule);
        assert_eq!(post.date.to_rfc3339(), row.date, "{}: date", row.rule);
        assert_eq!(post.title, row.title, "{}: title", row.rule);
        assert_eq!(post.categories, row.categories, "{}: categories", row.rule);
        assert_eq!(post.tags, row.tags, "{}: tags", row.rule);
    }
}

#[test]
fn published_false_and_null_hide_a_post_but_the_string_does_not() {
    for (value, published) in [
        ("false", false),
        ("no", false),
        ("", false),
        ("\"false\"", true),
        ("true", true),
    ] {
        let post = parse(
            "_posts/2023-01-01-p.md",
            &format!("---\npublished: {value}\n---\n"),
        );
        assert_eq!(post.published, published, "published: {value}");
    }
    let post = parse(
        "_posts/2023-01-01-p.md",
        "---\ntitle: t\npublished: \"false\"\n---\n",
    );
    assert!(
        post.warnings
            .iter()
            .any(|w| w.line == 3 && w.message.contains("string")),
        "{:?}",
        post.warnings
    );
}

#[test]
fn not_posts_are_none() {
    assert!(
        Post::parse("_posts/-202205262391921712.md", "---\n---\n", &rules())
            .unwrap()
            .is_none()
    );
    assert!(Post::parse("about.md", "---\n---\n", &rules())
        .unwrap()
        .is_none());
}

#[test]
fn bad_posts_are_errors_with_path_and_line() {
    let cases = [
        ("---\ntitle: ok\ntags: [a, b\n---\nbody", 3, "YAML"),
        (
            "---\ntitle: ok\ndate: 2023-13-01 10:00\n---\n",
            3,
            "invalid date",
        ),
        ("---\ntitle: ok\ndate:  +0800\n---\n", 3, "invalid date"),
        ("---\ntitle: ok\n", 1, "closing"),
        ("---\n- a\n- b\n---\n", 2, "mapping"),
        ("---\nx: !ruby/object:Foo {}\n---\n", 2, "tag"),
    ];
    for (text, line, needle) in cases {
        let err = Post::parse("_posts/2023-01-01-bad.md", text, &rules()).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("_posts/2023-01-01-bad.md:{line}: ")),
            "{shown}"
        );
        assert!(shown.contains(needle), "{shown}");
    }
    let err = Post::parse("_posts/2023-13-45-bad.md", "x", &rules()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "_posts/2023-13-45-bad.md:1: invalid date 2023-13-45 00:00:00 in the file name"
    );
    let text = "---\ntitle: ok\npermalink: /:nope/\n---\n";
    let err = Post::parse("_posts/2023-01-01-bad.md", text, &rules()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "_posts/2023-01-01-bad.md:3: unknown permalink placeholder `:nope`"
    );
}

/// The typed errors are there for callers to match; their text is shown once.
#[test]
fn date_and_permalink_errors_are_typed() {
    use crate::post::date::DateError;
    use crate::url::PermalinkError;
    use std::error::Error;
    let text = "---\ndate: 2023-13-01 10:00\n---\n";
    let err = Post::parse("_posts/2023-01-01-bad.md", text, &rules()).unwrap_err();
    assert!(
        matches!(&err.kind, PostErrorKind::InvalidDate(DateError::NoSuchDay { text }) if text == "2023-13-01 10:00"),
        "{err:?}"
    );
    assert!(err.kind.source().is_none());
    let err = Post::parse("_posts/2023-13-45-bad.md", "x", &rules()).unwrap_err();
    assert!(
        matches!(
            err.kind,
            PostErrorKind::InvalidFileNameDate(DateError::OutOfRange { month: 13, .. })
        ),
        "{err:?}"
    );
    assert!(err.kind.source().is_none());
    let text = "---\npermalink: /:nope/\n---\n";
    let err = Post::parse("_posts/2023-01-01-bad.md", text, &rules()).unwrap_err();
    assert!(
        matches!(&err.kind, PostErrorKind::Permalink(PermalinkError::UnknownPlaceholder { name }) if name == "nope"),
        "{err:?}"
    );
    assert!(err.kind.source().is_none());
}

#[test]
fn parse_bytes_checks_utf8_then_parses() {
    let rel = "_posts/2023-01-01-x.md";
    let post = parse_bytes(rel, "---\ntitle: café\n---\n".as_bytes(), &rules())
        .unwrap()
        .unwrap();
    assert_eq!(post.title, "café");
    let err = parse_bytes(rel, b"---\ntitle: caf\xe9\n---\n", &rules()).unwrap_err();
    assert!(
        matches!(err.kind, PostErrorKind::InvalidUtf8(14)),
        "{err:?}"
    );
    assert_eq!(err.line, 2);
    assert_eq!(
        err.to_string(),
        "_posts/2023-01-01-x.md:2: invalid UTF-8 at byte 14; save the file as UTF-8"
    );
    assert_eq!(
        parse_bytes("about.md", b"---\n---\n", &rules()).unwrap(),
        None
    );
}

#[test]
fn traps_are_warned() {
    let post = parse("_posts/2021-12-08-x.md", "\n---\ntitle: t\n---\n");
    assert!(post
        .warnings
        .iter()
        .any(|w| w.line == 2 && w.message.contains("front matter ignored")));
    let post = parse(
        "_posts/2021-12-08-x.md",
        "---\ntitle: t\ndate: 2021-12-08 10:46:18\n---\n",
    );
    assert!(post
        .warnings
        .iter()
        .any(|w| w.line == 3 && w.message.contains("UTC")));
    let post = parse(
        "_posts/2021-12-08-x.md",
        "---\ndate: 2021-12-08 10:46:18 +0800\n---\n",
    );
    assert!(post.warnings.is_empty(), "{:?}", post.warnings);
}

#[test]
fn entry_categories_are_the_singular_category_when_set() {
    let post = parse("news/_posts/2023-01-01-x.md", "---\ncategory: Tech\n---\n");
    assert_eq!(post.categories, ["news", "Tech"]);
    assert_eq!(post.entry_categories, ["Tech"]);
}

#[test]
fn too_many_terms_is_an_error() {
    let tags: Vec<String> = (0..MAX_TERMS + 1).map(|i| format!("t{i}")).collect();
    let text = format!("---\ntags: {}\n---\n", tags.join(" "));
    assert!(Post::parse("_posts/2023-01-01-x.md", &text, &rules()).is_err());
}

#[test]
fn read_post_rejects_invalid_utf8_and_oversized_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("_posts")).unwrap();
    std::fs::write(
        dir.path().join("_posts/2023-01-01-latin1.md"),
        b"---\ntitle: caf\xe9\n---\n",
    )
    .unwrap();
    let err = read_post(dir.path(), "_posts/2023-01-01-latin1.md", &rules(), 1 << 20).unwrap_err();
    assert!(err.to_string().contains(":2: invalid UTF-8"), "{err}");
    std::fs::write(
        dir.path().join("_posts/2023-01-01-big.md"),
        vec![b'x'; 2048],
    )
    .unwrap();
    let err = read_post(dir.path(), "_posts/2023-01-01-big.md", &rules(), 1024).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the text, parsing returns a post or an error naming a line of the file.
        #[test]
        fn parse_never_panics_and_errors_name_a_real_line(
            body in "(---\n)?([a-z_]{1,8}: [^\n]{0,20}\n){0,6}(---\n)?[^\u{0}]{0,80}",
            raw in any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ) {
            for text in [&body, &raw] {
                match Post::parse("_posts/2023-01-01-x.md", text, &rules()) {
                    Ok(_) => {}
                    Err(e) => {
                        let lines = text.lines().count().max(1);
                        prop_assert!(e.line >= 1 && e.line <= lines + 1, "{} for {:?}", e, text);
                    }
                }
            }
        }
    }
}
