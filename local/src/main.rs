//! `hirebridge-local [--addr 127.0.0.1:3000] [--secrets FILE]` serves every function locally;
//! `hirebridge-local demo [--secrets FILE]` plays the recruitment story against it;
//! `hirebridge-local probe [--secrets FILE] …` checks the outside services' contracts, read-only.
use std::net::SocketAddr;

use hirebridge::outbound::RetryPolicy;
use hirebridge_local::{demo, server};

const USAGE: &str = "usage: hirebridge-local [demo] [--addr HOST:PORT] [--secrets FILE]\n       hirebridge-local probe --help";

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("probe") {
        std::process::exit(hirebridge_local::probe::cli(std::env::args().skip(2).collect()).await);
    }
    let mut args = std::env::args().skip(1);
    let mut addr: Option<SocketAddr> = None;
    let mut secrets: Option<String> = None;
    let mut play_demo = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "demo" => play_demo = true,
            "--addr" => match args.next().map(|a| a.parse()) {
                Some(Ok(a)) => addr = Some(a),
                _ => fail("--addr needs HOST:PORT, e.g. 127.0.0.1:3000"),
            },
            "--secrets" => secrets = Some(args.next().unwrap_or_else(|| fail("--secrets needs a file"))),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument {other:?}")),
        }
    }
    let secrets = server::load_secrets(secrets.as_deref()).unwrap_or_else(|e| fail(&e));
    if play_demo {
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        // The story shows a retry: its first delay is a second instead of a minute.
        if std::env::var_os("HIREBRIDGE_RETRY_SCHEDULE").is_none() {
            std::env::set_var("HIREBRIDGE_RETRY_SCHEDULE", "1,1,1");
        }
        hirebridge::logging::init();
        let addr = addr.unwrap_or_else(|| "127.0.0.1:0".parse().expect("valid address"));
        match demo::run(addr, secrets).await {
            Ok(()) => println!("\nDemo finished: every step behaved as expected."),
            Err(e) => {
                eprintln!("hirebridge-local: demo failed: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    hirebridge::logging::init();
    let addr = addr.unwrap_or_else(|| "127.0.0.1:3000".parse().expect("valid address"));
    let running = server::start(addr, secrets, RetryPolicy::default()).await.unwrap_or_else(|e| fail(&e));
    println!("hirebridge-local listening on http://{}", running.addr);
    if running.sandbox.is_some() {
        println!(
            "sandbox of the outside services at http://{}/_sandbox (state: /_sandbox/control/state)",
            running.addr
        );
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn fail(message: &str) -> ! {
    eprintln!("hirebridge-local: {message}\n{USAGE}");
    std::process::exit(2)
}
