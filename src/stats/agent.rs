//! Who polled a feed, from its User-Agent: an aggregator reporting how many of its users
//! follow the feed, a crawler, or a reader of one person (counted as distinct readers).
//! Pure: the header text in, a classification out.

/// What a request's User-Agent says about who polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agent {
    /// A service polling for its users, with the count it reports in the User-Agent
    /// (`Feedly/1.0 (…; 462 subscribers; )`) and, where it gives one, its own id of the
    /// feed (one service may follow one URL as several feeds: the counts add up).
    Aggregator {
        name: String,
        subscribers: u64,
        feed_id: Option<String>,
    },
    /// A search engine, archiver or monitor: not a reader.
    Crawler,
    /// A fetcher that is not polling the feed for anyone (NewsBlur's page fetcher).
    Ignored,
    /// One person's reader (newsboat, NetNewsWire, Miniflux, Thunderbird…): counted as a
    /// distinct (address, User-Agent) pair.
    Reader,
}

/// Services known by name, as they write it in the User-Agent (matched without case).
const SERVICES: [(&str, &str); 16] = [
    ("feedly", "Feedly"),
    ("inoreader", "Inoreader"),
    ("newsblur", "NewsBlur"),
    ("feedbin", "Feedbin"),
    ("theoldreader", "The Old Reader"),
    ("bazqux", "BazQux"),
    ("netvibes", "Netvibes"),
    ("digg", "Digg Reader"),
    ("superfeedr", "Superfeedr"),
    ("feedhq", "FeedHQ"),
    ("newsify", "Newsify"),
    ("g2reader", "G2Reader"),
    ("feed wrangler", "Feed Wrangler"),
    ("feedspot", "Feedspot"),
    ("feeder.co", "Feeder"),
    ("bloglovin", "Bloglovin"),
];

/// Crawlers and bots that are nobody's reader (those that report subscribers are
/// aggregators whatever their name).
const CRAWLERS: [&str; 14] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "archive.org",
    "ia_archiver",
    "headlesschrome",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "validator",
    "preview",
];

/// Classifies a User-Agent (empty when the request sent none).
pub fn classify(user_agent: &str) -> Agent {
    if user_agent.is_empty() {
        return Agent::Reader;
    }
    let lower = user_agent.to_ascii_lowercase();
    if lower.contains("newsblur page fetcher") {
        return Agent::Ignored;
    }
    if let Some(subscribers) = reported_count(&lower) {
        return Agent::Aggregator {
            name: service_name(user_agent, &lower),
            subscribers,
            feed_id: feed_id(&lower),
        };
    }
    if CRAWLERS.iter().any(|c| lower.contains(c)) {
        return Agent::Crawler;
    }
    Agent::Reader
}

/// `N subscribers`, `N readers` or `N users` (singular too), anywhere in the text.
fn reported_count(lower: &str) -> Option<u64> {
    let words = ["subscriber", "reader", "user"];
    let bytes = lower.as_bytes();
    let mut at = 0;
    while let Some(found) = lower[at..].find(|c: char| c.is_ascii_digit()) {
        let start = at + found;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        let rest = lower[end..].trim_start_matches([' ', '\t']);
        let after_space = rest.len() < lower.len() - end;
        if after_space && words.iter().any(|w| rest.starts_with(w)) {
            // Not the tail of a version (`Reader/2.0 5 users` has its digits after one).
            let before = lower[..start].chars().next_back();
            if before.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '.' && c != '/') {
                return lower[start..end].parse().ok();
            }
        }
        at = end;
    }
    None
}

/// The service's name: a known one, else the product token the User-Agent starts with
/// (or, for `Mozilla/5.0 (compatible; X; …)`, X).
fn service_name(user_agent: &str, lower: &str) -> String {
    if let Some((_, name)) = SERVICES.iter().find(|(key, _)| lower.contains(key)) {
        return name.to_string();
    }
    let product = match lower.find("(compatible;") {
        Some(at) => &user_agent[at + "(compatible;".len()..],
        None => user_agent,
    };
    let token = product
        .trim_start()
        .split(['/', ';', '(', ')', ' '])
        .next()
        .unwrap_or("");
    if token.is_empty() {
        "other".to_string()
    } else {
        token.chars().take(40).collect()
    }
}

