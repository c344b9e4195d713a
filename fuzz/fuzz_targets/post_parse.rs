//! Front matter + post parsing: never panics; errors name a line of the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rules = feedd::post::PostRules {
        timezone: chrono_tz_utc(),
        permalink: "date".into(),
        excerpt_separator: "\n\n".into(),
        site_url: feedd::post::SiteUrl::new("https://fuzz.example", ""),
    };
    if let Err(e) = feedd::post::Post::parse("_posts/2023-01-01-fuzz.md", text, &rules) {
        assert!(e.line >= 1 && e.line <= text.lines().count() + 1);
    }
});

fn chrono_tz_utc() -> feedd::post::Tz {
    feedd::post::Tz::UTC
}
