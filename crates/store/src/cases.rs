//! Cases: submit, apply a command, look up, list, the timeline.

use jiff::Timestamp;
use onewindow_core::DomainError;
use onewindow_core::case::{
    Applicant, Case, CaseClock, CaseFacts, CaseState, Channel, Outcome, SupplementWait, Transition,
};
use onewindow_core::catalog::ItemStatus;
use onewindow_core::staff::Role;
use serde::{Deserialize, Serialize};
// Dynamic SQL here only splices column lists and placeholders, never input.
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::{self, Entry};
use crate::cache::Caches;
use crate::catalog::{ServiceItem, load_item};
use crate::db::{
    contains_pattern, date_text, flag, from_micros, micros, parse_date, parse_opt_date,
};
use crate::files::{FileInfo, NewFile, insert_file};
use crate::idempotency::IdempotencyKey;
use crate::staff::{StaffMember, load_staff};
use crate::{Backend, Conn, Store, StoreError};
use std::sync::Arc;

/// An application to file.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub item_id: i64,
    pub channel: Channel,
    pub applicant: Applicant,
    pub form: serde_json::Value,
    /// Materials handed in: the material's name and the file.
    pub materials: Vec<(String, NewFile)>,
    /// The clerk who registered it at the window, if any.
    pub registered_by: Option<i64>,
}

/// Who gives a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Staff(i64),
    Applicant,
    System,
}

impl Who {
    pub(crate) fn audit_actor(self) -> String {
        match self {
            Who::Staff(id) => format!("staff:{id}"),
            Who::Applicant => "applicant".into(),
            Who::System => "system".into(),
        }
    }
    fn staff_id(self) -> Option<i64> {
        match self {
            Who::Staff(id) => Some(id),
            _ => None,
        }
    }
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseEvent {
    pub id: i64,
    pub case_id: i64,
    pub action: String,
    pub from_state: Option<CaseState>,
    pub to_state: CaseState,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    /// The absent A when B acted.
    pub on_behalf_of: Option<i64>,
    pub on_behalf_name: Option<String>,
    pub at: Timestamp,
    pub detail: serde_json::Value,
}

/// A command's result: the case after it and the event recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    pub case: Case,
    pub event: CaseEvent,
    /// The answer recorded for an earlier request with the same idempotency
    /// key, given again: this request changed nothing.
    #[serde(skip)]
    pub replayed: bool,
}

/// What a command's decision function sees, read together in one query
/// (see [`Store::case_context`]).
#[derive(Debug, Clone)]
pub struct CaseContext {
    pub case: Case,
    /// The region code of the case's department.
    pub region: String,
    /// That region's calendar in force, to decide the command on.
    pub calendar: Arc<onewindow_core::calendar::ChinaCalendar>,
    /// The calendar's generation: the transition is written only while it is
    /// still current.
    pub calendar_generation: i64,
    pub item: std::sync::Arc<ServiceItem>,
    pub assignee: Option<StaffMember>,
}

/// A material handed in with a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMaterial {
    pub material_name: String,
    pub file: FileInfo,
}

/// A query over cases.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub department_id: Option<i64>,
    pub item_id: Option<i64>,
    pub state: Option<CaseState>,
    /// Case number or applicant name, partial.
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

const CASE_FIELDS: &str = "id, number, item_id, department_id, channel, applicant_name, applicant_phone, \
    applicant_id_number, applicant_org, form, state, step_index, received_on, supplement_requested, \
    deemed_accepted, clock_start, paused_working_days, suspension, outcome, \
    clock, assignee_id, version, submitted_at, updated_at";

/// The due day of deadline `kind` of the case in table `t` (an SQL expression).
fn case_due(t: &str, kind: &str) -> String {
    format!(
        "(SELECT COALESCE(d.final_due, s.due_on) FROM object_deadlines d \
         JOIN deadline_schedules s ON s.id = d.schedule_id \
         WHERE d.object_kind = '{kind}' AND d.object_id = {t}.id)"
    )
}

/// The columns [`case_from`] reads, of the cases table named `t`: its own,
/// and the promised and statutory due days from the deadlines index.
fn case_columns(t: &str) -> String {
    let mut columns: Vec<String> = CASE_FIELDS
        .split(", ")
        .map(|c| format!("{t}.{}", c.trim()))
        .collect();
    columns.push(format!("{} AS promised_due", case_due(t, "case_promised")));
    columns.push(format!(
        "{} AS statutory_due",
        case_due(t, "case_statutory")
    ));
    columns.join(", ")
}

static CASE_COLUMNS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| case_columns("cases"));

