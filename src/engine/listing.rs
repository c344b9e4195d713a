//! Each feed's lines in the lists: its row of the pages' tables and its OPML outline,
//! rendered once and kept while the feed's info is the same `Arc` (the engine makes a
//! new one only for a feed it renders again). The index, the lists and the OPML are made
//! again for most changes (every new post changes counts and dates; a new tag adds a
//! feed), and at 2,000 feeds rendering every line again was a third of a change's CPU.

use std::collections::HashMap;
use std::sync::Arc;

use crate::layout::{FeedKey, Format};
use crate::render::page::{self, Listed};
use crate::render::site::{opml_line, FeedInfo};

struct Lines {
    info: Arc<FeedInfo>,
    /// The row, when pages are on.
    row: Box<str>,
    outline: Box<str>,
}

#[derive(Default)]
pub(super) struct Listing {
    lines: HashMap<FeedKey, Lines>,
}

impl Listing {
    /// Brings the lines up to date with `infos`: renders those of new or changed infos
    /// and forgets those of feeds that are gone.
    pub fn update(
        &mut self,
        infos: &imbl::OrdMap<FeedKey, Arc<FeedInfo>>,
        shell: Option<&page::Shell<'_>>,
        formats: &[Format],
    ) {
        self.lines.retain(|key, _| infos.contains_key(key));
        for (key, info) in infos {
            let fresh = (self.lines.get(key)).is_some_and(|l| Arc::ptr_eq(&l.info, info));
            if fresh {
                continue;
            }
            let row = shell.map_or_else(String::new, |shell| page::row(shell, info));
            let lines = Lines {
                info: info.clone(),
                row: row.into(),
                outline: opml_line(info, formats).into(),
            };
            self.lines.insert(key.clone(), lines);
        }
    }

    /// Every feed with its row, sorted for the pages.
    pub fn listed(&self) -> Listed<'_> {
        Listed::new(self.lines.values().map(|l| (&*l.info, &*l.row)))
    }

    /// Every feed with its outline, in the order of the feeds' keys.
    pub fn outlines<'a>(
        &'a self,
        infos: &'a imbl::OrdMap<FeedKey, Arc<FeedInfo>>,
    ) -> impl Iterator<Item = (&'a FeedInfo, &'a str)> + 'a {
        (infos.iter()).filter_map(|(key, info)| Some((&**info, &*self.lines.get(key)?.outline)))
    }
}
