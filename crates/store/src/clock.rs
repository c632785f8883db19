//! The deadlines index, calendar overrides and recomputation.
//!
//! Every deadline of every supervised object is one row of `deadlines`
//! (written in the same job as the change that set it). Changing the calendar
//! — an override added or revoked, or new shipped holiday data — recomputes
//! in one job every open deadline whose counting period contains a changed day,
//! records each move in `deadline_changes`, and moves the cases' own due days
//! and counts a new calendar generation: a case transition is written only
//! while the generation it was decided on is current, so a command decided on
//! the old calendar is decided again on the new one.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::DomainError;
use onewindow_core::calendar::{
    CalendarBook, CalendarOverride, ChinaCalendar, LimitUnit, OverrideKind, TimeLimit,
};
use onewindow_core::clock::{Deadline, DeadlineKind, DeadlineState, Pause, TrackedDeadline};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, Entry};
use crate::db::{date_text, from_micros, micros, parse_date};
use crate::{Backend, Conn, Store, StoreError};

/// Writes a case's deadlines (insert or update by kind), on the calendar of
/// its department's region.
pub(crate) async fn write_case_deadlines(
    conn: &mut Conn,
    backend: Backend,
    case_id: i64,
    deadlines: &[TrackedDeadline],
    now: Timestamp,
) -> Result<(), StoreError> {
    if deadlines.is_empty() {
        return Ok(());
    }
    sqlx::query(upsert_sql_with(
        backend,
        &case_region("$2"),
        "$1",
        "$2",
        "$3",
        "true",
    ))
    .bind(deadline_rows(deadlines)?)
    .bind(case_id)
    .bind(micros(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The region code of the department of case `case` (an SQL expression).
pub(crate) fn case_region(case: &str) -> String {
    format!(
        "(SELECT d.region_code FROM cases c JOIN departments d ON d.id = c.department_id WHERE c.id = {case})"
    )
}

/// The deadlines as the JSON array [`upsert_sql`] reads.
pub(crate) fn deadline_rows(deadlines: &[TrackedDeadline]) -> Result<String, StoreError> {
    let rows: Vec<serde_json::Value> = deadlines
        .iter()
        .map(|t| {
            Ok(serde_json::json!({
                "kind": t.kind.key(),
                "start": date_text(t.deadline.start),
                "amount": t.deadline.limit.amount,
                "unit": t.deadline.limit.unit.key(),
                "pauses": serde_json::to_string(&t.deadline.pauses).map_err(StoreError::backend)?,
                "due": date_text(t.due),
                "state": t.state.key(),
            }))
        })
        .collect::<Result<_, StoreError>>()?;
    serde_json::to_string(&rows).map_err(StoreError::backend)
}

/// Upsert of the deadlines in the JSON parameter `rows` for the object
/// `object` at `now`, the region given by the SQL expression `region`. On
/// SQLite `guard` is the SELECT's condition (the transition fast path chains
/// on `changes()`).
pub(crate) fn upsert_sql_with(
    backend: Backend,
    region: &str,
    rows: &str,
    object: &str,
    now: &str,
    guard: &str,
) -> sqlx::AssertSqlSafe<String> {
    let columns =
        "object_kind, object_id, region, start_on, amount, unit, pauses, due_on, state, updated_at";
    let update = "ON CONFLICT (object_kind, object_id) DO UPDATE SET region = excluded.region, \
        start_on = excluded.start_on, amount = excluded.amount, unit = excluded.unit, \
        pauses = excluded.pauses, due_on = excluded.due_on, state = excluded.state, \
        updated_at = excluded.updated_at";
    sqlx::AssertSqlSafe(match backend {
        Backend::Sqlite => format!(
            "INSERT INTO deadlines ({columns}) \
             SELECT j.value->>'kind', {object}, {region}, j.value->>'start', j.value->>'amount', \
             j.value->>'unit', j.value->>'pauses', j.value->>'due', j.value->>'state', {now} \
             FROM json_each({rows}) j WHERE {guard} {update}"
        ),
        Backend::Postgres => format!(
            "INSERT INTO deadlines ({columns}) \
             SELECT j.kind, {object}, {region}, j.start, j.amount, j.unit, j.pauses, j.due, j.state, {now} \
             FROM jsonb_to_recordset(CAST({rows} AS jsonb)) AS j(kind text, start text, amount bigint, \
             unit text, pauses text, due text, state text) {update}"
        ),
    })
}

/// A deadline as the index holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRecord {
    pub id: i64,
    pub kind: DeadlineKind,
    pub object_id: i64,
    pub region: String,
    pub deadline: Deadline,
    pub due: Date,
    pub state: DeadlineState,
}

/// A deadline moved by a calendar change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineChange {
    pub deadline_id: i64,
    pub kind: DeadlineKind,
    pub old_due: Date,
    pub new_due: Date,
    pub reason: String,
    pub changed_at: Timestamp,
}

/// A new local override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOverride {
    pub region: String,
    pub date: Date,
    pub kind: OverrideKind,
    pub reason: String,
}