fn case_from(row: &AnyRow) -> Result<Case, StoreError> {
    let bad =
        |what: &str, value: &str| StoreError::Backend(format!("bad {what} {value:?} in cases"));
    let state: String = row.try_get("state")?;
    let channel: String = row.try_get("channel")?;
    let form: String = row.try_get("form")?;
    let suspension: Option<String> = row.try_get("suspension")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    let clock: Option<String> = row.try_get("clock")?;
    let (clock, supplement_wait) = match clock {
        Some(text) => clock_from_text(&text).ok_or_else(|| bad("clock", &text))?,
        None => (None, None),
    };
    let facts = CaseFacts {
        state: CaseState::parse(&state).ok_or_else(|| bad("state", &state))?,
        step_index: u32::try_from(row.try_get::<i64, _>("step_index")?).unwrap_or(0),
        received_on: parse_date(&row.try_get::<String, _>("received_on")?)?,
        supplement_requested: row.try_get::<i64, _>("supplement_requested")? != 0,
        deemed_accepted: row.try_get::<i64, _>("deemed_accepted")? != 0,
        clock_start: parse_opt_date(row.try_get("clock_start")?)?,
        promised_due: parse_opt_date(row.try_get("promised_due")?)?,
        statutory_due: parse_opt_date(row.try_get("statutory_due")?)?,
        paused_working_days: u32::try_from(row.try_get::<i64, _>("paused_working_days")?)
            .unwrap_or(0),
        suspension: suspension
            .map(|s| serde_json::from_str(&s).map_err(|_| bad("suspension", &s)))
            .transpose()?,
        outcome: outcome
            .map(|o| Outcome::parse(&o).ok_or_else(|| bad("outcome", &o)))
            .transpose()?,
        clock,
        supplement_wait,
    };
    Ok(Case {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        item_id: row.try_get("item_id")?,
        department_id: row.try_get("department_id")?,
        channel: match channel.as_str() {
            "online" => Channel::Online,
            "window" => Channel::Window,
            _ => return Err(bad("channel", &channel)),
        },
        applicant: Applicant {
            name: row.try_get("applicant_name")?,
            phone: row.try_get("applicant_phone")?,
            id_number: row.try_get("applicant_id_number")?,
            organization: row.try_get("applicant_org")?,
        },
        form: serde_json::from_str(&form).map_err(|_| bad("form", &form))?,
        facts,
        assignee_id: row.try_get("assignee_id")?,
        version: row.try_get("version")?,
        submitted_at: from_micros(row.try_get("submitted_at")?)?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

/// The `clock` column: what the case's deadlines are computed from — the
/// accepted case's [`CaseClock`] (its fields at the top level) and, once a
/// supplement notice went out, the wait under `supplement_wait`. NULL when
/// there is neither.
fn clock_text(facts: &CaseFacts) -> Result<Option<String>, StoreError> {
    let mut value = match (&facts.clock, &facts.supplement_wait) {
        (None, None) => return Ok(None),
        (Some(clock), _) => serde_json::to_value(clock).map_err(StoreError::backend)?,
        (None, Some(_)) => serde_json::json!({}),
    };
    if let Some(wait) = &facts.supplement_wait {
        value["supplement_wait"] = serde_json::to_value(wait).map_err(StoreError::backend)?;
    }
    Ok(Some(value.to_string()))
}

/// Reads what [`clock_text`] wrote (or a bare [`CaseClock`], as older rows
/// hold it).
fn clock_from_text(text: &str) -> Option<(Option<CaseClock>, Option<SupplementWait>)> {
    let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = value.as_object_mut()?;
    let wait = match object.remove("supplement_wait") {
        Some(wait) => Some(serde_json::from_value(wait).ok()?),
        None => None,
    };
    let clock = if object.is_empty() {
        None
    } else {
        Some(serde_json::from_value(value).ok()?)
    };
    Some((clock, wait))
}

fn event_from(row: &AnyRow) -> Result<CaseEvent, StoreError> {
    let from: Option<String> = row.try_get("from_state")?;
    let to: String = row.try_get("to_state")?;
    let detail: String = row.try_get("detail")?;
    Ok(CaseEvent {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        action: row.try_get("action")?,
        from_state: from.as_deref().and_then(CaseState::parse),
        to_state: CaseState::parse(&to)
            .ok_or_else(|| StoreError::Backend(format!("bad state {to}")))?,
        actor_id: row.try_get("actor_id")?,
        actor_name: row.try_get("actor_name")?,
        on_behalf_of: row.try_get("on_behalf_of")?,
        on_behalf_name: row.try_get("on_behalf_name")?,
        at: from_micros(row.try_get("at")?)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
    })
}

const EVENT_SELECT: &str = "SELECT e.id, e.case_id, e.action, e.from_state, e.to_state, e.actor_id, \
    a.name AS actor_name, e.on_behalf_of, b.name AS on_behalf_name, e.at, e.detail \
    FROM case_events e LEFT JOIN staff a ON a.id = e.actor_id LEFT JOIN staff b ON b.id = e.on_behalf_of";

/// The A post holders of `role` in a department, in id order: the people
/// holding the role who are nobody's backup, else the first holding it.
async fn post_holders(
    conn: &mut Conn,
    department_id: i64,
    role: Role,
) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.roles, (SELECT COUNT(*) FROM staff a WHERE a.backup_id = s.id) AS backs_up \
         FROM staff s WHERE s.department_id = $1 ORDER BY s.id",
    )
    .bind(department_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut holders = Vec::new();
    let mut fallback = None;
    for row in rows {
        let roles: String = row.try_get("roles")?;
        if !roles.split(',').any(|r| r == role.key()) {
            continue;
        }
        let id: i64 = row.try_get("id")?;
        if row.try_get::<i64, _>("backs_up")? == 0 {
            holders.push(id);
        } else {
            fallback.get_or_insert(id);
        }
    }
    if holders.is_empty() {
        holders.extend(fallback);
    }
    Ok(holders)
}

/// Of several holders of one post, the one holding the fewest open cases
/// (the lowest id among equals), so that a department's handlers share the
/// work; one holder (or none) needs no count.
async fn least_loaded(conn: &mut Conn, holders: &[i64]) -> Result<Option<i64>, StoreError> {
    if holders.len() <= 1 {
        return Ok(holders.first().copied());
    }
    let placeholders: Vec<String> = (1..=holders.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT assignee_id, COUNT(*) AS open FROM cases \
         WHERE assignee_id IN ({}) AND pending_role IS NOT NULL GROUP BY assignee_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for id in holders {
        query = query.bind(*id);
    }
    let mut open: std::collections::HashMap<i64, i64> = Default::default();
    for row in query.fetch_all(&mut *conn).await? {
        open.insert(row.try_get("assignee_id")?, row.try_get("open")?);
    }
    Ok(holders
        .iter()
        .copied()
        .min_by_key(|id| (open.get(id).copied().unwrap_or(0), *id)))
}

/// Routes the case's next work: the window's queue is shared by the
/// department's clerks; a step goes to a holder of its post.
async fn route(
    conn: &mut Conn,
    department_id: i64,
    role: Option<Role>,
) -> Result<Option<i64>, StoreError> {
    match role {
        None | Some(Role::WindowClerk) => Ok(None),
        Some(role) => {
            let holders = post_holders(conn, department_id, role).await?;
            least_loaded(conn, &holders).await
        }
    }
}

/// Inside a write job, after a staff member's department or roles changed:
/// the open cases they hold and can no longer work on (another department,
/// or the pending step's role gone) go to the posts' holders now, and
/// their versions move on so that a command decided before is decided
/// again. Returns the ids of the cases handed on.
pub(crate) async fn hand_on_held_cases(
    conn: &mut Conn,
    staff: &StaffMember,
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, department_id, pending_role FROM cases \
         WHERE assignee_id = $1 AND pending_role IS NOT NULL ORDER BY id",
    )
    .bind(staff.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut handed_on = Vec::new();
    for row in rows {
        let department_id: i64 = row.try_get("department_id")?;
        let role = Role::parse(&row.try_get::<String, _>("pending_role")?);
        if department_id == staff.department_id && role.is_some_and(|r| staff.has(r)) {
            continue;
        }
        let id: i64 = row.try_get("id")?;
        let holder = route(conn, department_id, role).await?;
        sqlx::query(
            "UPDATE cases SET assignee_id = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(holder)
        .bind(micros(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
        handed_on.push(id);
    }
    Ok(handed_on)
}

/// One transition to record in a case's timeline.
struct NewEvent<'a> {
    case_id: i64,
    action: &'a str,
    from: Option<CaseState>,
    to: CaseState,
    who: Who,
    on_behalf_of: Option<i64>,
    at: Timestamp,
    detail: &'a serde_json::Value,
}

async fn insert_event(conn: &mut Conn, event: NewEvent<'_>) -> Result<i64, StoreError> {
    let NewEvent {
        case_id,
        action,
        from,
        to,
        who,
        on_behalf_of,
        at,
        detail,
    } = event;
    let row = sqlx::query(
        "INSERT INTO case_events (case_id, action, from_state, to_state, actor_id, on_behalf_of, at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(case_id)
    .bind(action)
    .bind(from.map(|s| s.key()))
    .bind(to.key())
    .bind(who.staff_id())
    .bind(on_behalf_of)
    .bind(micros(at))
    .bind(detail.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// The case with its item's current version and its assignee (columns
/// `a_*`), for [`Store::case_context`].
static CONTEXT_QUERY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {}, i.version AS item_version, a.id AS a_id, a.login AS a_login, a.name AS a_name, \
         a.department_id AS a_department_id, a.roles AS a_roles, a.backup_id AS a_backup_id, \
         a.absent AS a_absent, a.phone AS a_phone, dep.region_code AS region \
         FROM cases c JOIN service_items i ON i.id = c.item_id JOIN departments dep ON dep.id = c.department_id \
         LEFT JOIN staff a ON a.id = c.assignee_id \
         WHERE c.id = $1",
        case_columns("c")
    )
});

fn assignee_from(row: &AnyRow) -> Result<Option<StaffMember>, StoreError> {
    let Some(id) = row.try_get::<Option<i64>, _>("a_id")? else {
        return Ok(None);
    };
    let roles: String = row.try_get("a_roles")?;
    Ok(Some(StaffMember {
        id,
        login: row.try_get("a_login")?,
        name: row.try_get("a_name")?,
        department_id: row.try_get("a_department_id")?,
        roles: onewindow_core::staff::parse_roles(&roles)
            .map_err(|r| StoreError::Backend(format!("bad role {r}")))?,
        backup_id: row.try_get("a_backup_id")?,
        absent: row.try_get::<i64, _>("a_absent")? != 0,
        phone: row.try_get("a_phone")?,
    }))
}

/// A decided transition, ready to write.
struct TransitionWrite {
    /// The case as it was read: the update applies only to this version.
    case: Case,
    transition: Transition,
    who: Who,
    on_behalf_of: Option<i64>,
    actor_name: Option<String>,
    on_behalf_name: Option<String>,
    pending: Option<Role>,
    assignee_id: Option<i64>,
    now: Timestamp,
    calendar_generation: i64,
    /// The region code of the case's department: its deadlines' calendar.
    region: String,
}

/// The case update both write paths start with: the new facts, guarded by the
/// version the transition was decided on and the calendar generation it was
/// decided with. Parameters $1 to $16.
const CASE_UPDATE: &str = "UPDATE cases SET state = $1, step_index = $2, received_on = $3, \
    supplement_requested = $4, deemed_accepted = $5, clock_start = $6, \
    paused_working_days = $7, suspension = $8, outcome = $9, \
    pending_role = $10, assignee_id = $11, version = version + 1, updated_at = $12, clock = $15 \
    WHERE id = $13 AND version = $14 \
    AND $16 = (SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'calendar_generation')";

/// The whole SQLite transition (see [`write_transition_sqlite`]), between its
/// own savepoint and release: the case update (at the version and calendar
/// generation it was decided on, onto the audit head it chains to), then the
/// event and the audit entry, each only when the statement before changed a
/// row (the `audit_head_follows` trigger advances the head), then the
/// deadlines the transition set, only when its audit entry was written.
static TRANSITION_SQLITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    // The case update itself runs only onto the audit head the entry is
    // chained to, so every statement writes or none does.
    let case_update = CASE_UPDATE.replace(
        "WHERE id = $13 AND version = $14",
        "WHERE id = $13 AND version = $14 \
         AND EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = $24 AND hash = $29)",
    );
    let deadlines = crate::clock::upsert_sql(
        Backend::Sqlite,
        "$31",
        "$30",
        "$13",
        // Only when this transition's audit entry was written.
        "EXISTS (SELECT 1 FROM audit_log WHERE seq = $22 AND hash = $23)",
    )
    .join("; ");
    format!(
        "SAVEPOINT transition; {case_update}; \
         INSERT INTO case_events (case_id, action, from_state, to_state, actor_id, on_behalf_of, at, detail) \
         SELECT $13, $17, $18, $1, $19, $20, $12, $21 WHERE changes() = 1 RETURNING id; \
         INSERT INTO audit_log (seq, at, actor, action, object_kind, object_id, detail, prev_hash, hash) \
         SELECT $22, $25, $26, $17, 'case', $27, $28, $29, $23 WHERE changes() = 1 RETURNING seq; \
         {deadlines}; RELEASE SAVEPOINT transition"
    )
});

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

impl TransitionWrite {
    /// Binds [`CASE_UPDATE`]'s parameters.
    fn bind_case_update<'q>(&self, query: AnyQuery<'q>) -> Result<AnyQuery<'q>, StoreError> {
        let facts = &self.transition.facts;
        let suspension = facts
            .suspension
            .as_ref()
            .map(|s| serde_json::to_string(s).map_err(StoreError::backend))
            .transpose()?;
        let clock = clock_text(facts)?;
        Ok(query
            .bind(facts.state.key())
            .bind(i64::from(facts.step_index))
            .bind(date_text(facts.received_on))
            .bind(flag(facts.supplement_requested))
            .bind(flag(facts.deemed_accepted))
            .bind(facts.clock_start.map(date_text))
            .bind(i64::from(facts.paused_working_days))
            .bind(suspension)
            .bind(facts.outcome.map(Outcome::key))
            .bind(self.pending.map(Role::key))
            .bind(self.assignee_id)
            .bind(micros(self.now))
            .bind(self.case.id)
            .bind(self.case.version)
            .bind(clock)
            .bind(self.calendar_generation))
    }

    /// The case and its new event as written, without reading them back.
    fn into_applied(self, event_id: i64) -> Applied {
        let TransitionWrite {
            case,
            transition,
            who,
            on_behalf_of,
            actor_name,
            on_behalf_name,
            assignee_id,
            now,
            ..
        } = self;
        let event = CaseEvent {
            id: event_id,
            case_id: case.id,
            action: transition.action.key().to_string(),
            from_state: Some(transition.from),
            to_state: transition.facts.state,
            actor_id: who.staff_id(),
            actor_name,
            on_behalf_of,
            on_behalf_name,
            at: now,
            detail: transition.detail,
        };
        let case = Case {
            facts: transition.facts,
            assignee_id,
            version: case.version + 1,
            updated_at: now,
            ..case
        };
        Applied {
            case,
            event,
            replayed: false,
        }
    }
}

/// Marks a transition decided on a version that is no longer current.
const STALE: &str = "stale case version";

/// Marks a transition written against an audit head that had moved.
const STALE_AUDIT_HEAD: &str = "stale audit head";

fn is_stale_audit_head(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(m) if m == STALE_AUDIT_HEAD)
}

