//! The case lifecycle (R2, R3.1): submit, accept / reject / ask once for
//! supplements, the item's steps, decide, deliver; withdraw, terminate, suspend
//! for a special procedure and resume.
//!
//! [`decide`] is the whole state machine: it takes the case, the command, who
//! acts, the item's rules, the calendar and "now", and returns the next case and
//! the event to record, or the rule that refuses the command.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::calendar::{
    ACCEPTANCE_WINDOW, CERTIFICATE_LIMIT, DEFAULT_EXTENSION, JOINT_EXTENSION, TimeLimit,
    WorkCalendar, civil_date,
};
use crate::catalog::{HandlingCategory, Step};
use crate::clock::{Deadline, DeadlineKind, Pause, TrackedDeadline};
use crate::staff::Role;

/// Where a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Handed in, waiting for the window's acceptance decision.
    Submitted,
    /// The one-time supplement notice went out; waiting for the applicant.
    AwaitingSupplement,
    /// A step of role handler is in progress.
    Handling,
    /// A step of role reviewer is in progress.
    Reviewing,
    /// A step of role approver is in progress.
    Approving,
    /// Every step is done (or the item has none): the decision is next.
    Deciding,
    /// Approved or denied; the result waits for delivery.
    Decided,
    Completed,
    Rejected,
    Withdrawn,
    Terminated,
    /// A special procedure (hearing, expert review...) stops the clock.
    Suspended,
}

impl CaseState {
    pub const ALL: [CaseState; 12] = [
        CaseState::Submitted,
        CaseState::AwaitingSupplement,
        CaseState::Handling,
        CaseState::Reviewing,
        CaseState::Approving,
        CaseState::Deciding,
        CaseState::Decided,
        CaseState::Completed,
        CaseState::Rejected,
        CaseState::Withdrawn,
        CaseState::Terminated,
        CaseState::Suspended,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CaseState::Submitted => "submitted",
            CaseState::AwaitingSupplement => "awaiting_supplement",
            CaseState::Handling => "handling",
            CaseState::Reviewing => "reviewing",
            CaseState::Approving => "approving",
            CaseState::Deciding => "deciding",
            CaseState::Decided => "decided",
            CaseState::Completed => "completed",
            CaseState::Rejected => "rejected",
            CaseState::Withdrawn => "withdrawn",
            CaseState::Terminated => "terminated",
            CaseState::Suspended => "suspended",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseState::Submitted => "待受理",
            CaseState::AwaitingSupplement => "待补正",
            CaseState::Handling => "承办中",
            CaseState::Reviewing => "审核中",
            CaseState::Approving => "批准中",
            CaseState::Deciding => "待决定",
            CaseState::Decided => "已决定待送达",
            CaseState::Completed => "已办结",
            CaseState::Rejected => "不予受理",
            CaseState::Withdrawn => "已撤回",
            CaseState::Terminated => "已终止",
            CaseState::Suspended => "特别程序中",
        }
    }

    pub fn parse(key: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Whether the case is finished for good.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseState::Completed
                | CaseState::Rejected
                | CaseState::Withdrawn
                | CaseState::Terminated
        )
    }

    /// Whether the department's clock runs in this state.
    pub fn clock_runs(self) -> bool {
        matches!(
            self,
            CaseState::Handling | CaseState::Reviewing | CaseState::Approving | CaseState::Deciding
        )
    }

    fn for_step(step: Option<&Step>) -> CaseState {
        match step.map(|s| s.role) {
            Some(Role::Reviewer) => CaseState::Reviewing,
            Some(Role::Approver) => CaseState::Approving,
            Some(_) => CaseState::Handling,
            None => CaseState::Deciding,
        }
    }
}

/// The kinds of command, for errors and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Accept,
    Reject,
    RequestSupplement,
    Resubmit,
    CompleteStep,
    Decide,
    Deliver,
    Withdraw,
    Terminate,
    Suspend,
    Resume,
    Extend,
}

impl Action {
    pub fn key(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::RequestSupplement => "request_supplement",
            Action::Resubmit => "resubmit",
            Action::CompleteStep => "complete_step",
            Action::Decide => "decide",
            Action::Deliver => "deliver",
            Action::Withdraw => "withdraw",
            Action::Terminate => "terminate",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
            Action::Extend => "extend",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Submit => "提交申请",
            Action::Accept => "受理",
            Action::Reject => "不予受理",
            Action::RequestSupplement => "一次性告知补正",
            Action::Resubmit => "补正后重新提交",
            Action::CompleteStep => "环节办理",
            Action::Decide => "作出决定",
            Action::Deliver => "送达办结",
            Action::Withdraw => "撤回申请",
            Action::Terminate => "终止办理",
            Action::Suspend => "进入特别程序",
            Action::Resume => "恢复办理",
            Action::Extend => "延长办理期限",
        }
    }
}

/// The decision on the merits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approve,
    Deny,
}

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Approve => "approve",
            Outcome::Deny => "deny",
        }
    }

    pub fn parse(key: &str) -> Option<Outcome> {
        [Outcome::Approve, Outcome::Deny]
            .into_iter()
            .find(|o| o.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Approve => "准予许可（批准）",
            Outcome::Deny => "不予许可（不予批准）",
        }
    }
}

/// How an application came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Online,
    Window,
}

impl Channel {
    pub fn key(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Window => "window",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Channel::Online => "网上申报",
            Channel::Window => "窗口申报",
        }
    }
}

/// Special procedures whose time is not counted: hearing, tendering, auction,
/// testing (检验、检测), quarantine, appraisal and expert review
/// (Administrative Licensing Law art. 45), and site inspection (R3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialProcedure {
    Hearing,
    Tendering,
    Auction,
    Testing,
    Quarantine,
    /// 鉴定.
    Appraisal,
    ExpertReview,
    SiteInspection,
}

impl SpecialProcedure {
    /// Every procedure, in the order of art. 45 (site inspection last).
    pub const ALL: [SpecialProcedure; 8] = [
        SpecialProcedure::Hearing,
        SpecialProcedure::Tendering,
        SpecialProcedure::Auction,
        SpecialProcedure::Testing,
        SpecialProcedure::Quarantine,
        SpecialProcedure::Appraisal,
        SpecialProcedure::ExpertReview,
        SpecialProcedure::SiteInspection,
    ];

