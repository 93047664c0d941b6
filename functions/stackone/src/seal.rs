//! The Hub link of a connect session, sealed into the page's ticket. A session's `auth_link_url`
//! carries its token (StackOne: "https://app.stackone.com/embedded/integrations?token=…",
//! https://docs.stackone.com/docs/auth-link), so it is a credential for that session: hirebridge
//! keeps it nowhere, not in DynamoDB and not in Secrets Manager. It travels inside the signed
//! ticket of the link given to the customer, encrypted (AES-256-GCM, bound to the owner) with a
//! key derived from the operator secret's `link_signing_key`, and expires with the session. The
//! link hirebridge hands out therefore opens exactly what StackOne's own auth link opens, and
//! no longer.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hirebridge::sealed::Sealer;
use hirebridge::SecretString;

const LABEL: &[u8] = b"hirebridge stackone hub link seal v1";

/// `url`, sealed for `owner` with the key HMAC-SHA256(signing key, [`LABEL`]), as base64url.
pub fn seal(url: &SecretString, signing_key: &SecretString, owner: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sealer::new(signing_key, LABEL).seal(url.expose().as_bytes(), owner))
}

/// The URL again; `None` when it was sealed with another key or for another owner.
pub fn open(sealed: &str, signing_key: &SecretString, owner: &str) -> Option<SecretString> {
    let plain = Sealer::new(signing_key, LABEL).open(&URL_SAFE_NO_PAD.decode(sealed).ok()?, owner)?;
    Some(SecretString::new(String::from_utf8(plain).ok()?))
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