fn is_stale(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(m) if m == STALE)
}

/// Writes a transition: the case update (guarded by the version it was decided
/// on), its timeline event and its audit entry. Runs in a write job.
async fn write_transition(
    conn: &mut Conn,
    write: TransitionWrite,
    backend: Backend,
    caches: Arc<Caches>,
) -> Result<Applied, StoreError> {
    if backend == Backend::Sqlite {
        return write_transition_sqlite(conn, write, &caches).await;
    }
    let TransitionWrite {
        case,
        transition,
        who,
        on_behalf_of,
        now,
        ..
    } = &write;
    let (who, on_behalf_of, now) = (*who, *on_behalf_of, *now);
    let updated = write
        .bind_case_update(sqlx::query(CASE_UPDATE))?
        .execute(&mut *conn)
        .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict(STALE.into()));
    }
    let action = transition.action.key();
    let event_id = insert_event(
        conn,
        NewEvent {
            case_id: case.id,
            action,
            from: Some(transition.from),
            to: transition.facts.state,
            who,
            on_behalf_of,
            at: now,
            detail: &transition.detail,
        },
    )
    .await?;
    let detail = audit::case_detail(transition, on_behalf_of);
    audit::append(
        conn,
        now,
        Entry {
            actor: &who.audit_actor(),
            action,
            object_kind: "case",
            object_id: &case.id.to_string(),
            detail: &detail,
        },
    )
    .await?;
    crate::clock::write_case_deadlines(
        conn,
        backend,
        case.id,
        &write.region,
        &transition.deadlines,
    )
    .await?;
    Ok(write.into_applied(event_id))
}

