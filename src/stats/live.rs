//! The server's side of counting: each poll of a feed file is recorded in the open day
//! (a mutex held for a hash and a map update), and a thread saves the day once a minute
//! (`[stats] save_seconds`) with the WebSub subscriptions of each topic, and closes it
//! after midnight in the site's time zone. At stop it saves once more: at most the last
//! minute is lost to a `kill -9`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use chrono_tz::Tz;
use hyper::header::{HeaderMap, HeaderValue, USER_AGENT};

use super::agent::{classify, Agent};
use super::day::{Day, Figure};
use super::store::{StatsError, Store};
use crate::config::Config;

/// What counting needs of a request, taken before the request is handed on (a
/// `HeaderValue` clone shares its bytes).
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub user_agent: Option<HeaderValue>,
    /// The last `X-Forwarded-For` header (the nearest proxy's).
    pub forwarded: Option<HeaderValue>,
}

impl Asked {
    pub fn of(headers: &HeaderMap) -> Asked {
        Asked {
            user_agent: headers.get(USER_AGENT).cloned(),
            forwarded: headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .cloned(),
        }
    }
}

/// A response that is a poll of a feed file (set by the handler on its 200s and 304s).
#[derive(Debug, Clone)]
pub struct Polled(pub String);

/// Where the pages' reader figures go (the daemon, which renders the pages again).
pub type OnReaders = Box<dyn Fn(super::report::PagesTable) + Send + Sync>;

