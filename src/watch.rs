//! File-system events: notify's many event kinds mapped onto the few we act on, and the
//! watcher set-up (the content dir recursively, plus its parent so that a replaced
//! content dir is noticed).

use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};

/// What an event means for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsChange {
    /// Something at this path changed. `complete` when the writer is done (closed after
    /// writing, renamed into place, removed); otherwise more writes may follow.
    Touched { path: PathBuf, complete: bool },
    /// Events were lost (queue overflow) or the content dir itself changed: rescan all.
    Rescan,
}

/// Maps one notify event. Access events other than close-after-write and metadata-only
/// changes are ignored.
pub fn classify(event: &Event) -> Vec<FsChange> {
    if event.need_rescan() {
        return vec![FsChange::Rescan];
    }
    let touched = |path: &PathBuf, complete: bool| FsChange::Touched {
        path: path.clone(),
        complete,
    };
    match &event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
            event.paths.iter().map(|p| touched(p, true)).collect()
        }
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => Vec::new(),
        EventKind::Create(CreateKind::Folder) | EventKind::Remove(_) => {
            event.paths.iter().map(|p| touched(p, true)).collect()
        }
        EventKind::Modify(ModifyKind::Name(
            RenameMode::From | RenameMode::To | RenameMode::Both | RenameMode::Any,
        )) => event.paths.iter().map(|p| touched(p, true)).collect(),
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any | EventKind::Other => {
            event.paths.iter().map(|p| touched(p, false)).collect()
        }
    }
}

/// Watches `root` recursively and its parent (not recursively); events go to `sink`.
pub fn watch(
    root: &Path,
    sink: impl Fn(notify::Result<Event>) + Send + 'static,
) -> notify::Result<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(sink)?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Best effort: without it a replaced content dir is noticed only by a rescan.
        let _ = watcher.watch(parent, RecursiveMode::NonRecursive);
    }
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{DataChange, MetadataKind, RemoveKind};

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        let mut e = Event::new(kind);
        for p in paths {
            e = e.add_path(PathBuf::from(p));
        }
        e
    }

    #[test]
    fn event_kinds_table() {
        let t = |p: &str, complete| FsChange::Touched {
            path: PathBuf::from(p),
            complete,
        };
        let rows = vec![
            (
                event(EventKind::Create(CreateKind::File), &["/c/_posts/a.md"]),
                vec![t("/c/_posts/a.md", false)],
            ),
            (
                event(EventKind::Create(CreateKind::Folder), &["/c/news"]),
                vec![t("/c/news", true)],
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                    &["/c/a.md"],
                ),
                vec![t("/c/a.md", false)],
            ),
            (
                event(
                    EventKind::Access(AccessKind::Close(AccessMode::Write)),
                    &["/c/a.md"],
                ),
                vec![t("/c/a.md", true)],
            ),
            (
                event(
                    EventKind::Access(AccessKind::Close(AccessMode::Read)),
                    &["/c/a.md"],
                ),
                vec![],
            ),
            (
                event(
                    EventKind::Access(AccessKind::Open(AccessMode::Any)),
                    &["/c/a.md"],
                ),
                vec![],
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
                    &["/c/a.md"],
                ),
                vec![],
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                    &["/c/b.md"],
                ),
                vec![t("/c/b.md", true)],
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                    &["/c/a.md"],
                ),
                vec![t("/c/a.md", true)],
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                    &["/c/a.md", "/c/b.md"],
                ),
                vec![t("/c/a.md", true), t("/c/b.md", true)],
            ),
            (
                event(EventKind::Remove(RemoveKind::File), &["/c/a.md"]),
                vec![t("/c/a.md", true)],
            ),
            (
                event(EventKind::Remove(RemoveKind::Folder), &["/c/news"]),
                vec![t("/c/news", true)],
            ),
            (
                event(EventKind::Any, &["/c/a.md"]),
                vec![t("/c/a.md", false)],
            ),
            (
                event(EventKind::Other, &[]).set_flag(notify::event::Flag::Rescan),
                vec![FsChange::Rescan],
            ),
        ];
        for (e, want) in rows {
            assert_eq!(classify(&e), want, "{e:?}");
        }
    }
}
