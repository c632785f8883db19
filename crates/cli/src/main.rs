//! The `onewindow` command: serve, demo, supervise, migrate, audit, catalog, calendar, bench.

/// `println!` that returns the write's error instead of panicking: a reader
/// that goes away (`onewindow bench … | head`) ends the command quietly
/// (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
    }};
}

mod bench;
mod bench_clock;
mod bench_supervise;
mod calendar;
mod demo;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use onewindow_server::{AppState, Settings};
use onewindow_store::audit::Verification;
use onewindow_store::{Store, StoreOptions};

#[derive(Parser)]
#[command(
    name = "onewindow",
    version,
    about = "政务服务与电子监察系统 (government service hall and electronic supervision)"
)]
struct Cli {
    /// Database: sqlite:PATH (created when missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "ONEWINDOW_DATABASE_URL",
        default_value = "sqlite:onewindow.db"
    )]
    database_url: String,
    /// Region code that case numbers start with.
    #[arg(
        long,
        global = true,
        env = "ONEWINDOW_REGION_CODE",
        default_value = "430423"
    )]
    region_code: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (migrates the database first).
    Serve {
        #[arg(long, env = "ONEWINDOW_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Largest accepted upload per file, in megabytes.
        #[arg(long, env = "ONEWINDOW_MAX_UPLOAD_MB", default_value_t = 10)]
        max_upload_mb: usize,
        #[command(flatten)]
        supervision: SupervisionArgs,
    },
    /// Create a realistic demo county in a fresh SQLite file, then serve it.
    Demo {
        #[arg(long, env = "ONEWINDOW_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed of the generated data: the same seed gives the same county.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Number of cases to generate over the last six months.
        #[arg(long, default_value_t = 5000)]
        cases: usize,
        /// Only create the data; do not serve.
        #[arg(long)]
        no_serve: bool,
        /// The demo database file (replaced when it exists). Ignored when
        /// --database-url is given explicitly.
        #[arg(long, default_value = "onewindow-demo.db")]
        file: PathBuf,
        #[command(flatten)]
        supervision: SupervisionArgs,
    },
    /// Run one supervision tick: judge every deadline whose check has come,
    /// issue warnings and cards with their alerts (sent by `serve`).
    Supervise {
        /// The moment to supervise at (RFC 3339, e.g. 2026-12-01T09:00:00+08:00);
        /// default now. A later moment replays the days up to it.
        #[arg(long)]
        now: Option<String>,
        /// Alert channels (JSON), as for serve: messages for them go to the outbox.
        #[arg(long, env = "ONEWINDOW_ALERTS")]
        alerts: Option<PathBuf>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Import or export the service catalog as .xlsx.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// The working-day calendar: shipped holiday data, plus the overrides of
    /// the database when --database-url is given.
    Calendar {
        #[command(subcommand)]
        command: calendar::CalendarCommand,
    },
    /// Measure throughput; prints a table, and with --json one JSON line last.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

/// Supervision settings of a serving process.
#[derive(clap::Args)]
struct SupervisionArgs {
    /// Alert channels: a JSON file with email (SMTP), webhook, sms and wechat
    /// sections; in-app notices need none.
    #[arg(long, env = "ONEWINDOW_ALERTS")]
    alerts: Option<PathBuf>,
    /// Seconds between supervision ticks.
    #[arg(long, env = "ONEWINDOW_TICK_SECONDS", default_value_t = 60)]
    tick_seconds: u64,
}

/// The alert channels of `path` (none without one).
fn alert_config(path: Option<&PathBuf>) -> anyhow::Result<onewindow_server::alerts::AlertConfig> {
    let Some(path) = path else {
        return Ok(Default::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the alert channels {}", path.display()))?;
    onewindow_server::alerts::AlertConfig::from_json(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole SM3 hash chain; exit code 1 names the first broken entry.
    Verify,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Write the catalog to an .xlsx file.
    Export { output: PathBuf },
    /// Read an .xlsx file written by export (and edited): all rows or none.
    Import { input: PathBuf },
}

async fn open(cli: &Cli) -> anyhow::Result<Store> {
    let mut options = StoreOptions::new(&cli.database_url);
    options.region_code = cli.region_code.clone();
    let store = Store::connect(&options)
        .await
        .with_context(|| format!("cannot open database {}", cli.database_url))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// Recomputes open deadlines when this binary ships newer holiday data than
/// the database's deadlines were computed with.
async fn adopt_calendar(store: &Store) -> anyhow::Result<()> {
    if let Some(done) = store
        .adopt_shipped_calendar(jiff::Timestamp::now())
        .await
        .context("cannot apply the shipped holiday data")?
        && done.moved > 0
    {
        outln!(
            "节假日数据已更新：重新计算了{}个未到期期限，其中{}个期限的届满日有变化。",
            done.examined,
            done.moved
        )
        .ok();
    }
    Ok(())
}

async fn serve(
    store: Store,
    listen: &str,
    settings: Settings,
    tick_seconds: u64,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let senders = onewindow_server::alerts::Senders::new(&settings.alerts)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = AppState::new(store, settings);
    onewindow_server::background::spawn(
        state.clone(),
        std::sync::Arc::new(senders),
        onewindow_server::background::Intervals {
            tick: std::time::Duration::from_secs(tick_seconds.max(1)),
            ..Default::default()
        },
    );
    let address = listener.local_addr()?;
    outln!("onewindow 已启动：http://{address}/  （接口文档：http://{address}/api/docs）").ok();
    onewindow_server::serve(listener, state)
        .await
        .context("server stopped")?;
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ONEWINDOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,onewindow=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the output's reader went away.
fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let explicit_database = std::env::args().any(|a| a.starts_with("--database-url"))
        || std::env::var_os("ONEWINDOW_DATABASE_URL").is_some();
    match &cli.command {
        Command::Serve {
            listen,
            max_upload_mb,
            supervision,
        } => {
            let alerts = alert_config(supervision.alerts.as_ref())?;
            let store = open(&cli).await?;
            adopt_calendar(&store).await?;
            let settings = Settings {
                max_upload_bytes: max_upload_mb * 1024 * 1024,
                alerts,
                ..Settings::default()
            };
            serve(store, listen, settings, supervision.tick_seconds).await?;
        }
        Command::Supervise { now, alerts } => {
            let now = match now {
                None => jiff::Timestamp::now(),
                Some(text) => match text.trim().parse::<jiff::Timestamp>() {
                    Ok(now) => now,
                    Err(_) => {
                        eprintln!(
                            "错误：--now 应为 RFC 3339 时刻，例如 2026-12-01T09:00:00+08:00：{text}"
                        );
                        return Ok(ExitCode::from(2));
                    }
                },
            };
            let alerts = alert_config(alerts.as_ref())?;
            let store = open(&cli).await?;
            adopt_calendar(&store).await?;
            let report = store
                .supervise(now, &alerts.channels())
                .await
                .context("the supervision tick failed")?;
            let level = |key: &str| report.issued.get(key).copied().unwrap_or(0);
            outln!(
                "监察日 {}：检查期限{}个，发出预警{}个、黄牌{}张、红牌{}张；站内消息{}条，待发外部消息{}条。",
                report.today.map(|d| d.to_string()).unwrap_or_default(),
                report.examined,
                level("warning"),
                level("yellow"),
                level("red"),
                report.notices,
                report.messages
            )?;
            store.close().await;
        }
        Command::Demo {
            listen,
            seed,
            cases,
            no_serve,
            file,
            supervision,
        } => {
            let alerts = alert_config(supervision.alerts.as_ref())?;
            let url = if explicit_database {
                cli.database_url.clone()
            } else {
                for suffix in ["", "-wal", "-shm"] {
                    let path = PathBuf::from(format!("{}{suffix}", file.display()));
                    if path.exists() {
                        std::fs::remove_file(&path)
                            .with_context(|| format!("cannot replace {}", path.display()))?;
                    }
                }
                format!("sqlite:{}", file.display())
            };
            let mut options = StoreOptions::new(&url);
            options.region_code = cli.region_code.clone();
            let store = Store::connect(&options)
                .await
                .with_context(|| format!("cannot open database {url}"))?;
            store
                .migrate()
                .await
                .context("cannot migrate the database")?;
            let report = demo::build(&store, *seed, *cases).await?;
            // The server goes on even when nobody reads the report.
            outln!("{report}").ok();
            if *no_serve {
                // Checkpoints the WAL into the file, so only the file remains.
                store.close().await;
            } else {
                let settings = Settings {
                    alerts,
                    ..Settings::default()
                };
                serve(store, listen, settings, supervision.tick_seconds).await?;
            }
        }
        Command::Migrate => {
            open(&cli).await?;
            outln!("数据库已是最新结构：{}", cli.database_url)?;
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = open(&cli).await?;
            match store.verify_audit().await? {
                Verification::Intact { entries } => {
                    outln!("审计日志完整：共{entries}条记录，SM3哈希链校验通过。")?
                }
                Verification::Broken { seq, reason } => {
                    outln!("审计日志校验失败：第{seq}条记录起哈希链断裂。{reason}")?;
                    return Ok(ExitCode::from(1));
                }
            }
        }
        Command::Catalog {
            command: CatalogCommand::Export { output },
        } => {
            let store = open(&cli).await?;
            let items = store.all_items().await?;
            let bytes =
                onewindow_server::xlsx::export(&items).context("cannot write the workbook")?;
            std::fs::write(output, bytes)
                .with_context(|| format!("cannot write {}", output.display()))?;
            outln!("已导出{}个事项到 {}", items.len(), output.display())?;
        }
        Command::Catalog {
            command: CatalogCommand::Import { input },
        } => {
            let store = open(&cli).await?;
            let bytes = match std::fs::read(input) {
                Ok(bytes) => bytes,
                Err(e) => {
                    outln!("无法读取文件 {}：{e}", input.display())?;
                    return Ok(ExitCode::from(2));
                }
            };
            let rows = match onewindow_server::xlsx::import(&bytes) {
                Ok(rows) => rows,
                Err(e) => {
                    outln!("{e}")?;
                    return Ok(ExitCode::from(2));
                }
            };
            match store
                .import_items("cli".into(), rows, jiff::Timestamp::now())
                .await
            {
                Ok(s) => outln!(
                    "导入完成：新增{}个，更新{}个，未变{}个。",
                    s.created,
                    s.updated,
                    s.unchanged
                )?,
                Err(onewindow_store::StoreError::Domain(e)) => {
                    outln!("导入未执行（目录未作任何修改）：{}", e.message())?;
                    return Ok(ExitCode::from(2));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Calendar { command } => {
            if !explicit_database {
                return Ok(calendar::run(command, calendar::Source::Shipped));
            }
            if let Some(message) = calendar::missing_database(&cli.database_url) {
                eprintln!("错误：{message}");
                return Ok(ExitCode::from(2));
            }
            let store = open(&cli).await?;
            return Ok(calendar::run(
                command,
                calendar::Source::Database {
                    store: &store,
                    default_region: &cli.region_code,
                },
            ));
        }
        Command::Bench { command } => bench::run(command).await?,
    }
    Ok(ExitCode::SUCCESS)
}
