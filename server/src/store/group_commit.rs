//! Group commit: one writer task commits ingested events and the
//! dispatcher's settled attempts together. Whatever arrives while one
//! transaction is being written goes into the next, so a busy server makes
//! few, larger commits, each touching a table's pages once for many rows,
//! instead of one commit per request, or two alternating streams of commits,
//! queueing for the write connection. Each caller still gets its answer only
//! once its own rows are committed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::deliveries::{write_settlements, Settlement};
use super::events::{ingest_in, store_events, IdempotencyKey, Ingestion, NewEvent};
use super::intake::{Intake, Leasing, SharedIntake};
use super::{acquire, begin_on, Conn, Pool, Store, StoreError, StoreResult, Tx};

/// How long the writer keeps the write connection while work keeps coming,
/// before it lets the other writers (claims, lease renewals, the console)
/// take a turn. Holding it spares each commit a round trip to give the
/// connection back (sqlx pings it) and take it again.
const HOLD: Duration = Duration::from_millis(20);

/// The most events written in one transaction.
const MAX_BATCH: usize = 256;

/// Settled attempts waiting for the next commit (see
/// `Store::record_settlements`).
pub(super) struct Settling {
    pub(super) settled: Arc<Vec<Settlement>>,
    pub(super) now: i64,
    pub(super) answer: oneshot::Sender<StoreResult<()>>,
}

/// The writer's two inboxes.
pub(super) struct Inboxes {
    pub(super) ingestion: mpsc::Sender<Pending>,
    pub(super) settling: mpsc::Sender<Settling>,
}

/// An event waiting for the next commit.
pub(super) struct Pending {
    event: NewEvent,
    idempotency: Option<IdempotencyKey>,
    answer: oneshot::Sender<StoreResult<Ingestion>>,
}

impl Pending {
    async fn write_in(&self, tx: &mut Tx<'_>, leasing: &mut Leasing<'_>) -> StoreResult<Ingestion> {
        ingest_in(tx, &self.event, self.idempotency.as_ref(), leasing).await
    }
}

impl Store {
    /// Stores `event` and a pending delivery for every enabled hook that
    /// listens to it, unless `idempotency` names a live key, atomically and
    /// durably before it returns; events arriving together share a commit.
    /// The store names the deliveries.
    pub async fn ingest_event(
        &self,
        event: NewEvent,
        idempotency: Option<IdempotencyKey>,
    ) -> StoreResult<Ingestion> {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            event,
            idempotency,
            answer,
        };
        self.writing.ingestion.send(pending).await?;
        answered.await?
    }

    /// Writes a batch of settlements, with the next group commit (see
    /// `group_commit`), and returns once it is committed: the attempts, each
    /// delivery's next state (only while the lease is still the one the
    /// attempt was made under) and what they mean for their hooks.
    pub async fn record_settlements(
        &self,
        settled: impl Into<Arc<Vec<Settlement>>>,
        now: i64,
    ) -> StoreResult<()> {
        let settled = settled.into();
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.writing
            .settling
            .send(Settling {
                settled,
                now,
                answer,
            })
            .await?;
        answered.await?
    }
}

/// Starts the writer on the write pool; it stops when every sender is gone.
/// Fresh deliveries go to `intake`, once there is one. `writer_id` names this
/// writer's rows of the per-minute counters.
pub(super) fn spawn(writer: Pool, intake: SharedIntake, writer_id: String) -> Inboxes {
    let (ingestion, mut events_in) = mpsc::channel::<Pending>(MAX_BATCH * 4);
    let (settling, mut settled_in) = mpsc::channel::<Settling>(16);
    tokio::spawn(async move {
        let (mut events_open, mut settled_open) = (true, true);
        let mut events = Vec::with_capacity(MAX_BATCH);
        let mut settled = Vec::new();
        let mut held: Option<(Conn, Instant)> = None;
        while events_open || settled_open {
            if events_in.is_empty() && settled_in.is_empty() {
                // Nothing waits: others may write meanwhile.
                held = None;
            }
            tokio::select! {
                n = events_in.recv_many(&mut events, MAX_BATCH), if events_open => {
                    events_open = n > 0;
                }
                next = settled_in.recv(), if settled_open => match next {
                    Some(batch) => settled.push(batch),
                    None => settled_open = false,
                },
            }
            // Whatever else is waiting goes into the same commit.
            while events.len() < MAX_BATCH {
                let Ok(pending) = events_in.try_recv() else {
                    break;
                };
                events.push(pending);
            }
            while let Ok(batch) = settled_in.try_recv() {
                settled.push(batch);
            }
            if events.is_empty() && settled.is_empty() {
                continue;
            }
            if held
                .as_ref()
                .is_some_and(|(_, since)| since.elapsed() > HOLD)
            {
                held = None;
            }
            let conn = match &mut held {
                Some((conn, _)) => conn,
                None => match acquire(&writer).await {
                    Ok(conn) => &mut held.insert((conn, Instant::now())).0,
                    Err(err) => {
                        fail(&err, &mut events, &mut settled);
                        continue;
                    }
                },
            };
            let intake = intake.read().unwrap_or_else(|e| e.into_inner()).clone();
            let to_write = Batch {
                events: &mut events,
                settled: &mut settled,
                writer_id: &writer_id,
            };
            if !commit(conn, to_write, intake.as_deref()).await {
                // The connection may be broken: the next commit takes another.
                held = None;
            }
        }
    });
    Inboxes {
        ingestion,
        settling,
    }
}

