//! A real SMTP server in the test process (mailin-embedded), one per `TestApp`:
//! Usher's delivery worker sends to it over SMTP with lettre, exactly as it would
//! to a production relay, and tests read what arrived.
//!
//! ```ignore
//! let mail = app.mail.next_to("bob@example.org").await;
//! assert!(mail.subject.contains("invites you"));
//! let link = mail.link();
//! ```

use std::{
    collections::HashMap,
    net::{IpAddr, TcpListener},
    sync::{Arc, Mutex},
    time::Duration,
};

use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use tokio::sync::Notify;

/// How long [`MailBox::next_to`] waits for a message.
const WAIT: Duration = Duration::from_secs(10);

/// One message as the SMTP server received it, decoded.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope recipient (`RCPT TO`).
    pub to: String,
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    pub subject: String,
    /// The plain-text body, transfer encoding undone.
    pub text: String,
}

impl ReceivedMail {
    /// The first `http://` or `https://` URL in the text.
    pub fn link(&self) -> String {
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|p| self.text.find(p))
            .min()
            .unwrap_or_else(|| panic!("no link in the email to {}:\n{}", self.to, self.text));
        self.text[start..].split(|c: char| c.is_whitespace() || matches!(c, '>' | '"' | '<')).next().unwrap().to_owned()
    }

    /// The link's path (what a test client requests), e.g. `/register/abc`.
    pub fn link_path(&self) -> String {
        let link = self.link();
        let rest = link.split_once("://").map_or(link.as_str(), |(_, r)| r);
        rest.find('/').map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned())
    }
}

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<ReceivedMail>>,
    /// How many messages to each address `next_to` has handed out.
    taken: Mutex<HashMap<String, usize>>,
    arrived: Notify,
}

/// The SMTP server's mailbox. Cheap to clone.
#[derive(Clone)]
pub struct MailBox {
    inbox: Arc<Inbox>,
    port: u16,
}

impl MailBox {
    /// Starts an SMTP server on a free port of 127.0.0.1.
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// Starts an SMTP server on `port` (0: a free one).
    pub fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the test SMTP server");
        let port = listener.local_addr().unwrap().port();
        let inbox = Arc::new(Inbox::default());
        let handler = Session { inbox: inbox.clone(), from: String::new(), to: Vec::new(), data: Vec::new() };
        let mut server = Server::new(handler);
        server.with_name("smtp.test").with_num_threads(2).with_tcp_listener(listener);
        server.with_ssl(SslConfig::None).expect("plain SMTP");
        // The server runs until the test process ends (mailin has no stop); its
        // threads sleep in accept().
        std::thread::Builder::new()
            .name(format!("smtp-{port}"))
            .spawn(move || {
                let _ = server.serve();
            })
            .expect("start the test SMTP server");
        Self { inbox, port }
    }

    /// The `USHER_SMTP_URL` that delivers here.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next message to `addr` not handed out yet, waiting up to 10 s for it;
    /// panics with what did arrive otherwise.
    pub async fn next_to(&self, addr: &str) -> ReceivedMail {
        let key = addr.to_lowercase();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let arrived = self.inbox.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(mail) = self.take(&key) {
                return mail;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let seen: Vec<String> = self
                    .inbox
                    .received
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|m| format!("{} <- {:?}", m.to, m.subject))
                    .collect();
                panic!("no new email to {addr} within {WAIT:?}; received so far: {seen:#?}");
            }
        }
    }

    fn take(&self, key: &str) -> Option<ReceivedMail> {
        let received = self.inbox.received.lock().unwrap();
        let mut taken = self.inbox.taken.lock().unwrap();
        let skip = taken.entry(key.to_owned()).or_default();
        let mail = received.iter().filter(|m| m.to.to_lowercase() == key).nth(*skip)?.clone();
        *skip += 1;
        Some(mail)
    }

    /// How many messages to `addr` were received so far.
    pub fn count_to(&self, addr: &str) -> usize {
        let key = addr.to_lowercase();
        self.inbox.received.lock().unwrap().iter().filter(|m| m.to.to_lowercase() == key).count()
    }

    /// Every message received so far.
    pub fn all(&self) -> Vec<ReceivedMail> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// Waits until `n` messages in total were received (up to 10 s).
    pub async fn wait_for_total(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let arrived = self.inbox.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let have = self.inbox.received.lock().unwrap().len();
            if have >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {n} emails within {WAIT:?}, received {have}");
            }
        }
    }
}

/// One SMTP connection's state (mailin clones the handler per connection).
#[derive(Clone)]
struct Session {
    inbox: Arc<Inbox>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Session {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.from = from.to_owned();
        response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let Some(parsed) = mail_parser::MessageParser::default().parse(&self.data) else {
            return response::TRANSACTION_FAILED;
        };
        let subject = parsed.subject().unwrap_or_default().to_owned();
        let text = parsed.body_text(0).map(|t| t.replace("\r\n", "\n")).unwrap_or_default();
        {
            let mut received = self.inbox.received.lock().unwrap();
            for to in &self.to {
                received.push(ReceivedMail {
                    to: to.trim_matches(|c| c == '<' || c == '>').to_owned(),
                    from: self.from.clone(),
                    subject: subject.clone(),
                    text: text.clone(),
                });
            }
        }
        self.inbox.arrived.notify_waiters();
        response::OK
    }
}