/// An override as stored, with who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRecord {
    #[serde(flatten)]
    pub day: CalendarOverride,
    pub created_by: Option<i64>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
}

/// What a calendar change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recomputed {
    /// Open deadlines whose period contains a changed day.
    pub examined: u64,
    /// Those whose due day moved.
    pub moved: u64,
}

/// The result of adding or revoking an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideApplied {
    pub record: OverrideRecord,
    pub recomputed: Recomputed,
}

const DEADLINE_COLUMNS: &str =
    "id, object_kind, object_id, region, start_on, amount, unit, pauses, due_on, state";

fn record_from(row: &AnyRow) -> Result<DeadlineRecord, StoreError> {
    let bad = |what: &str, v: &str| StoreError::Backend(format!("bad {what} {v:?} in deadlines"));
    let kind: String = row.try_get("object_kind")?;
    let unit: String = row.try_get("unit")?;
    let state: String = row.try_get("state")?;
    let pauses: String = row.try_get("pauses")?;
    let pauses: Vec<Pause> = serde_json::from_str(&pauses).map_err(|_| bad("pauses", &pauses))?;
    Ok(DeadlineRecord {
        id: row.try_get("id")?,
        kind: DeadlineKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        object_id: row.try_get("object_id")?,
        region: row.try_get("region")?,
        deadline: Deadline {
            start: parse_date(&row.try_get::<String, _>("start_on")?)?,
            limit: TimeLimit {
                amount: u32::try_from(row.try_get::<i64, _>("amount")?).unwrap_or(0),
                unit: LimitUnit::parse(&unit).ok_or_else(|| bad("unit", &unit))?,
            },
            pauses,
        },
        due: parse_date(&row.try_get::<String, _>("due_on")?)?,
        state: DeadlineState::parse(&state).ok_or_else(|| bad("state", &state))?,
    })
}

fn override_from(row: &AnyRow) -> Result<OverrideRecord, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(OverrideRecord {
        day: CalendarOverride {
            id: row.try_get("id")?,
            region: row.try_get("region")?,
            date: parse_date(&row.try_get::<String, _>("day")?)?,
            kind: OverrideKind::parse(&kind)
                .ok_or_else(|| StoreError::Backend(format!("bad override kind {kind:?}")))?,
            reason: row.try_get("reason")?,
        },
        created_by: row.try_get("created_by")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_micros)
            .transpose()?,
        revoke_reason: row.try_get("revoke_reason")?,
    })
}

const OVERRIDE_COLUMNS: &str =
    "id, region, day, kind, reason, created_by, created_at, revoked_at, revoke_reason";

async fn overrides_in_force(conn: &mut Conn) -> Result<Vec<CalendarOverride>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {OVERRIDE_COLUMNS} FROM calendar_overrides WHERE revoked_at IS NULL ORDER BY day, id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| override_from(r).map(|o| o.day))
        .collect()
}

/// The calendar in force, shared by a store's clones.
pub(crate) type CalendarSlot = Arc<std::sync::RwLock<Arc<CalendarBook>>>;