    /// The stable key in the API, the database and forms (its serde name).
    pub fn key(self) -> &'static str {
        match self {
            SpecialProcedure::Hearing => "hearing",
            SpecialProcedure::Tendering => "tendering",
            SpecialProcedure::Auction => "auction",
            SpecialProcedure::Testing => "testing",
            SpecialProcedure::Quarantine => "quarantine",
            SpecialProcedure::Appraisal => "appraisal",
            SpecialProcedure::ExpertReview => "expert_review",
            SpecialProcedure::SiteInspection => "site_inspection",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SpecialProcedure::Hearing => "听证",
            SpecialProcedure::Tendering => "招标",
            SpecialProcedure::Auction => "拍卖",
            SpecialProcedure::Testing => "检验检测",
            SpecialProcedure::Quarantine => "检疫",
            SpecialProcedure::Appraisal => "鉴定",
            SpecialProcedure::ExpertReview => "专家评审",
            SpecialProcedure::SiteInspection => "现场勘验",
        }
    }

    pub fn parse(key: &str) -> Option<SpecialProcedure> {
        SpecialProcedure::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// One entry of the one-time supplement notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementItem {
    /// The material concerned.
    pub material: String,
    /// What is missing or wrong with it.
    pub problem: String,
}

/// A special procedure in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub resume_to: CaseState,
    pub procedure: SpecialProcedure,
    pub reason: String,
    pub planned_days: u32,
    pub started_on: Date,
}

/// A fee charged when the result is delivered, in fen (分).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeCharged {
    pub name: String,
    pub amount_fen: i64,
}

/// What the state machine needs to know about a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    pub state: CaseState,
    /// Index of the step in progress (== number of steps done).
    pub step_index: u32,
    /// The date the (complete or supplemented) materials were received.
    pub received_on: Date,
    pub supplement_requested: bool,
    pub deemed_accepted: bool,
    pub clock_start: Option<Date>,
    pub promised_due: Option<Date>,
    pub statutory_due: Option<Date>,
    pub paused_working_days: u32,
    pub suspension: Option<Suspension>,
    pub outcome: Option<Outcome>,
    /// The clock of an accepted case: what its deadlines are computed from.
    pub clock: Option<CaseClock>,
    /// The one-time supplement wait, once a notice went out.
    #[serde(default)]
    pub supplement_wait: Option<SupplementWait>,
}

/// The wait for the applicant's supplement (art. 32): the acceptance window
/// counts again from the day the supplemented materials come in, so the days
/// from the first receipt to that day are not counted. They are kept, so the
/// acceptance deadline lists them instead of silently starting later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementWait {
    /// The day the application was first received.
    pub first_received_on: Date,
    /// The day of the one-time supplement notice.
    pub notified_on: Date,
    /// The day the supplemented materials came in; `None` while waiting.
    #[serde(default)]
    pub resubmitted_on: Option<Date>,
}

impl SupplementWait {
    /// The wait as a pause of the acceptance window from the first receipt:
    /// it ends on the day the supplemented materials came in, which gives the
    /// same due day as counting afresh from that day.
    pub fn pause(&self) -> Pause {
        Pause {
            from: self.first_received_on,
            to: self.resubmitted_on,
            reason: format!(
                "等待申请人补正（{}出具补正材料一次性告知书），不计入受理期限，自补正材料之日起重新计算",
                crate::clock::short_date(self.notified_on)
            ),
        }
    }

    /// The acceptance window counted with the wait.
    pub fn acceptance_deadline(&self) -> Deadline {
        Deadline {
            start: self.first_received_on,
            limit: ACCEPTANCE_WINDOW,
            pauses: vec![self.pause()],
        }
    }
}

/// What an accepted case's deadlines are computed from: the limits fixed at
/// acceptance, the intervals the clock stood still, the step in progress and
/// the day of the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClock {
    pub promised: TimeLimit,
    pub statutory: TimeLimit,
    #[serde(default)]
    pub pauses: Vec<Pause>,
    #[serde(default)]
    pub step: Option<StepClock>,
    #[serde(default)]
    pub decided_on: Option<Date>,
    /// Whether the statutory limit was extended (once at most).
    #[serde(default)]
    pub extended: bool,
    /// Whether the item is handled on the spot (即办件): the window decides.
    #[serde(default)]
    pub instant: bool,
    /// The last special procedure: its planned days are watched while it
    /// lasts, and it stays (ended) after the case resumes.
    #[serde(default)]
    pub suspension: Option<SuspensionClock>,
}

/// A special procedure's planned working days, from the day it began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspensionClock {
    pub started_on: Date,
    pub planned_days: u32,
}

/// The step in progress and its own limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepClock {
    pub index: u32,
    pub started_on: Date,
    pub limit: TimeLimit,
}

impl CaseClock {
    /// Starts the clock of step `index`; after the last step the finished
    /// step's clock stays, so its deadline is recorded as ended.
    fn start_step(&mut self, step: Option<&Step>, index: u32, today: Date) {
        if let Some(s) = step {
            self.step = Some(StepClock {
                index,
                started_on: today,
                limit: TimeLimit::working_days(s.limit_days),
            });
        }
    }
}

impl CaseFacts {
    /// A case just handed in on `now`.
    pub fn submitted(now: Timestamp) -> CaseFacts {
        CaseFacts {
            state: CaseState::Submitted,
            step_index: 0,
            received_on: civil_date(now),
            supplement_requested: false,
            deemed_accepted: false,
            clock_start: None,
            promised_due: None,
            statutory_due: None,
            paused_working_days: 0,
            suspension: None,
            outcome: None,
            clock: None,
            supplement_wait: None,
        }
    }

    /// Whether the case is of an item handled on the spot (即办件), as fixed
    /// at acceptance.
    pub fn is_instant(&self) -> bool {
        self.clock.as_ref().is_some_and(|c| c.instant)
    }

    /// The window for the acceptance decision: 5 working days from receipt,
    /// with the wait for a supplement listed as a pause.
    pub fn acceptance_deadline(&self) -> Deadline {
        match &self.supplement_wait {
            Some(wait) => wait.acceptance_deadline(),
            None => Deadline::new(self.received_on, ACCEPTANCE_WINDOW),
        }
    }

    /// The case's deadlines as the supervision index keeps them: the
    /// acceptance window always (paused while the applicant supplements);
    /// once accepted, the promised and statutory limits and the step in
    /// progress; once decided, delivery.
    pub fn deadlines(&self, calendar: &dyn WorkCalendar) -> Vec<TrackedDeadline> {
        use CaseState as S;
        let acceptance = self.acceptance_deadline();
        let open = self.state == S::Submitted
            || (self.state == S::AwaitingSupplement && acceptance.is_paused());
        let mut all = vec![TrackedDeadline::new(
            DeadlineKind::CaseAcceptance,
            acceptance,
            open,
            calendar,
        )];
        let (Some(clock), Some(start)) = (&self.clock, self.clock_start) else {
            return all;
        };
        let handling = self.state.clock_runs() || self.state == S::Suspended;
        for (kind, limit) in [
            (DeadlineKind::CasePromised, clock.promised),
            (DeadlineKind::CaseStatutory, clock.statutory),
        ] {
            let deadline = Deadline {
                start,
                limit,
                pauses: clock.pauses.clone(),
            };
            all.push(TrackedDeadline::new(kind, deadline, handling, calendar));
        }
        if let Some(step) = &clock.step {
            let deadline = Deadline {
                start: step.started_on,
                limit: step.limit,
                pauses: clock
                    .pauses
                    .iter()
                    .filter(|p| p.to.is_none_or(|to| to > step.started_on))
                    .cloned()
                    .collect(),
            };
            let open = handling && self.step_index == step.index;
            all.push(TrackedDeadline::new(
                DeadlineKind::CaseStep,
                deadline,
                open,
                calendar,
            ));
        }
        if let Some(suspension) = &clock.suspension {
            all.push(TrackedDeadline::new(
                DeadlineKind::CaseSuspension,
                Deadline::new(
                    suspension.started_on,
                    TimeLimit::working_days(suspension.planned_days),
                ),
                self.state == S::Suspended,
                calendar,
            ));
        }
        if let Some(decided_on) = clock.decided_on {
            all.push(TrackedDeadline::new(
                DeadlineKind::CaseDelivery,
                Deadline::new(decided_on, CERTIFICATE_LIMIT),
                self.state == S::Decided,
                calendar,
            ));
        }
        all
    }