/// [`write_transition`] on SQLite in one round trip (two when the audit head
/// is not cached): one multi-statement query updates the case (only at the
/// version and calendar generation it was decided on), inserts the event, the
/// audit entry (only onto the head it was chained to) and the deadlines. Each
/// statement runs only when the one before wrote, so a stale version writes
/// nothing. (sqlx runs several SQLite statements with numbered
/// parameters in one call; PostgreSQL's protocol takes one statement at a
/// time, so it keeps the plain path.)
async fn write_transition_sqlite(
    conn: &mut Conn,
    write: TransitionWrite,
    caches: &Caches,
) -> Result<Applied, StoreError> {
    let TransitionWrite {
        case,
        transition,
        who,
        on_behalf_of,
        now,
        ..
    } = &write;
    let (who, on_behalf_of, now) = (*who, *on_behalf_of, *now);
    let cached = caches.audit_head();
    let head_was_cached = cached.is_some();
    let (prev_seq, prev_hash): (i64, String) = match cached {
        Some(head) => head,
        None => {
            let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
            (head.try_get("seq")?, head.try_get("hash")?)
        }
    };
    let action = transition.action.key();
    let actor = who.audit_actor();
    let object_id = case.id.to_string();
    let at = now.to_string();
    let audit_detail = audit::case_detail(transition, on_behalf_of).to_string();
    let seq = prev_seq + 1;
    let hash = onewindow_core::audit::chain_hash(
        &prev_hash,
        &onewindow_core::audit::AuditRecord {
            seq,
            at: &at,
            actor: &actor,
            action,
            object_kind: "case",
            object_id: &object_id,
            detail: &audit_detail,
        },
    );
    let rows = write
        .bind_case_update(sqlx::query(AssertSqlSafe(TRANSITION_SQLITE.as_str())))?
        .bind(action)
        .bind(transition.from.key())
        .bind(who.staff_id())
        .bind(on_behalf_of)
        .bind(transition.detail.to_string())
        .bind(seq)
        .bind(&hash)
        .bind(prev_seq)
        .bind(&at)
        .bind(&actor)
        .bind(&object_id)
        .bind(&audit_detail)
        .bind(&prev_hash)
        .bind(crate::clock::deadline_rows(&transition.deadlines)?)
        .bind(&write.region)
        .fetch_all(&mut *conn)
        .await;
    // The query keeps its writes all-or-nothing by itself (the writer runs it
    // as a self-contained job): a statement failing half-way is undone here.
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT transition; RELEASE SAVEPOINT transition")
                .execute(&mut *conn)
                .await?;
            return Err(e.into());
        }
    };
    // Success returns the event's id and the audit entry's seq.
    let event_id = rows.iter().find_map(|r| r.try_get::<i64, _>("id").ok());
    let audit_seq = rows.iter().find_map(|r| r.try_get::<i64, _>("seq").ok());
    let event_id = match (event_id, audit_seq) {
        (Some(event_id), Some(_)) => event_id,
        _ if head_was_cached => {
            // Nothing was written: the case moved on, or the head moved since
            // this process last wrote it (another writer, another kind of
            // audit entry). Read the head afresh and try again; if nothing is
            // written then either, it is the case that moved.
            caches.set_audit_head(None);
            return Err(StoreError::Conflict(STALE_AUDIT_HEAD.into()));
        }
        _ => return Err(StoreError::Conflict(STALE.into())),
    };
    caches.set_audit_head(Some((seq, hash)));
    Ok(write.into_applied(event_id))
}

/// `at` as the database keeps it (whole microseconds), so what a write returns
/// equals what a later read gives.
fn stored_precision(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}

