//! Cards after they are issued: listing and filtering, the department's
//! answers and the supervisor's conclusions (core::card), accountability
//! records, in-app notices and the supervision counters per department.

use jiff::Timestamp;
use jiff::civil::Date;
use onewindow_core::DomainError;
use onewindow_core::calendar::{TimeLimit, WorkCalendar, civil_date};
use onewindow_core::card::{
    CardActor, CardCommand, CardFacts, CardState, Responsibility, Sanction, apply_card,
};
use onewindow_core::clock::{Deadline, DeadlineKind, TrackedDeadline};
use onewindow_core::staff::Role;
use onewindow_core::supervision::Level;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, Entry};
use crate::cases::Who;
use crate::db::{date_text, flag, from_micros, micros, parse_date};
use crate::staff::StaffMember;
use crate::{Store, StoreError};

/// A card as stored, with the names people read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardRecord {
    pub id: i64,
    pub subject_kind: String,
    pub subject_id: i64,
    pub condition: String,
    pub deadline_kind: String,
    pub breach: String,
    pub level: Level,
    pub title: String,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
    pub department_id: i64,
    pub department_name: String,
    pub item_id: Option<i64>,
    pub item_name: Option<String>,
    pub handler_id: Option<i64>,
    pub handler_name: Option<String>,
    pub due_on: Date,
    pub found_on: Date,
    pub state: CardState,
    pub appealed: bool,
    pub issued_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// The day the department's answer is due (yellow and red cards).
    pub answer_due: Option<Date>,
}

impl CardRecord {
    /// Whether `member` answers the card for its department: someone of the
    /// department working on its cases (window, handling, review, approval).
    pub fn answered_by(&self, member: &StaffMember) -> bool {
        member.department_id == self.department_id
            && [
                Role::Handler,
                Role::Reviewer,
                Role::Approver,
                Role::WindowClerk,
            ]
            .iter()
            .any(|r| member.has(*r))
    }

    fn facts(&self) -> CardFacts {
        CardFacts {
            state: self.state,
            level: self.level,
            appealed: self.appealed,
        }
    }
}

/// A step in a card's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardEvent {
    pub id: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub text: String,
    pub attachments: Vec<i64>,
    pub at: Timestamp,
}

/// Which cards to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFilter {
    pub department_id: Option<i64>,
    pub item_id: Option<i64>,
    pub case_id: Option<i64>,
    pub level: Option<Level>,
    pub state: Option<CardState>,
    /// Found on or after.
    pub from: Option<Date>,
    /// Found on or before.
    pub to: Option<Date>,
    pub limit: i64,
    pub offset: i64,
}

const CARD_SELECT: &str = "SELECT k.id, k.subject_kind, k.subject_id, k.condition, k.deadline_kind, \
    k.breach, k.level, k.title, k.case_id, c.number AS case_number, k.department_id, \
    dep.name AS department_name, k.item_id, i.name AS item_name, k.handler_id, h.name AS handler_name, \
    k.due_on, k.found_on, k.state, k.appealed, k.issued_at, k.updated_at, k.version, \
    (SELECT COALESCE(od.final_due, s.due_on) FROM object_deadlines od \
     JOIN deadline_schedules s ON s.id = od.schedule_id \
     WHERE od.object_kind = 'card_rectification' AND od.object_id = k.id) AS answer_due \
    FROM cards k JOIN departments dep ON dep.id = k.department_id \
    LEFT JOIN cases c ON c.id = k.case_id LEFT JOIN service_items i ON i.id = k.item_id \
    LEFT JOIN staff h ON h.id = k.handler_id";