    /// The promised and statutory due days from the clock.
    fn recompute_dues(&mut self, calendar: &dyn WorkCalendar) {
        if let (Some(clock), Some(start)) = (&self.clock, self.clock_start) {
            let due = |limit| {
                Deadline {
                    start,
                    limit,
                    pauses: clock.pauses.clone(),
                }
                .due(calendar)
            };
            self.promised_due = Some(due(clock.promised));
            self.statutory_due = Some(due(clock.statutory));
        }
    }

    /// The role whose work is due next, if any; used to route the case to the
    /// person holding that post.
    pub fn pending_role(&self, steps: &[Step]) -> Option<Role> {
        match self.state {
            CaseState::Submitted | CaseState::Decided => Some(Role::WindowClerk),
            CaseState::Handling | CaseState::Reviewing | CaseState::Approving => {
                steps.get(self.step_index as usize).map(|s| s.role)
            }
            // An instant item is decided at the window, on the spot.
            CaseState::Deciding if self.is_instant() => Some(Role::WindowClerk),
            CaseState::Deciding => Some(Role::Approver),
            CaseState::Suspended => self.suspension.as_ref().map(|s| match s.resume_to {
                CaseState::Reviewing => Role::Reviewer,
                CaseState::Deciding if self.is_instant() => Role::WindowClerk,
                CaseState::Approving | CaseState::Deciding => Role::Approver,
                _ => Role::Handler,
            }),
            _ => None,
        }
    }
}

/// The item's rules that the lifecycle follows.
#[derive(Debug, Clone, Copy)]
pub struct ItemRules<'a> {
    pub category: HandlingCategory,
    pub steps: &'a [Step],
    pub promised_limit: TimeLimit,
    pub statutory_limit: TimeLimit,
}

/// A command on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    Accept {
        #[serde(default)]
        opinion: String,
    },
    Reject {
        reasons: String,
        rights_notice: String,
    },
    RequestSupplement {
        items: Vec<SupplementItem>,
        #[serde(default)]
        note: String,
    },
    Resubmit {
        #[serde(default)]
        note: String,
    },
    CompleteStep {
        opinion: String,
    },
    Decide {
        outcome: Outcome,
        opinion: String,
        #[serde(default)]
        reasons: String,
        #[serde(default)]
        rights_notice: String,
        /// The date on the decision document, when it is not today.
        #[serde(default)]
        decided_on: Option<Date>,
    },
    Deliver {
        method: String,
        /// The fees charged (收费), as the window records them.
        #[serde(default)]
        fees: Vec<FeeCharged>,
    },
    Withdraw {
        #[serde(default)]
        reason: String,
    },
    Terminate {
        reason: String,
    },
    /// The department head extends the statutory limit once (Administrative
    /// Licensing Law art. 42): 10 working days, 15 for joint handling.
    Extend {
        reason: String,
    },
    Suspend {
        procedure: SpecialProcedure,
        reason: String,
        planned_days: u32,
    },
    Resume {
        #[serde(default)]
        note: String,
    },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Accept { .. } => Action::Accept,
            Command::Reject { .. } => Action::Reject,
            Command::RequestSupplement { .. } => Action::RequestSupplement,
            Command::Resubmit { .. } => Action::Resubmit,
            Command::CompleteStep { .. } => Action::CompleteStep,
            Command::Decide { .. } => Action::Decide,
            Command::Deliver { .. } => Action::Deliver,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::Terminate { .. } => Action::Terminate,
            Command::Extend { .. } => Action::Extend,
            Command::Suspend { .. } => Action::Suspend,
            Command::Resume { .. } => Action::Resume,
        }
    }

    /// Commands the applicant gives; all others are given by staff.
    pub fn by_applicant(&self) -> bool {
        matches!(self, Command::Resubmit { .. } | Command::Withdraw { .. })
    }

    /// Whether the command does the work the case is waiting for, which is
    /// its assignee's: a step, suspending or resuming it, or the decision once
    /// every step is done.
    pub fn is_assigned_work(&self, facts: &CaseFacts) -> bool {
        match self {
            Command::CompleteStep { .. } | Command::Suspend { .. } | Command::Resume { .. } => true,
            // An instant item's decision is the window's, not a post's.
            Command::Decide { .. } => facts.state == CaseState::Deciding && !facts.is_instant(),
            _ => false,
        }
    }

    /// The staff role whose work the command is in a case at `facts` (see
    /// [`Command::permitted_roles`] for every role that may give it).
    pub fn required_role(&self, facts: &CaseFacts, steps: &[Step]) -> Option<Role> {
        match self {
            Command::Accept { .. }
            | Command::Reject { .. }
            | Command::RequestSupplement { .. }
            | Command::Deliver { .. } => Some(Role::WindowClerk),
            Command::CompleteStep { .. } | Command::Suspend { .. } | Command::Resume { .. } => {
                facts.pending_role(steps)
            }
            // An instant item is decided at the window on the spot.
            Command::Decide { .. } if facts.is_instant() => Some(Role::WindowClerk),
            Command::Decide { .. } | Command::Terminate { .. } | Command::Extend { .. } => {
                Some(Role::Approver)
            }
            Command::Resubmit { .. } | Command::Withdraw { .. } => None,
        }
    }

    /// Every staff role that may give the command in a case at `facts`, the
    /// [`Command::required_role`] first; empty when staff roles do not apply.
    /// The approver may still decide an instant item the window decides.
    pub fn permitted_roles(&self, facts: &CaseFacts, steps: &[Step]) -> Vec<Role> {
        let mut roles: Vec<Role> = self.required_role(facts, steps).into_iter().collect();
        if matches!(self, Command::Decide { .. }) && facts.is_instant() {
            roles.push(Role::Approver);
        }
        roles
    }
}

/// The standard notice of the right to reconsideration or litigation, to be
/// completed with the department's and the government's names.
pub fn default_rights_notice(department: &str, government: &str) -> String {
    format!(
        "如不服本决定，可以自收到本决定书之日起六十日内向{government}申请行政复议，\
         或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。（作出机关：{department}）"
    )
}

