//! Hostile posts: each kind of bad input is reported with path:line, nothing crashes or
//! hangs, every feed stays valid (parsed by feed-rs), and every good post is published.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{parse_feed, tree, Site};

fn write(site: &Site, rel: &str, bytes: &[u8]) {
    let path = site.path(&format!("content/{rel}"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn hostile_site() -> Site {
    let site = Site::fixture("site", "max_post_bytes = 16777216\n");
    let fm = |body: &str| format!("---\n{body}\n---\nbody\n");
    // YAML bombs.
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 0..9u8 {
        let (p, n) = ((b'a' + i) as char, (b'b' + i) as char);
        laughs.push_str(&format!(
            "{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        ));
    }
    write(
        &site,
        "_posts/2024-02-01-billion-laughs.md",
        fm(&laughs).as_bytes(),
    );
    write(
        &site,
        "_posts/2024-02-01-deep.md",
        fm(&format!("x: {}{}", "[".repeat(10_000), "]".repeat(10_000))).as_bytes(),
    );
    let anchors: String = (0..2000)
        .map(|i| format!("k{i}: &x{i} {}\n", "v".repeat(50)))
        .collect();
    write(
        &site,
        "_posts/2024-02-01-huge-anchors.md",
        fm(&anchors).as_bytes(),
    );
    // Sizes: over the limit, and one 10 MB line under it.
    write(
        &site,
        "_posts/2024-02-01-too-big.md",
        &vec![b'x'; 17 * 1024 * 1024],
    );
    // A 100 MB post (sparse: instant to make, refused from its size before any read).
    let huge = std::fs::File::create(site.path("content/_posts/2024-02-01-hundred-mb.md")).unwrap();
    huge.set_len(100 * 1024 * 1024).unwrap();
    let mut long =
        fm("title: One long line\ndate: 2024-02-02 10:00:00 +0800\ntags: long").into_bytes();
    long.extend(std::iter::repeat_n(b'y', 10 * 1024 * 1024));
    write(&site, "_posts/2024-02-02-long-line.md", &long);
    // Encodings and characters.
    write(
        &site,
        "_posts/2024-02-01-latin1.md",
        b"---\ntitle: caf\xe9\n---\nbody\n",
    );
    write(
        &site,
        "_posts/2024-02-03-controls.md",
        "---\ntitle: \"NUL\\0 and \\x07 bell ]]> </content> <script>x</script> <![CDATA[ y ]]>\"\ndate: 2024-02-03 10:00:00 +0800\ntags: controls\n---\nBody \u{0} with NUL, \u{1b} escape, ]]> and </content> and <script>alert(1)</script>.\n".as_bytes(),
    );
    write(
        &site,
        "_posts/2024-02-04-dup-keys.md",
        fm("title: first\ntitle: second\ndate: 2024-02-04 10:00:00 +0800\ntags: dup").as_bytes(),
    );
    // Dates.
    write(
        &site,
        "_posts/2024-02-01-bad-month.md",
        fm("date: 2022-13-45").as_bytes(),
    );
    write(
        &site,
        "_posts/2024-02-01-far-year.md",
        fm("date: 99999-01-01 10:00:00").as_bytes(),
    );
    // Names.
    write(
        &site,
        "_posts/2024-02-05-names.md",
        fm("title: Names\ndate: 2024-02-05 10:00:00 +0800\ntags: [\"..\", \"/etc/passwd\", \"%2e%2e\", CON, \"\", \"a/../../b\"]").as_bytes(),
    );
    let many: Vec<String> = (0..10_000).map(|i| format!("t{i}")).collect();
    write(
        &site,
        "_posts/2024-02-01-ten-thousand-tags.md",
        fm(&format!("tags: {}", many.join(" "))).as_bytes(),
    );
    // Special files.
    let posts = site.path("content/_posts");
    std::os::unix::fs::symlink(&posts, posts.join("loop")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", posts.join("2024-02-01-outside.md")).unwrap();
    let fifo = posts.join("2024-02-01-fifo.md");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    site
}

#[test]
fn hostile_posts_are_reported_and_every_feed_stays_valid() {
    let site = hostile_site();
    let started = std::time::Instant::now();
    let out = site.feedd(&["build"]);
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    for (file, needle) in [
        ("2024-02-01-billion-laughs.md", "alias bomb"),
        ("2024-02-01-deep.md", "front matter"),
        ("2024-02-01-too-big.md", "limit"),
        ("2024-02-01-hundred-mb.md", "limit"),
        ("2024-02-01-latin1.md", "invalid UTF-8"),
        ("2024-02-01-bad-month.md", "invalid date"),
        ("2024-02-01-far-year.md", "invalid date"),
        ("2024-02-01-ten-thousand-tags.md", "limit of 1000"),
    ] {
        let line = summary
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} not reported: {summary}"));
        assert!(
            line.contains(needle) && line.contains(&format!("_posts/{file}:")),
            "{line}"
        );
    }
    // Nothing hangs on the FIFO or loops on the symlink loop.
    assert!(elapsed < std::time::Duration::from_secs(60), "{elapsed:?}");
    let files = tree(&site.path("feeds"));
    // The outside symlink is not read.
    assert!(!files
        .values()
        .any(|b| String::from_utf8_lossy(b).contains("root:x:0:0")));
    // Every feed parses; good posts, including the hostile-but-valid ones, are in.
    let mut titles = Vec::new();
    for (rel, bytes) in &files {
        if rel.ends_with(".html") {
            // Pages show hostile titles and summaries as text, never as markup, and
            // without control characters.
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("<script>"), "{rel}");
            assert!(!text.contains('\u{0}') && !text.contains('\u{1b}'), "{rel}");
            continue;
        }
        if rel.ends_with("feeds.opml") || rel.ends_with(".css") || rel.ends_with(".js") {
            continue;
        }
        let feed = parse_feed(bytes);
        if rel == "feed.xml" {
            titles = common::titles_of(&feed);
        }
        if rel.ends_with(".xml") {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains('\u{0}') && !text.contains('\u{1b}') && !text.contains('\u{7}'),
                "{rel}"
            );
        }
    }
    assert!(titles.iter().any(|t| t == "One long line"), "{titles:?}");
    assert!(titles.iter().any(|t| t == "second"), "{titles:?}");
    assert!(
        titles.iter().any(|t| t.starts_with("NUL and")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t == "银行普及金融知识 守护群众钱袋子"),
        "{titles:?}"
    );
    // Hostile names stay inside feeds/.
    for rel in files.keys() {
        assert!(
            !rel.split('/').any(|seg| seg == ".." || seg.is_empty()),
            "{rel}"
        );
    }
    assert!(
        files.contains_key("tags/．．/feed.xml")
            && files.contains_key("tags/a／..／..／b/feed.xml"),
        "{:?}",
        files
            .keys()
            .filter(|k| k.starts_with("tags/"))
            .collect::<Vec<_>>()
    );
}

/// Every name feedd gives a file under `dir`, and its top-level folders (the feeds'
/// folders are the names of terms, not feedd's own).
fn names_under(dir: &std::path::Path, top: bool, out: &mut std::collections::BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            if top {
                out.insert(name);
            }
            names_under(&entry.path(), false, out);
        } else {
            out.insert(name);
        }
    }
}

/// Display titles of every feed of a kind, read back with feed-rs.
fn titles_in(site: &Site, kind: &str) -> Vec<String> {
    let mut titles = Vec::new();
    for entry in std::fs::read_dir(site.path(&format!("feeds/{kind}"))).unwrap() {
        let feed = entry.unwrap().path().join("feed.xml");
        if feed.is_file() {
            let parsed = parse_feed(&std::fs::read(&feed).unwrap());
            titles.push(parsed.title.map(|t| t.content).unwrap_or_default());
        }
    }
    titles
}

/// A category or tag may be called like any file feedd writes (pages, their copies,
/// feeds, OPML, the manifest, temp files): the build still succeeds, each such name gets
/// its own feed, and feedd's own files stay what they are.
#[test]
fn names_equal_to_feedds_own_file_names_get_their_own_feeds() {
    let site = Site::fixture(
        "site",
        "[[custom]]\nname = \"mine\"\nquery = \"tag=alpha\"\n",
    );
    site.build();
    let mut names = std::collections::BTreeSet::new();
    names_under(&site.path("feeds"), true, &mut names);
    for extra in [".feedd-tmp-1-index.html", "index.html.br", "feeds.opml.zst"] {
        names.insert(extra.to_string());
    }
    assert!(names.contains("index.html.gz") && names.contains(".feedd-manifest"));
    // Folder names hold no `"` or `\` (they are spelled full-width), so YAML quoting is
    // plain.
    assert!(!names.iter().any(|n| n.contains(['"', '\\'])));
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let list = list.join(", ");
    write(
        &site,
        "_posts/2024-03-01-own-names.md",
        format!(
            "---\ntitle: Own names\ndate: 2024-03-01 10:00:00 +0800\ncategories: [{list}]\ntags: [{list}]\n---\nbody\n"
        )
        .as_bytes(),
    );
    site.build();
    for page in ["tags/index.html", "categories/index.html", "index.html"] {
        assert!(site.path(&format!("feeds/{page}")).is_file(), "{page}");
        assert!(
            site.path(&format!("feeds/{page}.gz")).is_file(),
            "{page}.gz"
        );
    }
    for kind in ["tags", "categories"] {
        let titles = titles_in(&site, kind);
        for name in &names {
            assert!(
                titles.iter().any(|t| t.ends_with(&format!(" | {name}"))),
                "{kind}: no feed titled {name:?} in {titles:?}"
            );
        }
    }
    // And `serve` restarts warm from that build: its manifest was written.
    assert!(site.path("feeds/.feedd-manifest").is_file());
}
