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
    /// Build, then watch the content dir and serve the feeds over HTTP.
    Serve {
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
        /// Address to listen on (overrides `[serve] listen`), e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FEEDD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { config } => run_build(&config),
        Command::Check { config } => run_check(&config),
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

fn load_config(path: &Path) -> anyhow::Result<(Config, bool)> {
    let config = Config::load(path).with_context(|| format!("loading {}", path.display()))?;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let jekyll =
        std::fs::read_to_string(config.content_dir.join("_config.yml")).unwrap_or_default();
    let tz_set = text.lines().any(|l| l.trim_start().starts_with("timezone"))
        || jekyll.lines().any(|l| l.starts_with("timezone:"));
    Ok((config, tz_set))
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
    let (config, _) = load_config(config_path)?;
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
    let (config, tz_set) = load_config(config_path)?;
    let loaded = load_posts(&config)?;
    let problems = check::problems(&config, &loaded, tz_set);
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
    let (config, _) = load_config(config_path)?;
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
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    let serve = config.serve.clone();
    let baseurl = config.site.baseurl.clone();
    let running = feedd::daemon::start(config)?;
    let server = std::sync::Arc::new(feedd::serve::Server {
        snapshot: running.snapshot.clone(),
        settings: feedd::serve::HttpSettings::new(
            serve.max_age,
            serve.stale_while_revalidate,
            &baseurl,
        ),
        metrics: running.metrics.clone(),
        max_connections: serve.max_connections,
        header_timeout: serve.header_timeout,
        shutdown_timeout: serve.shutdown_timeout,
    });
    println!("feedd: serving on http://{local}/");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    runtime.block_on(server.run(listener, shutdown_signal()));
    tracing::info!("shutting down");
    running.stop();
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
}