fn card_from(row: &AnyRow) -> Result<CardRecord, StoreError> {
    let bad = |what: &str, v: &str| StoreError::Backend(format!("bad {what} {v:?} in cards"));
    let level: String = row.try_get("level")?;
    let state: String = row.try_get("state")?;
    Ok(CardRecord {
        id: row.try_get("id")?,
        subject_kind: row.try_get("subject_kind")?,
        subject_id: row.try_get("subject_id")?,
        condition: row.try_get("condition")?,
        deadline_kind: row.try_get("deadline_kind")?,
        breach: row.try_get("breach")?,
        level: Level::parse(&level).ok_or_else(|| bad("level", &level))?,
        title: row.try_get("title")?,
        case_id: row.try_get("case_id")?,
        case_number: row.try_get("case_number")?,
        department_id: row.try_get("department_id")?,
        department_name: row.try_get("department_name")?,
        item_id: row.try_get("item_id")?,
        item_name: row.try_get("item_name")?,
        handler_id: row.try_get("handler_id")?,
        handler_name: row.try_get("handler_name")?,
        due_on: parse_date(&row.try_get::<String, _>("due_on")?)?,
        found_on: parse_date(&row.try_get::<String, _>("found_on")?)?,
        state: CardState::parse(&state).ok_or_else(|| bad("state", &state))?,
        appealed: row.try_get::<i64, _>("appealed")? != 0,
        issued_at: from_micros(row.try_get("issued_at")?)?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
        version: row.try_get("version")?,
        answer_due: row
            .try_get::<Option<String>, _>("answer_due")?
            .map(|d| parse_date(&d))
            .transpose()?,
    })
}

/// A new accountability record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccountability {
    pub person_id: i64,
    pub responsibility: Responsibility,
    pub sanction: Sanction,
    pub basis: String,
    pub card_id: Option<i64>,
    pub case_id: Option<i64>,
}

/// An accountability record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountabilityRecord {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub department_name: String,
    pub responsibility: Responsibility,
    pub sanction: Sanction,
    pub basis: String,
    pub card_id: Option<i64>,
    pub case_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Timestamp,
}

/// An in-app notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: i64,
    pub card_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

/// One department's supervision figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentFigures {
    pub department_id: i64,
    pub department_name: String,
    /// Cases being handled (accepted, not yet decided), suspended included.
    pub open_cases: i64,
    /// Open cases whose promised deadline is within the warning days.
    pub due_soon: i64,
    /// Open cases past their promised deadline.
    pub overdue: i64,
    pub warnings: i64,
    pub yellow: i64,
    pub red: i64,
    /// Cases decided, and of those within their promised deadline.
    pub decided: i64,
    pub decided_on_time: i64,
    /// decided_on_time / decided, as a percentage; None before any decision.
    pub on_time_rate: Option<f64>,
}