/// The result of a command: the next facts and what to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub facts: CaseFacts,
    pub action: Action,
    pub from: CaseState,
    /// Details for the audit log and the timeline (opinion, reasons, notice).
    pub detail: serde_json::Value,
    /// The case's deadlines the transition set or changed (none when it
    /// changed none).
    pub deadlines: Vec<TrackedDeadline>,
}

fn required_text(field: &str, value: &str, label: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, format!("{label}不能为空")));
    }
    if value.chars().count() > 4000 {
        return Err(DomainError::invalid(
            field,
            format!("{label}不得超过4000字"),
        ));
    }
    Ok(value.to_string())
}

fn rights_notice(field: &str, value: &str) -> Result<String, DomainError> {
    let value = required_text(field, value, "救济权利告知")?;
    if !(value.contains("复议") || value.contains("诉讼")) {
        return Err(DomainError::invalid(
            field,
            "救济权利告知须写明申请行政复议或提起行政诉讼的权利",
        ));
    }
    Ok(value)
}

/// The opinion recorded when the system applies art. 32 to an application
/// nobody decided on.
pub const DEEMED_ACCEPTANCE_OPINION: &str = "逾期未作受理决定，依法视为受理";

/// Whether the window for the acceptance decision on a case at `facts` closed
/// before `today`: an application still undecided then counts as accepted
/// from receipt (Administrative Licensing Law art. 32).
pub fn acceptance_window_passed(
    facts: &CaseFacts,
    calendar: &dyn WorkCalendar,
    today: Date,
) -> bool {
    today > ACCEPTANCE_WINDOW.due_date(calendar, facts.received_on)
}

/// Art. 32 applied by the system: an application still waiting for the
/// acceptance decision after its window closed is accepted as of receipt,
/// through the same transition as a clerk's acceptance (events, deadlines
/// from the day of receipt). Refused when the case is no longer waiting or
/// its window is still open.
pub fn deemed_acceptance(
    facts: &CaseFacts,
    rules: &ItemRules<'_>,
    calendar: &dyn WorkCalendar,
    now: Timestamp,
) -> Result<Transition, DomainError> {
    if facts.state != CaseState::Submitted
        || !acceptance_window_passed(facts, calendar, civil_date(now))
    {
        return Err(DomainError::TransitionRefused {
            state: facts.state,
            action: Action::Accept,
        });
    }
    let command = Command::Accept {
        opinion: DEEMED_ACCEPTANCE_OPINION.into(),
    };
    decide(facts, &command, rules, calendar, now)
}