/// Writes `events` and `settled` in one transaction on `conn` and answers
/// their callers; on failure, what can be written alone is. False when
/// something failed.
async fn commit(conn: &mut Conn, batch: Batch<'_>, intake: Option<&dyn Intake>) -> bool {
    let Batch {
        events,
        settled,
        writer_id,
    } = batch;
    match write_together(conn, events, settled, writer_id, intake).await {
        Ok(answers) => {
            for (pending, answer) in events.drain(..).zip(answers) {
                let _ = pending.answer.send(Ok(answer));
            }
            for batch in settled.drain(..) {
                let _ = batch.answer.send(Ok(()));
            }
            true
        }
        // The database cannot be reached: writing each part again alone
        // would only wait as long once more per part.
        Err(err) if err.is_unavailable() => {
            fail(&err, events, settled);
            false
        }
        // One event's failure must not fail the others: each part is written
        // again alone, and gets its own answer.
        Err(_) => {
            for batch in settled.drain(..) {
                let answer = settle_alone(conn, &batch, writer_id).await;
                let _ = batch.answer.send(answer);
            }
            for pending in events.drain(..) {
                let answer = write_alone(conn, &pending, intake).await;
                let _ = pending.answer.send(answer);
            }
            false
        }
    }
}

/// What one commit writes, answered and emptied by [`commit`].
struct Batch<'a> {
    events: &'a mut Vec<Pending>,
    settled: &'a mut Vec<Settling>,
    writer_id: &'a str,
}

/// Answers every caller with `err`.
fn fail(err: &StoreError, events: &mut Vec<Pending>, settled: &mut Vec<Settling>) {
    for pending in events.drain(..) {
        let _ = pending.answer.send(Err(err.clone()));
    }
    for batch in settled.drain(..) {
        let _ = batch.answer.send(Err(err.clone()));
    }
}

/// Writes everything in one transaction: the settled attempts, then the
/// events without an idempotency key all together, in a few statements, and
/// those with one each on its own, as each may turn out to be a repeat.
async fn write_together(
    conn: &mut Conn,
    batch: &[Pending],
    settled: &[Settling],
    writer_id: &str,
    intake: Option<&dyn Intake>,
) -> StoreResult<Vec<Ingestion>> {
    let mut leasing = Leasing::new(intake);
    let mut tx = begin_on(conn).await?;
    if !settled.is_empty() {
        // As one batch, so that its rows are locked in one sorted order.
        let all: Vec<&Settlement> = settled.iter().flat_map(|s| s.settled.iter()).collect();
        let now = settled.iter().map(|s| s.now).max().unwrap_or_default();
        write_settlements(&mut tx, &all, now, writer_id).await?;
    }
    let mut answers: Vec<Option<Ingestion>> = Vec::with_capacity(batch.len());
    for pending in batch {
        answers.push(match pending.idempotency {
            Some(_) => Some(pending.write_in(&mut tx, &mut leasing).await?),
            None => None,
        });
    }
    let plain: Vec<&NewEvent> = batch
        .iter()
        .filter(|p| p.idempotency.is_none())
        .map(|p| &p.event)
        .collect();
    let mut stored = store_events(&mut tx, &plain, &mut leasing)
        .await?
        .into_iter();
    tx.commit().await?;
    leasing.committed();
    Ok(answers
        .into_iter()
        .map(|answer| {
            answer.unwrap_or_else(|| Ingestion::Stored {
                deliveries: stored.next().unwrap_or_default(),
            })
        })
        .collect())
}

async fn write_alone(
    conn: &mut Conn,
    pending: &Pending,
    intake: Option<&dyn Intake>,
) -> StoreResult<Ingestion> {
    let mut leasing = Leasing::new(intake);
    let mut tx = begin_on(conn).await?;
    let answer = pending.write_in(&mut tx, &mut leasing).await?;
    tx.commit().await?;
    leasing.committed();
    Ok(answer)
}

async fn settle_alone(conn: &mut Conn, settling: &Settling, writer_id: &str) -> StoreResult<()> {
    let mut tx = begin_on(conn).await?;
    let all: Vec<&Settlement> = settling.settled.iter().collect();
    write_settlements(&mut tx, &all, settling.now, writer_id).await?;
    tx.commit().await
}
