//! Random secrets and their one-way digests. Secrets are handed to people once;
//! only digests are stored, so a database leak gives no usable session or link.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// 256 random bits, URL-safe base64.
pub fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("random source: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The digest stored in place of a high-entropy secret (SHA-256; the secret's
/// entropy makes a slow hash unnecessary).
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The CSRF token tied to a session secret: derivable by the server from the
/// cookie, unknowable to another site.
pub fn csrf_token(session_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"usher-csrf-v1:");
    h.update(session_secret.as_bytes());
    URL_SAFE_NO_PAD.encode(&h.finalize()[..24])
}

/// Constant-time comparison of two tokens.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
