//! The pages' own words, in the interface language (`[pages] lang`, else the site's).

use crate::config::Ui;
use crate::layout::FeedKind;

pub struct Texts {
    /// Chinese (for the phrases built from parts).
    zh: bool,
    pub subscribe: &'static str,
    /// What a feed is and how to use this one: one paragraph.
    pub what_is_a_feed: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub newest: &'static str,
    pub related: &'static str,
    pub categories: &'static str,
    pub tags: &'static str,
    pub custom: &'static str,
    pub all_posts: &'static str,
    pub posts: &'static str,
    pub updated: &'static str,
    pub name: &'static str,
    pub filter: &'static str,
    pub most_active: &'static str,
    pub a_to_z: &'static str,
    pub all_feeds_opml: &'static str,
    pub not_found: &'static str,
    pub not_found_help: &'static str,
    pub back_to_index: &'static str,
    pub feeds_of_site: &'static str,
    pub no_posts: &'static str,
    pub on_the_site: &'static str,
    pub build: &'static str,
    pub build_help: &'static str,
    pub words_in: &'static str,
    pub words_out: &'static str,
    pub build_button: &'static str,
    pub readers: &'static str,
    pub readers_lead: &'static str,
    pub readers_chart: &'static str,
    pub feed: &'static str,
    pub today: &'static str,
    pub trend: &'static str,
    pub no_readers: &'static str,
    pub readers_chart_feed: &'static str,
    pub older: &'static str,
    pub newer: &'static str,
    pub older_posts: &'static str,
}

static ZH: Texts = Texts {
    zh: true,
    subscribe: "订阅",
    what_is_a_feed: "这是一个订阅源（RSS/Atom/JSON Feed）。把下面任一地址复制到你的阅读器（如 Feedly、Inoreader、NetNewsWire、Thunderbird），有新文章时阅读器会自动收到，无需再回到本站查看。不确定选哪种格式时，选 RSS。",
    copy: "复制",
    copied: "已复制",
    newest: "最新文章",
    older: "更早的文章 →",
    newer: "← 较新的文章",
    older_posts: "更早的文章",
    related: "相关订阅",
    categories: "分类",
    tags: "标签",
    custom: "自选订阅",
    all_posts: "全部文章",
    posts: "篇",
    updated: "更新于",
    name: "名称",
    filter: "筛选…",
    most_active: "最近活跃",
    a_to_z: "按名称",
    all_feeds_opml: "全部订阅（OPML）",
    not_found: "未找到",
    not_found_help: "这个地址没有页面或订阅源。",
    back_to_index: "返回订阅列表",
    feeds_of_site: "全部订阅",
    no_posts: "暂无文章。",
    on_the_site: "在网站上查看 →",
    build: "定制订阅",
    build_help: "只要你关心的文章：选分类和标签（多个用逗号分隔，表示“任一”），再填要包含和要排除的词（多个用空格分隔）。提交后会打开这个订阅的页面和地址。",
    words_in: "包含的词",
    words_out: "排除的词",
    build_button: "生成订阅",
    readers: "订阅者",
    readers_lead: "每个订阅源每天的订阅者：聚合服务（Feedly、Inoreader 等）报告的订阅人数、直接订阅的阅读器和 WebSub 推送订阅之和。不记录任何地址。",
    readers_chart: "全站订阅者（各订阅源之和），最近 90 天",
    feed: "订阅源",
    today: "今天",
    trend: "趋势",
    no_readers: "还没有统计数据。",
    readers_chart_feed: "每天的订阅者，最近 90 天",
};

