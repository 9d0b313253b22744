//! Bearer-token lookups that share database round trips.
//!
//! Every request with a bearer token needs its token row and the owner. Under
//! load many arrive at once; instead of one query each, a few *lanes* each take
//! every lookup waiting at that moment and answer them all with one
//! `digest IN (..)` query. A lone request finds an idle lane and goes straight
//! to the database, so nothing waits for a batch to fill; and every answer is
//! read after its request arrived, so a revoked or expired token, or a disabled
//! owner, is still refused on the next request, on every node.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::store::{ApiToken, Store, StoreResult, User};

/// Lookups answered by one query at most.
const MAX_BATCH: usize = 64;

type Found = StoreResult<Option<(ApiToken, User)>>;

struct Waiter {
    digest: Vec<u8>,
    reply: oneshot::Sender<Found>,
}

/// The lookup queue and its lanes (started on first use, inside the runtime
/// that serves the requests; they end when the queue is dropped).
pub(crate) struct TokenLookup {
    store: Arc<dyn Store>,
    lanes: usize,
    queue: OnceLock<mpsc::UnboundedSender<Waiter>>,
}

impl TokenLookup {
    /// `lanes`: how many batch queries may run at once (at least one).
    pub(crate) fn new(store: Arc<dyn Store>, lanes: usize) -> Self {
        Self { store, lanes: lanes.max(1), queue: OnceLock::new() }
    }

    /// The token with this digest and its owner, whatever their state.
    pub(crate) async fn find(&self, digest: Vec<u8>) -> Found {
        let (reply, answer) = oneshot::channel();
        let queue = self.queue.get_or_init(|| self.start());
        // The lanes end only with the runtime that started them.
        let stopped = || crate::StoreError::Backend("token lookup stopped".into());
        if queue.send(Waiter { digest, reply }).is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    fn start(&self) -> mpsc::UnboundedSender<Waiter> {
        let (queue, waiting) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..self.lanes {
            tokio::spawn(lane(Arc::clone(&self.store), Arc::clone(&waiting)));
        }
        queue
    }
}

/// Takes what waits (at least one lookup), answers it with one query, again.
async fn lane(store: Arc<dyn Store>, waiting: Arc<Mutex<mpsc::UnboundedReceiver<Waiter>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else { return };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
        }
        answer(store.as_ref(), &mut batch).await;
    }
}

async fn answer(store: &dyn Store, batch: &mut Vec<Waiter>) {
    let mut digests: Vec<&[u8]> = batch.iter().map(|w| w.digest.as_slice()).collect();
    digests.sort_unstable();
    digests.dedup();
    match store.tokens_by_digests(&digests).await {
        Ok(rows) => {
            let found: HashMap<Vec<u8>, (ApiToken, User)> =
                rows.into_iter().map(|(t, u)| (t.digest.clone(), (t, u))).collect();
            for w in batch.drain(..) {
                let row = found.get(&w.digest).cloned();
                let _ = w.reply.send(Ok(row));
            }
        }
        Err(e) => {
            for w in batch.drain(..) {
                let _ = w.reply.send(Err(e.clone()));
            }
        }
    }
}