/// Applies `command` to a case at `facts` on `now`.
///
/// Role and assignment checks are the caller's (see
/// [`Command::required_role`] and [`crate::staff::acting_for`]); this checks
/// the lifecycle rules and the content the command must carry.
pub fn decide(
    facts: &CaseFacts,
    command: &Command,
    rules: &ItemRules<'_>,
    calendar: &dyn WorkCalendar,
    now: Timestamp,
) -> Result<Transition, DomainError> {
    use CaseState as S;
    let today = civil_date(now);
    let from = facts.state;
    let action = command.action();
    let refuse = || DomainError::TransitionRefused {
        state: from,
        action,
    };
    let mut next = facts.clone();
    let open = !from.is_closed();
    let in_step = matches!(from, S::Handling | S::Reviewing | S::Approving);
    // Art. 32: no answer within 5 working days of receipt counts as acceptance.
    let window_passed = acceptance_window_passed(facts, calendar, today);
    let detail = match command {
        Command::Accept { opinion } => {
            if from != S::Submitted {
                return Err(refuse());
            }
            let deemed = window_passed;
            let start = if deemed { facts.received_on } else { today };
            next.deemed_accepted = deemed;
            next.clock_start = Some(start);
            let mut clock = CaseClock {
                promised: rules.promised_limit,
                statutory: rules.statutory_limit,
                pauses: Vec::new(),
                step: None,
                decided_on: None,
                extended: false,
                instant: rules.category == HandlingCategory::Instant,
                suspension: None,
            };
            clock.start_step(rules.steps.first(), 0, today);
            next.clock = Some(clock);
            next.recompute_dues(calendar);
            next.step_index = 0;
            next.state = S::for_step(rules.steps.first());
            serde_json::json!({ "opinion": opinion.trim(), "deemed_accepted": deemed })
        }
        Command::Reject {
            reasons,
            rights_notice: notice,
        } => {
            if from != S::Submitted {
                return Err(refuse());
            }
            let reasons = required_text("reasons", reasons, "不予受理理由")?;
            let notice = rights_notice("rights_notice", notice)?;
            if window_passed {
                return Err(DomainError::DeemedAccepted);
            }
            next.state = S::Rejected;
            serde_json::json!({ "reasons": reasons, "rights_notice": notice })
        }
        Command::RequestSupplement { items, note } => {
            if facts.supplement_requested {
                return Err(DomainError::SecondSupplement);
            }
            if from != S::Submitted {
                return Err(refuse());
            }
            if items.is_empty() {
                return Err(DomainError::invalid(
                    "items",
                    "一次性告知书须列明全部需补正的材料",
                ));
            }
            for (i, item) in items.iter().enumerate() {
                required_text(&format!("items[{i}].material"), &item.material, "材料名称")?;
                required_text(&format!("items[{i}].problem"), &item.problem, "补正要求")?;
            }
            if window_passed {
                return Err(DomainError::DeemedAccepted);
            }
            next.supplement_requested = true;
            next.supplement_wait = Some(SupplementWait {
                first_received_on: facts.received_on,
                notified_on: today,
                resubmitted_on: None,
            });
            next.state = S::AwaitingSupplement;
            serde_json::json!({ "items": items, "note": note.trim() })
        }
        Command::Resubmit { note } => {
            if from != S::AwaitingSupplement {
                return Err(refuse());
            }
            // The acceptance window restarts on the day the supplemented
            // materials are received (art. 32); the wait is kept and listed.
            next.received_on = today;
            let mut detail = serde_json::json!({ "note": note.trim() });
            if let Some(wait) = next.supplement_wait.as_mut() {
                wait.resubmitted_on = Some(today);
                detail["first_received_on"] = wait.first_received_on.to_string().into();
                detail["notified_on"] = wait.notified_on.to_string().into();
            }
            next.state = S::Submitted;
            detail
        }
        Command::CompleteStep { opinion } => {
            if !in_step {
                return Err(refuse());
            }
            let opinion = required_text("opinion", opinion, "办理意见")?;
            let step = rules.steps.get(facts.step_index as usize);
            next.step_index = facts.step_index + 1;
            let following = rules.steps.get(next.step_index as usize);
            if let Some(clock) = next.clock.as_mut() {
                clock.start_step(following, next.step_index, today);
            }
            next.state = S::for_step(following);
            serde_json::json!({
                "opinion": opinion,
                "step": facts.step_index,
                "step_name": step.map(|s| s.name.as_str()).unwrap_or(""),
            })
        }
        Command::Decide {
            outcome,
            opinion,
            reasons,
            rights_notice: notice,
            decided_on,
        } => {
            if from != S::Deciding {
                return Err(refuse());
            }
            let opinion = required_text("opinion", opinion, "决定意见")?;
            let dated = decided_on.unwrap_or(today);
            if dated > today {
                return Err(DomainError::invalid("decided_on", "决定书日期不能晚于今天"));
            }
            next.outcome = Some(*outcome);
            next.state = S::Decided;
            if let Some(clock) = next.clock.as_mut() {
                clock.decided_on = Some(today);
            }
            let mut detail = match outcome {
                Outcome::Approve => serde_json::json!({ "outcome": outcome, "opinion": opinion }),
                Outcome::Deny => {
                    let reasons = required_text("reasons", reasons, "不予许可理由")?;
                    let notice = rights_notice("rights_notice", notice)?;
                    serde_json::json!({
                        "outcome": outcome, "opinion": opinion,
                        "reasons": reasons, "rights_notice": notice,
                    })
                }
            };
            if dated != today {
                detail["decided_on"] = dated.to_string().into();
            }
            detail
        }
        Command::Deliver { method, fees } => {
            if from != S::Decided {
                return Err(refuse());
            }
            let method = required_text("method", method, "送达方式")?;
            for (i, fee) in fees.iter().enumerate() {
                if fee.name.trim().is_empty() {
                    return Err(DomainError::invalid(
                        format!("fees[{i}].name"),
                        "请填写收费项目名称",
                    ));
                }
                if !(0..=100_000_000_000).contains(&fee.amount_fen) {
                    return Err(DomainError::invalid(
                        format!("fees[{i}].amount_fen"),
                        "收费金额须为不小于0的金额（单位：分）",
                    ));
                }
            }
            next.state = S::Completed;
            serde_json::json!({ "method": method, "fees": fees })
        }
        Command::Withdraw { reason } => {
            if !open {
                return Err(refuse());
            }
            if from == S::Decided {
                // The decision exists; it can only be delivered now.
                return Err(refuse());
            }
            next.state = S::Withdrawn;
            next.suspension = None;
            serde_json::json!({ "reason": reason.trim() })
        }
        Command::Terminate { reason } => {
            if !open || from == S::Decided {
                return Err(refuse());
            }
            let reason = required_text("reason", reason, "终止理由")?;
            next.state = S::Terminated;
            next.suspension = None;
            serde_json::json!({ "reason": reason })
        }
        Command::Extend { reason } => {
            if !(in_step || from == S::Deciding) {
                return Err(refuse());
            }
            let reason = required_text("reason", reason, "延长期限的理由")?;
            let Some(clock) = next.clock.as_mut() else {
                return Err(refuse());
            };
            if clock.extended {
                return Err(DomainError::invalid(
                    "reason",
                    "本件已经延长过一次办理期限，不能再次延长",
                ));
            }
            let extension = if rules.category == crate::catalog::HandlingCategory::Joint {
                JOINT_EXTENSION
            } else {
                DEFAULT_EXTENSION
            };
            clock.statutory.amount += extension.amount;
            clock.extended = true;
            next.recompute_dues(calendar);
            serde_json::json!({
                "reason": reason,
                "extension_days": extension.amount,
                "statutory_due": next.statutory_due,
            })
        }
        Command::Suspend {
            procedure,
            reason,
            planned_days,
        } => {
            if !(in_step || from == S::Deciding) {
                return Err(refuse());
            }
            let reason = required_text("reason", reason, "特别程序事由")?;
            if *planned_days == 0 || *planned_days > 365 {
                return Err(DomainError::invalid(
                    "planned_days",
                    "计划天数须在1至365个工作日之间",
                ));
            }
            next.suspension = Some(Suspension {
                resume_to: from,
                procedure: *procedure,
                reason: reason.clone(),
                planned_days: *planned_days,
                started_on: today,
            });
            if let Some(clock) = next.clock.as_mut() {
                clock.pauses.push(Pause {
                    from: today,
                    to: None,
                    reason: format!("{}：{}", procedure.label(), reason),
                });
                clock.suspension = Some(SuspensionClock {
                    started_on: today,
                    planned_days: *planned_days,
                });
            }
            next.state = S::Suspended;
            serde_json::json!({
                "procedure": procedure, "procedure_label": procedure.label(),
                "reason": reason, "planned_days": planned_days,
            })
        }
        Command::Resume { note } => {
            let Some(suspension) = facts.suspension.as_ref().filter(|_| from == S::Suspended)
            else {
                return Err(refuse());
            };
            // The working days spent in the procedure do not count (art. 45).
            let paused = calendar
                .working_days_between(suspension.started_on, today)
                .max(0) as u32;
            match next.clock.as_mut() {
                Some(clock) => {
                    for pause in clock.pauses.iter_mut().filter(|p| p.to.is_none()) {
                        pause.to = Some(today.max(pause.from));
                    }
                    next.recompute_dues(calendar);
                }
                None => {
                    // A case accepted before clocks were kept: move both
                    // deadlines by the paused working days.
                    let extend =
                        |due: Option<Date>| due.map(|d| calendar.add_working_days(d, paused));
                    next.promised_due = extend(facts.promised_due);
                    next.statutory_due = extend(facts.statutory_due);
                }
            }
            next.paused_working_days = facts.paused_working_days + paused;
            next.state = suspension.resume_to;
            next.suspension = None;
            serde_json::json!({
                "note": note.trim(), "paused_working_days": paused,
                "procedure": suspension.procedure, "planned_days": suspension.planned_days,
            })
        }
    };
    let before = facts.deadlines(calendar);
    let deadlines = next
        .deadlines(calendar)
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    Ok(Transition {
        facts: next,
        action,
        from,
        detail,
        deadlines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WeekendCalendar;
    use crate::catalog::tests::sample_guide;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn at(day: &str) -> Timestamp {
        format!("{day}T02:00:00Z").parse().unwrap()
    }

    struct Story {
        facts: CaseFacts,
        steps: Vec<Step>,
        category: HandlingCategory,
    }

    impl Story {
        fn new() -> Story {
            Story {
                facts: CaseFacts::submitted(at("2026-11-23")),
                steps: sample_guide().steps,
                category: HandlingCategory::Promised,
            }
        }
        fn instant() -> Story {
            Story {
                steps: vec![],
                category: HandlingCategory::Instant,
                ..Story::new()
            }
        }
        fn run(&mut self, command: Command, day: &str) -> Result<Transition, DomainError> {
            let rules = ItemRules {
                category: self.category,
                steps: &self.steps,
                promised_limit: TimeLimit::working_days(if self.steps.is_empty() { 0 } else { 5 }),
                statutory_limit: TimeLimit::working_days(20),
            };
            let t = decide(&self.facts, &command, &rules, &WeekendCalendar, at(day))?;
            self.facts = t.facts.clone();
            Ok(t)
        }
        fn ok(&mut self, command: Command, day: &str) -> &mut Self {
            self.run(command, day).unwrap();
            self
        }
    }

    fn accept() -> Command {
        Command::Accept {
            opinion: String::new(),
        }
    }
    fn step() -> Command {
        Command::CompleteStep {
            opinion: "同意".into(),
        }
    }
    fn approve() -> Command {
        Command::Decide {
            outcome: Outcome::Approve,
            opinion: "准予许可".into(),
            reasons: String::new(),
            rights_notice: String::new(),
            decided_on: None,
        }
    }
    fn supplement() -> Command {
        Command::RequestSupplement {
            items: vec![SupplementItem {
                material: "营业执照".into(),
                problem: "缺少副本".into(),
            }],
            note: String::new(),
        }
    }
    const NOTICE: &str = "可以自收到之日起六十日内申请行政复议，或六个月内提起行政诉讼";

    #[test]
    fn a_case_goes_through_every_step_to_completion() {
        let mut story = Story::new();
        story.ok(accept(), "2026-11-23");
        assert_eq!(story.facts.state, CaseState::Handling);
        assert_eq!(story.facts.promised_due, Some(date(2026, 11, 30)));
        assert_eq!(story.facts.statutory_due, Some(date(2026, 12, 21)));
        story.ok(step(), "2026-11-24");
        assert_eq!(story.facts.state, CaseState::Reviewing);
        story.ok(step(), "2026-11-25");
        assert_eq!(story.facts.state, CaseState::Approving);
        story.ok(step(), "2026-11-25");
        assert_eq!(story.facts.state, CaseState::Deciding);
        story.ok(approve(), "2026-11-26");
        story.ok(
            Command::Deliver {
                method: "窗口领取".into(),
                fees: vec![],
            },
            "2026-11-26",
        );
        assert_eq!(story.facts.state, CaseState::Completed);
        assert_eq!(story.facts.outcome, Some(Outcome::Approve));
    }

    #[test]
    fn an_instant_item_is_accepted_and_decided_the_same_day() {
        let mut story = Story::instant();
        story.ok(accept(), "2026-11-23");
        assert_eq!(story.facts.state, CaseState::Deciding);
        assert_eq!(story.facts.promised_due, Some(date(2026, 11, 23)));
        story.ok(approve(), "2026-11-23");
        assert_eq!(story.facts.state, CaseState::Decided);
    }

    #[test]
    fn a_second_supplement_request_is_refused() {
        let mut story = Story::new();
        story.ok(supplement(), "2026-11-23");
        story.ok(
            Command::Resubmit {
                note: String::new(),
            },
            "2026-11-25",
        );
        assert_eq!(story.facts.received_on, date(2026, 11, 25));
        assert_eq!(
            story.run(supplement(), "2026-11-25"),
            Err(DomainError::SecondSupplement)
        );
    }

    #[test]
    fn a_supplement_notice_must_list_the_materials() {
        let mut story = Story::new();
        let empty = Command::RequestSupplement {
            items: vec![],
            note: "请补充".into(),
        };
        assert_eq!(
            story.run(empty, "2026-11-23").unwrap_err().field(),
            Some("items")
        );
    }

    #[test]
    fn rejection_needs_reasons_and_the_rights_notice() {
        let mut story = Story::new();
        let no_reasons = Command::Reject {
            reasons: " ".into(),
            rights_notice: NOTICE.into(),
        };
        assert_eq!(
            story.run(no_reasons, "2026-11-23").unwrap_err().field(),
            Some("reasons")
        );
        let no_rights = Command::Reject {
            reasons: "不属于本机关职权范围".into(),
            rights_notice: "无".into(),
        };
        assert_eq!(
            story.run(no_rights, "2026-11-23").unwrap_err().field(),
            Some("rights_notice")
        );
        story.ok(
            Command::Reject {
                reasons: "不属于本机关职权范围".into(),
                rights_notice: NOTICE.into(),
            },
            "2026-11-23",
        );
        assert_eq!(story.facts.state, CaseState::Rejected);
    }

    #[test]
    fn a_denial_needs_reasons_and_the_rights_notice() {
        let mut story = Story::instant();
        story.ok(accept(), "2026-11-23");
        let deny = Command::Decide {
            outcome: Outcome::Deny,
            opinion: "不予许可".into(),
            reasons: String::new(),
            rights_notice: NOTICE.into(),
            decided_on: None,
        };
        assert_eq!(
            story.run(deny, "2026-11-23").unwrap_err().field(),
            Some("reasons")
        );
    }

    #[test]
    fn no_answer_within_five_working_days_counts_as_acceptance_from_receipt() {
        let mut story = Story::new();
        // Received Monday 23rd; the window closes Monday 30th.
        let late_reject = Command::Reject {
            reasons: "材料不全".into(),
            rights_notice: NOTICE.into(),
        };
        assert_eq!(
            story.run(late_reject, "2026-12-01"),
            Err(DomainError::DeemedAccepted)
        );
        assert_eq!(
            story.run(supplement(), "2026-12-01"),
            Err(DomainError::DeemedAccepted)
        );
        story.ok(accept(), "2026-12-01");
        assert!(story.facts.deemed_accepted);
        assert_eq!(story.facts.clock_start, Some(date(2026, 11, 23)));
        assert_eq!(story.facts.promised_due, Some(date(2026, 11, 30)));
    }

    #[test]
    fn a_special_procedure_moves_both_deadlines_by_its_working_days() {
        let mut story = Story::new();
        story.ok(accept(), "2026-11-23");
        let suspend = Command::Suspend {
            procedure: SpecialProcedure::ExpertReview,
            reason: "组织专家评审".into(),
            planned_days: 5,
        };
        story.ok(suspend, "2026-11-24");
        assert_eq!(story.facts.state, CaseState::Suspended);
        assert_eq!(story.facts.pending_role(&story.steps), Some(Role::Handler));
        story.ok(
            Command::Resume {
                note: String::new(),
            },
            "2026-11-27",
        );
        assert_eq!(story.facts.state, CaseState::Handling);
        assert_eq!(story.facts.paused_working_days, 3);
        assert_eq!(story.facts.promised_due, Some(date(2026, 12, 3)));
    }

    #[test]
    fn the_head_extends_the_statutory_limit_once_by_ten_working_days() {
        let mut story = Story::new();
        story.ok(accept(), "2026-11-23");
        let statutory = story.facts.statutory_due.unwrap();
        let promised = story.facts.promised_due;
        assert!(allowed_actions(&story.facts).contains(&Action::Extend));
        let extend = || Command::Extend {
            reason: "需组织现场核查".into(),
        };
        story.ok(extend(), "2026-11-25");
        assert_eq!(
            story.facts.statutory_due,
            Some(WeekendCalendar.add_working_days(statutory, 10))
        );
        // The hall's promise does not move.
        assert_eq!(story.facts.promised_due, promised);
        assert!(!allowed_actions(&story.facts).contains(&Action::Extend));
        let twice = story.run(extend(), "2026-11-26").unwrap_err();
        assert_eq!(twice.field(), Some("reason"));
        let no_reason = Command::Extend { reason: " ".into() };
        let mut fresh = Story::new();
        fresh.ok(accept(), "2026-11-23");
        assert!(fresh.run(no_reason, "2026-11-24").is_err());
        assert_eq!(
            extend().required_role(&story.facts, &story.steps),
            Some(Role::Approver)
        );
    }

    #[test]
    fn a_joint_item_runs_45_working_days_and_the_head_extends_it_by_15() {
        let mut guide = sample_guide();
        guide.category = HandlingCategory::Joint;
        guide.statutory_limit = TimeLimit::working_days(0);
        let rules = guide.rules();
        let received = CaseFacts::submitted(at("2026-11-23"));
        let accepted = decide(
            &received,
            &accept(),
            &rules,
            &WeekendCalendar,
            at("2026-11-23"),
        )
        .unwrap()
        .facts;
        // 45 working days after Monday 23 November 2026 (weekends only).
        assert_eq!(accepted.statutory_due, Some(date(2027, 1, 25)));
        let extend = Command::Extend {
            reason: "涉及多个部门联合审查".into(),
        };
        let extended = decide(
            &accepted,
            &extend,
            &rules,
            &WeekendCalendar,
            at("2026-11-25"),
        )
        .unwrap();
        assert_eq!(extended.detail["extension_days"], 15);
        // 15 working days more: 60 after receipt.
        assert_eq!(extended.facts.statutory_due, Some(date(2027, 2, 15)));
    }

    #[test]
    fn the_system_accepts_an_unanswered_application_only_after_its_window() {
        let rules = ItemRules {
            category: HandlingCategory::Promised,
            steps: &sample_guide().steps,
            promised_limit: TimeLimit::working_days(5),
            statutory_limit: TimeLimit::working_days(20),
        };
        let received = CaseFacts::submitted(at("2026-11-23"));
        // The window closes on Monday the 30th: that day is still the clerk's.
        assert_eq!(
            deemed_acceptance(&received, &rules, &WeekendCalendar, at("2026-11-30")),
            Err(DomainError::TransitionRefused {
                state: CaseState::Submitted,
                action: Action::Accept,
            })
        );
        let deemed =
            deemed_acceptance(&received, &rules, &WeekendCalendar, at("2026-12-01")).unwrap();
        assert_eq!(deemed.action, Action::Accept);
        assert_eq!(deemed.facts.state, CaseState::Handling);
        assert!(deemed.facts.deemed_accepted);
        assert_eq!(deemed.facts.clock_start, Some(date(2026, 11, 23)));
        assert_eq!(deemed.facts.statutory_due, Some(date(2026, 12, 21)));
        assert_eq!(deemed.detail["opinion"], DEEMED_ACCEPTANCE_OPINION);
        // Accepted already: a second application of the rule is refused.
        assert!(
            deemed_acceptance(&deemed.facts, &rules, &WeekendCalendar, at("2026-12-02")).is_err()
        );

        // Waiting for the supplement, the window stands still.
        let mut story = Story::new();
        story.ok(supplement(), "2026-11-24");
        assert!(
            deemed_acceptance(&story.facts, &rules, &WeekendCalendar, at("2026-12-10")).is_err()
        );
        // Supplemented on Wednesday the 25th: counted from then.
        story.ok(
            Command::Resubmit {
                note: String::new(),
            },
            "2026-11-25",
        );
        assert!(
            deemed_acceptance(&story.facts, &rules, &WeekendCalendar, at("2026-12-02")).is_err()
        );
        let deemed =
            deemed_acceptance(&story.facts, &rules, &WeekendCalendar, at("2026-12-03")).unwrap();
        assert_eq!(deemed.facts.clock_start, Some(date(2026, 11, 25)));
    }

    #[test]
    fn wrong_transitions_name_the_state_and_the_action() {
        let mut story = Story::new();
        story.ok(
            Command::Reject {
                reasons: "不属于受理范围".into(),
                rights_notice: NOTICE.into(),
            },
            "2026-11-23",
        );
        let err = story.run(approve(), "2026-11-23").unwrap_err();
        assert_eq!(err.code(), "transition_refused");
        assert!(err.message().contains("不予受理"));
        assert!(err.message().contains("作出决定"));
    }

    fn any_command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(accept()),
            Just(step()),
            Just(approve()),
            Just(supplement()),
            Just(Command::Resubmit {
                note: String::new()
            }),
            Just(Command::Deliver {
                method: "邮寄".into(),
                fees: vec![],
            }),
            Just(Command::Withdraw {
                reason: String::new()
            }),
            Just(Command::Terminate {
                reason: "申请人死亡".into()
            }),
            Just(Command::Extend {
                reason: "需现场核查".into()
            }),
            Just(Command::Resume {
                note: String::new()
            }),
            Just(Command::Reject {
                reasons: "不符合条件".into(),
                rights_notice: NOTICE.into()
            }),
            Just(Command::Suspend {
                procedure: SpecialProcedure::Hearing,
                reason: "依申请听证".into(),
                planned_days: 3
            }),
        ]
    }

    proptest! {
        #[test]
        fn a_closed_case_refuses_every_command(commands in proptest::collection::vec(any_command(), 1..30), last in any_command()) {
            let mut story = Story::new();
            for c in commands {
                let _ = story.run(c, "2026-11-24");
            }
            if story.facts.state.is_closed() {
                prop_assert!(story.run(last, "2026-11-25").is_err());
            }
        }

        #[test]
        fn supplement_is_granted_at_most_once(commands in proptest::collection::vec(any_command(), 1..30)) {
            let mut story = Story::new();
            let mut granted = 0;
            for c in commands {
                if story.run(c, "2026-11-24").is_ok_and(|t| t.action == Action::RequestSupplement) {
                    granted += 1;
                }
            }
            prop_assert!(granted <= 1);
        }
    }
}

