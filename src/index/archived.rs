//! What a feed's archive documents hold (`crate::archive`): its posts beyond the newest
//! `limit`, oldest first, all of them or from a given post on (a cut made again from
//! there reads only those).

use chrono::{DateTime, FixedOffset};

use super::{filter, FeedKey, Index, Member, Members};
use crate::config::Config;

impl Index {
    /// The posts of one feed beyond its newest `limit`, oldest first, with their dates.
    /// Empty if the feed does not exist.
    pub fn archived<'a>(
        &'a self,
        key: &FeedKey,
        config: &'a Config,
    ) -> Vec<(&'a str, DateTime<FixedOffset>)> {
        let limit = self.limit(key, config);
        let mut out: Vec<(&'a str, DateTime<FixedOffset>)> =
            match (key, self.members_of(key, config)) {
                (FeedKey::Custom(name), _) => {
                    let Some(custom) = config.custom.get(name) else {
                        return Vec::new();
                    };
                    (self.select(&FeedKey::Site, &custom.query).skip(limit))
                        .filter_map(|s| Some((&**s, self.posts.get(s)?.date)))
                        .collect()
                }
                (_, Some(members)) => (members.iter().skip(limit))
                    .map(|(d, s)| (&**s, d.0))
                    .collect(),
                (_, None) => Vec::new(),
            };
        out.reverse();
        out
    }

    /// The posts of `archived` from `from` (a member of it) on, oldest first. Not for
    /// custom feeds (empty).
    pub fn archived_from<'a>(
        &'a self,
        key: &FeedKey,
        config: &'a Config,
        from: &Member,
    ) -> Vec<(&'a str, DateTime<FixedOffset>)> {
        let Some(members) = self.members_of(key, config) else {
            return Vec::new();
        };
        let limit = self.limit(key, config);
        let mut out: Vec<(&'a str, DateTime<FixedOffset>)> = (members.range(..=from.clone()))
            .skip(limit)
            .map(|(d, s)| (&**s, d.0))
            .collect();
        out.reverse();
        out
    }

    /// A feed's newest archived post (after its newest `limit`); `None` for custom feeds.
    pub fn newest_archived(&self, key: &FeedKey, config: &Config) -> Option<Member> {
        let members = self.members_of(key, config)?;
        members.iter().nth(self.limit(key, config)).cloned()
    }

    /// The member set of the site's feed or a wanted category's or tag's.
    fn members_of(&self, key: &FeedKey, config: &Config) -> Option<&Members> {
        match key {
            FeedKey::Site => Some(&self.site),
            FeedKey::Custom(_) => None,
            other => {
                let wanted = filter(config, other).is_some_and(|(f, name)| f.wants(name));
                self.terms.get(other).filter(|_| wanted).map(|t| &t.members)
            }
        }
    }
}
