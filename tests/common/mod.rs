//! Helpers shared by the integration tests: a temp copy of a fixture site, a config
//! pointing at it, and the real `feedd` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod hub;
pub mod receiver;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    /// Copies `tests/fixtures/<name>` to a temp dir as `content/` with a config.toml.
    pub fn fixture(name: &str, extra_config: &str) -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_dir(&src, &dir.path().join("content"));
        std::fs::write(dir.path().join("config.toml"), extra_config).expect("config");
        Site { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    pub fn feedd(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        let config = self.config();
        all.push("--config");
        all.push(config.to_str().expect("utf-8 path"));
        Command::new(env!("CARGO_BIN_EXE_feedd"))
            .args(&all)
            .env("FEEDD_LOG", "warn")
            .output()
            .expect("run feedd")
    }

    pub fn build(&self) -> String {
        let out = self.feedd(&["build"]);
        assert!(
            out.status.success(),
            "feedd build failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn text(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).expect("utf-8 feed")
    }
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read fixture") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
}

/// Every file under `dir`, relative path → bytes.
/// Every file under `dir` but the build's manifest (which records mtimes, so two
/// builds of the same content differ there) and the precompressed copies that `serve`
/// adds in the background (`.gz`, `.br`, `.zst`: see `variants`).
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry.file_name() != ".feedd-manifest"
                && ![".gz", ".br", ".zst"]
                    .iter()
                    .any(|s| entry.file_name().to_string_lossy().ends_with(s))
            {
                let rel = path
                    .strip_prefix(dir)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

pub fn parse_feed(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).expect("feed-rs parses the feed")
}

/// A running `feedd serve` on an ephemeral 127.0.0.1 port; stopped with SIGTERM on drop.
pub struct Daemon {
    pub child: std::process::Child,
    pub base: String,
    pub stderr_path: PathBuf,
}

impl Daemon {
    pub fn start(site: &Site) -> Daemon {
        Daemon::start_on(site, "127.0.0.1:0")
    }

    /// Listening on `listen` (a fixed port, when the site's URL must name it).
    pub fn start_on(site: &Site, listen: &str) -> Daemon {
        use std::io::BufRead;
        let stderr_path = site.path("serve.log");
        let stderr = std::fs::File::create(&stderr_path).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_feedd"))
            .args(["serve", "--listen", listen, "--config"])
            .arg(site.config())
            .env("FEEDD_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn feedd serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read serve line");
        let base = line
            .trim()
            .strip_prefix("feedd: serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Daemon {
            child,
            base,
            stderr_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM and waits; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.terminate();
        }
    }
}

/// Polls `check` until it returns Some or 15 s pass (a liveness bound, not a timing test).
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Writes a file the way an editor or rsync does: temp file, then rename into place.
pub fn write_atomically(path: &Path, text: &str) {
    let dir = path.parent().expect("parent");
    std::fs::create_dir_all(dir).expect("mkdir");
    let tmp = dir.join(format!(
        ".tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    std::fs::write(&tmp, text).expect("write tmp");
    std::fs::rename(&tmp, path).expect("rename");
}

/// An entry's title text ("" when it has none).
pub fn entry_title(e: &feed_rs::model::Entry) -> String {
    e.title
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default()
}

/// An entry's content body ("" when it has none).
pub fn entry_content(e: &feed_rs::model::Entry) -> String {
    e.content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default()
}

/// The entry titles of a feed, in order.
pub fn titles_of(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(entry_title).collect()
}

/// The precompressed copies under `dir`, by path.
pub fn variants(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if [".gz", ".br", ".zst"]
                .iter()
                .any(|s| path.to_string_lossy().ends_with(s))
                // A copy being written under its temporary name is not there yet.
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".feedd-tmp-"))
            {
                let rel = path.strip_prefix(dir).expect("prefix");
                // A copy replaced while the daemon works is looked at again by the caller.
                if let Ok(bytes) = std::fs::read(&path) {
                    out.insert(rel.to_string_lossy().into_owned(), bytes);
                }
            }
        }
    }
    out
}

/// What `feedd build` writes for the site's content now (into `fresh/`).
pub fn fresh_build(site: &Site) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::write(
        site.path("fresh.toml"),
        "content_dir = \"content\"\noutput_dir = \"fresh\"\n",
    )
    .expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_feedd"))
        .args(["build", "--config"])
        .arg(site.path("fresh.toml"))
        .output()
        .expect("build");
    assert!(out.status.success());
    tree(&site.path("fresh"))
}

/// A response header as text ("" when absent).
pub fn header(r: &reqwest::blocking::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// A GET with extra request headers.
pub fn get_with_headers(
    client: &reqwest::blocking::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> reqwest::blocking::Response {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().expect("GET")
}

/// A client that sees responses as sent: no decompression (which copies exist depends on
/// timing), no redirects followed.
pub fn identity_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_zstd()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}
