//! Request path parsing: any path routes to a known file or nowhere.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let mut snapshot = feedd::snapshot::Snapshot::default();
    let file = feedd::snapshot::FeedFile::new(bytes::Bytes::from_static(b"x"), "text/plain", std::time::SystemTime::UNIX_EPOCH);
    snapshot.files.insert("tags/a/feed.xml".to_string(), Arc::new(file));
    if let feedd::serve::handler::Route::File(rel) = feedd::serve::handler::route(path, &snapshot, "/blog") {
        assert!(snapshot.files.contains_key(&rel));
    }
});