fn version_conflict() -> StoreError {
    StoreError::Conflict("办件已被他人处理（版本已变化），请刷新后重试".into())
}

impl Store {
    /// Files an application for a published item and gives it its number.
    pub async fn submit_case(
        &self,
        new: NewCase,
        idempotency: Option<IdempotencyKey>,
        now: Timestamp,
    ) -> Result<Applied, StoreError> {
        new.applicant.validate()?;
        if !new.form.is_object() {
            return Err(DomainError::invalid("form", "申请表单须为键值对象").into());
        }
        let region = self.region_code().to_string();
        let now = stored_precision(now);
        let calendars = Arc::clone(&self.calendars);
        let backend = self.backend();
        let caches = Arc::clone(&self.caches);
        let answer = self.write_once(idempotency, now, move |conn| {
            Box::pin(async move {
                let item = load_item(conn, new.item_id).await.map_err(|e| match e {
                    StoreError::NotFound { .. } => StoreError::Domain(DomainError::invalid("item_id", "所申请的事项不存在")),
                    other => other,
                })?;
                if item.status != ItemStatus::Published {
                    return Err(DomainError::ItemNotPublished.into());
                }
                // The item's own form fields, every problem at once.
                let text_of = |key: &str| match new.form.get(key) {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let values: Vec<(String, Option<String>)> = item
                    .guide
                    .form_fields
                    .iter()
                    .map(|f| (f.key.clone(), text_of(&f.key)))
                    .collect();
                let value_of = |key: &str| {
                    values.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_deref())
                };
                if let Err(errors) = onewindow_core::catalog::check_form(&item.guide.form_fields, value_of) {
                    return Err(DomainError::invalid_fields(errors).into());
                }
                let clerk_name = match new.registered_by {
                    Some(clerk) => {
                        let clerk = load_staff(conn, clerk).await?;
                        if !clerk.has(Role::WindowClerk) {
                            return Err(DomainError::RoleRequired { role: Role::WindowClerk.key() }.into());
                        }
                        Some(clerk.name)
                    }
                    None => None,
                };
                let day = onewindow_core::calendar::civil_date(now);
                let counter = format!("case:{region}:{}", day.strftime("%Y%m%d"));
                let seq: i64 = sqlx::query(
                    "INSERT INTO counters (name, value) VALUES ($1, 1) \
                     ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
                )
                .bind(&counter)
                .fetch_one(&mut *conn)
                .await?
                .try_get("value")?;
                let number = format!("{region}-{}-{seq:05}", day.strftime("%Y%m%d"));
                let facts = CaseFacts::submitted(now);
                let pending = facts.pending_role(&item.guide.steps);
                let row = sqlx::query(
                    "INSERT INTO cases (number, item_id, department_id, channel, applicant_name, applicant_phone, \
                     applicant_id_number, applicant_org, form, state, received_on, pending_role, submitted_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
                )
                .bind(&number)
                .bind(item.id)
                .bind(item.department_id)
                .bind(new.channel.key())
                .bind(new.applicant.name.trim())
                .bind(new.applicant.phone.trim())
                .bind(new.applicant.id_number.trim())
                .bind(new.applicant.organization.trim())
                .bind(new.form.to_string())
                .bind(facts.state.key())
                .bind(date_text(facts.received_on))
                .bind(pending.map(|r| r.key()))
                .bind(micros(now))
                .fetch_one(&mut *conn)
                .await?;
                let case_id: i64 = row.try_get("id")?;
                let department_region = match caches.region(item.department_id) {
                    Some(region) => region,
                    None => {
                        let region: String =
                            sqlx::query("SELECT region_code FROM departments WHERE id = $1")
                                .bind(item.department_id)
                                .fetch_one(&mut *conn)
                                .await?
                                .try_get("region_code")?;
                        caches.put_region(item.department_id, region.clone());
                        region
                    }
                };
                // The calendar in force when this job runs: a calendar change
                // earlier in the same batch is already in it.
                let calendar = calendars
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .for_region(&department_region);
                let deadlines = facts.deadlines(calendar.as_ref());
                crate::clock::write_case_deadlines(conn, backend, case_id, &department_region, &deadlines)
                    .await?;
                for (material_name, file) in &new.materials {
                    let info = insert_file(conn, file, now).await?;
                    sqlx::query("INSERT INTO case_materials (case_id, material_name, file_id, added_at) VALUES ($1, $2, $3, $4)")
                        .bind(case_id)
                        .bind(material_name)
                        .bind(info.id)
                        .bind(micros(now))
                        .execute(&mut *conn)
                        .await?;
                }
                let who = new.registered_by.map(Who::Staff).unwrap_or(Who::Applicant);
                let detail = serde_json::json!({
                    "number": number, "item": item.guide.name, "channel": new.channel.key(),
                    "materials": new.materials.len(),
                });
                let event_id = insert_event(conn, NewEvent {
                    case_id,
                    action: "submit",
                    from: None,
                    to: CaseState::Submitted,
                    who,
                    on_behalf_of: None,
                    at: now,
                    detail: &detail,
                })
                .await?;
                let head = audit::append_head(conn, now, Entry {
                    actor: &who.audit_actor(),
                    action: "submit",
                    object_kind: "case",
                    object_id: &case_id.to_string(),
                    detail: &detail,
                })
                .await?;
                // The next transition chains onto this entry without reading
                // the head (guarded: a rolled-back job only costs a retry).
                caches.set_audit_head(Some(head));
                // What was written, without reading it back.
                let event = CaseEvent {
                    id: event_id,
                    case_id,
                    action: "submit".into(),
                    from_state: None,
                    to_state: CaseState::Submitted,
                    actor_id: who.staff_id(),
                    actor_name: clerk_name,
                    on_behalf_of: None,
                    on_behalf_name: None,
                    at: now,
                    detail,
                };
                let applicant = Applicant {
                    name: new.applicant.name.trim().to_string(),
                    phone: new.applicant.phone.trim().to_string(),
                    id_number: new.applicant.id_number.trim().to_string(),
                    organization: new.applicant.organization.trim().to_string(),
                };
                let case = Case {
                    id: case_id,
                    number,
                    item_id: item.id,
                    department_id: item.department_id,
                    channel: new.channel,
                    applicant,
                    form: new.form,
                    facts,
                    assignee_id: None,
                    version: 1,
                    submitted_at: now,
                    updated_at: now,
                };
                Ok(Applied { case, event, replayed: false })
            })
        })
        .await?;
        Ok(Applied {
            replayed: answer.replayed,
            ..answer.value
        })
    }

