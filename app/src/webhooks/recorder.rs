//! Notifications written in groups: each request waits for the commit of the group its
//! notification went into, so that one commit acknowledges many at once (Intercom sends
//! side by side) and none is acknowledged before it is durable.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{Directory, NewWebhookEvent, Recorded};

/// Notifications committed together, at most.
const GROUP: usize = 256;
/// Notifications waiting for their group, at most: the endpoint waits beyond that.
const QUEUE: usize = 4_096;

type Reply = oneshot::Sender<Result<Recorded, String>>;

/// The one writer of a process's notifications; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    jobs: mpsc::Sender<(NewWebhookEvent, Reply)>,
}

impl Recorder {
    /// Starts the writer on the current runtime; it ends with the last `Recorder`.
    pub fn start(directory: Arc<dyn Directory>) -> Self {
        let (jobs, mut queue) = mpsc::channel::<(NewWebhookEvent, Reply)>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut group = vec![first];
                while group.len() < GROUP {
                    match queue.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                let (events, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                match directory.record_webhooks(&events).await {
                    Ok(stored) => {
                        for (reply, new) in replies.into_iter().zip(stored) {
                            let _ = reply.send(Ok(new));
                        }
                    }
                    Err(err) => {
                        let message = err.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        Self { jobs }
    }

    /// Stores the notification with others arriving now. `Err` (the database's words)
    /// when it could not be stored.
    pub async fn record(&self, event: NewWebhookEvent) -> Result<Recorded, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send((event, reply)).await.map_err(|_| "the notification writer has stopped".to_string())?;
        answer.await.map_err(|_| "the notification writer has stopped".to_string())?
    }
}
