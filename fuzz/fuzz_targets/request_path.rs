//! Request path parsing: any path routes to a known file, a redirect to a folder that
//! has a page, or nowhere.
#![no_main]

use std::sync::Arc;

use feedd::route::{route, Route};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let mut snapshot = feedd::snapshot::Snapshot::default();
    for rel in ["tags/a/feed.xml", "tags/a/index.html", "index.html"] {
        let file = feedd::snapshot::FeedFile::new(bytes::Bytes::from_static(b"x"), "text/plain", std::time::SystemTime::UNIX_EPOCH);
        snapshot.files.insert(rel.to_string(), Arc::new(file));
    }
    match route(path, &snapshot, "/blog") {
        Route::File { rel, page } => {
            assert!(snapshot.files.contains_key(&rel));
            assert!(page.is_none_or(|p| snapshot.files.contains_key(&p)));
        }
        Route::Redirect(to) => assert!(to.starts_with('/') && !to.starts_with("//") && to.ends_with('/')),
        _ => {}
    }
});