    /// Applies a command with optimistic concurrency.
    ///
    /// The case, its item and its assignee are read on the read pool, `decide`
    /// (authorization and the core state machine) produces the transition,
    /// and the writer applies it only if the case still has the version that
    /// was read, together with its event and audit entry. When someone else
    /// changed the case in between, the command is decided again on the new
    /// state; with `expected_version` given it is refused as a conflict
    /// instead. Keeping the reads off the single writer lets many requests
    /// prepare their transitions in parallel while the writer only writes.
    pub async fn apply_command<F>(
        &self,
        case_id: i64,
        expected_version: Option<i64>,
        who: Who,
        idempotency: Option<IdempotencyKey>,
        now: Timestamp,
        decide: F,
    ) -> Result<Applied, StoreError>
    where
        F: Fn(&CaseContext) -> Result<(Transition, Option<i64>), StoreError>,
    {
        // A repeated request is answered from its record before anything is
        // decided again (the case has moved on since its first answer).
        if let Some(key) = &idempotency
            && let Some(applied) = self.idempotent_answer::<Applied>(key).await?
        {
            return Ok(Applied {
                replayed: true,
                ..applied
            });
        }
        const ATTEMPTS: usize = 8;
        let backend = self.backend();
        let now = stored_precision(now);
        for attempt in 1..=ATTEMPTS {
            let context = self.case_context(case_id).await?;
            if expected_version.is_some_and(|v| v != context.case.version) {
                return Err(version_conflict());
            }
            let (transition, on_behalf_of) = decide(&context)?;
            let pending = transition.facts.pending_role(&context.item.guide.steps);
            let assignee_id = self.routed(context.case.department_id, pending).await?;
            let actor_name = match who.staff_id() {
                Some(id) => Some(self.staff_name(id).await?),
                None => None,
            };
            let on_behalf_name = context
                .assignee
                .as_ref()
                .filter(|a| Some(a.id) == on_behalf_of)
                .map(|a| a.name.clone());
            let write = TransitionWrite {
                calendar_generation: context.calendar_generation,
                region: context.region,
                case: context.case,
                transition,
                who,
                on_behalf_of,
                actor_name,
                on_behalf_name,
                pending,
                assignee_id,
                now,
            };
            let caches = Arc::clone(&self.caches);
            let result = if backend == Backend::Sqlite && idempotency.is_none() {
                // One multi-statement query between its own savepoint and
                // release: the writer needs no savepoint round trip for it.
                self.writer
                    .run_self_contained(move |conn| {
                        Box::pin(write_transition(conn, write, backend, caches))
                    })
                    .await
            } else {
                self.write_once(idempotency.clone(), now, move |conn| {
                    Box::pin(write_transition(conn, write, backend, caches))
                })
                .await
                .map(|answer| Applied {
                    replayed: answer.replayed,
                    ..answer.value
                })
            };
            match result {
                Err(e) if is_stale_audit_head(&e) && attempt < ATTEMPTS => continue,
                Err(e) if is_stale(&e) && expected_version.is_none() && attempt < ATTEMPTS => {
                    // Someone else moved the case, or the calendar changed.
                    self.refresh_calendar().await?;
                    continue;
                }
                Err(e) if is_stale(&e) => {
                    self.refresh_calendar().await?;
                    return Err(version_conflict());
                }
                other => return other,
            }
        }
        Err(version_conflict())
    }

    /// What a command is decided on: the case, its item, its assignee, read
    /// in one query (the item itself comes from the cache while its version
    /// is current).
    pub async fn case_context(&self, case_id: i64) -> Result<CaseContext, StoreError> {
        let row = sqlx::query(AssertSqlSafe(CONTEXT_QUERY.as_str()))
            .bind(case_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::not_found("case"))?;
        let case = case_from(&row)?;
        let item_version: i64 = row.try_get("item_version")?;
        let assignee = assignee_from(&row)?;
        let item = match self.caches.item(case.item_id, item_version) {
            Some(item) => item,
            None => {
                let mut conn = self.pool().acquire().await?;
                let item = std::sync::Arc::new(load_item(&mut conn, case.item_id).await?);
                self.caches.put_item(item.clone());
                item
            }
        };
        let region: String = row.try_get("region")?;
        let calendars = self.calendars();
        Ok(CaseContext {
            case,
            calendar: calendars.for_region(&region),
            calendar_generation: calendars.generation(),
            region,
            item,
            assignee,
        })
    }

    /// The A post holder a case's next work goes to (see [`route`]); the
    /// holders of a post are cached, their loads counted only when there
    /// are several.
    async fn routed(
        &self,
        department_id: i64,
        role: Option<Role>,
    ) -> Result<Option<i64>, StoreError> {
        let Some(role) = role.filter(|r| *r != Role::WindowClerk) else {
            return Ok(None);
        };
        let holders = match self.caches.holders(department_id, role) {
            Some(holders) => holders,
            None => {
                let mut conn = self.pool().acquire().await?;
                let holders = post_holders(&mut conn, department_id, role).await?;
                self.caches
                    .put_holders(department_id, role, holders.clone());
                holders
            }
        };
        if holders.len() <= 1 {
            return Ok(holders.first().copied());
        }
        let mut conn = self.pool().acquire().await?;
        least_loaded(&mut conn, &holders).await
    }

    async fn staff_name(&self, staff_id: i64) -> Result<String, StoreError> {
        if let Some(name) = self.caches.name(staff_id) {
            return Ok(name);
        }
        let mut conn = self.pool().acquire().await?;
        let name = load_staff(&mut conn, staff_id).await?.name;
        self.caches.put_name(staff_id, name.clone());
        Ok(name)
    }

