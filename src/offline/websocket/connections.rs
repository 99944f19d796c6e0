//! The open connections: who is connected (for `@connections`), each connection's loop that
//! reads frames, runs their routes and writes what is sent to it, and the timeouts API Gateway
//! puts on a connection (two hours at most, ten minutes idle).
//!
//! A connection is registered before its upgrade completes and counted until its `$disconnect`
//! has run, so stopping the emulator can wait for every `$disconnect` before the functions'
//! processes are ended.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::events::{ConnectionContext, Frame};
use super::WebSocketState;

/// How long a connection may stay open, and stay silent, before API Gateway closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub hard: Duration,
    pub idle: Duration,
}

impl Default for ConnectionLimits {
    /// API Gateway's quotas: 2 hours per connection, 10 minutes idle.
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            hard: Duration::from_secs(2 * 60 * 60),
            idle: Duration::from_secs(10 * 60),
        }
    }
}

/// What is sent to a client from outside its loop.
#[derive(Debug)]
pub enum Outgoing {
    Frame(Frame),
    Close { code: u16, reason: &'static str },
}

/// One open connection, as `@connections` sees it.
#[derive(Debug)]
pub struct Connection {
    pub context: ConnectionContext,
    last_active: AtomicI64,
    outbox: mpsc::Sender<Outgoing>,
}

impl Connection {
    pub fn last_active(&self) -> i64 {
        self.last_active.load(Ordering::Relaxed)
    }

    fn touch(&self) {
        self.last_active
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// Queues something for the client; `false` when the connection has gone.
    pub async fn send(&self, outgoing: Outgoing) -> bool {
        if matches!(outgoing, Outgoing::Frame(_)) {
            self.touch();
        }
        // A client that stops reading fills its queue: a sender waits a little, not forever.
        matches!(
            tokio::time::timeout(SEND_WAIT, self.outbox.send(outgoing)).await,
            Ok(Ok(()))
        )
    }
}

const SEND_WAIT: Duration = Duration::from_secs(10);
const OUTBOX: usize = 256;
/// Messages of one connection whose functions run at once; more wait (and so does reading).
const IN_FLIGHT: usize = 32;

/// Every open connection, and a count of those whose `$disconnect` has yet to run.
#[derive(Debug)]
pub struct Connections {
    open: Mutex<HashMap<String, Arc<Connection>>>,
    live: watch::Sender<usize>,
}

impl Default for Connections {
    fn default() -> Connections {
        Connections {
            open: Mutex::new(HashMap::new()),
            live: watch::Sender::new(0),
        }
    }
}

/// Counts one connection from its upgrade until its `$disconnect` ran.
pub struct Live {
    connections: Arc<Connections>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.connections
            .live
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

impl Connections {
    pub fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.open.lock().ok()?.get(id).cloned()
    }

    /// Counts a connection about to be upgraded.
    pub fn live(self: &Arc<Connections>) -> Live {
        self.live.send_modify(|count| *count += 1);
        Live {
            connections: Arc::clone(self),
        }
    }

    /// Registers a connection before its upgrade is answered, so that `@connections` knows it
    /// as soon as the client does: a client that calls `getConnection` or has a message posted
    /// to it right after its `101` must not hear `GoneException`.
    pub fn open(&self, context: ConnectionContext) -> Opened {
        let (outbox, inbox) = mpsc::channel(OUTBOX);
        let connection = Arc::new(Connection {
            last_active: AtomicI64::new(context.connected_at),
            context,
            outbox,
        });
        if let Ok(mut open) = self.open.lock() {
            open.insert(
                connection.context.connection_id.clone(),
                Arc::clone(&connection),
            );
        }
        Opened { connection, inbox }
    }

    /// Forgets a connection whose upgrade failed (or that has closed).
    pub fn remove(&self, id: &str) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(id);
        }
    }

