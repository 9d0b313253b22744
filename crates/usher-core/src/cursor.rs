//! Signed list cursors. A cursor carries a position (a sort key and an id) that
//! goes back into a query, so the server signs it with HMAC-SHA-256 under a key
//! the database keeps in `server_secrets` (every node gets the same one): a
//! cursor the server did not make, or made for another list or order, is refused
//! as invalid input before anything reaches the database.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use usher_domain::Invalid;

use crate::{Error, Result, Usher};

/// The name of the cursor signing key in `server_secrets`.
const KEY_NAME: &str = "cursor-hmac-v1";

/// Bytes of the signature a cursor ends with.
const TAG_LEN: usize = 16;

/// The signing key, read from the database once per process.
pub(crate) type CursorKey = Arc<tokio::sync::OnceCell<Vec<u8>>>;

fn tag(key: &[u8], list: &str, payload: &[u8]) -> Result<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| Error::internal("cursor key length"))?;
    mac.update(list.as_bytes());
    mac.update(&[0]);
    mac.update(payload);
    Ok(mac)
}

/// `payload` and its signature for `list` (the list and its order, e.g.
/// `users:role:desc`), URL-safe.
pub(crate) fn seal(key: &[u8], list: &str, payload: &[u8]) -> Result<String> {
    let mac = tag(key, list, payload)?.finalize().into_bytes();
    Ok(URL_SAFE_NO_PAD.encode([payload, &mac[..TAG_LEN]].concat()))
}

/// The payload of a cursor sealed for `list`, or a field error for any other.
pub(crate) fn open(key: &[u8], list: &str, raw: &str) -> Result<Vec<u8>> {
    let invalid =
        || Error::from(Invalid::one("cursor", "invalid", "This cursor is not valid for this list and order."));
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| invalid())?;
    let Some(split) = bytes.len().checked_sub(TAG_LEN) else { return Err(invalid()) };
    let (payload, sig) = bytes.split_at(split);
    tag(key, list, payload)?.verify_truncated_left(sig).map_err(|_| invalid())?;
    Ok(payload.to_vec())
}

impl Usher {
    /// The cursor signing key, made by the first node that needs it.
    pub(crate) async fn cursor_key(&self) -> Result<&[u8]> {
        let key = self
            .cursor_key
            .get_or_try_init(|| async {
                let mut candidate = [0u8; 32];
                getrandom::fill(&mut candidate).map_err(|e| Error::internal(format!("random source: {e}")))?;
                Ok::<_, Error>(self.store.server_secret(KEY_NAME, &candidate).await?)
            })
            .await?;
        Ok(key.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_open_only_for_their_list_and_key() {
        let key = [7u8; 32];
        let c = seal(&key, "users:role:asc", b"payload").unwrap();
        assert_eq!(open(&key, "users:role:asc", &c).unwrap(), b"payload");
        assert!(open(&key, "users:role:desc", &c).is_err());
        assert!(open(&[8u8; 32], "users:role:asc", &c).is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
        bytes[0] ^= 1;
        assert!(open(&key, "users:role:asc", &URL_SAFE_NO_PAD.encode(bytes)).is_err());
        for bad in ["", "%%", "AA", "not a cursor"] {
            assert!(open(&key, "users:role:asc", bad).is_err(), "{bad}");
        }
    }
}
