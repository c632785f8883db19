//! The deadlines index, calendar overrides and recomputation.
//!
//! Every deadline of every supervised object is a row of `object_deadlines`
//! (written in the same job as the change that set it) pointing at a
//! `deadline_schedules` row: start day, limit and pauses on one region's
//! calendar, with its due day. Deadlines that count alike share a schedule,
//! so changing the calendar — an override added or revoked, or new shipped
//! holiday data — recomputes in one job the schedules whose counting period
//! contains a changed day (thousands at most, however many objects point at
//! them), records each move in `schedule_changes`, and counts a new calendar
//! generation: a case transition is written only while the generation it was
//! decided on is current, so a command decided on the old calendar is decided
//! again on the new one.

use std::sync::Arc;

use futures::TryStreamExt;
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

/// Writes a case's deadlines (insert or update by kind), counted on the
/// calendar of `region` (its department's).
pub(crate) async fn write_case_deadlines(
    conn: &mut Conn,
    backend: Backend,
    case_id: i64,
    region: &str,
    deadlines: &[TrackedDeadline],
) -> Result<(), StoreError> {
    if deadlines.is_empty() {
        return Ok(());
    }
    let rows = deadline_rows(deadlines)?;
    for sql in upsert_sql(backend, "$3", "$1", "$2", "true") {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&rows)
            .bind(case_id)
            .bind(region)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
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

/// The two statements that write the deadlines in the JSON parameter `rows`
/// of object `object` (SQL expressions, which may read the rows' own
/// `object` and `region` fields as `j`'s columns), in the region given
/// by the SQL expression `region`: the schedules they count on (kept when they
/// exist: the same calendar gives the same due day), then the object's
/// deadlines pointing at them. Each runs only where `guard` holds.
pub(crate) fn upsert_sql(
    backend: Backend,
    region: &str,
    rows: &str,
    object: &str,
    guard: &str,
) -> [String; 2] {
    let source = crate::db::JsonRows::new(
        backend,
        rows,
        "j",
        &[
            ("kind", "text"),
            ("start", "text"),
            ("amount", "bigint"),
            ("unit", "text"),
            ("pauses", "text"),
            ("due", "text"),
            ("state", "text"),
            ("object", "bigint"),
            ("region", "text"),
            ("next", "text"),
        ],
    );
    let field = |f: &str| source.col(f);
    let source = source.source();
    // The last schedule change so far: the changes after it are this
    // deadline's (see `object_deadlines.linked_after`).
    let mark = "(SELECT COALESCE(MAX(id), 0) FROM schedule_changes)";
    let (kind, start, amount, unit, pauses, due, state) = (
        field("kind"),
        field("start"),
        field("amount"),
        field("unit"),
        field("pauses"),
        field("due"),
        field("state"),
    );
    // A row may carry the day of its next supervision check when it was
    // judged already; otherwise the next tick judges it from its start.
    let next = field("next");
    [
        format!(
            "INSERT INTO deadline_schedules (region, start_on, amount, unit, pauses, due_on) \
             SELECT {region}, {start}, {amount}, {unit}, {pauses}, {due} FROM {source} WHERE {guard} \
             ON CONFLICT (region, start_on, amount, unit, pauses) DO NOTHING"
        ),
        format!(
            "INSERT INTO object_deadlines (object_kind, object_id, schedule_id, state, linked_after, \
             ended_after, final_due, next_check_on) \
             SELECT {kind}, {object}, s.id, {state}, {mark}, CASE WHEN {state} = 'ended' THEN {mark} END, \
             CASE WHEN {state} = 'ended' THEN {due} END, CASE WHEN {state} = 'running' THEN COALESCE({next}, {start}) END \
             FROM {source} JOIN deadline_schedules s ON s.region = {region} AND s.start_on = {start} \
             AND s.amount = {amount} AND s.unit = {unit} AND s.pauses = {pauses} WHERE {guard} \
             ON CONFLICT (object_kind, object_id) DO UPDATE SET schedule_id = excluded.schedule_id, \
             state = excluded.state, next_check_on = excluded.next_check_on, \
             linked_after = CASE WHEN object_deadlines.schedule_id = excluded.schedule_id \
             THEN object_deadlines.linked_after ELSE excluded.linked_after END, \
             ended_after = CASE WHEN excluded.state <> 'ended' THEN NULL \
             ELSE COALESCE(object_deadlines.ended_after, excluded.ended_after) END, \
             final_due = CASE WHEN excluded.state <> 'ended' THEN NULL \
             ELSE COALESCE(object_deadlines.final_due, excluded.final_due) END"
        ),
    ]
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
    /// The schedules those deadlines share whose due day moved (each
    /// recomputed once, with one change record).
    pub schedules_moved: u64,
}

/// The result of adding or revoking an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideApplied {
    pub record: OverrideRecord,
    pub recomputed: Recomputed,
}

/// An object's deadline with its schedule (`d` and `s`).
/// An ended deadline keeps the due day it ended with.
const DEADLINE_COLUMNS: &str = "d.id, d.object_kind, d.object_id, s.region, s.start_on, s.amount, \
    s.unit, s.pauses, COALESCE(d.final_due, s.due_on) AS due_on, d.state";

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

