//! The candidate's files for an order: at most [`MAX_FILES`] files and [`MAX_TOTAL_BYTES`]
//! together, fetched only from Teamtailor's file hosts (`TEAMTAILOR_FILE_HOSTS`) without following
//! redirects, and read against a running limit, so that no file is held whole before it is known
//! to fit. A file that does not fit or comes from elsewhere is left out; the order goes ahead and
//! the card names it.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hirebridge::config::Config;
use std::time::Duration;

use hirebridge::outbound::{time_left, RetryPolicy};
use url::Url;

use crate::api::Attachment;
use crate::redacted;

pub const MAX_FILES: usize = 10;
pub const MAX_TOTAL_BYTES: usize = 25 * 1024 * 1024;
/// Where Teamtailor serves candidates' files (signed URLs into a private S3 bucket; the host is
/// not documented, these are the ones seen). `TEAMTAILOR_FILE_HOSTS` replaces them.
pub const DEFAULT_FILE_HOSTS: &str =
    "teamtailor-production.s3.eu-west-1.amazonaws.com,teamtailor-production.s3.amazonaws.com";
const FILE_HOSTS_VAR: &str = "TEAMTAILOR_FILE_HOSTS";

/// A file the trigger asks for: its name and its short-lived URL (never recorded).
#[derive(Clone, Debug)]
pub struct FileRef {
    pub name: String,
    pub url: String,
}

/// Why a file was left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftOut {
    TooMany,
    TooLarge,
    NotFromTeamtailor,
    Redirected,
    Unavailable,
    /// A retry: the file's link expired long before (Teamtailor's last a minute).
    LinkExpired,
}

impl LeftOut {
    fn why(self) -> &'static str {
        match self {
            LeftOut::TooMany => "more than 10 files",
            LeftOut::TooLarge => "over 25 MB for all files together",
            LeftOut::NotFromTeamtailor => "not from Teamtailor's file hosts",
            LeftOut::Redirected => "its link redirected elsewhere",
            LeftOut::Unavailable => "could not be fetched from Teamtailor",
            LeftOut::LinkExpired => "its link from Teamtailor expired before this retry",
        }
    }
}

/// The files that go with an order, and those left out.
#[derive(Default)]
pub struct Fetched {
    pub attachments: Vec<Attachment>,
    pub left_out: Vec<(String, LeftOut)>,
}

impl Fetched {
    /// For the card: which files were left out and why (names with digit runs redacted).
    pub fn summary(&self) -> Option<String> {
        if self.left_out.is_empty() {
            return None;
        }
        let mut named: Vec<String> = self
            .left_out
            .iter()
            .take(5)
            .map(|(name, why)| {
                format!("{} ({})", redacted(&name.chars().take(60).collect::<String>()), why.why())
            })
            .collect();
        if self.left_out.len() > 5 {
            named.push(format!("and {} more", self.left_out.len() - 5));
        }
        Some(format!("Sent without these files: {}.", named.join(", ")))
    }
}

/// The hosts files may come from: `TEAMTAILOR_FILE_HOSTS` (comma-separated; `*.example.com` for
/// every subdomain), and the origin of `TEAMTAILOR_API_URL` when that is set.
#[derive(Clone, Debug)]
pub struct FileHosts {
    hosts: Vec<String>,
    teamtailor_api: Option<url::Origin>,
}

impl FileHosts {
    pub fn from_env(config: &Config) -> Self {
        Self::parse(std::env::var(FILE_HOSTS_VAR).ok().as_deref(), config.teamtailor_api_url.as_ref())
    }

    pub fn parse(list: Option<&str>, teamtailor_api: Option<&Url>) -> Self {
        let list = list.map(str::trim).filter(|l| !l.is_empty()).unwrap_or(DEFAULT_FILE_HOSTS);
        let hosts =
            list.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        FileHosts { hosts, teamtailor_api: teamtailor_api.map(Url::origin) }
    }

