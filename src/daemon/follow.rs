//! Which folder the configured content dir is now. Deploy tools replace it whole: a
//! symlink retargeted (`ln -sfn r2 current.new && mv -T current.new current`) or a
//! folder renamed into its place (`mv content content.old && mv content.new content`).
//! A watch follows the folder it was put on, not the name, so the rebuild loop asks
//! again at every turn (a `canonicalize` and a `stat`, once a second when idle) and,
//! when the answer changed, watches the new folder and rescans it as one publish.

use std::path::{Path, PathBuf};

/// A folder, by its real path and its identity on disk (device, inode): a folder renamed
/// into the old one's place has the same path and another inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub path: PathBuf,
    id: (u64, u64),
}

impl Folder {
    /// What `configured` leads to now (`None`: nothing, or not a folder).
    pub fn resolve(configured: &Path) -> Option<Folder> {
        use std::os::unix::fs::MetadataExt;
        let path = std::fs::canonicalize(configured).ok()?;
        let meta = std::fs::metadata(&path).ok().filter(|m| m.is_dir())?;
        Some(Folder {
            path,
            id: (meta.dev(), meta.ino()),
        })
    }
}

#[cfg(test)]
impl Folder {
    /// A folder with a made-up identity, for the machine's tests.
    pub fn fake(path: &str, inode: u64) -> Folder {
        Folder {
            path: PathBuf::from(path),
            id: (1, inode),
        }
    }
}

/// What the loop does about the content dir this turn.
#[derive(Debug, PartialEq, Eq)]
pub enum Follow {
    /// Still the folder being watched.
    Same,
    /// Another folder now (or the first again after it was gone): watch it and rescan.
    Replaced(Folder),
    /// Nothing there (mid-swap, or removed): keep serving what was published.
    Gone,
}

/// Compares what the configured path leads to now with the folder being watched.
pub fn follow(watched: Option<&Folder>, now: Option<Folder>) -> Follow {
    match now {
        None => Follow::Gone,
        Some(now) if watched == Some(&now) => Follow::Same,
        Some(now) => Follow::Replaced(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retargeted_symlink_and_a_folder_renamed_into_place_are_replacements() {
        let dir = tempfile::tempdir().unwrap();
        let (r1, r2) = (dir.path().join("r1"), dir.path().join("r2"));
        std::fs::create_dir_all(&r1).unwrap();
        std::fs::create_dir_all(&r2).unwrap();
        let current = dir.path().join("current");
        std::os::unix::fs::symlink(&r1, &current).unwrap();
        let watched = Folder::resolve(&current).unwrap();
        assert_eq!(
            follow(Some(&watched), Folder::resolve(&current)),
            Follow::Same
        );
        // Retargeted the way deploy tools do it: a new link renamed over the old one.
        let next = dir.path().join("current.new");
        std::os::unix::fs::symlink(&r2, &next).unwrap();
        std::fs::rename(&next, &current).unwrap();
        let now = Folder::resolve(&current).unwrap();
        assert_eq!(now.path, std::fs::canonicalize(&r2).unwrap());
        assert_eq!(
            follow(Some(&watched), Some(now.clone())),
            Follow::Replaced(now)
        );
        // A folder renamed into the place of another: same path, another folder.
        let content = dir.path().join("content");
        std::fs::create_dir_all(&content).unwrap();
        let watched = Folder::resolve(&content).unwrap();
        std::fs::rename(&content, dir.path().join("content.old")).unwrap();
        assert_eq!(
            follow(Some(&watched), Folder::resolve(&content)),
            Follow::Gone
        );
        std::fs::rename(&r1, &content).unwrap();
        let now = Folder::resolve(&content).unwrap();
        assert_eq!(now.path, watched.path);
        assert_eq!(
            follow(Some(&watched), Some(now.clone())),
            Follow::Replaced(now)
        );
        // A file where the folder was is no content dir.
        std::fs::remove_dir_all(&content).unwrap();
        std::fs::write(&content, "x").unwrap();
        assert_eq!(
            follow(Some(&watched), Folder::resolve(&content)),
            Follow::Gone
        );
        assert!(matches!(
            follow(None, Folder::resolve(&r2)),
            Follow::Replaced(_)
        ));
    }
}