static EN: Texts = Texts {
    zh: false,
    subscribe: "Subscribe",
    what_is_a_feed: "This is a feed (RSS, Atom or JSON Feed). Copy one of the addresses below into your feed reader (Feedly, Inoreader, NetNewsWire, Thunderbird, …) and new posts will come to you, without visiting this site again. If unsure which format, pick RSS.",
    copy: "Copy",
    copied: "Copied",
    newest: "Newest posts",
    older: "Older posts →",
    newer: "← Newer posts",
    older_posts: "Older posts",
    related: "Related feeds",
    categories: "Categories",
    tags: "Tags",
    custom: "Custom feeds",
    all_posts: "All posts",
    posts: "posts",
    updated: "updated",
    name: "Name",
    filter: "Filter…",
    most_active: "Most active",
    a_to_z: "A–Z",
    all_feeds_opml: "All feeds (OPML)",
    not_found: "Not found",
    not_found_help: "There is no page or feed at this address.",
    back_to_index: "Back to the list of feeds",
    feeds_of_site: "All feeds",
    no_posts: "No posts yet.",
    on_the_site: "See it on the site →",
    build: "Build a custom feed",
    build_help: "Only the posts you want: pick categories and tags (several, separated by commas, mean any of them), then words to include and to exclude (separated by spaces). Submitting opens the feed's page and its address.",
    words_in: "Words to include",
    words_out: "Words to exclude",
    build_button: "Make the feed",
    readers: "Readers",
    readers_lead: "Each feed's readers per day: the subscribers aggregators (Feedly, Inoreader, …) report, direct readers and WebSub subscriptions, added up. No address is kept.",
    readers_chart: "Readers of all feeds (summed), last 90 days",
    feed: "Feed",
    today: "Today",
    trend: "Trend",
    no_readers: "No figures yet.",
    readers_chart_feed: "Readers per day, last 90 days",
};

impl Texts {
    pub fn of(ui: Ui) -> &'static Texts {
        match ui {
            Ui::Chinese => &ZH,
            Ui::English => &EN,
        }
    }

    pub fn kind(&self, kind: FeedKind) -> &'static str {
        match kind {
            FeedKind::Site => self.all_posts,
            FeedKind::Category => self.categories,
            FeedKind::Tag => self.tags,
            FeedKind::Custom => self.custom,
        }
    }

    /// "12 posts" / "12 篇".
    /// "1,234 subscribers" / "约 1,234 位订阅者" (the last complete day).
    pub fn readers_count(&self, n: u64) -> String {
        let digits = n.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        match self.zh {
            true => format!("约 {grouped} 位订阅者"),
            false if n == 1 => "1 subscriber".to_string(),
            false => format!("{grouped} subscribers"),
        }
    }

    pub fn count(&self, n: usize) -> String {
        if self.zh {
            format!("{n} {}", self.posts)
        } else if n == 1 {
            "1 post".to_string()
        } else {
            format!("{n} {}", self.posts)
        }
    }

    /// A lead line for a category's or tag's page.
    pub fn lead(&self, kind: FeedKind, label: &str, site: &str) -> String {
        match (self.zh, kind) {
            (true, FeedKind::Category) => format!("{site}「{label}」分类下的文章。"),
            (true, FeedKind::Tag) => format!("{site}带有「{label}」标签的文章。"),
            (true, FeedKind::Site) => format!("{site}的全部文章。"),
            (true, FeedKind::Custom) => format!("{site}的自选订阅「{label}」。"),
            (false, FeedKind::Category) => format!("Posts in the category “{label}” on {site}."),
            (false, FeedKind::Tag) => format!("Posts tagged “{label}” on {site}."),
            (false, FeedKind::Site) => format!("All posts on {site}."),
            (false, FeedKind::Custom) => format!("The custom feed “{label}” of {site}."),
        }
    }

    /// The lead line of a custom feed asked for in a URL.
    pub fn selection_lead(&self, label: &str, site: &str) -> String {
        if self.zh {
            format!("{site}中符合「{label}」的文章。")
        } else {
            format!("Posts on {site} that match “{label}”.")
        }
    }

    /// "2,048 categories · 12,000 posts" under a list's heading.
    pub fn list_lead(&self, kind: FeedKind, feeds: usize, posts: usize) -> String {
        if self.zh {
            format!("{feeds} 个{} · {posts} 篇文章", self.kind(kind))
        } else {
            format!(
                "{feeds} {} · {}",
                self.kind(kind).to_lowercase(),
                self.count(posts)
            )
        }
    }

    /// "All 2,048 categories" link text.
    pub fn all_of(&self, kind: FeedKind, n: usize) -> String {
        let what = self.kind(kind);
        if self.zh {
            format!("全部 {n} 个{what} →")
        } else {
            format!("All {n} {} →", what.to_lowercase())
        }
    }
}