    /// Whether `url` is one of Teamtailor's files: https on a listed host (default port), or
    /// under the configured Teamtailor API's origin.
    pub fn allows(&self, url: &Url) -> bool {
        if self.teamtailor_api.as_ref().is_some_and(|o| o.is_tuple() && *o == url.origin()) {
            return true;
        }
        let Some(url::Host::Domain(host)) = url.host() else {
            return false;
        };
        let listed = self.hosts.iter().any(|h| match h.strip_prefix("*.") {
            Some(parent) => host.strip_suffix(parent).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == h,
        });
        url.scheme() == "https" && url.port().is_none() && url.username().is_empty() && listed
    }
}

/// Fetches files as above, each in one attempt (a file that fails is left out, not retried).
pub struct Files {
    /// Its own client: it never follows a redirect. Built on the first fetch (with the shared TLS
    /// set-up, whose roots are compiled in), so that a cold start that sends no file (and
    /// `twosecure-status`, which never does) builds no second connection pool.
    client: std::sync::OnceLock<reqwest::Client>,
    connect_timeout: Duration,
    timeout: Duration,
    pub hosts: FileHosts,
}

/// Below this much time left in the invocation a file is not started.
const LEAST_USEFUL: Duration = Duration::from_millis(500);

impl Files {
    pub fn new(policy: &RetryPolicy, hosts: FileHosts) -> Self {
        Files {
            client: std::sync::OnceLock::new(),
            connect_timeout: policy.connect_timeout,
            timeout: policy.request_timeout,
            hosts,
        }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            hirebridge::https::client(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(self.connect_timeout)
                    .timeout(self.timeout),
            )
            .expect("the file client's settings are valid")
        })
    }

    /// Fetches the first [`MAX_FILES`] of `wanted` within [`MAX_TOTAL_BYTES`].
    pub async fn fetch(&self, wanted: &[FileRef]) -> Fetched {
        let mut out = Fetched::default();
        let mut budget = MAX_TOTAL_BYTES;
        for (i, file) in wanted.iter().enumerate() {
            let fetched = match i < MAX_FILES {
                true => self.fetch_one(&file.url, budget).await,
                false => Err(LeftOut::TooMany),
            };
            match fetched {
                Ok(bytes) => {
                    budget -= bytes.len();
                    let file_name = file.name.chars().take(200).collect();
                    out.attachments.push(Attachment { file_name, content_base64: STANDARD.encode(&bytes) });
                }
                Err(why) => out.left_out.push((file.name.clone(), why)),
            }
        }
        out
    }

    async fn fetch_one(&self, url: &str, budget: usize) -> Result<Vec<u8>, LeftOut> {
        let url = Url::parse(url).ok().filter(|u| self.hosts.allows(u)).ok_or(LeftOut::NotFromTeamtailor)?;
        // Within the invocation's deadline, like every call out.
        let timeout = time_left().map_or(self.timeout, |left| left.min(self.timeout));
        if timeout < LEAST_USEFUL {
            return Err(LeftOut::Unavailable);
        }
        let request = self.client().get(url.as_str()).timeout(timeout);
        let mut resp = request.send().await.map_err(|_| LeftOut::Unavailable)?;
        if resp.status().is_redirection() {
            return Err(LeftOut::Redirected);
        }
        if !resp.status().is_success() {
            return Err(LeftOut::Unavailable);
        }
        if resp.content_length().is_some_and(|len| len > budget as u64) {
            return Err(LeftOut::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|_| LeftOut::Unavailable)? {
            if bytes.len() + chunk.len() > budget {
                return Err(LeftOut::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_teamtailors_file_hosts_are_allowed() {
        let hosts = FileHosts::parse(None, None);
        assert!(hosts.allows(&url(
            "https://teamtailor-production.s3.eu-west-1.amazonaws.com/resumes/a.pdf?X-Amz-Signature=1"
        )));
        for refused in [
            "http://teamtailor-production.s3.eu-west-1.amazonaws.com/a.pdf",
            "https://teamtailor-production.s3.eu-west-1.amazonaws.com:8443/a.pdf",
            "https://teamtailor-production.s3.eu-west-1.amazonaws.com.evil.net/a.pdf",
            "https://evil.net/a.pdf",
            "https://169.254.169.254/latest/meta-data",
            "https://user@teamtailor-production.s3.eu-west-1.amazonaws.com/a.pdf",
        ] {
            assert!(!hosts.allows(&url(refused)), "{refused}");
        }
    }

    #[test]
    fn the_list_is_configurable_and_the_teamtailor_api_origin_counts() {
        let api = url("http://127.0.0.1:4000/_sandbox/teamtailor");
        let hosts = FileHosts::parse(Some(" files.example.com, *.cdn.example.com "), Some(&api));
        assert!(hosts.allows(&url("https://files.example.com/a")));
        assert!(hosts.allows(&url("https://eu.cdn.example.com/a")));
        assert!(!hosts.allows(&url("https://cdn.example.com/a")), "the wildcard is for subdomains");
        assert!(!hosts.allows(&url("https://xcdn.example.com/a")));
        assert!(hosts.allows(&url("http://127.0.0.1:4000/_sandbox/teamtailor/files/cv.pdf")));
        assert!(!hosts.allows(&url("http://127.0.0.1:4001/files/cv.pdf")), "another port is another origin");
        assert!(
            !hosts.allows(&url("https://teamtailor-production.s3.eu-west-1.amazonaws.com/a")),
            "the list replaces the default"
        );
    }

    #[test]
    fn the_card_names_the_files_left_out_without_digit_runs() {
        let fetched = Fetched {
            attachments: vec![],
            left_out: vec![
                ("CV 19811218-9876.pdf".into(), LeftOut::TooLarge),
                ("x.exe".into(), LeftOut::NotFromTeamtailor),
            ],
        };
        let summary = fetched.summary().unwrap();
        assert!(summary.contains("x.exe (not from Teamtailor's file hosts)"), "{summary}");
        assert!(!summary.contains("19811218") && !summary.contains("9876"), "{summary}");
    }

    /// A file host that redirects (`/redirect`), streams 26 MB without a length (`/endless`) or
    /// serves a small file (`/ok`); answers its base URL.
    async fn file_host() -> Url {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let ok = base.join("ok").unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let ok = ok.clone();
                tokio::spawn(async move {
                    let mut head = vec![0u8; 4096];
                    let n = socket.read(&mut head).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&head[..n]).into_owned();
                    if head.starts_with("GET /redirect") {
                        let answer =
                            format!("HTTP/1.1 302 Found\r\nLocation: {ok}\r\nContent-Length: 0\r\n\r\n");
                        let _ = socket.write_all(answer.as_bytes()).await;
                    } else if head.starts_with("GET /endless") {
                        let _ =
                            socket.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
                        let chunk = vec![b'x'; 1024 * 1024];
                        for _ in 0..26 {
                            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                            framed.extend_from_slice(&chunk);
                            framed.extend_from_slice(b"\r\n");
                            if socket.write_all(&framed).await.is_err() {
                                return;
                            }
                        }
                        let _ = socket.write_all(b"0\r\n\r\n").await;
                    } else {
                        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n%PDF").await;
                    }
                });
            }
        });
        base
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_a_body_without_length_is_cut_at_the_limit() {
        let base = file_host().await;
        let policy = RetryPolicy::default();
        let files = Files::new(&policy, FileHosts::parse(None, Some(&base)));
        let wanted =
            |name: &str, path: &str| FileRef { name: name.into(), url: base.join(path).unwrap().to_string() };
        let fetched = files
            .fetch(&[wanted("moved.pdf", "redirect"), wanted("huge.bin", "endless"), wanted("cv.pdf", "ok")])
            .await;
        assert_eq!(fetched.attachments.len(), 1);
        assert_eq!(fetched.attachments[0].file_name, "cv.pdf");
        assert_eq!(
            fetched.left_out,
            vec![("moved.pdf".to_owned(), LeftOut::Redirected), ("huge.bin".to_owned(), LeftOut::TooLarge)]
        );
    }
}
