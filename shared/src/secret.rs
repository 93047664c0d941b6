//! A wrapper for credentials: it prints as `[redacted]` in `Debug` and `Display`, and it has no
//! `Serialize`, so a secret cannot reach a log line, an error message or a DynamoDB item by accident.
use std::fmt;

use serde::{Deserialize, Deserializer};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

pub type SecretString = Secret<String>;

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself; call it only where the secret is sent to the party that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Credentials {
        client_id: String,
        client_secret: SecretString,
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let creds: Credentials =
            serde_json::from_str(r#"{"client_id":"abc","client_secret":"hunter2-very-secret"}"#).unwrap();
        let debug = format!("{creds:?}");
        assert!(debug.contains("abc"), "non-secret fields stay visible: {debug}");
        assert!(!debug.contains("hunter2"), "secret leaked in Debug: {debug}");
        assert!(!format!("{}", creds.client_secret).contains("hunter2"));
        assert_eq!(creds.client_secret.expose(), "hunter2-very-secret");
    }
}