/// Who applied. Online applicants are not logged in: the case number and the
/// phone number together let them look the case up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    pub name: String,
    pub phone: String,
    #[serde(default)]
    pub id_number: String,
    /// The enterprise or organisation, for enterprise items.
    #[serde(default)]
    pub organization: String,
}

impl Applicant {
    pub fn validate(&self) -> Result<(), DomainError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(DomainError::invalid("applicant.name", "申请人姓名不能为空"));
        }
        if name.chars().count() > 100 {
            return Err(DomainError::invalid(
                "applicant.name",
                "申请人姓名不得超过100字",
            ));
        }
        if !is_phone(&self.phone) {
            return Err(DomainError::invalid(
                "applicant.phone",
                "联系电话格式不正确（应为11位手机号码或带区号的固定电话）",
            ));
        }
        let id = self.id_number.trim();
        if !id.is_empty() && !is_id_number(id) {
            return Err(DomainError::invalid(
                "applicant.id_number",
                "身份证号码格式不正确",
            ));
        }
        if self.organization.chars().count() > 200 {
            return Err(DomainError::invalid(
                "applicant.organization",
                "单位名称不得超过200字",
            ));
        }
        Ok(())
    }
}

/// A mobile number (11 digits starting with 1) or a fixed line with area code.
pub fn is_phone(phone: &str) -> bool {
    let p = phone.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if p.len() == 11 && p.starts_with('1') && digits(p) {
        return true;
    }
    match p.split_once('-') {
        Some((area, local)) => {
            area.starts_with('0')
                && (3..=4).contains(&area.len())
                && digits(area)
                && (5..=8).contains(&local.len())
                && digits(local)
        }
        None => false,
    }
}

