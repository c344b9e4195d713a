//! Deploys that replace the content dir whole, as capistrano-style tools and rsync
//! scripts do: a symlink retargeted, or a folder renamed into the old one's place. The
//! configured path is what feedd follows: the new folder is rescanned and published as
//! one change, later edits in it are seen, and removing the old release publishes
//! nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{copy_dir, eventually, parse_feed, titles_of, write_atomically, Daemon, Site};

fn site_feed_titles(d: &Daemon) -> Vec<String> {
    let body = common::identity_client()
        .get(d.url("/feed.xml"))
        .send()
        .and_then(|r| r.bytes())
        .expect("GET /feed.xml");
    titles_of(&parse_feed(&body))
}

/// A release: the fixture's posts, with one more post.
fn release(site: &Site, name: &str, title: &str) -> std::path::PathBuf {
    let dir = site.path(name);
    copy_dir(&site.path("content"), &dir);
    std::fs::write(
        dir.join("_posts/2024-06-01-deployed.md"),
        format!("---\ntitle: {title}\ncategories: [emnews]\n---\nbody\n"),
    )
    .expect("post");
    dir
}

fn replacements(d: &Daemon) -> usize {
    d.log().matches("the content dir is now").count()
}

#[test]
fn a_retargeted_symlink_is_followed_and_the_old_release_removed_publishes_nothing() {
    let site = Site::fixture("site", "content_dir = \"current\"\n");
    let r1 = release(&site, "releases/r1", "第一版");
    std::os::unix::fs::symlink(&r1, site.path("current")).expect("symlink");
    let d = Daemon::start(&site);
    assert!(site_feed_titles(&d).contains(&"第一版".to_string()));

    let r2 = release(&site, "releases/r2", "第二版");
    std::os::unix::fs::symlink(&r2, site.path("current.new")).expect("symlink");
    std::fs::rename(site.path("current.new"), site.path("current")).expect("mv -T");
    eventually("the new release served", || {
        site_feed_titles(&d)
            .contains(&"第二版".to_string())
            .then_some(())
    });
    assert!(!site_feed_titles(&d).contains(&"第一版".to_string()));
    assert_eq!(replacements(&d), 1, "one log line: {}", d.log());

    // The old release goes: nothing changes.
    let before = site_feed_titles(&d);
    std::fs::remove_dir_all(&r1).expect("rm -rf r1");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(site_feed_titles(&d), before, "removing r1 removed nothing");
    // Edits in the new release are seen.
    let post = r2.join("_posts/2024-06-01-deployed.md");
    write_atomically(
        &post,
        "---\ntitle: 第二版改\ncategories: [emnews]\n---\nbody\n",
    );
    eventually("an edit in the new release served", || {
        site_feed_titles(&d)
            .contains(&"第二版改".to_string())
            .then_some(())
    });
    // And the next swap, too.
    let r3 = release(&site, "releases/r3", "第三版");
    std::os::unix::fs::symlink(&r3, site.path("current.new")).expect("symlink");
    std::fs::rename(site.path("current.new"), site.path("current")).expect("mv -T");
    eventually("the third release served", || {
        site_feed_titles(&d)
            .contains(&"第三版".to_string())
            .then_some(())
    });
    assert_eq!(replacements(&d), 2, "{}", d.log());
}

#[test]
fn a_folder_renamed_into_place_is_followed() {
    let site = Site::fixture("site", "");
    let d = Daemon::start(&site);
    let next = release(&site, "content.new", "新目录");
    std::fs::rename(site.path("content"), site.path("content.old")).expect("mv");
    std::fs::rename(&next, site.path("content")).expect("mv");
    eventually("the new folder served", || {
        site_feed_titles(&d)
            .contains(&"新目录".to_string())
            .then_some(())
    });
    assert!(!d.log().contains("cannot watch"), "{}", d.log());
    // Edits in it are seen; the old one is gone from view.
    std::fs::remove_dir_all(site.path("content.old")).expect("rm");
    write_atomically(
        &site.path("content/_posts/2024-06-01-deployed.md"),
        "---\ntitle: 新目录改\ncategories: [emnews]\n---\nbody\n",
    );
    eventually("an edit in the new folder served", || {
        site_feed_titles(&d)
            .contains(&"新目录改".to_string())
            .then_some(())
    });
    // Gone for a while (mid-swap), then back: served all along, followed again after.
    std::fs::rename(site.path("content"), site.path("content.away")).expect("mv");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(site_feed_titles(&d).contains(&"新目录改".to_string()));
    std::fs::rename(site.path("content.away"), site.path("content")).expect("mv back");
    write_atomically(
        &site.path("content/_posts/2024-06-01-deployed.md"),
        "---\ntitle: 回来了\ncategories: [emnews]\n---\nbody\n",
    );
    eventually("an edit after it came back", || {
        site_feed_titles(&d)
            .contains(&"回来了".to_string())
            .then_some(())
    });
}
