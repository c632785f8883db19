//! The supervision tick: judges the open deadlines whose next check has come
//! (an index range, never a scan of all cases), issues each warning or card
//! once, with its in-app notices, outbox messages and rectification deadline,
//! in one transaction, and sets each deadline's next check.
//!
//! Cards are unique per (subject, condition): ticks that overlap — two nodes
//! on one PostgreSQL database, or a tick repeated after a crash — insert a
//! card once and write its alerts only with the insert that won. A tick
//! killed half-way has committed nothing of its batch; the next one redoes it.
//!
//! The tick also applies art. 32 of the Administrative Licensing Law: an
//! application nobody decided on within its acceptance window is accepted by
//! the system as of receipt, each case in a transaction of its own, after the
//! silence itself was judged (so the window's card is still issued).

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::calendar::{TimeLimit, WorkCalendar, civil_date};
use onewindow_core::case::{CaseState, deemed_acceptance};
use onewindow_core::clock::{Deadline, DeadlineKind, DeadlineState, TrackedDeadline};
use onewindow_core::staff::{Role, parse_roles};
use onewindow_core::supervision::{
    Channel, EventFacts, Finding, ItemFacts, Level, Recipient, SupervisionRules, Watched,
    event_anomalies,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, Entry};
use crate::cases::Who;
use crate::db::{JsonRows, date_text, micros, parse_date};
use crate::{Backend, Conn, Store, StoreError};

/// How many deadlines one tick job judges; a tick runs jobs until none is due.
const BATCH: i64 = 1_000;

/// The last case event the anomaly rules have read.
const EVENT_CURSOR: &str = "supervision_event_cursor";

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    pub today: Option<Date>,
    /// Deadlines whose check had come.
    pub examined: u64,
    /// Cards issued (warnings included), by level key.
    pub issued: BTreeMap<String, u64>,
    /// The ids of the cards issued.
    pub card_ids: Vec<i64>,
    /// In-app notices written.
    pub notices: u64,
    /// Messages put in the outbox.
    pub messages: u64,
    /// The cases the system accepted as of receipt because nobody decided on
    /// them within the acceptance window (art. 32).
    #[serde(default)]
    pub deemed_accepted: Vec<i64>,
}

impl TickReport {
    pub fn issued_total(&self) -> u64 {
        self.issued.values().sum()
    }

    fn add(&mut self, batch: TickReport) {
        self.examined += batch.examined;
        for (level, n) in batch.issued {
            *self.issued.entry(level).or_default() += n;
        }
        self.card_ids.extend(batch.card_ids);
        self.notices += batch.notices;
        self.messages += batch.messages;
    }
}

/// A deadline due for its check, with what the rules and alerts need.
struct Candidate {
    id: i64,
    kind: DeadlineKind,
    object_id: i64,
    schedule_id: i64,
    region: String,
    start: Date,
    due: Date,
    checked: String,
    case_id: Option<i64>,
    case_number: String,
    department_id: Option<i64>,
    department_name: String,
    item_id: Option<i64>,
    item_code: String,
    item_name: String,
    instant: bool,
    handler_id: Option<i64>,
    /// The role whose work on the case is due (when no one holds it yet).
    pending_role: Option<Role>,
}

/// Someone who may be alerted.
struct Person {
    id: i64,
    department_id: i64,
    roles: Vec<Role>,
    backup_id: Option<i64>,
    phone: String,
    email: String,
}

const CANDIDATES: &str = "SELECT d.id, d.object_kind, d.object_id, d.schedule_id, d.next_check_on, \
    s.region, s.start_on, s.due_on, \
    COALESCE(c.id, k.case_id) AS case_id, COALESCE(c.number, kc.number, '') AS case_number, \
    COALESCE(c.department_id, k.department_id) AS department_id, COALESCE(dep.name, '') AS department_name, \
    COALESCE(c.item_id, k.item_id) AS item_id, COALESCE(i.code, '') AS item_code, \
    COALESCE(i.name, '') AS item_name, COALESCE(i.category, '') AS category, \
    COALESCE(c.assignee_id, k.handler_id) AS handler_id, c.pending_role \
    FROM object_deadlines d JOIN deadline_schedules s ON s.id = d.schedule_id \
    LEFT JOIN cases c ON d.object_kind <> 'card_rectification' AND c.id = d.object_id \
    LEFT JOIN cards k ON d.object_kind = 'card_rectification' AND k.id = d.object_id \
    LEFT JOIN cases kc ON kc.id = k.case_id \
    LEFT JOIN departments dep ON dep.id = COALESCE(c.department_id, k.department_id) \
    LEFT JOIN service_items i ON i.id = COALESCE(c.item_id, k.item_id) \
    WHERE d.next_check_on <= $1 AND d.state = 'running' \
    ORDER BY d.next_check_on, d.id LIMIT $2";