const GENERATION: &str = "calendar_generation";

async fn current_generation(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COALESCE(MAX(value), 0) AS generation FROM counters WHERE name = $1")
            .bind(GENERATION)
            .fetch_one(&mut *conn)
            .await?
            .try_get("generation")?,
    )
}

/// Inside a write job, after the calendar changed on the days `from..=to`:
/// counts a new calendar generation (so commands decided on the old one are
/// decided again), recomputes the open deadlines the days touch, and puts the
/// new calendar in force for the jobs after this one (they commit with it, or
/// fail with it: the caller reloads the calendar when the write fails).
async fn calendar_changed(
    conn: &mut Conn,
    backend: Backend,
    slot: &CalendarSlot,
    (from, to): (Date, Date),
    why: &str,
    now: Timestamp,
) -> Result<Recomputed, StoreError> {
    let generation: i64 = sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(GENERATION)
    .fetch_one(&mut *conn)
    .await?
    .try_get("value")?;
    let book = Arc::new(CalendarBook::new(
        overrides_in_force(conn).await?,
        generation,
    ));
    let recomputed = recompute(conn, backend, &book, from, to, why, now).await?;
    *slot.write().unwrap_or_else(|e| e.into_inner()) = book;
    Ok(recomputed)
}

/// Recomputes, inside a write job, the open deadlines whose counting period
/// (after the start day, through the due day) contains a day in `from..=to`.
///
/// Deadlines with the same region, start, limit, pauses and due day have the
/// same new due day: they are read as groups, each group's due day is
/// computed once, and the groups that moved are applied with set-based
/// statements (a change record per deadline, the deadlines, the cases' own
/// due days), so a change touching a million deadlines is a handful of
/// statements, not a million.
pub(crate) async fn recompute(
    conn: &mut Conn,
    backend: Backend,
    book: &CalendarBook,
    from: Date,
    to: Date,
    reason: &str,
    now: Timestamp,
) -> Result<Recomputed, StoreError> {
    #[derive(Serialize)]
    struct Moved {
        region: String,
        start: String,
        amount: i64,
        unit: String,
        pauses: String,
        old: String,
        due: String,
    }
    let rows = sqlx::query(
        "SELECT region, start_on, amount, unit, pauses, due_on, COUNT(*) AS n FROM deadlines \
         WHERE state <> 'ended' AND due_on >= $1 AND start_on < $2 \
         GROUP BY region, start_on, amount, unit, pauses, due_on",
    )
    .bind(date_text(from))
    .bind(date_text(to))
    .fetch_all(&mut *conn)
    .await?;
    let mut calendars: std::collections::HashMap<String, Arc<ChinaCalendar>> = Default::default();
    let (mut examined, mut moved_count) = (0u64, 0u64);
    let mut moved: Vec<Moved> = Vec::new();
    for row in &rows {
        let bad = |what: &str| StoreError::Backend(format!("bad {what} in deadlines"));
        let region: String = row.try_get("region")?;
        let unit: String = row.try_get("unit")?;
        let amount: i64 = row.try_get("amount")?;
        let pauses: String = row.try_get("pauses")?;
        let old: String = row.try_get("due_on")?;
        let start: String = row.try_get("start_on")?;
        let count = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
        let deadline = Deadline {
            start: parse_date(&start)?,
            limit: TimeLimit {
                amount: u32::try_from(amount).map_err(|_| bad("amount"))?,
                unit: LimitUnit::parse(&unit).ok_or_else(|| bad("unit"))?,
            },
            pauses: serde_json::from_str(&pauses).map_err(|_| bad("pauses"))?,
        };
        let calendar = calendars
            .entry(region.clone())
            .or_insert_with(|| book.for_region(&region));
        let due = date_text(deadline.due(calendar.as_ref()));
        examined += count;
        if due != old {
            moved_count += count;
            moved.push(Moved {
                region,
                start,
                amount,
                unit,
                pauses,
                old,
                due,
            });
        }
    }
    if !moved.is_empty() {
        let last_change: i64 =
            sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM deadline_changes")
                .fetch_one(&mut *conn)
                .await?
                .try_get("id")?;
        let json = serde_json::to_string(&moved).map_err(StoreError::backend)?;
        let [changes, deadlines, cases] = recompute_statements(backend);
        sqlx::query(sqlx::AssertSqlSafe(changes))
            .bind(&json)
            .bind(micros(now))
            .bind(reason)
            .execute(&mut *conn)
            .await?;
        for sql in [deadlines, cases] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(last_change)
                .bind(micros(now))
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(Recomputed {
        examined,
        moved: moved_count,
    })
}

/// The statements that apply moved groups of deadlines: a change record for
/// each deadline of each group ($1: JSON of the groups, $2: now, $3: the
/// reason); then, from the change records after record $1 ($2: now), the
/// deadlines' due days and the cases' promised and statutory due days.
fn recompute_statements(backend: Backend) -> [String; 3] {
    // The groups as a table of plain columns (on SQLite materialized once,
    // not re-read from JSON for every row compared); on SQLite `CROSS JOIN`
    // keeps the few groups as the outer loop, each finding its deadlines
    // through the index on open due days.
    let (groups, join) = match backend {
        Backend::Sqlite => (
            "WITH g AS MATERIALIZED (SELECT value->>'region' AS region, value->>'start' AS start, \
             value->>'amount' AS amount, value->>'unit' AS unit, value->>'pauses' AS pauses, \
             value->>'old' AS old, value->>'due' AS due FROM json_each($1))",
            "CROSS JOIN",
        ),
        Backend::Postgres => (
            "WITH g AS (SELECT * FROM jsonb_to_recordset(CAST($1 AS jsonb)) AS j(region text, \
             start text, amount bigint, unit text, pauses text, old text, due text))",
            "JOIN",
        ),
    };
    let case_due = |kind: &str| {
        format!(
            "(SELECT d.due_on FROM deadlines d WHERE d.object_kind = '{kind}' AND d.object_id = cases.id)"
        )
    };
    [
        format!(
            "{groups} INSERT INTO deadline_changes (deadline_id, old_due, new_due, reason, changed_at) \
             SELECT d.id, g.old, g.due, $3, $2 FROM g {join} deadlines d \
             ON d.state <> 'ended' AND d.due_on = g.old AND d.start_on = g.start \
             AND d.amount = g.amount AND d.unit = g.unit AND d.pauses = g.pauses AND d.region = g.region"
        ),
        "UPDATE deadlines SET due_on = c.new_due, updated_at = $2 FROM deadline_changes c \
         WHERE c.id > $1 AND deadlines.id = c.deadline_id"
            .to_string(),
        format!(
            "UPDATE cases SET promised_due = COALESCE({}, promised_due), \
             statutory_due = COALESCE({}, statutory_due), version = version + 1, updated_at = $2 \
             WHERE id IN (SELECT d.object_id FROM deadline_changes c JOIN deadlines d ON d.id = c.deadline_id \
             WHERE c.id > $1 AND d.object_kind IN ('case_promised', 'case_statutory'))",
            case_due("case_promised"),
            case_due("case_statutory")
        ),
    ]
}

impl Store {
    /// The calendar book in force (shipped data plus the overrides loaded).
    pub fn calendars(&self) -> Arc<CalendarBook> {
        self.calendars
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The calendar of `region`.
    pub fn calendar_for(&self, region: &str) -> Arc<ChinaCalendar> {
        self.calendars().for_region(region)
    }

    /// Reads the overrides in force (after migrating, and to pick up another
    /// node's changes).
    pub async fn load_calendar(&self) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        let generation = current_generation(&mut conn).await?;
        let overrides = overrides_in_force(&mut conn).await?;
        *self.calendars.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(CalendarBook::new(overrides, generation));
        Ok(())
    }

    /// Reloads the calendar when another node (or a failed write) left this
    /// one behind the database's generation.
    pub async fn refresh_calendar(&self) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        if current_generation(&mut conn).await? != self.calendars().generation() {
            drop(conn);
            self.load_calendar().await?;
        }
        Ok(())
    }

    /// Runs a calendar-changing job; when it fails, the calendar it may have
    /// put in force is replaced by the database's.
    async fn change_calendar<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> futures::future::BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let result = self.write(job).await;
        if result.is_err()
            && let Err(e) = self.load_calendar().await
        {
            tracing::warn!("cannot reload the calendar after a failed change: {e}");
        }
        result
    }

    /// When the shipped holiday data differs from the data the open
    /// deadlines were computed with (a new year's arrangement after an
    /// upgrade), recomputes them all in one job. Returns what it did, or
    /// `None` when the data was already in use.
    pub async fn adopt_shipped_calendar(
        &self,
        now: Timestamp,
    ) -> Result<Option<Recomputed>, StoreError> {
        let marker = format!("calendar_data:{}", shipped_fingerprint());
        let slot = Arc::clone(&self.calendars);
        let backend = self.backend();
        self.change_calendar(move |conn| {
            Box::pin(async move {
                let seen = sqlx::query("SELECT value FROM counters WHERE name = $1")
                    .bind(&marker)
                    .fetch_optional(&mut *conn)
                    .await?;
                if seen.is_some() {
                    return Ok(None);
                }
                let years: Vec<i16> = ChinaCalendar::shipped().shipped_years().collect();
                let reason = format!(
                    "节假日数据更新（已收录{}年至{}年国务院节假日安排）",
                    years.first().copied().unwrap_or_default(),
                    years.last().copied().unwrap_or_default()
                );
                let all =
                    calendar_changed(conn, backend, &slot, (Date::MIN, Date::MAX), &reason, now)
                        .await?;
                sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 1)")
                    .bind(&marker)
                    .execute(&mut *conn)
                    .await?;
                Ok(Some(all))
            })
        })
        .await
    }

    /// The overrides, in force and revoked, newest day first.
    pub async fn overrides(&self) -> Result<Vec<OverrideRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {OVERRIDE_COLUMNS} FROM calendar_overrides ORDER BY day DESC, id DESC"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(override_from).collect()
    }

    /// Adds a local override, audits it, and recomputes the deadlines it
    /// touches — all in one transaction.
    pub async fn add_override(
        &self,
        new: NewOverride,
        actor: i64,
        now: Timestamp,
    ) -> Result<OverrideApplied, StoreError> {
        let reason = new.reason.trim().to_string();
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "请填写调整原因").into());
        }
        if reason.chars().count() > 200 {
            return Err(DomainError::invalid("reason", "调整原因不超过200字").into());
        }
        let region = new.region.trim().to_string();
        if region.len() > 12 || !region.chars().all(|c| c.is_ascii_digit()) {
            return Err(
                DomainError::invalid("region", "区划代码须为数字（留空表示全部区域）").into(),
            );
        }
        let backend = self.backend();
        let slot = Arc::clone(&self.calendars);
        self.change_calendar(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO calendar_overrides (region, day, kind, reason, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {OVERRIDE_COLUMNS}"
                    )))
                    .bind(&region)
                    .bind(date_text(new.date))
                    .bind(new.kind.key())
                    .bind(&reason)
                    .bind(actor)
                    .bind(micros(now))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| match StoreError::from(e) {
                        StoreError::Conflict(_) => StoreError::Domain(DomainError::invalid(
                            "date",
                            "该日期在此区域已有调整，请先撤销原调整",
                        )),
                        other => other,
                    })?;
                    let record = override_from(&row)?;
                    let detail = serde_json::json!({
                        "region": record.day.region, "date": date_text(record.day.date),
                        "kind": record.day.kind.key(), "reason": record.day.reason,
                    });
                    audit::append(conn, now, Entry {
                        actor: &format!("staff:{actor}"),
                        action: "calendar_override",
                        object_kind: "calendar",
                        object_id: &record.day.id.to_string(),
                        detail: &detail,
                    })
                    .await?;
                    let why = format!(
                        "日历调整：{}{}（{}）",
                        date_text(record.day.date),
                        record.day.kind.label(),
                        record.day.reason
                    );
                    let day = record.day.date;
                    let recomputed =
                        calendar_changed(conn, backend, &slot, (day, day), &why, now).await?;
                    Ok(OverrideApplied { record, recomputed })
                })
            })
            .await
    }

    /// Revokes an override (it stays on record), audited, and recomputes the
    /// deadlines it touched — in one transaction.
    pub async fn revoke_override(
        &self,
        id: i64,
        reason: &str,
        actor: i64,
        now: Timestamp,
    ) -> Result<OverrideApplied, StoreError> {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "请填写撤销原因").into());
        }
        let backend = self.backend();
        let slot = Arc::clone(&self.calendars);
        self.change_calendar(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE calendar_overrides SET revoked_by = $1, revoked_at = $2, revoke_reason = $3 \
                         WHERE id = $4 AND revoked_at IS NULL RETURNING {OVERRIDE_COLUMNS}"
                    )))
                    .bind(actor)
                    .bind(micros(now))
                    .bind(&reason)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::not_found("calendar override"))?;
                    let record = override_from(&row)?;
                    audit::append(conn, now, Entry {
                        actor: &format!("staff:{actor}"),
                        action: "calendar_override_revoke",
                        object_kind: "calendar",
                        object_id: &id.to_string(),
                        detail: &serde_json::json!({ "reason": reason }),
                    })
                    .await?;
                    let why = format!(
                        "撤销日历调整：{}{}（{}）",
                        date_text(record.day.date),
                        record.day.kind.label(),
                        reason
                    );
                    let day = record.day.date;
                    let recomputed =
                        calendar_changed(conn, backend, &slot, (day, day), &why, now).await?;
                    Ok(OverrideApplied { record, recomputed })
                })
            })
            .await
    }

    /// The deadlines of a case, in kind order.
    pub async fn case_deadlines(&self, case_id: i64) -> Result<Vec<DeadlineRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEADLINE_COLUMNS} FROM deadlines WHERE object_kind IN ({}) AND object_id = $1 ORDER BY id",
            case_kinds()
        )))
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
    }

    /// The calendar changes that moved a case's deadlines, oldest first.
    pub async fn case_deadline_changes(
        &self,
        case_id: i64,
    ) -> Result<Vec<DeadlineChange>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.deadline_id, d.object_kind, c.old_due, c.new_due, c.reason, c.changed_at \
             FROM deadline_changes c JOIN deadlines d ON d.id = c.deadline_id \
             WHERE d.object_kind IN ({}) AND d.object_id = $1 ORDER BY c.id",
            case_kinds()
        )))
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("object_kind")?;
                Ok(DeadlineChange {
                    deadline_id: r.try_get("deadline_id")?,
                    kind: DeadlineKind::parse(&kind)
                        .ok_or_else(|| StoreError::Backend(format!("bad kind {kind:?}")))?,
                    old_due: parse_date(&r.try_get::<String, _>("old_due")?)?,
                    new_due: parse_date(&r.try_get::<String, _>("new_due")?)?,
                    reason: r.try_get("reason")?,
                    changed_at: from_micros(r.try_get("changed_at")?)?,
                })
            })
            .collect()
    }
}

/// The deadline kinds of a case, as an SQL list.
fn case_kinds() -> String {
    DeadlineKind::ALL
        .iter()
        .filter(|k| k.key().starts_with("case_"))
        .map(|k| format!("'{}'", k.key()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A short fingerprint of the shipped holiday data.
fn shipped_fingerprint() -> String {
    let cal = ChinaCalendar::shipped();
    let text: String = cal
        .shipped_years()
        .filter_map(|y| cal.arrangement(y))
        .map(|a| serde_json::to_string(a).unwrap_or_default())
        .collect();
    onewindow_core::audit::sm3_hex(text.as_bytes())[..16].to_string()
}