/// Recomputes, inside a write job, the schedules whose counting period
/// (after the start day, through the due day) contains a day in `from..=to`,
/// records each move, and counts the open deadlines they carry.
///
/// Supervision judges again at its next tick only the deadlines on the
/// schedules that did not move later: a due day moved earlier brings the
/// warning and the overdue day earlier, and a day closed inside a period
/// counted in natural days leaves the due day but brings the warning earlier
/// (it counts working days). A due day moved later keeps its next check, which
/// can only be early: that tick finds nothing and sets the new one. So a
/// closure inside a million periods rewrites the schedules, not the million
/// deadlines.
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
        id: i64,
        old: String,
        due: String,
    }
    #[derive(Serialize)]
    struct Recheck {
        id: i64,
    }
    let mut calendars: std::collections::HashMap<String, Arc<ChinaCalendar>> = Default::default();
    let (mut examined, mut moved_count) = (0u64, 0u64);
    let mut moved: Vec<Moved> = Vec::new();
    let mut recheck: Vec<Recheck> = Vec::new();
    // Streamed: a change can touch a million schedules.
    let mut rows = sqlx::query(
        "SELECT s.id, s.region, s.start_on, s.amount, s.unit, s.pauses, s.due_on, \
         (SELECT COUNT(*) FROM object_deadlines d WHERE d.schedule_id = s.id AND d.state <> 'ended') AS open \
         FROM deadline_schedules s WHERE s.due_on >= $1 AND s.start_on < $2",
    )
    .bind(date_text(from))
    .bind(date_text(to))
    .fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let bad = |what: &str| StoreError::Backend(format!("bad {what} in deadline_schedules"));
        let region: String = row.try_get("region")?;
        let unit: String = row.try_get("unit")?;
        let pauses: String = row.try_get("pauses")?;
        let old: String = row.try_get("due_on")?;
        let open = u64::try_from(row.try_get::<i64, _>("open")?).unwrap_or(0);
        let deadline = Deadline {
            start: parse_date(&row.try_get::<String, _>("start_on")?)?,
            limit: TimeLimit {
                amount: u32::try_from(row.try_get::<i64, _>("amount")?)
                    .map_err(|_| bad("amount"))?,
                unit: LimitUnit::parse(&unit).ok_or_else(|| bad("unit"))?,
            },
            pauses: serde_json::from_str(&pauses).map_err(|_| bad("pauses"))?,
        };
        let calendar = calendars
            .entry(region.clone())
            .or_insert_with(|| book.for_region(&region));
        let due = date_text(deadline.due(calendar.as_ref()));
        examined += open;
        let id = row.try_get("id")?;
        // ISO dates compare as text.
        if due <= old {
            recheck.push(Recheck { id });
        }
        if due != old {
            moved_count += open;
            moved.push(Moved { id, old, due });
        }
    }
    drop(rows);
    let [schedules, changes, recheck_statement] = recompute_statements(backend);
    if !moved.is_empty() {
        let json = serde_json::to_string(&moved).map_err(StoreError::backend)?;
        sqlx::query(sqlx::AssertSqlSafe(schedules))
            .bind(&json)
            .execute(&mut *conn)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(changes))
            .bind(&json)
            .bind(micros(now))
            .bind(reason)
            .execute(&mut *conn)
            .await?;
    }
    if !recheck.is_empty() {
        let json = serde_json::to_string(&recheck).map_err(StoreError::backend)?;
        sqlx::query(sqlx::AssertSqlSafe(recheck_statement))
            .bind(&json)
            .bind(date_text(onewindow_core::calendar::civil_date(now)))
            .execute(&mut *conn)
            .await?;
    }
    Ok(Recomputed {
        examined,
        moved: moved_count,
        schedules_moved: moved.len() as u64,
    })
}

/// The statements that apply moved schedules ($1: JSON of the moves): their
/// due days, a change record for each ($2: now, $3: the reason); and the one
/// that checks today the open deadlines on the schedules of $1 (ids only; $2
/// is today).
fn recompute_statements(backend: Backend) -> [String; 3] {
    let (source, id, old, due) = match backend {
        Backend::Sqlite => (
            "json_each($1) g",
            "g.value->>'id'",
            "g.value->>'old'",
            "g.value->>'due'",
        ),
        Backend::Postgres => (
            "jsonb_to_recordset(CAST($1 AS jsonb)) AS g(id bigint, old text, due text)",
            "g.id",
            "g.old",
            "g.due",
        ),
    };
    [
        format!(
            "UPDATE deadline_schedules SET due_on = {due} FROM {source} WHERE deadline_schedules.id = {id}"
        ),
        format!(
            "INSERT INTO schedule_changes (schedule_id, old_due, new_due, reason, changed_at) \
             SELECT {id}, {old}, {due}, $3, $2 FROM {source}"
        ),
        format!(
            "UPDATE object_deadlines SET next_check_on = $2 WHERE state = 'running' \
             AND schedule_id IN (SELECT {id} FROM {source})"
        ),
    ]
}

