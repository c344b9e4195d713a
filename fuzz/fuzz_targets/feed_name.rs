//! Name → path segment: always one safe segment inside feeds/, and injective.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('\u{1f}').unwrap_or((text, ""));
    let (na, nb) = (feedd::names::FeedName::new(a), feedd::names::FeedName::new(b));
    let seg = na.segment();
    assert!(!seg.is_empty() && seg != "." && seg != ".." && !seg.starts_with('.'));
    assert!(!seg.contains(['/', '\\', '\0']));
    assert!(seg.len() <= feedd::names::MAX_SEGMENT_BYTES);
    if na != nb {
        assert_ne!(seg, nb.segment());
    }
});
