//! Secrets shown once, after a redirect. A page that makes a secret (a new API
//! token, a temporary password, an invitation link) must not show it in the
//! answer to its POST: reloading that answer would repeat the action. Instead
//! the secret is sealed with a fresh key, the sealed bytes are kept for the
//! session that made them, and the key goes to the browser alone (a cookie).
//! The next page view takes the row (deletes it) and opens it with the key:
//! reloading finds nothing, the database never holds the secret readable, and
//! another node of the cluster can show it as well as this one.

use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use chrono::Duration;
use uuid::Uuid;

use crate::{Error, Result, Usher, auth::Principal};

/// How long a secret waits for its page view.
pub const LIFETIME_SECS: i64 = 300;

/// What the browser keeps to see a secret once: which one, and its key.
#[derive(Clone, PartialEq, Eq)]
pub struct RevealTicket {
    pub id: Uuid,
    key: [u8; 32],
}

impl std::fmt::Debug for RevealTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealTicket").field("id", &self.id).finish_non_exhaustive()
    }
}

impl RevealTicket {
    /// `<id>.<key in hex>`, as the cookie holds it.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.id.simple(), hex::encode(self.key))
    }

    /// Reads [`RevealTicket::encode`]'s form; anything else is no ticket.
    pub fn decode(text: &str) -> Option<Self> {
        let (id, key) = text.split_once('.')?;
        let id = Uuid::try_parse(id).ok()?;
        let key: [u8; 32] = hex::decode(key).ok()?.try_into().ok()?;
        Some(Self { id, key })
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("random source: {e}")))?;
    Ok(bytes)
}

impl Usher {
    /// Keeps `secret` for the caller's session's next page view; the ticket
    /// goes to the browser. Only a browser session can be shown a secret later.
    pub async fn hold_reveal(&self, p: &Principal, secret: &[u8]) -> Result<RevealTicket> {
        let session = p.session_id.ok_or(Error::Forbidden("Only a browser session is shown a secret later."))?;
        let key = random::<32>()?;
        let nonce = random::<12>()?;
        let cipher = ChaCha20Poly1305::new_from_slice(&key).map_err(|_| Error::internal("reveal key length"))?;
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: secret, aad: session.uuid().as_bytes() })
            .map_err(|_| Error::internal("sealing a secret failed"))?;
        let id = Uuid::now_v7();
        let expires_at = self.now() + Duration::seconds(LIFETIME_SECS);
        self.store.insert_reveal(id, session, &[nonce.as_slice(), &sealed].concat(), expires_at).await?;
        Ok(RevealTicket { id, key })
    }

    /// The secret behind the ticket, once: `None` when it was already seen,
    /// expired, belongs to another session or does not open with this key.
    pub async fn take_reveal(&self, p: &Principal, ticket: &RevealTicket) -> Result<Option<Vec<u8>>> {
        let Some(session) = p.session_id else { return Ok(None) };
        let Some(sealed) = self.store.take_reveal(ticket.id, session, self.now()).await? else { return Ok(None) };
        if sealed.len() < 12 {
            return Ok(None);
        }
        let (nonce, body) = sealed.split_at(12);
        let Ok(nonce) = <[u8; 12]>::try_from(nonce) else { return Ok(None) };
        let cipher = ChaCha20Poly1305::new_from_slice(&ticket.key).map_err(|_| Error::internal("reveal key length"))?;
        Ok(cipher.decrypt(&Nonce::from(nonce), Payload { msg: body, aad: session.uuid().as_bytes() }).ok())
    }

    /// Deletes the secrets nobody came to see (the hourly job).
    pub async fn purge_reveals(&self) -> Result<u64> {
        Ok(self.store.purge_reveals(self.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip_and_refuse_anything_else() {
        let ticket = RevealTicket { id: Uuid::now_v7(), key: [7; 32] };
        assert_eq!(RevealTicket::decode(&ticket.encode()), Some(ticket.clone()));
        assert!(!format!("{ticket:?}").contains("07"), "the key is not in Debug output");
        for bad in ["", ".", "x.y", &format!("{}.00", ticket.id.simple()), &ticket.encode()[1..]] {
            assert_eq!(RevealTicket::decode(bad), None, "{bad}");
        }
    }
}
