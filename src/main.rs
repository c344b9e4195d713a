//! The `feedd` command line: parse arguments, load the config, start logging, run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use feedd::{check, config::Config, error::chain};

/// Jekyll posts → per-category and per-tag RSS, Atom and JSON feeds.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every feed once and write them to the output directory.
    Build {
        /// Path of config.toml.
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Parse every post and list every problem; exit 1 if there is any.
    Check {
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Validate the config file (and the content dir's _config.yml) alone; exit 1 if bad.
    CheckConfig {
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Build, then watch the content dir and serve the feeds over HTTP. Under systemd:
    /// Type=notify, socket activation, SIGHUP reloads the config.
    Serve {
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
        /// Address to listen on (overrides `[serve] listen`), e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Who reads each feed: readers per feed for the last complete day and today, by
    /// source (each aggregator's reported count, direct readers, WebSub), with the trend.
    /// Reads the figures `serve` saves each minute; with --access-log, counts from nginx
    /// `combined` logs instead (for static deployments).
    Stats {
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
        /// JSON for scripts instead of the table.
        #[arg(long)]
        json: bool,
        /// Days of history in the JSON's `daily` series.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// nginx access logs (`combined` format; `.gz` too) to count from.
        #[arg(long = "access-log", num_args = 1..)]
        access_log: Vec<PathBuf>,
    },
    /// The built-in WebSub hub's subscriptions.
    Websub {
        #[command(subcommand)]
        command: WebsubCommand,
    },
}

#[derive(Subcommand)]
enum WebsubCommand {
    /// List every subscription: topic, callback host, lease end, last delivery, failures
    /// (reads the database; works while `feedd serve` runs).
    List {
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { config } => run_build(&config),
        Command::Check { config } => run_check(&config),
        Command::CheckConfig { config } => run_check_config(&config),
        Command::Serve { config, listen } => run_serve(&config, listen.as_deref()),
        Command::Stats {
            config,
            json,
            days,
            access_log,
        } => run_stats(&config, json, days, &access_log),
        Command::Websub {
            command: WebsubCommand::List { config },
        } => run_websub_list(&config),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("feedd: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Human-readable lines on a terminal; under systemd (`JOURNAL_STREAM` set) plain lines
/// without timestamps or colours, which journald stamps itself.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FEEDD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().with_ansi(false).init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

fn run_check_config(config_path: &Path) -> anyhow::Result<ExitCode> {
    match Config::load(config_path) {
        Ok(config) => {
            println!(
                "{}: ok (content {}, output {}, listen {})",
                config_path.display(),
                config.content_dir.display(),
                config.output_dir.display(),
                config.serve.listen
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{}", chain(&e));
            Ok(ExitCode::from(1))
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    // The error names the file already.
    Ok(Config::load(path)?)
}

fn run_build(config_path: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = load_config(config_path)?;
    let built = feedd::build::build(&config, chrono::Utc::now())?;
    let (out, stats) = (&built.output, &built.publish);
    for e in &out.report.errors {
        tracing::warn!("skipped {e}");
    }
    if built.unchanged {
        println!("feedd: posts, config and output as the last build left them (manifest)");
    }
    println!(
        "feedd: {} posts read, {} skipped, {} live; {} feeds ({} files): {} written, {} unchanged, {} removed; {} entries rendered; {:.2}s",
        built.files,
        out.report.errors.len(),
        built.posts,
        built.feeds,
        stats.written + stats.unchanged,
        stats.written,
        stats.unchanged,
        stats.removed,
        out.report.entries_rendered,
        started.elapsed().as_secs_f64()
    );
    for e in &out.report.errors {
        println!("  skipped {e}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_stats(
    config_path: &Path,
    json: bool,
    days: u32,
    logs: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    use feedd::stats::{access_log, live, report, store};
    let config = load_config(config_path)?;
    let tz = config.rules.timezone;
    let today = live::today(tz);
    let since = today - chrono::Duration::days(i64::from(days.max(8)));
    let rows = if logs.is_empty() {
        let path = &config.stats.database;
        if !path.exists() {
            println!(
                "feedd stats: no figures yet ({} does not exist; `feedd serve` writes it)",
                path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        store::read(path, since)?
    } else {
        let readers = access_log::open(logs)?;
        let (rows, unread) = access_log::count(readers, &config.site.baseurl, tz);
        if unread > 0 {
            eprintln!("feedd stats: {unread} log lines not in the combined format were skipped");
        }
        rows
    };
    let report = report::report(&rows, today, days);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn run_websub_list(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let path = &config.websub.database;
    if !path.exists() {
        println!(
            "feedd websub: no subscriptions yet ({} does not exist)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let loaded = feedd::websub::store::Store::read(path)?;
    print!("{}", feedd::websub::list::table(&loaded));
    Ok(ExitCode::SUCCESS)
}

fn run_check(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let loaded = check::load(&config)?;
    let problems = check::problems(&config, &loaded);
    for p in &problems {
        println!("{p}");
    }
    println!(
        "feedd check: {} posts, {} errors, {} warnings",
        loaded.posts.len() + loaded.errors.len(),
        problems
            .iter()
            .filter(|p| p.severity == check::Severity::Error)
            .count(),
        problems
            .iter()
            .filter(|p| p.severity == check::Severity::Warning)
            .count()
    );
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_serve(config_path: &Path, listen: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let started_serve = config.serve.clone();
    let addr: std::net::SocketAddr = match listen {
        Some(a) => a
            .parse()
            .with_context(|| format!("--listen {a}: not an address such as 127.0.0.1:8080"))?,
        None => config.serve.listen,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers(config.serve.workers))
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // Socket activation: systemd may hand us the listening socket (the port can be
    // privileged while we are not, and restarts lose no connection).
    let listener = match feedd::systemd::activated_listener().context("reading LISTEN_FDS")? {
        Some(std_listener) => runtime
            .block_on(async { tokio::net::TcpListener::from_std(std_listener) })
            .context("using the socket from systemd")?,
        None => runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .with_context(|| format!("listening on {addr}"))?,
    };
    let local = listener.local_addr().context("reading the bound address")?;
    let max_connections = config.serve.max_connections;
    let websub = config.websub.clone();
    let started_websub = websub.clone();
    let config_stats = config.stats.enabled.then(|| config.clone());
    let (notifier, inbox) = feedd::websub::hub::channel();
    let running = std::sync::Arc::new(feedd::daemon::start(config, notifier)?);
    // The server's caches, shared with the hub; made for the settings served now and
    // remade (keeping what may be kept) when a reload changes them.
    let caches = std::sync::Arc::new(feedd::caches::Shared::new(
        &running.snapshot.load().settings,
    ));
    // Announcements to external hubs need the hub's thread too, even with our own hub off.
    let hub = if websub.hub || !websub.hubs.is_empty() {
        let database = websub.database.clone();
        let hub = feedd::websub::hub::start(
            inbox,
            websub,
            database,
            (running.snapshot.clone(), caches.clone()),
            runtime.handle().clone(),
            running.metrics.clone(),
        )
        .context("starting the WebSub hub thread")?;
        Some(std::sync::Arc::new(hub))
    } else {
        // Nobody reads the changes: close the channel so they are not queued forever.
        drop(inbox);
        None
    };
    // Counting readers is not worth failing to serve: without its database, feedd
    // serves and says so.
    let stats = match config_stats {
        Some(config) => match feedd::stats::live::Live::start(&config, {
            let running = running.clone();
            Some(Box::new(move |table| running.set_readers(table)))
        }) {
            Ok(live) => Some(live),
            Err(e) => {
                tracing::error!("subscriber counts are off: {}", chain(&e));
                None
            }
        },
        None => None,
    };
    let server = std::sync::Arc::new(feedd::serve::Server {
        snapshot: running.snapshot.clone(),
        metrics: running.metrics.clone(),
        max_connections,
        hub: hub.clone(),
        work: feedd::serve::work::WorkPool::new(0, 2 * workers(0))
            .context("starting the custom feeds' threads")?,
        caches,
        stats: stats.clone(),
    });
    // Listen for SIGHUP before saying we serve: its default action would end us.
    let hup = {
        let _in_runtime = runtime.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    };
    println!("feedd: serving on http://{local}/");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let status = move |running: &feedd::daemon::Running| {
        let snap = running.snapshot.load();
        format!(
            "serving {} posts in {} feeds on {local}",
            snap.posts,
            snap.feeds.len()
        )
    };
    feedd::systemd::ready(&status(&running));
    if let Some(interval) = feedd::systemd::watchdog_interval() {
        let running = running.clone();
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(interval / 2);
            loop {
                tick.tick().await;
                // Only while the rebuild loop turns: a stuck loop lets systemd restart us.
                if running.healthy(interval) {
                    feedd::systemd::watchdog();
                }
            }
        });
    }
    {
        let (running, path) = (running.clone(), config_path.to_path_buf());
        runtime.spawn(async move {
            let Ok(mut hup) = hup else {
                return;
            };
            // What the running server was started with (its socket and connection cap).
            let mut serving = started_serve;
            let hub_started = started_websub;
            while hup.recv().await.is_some() {
                feedd::systemd::reloading();
                tracing::info!("SIGHUP: reloading {}", path.display());
                match Config::load(&path) {
                    Err(e) => tracing::error!(
                        "reload: {}; the old configuration keeps serving",
                        chain(&e)
                    ),
                    Ok(new) => {
                        if new.websub != hub_started {
                            tracing::warn!(
                                "reload: [websub] changed; feeds advertise the new hubs now, \
                                 the hub applies its other settings after a restart"
                            );
                        }
                        let serve = new.serve.clone();
                        let r = running.clone();
                        match tokio::task::spawn_blocking(move || r.reload(new)).await {
                            Ok(Ok(line)) => {
                                tracing::info!("reload done: {line}");
                                for key in serving.needs_restart(&serve) {
                                    tracing::warn!(
                                        "reload: {key} changed; restart feedd to apply it"
                                    );
                                }
                                serving = feedd::config::Serve {
                                    listen: serving.listen,
                                    max_connections: serving.max_connections,
                                    ..serve
                                };
                            }
                            Ok(Err(e)) => tracing::error!(
                                "reload: {}; the old configuration keeps serving",
                                chain(&e)
                            ),
                            Err(e) => tracing::error!("reload: {e}"),
                        }
                    }
                }
                feedd::systemd::ready(&status(&running));
            }
        });
    }
    runtime.block_on(server.clone().run(listener, shutdown_signal()));
    feedd::systemd::stopping();
    tracing::info!("shutting down");
    drop(server);
    running.stop();
    if let Some(stats) = stats {
        stats.stop();
    }
    if let Some(hub) = hub {
        hub.stop();
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    feedd::systemd::stopping();
}

/// The server's worker threads: as configured, else one per core.
fn workers(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
}
