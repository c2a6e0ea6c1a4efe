//! Group commit for ingestion. Events that arrive while one transaction is
//! being written go into the next, so a busy server writes many events per
//! commit instead of queueing one commit per request for the single writer.
//! Each caller still gets its answer only once its own event is committed.

use tokio::sync::{mpsc, oneshot};

use super::events::{ingest_in, store_events, EventToStore, IdempotencyKey, Ingestion, NewEvent};
use super::intake::{Intake, Leasing, SharedIntake};
use super::{begin, Pool, StoreResult, Tx};

/// The most events written in one transaction.
const MAX_BATCH: usize = 256;

/// An event waiting for the next commit, with everything owned.
pub(super) struct Pending {
    event: OwnedEvent,
    idempotency: Option<OwnedKey>,
    new_id: Box<dyn Fn() -> String + Send + Sync>,
    answer: oneshot::Sender<StoreResult<Ingestion>>,
}

struct OwnedEvent {
    id: String,
    name: String,
    payload: String,
    created_at: i64,
}

struct OwnedKey {
    scope: String,
    key: String,
    request_hash: String,
    expires_at: i64,
}

impl Pending {
    pub(super) fn new(
        event: &NewEvent<'_>,
        idempotency: Option<&IdempotencyKey<'_>>,
        new_id: Box<dyn Fn() -> String + Send + Sync>,
    ) -> (Pending, oneshot::Receiver<StoreResult<Ingestion>>) {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            event: OwnedEvent {
                id: event.id.to_owned(),
                name: event.name.to_owned(),
                payload: event.payload.to_owned(),
                created_at: event.created_at,
            },
            idempotency: idempotency.map(|key| OwnedKey {
                scope: key.scope.to_owned(),
                key: key.key.to_owned(),
                request_hash: key.request_hash.to_owned(),
                expires_at: key.expires_at,
            }),
            new_id,
            answer,
        };
        (pending, answered)
    }

    fn event(&self) -> NewEvent<'_> {
        NewEvent {
            id: &self.event.id,
            name: &self.event.name,
            payload: &self.event.payload,
            created_at: self.event.created_at,
        }
    }

    async fn write_in(&self, tx: &mut Tx, leasing: &mut Leasing<'_>) -> StoreResult<Ingestion> {
        let key = self.idempotency.as_ref().map(|key| IdempotencyKey {
            scope: &key.scope,
            key: &key.key,
            request_hash: &key.request_hash,
            expires_at: key.expires_at,
        });
        ingest_in(tx, &self.event(), key.as_ref(), &*self.new_id, leasing).await
    }
}

/// Starts the committer on the write pool; it stops when every sender is
/// gone. Fresh deliveries go to `intake`, once there is one.
pub(super) fn spawn(writer: Pool, intake: SharedIntake) -> mpsc::Sender<Pending> {
    let (sender, mut receiver) = mpsc::channel::<Pending>(MAX_BATCH * 4);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let intake = intake.read().unwrap_or_else(|e| e.into_inner()).clone();
            let intake = intake.as_deref();
            match write_together(&writer, &batch, intake).await {
                Ok(answers) => {
                    for (pending, answer) in batch.drain(..).zip(answers) {
                        let _ = pending.answer.send(Ok(answer));
                    }
                }
                // The database cannot be reached: writing each event again
                // alone would only wait as long once more per event.
                Err(err) if super::is_unavailable(&err) => {
                    for pending in batch.drain(..) {
                        let _ = pending.answer.send(Err(unavailable_again(&err)));
                    }
                }
                // One event's failure must not fail the others: each is
                // written again alone, and gets its own answer.
                Err(_) => {
                    for pending in batch.drain(..) {
                        let answer = write_alone(&writer, &pending, intake).await;
                        let _ = pending.answer.send(answer);
                    }
                }
            }
        }
    });
    sender
}

/// The same "cannot be reached" failure, for each caller of a failed batch
/// (`sqlx::Error` cannot be cloned).
fn unavailable_again(err: &sqlx::Error) -> sqlx::Error {
    match err {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        other => sqlx::Error::Io(std::io::Error::other(other.to_string())),
    }
}

/// Writes the batch in one transaction: events without an idempotency key
/// all together, in a few statements; those with one each on its own, as
/// each may turn out to be a repeat.
async fn write_together(
    writer: &Pool,
    batch: &[Pending],
    intake: Option<&dyn Intake>,
) -> StoreResult<Vec<Ingestion>> {
    let mut leasing = Leasing::new(intake);
    let mut tx = begin(writer).await?;
    let mut answers: Vec<Option<Ingestion>> = Vec::with_capacity(batch.len());
    for pending in batch {
        answers.push(match pending.idempotency {
            Some(_) => Some(pending.write_in(&mut tx, &mut leasing).await?),
            None => None,
        });
    }
    let plain: Vec<&Pending> = batch.iter().filter(|p| p.idempotency.is_none()).collect();
    let events: Vec<NewEvent<'_>> = plain.iter().map(|p| p.event()).collect();
    let to_store: Vec<EventToStore<'_>> = events
        .iter()
        .zip(&plain)
        .map(|(event, pending)| (event, &*pending.new_id as _))
        .collect();
    let mut stored = store_events(&mut tx, &to_store, &mut leasing)
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
    writer: &Pool,
    pending: &Pending,
    intake: Option<&dyn Intake>,
) -> StoreResult<Ingestion> {
    let mut leasing = Leasing::new(intake);
    let mut tx = begin(writer).await?;
    let answer = pending.write_in(&mut tx, &mut leasing).await?;
    tx.commit().await?;
    leasing.committed();
    Ok(answer)
}
