//! Authenticator (TOTP, RFC 6238) secrets, parsed once at the boundary: base32 (spaces, lower
//! case and padding tolerated) or an `otpauth://totp/` URI, only SHA1 / 6 digits / 30 s, at least
//! 10 bytes. A [`TotpSecret`] has no `Display` and a redacted `Debug`; no error repeats any part
//! of the input.
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret {
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the two-factor secret is empty")]
    Empty,
    #[error("the two-factor secret must be base32 (letters A–Z and digits 2–7) or an otpauth://totp/ link")]
    NotBase32,
    #[error(
        "the two-factor secret is too short: it must decode to at least 10 bytes (16 base32 characters)"
    )]
    TooShort,
    #[error("the otpauth link must be otpauth://totp/… with a secret parameter")]
    BadUri,
    #[error("the otpauth link asks for another algorithm: only SHA1 authenticator codes are supported")]
    Algorithm,
    #[error("the otpauth link asks for another length: only 6-digit authenticator codes are supported")]
    Digits,
    #[error("the otpauth link asks for another period: only 30-second authenticator codes are supported")]
    Period,
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_decode(s: &str) -> Result<Vec<u8>, TotpError> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .trim_end_matches('=')
        .to_ascii_uppercase();
    let mut out = Vec::with_capacity(cleaned.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in cleaned.bytes() {
        let value = ALPHABET.iter().position(|a| *a == c).ok_or(TotpError::NotBase32)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

impl TotpSecret {
    pub fn parse(input: &str) -> Result<Self, TotpError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(TotpError::Empty);
        }
        // `get`, not indexing: byte 10 may fall inside a multi-byte character.
        let is_uri = input.get(..10).is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth://"));
        let encoded = if is_uri {
            let url = url::Url::parse(input).map_err(|_| TotpError::BadUri)?;
            if !url.host_str().is_some_and(|h| h.eq_ignore_ascii_case("totp")) {
                return Err(TotpError::BadUri);
            }
            let mut secret = None;
            for (k, v) in url.query_pairs() {
                match k.to_ascii_lowercase().as_str() {
                    "secret" => secret = Some(v.into_owned()),
                    "algorithm" if !v.eq_ignore_ascii_case("SHA1") => return Err(TotpError::Algorithm),
                    "digits" if v != "6" => return Err(TotpError::Digits),
                    "period" if v != "30" => return Err(TotpError::Period),
                    _ => {}
                }
            }
            secret.ok_or(TotpError::BadUri)?
        } else {
            input.to_owned()
        };
        let bytes = base32_decode(&encoded)?;
        if bytes.len() < 10 {
            return Err(TotpError::TooShort);
        }
        Ok(TotpSecret { bytes })
    }

    /// The canonical form (upper-case base32, no padding), for the party that needs it.
    pub fn base32(&self) -> String {
        base32_encode(&self.bytes)
    }

    /// The code for `unix_time` with `digits` digits (RFC 6238, SHA1, 30-second steps).
    pub fn code(&self, unix_time: u64, digits: u32) -> String {
        let counter = unix_time / 30;
        let mut mac = Hmac::<Sha1>::new_from_slice(&self.bytes).expect("HMAC takes any key");
        mac.update(&counter.to_be_bytes());
        let hash = mac.finalize().into_bytes();
        let offset = (hash[19] & 0x0f) as usize;
        let binary =
            u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
        format!("{:0width$}", binary % 10u32.pow(digits), width = digits as usize)
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA1: the secret is the ASCII "12345678901234567890".
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = TotpSecret::parse(&base32_encode(b"12345678901234567890")).unwrap();
        for (t, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(secret.code(t, 8), code, "T={t}");
            assert_eq!(secret.code(t, 6), code[2..], "T={t}, 6 digits");
        }
    }

    #[test]
    fn base32_forms_and_otpauth_links_are_accepted() {
        let canonical = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let expected = TotpSecret::parse(canonical).unwrap();
        for form in [
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====",
            "otpauth://totp/Teamtailor:admin@acme.se?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Teamtailor",
            "otpauth://totp/X?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&algorithm=SHA1&digits=6&period=30",
        ] {
            assert_eq!(TotpSecret::parse(form).unwrap(), expected, "{form}");
        }
        assert_eq!(expected.base32(), canonical);
    }

    #[test]
    fn unsupported_or_malformed_secrets_say_why() {
        assert_eq!(TotpSecret::parse(""), Err(TotpError::Empty));
        assert_eq!(TotpSecret::parse("NOT*BASE32!"), Err(TotpError::NotBase32));
        assert_eq!(TotpSecret::parse("GEZDGNBV"), Err(TotpError::TooShort));
        assert_eq!(TotpSecret::parse("otpauth://hotp/X?secret=GEZDGNBVGY3TQOJQ"), Err(TotpError::BadUri));
        assert_eq!(
            TotpSecret::parse("otpauth://totp/X?secret=GEZDGNBVGY3TQOJQ&algorithm=SHA256"),
            Err(TotpError::Algorithm)
        );
        assert_eq!(
            TotpSecret::parse("otpauth://totp/X?secret=GEZDGNBVGY3TQOJQ&digits=8"),
            Err(TotpError::Digits)
        );
        assert_eq!(
            TotpSecret::parse("otpauth://totp/X?secret=GEZDGNBVGY3TQOJQ&period=60"),
            Err(TotpError::Period)
        );
        assert_eq!(TotpSecret::parse("otpauth://totp/X?issuer=Y"), Err(TotpError::BadUri));
        let s = TotpSecret::parse("GEZDGNBVGY3TQOJQ").unwrap();
        assert!(!format!("{s:?}").contains("GEZD"));
        let e = TotpSecret::parse("otpauth://totp/X?secret=GEZDGNBVGY3TQOJQ&algorithm=S3CR3T").unwrap_err();
        assert!(!e.to_string().contains("S3CR3T"), "errors do not repeat the input");
    }

    /// Byte 10 inside a multi-byte character used to panic (`input[..10]`), ending the process.
    #[test]
    fn a_multi_byte_character_at_byte_ten_is_refused_not_a_panic() {
        for input in
            ["otpauth:/éGEZDGNBVGY3TQOJQ", "abcdefghi€€€", "aäääää", "OTPAUTH:/ü//totp/X?secret=GEZD"]
        {
            assert!(!input.is_char_boundary(10), "{input}: byte 10 is inside a character");
            assert_eq!(TotpSecret::parse(input), Err(TotpError::NotBase32), "{input}");
        }
    }
}
