//! `onewindow calendar`: the working-day calendar from the command line.
//!
//! The output of `days` and `add` is a stable contract other tools parse:
//! `days` prints `YYYY-MM-DD<TAB>workday|restday|holiday` per date, `add`
//! prints the due date alone. Bad dates or ranges exit with code 2.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use jiff::civil::Date;
use onewindow_core::calendar::{ChinaCalendar, TimeLimit, WorkCalendar};
use onewindow_core::clock::Deadline;
use onewindow_server::api::calendar::{day_kind_key, day_range, parse_day};

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// One line per date: YYYY-MM-DD<TAB>workday|restday|holiday.
    Days {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Region code whose local overrides apply (with --database-url).
        #[arg(long)]
        region: Option<String>,
    },
    /// The N-th working day after the start day (the start day not counted).
    Add {
        #[arg(long)]
        start: String,
        #[arg(long)]
        working_days: u32,
        #[arg(long)]
        region: Option<String>,
    },
    /// How that due date is computed, in Chinese.
    Explain {
        #[arg(long)]
        start: String,
        #[arg(long)]
        working_days: u32,
        #[arg(long)]
        region: Option<String>,
    },
}

/// Where the calendar comes from: the shipped data alone, or with the
/// overrides of a database.
pub enum Source<'a> {
    Shipped,
    Database {
        store: &'a onewindow_store::Store,
        default_region: &'a str,
    },
}

impl Source<'_> {
    fn calendar(&self, region: Option<&str>) -> Arc<ChinaCalendar> {
        match self {
            Source::Shipped => Arc::new(ChinaCalendar::shipped().clone()),
            Source::Database {
                store,
                default_region,
            } => store.calendar_for(region.unwrap_or(default_region)),
        }
    }
}

/// Why a calendar command stopped.
enum Failure {
    /// Bad input: the message, printed with exit code 2.
    Input(String),
    /// Standard output could not be written.
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Output(e)
    }
}

/// Runs a calendar command, writing its lines as they are computed; bad
/// input prints the reason and gives exit code 2. A reader that stops
/// early (`| head`) ends the command quietly.
pub fn run(command: &CalendarCommand, source: Source<'_>) -> ExitCode {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match execute(command, &source, &mut out).and_then(|()| Ok(out.flush()?)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            eprintln!("错误：{message}");
            ExitCode::from(2)
        }
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("错误：无法写出结果：{e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(
    command: &CalendarCommand,
    source: &Source<'_>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let bad = |e: onewindow_server::error::ApiError| Failure::Input(flagged(&e));
    match command {
        CalendarCommand::Days { from, to, region } => {
            let (from, to) = day_range(from, to).map_err(bad)?;
            let calendar = source.calendar(region.as_deref());
            let mut day = from;
            loop {
                writeln!(out, "{day}\t{}", day_kind_key(calendar.day_kind(day)))?;
                match day.tomorrow() {
                    Ok(next) if next <= to => day = next,
                    _ => return Ok(()),
                }
            }
        }
        CalendarCommand::Add {
            start,
            working_days,
            region,
        } => {
            let start = start_day(start, *working_days)?;
            let calendar = source.calendar(region.as_deref());
            writeln!(out, "{}", calendar.add_working_days(start, *working_days))?;
            Ok(())
        }
        CalendarCommand::Explain {
            start,
            working_days,
            region,
        } => {
            let start = start_day(start, *working_days)?;
            let calendar = source.calendar(region.as_deref());
            let deadline = Deadline::new(start, TimeLimit::working_days(*working_days));
            for line in deadline.explain(&calendar).lines() {
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
    }
}

/// An input error as the command line names it: `--from：…`.
fn flagged(e: &onewindow_server::error::ApiError) -> String {
    match &e.field {
        Some(field) => format!("--{}：{}", field.replace('_', "-"), e.message),
        None => e.message.clone(),
    }
}

/// The start day of `add` and `explain`, once the limit is known to be
/// acceptable.
fn start_day(start: &str, working_days: u32) -> Result<Date, Failure> {
    let start = parse_day("start", start).map_err(|e| Failure::Input(flagged(&e)))?;
    TimeLimit::working_days(working_days)
        .validate("working_days")
        .map_err(|e| Failure::Input(format!("--working-days：{}", e.message)))?;
    Ok(start)
}

/// Why `--database-url` cannot be read when it names a SQLite file that does
/// not exist: the calendar reads a county's overrides, it creates no database.
pub fn missing_database(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || std::path::Path::new(path).exists() {
        return None;
    }
    Some(format!(
        "--database-url：数据库文件不存在：{path}（calendar 只读取已有数据库中的本地调整，不会新建数据库）"
    ))
}