    pub async fn case(&self, id: i64) -> Result<Case, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM cases WHERE id = $1",
            *CASE_COLUMNS
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("case"))?;
        case_from(&row)
    }

    pub async fn case_by_number(&self, number: &str) -> Result<Case, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM cases WHERE number = $1",
            *CASE_COLUMNS
        )))
        .bind(number.trim())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("case"))?;
        case_from(&row)
    }

    /// The public look-up: the number and the applicant's phone must both match;
    /// a wrong phone reads as "not found", so numbers cannot be probed.
    pub async fn lookup_case(&self, number: &str, phone: &str) -> Result<Case, StoreError> {
        let case = self.case_by_number(number).await?;
        if case.applicant.phone.trim() != phone.trim() {
            return Err(StoreError::not_found("case"));
        }
        Ok(case)
    }

    pub async fn case_events(&self, case_id: i64) -> Result<Vec<CaseEvent>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{EVENT_SELECT} WHERE e.case_id = $1 ORDER BY e.id"
        )))
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from).collect()
    }

    pub async fn case_materials(&self, case_id: i64) -> Result<Vec<CaseMaterial>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.material_name, f.id, f.name, f.content_type, f.size, f.sm3 FROM case_materials m \
             JOIN files f ON f.id = m.file_id WHERE m.case_id = $1 ORDER BY m.id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CaseMaterial {
                    material_name: row.try_get("material_name")?,
                    file: FileInfo {
                        id: row.try_get("id")?,
                        name: row.try_get("name")?,
                        content_type: row.try_get("content_type")?,
                        size: row.try_get("size")?,
                        sm3: row.try_get("sm3")?,
                    },
                })
            })
            .collect()
    }

    /// The work queue of a person: cases of their department whose next work
    /// needs one of their roles and is theirs, unassigned, or an absent A's
    /// whom they back up. Most urgent first.
    pub async fn queue(&self, member: &StaffMember, limit: i64) -> Result<Vec<Case>, StoreError> {
        let roles: Vec<&str> = member.roles.iter().map(|r| r.key()).collect();
        if roles.is_empty() {
            return Ok(vec![]);
        }
        let placeholders: Vec<String> = (0..roles.len()).map(|i| format!("${}", i + 4)).collect();
        let sql = format!(
            "SELECT {} FROM cases WHERE department_id = $1 AND pending_role IN ({}) \
             AND (assignee_id IS NULL OR assignee_id = $2 \
                  OR assignee_id IN (SELECT id FROM staff WHERE backup_id = $2 AND absent = 1)) \
             ORDER BY COALESCE({}, received_on), id LIMIT $3",
            *CASE_COLUMNS,
            placeholders.join(", "),
            case_due("cases", "case_promised")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql))
            .bind(member.department_id)
            .bind(member.id)
            .bind(limit.clamp(1, 1000));
        for role in roles {
            query = query.bind(role);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(case_from).collect()
    }

    /// Cases matching a filter, newest first, and how many match in all.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<(Vec<Case>, i64), StoreError> {
        let text = filter.text.as_deref().and_then(contains_pattern);
        let condition = "($1 IS NULL OR department_id = $1) AND ($2 IS NULL OR item_id = $2) \
            AND ($3 IS NULL OR state = $3) \
            AND ($4 IS NULL OR lower(number) LIKE lower($4) ESCAPE '\\' \
                 OR lower(applicant_name) LIKE lower($4) ESCAPE '\\')";
        let limit = if filter.limit <= 0 {
            50
        } else {
            filter.limit.min(1000)
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM cases WHERE {condition} ORDER BY submitted_at DESC, id DESC LIMIT $5 OFFSET $6",
            *CASE_COLUMNS
        )))
        .bind(filter.department_id)
        .bind(filter.item_id)
        .bind(filter.state.map(|s| s.key()))
        .bind(text.clone())
        .bind(limit)
        .bind(filter.offset.max(0))
        .fetch_all(self.pool())
        .await?;
        let total: i64 = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM cases WHERE {condition}"
        )))
        .bind(filter.department_id)
        .bind(filter.item_id)
        .bind(filter.state.map(|s| s.key()))
        .bind(text)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok((rows.iter().map(case_from).collect::<Result<_, _>>()?, total))
    }

    /// How many cases are in each state.
    pub async fn case_counts(&self) -> Result<Vec<(CaseState, i64)>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM cases GROUP BY state")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .filter_map(|row| {
                let state: String = row.try_get("state").ok()?;
                Some(Ok((CaseState::parse(&state)?, row.try_get("n").ok()?)))
            })
            .collect()
    }
}

/// The assignee's id, absence and backup, as `onewindow_core::case::authorize`
/// takes them; used inside the decide function passed to
/// [`Store::apply_command`].
pub fn assignee_facts(assignee: &Option<StaffMember>) -> Option<(i64, bool, Option<i64>)> {
    assignee.as_ref().map(|a| (a.id, a.absent, a.backup_id))
}

// ---------------------------------------------------------------------------
// The staff's case list (`/work/cases`) and the cards shown beside cases.

/// Which cases the staff's case list shows. Every condition is optional; the
/// days are Asia/Shanghai days, both ends included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseListFilter {
    pub department_id: Option<i64>,
    pub state: Option<CaseState>,
    /// Part of the item's name or code.
    pub item: Option<String>,
    /// Part of the case number or of the applicant's name.
    pub text: Option<String>,
    /// Received (submitted) on or after this day.
    pub received_from: Option<jiff::civil::Date>,
    /// Received (submitted) on or before this day.
    pub received_to: Option<jiff::civil::Date>,
    /// Completed (办结: delivered) on or after this day.
    pub completed_from: Option<jiff::civil::Date>,
    /// Completed (办结: delivered) on or before this day.
    pub completed_to: Option<jiff::civil::Date>,
    /// Only open cases (their promised deadline running or paused, not
    /// ended) whose promised deadline fell before this day, as the
    /// supervision dashboard counts them.
    pub overdue_on: Option<jiff::civil::Date>,
    pub limit: i64,
    pub offset: i64,
}

/// A case of the staff's case list, with the names the list shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedCase {
    pub case: Case,
    pub item_name: String,
    pub department_name: String,
    /// When it was completed (delivered), if it was.
    pub completed_at: Option<Timestamp>,
}

/// How many cards (revoked ones left out) of one level a case holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCards {
    pub case_id: i64,
    pub level: onewindow_core::supervision::Level,
    pub count: i64,
}

/// A value bound to a placeholder of a dynamically assembled statement.
enum Param {
    Int(i64),
    Text(String),
}

/// Midnight in Shanghai at the start of `day`, in the stored microseconds.
fn day_start_micros(day: jiff::civil::Date) -> Result<i64, StoreError> {
    day.to_zoned_datetime(onewindow_core::calendar::china_zone())
        .map(|z| micros(z.timestamp()))
        .map_err(|e| StoreError::Backend(format!("start of {day}: {e}")))
}