pub struct Live {
    day: Mutex<Day>,
    /// The `/stats/` page as last rendered (each minute), when `[stats] public`.
    page: Mutex<Option<bytes::Bytes>>,
    /// What the page is rendered with (`None`: not public).
    public: Option<Box<Config>>,
    /// WebSub subscriptions per feed file, as last read (each minute).
    websub: Mutex<Vec<Figure>>,
    trusted: Vec<IpAddr>,
    /// Given the feeds' pages' figures at start and after each day closes (public only).
    on_readers: Option<OnReaders>,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Live {
    /// Opens the database, takes up today's counting where the last run left it (an
    /// older open day is closed first) and starts the saving thread.
    pub fn start(config: &Config, on_readers: Option<OnReaders>) -> Result<Arc<Live>, StatsError> {
        let (tz, every) = (config.rules.timezone, config.stats.save_every);
        let mut store = Store::open(&config.stats.database)?;
        let websub = config.websub.database.clone();
        let today = today(tz);
        let day = match store.open_day()? {
            Some(day) if day.date == today => day,
            Some(old) => {
                store.save(old.date, &figures(&old, &websub), None)?;
                Day::new(today)
            }
            None => Day::new(today),
        };
        let (stop, stopped) = mpsc::channel();
        let live = Arc::new(Live {
            day: Mutex::new(day),
            page: Mutex::new(None),
            public: config.stats.public.then(|| Box::new(config.clone())),
            websub: Mutex::new(websub_figures(&websub)),
            trusted: config.stats.trusted_proxies.clone(),
            on_readers: on_readers.filter(|_| config.stats.public),
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(None),
        });
        live.render_page();
        live.give_readers();
        let saver = live.clone();
        let thread = std::thread::Builder::new()
            .name("feedd-stats".into())
            .spawn(move || saver.save_loop(store, (tz, every), websub, stopped))
            .map_err(|source| StatsError::Io {
                path: config.stats.database.clone(),
                source,
            })?;
        *lock(&live.thread) = Some(thread);
        Ok(live)
    }

    /// Counts one poll of `file` from `peer`.
    pub fn record(&self, file: &str, peer: IpAddr, asked: &Asked) {
        let agent_text = (asked.user_agent.as_ref())
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let agent = classify(agent_text);
        if matches!(agent, Agent::Crawler | Agent::Ignored) {
            return;
        }
        let forwarded = asked.forwarded.as_ref().and_then(|v| v.to_str().ok());
        let client = client_address(peer, forwarded, &self.trusted);
        lock(&self.day).record(file, &agent, client, agent_text);
    }

    /// Saves the day one last time and stops the thread.
    pub fn stop(&self) {
        drop(lock(&self.stop).take());
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }

    fn save_loop(
        &self,
        mut store: Store,
        (tz, every): (Tz, std::time::Duration),
        websub: PathBuf,
        stopped: mpsc::Receiver<()>,
    ) {
        loop {
            let stopping = !matches!(
                stopped.recv_timeout(every),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            let today = today(tz);
            // The day's figures and state are taken under the lock; written outside it.
            let mut closed = false;
            let (date, mut figures, state) = {
                let mut day = lock(&self.day);
                if day.date == today {
                    (day.date, day.figures(), day.state())
                } else {
                    let old = std::mem::replace(&mut *day, Day::new(today));
                    closed = true;
                    (old.date, old.figures(), None)
                }
            };
            let subscribed = websub_figures(&websub);
            figures.extend(subscribed.iter().cloned());
            *lock(&self.websub) = subscribed;
            if let Err(e) = store.save(date, &figures, state.as_deref()) {
                tracing::warn!("saving reader counts: {e} (kept in memory, saved next minute)");
            }
            self.render_page();
            if closed {
                self.give_readers();
            }
            if stopping {
                return;
            }
        }
    }
}

impl Live {
    /// The `/stats/` page, when public and rendered.
    pub fn page(&self) -> Option<bytes::Bytes> {
        lock(&self.page).clone()
    }

    /// Gives the pages their readers: the last complete day and the chart's window.
    fn give_readers(&self) {
        let (Some(config), Some(give)) = (&self.public, &self.on_readers) else {
            return;
        };
        let today = today(config.rules.timezone);
        let first = today - chrono::Duration::days(crate::render::page::CHART_DAYS - 1);
        match super::store::read(&config.stats.database, first) {
            Ok(rows) => {
                let days = u32::try_from(crate::render::page::CHART_DAYS).unwrap_or(90);
                let report = super::report::report(&rows, today, days);
                give(super::report::pages_table(&report, first));
            }
            Err(e) => tracing::warn!("readers for the pages: {e}"),
        }
    }

    /// Renders the `/stats/` page from the saved figures (a read-only connection).
    fn render_page(&self) {
        let Some(config) = &self.public else {
            return;
        };
        let today = today(config.rules.timezone);
        let since = today - chrono::Duration::days(crate::render::page::CHART_DAYS);
        let mut rows = match super::store::read(&config.stats.database, since) {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!("the readers page: {e}");
                return;
            }
        };
        // Today as counted now, not as last saved.
        let (date, figures) = {
            let day = lock(&self.day);
            (day.date, day.figures())
        };
        rows.retain(|(d, f)| *d != date || f.source == "websub");
        rows.extend(figures.into_iter().map(|f| (date, f)));
        let days = u32::try_from(crate::render::page::CHART_DAYS).unwrap_or(90);
        let report = super::report::report(&rows, today, days);
        let shell = crate::render::page::Shell::new(config);
        let bytes = crate::render::page::readers_page(&shell, &report);
        *lock(&self.page) = Some(bytes::Bytes::from(bytes));
    }

    /// `/metrics` lines: today's readers so far per feed and source, for the feeds with
    /// the most readers and the rest summed as `other` (17,000 tags must not make
    /// 17,000 series).
    pub fn metrics(&self) -> String {
        let mut figures = lock(&self.day).figures();
        figures.extend(lock(&self.websub).iter().cloned());
        super::report::metrics(&figures, METRIC_FEEDS)
    }
}

/// Feeds shown by name in `/metrics`.
const METRIC_FEEDS: usize = 50;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Today in the site's time zone.
pub fn today(tz: Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// A closed day's figures with the WebSub subscriptions of now (the best known).
fn figures(day: &Day, websub: &std::path::Path) -> Vec<Figure> {
    let mut out = day.figures();
    out.extend(websub_figures(websub));
    out
}

/// Verified, unexpired WebSub subscriptions per feed file (custom query topics aside:
/// their feeds are not files).
pub fn websub_figures(database: &std::path::Path) -> Vec<Figure> {
    if !database.exists() {
        return Vec::new();
    }
    let Ok(loaded) = crate::websub::store::Store::read(database) else {
        return Vec::new();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut per_file = std::collections::BTreeMap::<String, u64>::new();
    for (_, sub) in &loaded.subs {
        if sub.expires > now && !sub.rel.is_empty() && !sub.rel.contains('?') {
            *per_file.entry(sub.rel.clone()).or_default() += 1;
        }
    }
    (per_file.into_iter())
        .map(|(file, readers)| Figure {
            file,
            source: "websub".into(),
            readers,
        })
        .collect()
}

/// The client: the peer, or behind a trusted proxy the nearest address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(peer: IpAddr, forwarded: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    match forwarded {
        Some(list) if trusted.contains(&peer) => (list.rsplit(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer),
        _ => peer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let headers = Some("203.0.113.5, 10.0.0.2");
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let inner: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(client_address(proxy, headers, &[]), proxy);
        assert_eq!(
            client_address(proxy, headers, &[proxy, inner]),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_address(proxy, headers, &[proxy]),
            inner,
            "an untrusted hop is the client"
        );
    }
}