/// A resident identity number (GB 11643): 18 characters whose last is the
/// ISO 7064 MOD 11-2 check character.
pub fn is_id_number(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == bytes[17].to_ascii_uppercase()
}

/// A case as stored, with the facts the state machine works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    pub number: String,
    pub item_id: i64,
    pub department_id: i64,
    pub channel: Channel,
    pub applicant: Applicant,
    /// The application form: field name to value.
    pub form: serde_json::Value,
    pub facts: CaseFacts,
    /// The person whose work the case currently is (the A post holder).
    pub assignee_id: Option<i64>,
    pub version: i64,
    pub submitted_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod authorize_tests {
    use super::*;
    use crate::catalog::tests::sample_guide;
    use crate::staff::Actor;

    fn handling() -> CaseFacts {
        CaseFacts {
            state: CaseState::Handling,
            ..CaseFacts::submitted("2026-11-23T02:00:00Z".parse().unwrap())
        }
    }

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            staff_id: id,
            department_id: 1,
            roles: vec![role],
        }
    }

    #[test]
    fn a_step_belongs_to_its_assignee_and_to_b_only_while_a_is_away() {
        let steps = sample_guide().steps;
        let step = Command::CompleteStep {
            opinion: "同意".into(),
        };
        let a_present = Some((1, false, Some(2)));
        let a_away = Some((1, true, Some(2)));
        assert_eq!(
            authorize(
                &actor(1, Role::Handler),
                &step,
                &handling(),
                &steps,
                1,
                a_present
            ),
            Ok(None)
        );
        assert_eq!(
            authorize(
                &actor(2, Role::Handler),
                &step,
                &handling(),
                &steps,
                1,
                a_present
            ),
            Err(DomainError::NotAssignee)
        );
        assert_eq!(
            authorize(
                &actor(2, Role::Handler),
                &step,
                &handling(),
                &steps,
                1,
                a_away
            ),
            Ok(Some(1))
        );
        assert_eq!(
            authorize(
                &actor(2, Role::Handler),
                &step,
                &handling(),
                &steps,
                2,
                a_away
            ),
            Err(DomainError::NotAssignee)
        );
    }

    #[test]
    fn the_approver_may_terminate_whoever_holds_the_step() {
        let steps = sample_guide().steps;
        let terminate = Command::Terminate {
            reason: "申请人已注销".into(),
        };
        let a_present = Some((1, false, Some(2)));
        assert_eq!(
            authorize(
                &actor(9, Role::Approver),
                &terminate,
                &handling(),
                &steps,
                1,
                a_present
            ),
            Ok(None)
        );
        assert_eq!(
            authorize(
                &actor(9, Role::Handler),
                &terminate,
                &handling(),
                &steps,
                1,
                a_present
            ),
            Err(DomainError::RoleRequired { role: "approver" })
        );
    }
}

