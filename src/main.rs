//! The `feedd` command line: parse arguments, load the config, start logging, run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use feedd::{build, check, config::Config, index::Index, publish};

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
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { config } => run_build(&config),
        Command::Check { config } => run_check(&config),
        Command::CheckConfig { config } => run_check_config(&config),
        Command::Serve { config, listen } => run_serve(&config, listen.as_deref()),
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
            println!("{}: {e}", config_path.display());
            Ok(ExitCode::from(1))
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).with_context(|| format!("loading {}", path.display()))
}

fn load_posts(config: &Config) -> anyhow::Result<build::Loaded> {
    let paths = build::scan(&config.content_dir)?;
    let bar = if std::io::stderr().is_terminal() && paths.len() > 2000 {
        indicatif::ProgressBar::new(paths.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} posts read")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let loaded = build::load(config, &paths, false, &|| bar.inc(1));
    bar.finish_and_clear();
    Ok(loaded)
}

fn run_build(config_path: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = load_config(config_path)?;
    let loaded = load_posts(&config)?;
    let t_read = started.elapsed();
    for e in &loaded.errors {
        tracing::warn!("skipped {e}");
    }
    let read = loaded.posts.len() + loaded.errors.len();
    let errors = loaded.errors;
    let index = Index::build(loaded.posts, &config, chrono::Utc::now());
    let bodies = build::DiskBodies {
        content_dir: config.content_dir.clone(),
        rules: config.rules.clone(),
    };
    let publisher = publish::Publisher::new(&config.output_dir)?;
    let output = build::render_site(&index, &config, &bodies, &|rel, bytes| {
        publisher.file(rel, bytes)
    });
    let stats = publisher.finish()?;
    tracing::debug!(
        read_s = t_read.as_secs_f64(),
        render_and_write_s = (started.elapsed() - t_read).as_secs_f64(),
        "build phases"
    );
    println!(
        "feedd: {read} posts read, {} skipped, {} live; {} feeds ({} files): {} written, {} unchanged, {} removed; {} entries rendered; {:.2}s",
        errors.len(),
        index.len(),
        output.feeds,
        output.files,
        stats.written,
        stats.unchanged,
        stats.removed,
        output.entries_rendered,
        started.elapsed().as_secs_f64()
    );
    for e in &errors {
        println!("  skipped {e}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_check(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let loaded = load_posts(&config)?;
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
    let addr: std::net::SocketAddr = match listen {
        Some(a) => a
            .parse()
            .with_context(|| format!("--listen {a}: not an address such as 127.0.0.1:8080"))?,
        None => config.serve.listen,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
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
    let serve = config.serve.clone();
    let listen_configured = config.serve.listen;
    let running = std::sync::Arc::new(feedd::daemon::start(config.clone())?);
    let settings = |c: &Config| {
        feedd::serve::HttpSettings::new(
            c.serve.max_age,
            c.serve.stale_while_revalidate,
            &c.site.baseurl,
        )
    };
    let server = std::sync::Arc::new(feedd::serve::Server {
        snapshot: running.snapshot.clone(),
        settings: arc_swap::ArcSwap::from_pointee(settings(&config)),
        metrics: running.metrics.clone(),
        max_connections: serve.max_connections,
        header_timeout: serve.header_timeout,
        idle_timeout: serve.idle_timeout,
        rate_limit: (serve.full_downloads_per_minute > 0)
            .then(|| feedd::serve::ratelimit::RateLimiter::new(serve.full_downloads_per_minute)),
        shutdown_timeout: serve.shutdown_timeout,
    });
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
        let (running, server, path) = (running.clone(), server.clone(), config_path.to_path_buf());
        runtime.spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                return;
            };
            while hup.recv().await.is_some() {
                feedd::systemd::reloading();
                tracing::info!("SIGHUP: reloading {}", path.display());
                match Config::load(&path) {
                    Err(e) => tracing::error!("reload: {e}; the old configuration keeps serving"),
                    Ok(new) => {
                        if new.serve.listen != listen_configured {
                            tracing::warn!(
                                "reload: serve.listen changed to {}; restart feedd to listen there",
                                new.serve.listen
                            );
                        }
                        server.settings.store(std::sync::Arc::new(settings(&new)));
                        let r = running.clone();
                        match tokio::task::spawn_blocking(move || r.reload(new)).await {
                            Ok(Ok(line)) => tracing::info!("reload done: {line}"),
                            Ok(Err(e)) => {
                                tracing::error!("reload: {e}; the old configuration keeps serving")
                            }
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