    /// Waits until every connection has closed and run its `$disconnect`.
    pub async fn drained(&self) {
        let mut live = self.live.subscribe();
        let _ = live.wait_for(|count| *count == 0).await;
    }
}

/// A registered connection and what is queued for its client until its loop runs.
pub struct Opened {
    pub connection: Arc<Connection>,
    inbox: mpsc::Receiver<Outgoing>,
}

/// Why a connection's loop ended: the code and reason its `$disconnect` gets.
struct Closed {
    code: u16,
    reason: String,
}

/// Serves one upgraded connection until it closes, then runs `$disconnect`.
pub async fn run(
    state: Arc<WebSocketState>,
    mut socket: WebSocket,
    opened: Opened,
    live: Live,
    stop: CancellationToken,
) {
    let Opened {
        connection,
        mut inbox,
    } = opened;
    let limits = state.limits;
    let hard = tokio::time::sleep_until(after(limits.hard));
    tokio::pin!(hard);
    let idle = tokio::time::sleep_until(after(limits.idle));
    tokio::pin!(idle);
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut in_flight = JoinSet::new();
    let closed = loop {
        while in_flight.try_join_next().is_some() {}
        tokio::select! {
            () = stop.cancelled() => break server_close(&mut socket, 1001, "Going away").await,
            () = &mut hard => break server_close(&mut socket, 1001, "Going away").await,
            () = &mut idle => break server_close(&mut socket, 1001, "Going away").await,
            outgoing = inbox.recv() => match outgoing {
                Some(Outgoing::Frame(frame)) => {
                    idle.as_mut().reset(after(limits.idle));
                    if socket.send(to_message(frame)).await.is_err() {
                        break Closed { code: 1006, reason: String::new() };
                    }
                }
                Some(Outgoing::Close { code, reason }) => {
                    break server_close(&mut socket, code, reason).await
                }
                None => break server_close(&mut socket, 1001, "Going away").await,
            },
            received = socket.recv() => {
                let frame = match received {
                    Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().to_string()),
                    Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes.to_vec()),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(frame))) => {
                        // Reading on sends the close frame's echo, which tungstenite queued.
                        let _ = tokio::time::timeout(CLOSE_WAIT, socket.recv()).await;
                        break Closed {
                            code: frame.as_ref().map_or(1005, |f| f.code),
                            reason: frame.map(|f| f.reason.as_str().to_string()).unwrap_or_default(),
                        };
                    }
                    // Too big a message, a broken frame, a dropped connection.
                    Some(Err(_)) | None => break Closed { code: 1006, reason: String::new() },
                };
                connection.touch();
                idle.as_mut().reset(after(limits.idle));
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    continue;
                };
                let state = Arc::clone(&state);
                let connection = Arc::clone(&connection);
                in_flight.spawn(async move {
                    super::dispatch::message(&state, &connection, frame).await;
                    drop(permit);
                });
            }
        }
    };
    state.connections.remove(&connection.context.connection_id);
    drop(socket);
    // The functions of messages already received still run (and may answer into the void).
    while in_flight.join_next().await.is_some() {}
    super::dispatch::disconnect(&state, &connection.context, closed.code, &closed.reason).await;
    drop(live);
}

/// `duration` from now; a duration too long to add (`--webSocketIdleTimeout` in the billions)
/// is a year, which is as good as never.
fn after(duration: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 60 * 60))
}

fn to_message(frame: Frame) -> Message {
    match frame {
        Frame::Text(text) => Message::Text(text.into()),
        Frame::Binary(bytes) => Message::Binary(bytes.into()),
    }
}

/// Closes from the server's side: the close frame goes out, and the client's answer is awaited
/// briefly so it sees a clean close rather than a reset.
async fn server_close(socket: &mut WebSocket, code: u16, reason: &'static str) -> Closed {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(message)) = socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    Closed {
        code,
        reason: reason.to_string(),
    }
}

const CLOSE_WAIT: Duration = Duration::from_secs(2);