/// Inside the job that added or revoked `record`: its audit entry, then the
/// calendar change on its day; each moved deadline records the day, the kind
/// of change and `why`.
#[allow(clippy::too_many_arguments)]
async fn override_changed(
    conn: &mut Conn,
    backend: Backend,
    slot: &CalendarSlot,
    record: OverrideRecord,
    actor: i64,
    action: &str,
    detail: serde_json::Value,
    why: &str,
    now: Timestamp,
) -> Result<OverrideApplied, StoreError> {
    audit::append(
        conn,
        now,
        Entry {
            actor: &crate::cases::Who::Staff(actor).audit_actor(),
            action,
            object_kind: "calendar",
            object_id: &record.day.id.to_string(),
            detail: &detail,
        },
    )
    .await?;
    let day = record.day.date;
    let why = format!("{}{}：{why}", date_text(day), record.day.kind.label());
    let recomputed = calendar_changed(conn, backend, slot, (day, day), &why, now).await?;
    Ok(OverrideApplied { record, recomputed })
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
                // The marker first: of several nodes starting at once, the
                // one whose insert wins recomputes; the others wait for its
                // commit on the marker's key and find nothing to do.
                let first = sqlx::query(
                    "INSERT INTO counters (name, value) VALUES ($1, 1) \
                     ON CONFLICT (name) DO NOTHING RETURNING value",
                )
                .bind(&marker)
                .fetch_optional(&mut *conn)
                .await?;
                if first.is_none() {
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
                    let why = record.day.reason.clone();
                    override_changed(conn, backend, &slot, record, actor, "calendar_override", detail, &why, now)
                        .await
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
                    let detail = serde_json::json!({ "reason": reason });
                    let why = format!("撤销：{reason}");
                    override_changed(conn, backend, &slot, record, actor, "calendar_override_revoke", detail, &why, now)
                        .await
                })
            })
            .await
    }

    /// The deadlines of a case, in the order of [`DeadlineKind::ALL`].
    pub async fn case_deadlines(&self, case_id: i64) -> Result<Vec<DeadlineRecord>, StoreError> {
        self.object_deadlines(&case_kinds(), case_id).await
    }

    /// The calendar changes that moved a case's deadlines, oldest first.
    pub async fn case_deadline_changes(
        &self,
        case_id: i64,
    ) -> Result<Vec<DeadlineChange>, StoreError> {
        self.object_deadline_changes(&case_kinds(), case_id).await
    }

    /// The answer deadline of a yellow or red card (the department's
    /// explanation or rectification), if it has one: a warning asks for none.
    pub async fn card_deadline(&self, card_id: i64) -> Result<Option<DeadlineRecord>, StoreError> {
        Ok(self
            .object_deadlines(&[DeadlineKind::CardRectification], card_id)
            .await?
            .into_iter()
            .next())
    }

    /// The calendar changes that moved a card's answer deadline, oldest first.
    pub async fn card_deadline_changes(
        &self,
        card_id: i64,
    ) -> Result<Vec<DeadlineChange>, StoreError> {
        self.object_deadline_changes(&[DeadlineKind::CardRectification], card_id)
            .await
    }

    /// The deadlines of `kinds` of the object `object_id` (the kinds name
    /// what the id is of), in the order of [`DeadlineKind::ALL`].
    async fn object_deadlines(
        &self,
        kinds: &[DeadlineKind],
        object_id: i64,
    ) -> Result<Vec<DeadlineRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEADLINE_COLUMNS} FROM object_deadlines d JOIN deadline_schedules s ON s.id = d.schedule_id \
             WHERE d.object_kind IN ({}) AND d.object_id = $1",
            kinds_sql(kinds)
        )))
        .bind(object_id)
        .fetch_all(self.pool())
        .await?;
        let mut records = rows
            .iter()
            .map(record_from)
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by_key(|r| DeadlineKind::ALL.iter().position(|k| *k == r.kind));
        Ok(records)
    }

    /// The calendar changes that moved the deadlines of `kinds` of the object
    /// `object_id` while they were its own and open, oldest first.
    async fn object_deadline_changes(
        &self,
        kinds: &[DeadlineKind],
        object_id: i64,
    ) -> Result<Vec<DeadlineChange>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT d.id AS deadline_id, d.object_kind, c.old_due, c.new_due, c.reason, c.changed_at \
             FROM object_deadlines d JOIN schedule_changes c ON c.schedule_id = d.schedule_id \
             WHERE d.object_kind IN ({}) AND d.object_id = $1 AND c.id > d.linked_after \
             AND (d.ended_after IS NULL OR c.id <= d.ended_after) ORDER BY c.id",
            kinds_sql(kinds)
        )))
        .bind(object_id)
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

/// The deadline kinds of a case.
fn case_kinds() -> Vec<DeadlineKind> {
    DeadlineKind::ALL
        .into_iter()
        .filter(|k| k.is_case())
        .collect()
}

/// Deadline kinds as an SQL list of their keys (fixed identifiers, never
/// user input).
fn kinds_sql(kinds: &[DeadlineKind]) -> String {
    kinds
        .iter()
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
