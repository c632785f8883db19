//! What `serve` does besides answering requests: the supervision tick (which
//! also forgets old Idempotency-Keys), the outbox sender, the calendar refresh
//! and building the search index, each a task that logs its failures and
//! carries on (a failing gateway delays alerts, never loses them: they stay in
//! the outbox).

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use onewindow_store::idempotency::IDEMPOTENCY_RETENTION;
use onewindow_store::outbox::OutboxMessage;
use tokio::sync::Notify;

use crate::AppState;
use crate::alerts::{Outgoing, Senders};

/// How often the background work runs.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    /// The supervision tick (a minute in production).
    pub tick: Duration,
    /// How often the sender looks for messages due for a retry.
    pub send_poll: Duration,
    /// How often the calendar is reloaded (another node's overrides).
    pub calendar: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            tick: Duration::from_secs(60),
            send_poll: Duration::from_secs(5),
            calendar: Duration::from_secs(60),
        }
    }
}

/// How long a claimed message is left to its sender before another may
/// take it (a sender killed mid-send leaves it to the next).
const LEASE: SignedDuration = SignedDuration::from_secs(300);

/// Messages sent at once.
const SEND_BATCH: i64 = 50;

/// Starts the background tasks; they end with the runtime.
pub fn spawn(state: AppState, senders: Arc<Senders>, intervals: Intervals) {
    // The search index is built before the first visitor asks (the word
    // dictionary loads once, a fraction of a second).
    let warming = state.clone();
    tokio::spawn(async move {
        if let Err(e) = warming.search.index(&warming.store).await {
            tracing::warn!("cannot build the search index yet: {}", e.message);
        }
    });
    let wake = Arc::new(Notify::new());
    tokio::spawn(tick_loop(state.clone(), intervals.tick, wake.clone()));
    tokio::spawn(send_loop(state.clone(), senders, intervals.send_poll, wake));
    tokio::spawn(calendar_loop(state, intervals.calendar));
}

async fn tick_loop(state: AppState, every: Duration, wake: Arc<Notify>) {
    let channels = state.settings.alerts.channels();
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match state.store.supervise(state.now(), &channels).await {
            Ok(report) => {
                if report.issued_total() > 0 {
                    tracing::info!(
                        examined = report.examined,
                        issued = report.issued_total(),
                        messages = report.messages,
                        "supervision tick issued cards"
                    );
                }
                if !report.deemed_accepted.is_empty() {
                    tracing::info!(
                        cases = report.deemed_accepted.len(),
                        "supervision tick accepted unanswered applications (art. 32)"
                    );
                }
                if report.messages > 0 {
                    wake.notify_one();
                }
            }
            Err(e) => tracing::warn!("supervision tick failed (retried next tick): {e}"),
        }
        purge_idempotency_keys(&state).await;
    }
}

/// Forgets the Idempotency-Keys first used longer than the retention ago.
async fn purge_idempotency_keys(state: &AppState) {
    let cutoff = state.now() - IDEMPOTENCY_RETENTION;
    if let Err(e) = state.store.purge_idempotency_keys(cutoff).await {
        tracing::warn!("cannot purge old idempotency keys (retried next tick): {e}");
    }
}

async fn send_loop(state: AppState, senders: Arc<Senders>, poll: Duration, wake: Arc<Notify>) {
    loop {
        let claimed = match state
            .store
            .claim_messages(state.now(), SEND_BATCH, LEASE)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!("cannot read the outbox: {e}");
                Vec::new()
            }
        };
        let full = claimed.len() as i64 == SEND_BATCH;
        let sends = claimed.into_iter().map(|message| {
            let (state, senders) = (state.clone(), senders.clone());
            async move { deliver(&state, &senders, message).await }
        });
        futures::future::join_all(sends).await;
        if !full {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }
}

/// Sends one message and records the outcome (the lease covers a crash in
/// between: the message is sent again, and the receiver drops the repeat
/// by its message id).
async fn deliver(state: &AppState, senders: &Senders, message: OutboxMessage) {
    let outgoing = Outgoing {
        message_id: message.message_id.clone(),
        channel: message.channel,
        address: message.address.clone(),
        subject: message.subject.clone(),
        text: message.body.clone(),
        payload: message.payload.clone(),
    };
    let recorded = match senders.send(&outgoing).await {
        Ok(()) => state.store.message_sent(message.id, state.now()).await,
        Err(reason) => {
            tracing::warn!(message = %message.message_id, "alert not delivered: {reason}");
            state
                .store
                .message_failed(message.id, &reason, state.now())
                .await
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(message = %message.message_id, "cannot record the delivery: {e}");
    }
}

async fn calendar_loop(state: AppState, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Err(e) = state.store.refresh_calendar().await {
            tracing::warn!("cannot refresh the calendar: {e}");
        }
    }
}
