//! The Hub link of a connect session, sealed into the page's ticket. A session's `auth_link_url`
//! carries its token (StackOne: "https://app.stackone.com/embedded/integrations?token=…",
//! https://docs.stackone.com/docs/auth-link), so it is a credential for that session: hirebridge
//! keeps it nowhere, not in DynamoDB and not in Secrets Manager. It travels inside the signed
//! ticket of the link given to the customer, encrypted (AES-256-GCM, bound to the owner) with a
//! key derived from the operator secret's `link_signing_key`, and expires with the session. The
//! link hirebridge hands out therefore opens exactly what StackOne's own auth link opens, and
//! no longer.
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use hirebridge::SecretString;

const LABEL: &[u8] = b"hirebridge stackone hub link seal v1";
const NONCE_LEN: usize = 12;

/// AES-256-GCM with the key HMAC-SHA256(signing key, [`LABEL`]).
fn cipher(signing_key: &SecretString) -> LessSafeKey {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_key.expose().as_bytes())
        .expect("HMAC takes any key");
    mac.update(LABEL);
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &mac.finalize().into_bytes()).expect("a 32-byte key"))
}

/// `url`, sealed for `owner`, as base64url.
pub fn seal(url: &SecretString, signing_key: &SecretString, owner: &str) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).expect("the system's random source works");
    let mut sealed = url.expose().as_bytes().to_vec();
    cipher(signing_key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(owner.as_bytes()),
            &mut sealed,
        )
        .expect("AES-GCM seals any message");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    URL_SAFE_NO_PAD.encode(out)
}

/// The URL again; `None` when it was sealed with another key or for another owner.
pub fn open(sealed: &str, signing_key: &SecretString, owner: &str) -> Option<SecretString> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, body) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut in_out = body.to_vec();
    let plain = cipher(signing_key).open_in_place(nonce, Aad::from(owner.as_bytes()), &mut in_out).ok()?;
    Some(SecretString::new(std::str::from_utf8(plain).ok()?.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_link_opens_only_with_its_key_and_owner_and_shows_no_token() {
        let url = SecretString::from("https://app.stackone.com/embedded/integrations?token=tok-s3cret");
        let key = SecretString::from("0123456789abcdef0123456789abcdef");
        let sealed = seal(&url, &key, "org-1");
        assert!(!sealed.contains("tok-s3cret") && !sealed.contains("stackone"), "{sealed}");
        assert_eq!(open(&sealed, &key, "org-1").map(|u| u.expose().clone()), Some(url.expose().clone()));
        assert!(open(&sealed, &"another-key".into(), "org-1").is_none());
        assert!(open(&sealed, &key, "org-2").is_none(), "bound to its owner");
        assert!(open("AAAA", &key, "org-1").is_none());
        assert!(open("not base64!", &key, "org-1").is_none());
    }
}