/// Midnight in Shanghai at the end of `day` (the next day's start).
fn day_end_micros(day: jiff::civil::Date) -> Result<i64, StoreError> {
    let next = day
        .tomorrow()
        .map_err(|e| StoreError::Backend(format!("day after {day}: {e}")))?;
    day_start_micros(next)
}

impl CaseListFilter {
    /// The WHERE clause over `cases c JOIN service_items i` and its
    /// parameters, numbered from `$1`. Only the conditions asked for are
    /// written, so each query is planned for what it filters on.
    fn condition(&self) -> Result<(String, Vec<Param>), StoreError> {
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let next = |params: &mut Vec<Param>, value: Param| {
            params.push(value);
            format!("${}", params.len())
        };
        if let Some(id) = self.department_id {
            let p = next(&mut params, Param::Int(id));
            conditions.push(format!("c.department_id = {p}"));
        }
        if let Some(state) = self.state {
            let p = next(&mut params, Param::Text(state.key().to_string()));
            conditions.push(format!("c.state = {p}"));
        }
        if let Some(pattern) = self.item.as_deref().and_then(contains_pattern) {
            let p = next(&mut params, Param::Text(pattern));
            conditions.push(format!(
                "(lower(i.name) LIKE lower({p}) ESCAPE '\\' OR lower(i.code) LIKE lower({p}) ESCAPE '\\')"
            ));
        }
        if let Some(pattern) = self.text.as_deref().and_then(contains_pattern) {
            let p = next(&mut params, Param::Text(pattern));
            conditions.push(format!(
                "(lower(c.number) LIKE lower({p}) ESCAPE '\\' OR lower(c.applicant_name) LIKE lower({p}) ESCAPE '\\')"
            ));
        }
        if let Some(from) = self.received_from {
            let p = next(&mut params, Param::Int(day_start_micros(from)?));
            conditions.push(format!("c.submitted_at >= {p}"));
        }
        if let Some(to) = self.received_to {
            let p = next(&mut params, Param::Int(day_end_micros(to)?));
            conditions.push(format!("c.submitted_at < {p}"));
        }
        if self.completed_from.is_some() || self.completed_to.is_some() {
            let mut delivered = vec![
                "e.case_id = c.id".to_string(),
                "e.action = 'deliver'".to_string(),
            ];
            if let Some(from) = self.completed_from {
                let p = next(&mut params, Param::Int(day_start_micros(from)?));
                delivered.push(format!("e.at >= {p}"));
            }
            if let Some(to) = self.completed_to {
                let p = next(&mut params, Param::Int(day_end_micros(to)?));
                delivered.push(format!("e.at < {p}"));
            }
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM case_events e WHERE {})",
                delivered.join(" AND ")
            ));
        }
        if let Some(day) = self.overdue_on {
            // The dashboard's "open cases past their promised deadline".
            let p = next(&mut params, Param::Text(date_text(day)));
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM object_deadlines d \
                 JOIN deadline_schedules s ON s.id = d.schedule_id \
                 WHERE d.object_kind = 'case_promised' AND d.object_id = c.id \
                 AND d.state <> 'ended' AND s.due_on < {p})"
            ));
        }
        let condition = if conditions.is_empty() {
            "1 = 1".to_string()
        } else {
            conditions.join(" AND ")
        };
        Ok((condition, params))
    }
}

fn bind_params<'q>(mut query: AnyQuery<'q>, params: &[Param]) -> AnyQuery<'q> {
    for param in params {
        query = match param {
            Param::Int(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.clone()),
        };
    }
    query
}

impl Store {
    /// The staff's case list: cases matching `filter`, newest first (by the
    /// instant they were submitted), one page of them, and how many match in
    /// all. Received means submitted and completed means delivered, as the
    /// supervision dashboard counts them, so its figures drill down here.
    pub async fn case_list(
        &self,
        filter: &CaseListFilter,
    ) -> Result<(Vec<ListedCase>, i64), StoreError> {
        let (condition, params) = filter.condition()?;
        let limit = if filter.limit <= 0 {
            50
        } else {
            filter.limit.min(500)
        };
        let n = params.len();
        let sql = format!(
            "SELECT {}, i.name AS item_name, dep.name AS department_name, \
             (SELECT MAX(e.at) FROM case_events e WHERE e.case_id = c.id AND e.action = 'deliver') \
               AS completed_at \
             FROM cases c JOIN service_items i ON i.id = c.item_id \
             JOIN departments dep ON dep.id = c.department_id \
             WHERE {condition} ORDER BY c.submitted_at DESC, c.id DESC LIMIT ${} OFFSET ${}",
            case_columns("c"),
            n + 1,
            n + 2
        );
        let rows = bind_params(sqlx::query(AssertSqlSafe(sql)), &params)
            .bind(limit)
            .bind(filter.offset.max(0))
            .fetch_all(self.pool())
            .await?;
        let cases = rows
            .iter()
            .map(|row| {
                Ok(ListedCase {
                    case: case_from(row)?,
                    item_name: row.try_get("item_name")?,
                    department_name: row.try_get("department_name")?,
                    completed_at: row
                        .try_get::<Option<i64>, _>("completed_at")?
                        .map(from_micros)
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let sql = format!(
            "SELECT COUNT(*) AS n FROM cases c JOIN service_items i ON i.id = c.item_id \
             WHERE {condition}"
        );
        let total: i64 = bind_params(sqlx::query(AssertSqlSafe(sql)), &params)
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        Ok((cases, total))
    }

    /// The cards the given cases hold, per case and level, revoked cards left
    /// out: a card's case is its subject, or the case behind the deadline
    /// (a step, the promised or statutory limit, a card's answer) it is about.
    pub async fn case_cards(&self, case_ids: &[i64]) -> Result<Vec<CaseCards>, StoreError> {
        let mut ids = case_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        // Bounded lists of placeholders: SQLite allows 32,766 per statement.
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT case_id, level, COUNT(*) AS n FROM cards \
                 WHERE case_id IN ({}) AND state <> 'revoked' GROUP BY case_id, level",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(self.pool()).await? {
                let level: String = row.try_get("level")?;
                out.push(CaseCards {
                    case_id: row.try_get("case_id")?,
                    level: onewindow_core::supervision::Level::parse(&level).ok_or_else(|| {
                        StoreError::Backend(format!("bad level {level:?} in cards"))
                    })?,
                    count: row.try_get("n")?,
                });
            }
        }
        out.sort_by_key(|c| (c.case_id, c.level));
        Ok(out)
    }
}