/// The cases still waiting for the acceptance decision whose window closed
/// before `$1`, found through the due days of their running acceptance
/// deadlines (an index range; a window paused for a supplement is not
/// running).
const UNANSWERED: &str = "SELECT d.object_id FROM deadline_schedules s \
    JOIN object_deadlines d ON d.schedule_id = s.id \
    JOIN cases c ON c.id = d.object_id \
    WHERE s.due_on < $1 AND d.object_kind = $2 AND d.state = 'running' AND c.state = $3 \
    ORDER BY d.object_id";

fn candidate_from(row: &sqlx::any::AnyRow) -> Result<Candidate, StoreError> {
    let kind: String = row.try_get("object_kind")?;
    let category: String = row.try_get("category")?;
    Ok(Candidate {
        id: row.try_get("id")?,
        kind: DeadlineKind::parse(&kind)
            .ok_or_else(|| StoreError::Backend(format!("bad deadline kind {kind:?}")))?,
        object_id: row.try_get("object_id")?,
        schedule_id: row.try_get("schedule_id")?,
        region: row.try_get("region")?,
        start: parse_date(&row.try_get::<String, _>("start_on")?)?,
        due: parse_date(&row.try_get::<String, _>("due_on")?)?,
        checked: row.try_get("next_check_on")?,
        case_id: row.try_get("case_id")?,
        case_number: row.try_get("case_number")?,
        department_id: row.try_get("department_id")?,
        department_name: row.try_get("department_name")?,
        item_id: row.try_get("item_id")?,
        item_code: row.try_get("item_code")?,
        item_name: row.try_get("item_name")?,
        instant: category == "instant",
        handler_id: row.try_get("handler_id")?,
        pending_role: row
            .try_get::<Option<String>, _>("pending_role")?
            .and_then(|r| Role::parse(&r)),
    })
}

/// A card to issue, as the insert statement reads it.
#[derive(Serialize)]
struct NewCard {
    /// The deadline the card is about (none for an anomaly in an event).
    od: Option<i64>,
    due: String,
    subject_kind: &'static str,
    subject_id: i64,
    condition: String,
    deadline_kind: &'static str,
    breach: &'static str,
    level: Level,
    title: String,
    case_id: Option<i64>,
    department_id: i64,
    item_id: Option<i64>,
    handler_id: Option<i64>,
    #[serde(skip)]
    pending_role: Option<Role>,
    #[serde(skip)]
    body: String,
    /// (staff id, e-mail, phone) of each person alerted.
    #[serde(skip)]
    recipients: Vec<(i64, String, String)>,
}

#[derive(Serialize)]
struct EventRow {
    card: i64,
}

#[derive(Serialize)]
struct NoticeRow<'a> {
    staff: i64,
    card: i64,
    title: &'a str,
    body: &'a str,
}

#[derive(Serialize)]
struct MessageRow<'a> {
    message_id: String,
    channel: &'static str,
    card: i64,
    staff: Option<i64>,
    address: &'a str,
    subject: &'a str,
    body: &'a str,
    payload: &'a str,
}

#[derive(Serialize)]
struct NextCheck {
    id: i64,
    schedule: i64,
    checked: String,
    next: Option<String>,
}

impl Store {
    /// The supervisor's settings in force (the defaults until first saved).
    pub async fn supervision_rules(&self) -> Result<SupervisionRules, StoreError> {
        let row = sqlx::query("SELECT rules FROM supervision_settings WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(SupervisionRules::default()),
            Some(row) => serde_json::from_str(&row.try_get::<String, _>("rules")?)
                .map_err(|e| StoreError::Backend(format!("bad supervision settings: {e}"))),
        }
    }