impl Store {
    /// Cards matching `filter`, newest first, with the total.
    pub async fn cards(&self, filter: &CardFilter) -> Result<(Vec<CardRecord>, i64), StoreError> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.department_id.is_some() {
            conds.push(format!("k.department_id = {}", next()));
        }
        if filter.item_id.is_some() {
            conds.push(format!("k.item_id = {}", next()));
        }
        if filter.case_id.is_some() {
            conds.push(format!("k.case_id = {}", next()));
        }
        if filter.level.is_some() {
            conds.push(format!("k.level = {}", next()));
        }
        if filter.state.is_some() {
            conds.push(format!("k.state = {}", next()));
        }
        if filter.from.is_some() {
            conds.push(format!("k.found_on >= {}", next()));
        }
        if filter.to.is_some() {
            conds.push(format!("k.found_on <= {}", next()));
        }
        let where_ = conds.join(" AND ");
        let (limit, offset) = (next(), next());
        let list = format!(
            "{CARD_SELECT} WHERE {where_} ORDER BY k.issued_at DESC, k.id DESC LIMIT {limit} OFFSET {offset}"
        );
        let count = format!("SELECT COUNT(*) AS n FROM cards k WHERE {where_}");
        macro_rules! bind_filter {
            ($q:expr) => {{
                let mut q = $q;
                if let Some(v) = filter.department_id {
                    q = q.bind(v);
                }
                if let Some(v) = filter.item_id {
                    q = q.bind(v);
                }
                if let Some(v) = filter.case_id {
                    q = q.bind(v);
                }
                if let Some(v) = filter.level {
                    q = q.bind(v.key());
                }
                if let Some(v) = filter.state {
                    q = q.bind(v.key());
                }
                if let Some(v) = filter.from {
                    q = q.bind(date_text(v));
                }
                if let Some(v) = filter.to {
                    q = q.bind(date_text(v));
                }
                q
            }};
        }
        let rows = bind_filter!(sqlx::query(sqlx::AssertSqlSafe(list)))
            .bind(if filter.limit <= 0 {
                50
            } else {
                filter.limit.min(500)
            })
            .bind(filter.offset.max(0))
            .fetch_all(self.pool())
            .await?;
        let total: i64 = bind_filter!(sqlx::query(sqlx::AssertSqlSafe(count)))
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        let cards = rows.iter().map(card_from).collect::<Result<_, _>>()?;
        Ok((cards, total))
    }

    pub async fn card(&self, id: i64) -> Result<CardRecord, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CARD_SELECT} WHERE k.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::not_found("card"))?;
        card_from(&row)
    }

    pub async fn card_events(&self, card_id: i64) -> Result<Vec<CardEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.action, e.from_state, e.to_state, e.actor_id, s.name AS actor_name, \
             e.text, e.attachments, e.at FROM card_events e LEFT JOIN staff s ON s.id = e.actor_id \
             WHERE e.card_id = $1 ORDER BY e.id",
        )
        .bind(card_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let attachments: String = r.try_get("attachments")?;
                Ok(CardEvent {
                    id: r.try_get("id")?,
                    action: r.try_get("action")?,
                    from_state: r.try_get("from_state")?,
                    to_state: r.try_get("to_state")?,
                    actor_id: r.try_get("actor_id")?,
                    actor_name: r.try_get("actor_name")?,
                    text: r.try_get("text")?,
                    attachments: serde_json::from_str(&attachments).unwrap_or_default(),
                    at: from_micros(r.try_get("at")?)?,
                })
            })
            .collect()
    }

    /// `member` acts on a card: the department answers, the supervisor
    /// concludes. `attachments` are uploaded files (ids) for explanations,
    /// rectification reports and appeals.
    pub async fn act_on_card(
        &self,
        card_id: i64,
        member: &StaffMember,
        command: CardCommand,
        attachments: Vec<i64>,
        now: Timestamp,
    ) -> Result<CardRecord, StoreError> {
        let card = self.card(card_id).await?;
        let actor = match command.actor() {
            CardActor::Supervisor if member.has(Role::Supervisor) => CardActor::Supervisor,
            CardActor::Department if card.answered_by(member) => CardActor::Department,
            _ => CardActor::System,
        };
        let after = apply_card(card.facts(), &command, actor)?;
        if !attachments.is_empty() && command.actor() != CardActor::Department {
            return Err(
                DomainError::invalid("attachments", "只有说明、整改和申诉可以附带材料").into(),
            );
        }
        let staff_id = member.id;
        let backend = self.backend();
        let region = self.department(card.department_id).await?.region_code;
        let calendar = self.calendar_for(&region);
        let rules = self.supervision_rules().await?;
        let version = card.version;
        let before = card.state;
        self.write(move |conn| {
            Box::pin(async move {
                let updated = sqlx::query(
                    "UPDATE cards SET state = $1, appealed = $2, updated_at = $3, version = version + 1 \
                     WHERE id = $4 AND version = $5",
                )
                .bind(after.state.key())
                .bind(flag(after.appealed))
                .bind(micros(now))
                .bind(card_id)
                .bind(version)
                .execute(&mut *conn)
                .await?;
                if updated.rows_affected() != 1 {
                    return Err(StoreError::Conflict("该督办件刚被他人处理，请刷新后重试".into()));
                }
                sqlx::query(
                    "INSERT INTO card_events (card_id, action, from_state, to_state, actor_id, text, attachments, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(card_id)
                .bind(command.key())
                .bind(before.key())
                .bind(after.state.key())
                .bind(staff_id)
                .bind(command.text().trim())
                .bind(serde_json::to_string(&attachments).map_err(StoreError::backend)?)
                .bind(micros(now))
                .execute(&mut *conn)
                .await?;
                // The department's answer stops its deadline; an upheld
                // appeal gives it a new one from today.
                if card.level != Level::Warning {
                    let start = if matches!(command, CardCommand::Uphold { .. }) {
                        civil_date(now)
                    } else {
                        card.found_on
                    };
                    let deadline = TrackedDeadline::new(
                        DeadlineKind::CardRectification,
                        Deadline::new(start, TimeLimit::working_days(rules.rectification_days)),
                        after.state.awaits_department(),
                        calendar.as_ref(),
                    );
                    crate::supervision::write_object_deadlines(
                        conn,
                        backend,
                        &[(card_id, region, deadline, None)],
                    )
                    .await?;
                }
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &Who::Staff(staff_id).audit_actor(),
                        action: &format!("card.{}", command.key()),
                        object_kind: "card",
                        object_id: &card_id.to_string(),
                        detail: &serde_json::json!({
                            "from": before.key(), "to": after.state.key(),
                            "text": command.text().trim(), "attachments": attachments,
                        }),
                    },
                )
                .await?;
                Ok(())
            })
        })
        .await?;
        self.card(card_id).await
    }

    /// Records an accountability decision (supervisors only), audited.
    pub async fn record_accountability(
        &self,
        member: &StaffMember,
        new: NewAccountability,
        now: Timestamp,
    ) -> Result<AccountabilityRecord, StoreError> {
        if !member.has(Role::Supervisor) {
            return Err(DomainError::RoleRequired { role: "supervisor" }.into());
        }
        let basis = new.basis.trim().to_string();
        if basis.is_empty() {
            return Err(
                DomainError::invalid("basis", "请填写问责依据（事实和所依据的规定）").into(),
            );
        }
        if new.card_id.is_none() && new.case_id.is_none() {
            return Err(DomainError::invalid("card_id", "问责须关联督办牌或办件").into());
        }
        if let Some(card_id) = new.card_id {
            let card = self.card(card_id).await.map_err(|e| match e {
                StoreError::NotFound { .. } => {
                    StoreError::Domain(DomainError::invalid("card_id", "督办牌不存在"))
                }
                e => e,
            })?;
            if card.state == CardState::Revoked {
                return Err(DomainError::invalid("card_id", "该督办牌已撤销，不能据以问责").into());
            }
        }
        let actor = member.id;
        let id = self
            .write(move |conn| {
                Box::pin(async move {
                    let id: i64 = sqlx::query(
                        "INSERT INTO accountability (person_id, responsibility, sanction, basis, card_id, case_id, decided_by, decided_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(new.person_id)
                    .bind(new.responsibility.key())
                    .bind(new.sanction.key())
                    .bind(&basis)
                    .bind(new.card_id)
                    .bind(new.case_id)
                    .bind(actor)
                    .bind(micros(now))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| {
                        crate::error::input_error(
                            e,
                            None,
                            Some(("person_id", "被问责人、督办牌或办件不存在")),
                        )
                    })?
                    .try_get("id")?;
                    audit::append(
                        conn,
                        now,
                        Entry {
                            actor: &Who::Staff(actor).audit_actor(),
                            action: "accountability.record",
                            object_kind: "accountability",
                            object_id: &id.to_string(),
                            detail: &serde_json::json!({
                                "person_id": new.person_id, "responsibility": new.responsibility.key(),
                                "sanction": new.sanction.key(), "basis": basis,
                                "card_id": new.card_id, "case_id": new.case_id,
                            }),
                        },
                    )
                    .await?;
                    Ok(id)
                })
            })
            .await?;
        let mut all = self.accountability(None, Some(id)).await?;
        all.pop().ok_or(StoreError::not_found("accountability"))
    }

    /// Accountability records, of one card or one record, or all.
    pub async fn accountability(
        &self,
        card_id: Option<i64>,
        id: Option<i64>,
    ) -> Result<Vec<AccountabilityRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.person_id, s.name AS person_name, d.name AS department_name, a.responsibility, \
             a.sanction, a.basis, a.card_id, a.case_id, a.decided_by, a.decided_at \
             FROM accountability a JOIN staff s ON s.id = a.person_id JOIN departments d ON d.id = s.department_id \
             WHERE ($1 IS NULL OR a.card_id = $1) AND ($2 IS NULL OR a.id = $2) ORDER BY a.id",
        )
        .bind(card_id)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let bad =
                    |v: String| StoreError::Backend(format!("bad value {v:?} in accountability"));
                let responsibility: String = r.try_get("responsibility")?;
                let sanction: String = r.try_get("sanction")?;
                Ok(AccountabilityRecord {
                    id: r.try_get("id")?,
                    person_id: r.try_get("person_id")?,
                    person_name: r.try_get("person_name")?,
                    department_name: r.try_get("department_name")?,
                    responsibility: Responsibility::parse(&responsibility)
                        .ok_or_else(|| bad(responsibility.clone()))?,
                    sanction: Sanction::parse(&sanction).ok_or_else(|| bad(sanction.clone()))?,
                    basis: r.try_get("basis")?,
                    card_id: r.try_get("card_id")?,
                    case_id: r.try_get("case_id")?,
                    decided_by: r.try_get("decided_by")?,
                    decided_at: from_micros(r.try_get("decided_at")?)?,
                })
            })
            .collect()
    }

    /// A person's in-app notices, newest first.
    pub async fn notices(&self, staff_id: i64, limit: i64) -> Result<Vec<Notice>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, card_id, title, body, created_at, read_at FROM notices \
             WHERE staff_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(staff_id)
        .bind(limit.clamp(1, 500))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notice {
                    id: r.try_get("id")?,
                    card_id: r.try_get("card_id")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    created_at: from_micros(r.try_get("created_at")?)?,
                    read_at: r
                        .try_get::<Option<i64>, _>("read_at")?
                        .map(from_micros)
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Marks a notice read (签收) and returns the card it is about. The
    /// first time someone of the department reads a card's notice, the card
    /// counts as notified.
    pub async fn read_notice(
        &self,
        staff_id: i64,
        notice_id: i64,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query(
                    "UPDATE notices SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND staff_id = $3 \
                     RETURNING card_id",
                )
                .bind(micros(now))
                .bind(notice_id)
                .bind(staff_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::not_found("notice"))?;
                let card_id = row.try_get::<Option<i64>, _>("card_id")?;
                if let Some(card_id) = card_id {
                    mark_notified(conn, card_id, Some(staff_id), "站内消息已签收", now).await?;
                }
                Ok(card_id)
            })
        })
        .await
    }

    /// The supervision figures per department on `today`: open cases, due
    /// soon (within `warning_days` working days of the promised deadline),
    /// overdue, cards by level (revoked ones not counted) and the on-time
    /// rate of decided cases.
    pub async fn department_figures(
        &self,
        today: Date,
    ) -> Result<Vec<DepartmentFigures>, StoreError> {
        let rules = self.supervision_rules().await?;
        let warning_days = rules
            .deadlines
            .warning_days
            .get(&DeadlineKind::CasePromised)
            .copied()
            .unwrap_or(0);
        let soon = self
            .calendar_for(self.region_code())
            .add_working_days(today, warning_days);
        let rows = sqlx::query(
            "SELECT dep.id, dep.name, \
             (SELECT COUNT(*) FROM cases c WHERE c.department_id = dep.id \
               AND c.state IN ('handling', 'reviewing', 'approving', 'deciding', 'suspended')) AS open_cases, \
             (SELECT COUNT(*) FROM object_deadlines d JOIN deadline_schedules s ON s.id = d.schedule_id \
               JOIN cases c ON c.id = d.object_id WHERE d.object_kind = 'case_promised' AND d.state <> 'ended' \
               AND c.department_id = dep.id AND s.due_on >= $1 AND s.due_on <= $2) AS due_soon, \
             (SELECT COUNT(*) FROM object_deadlines d JOIN deadline_schedules s ON s.id = d.schedule_id \
               JOIN cases c ON c.id = d.object_id WHERE d.object_kind = 'case_promised' AND d.state <> 'ended' \
               AND c.department_id = dep.id AND s.due_on < $1) AS overdue, \
             (SELECT COUNT(*) FROM cards k WHERE k.department_id = dep.id AND k.state <> 'revoked' AND k.level = 'warning') AS warnings, \
             (SELECT COUNT(*) FROM cards k WHERE k.department_id = dep.id AND k.state <> 'revoked' AND k.level = 'yellow') AS yellow, \
             (SELECT COUNT(*) FROM cards k WHERE k.department_id = dep.id AND k.state <> 'revoked' AND k.level = 'red') AS red, \
             (SELECT COUNT(*) FROM object_deadlines d JOIN cases c ON c.id = d.object_id \
               WHERE d.object_kind = 'case_promised' AND d.state = 'ended' AND c.department_id = dep.id \
               AND c.outcome IS NOT NULL) AS decided, \
             (SELECT COUNT(*) FROM object_deadlines d JOIN cases c ON c.id = d.object_id \
               WHERE d.object_kind = 'case_promised' AND d.state = 'ended' AND c.department_id = dep.id \
               AND c.outcome IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cards k WHERE k.subject_kind = 'case' \
               AND k.subject_id = c.id AND k.deadline_kind = 'case_promised' AND k.breach <> 'due_soon' \
               AND k.state <> 'revoked')) AS decided_on_time \
             FROM departments dep ORDER BY dep.id",
        )
        .bind(date_text(today))
        .bind(date_text(soon))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let decided: i64 = r.try_get("decided")?;
                let on_time: i64 = r.try_get("decided_on_time")?;
                Ok(DepartmentFigures {
                    department_id: r.try_get("id")?,
                    department_name: r.try_get("name")?,
                    open_cases: r.try_get("open_cases")?,
                    due_soon: r.try_get("due_soon")?,
                    overdue: r.try_get("overdue")?,
                    warnings: r.try_get("warnings")?,
                    yellow: r.try_get("yellow")?,
                    red: r.try_get("red")?,
                    decided,
                    decided_on_time: on_time,
                    on_time_rate: (decided > 0)
                        .then(|| (on_time as f64) * 100.0 / (decided as f64)),
                })
            })
            .collect()
    }
}

/// Moves an issued card to notified (its notice reached the department),
/// once; `actor` is who read it, or none for a delivery receipt.
pub(crate) async fn mark_notified(
    conn: &mut crate::Conn,
    card_id: i64,
    actor: Option<i64>,
    how: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let moved = sqlx::query(
        "UPDATE cards SET state = 'notified', updated_at = $1, version = version + 1 \
         WHERE id = $2 AND state = 'issued'",
    )
    .bind(micros(now))
    .bind(card_id)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 1 {
        sqlx::query(
            "INSERT INTO card_events (card_id, action, from_state, to_state, actor_id, text, at) \
             VALUES ($1, 'notify', 'issued', 'notified', $2, $3, $4)",
        )
        .bind(card_id)
        .bind(actor)
        .bind(how)
        .bind(micros(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