/// `feed-id:1234`, `feed-id=…` or `feedID: 37218367`.
fn feed_id(lower: &str) -> Option<String> {
    for key in ["feed-id", "feedid"] {
        if let Some(at) = lower.find(key) {
            let rest = lower[at + key.len()..].trim_start_matches([':', '=', ' ']);
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .take(64)
                .collect();
            if !id.is_empty() {
                return Some(id);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregator(name: &str, subscribers: u64, feed_id: Option<&str>) -> Agent {
        Agent::Aggregator {
            name: name.to_string(),
            subscribers,
            feed_id: feed_id.map(str::to_string),
        }
    }

    /// The forms each service documents (or sends, as logged by publishers).
    #[test]
    fn aggregators_report_their_subscribers() {
        let rows = [
            ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )", aggregator("Feedly", 462, None)),
            ("Feedly/1.0 (poller; 131 subscribers;)", aggregator("Feedly", 131, None)),
            ("Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)", aggregator("Inoreader", 114, None)),
            ("NewsBlur Feed Fetcher - 12 subscribers - https://www.newsblur.com/site/6573960/example (Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/62.0.3202.94 Safari/537.36)", aggregator("NewsBlur", 12, None)),
            ("Feedbin feed-id:1234 - 5 subscribers", aggregator("Feedbin", 5, Some("1234"))),
            ("Mozilla/5.0 (compatible; theoldreader.com; 1 subscribers; feed-id=c6e1f8d2a7b94)", aggregator("The Old Reader", 1, Some("c6e1f8d2a7b94"))),
            ("Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 1 subscribers)", aggregator("BazQux", 1, None)),
            ("Netvibes (crawler/bot; http://www.netvibes.com; 7 subscribers; feedID: 37218367)", aggregator("Netvibes", 7, Some("37218367"))),
            ("Superfeedr bot/2.0 http://superfeedr.com - Make your feeds realtime: get in touch - feed-id:46271263 - 3 subscribers", aggregator("Superfeedr", 3, Some("46271263"))),
            ("Newsify Feed Fetcher (+http://newsify.com; 3 readers)", aggregator("Newsify", 3, None)),
            ("SomeReader/3.1 (+https://somereader.example; 1 user)", aggregator("SomeReader", 1, None)),
            ("Mozilla/5.0 (compatible; Tinyfeed/1.2; 42 users)", aggregator("Tinyfeed", 42, None)),
        ];
        for (ua, want) in rows {
            assert_eq!(classify(ua), want, "{ua}");
        }
    }

    #[test]
    fn readers_crawlers_and_page_fetchers() {
        let readers = [
            "newsboat/2.30.1 (Linux x86_64)",
            "NetNewsWire (RSS Reader; https://netnewswire.com/)",
            "Mozilla/5.0 (compatible; Miniflux/2.0.51; +https://miniflux.app)",
            "FreshRSS/1.23.1 (Linux; https://freshrss.org)",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.0",
            "Tiny Tiny RSS/23.05 (https://tt-rss.org/)",
            "python-requests/2.31.0",
            "",
            "Reader/2.0 5.1 users", // a version, not a count
        ];
        for ua in readers {
            assert_eq!(classify(ua), Agent::Reader, "{ua}");
        }
        let crawlers = [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; archive.org_bot +http://archive.org/details/archive.org_bot)",
        ];
        for ua in crawlers {
            assert_eq!(classify(ua), Agent::Crawler, "{ua}");
        }
        assert_eq!(
            classify("NewsBlur Page Fetcher - 12 subscribers - https://www.newsblur.com/site/1/x"),
            Agent::Ignored
        );
    }
}