    /// Saves the supervisor's settings, checked and audited.
    pub async fn set_supervision_rules(
        &self,
        actor: i64,
        rules: SupervisionRules,
        now: Timestamp,
    ) -> Result<SupervisionRules, StoreError> {
        rules
            .validate()
            .map_err(onewindow_core::DomainError::from)?;
        let text = serde_json::to_string(&rules).map_err(StoreError::backend)?;
        // The deadlines whose standing the change can move are judged again
        // at the next tick (their next checks were set under the old rules).
        let before = self.supervision_rules().await?;
        let changed: Vec<String> = DeadlineKind::ALL
            .into_iter()
            .filter(|kind| {
                before.deadlines.warning_days.get(kind) != rules.deadlines.warning_days.get(kind)
                    || before.deadlines.overdue_level.get(kind)
                        != rules.deadlines.overdue_level.get(kind)
                    || (*kind == DeadlineKind::CasePromised
                        && (before.item_warning_days != rules.item_warning_days
                            || before.instant_not_same_day != rules.instant_not_same_day))
            })
            .map(|kind| kind.key().to_string())
            .collect();
        let today = date_text(civil_date(now));
        let saved = rules.clone();
        self.write(move |conn| {
            Box::pin(async move {
                for kind in &changed {
                    sqlx::query(
                        "UPDATE object_deadlines SET next_check_on = $1 \
                         WHERE state = 'running' AND object_kind = $2",
                    )
                    .bind(&today)
                    .bind(kind)
                    .execute(&mut *conn)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO supervision_settings (id, rules, updated_by, updated_at) \
                     VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                )
                .bind(&text)
                .bind(actor)
                .bind(micros(now))
                .execute(&mut *conn)
                .await?;
                let detail: serde_json::Value =
                    serde_json::from_str(&text).map_err(StoreError::backend)?;
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &crate::cases::Who::Staff(actor).audit_actor(),
                        action: "supervision.rules",
                        object_kind: "supervision",
                        object_id: "rules",
                        detail: &detail,
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        Ok(saved)
    }

    /// One supervision tick at `now`: every open deadline whose check has
    /// come is judged; new findings become cards with their alerts over
    /// `channels` (in-app notices always). Then the applications nobody
    /// decided on within their acceptance window are accepted as of receipt,
    /// each in a transaction of its own, and their new deadlines judged.
    pub async fn supervise(
        &self,
        now: Timestamp,
        channels: &[Channel],
    ) -> Result<TickReport, StoreError> {
        let today = civil_date(now);
        let rules = self.supervision_rules().await?;
        let mut report = TickReport {
            today: Some(today),
            ..TickReport::default()
        };
        let mut people: Option<HashMap<i64, Person>> = None;
        self.supervise_events(&rules, channels, today, now, &mut people, &mut report)
            .await?;
        self.supervise_deadlines(&rules, channels, today, now, &mut people, &mut report)
            .await?;
        report.deemed_accepted = self.accept_unanswered(today, now).await?;
        if !report.deemed_accepted.is_empty() {
            // Their limits run from receipt and may have passed already.
            self.supervise_deadlines(&rules, channels, today, now, &mut people, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Judges every open deadline whose check has come, in batches, each
    /// batch's cards and next checks in one job.
    async fn supervise_deadlines(
        &self,
        rules: &SupervisionRules,
        channels: &[Channel],
        today: Date,
        now: Timestamp,
        people: &mut Option<HashMap<i64, Person>>,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        // Each batch moves the next checks of what it read past today (or
        // leaves them where another writer put them), so the loop ends; the
        // bound is a guard against a row that somehow never moves.
        for _ in 0..10_000 {
            let rows = sqlx::query(CANDIDATES)
                .bind(date_text(today))
                .bind(BATCH)
                .fetch_all(self.pool())
                .await?;
            if rows.is_empty() {
                break;
            }
            let candidates = rows
                .iter()
                .map(candidate_from)
                .collect::<Result<Vec<_>, _>>()?;
            let full = candidates.len() as i64 == BATCH;
            let (cards, checks) = self.judge_batch(rules, &candidates, today);
            report.examined += candidates.len() as u64;
            if !cards.is_empty() && people.is_none() {
                *people = Some(load_people(self).await?);
            }
            let batch = self
                .write_batch(
                    cards,
                    checks,
                    None,
                    people.as_ref(),
                    rules,
                    channels,
                    today,
                    now,
                )
                .await?;
            report.add(batch);
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// Art. 32 applied by the system: every application still waiting for
    /// the acceptance decision after its window closed before `today` is
    /// accepted as of receipt through the clerk's transition (event, audit
    /// entry by `system`, deadlines), each case in a transaction of its own.
    /// A case someone decided on meanwhile, or whose window the core finds
    /// still open on its region's calendar, is left as it is. Returns the
    /// cases accepted.
    async fn accept_unanswered(&self, today: Date, now: Timestamp) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(UNANSWERED)
            .bind(date_text(today))
            .bind(DeadlineKind::CaseAcceptance.key())
            .bind(CaseState::Submitted.key())
            .fetch_all(self.pool())
            .await?;
        let mut accepted = Vec::new();
        for row in &rows {
            let case_id: i64 = row.try_get("object_id")?;
            let applied = self
                .apply_command(case_id, None, Who::System, None, now, |context| {
                    let rules = context.item.guide.rules();
                    let calendar = context.calendar.as_ref();
                    let transition = deemed_acceptance(&context.case.facts, &rules, calendar, now)?;
                    Ok((transition, None))
                })
                .await;
            match applied {
                Ok(_) => accepted.push(case_id),
                // Decided on meanwhile, or moved on faster than the retries:
                // the next tick sees it again if it is still waiting.
                Err(StoreError::Domain(_) | StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(accepted)
    }

    /// The anomaly rules on the case events recorded since the last tick
    /// (a cursor in `counters`, moved in the job that issues their cards).
    async fn supervise_events(
        &self,
        rules: &SupervisionRules,
        channels: &[Channel],
        today: Date,
        now: Timestamp,
        people: &mut Option<HashMap<i64, Person>>,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let cursor: i64 = sqlx::query("SELECT value FROM counters WHERE name = $1")
            .bind(EVENT_CURSOR)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get("value"))
            .transpose()?
            .unwrap_or(0);
        let last: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) AS last FROM case_events")
            .fetch_one(self.pool())
            .await?
            .try_get("last")?;
        if last <= cursor {
            return Ok(());
        }
        let upto = last.min(cursor + 50_000);
        let rows = sqlx::query(
            "SELECT e.id, e.case_id, e.action, e.detail, e.at, c.number, c.department_id, \
             dep.name AS department_name, c.item_id, i.name AS item_name, c.assignee_id, c.pending_role, \
             c.submitted_at \
             FROM case_events e JOIN cases c ON c.id = e.case_id \
             JOIN departments dep ON dep.id = c.department_id \
             JOIN service_items i ON i.id = c.item_id \
             WHERE e.id > $1 AND e.id <= $2 \
             AND e.action IN ('reject', 'decide', 'request_supplement', 'suspend', 'deliver', 'rate') \
             ORDER BY e.id",
        )
        .bind(cursor)
        .bind(upto)
        .fetch_all(self.pool())
        .await?;
        let mut cards = Vec::new();
        let mut items: HashMap<i64, Vec<onewindow_core::catalog::Fee>> = HashMap::new();
        for row in &rows {
            let action: String = row.try_get("action")?;
            let detail: serde_json::Value =
                serde_json::from_str(&row.try_get::<String, _>("detail")?).unwrap_or_default();
            let case_id: i64 = row.try_get("case_id")?;
            let event_id: i64 = row.try_get("id")?;
            let item_id: i64 = row.try_get("item_id")?;
            let charged = detail
                .get("fees")
                .and_then(|f| f.as_array())
                .is_some_and(|f| !f.is_empty());
            if charged && !items.contains_key(&item_id) {
                let fees = self.item(item_id).await?.guide.fees;
                items.insert(item_id, fees);
            }
            let earlier_supplements = if action == "request_supplement" {
                let n: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM case_events WHERE case_id = $1 AND id < $2 \
                     AND action = 'request_supplement'",
                )
                .bind(case_id)
                .bind(event_id)
                .fetch_one(self.pool())
                .await?
                .try_get("n")?;
                n as usize
            } else {
                0
            };
            let found = event_anomalies(&EventFacts {
                action: &action,
                detail: &detail,
                fees: items.get(&item_id).map_or(&[], Vec::as_slice),
                earlier_supplements,
                registered_on: civil_date(crate::db::from_micros(row.try_get("submitted_at")?)?),
            });
            let number: String = row.try_get("number")?;
            let department_name: String = row.try_get("department_name")?;
            let item_name: String = row.try_get("item_name")?;
            let on = civil_date(crate::db::from_micros(row.try_get("at")?)?);
            for (anomaly, what) in found {
                let Some(level) = rules.anomalies.get(&anomaly).copied() else {
                    continue;
                };
                let mut body = format!(
                    "{department_name}：经电子监察系统监测，贵单位“{item_name}”事项办件（编号{number}）于{on}{}：{what}，现予{}。",
                    anomaly.label(),
                    level.label()
                );
                if level != Level::Warning {
                    let calendar = self.calendar_for(self.region_code());
                    let by = calendar.add_working_days(today, rules.rectification_days);
                    body.push_str(&format!(
                        "请于{by}前通过系统作出情况说明或提交整改报告；对处理有异议的，可在此期间申诉一次。"
                    ));
                }
                cards.push(NewCard {
                    od: None,
                    due: date_text(on),
                    subject_kind: "case",
                    subject_id: case_id,
                    condition: format!("anomaly:{}:{event_id}", anomaly.key()),
                    deadline_kind: "case_event",
                    breach: anomaly.key(),
                    level,
                    title: format!("办件{number}：{}", anomaly.label()),
                    case_id: Some(case_id),
                    department_id: row.try_get("department_id")?,
                    item_id: Some(item_id),
                    handler_id: row.try_get("assignee_id")?,
                    pending_role: row
                        .try_get::<Option<String>, _>("pending_role")?
                        .and_then(|r| Role::parse(&r)),
                    body,
                    recipients: Vec::new(),
                });
            }
        }
        if !cards.is_empty() && people.is_none() {
            *people = Some(load_people(self).await?);
        }
        let batch = self
            .write_batch(
                cards,
                Vec::new(),
                Some(upto),
                people.as_ref(),
                rules,
                channels,
                today,
                now,
            )
            .await?;
        report.add(batch);
        Ok(())
    }

    fn judge_batch(
        &self,
        rules: &SupervisionRules,
        candidates: &[Candidate],
        today: Date,
    ) -> (Vec<NewCard>, Vec<NextCheck>) {
        let book = self.calendars();
        let mut calendars: HashMap<&str, std::sync::Arc<onewindow_core::calendar::ChinaCalendar>> =
            HashMap::new();
        let mut cards = Vec::new();
        let mut checks = Vec::with_capacity(candidates.len());
        for c in candidates {
            let calendar = calendars
                .entry(c.region.as_str())
                .or_insert_with(|| book.for_region(&c.region));
            let watched = Watched {
                kind: c.kind,
                state: DeadlineState::Running,
                start: c.start,
                due: c.due,
                item: c.kind.is_case().then_some(ItemFacts {
                    code: &c.item_code,
                    instant: c.instant,
                }),
            };
            let finding = rules.judge(&watched, today, calendar.as_ref());
            let next = rules.next_check(&watched, today, calendar.as_ref());
            checks.push(NextCheck {
                id: c.id,
                schedule: c.schedule_id,
                checked: c.checked.clone(),
                next: next.map(date_text),
            });
            let (Some(finding), Some(department_id)) = (finding, c.department_id) else {
                continue;
            };
            let subject_kind = if c.kind.is_case() { "case" } else { "card" };
            let what = if c.case_number.is_empty() {
                c.department_name.clone()
            } else {
                format!("办件{}", c.case_number)
            };
            let title = format!("{what}：{}", finding.summary());
            let body = card_body(c, &finding, today, rules, calendar.as_ref());
            cards.push(NewCard {
                od: Some(c.id),
                due: date_text(c.due),
                subject_kind,
                subject_id: c.object_id,
                condition: finding.condition(c.start),
                deadline_kind: c.kind.key(),
                breach: finding.breach.key(),
                level: finding.level,
                title,
                case_id: c.case_id,
                department_id,
                item_id: c.item_id,
                handler_id: c.handler_id,
                pending_role: c.pending_role,
                body,
                recipients: Vec::new(),
            });
        }
        (cards, checks)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_batch(
        &self,
        mut cards: Vec<NewCard>,
        checks: Vec<NextCheck>,
        event_cursor: Option<i64>,
        people: Option<&HashMap<i64, Person>>,
        rules: &SupervisionRules,
        channels: &[Channel],
        today: Date,
        now: Timestamp,
    ) -> Result<TickReport, StoreError> {
        if let Some(people) = people {
            for card in &mut cards {
                let level = card.level;
                card.recipients = recipients(
                    people,
                    rules.recipients_of(level),
                    card.department_id,
                    card.handler_id,
                    card.pending_role,
                )
                .into_iter()
                .filter_map(|id| people.get(&id))
                .map(|p| (p.id, p.email.clone(), p.phone.clone()))
                .collect();
            }
        }
        let backend = self.backend();
        let rectification = rules.rectification_days;
        let rules = rules.clone();
        let regions = self.department_regions().await?;
        let book = self.calendars();
        let channels: Vec<Channel> = channels
            .iter()
            .copied()
            .filter(|c| *c != Channel::InApp)
            .collect();
        let checks = serde_json::to_string(&checks).map_err(StoreError::backend)?;
        self.write(move |conn| {
            Box::pin(async move {
                let mut report = TickReport::default();
                let issued = insert_cards(conn, backend, &cards, now).await?;
                if !issued.is_empty() {
                    let by_key: HashMap<(&str, i64, &str), &NewCard> = cards
                        .iter()
                        .map(|c| ((c.subject_kind, c.subject_id, c.condition.as_str()), c))
                        .collect();
                    // Per issued card: its id, the card, the subject
                    // line with the level and the webhook payload.
                    let mut issued_cards = Vec::with_capacity(issued.len());
                    for (id, kind, subject, condition) in &issued {
                        let Some(card) = by_key.get(&(kind.as_str(), *subject, condition.as_str()))
                        else {
                            continue;
                        };
                        report.card_ids.push(*id);
                        *report
                            .issued
                            .entry(card.level.key().to_string())
                            .or_default() += 1;
                        let payload = serde_json::json!({
                            "card_id": id, "level": card.level, "title": card.title,
                            "case_id": card.case_id, "department_id": card.department_id,
                            "condition": card.condition, "due_on": card.due,
                            "found_on": date_text(today),
                        })
                        .to_string();
                        let subject = format!("【{}】{}", card.level.label(), card.title);
                        issued_cards.push((*id, *card, subject, payload));
                    }
                    let mut events = Vec::with_capacity(issued_cards.len());
                    let mut notices = Vec::new();
                    let mut messages = Vec::new();
                    let mut deadlines = Vec::new();
                    for (id, card, subject, payload) in &issued_cards {
                        let id = *id;
                        events.push(EventRow { card: id });
                        for (staff, email, phone) in &card.recipients {
                            notices.push(NoticeRow {
                                staff: *staff,
                                card: id,
                                title: subject,
                                body: &card.body,
                            });
                            for channel in &channels {
                                let address = match channel {
                                    Channel::Email => email,
                                    _ => phone,
                                };
                                if *channel == Channel::Webhook || address.is_empty() {
                                    continue;
                                }
                                messages.push(MessageRow {
                                    message_id: format!("card-{id}-{}-{staff}", channel.key()),
                                    channel: channel.key(),
                                    card: id,
                                    staff: Some(*staff),
                                    address,
                                    subject,
                                    body: &card.body,
                                    payload,
                                });
                            }
                        }
                        if channels.contains(&Channel::Webhook) {
                            messages.push(MessageRow {
                                message_id: format!("card-{id}-webhook"),
                                channel: Channel::Webhook.key(),
                                card: id,
                                staff: None,
                                address: "",
                                subject,
                                body: &card.body,
                                payload,
                            });
                        }
                        if card.level != Level::Warning {
                            let region = regions
                                .get(&card.department_id)
                                .cloned()
                                .unwrap_or_default();
                            let calendar = book.for_region(&region);
                            let deadline = TrackedDeadline::new(
                                DeadlineKind::CardRectification,
                                Deadline::new(today, TimeLimit::working_days(rectification)),
                                true,
                                calendar.as_ref(),
                            );
                            // Judged now, so the next tick need not read it.
                            let next = rules.next_check(
                                &Watched {
                                    kind: deadline.kind,
                                    state: deadline.state,
                                    start: today,
                                    due: deadline.due,
                                    item: None,
                                },
                                today,
                                calendar.as_ref(),
                            );
                            deadlines.push((id, region, deadline, next));
                        }
                    }
                    report.notices = notices.len() as u64;
                    report.messages = messages.len() as u64;
                    insert_events(conn, backend, &events, now).await?;
                    insert_notices(conn, backend, &notices, now).await?;
                    insert_messages(conn, backend, &messages, now).await?;
                    write_object_deadlines(conn, backend, &deadlines).await?;
                    audit::append(
                        conn,
                        now,
                        Entry {
                            actor: "system",
                            action: "supervision.issue",
                            object_kind: "supervision",
                            object_id: &date_text(today),
                            detail: &serde_json::json!({ "cards": report.card_ids }),
                        },
                    )
                    .await?;
                }
                update_next_checks(conn, backend, &checks).await?;
                if let Some(cursor) = event_cursor {
                    sqlx::query(
                        "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) \
                         DO UPDATE SET value = CASE WHEN excluded.value > counters.value \
                         THEN excluded.value ELSE counters.value END",
                    )
                    .bind(EVENT_CURSOR)
                    .bind(cursor)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(report)
            })
        })
        .await
    }

    /// Each department's region code (whose calendar counts its deadlines).
    pub(crate) async fn department_regions(&self) -> Result<HashMap<i64, String>, StoreError> {
        let rows = sqlx::query("SELECT id, region_code FROM departments")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("region_code")?)))
            .collect()
    }
}

/// The text of a card's notice, as the supervision centre writes it.
fn card_body(
    c: &Candidate,
    finding: &Finding,
    today: Date,
    rules: &SupervisionRules,
    calendar: &dyn WorkCalendar,
) -> String {
    let subject = if c.case_number.is_empty() {
        String::new()
    } else {
        format!("“{}”事项办件（编号{}）", c.item_name, c.case_number)
    };
    let mut text = format!(
        "{}：经电子监察系统监测，贵单位{}的{}为{}，截至{}{}。",
        if c.department_name.is_empty() {
            "有关单位"
        } else {
            &c.department_name
        },
        subject,
        c.kind.label(),
        c.due,
        today,
        match finding.breach {
            onewindow_core::supervision::Breach::DueSoon => "即将到期，请抓紧办理".to_string(),
            onewindow_core::supervision::Breach::Overdue =>
                format!("已超期，现予{}", finding.level.label()),
            onewindow_core::supervision::Breach::InstantNotSameDay => {
                format!("即办件未当场办结，现予{}", finding.level.label())
            }
        }
    );
    if finding.level != Level::Warning {
        let by = calendar.add_working_days(today, rules.rectification_days);
        text.push_str(&format!(
            "请于{by}前通过系统作出情况说明或提交整改报告；对处理有异议的，可在此期间申诉一次。"
        ));
    }
    text
}

async fn load_people(store: &Store) -> Result<HashMap<i64, Person>, StoreError> {
    let rows = sqlx::query("SELECT id, department_id, roles, backup_id, phone, email FROM staff")
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| {
            let roles: String = r.try_get("roles")?;
            let id: i64 = r.try_get("id")?;
            Ok((
                id,
                Person {
                    id,
                    department_id: r.try_get("department_id")?,
                    roles: parse_roles(&roles).unwrap_or_default(),
                    backup_id: r.try_get("backup_id")?,
                    phone: r.try_get("phone")?,
                    email: r.try_get("email")?,
                },
            ))
        })
        .collect()
}

/// The staff alerted of a card: those the settings name for its level. The
/// handler is the person holding the case, or, while nobody holds it (a new
/// application at the window), everyone of the department holding the role
/// its work is due from; when the settings name nobody present in the
/// department, its approvers (the leaders) are told.
fn recipients(
    people: &HashMap<i64, Person>,
    wanted: &[Recipient],
    department_id: i64,
    handler_id: Option<i64>,
    pending_role: Option<Role>,
) -> Vec<i64> {
    let mut in_department: Vec<&Person> = people
        .values()
        .filter(|p| p.department_id == department_id)
        .collect();
    in_department.sort_by_key(|p| p.id);
    let holding = |role: Role| {
        in_department
            .iter()
            .filter(move |p| p.roles.contains(&role))
            .map(|p| p.id)
    };
    let handlers: Vec<i64> = match handler_id {
        Some(id) => vec![id],
        None => pending_role
            .map(|r| holding(r).collect())
            .unwrap_or_default(),
    };
    let mut chosen: Vec<i64> = Vec::new();
    for recipient in wanted {
        match recipient {
            Recipient::Handler => chosen.extend(&handlers),
            Recipient::Backup => chosen.extend(
                handlers
                    .iter()
                    .filter_map(|id| people.get(id).and_then(|p| p.backup_id)),
            ),
            Recipient::Reviewer => chosen.extend(holding(Role::Reviewer)),
            Recipient::Approver => chosen.extend(holding(Role::Approver)),
        }
    }
    if chosen.is_empty() {
        chosen.extend(holding(Role::Approver));
    }
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|id| seen.insert(*id));
    chosen
}

/// Inserts the cards not issued before; returns (id, subject kind, subject
/// id, condition) of those this statement inserted. A card is written only
/// while its deadline is still open on the due day it was judged on.
async fn insert_cards(
    conn: &mut Conn,
    backend: Backend,
    cards: &[NewCard],
    now: Timestamp,
) -> Result<Vec<(i64, String, i64, String)>, StoreError> {
    if cards.is_empty() {
        return Ok(Vec::new());
    }
    let j = JsonRows::new(
        backend,
        "$1",
        "j",
        &[
            ("od", "bigint"),
            ("due", "text"),
            ("subject_kind", "text"),
            ("subject_id", "bigint"),
            ("condition", "text"),
            ("deadline_kind", "text"),
            ("breach", "text"),
            ("level", "text"),
            ("title", "text"),
            ("case_id", "bigint"),
            ("department_id", "bigint"),
            ("item_id", "bigint"),
            ("handler_id", "bigint"),
        ],
    );
    let sql = format!(
        "INSERT INTO cards (subject_kind, subject_id, condition, deadline_kind, breach, level, title, \
         case_id, department_id, item_id, handler_id, due_on, found_on, state, issued_at, updated_at) \
         SELECT {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, $3, 'issued', $2, $2 FROM {} \
         WHERE {} IS NULL OR EXISTS (SELECT 1 FROM object_deadlines d \
         JOIN deadline_schedules s ON s.id = d.schedule_id \
         WHERE d.id = {} AND d.state = 'running' AND s.due_on = {}) \
         ON CONFLICT (subject_kind, subject_id, condition) DO NOTHING \
         RETURNING id, subject_kind, subject_id, condition",
        j.col("subject_kind"),
        j.col("subject_id"),
        j.col("condition"),
        j.col("deadline_kind"),
        j.col("breach"),
        j.col("level"),
        j.col("title"),
        j.col("case_id"),
        j.col("department_id"),
        j.col("item_id"),
        j.col("handler_id"),
        j.col("due"),
        j.source(),
        j.col("od"),
        j.col("od"),
        j.col("due"),
    );
    let json = serde_json::to_string(cards).map_err(StoreError::backend)?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json)
        .bind(micros(now))
        .bind(date_text(civil_date(now)))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("subject_kind")?,
                r.try_get("subject_id")?,
                r.try_get("condition")?,
            ))
        })
        .collect()
}

