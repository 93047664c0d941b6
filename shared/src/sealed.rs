//! Sealing a value that must be kept but not readable where it is kept (a personnummer in a work
//! record, a session's Hub link in a ticket): AES-256-GCM (aws-lc-rs) with a key derived as
//! HMAC-SHA256(secret, label), bound to a context (its event, its owner) as associated data.
//! Sealed bytes are the random nonce, then the ciphertext and its tag.
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::SecretString;

/// A key for one kind of sealed value: `label` names the kind (and its version), so that one
/// secret never seals two kinds with the same key.
pub struct Sealer(LessSafeKey);

impl Sealer {
    pub fn new(secret: &SecretString, label: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes any key");
        mac.update(label);
        let key = UnboundKey::new(&AES_256_GCM, &mac.finalize().into_bytes()).expect("a 32-byte key");
        Sealer(LessSafeKey::new(key))
    }

    pub fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system's random source works");
        let mut sealed = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .expect("AES-GCM seals any message");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// `None` when `sealed` was sealed with another key or for another context, or is not a
    /// sealed value at all.
    pub fn open(&self, sealed: &[u8], context: &str) -> Option<Vec<u8>> {
        if sealed.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = body.to_vec();
        let plain = self.0.open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out).ok()?;
        Some(plain.to_vec())
    }
}
