//! Where a feed's history is cut into RFC 5005 archive documents. Pure: the same posts
//! give the same pages, whatever order they came in (a fresh build and years of
//! incremental changes agree).
//!
//! The cut is content-defined: a page starts at every post whose source path hashes to
//! a multiple of `size` (one post in `size`, so pages hold `size` posts on average), and
//! the posts before the first such post form the `start` page. A page is named after the
//! post it starts at (its date and hash), so adding, editing or deleting a post changes
//! the page it is in and no other, wherever in the history it lands: a back-dated post
//! does not shift every later page, as pages counted from the oldest post would, and a
//! busy month still gives small pages, as monthly pages would not. The exceptions: a
//! post that itself starts a page splits or merges one, and its neighbours' links
//! follow; and a run without such a post is cut every `4 × size` posts, so no page is
//! large, and a post added to or removed from such a long run (rare: about 2% of runs
//! at the default size) shifts the later cuts of that run.
//!
//! What is archived is every post of the feed but the newest `limit` (those are in the
//! subscription document): a new post moves one post into the newest page.

use chrono::{DateTime, FixedOffset};

/// The name of the page before the first post that starts one.
pub const START: &str = "start";

/// The folder that holds a feed's archive documents, inside the feed's folder.
pub const FOLDER: &str = "archive";

/// One archive document: its name (a folder) and its posts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    pub name: String,
    pub posts: Vec<&'a str>,
    /// A print of its posts (of their hashes, made once for the cut).
    pub print: u64,
}

/// The hash a post's place in the cut comes from: of its source path, which is fixed for
/// the post's life (a fixed hash, so every build and version of feedd cuts alike).
fn hash(source: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(source.as_bytes())
}

fn name(source: &str, date: &DateTime<FixedOffset>) -> String {
    format!("{}-{:08x}", date.format("%Y%m%d"), hash(source) >> 32)
}

/// Cuts `posts` (oldest first, with their dates) into pages of about `size`.
/// `resumed`: `posts` start where a page of an earlier cut started (the cut is made
/// again from there), so the first post starts a page whatever its hash.
pub fn cut<'a>(
    posts: impl IntoIterator<Item = (&'a str, DateTime<FixedOffset>)>,
    size: usize,
    resumed: bool,
) -> Vec<Page<'a>> {
    let size = size.max(1) as u64;
    let most = 4 * size as usize;
    let mut pages: Vec<Page<'a>> = Vec::new();
    for (source, date) in posts {
        let h = hash(source);
        let starts = h % size == 0;
        let full = pages.last().is_some_and(|p| p.posts.len() >= most);
        if pages.is_empty() || starts || full {
            let name = match pages.is_empty() && !starts && !resumed {
                true => START.to_string(),
                false => name(source, &date),
            };
            pages.push(Page {
                name,
                posts: Vec::new(),
                print: 0,
            });
        }
        if let Some(page) = pages.last_mut() {
            page.posts.push(source);
            page.print = (page.print.rotate_left(5) ^ h).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    pages
}

/// Whether a folder name is one `cut` gives (what a request may ask for).
pub fn is_page_name(name: &str) -> bool {
    let b = name.as_bytes();
    name == START
        || (b.len() == 17
            && b[8] == b'-'
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[9..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(day: u32) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2024-01-{:02}T00:00:00+08:00", day % 28 + 1))
            .unwrap()
    }

    fn sources(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("_posts/2024-01-01-p{i}.md"))
            .collect()
    }

    fn pages_of(all: &[String], size: usize) -> Vec<Page<'_>> {
        cut(
            all.iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), date(i as u32))),
            size,
            false,
        )
    }

    #[test]
    fn pages_hold_every_post_once_in_order_and_are_bounded() {
        let all = sources(5000);
        let pages = pages_of(&all, 50);
        let flat: Vec<&str> = pages.iter().flat_map(|p| p.posts.iter().copied()).collect();
        assert_eq!(flat, all.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(pages
            .iter()
            .all(|p| !p.posts.is_empty() && p.posts.len() <= 200));
        let mean = all.len() / pages.len();
        assert!((25..=100).contains(&mean), "{mean} posts a page");
        assert!(pages.iter().all(|p| is_page_name(&p.name)), "{pages:?}");
        let mut names: Vec<&str> = pages.iter().map(|p| p.name.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), pages.len());
        assert!(!is_page_name("20240101-0000000g") && !is_page_name("../x"));
    }

    proptest! {
        /// Removing a post that starts no page changes the page it was in and no other.
        #[test]
        fn a_post_changes_only_its_own_page(n in 1usize..400, pick in any::<prop::sample::Index>()) {
            let all = sources(n);
            let gone = pick.index(n);
            prop_assume!(hash(&all[gone]) % 8 != 0);
            let before = pages_of(&all, 8);
            let mut rest = all.clone();
            rest.remove(gone);
            let after = cut(
                rest.iter().map(|s| {
                    let i = all.iter().position(|a| a == s).unwrap();
                    (s.as_str(), date(i as u32))
                }),
                8,
                false,
            );
            let differ = before.iter().filter(|p| !after.iter().any(|a| a.posts == p.posts)).count();
            let forced = before.iter().any(|p| p.posts.len() >= 32);
            prop_assert!(differ <= 1 || forced, "{differ} pages changed");
        }
    }
}