async fn insert_events(
    conn: &mut Conn,
    backend: Backend,
    events: &[EventRow],
    now: Timestamp,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let j = JsonRows::new(backend, "$1", "j", &[("card", "bigint")]);
    let sql = format!(
        "INSERT INTO card_events (card_id, action, from_state, to_state, text, at) \
         SELECT {}, 'issue', NULL, 'issued', '', $2 FROM {}",
        j.col("card"),
        j.source()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::to_string(events).map_err(StoreError::backend)?)
        .bind(micros(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_notices(
    conn: &mut Conn,
    backend: Backend,
    notices: &[NoticeRow<'_>],
    now: Timestamp,
) -> Result<(), StoreError> {
    if notices.is_empty() {
        return Ok(());
    }
    let j = JsonRows::new(
        backend,
        "$1",
        "j",
        &[
            ("staff", "bigint"),
            ("card", "bigint"),
            ("title", "text"),
            ("body", "text"),
        ],
    );
    let sql = format!(
        "INSERT INTO notices (staff_id, card_id, title, body, created_at) \
         SELECT {}, {}, {}, {}, $2 FROM {}",
        j.col("staff"),
        j.col("card"),
        j.col("title"),
        j.col("body"),
        j.source()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::to_string(notices).map_err(StoreError::backend)?)
        .bind(micros(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_messages(
    conn: &mut Conn,
    backend: Backend,
    messages: &[MessageRow<'_>],
    now: Timestamp,
) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let j = JsonRows::new(
        backend,
        "$1",
        "j",
        &[
            ("message_id", "text"),
            ("channel", "text"),
            ("card", "bigint"),
            ("staff", "bigint"),
            ("address", "text"),
            ("subject", "text"),
            ("body", "text"),
            ("payload", "text"),
        ],
    );
    let sql = format!(
        "INSERT INTO outbox (message_id, channel, card_id, staff_id, address, subject, body, payload, \
         state, attempts, next_attempt_at, created_at) \
         SELECT {}, {}, {}, {}, {}, {}, {}, {}, 'pending', 0, $2, $2 FROM {} WHERE true \
         ON CONFLICT (message_id) DO NOTHING",
        j.col("message_id"),
        j.col("channel"),
        j.col("card"),
        j.col("staff"),
        j.col("address"),
        j.col("subject"),
        j.col("body"),
        j.col("payload"),
        j.source()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(serde_json::to_string(messages).map_err(StoreError::backend)?)
        .bind(micros(now))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes deadlines of objects other than cases: (object id, region,
/// deadline, its next check when already judged).
pub(crate) async fn write_object_deadlines(
    conn: &mut Conn,
    backend: Backend,
    deadlines: &[(i64, String, TrackedDeadline, Option<Date>)],
) -> Result<(), StoreError> {
    if deadlines.is_empty() {
        return Ok(());
    }
    let tracked: Vec<TrackedDeadline> = deadlines.iter().map(|d| d.2.clone()).collect();
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&crate::clock::deadline_rows(&tracked)?)
            .map_err(StoreError::backend)?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .zip(deadlines)
        .map(|(mut row, (object, region, _, next))| {
            row["object"] = (*object).into();
            row["region"] = region.clone().into();
            row["next"] = next.map(date_text).into();
            row
        })
        .collect();
    let rows = serde_json::to_string(&rows).map_err(StoreError::backend)?;
    // The rows' own region and object, as columns of `upsert_sql`'s rows `j`.
    let j = JsonRows::new(backend, "$1", "j", &[]);
    for sql in crate::clock::upsert_sql(backend, &j.col("region"), "$1", &j.col("object"), "true") {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&rows)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Moves each judged deadline's next check, unless something else wrote it
/// since it was read (a transition, a calendar change).
async fn update_next_checks(
    conn: &mut Conn,
    backend: Backend,
    checks: &str,
) -> Result<(), StoreError> {
    let j = JsonRows::new(
        backend,
        "$1",
        "j",
        &[
            ("id", "bigint"),
            ("schedule", "bigint"),
            ("checked", "text"),
            ("next", "text"),
        ],
    );
    let sql = format!(
        "UPDATE object_deadlines SET next_check_on = {} FROM {} \
         WHERE object_deadlines.id = {} AND object_deadlines.schedule_id = {} \
         AND object_deadlines.state = 'running' AND object_deadlines.next_check_on = {}",
        j.col("next"),
        j.source(),
        j.col("id"),
        j.col("schedule"),
        j.col("checked"),
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(checks)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
