//! The HTTP side of a configuration: cache headers, base path, timeouts and the sizes
//! of the server's caches, built once per configuration. Data only: the caches and the
//! download limiter themselves are the server's (`caches`).

use hyper::header::HeaderValue;

/// The HTTP side of a configuration, with header values precomputed. It lives in the
/// snapshot, so a reload swaps it together with the feeds it was built with.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub cache_control: HeaderValue,
    /// Path prefix the feeds are also served under (the site's `baseurl`), e.g. `/blog`.
    pub baseurl: String,
    pub header_timeout: std::time::Duration,
    /// Silence allowed between keep-alive requests.
    pub idle_timeout: std::time::Duration,
    pub shutdown_timeout: std::time::Duration,
    /// Full (200) feed downloads per client and minute (0: no limit).
    pub downloads_per_minute: u32,
    /// Budget of the hot-body cache, bytes.
    pub body_cache_bytes: u64,
    /// Budget of the custom feeds' cache, bytes (`None`: `[query] enabled = false`).
    pub query_cache_bytes: Option<usize>,
    /// The `rel="hub"` part of a feed's `Link` header (`None`: no hub advertised).
    hub_links: Option<String>,
    /// The same for custom feeds asked for in a URL: the built-in hub only.
    own_hub_link: Option<String>,
    site_url: crate::url::SiteUrl,
    /// The site's scheme and host (`https://example.com`), normalised: what a topic URL
    /// starts with.
    origin: String,
    /// The built-in hub's path (with baseurl), when it is on. Like the feeds, it also
    /// answers without the baseurl (`is_hub_path`), for a proxy that strips it.
    pub hub_path: Option<String>,
}

impl HttpSettings {
    /// From the `[serve]`, `[site]`, `[websub]` and `[query]` settings.
    pub fn new(config: &crate::config::Config) -> HttpSettings {
        let (site, websub) = (&config.site, &config.websub);
        let mut settings = HttpSettings::build(&config.serve, &site.url, &site.baseurl, websub);
        settings.query_cache_bytes = (config.query.enabled).then_some(config.query.cache_bytes);
        settings
    }

    fn build(
        serve: &crate::config::Serve,
        url: &str,
        baseurl: &str,
        websub: &crate::config::WebSub,
    ) -> HttpSettings {
        let site_url = crate::url::SiteUrl::new(url, baseurl);
        let hubs = websub.advertised(&site_url);
        let own_hub_link = websub.own(&site_url).map(|h| format!("<{h}>; rel=\"hub\""));
        let has_origin = site_url.has_origin();
        let hub_links = (!hubs.is_empty()).then(|| {
            let links: Vec<String> = hubs.iter().map(|h| format!("<{h}>; rel=\"hub\"")).collect();
            links.join(", ")
        });
        let value = format!(
            "public, max-age={}, stale-while-revalidate={}",
            serve.max_age, serve.stale_while_revalidate
        );
        let origin = crate::url::normalize(&format!("{}/", url.trim_end_matches('/')));
        HttpSettings {
            downloads_per_minute: serve.full_downloads_per_minute,
            body_cache_bytes: serve.body_cache_mib.saturating_mul(1 << 20),
            query_cache_bytes: None,
            origin: origin.trim_end_matches('/').to_string(),
            hub_links,
            own_hub_link,
            site_url,
            // Only with an absolute URL to advertise (see `WebSub::advertised`); under the
            // normalised base path, as feeds are.
            hub_path: (websub.hub && (websub.hub_url.is_some() || has_origin))
                .then(|| crate::url::under_base(baseurl, crate::config::HUB_PATH)),
            cache_control: HeaderValue::from_str(&value)
                .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=300")),
            baseurl: baseurl.trim_end_matches('/').to_string(),
            header_timeout: serve.header_timeout,
            idle_timeout: serve.idle_timeout,
            shutdown_timeout: serve.shutdown_timeout,
        }
    }
}

impl Default for HttpSettings {
    /// No hub, no base path, the default `[serve]` settings (an empty snapshot's).
    fn default() -> HttpSettings {
        let websub = crate::config::WebSub {
            hub: false,
            ..Default::default()
        };
        HttpSettings::build(&Default::default(), "", "", &websub)
    }
}

impl HttpSettings {
    /// The `Link` header of a published file: for a feed, its hubs and its own URL as
    /// its topic (exactly one `rel="self"`, each format being a topic of its own).
    pub fn links(&self, rel: &str) -> Option<HeaderValue> {
        let (file, hubs) = match rel.split_once('?') {
            Some((file, _)) => (file, self.own_hub_link.as_ref()?),
            None => (rel, self.hub_links.as_ref()?),
        };
        crate::layout::subscription_format(file)?;
        let topic = self.topic(rel);
        HeaderValue::from_str(&format!("{hubs}, <{topic}>; rel=\"self\"")).ok()
    }

    /// Whether a request path is the built-in hub's.
    pub fn is_hub_path(&self, path: &str) -> bool {
        self.hub_path
            .as_deref()
            .is_some_and(|hub| path == hub || path == crate::config::HUB_PATH)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The topic URL of a feed file: its absolute URL, exactly as its `rel="self"`. A
    /// custom feed's is `<file>?<canonical query>`.
    pub fn topic(&self, rel: &str) -> String {
        if let Some((file, query)) = rel.split_once('?') {
            return format!("{}?{query}", self.topic(file));
        }
        // A file's path is its folder names as on disk; in a URL each is encoded, as
        // `FeedKey::url_path` does for the feed's own links.
        let path: Vec<String> = rel.split('/').map(crate::url::encode_segment).collect();
        self.site_url.join(&format!("/{}", path.join("/")))
    }
}

#[cfg(test)]
mod tests {
    use crate::layout::{FeedKey, Format};

    /// A topic is exactly the feed's own `rel="self"`, for names that need encoding too.
    #[test]
    fn topics_are_the_rendered_self_urls() {
        let config = crate::config::Config::parse(
            "[site]\nurl = \"https://A.example:443\"\nbaseurl = \"blog/\"",
            None,
        )
        .unwrap();
        let settings = super::HttpSettings::new(&config);
        let site_url = config.rules.site_url.clone();
        for name in ["西海都市报新闻", "ai & data", "C++", "a b%c"] {
            let key = FeedKey::Tag(crate::names::FeedName::new(name));
            for format in Format::ALL {
                let base = site_url.join(&key.url_path());
                let rendered_self = format!("{base}{}", format.file_name());
                assert_eq!(settings.topic(&key.file(format)), rendered_self, "{name}");
                let links = settings.links(&key.file(format)).unwrap();
                assert_eq!(
                    links.to_str().unwrap(),
                    format!(
                        "<https://a.example/blog/websub>; rel=\"hub\", <{rendered_self}>; rel=\"self\""
                    )
                );
            }
        }
        assert_eq!(settings.origin(), "https://a.example");
        assert!(settings.links("feeds.opml").is_none());
        assert!(settings.links("tags/x/index.html").is_none());
    }
}