#[cfg(test)]
mod applicant_tests {
    use super::*;

    #[test]
    fn phones_and_id_numbers_are_checked() {
        assert!(is_phone("13807340001"));
        assert!(is_phone("0734-5822001"));
        assert!(!is_phone("1380734"));
        assert!(!is_phone("23807340001"));
        assert!(is_id_number("11010519491231002X"));
        assert!(!is_id_number("110105194912310021"));
        assert!(!is_id_number("11010519491231002"));
    }
}

/// Checks that a staff member may give `command` on a case of `department_id`
/// at `facts`, whose current work is assigned to `assignee` (with that
/// person's absence and B backup). Returns the absent A acted for, if any.
pub fn authorize(
    actor: &crate::staff::Actor,
    command: &Command,
    facts: &CaseFacts,
    steps: &[Step],
    department_id: i64,
    assignee: Option<(i64, bool, Option<i64>)>,
) -> Result<Option<i64>, DomainError> {
    if command.by_applicant() {
        return Err(DomainError::RoleRequired { role: "applicant" });
    }
    if actor.department_id != department_id {
        return Err(DomainError::NotAssignee);
    }
    let roles = command.permitted_roles(facts, steps);
    if let Some(role) = roles.first()
        && !roles.iter().any(|r| actor.has(*r))
    {
        return Err(DomainError::RoleRequired { role: role.key() });
    }
    // Only the work the case waits for belongs to its assignee (or their B);
    // terminating is the approver's call and window work is the window's.
    match assignee {
        Some((id, absent, backup)) if command.is_assigned_work(facts) => {
            crate::staff::acting_for(actor.staff_id, Some(id), absent, backup)
        }
        _ => Ok(None),
    }
}

/// The commands the lifecycle allows at `facts`, in the order a form offers
/// them. (Content and role checks still apply when one is given.)
/// Extension, while the case has not been extended yet.
fn extendable(facts: &CaseFacts) -> Option<Action> {
    facts
        .clock
        .as_ref()
        .filter(|c| !c.extended)
        .map(|_| Action::Extend)
}

pub fn allowed_actions(facts: &CaseFacts) -> Vec<Action> {
    use Action as A;
    use CaseState as S;
    match facts.state {
        S::Submitted if facts.supplement_requested => {
            vec![A::Accept, A::Reject, A::Withdraw, A::Terminate]
        }
        S::Submitted => vec![
            A::Accept,
            A::RequestSupplement,
            A::Reject,
            A::Withdraw,
            A::Terminate,
        ],
        S::AwaitingSupplement => vec![A::Resubmit, A::Withdraw, A::Terminate],
        S::Handling | S::Reviewing | S::Approving => {
            let mut actions = vec![A::CompleteStep, A::Suspend];
            actions.extend(extendable(facts));
            actions.extend([A::Withdraw, A::Terminate]);
            actions
        }
        S::Deciding => {
            let mut actions = vec![A::Decide, A::Suspend];
            actions.extend(extendable(facts));
            actions.extend([A::Withdraw, A::Terminate]);
            actions
        }
        S::Decided => vec![A::Deliver],
        S::Suspended => vec![A::Resume, A::Withdraw, A::Terminate],
        S::Completed | S::Rejected | S::Withdrawn | S::Terminated => vec![],
    }
}
