//! `onewindow calendar`: the working-day calendar from the command line.
//!
//! The output of `days` and `add` is a stable contract other tools parse:
//! `days` prints `YYYY-MM-DD<TAB>workday|restday|holiday` per date, `add`
//! prints the due date alone. Bad dates or ranges exit with code 2.

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

/// Runs a calendar command; bad input prints the reason and gives exit code 2.
pub fn run(command: &CalendarCommand, source: Source<'_>) -> ExitCode {
    match execute(command, &source) {
        Ok(lines) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for line in lines {
                if writeln!(out, "{line}").is_err() {
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("错误：{message}");
            ExitCode::from(2)
        }
    }
}

fn execute(command: &CalendarCommand, source: &Source<'_>) -> Result<Vec<String>, String> {
    let bad = |e: onewindow_server::error::ApiError| flagged(&e);
    match command {
        CalendarCommand::Days { from, to, region } => {
            let (from, to) = day_range(from, to).map_err(bad)?;
            let calendar = source.calendar(region.as_deref());
            let mut lines = Vec::new();
            let mut day = from;
            while day <= to {
                lines.push(format!("{day}\t{}", day_kind_key(calendar.day_kind(day))));
                day = match day.tomorrow() {
                    Ok(next) => next,
                    Err(_) => break,
                };
            }
            Ok(lines)
        }
        CalendarCommand::Add {
            start,
            working_days,
            region,
        } => {
            let start = start_day(start, *working_days)?;
            let calendar = source.calendar(region.as_deref());
            Ok(vec![
                calendar.add_working_days(start, *working_days).to_string(),
            ])
        }
        CalendarCommand::Explain {
            start,
            working_days,
            region,
        } => {
            let start = start_day(start, *working_days)?;
            let calendar = source.calendar(region.as_deref());
            let deadline = Deadline::new(start, TimeLimit::working_days(*working_days));
            Ok(deadline.explain(&calendar).lines())
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

fn start_day(start: &str, working_days: u32) -> Result<Date, String> {
    let start = parse_day("start", start).map_err(|e| flagged(&e))?;
    TimeLimit::working_days(working_days)
        .validate("working_days")
        .map_err(|e| format!("--working-days：{}", e.message))?;
    Ok(start)
}
