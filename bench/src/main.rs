//! `make bench` (scripts/bench.sh starts moto and builds the binaries, then runs this):
//! every function's release binary in a local Lambda execution environment (its own Runtime
//! API on loopback, moto behind a counting proxy, the testkit fakes), beside the floor — a
//! hello-world `lambda_http` built with the same profile. Writes `docs/benchmarks.json` and
//! `docs/benchmarks.md`.
//!
//! Phases: set-up (each tenant through its function's admin routes) → warm (per function: init,
//! first invocation, then `--warm` invocations with CPU, memory and AWS calls on the wire) →
//! cold (`--rounds` rounds, every binary started once per round, interleaved) → the 2Secure poll
//! (100 open orders among the finished ones) → scale (`--scale` distinct Learnster webhooks,
//! `--concurrency` environments at once) → the sweep (100 due among the finished) → optionally
//! where init goes (`--strace`, and a trial with a one-certificate CA bundle).
mod events;
mod lambda;
mod procfs;
mod proxy;
mod report;
mod scenarios;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::lambda::{Env, Invoked, Spec};
use crate::proxy::Call;
use crate::scenarios::{Function, Kind, World, FUNCTIONS};

const READY_LIMIT: Duration = Duration::from_secs(20);

struct Args {
    bins: PathBuf,
    out: PathBuf,
    logs: PathBuf,
    warm: usize,
    rounds: usize,
    scale: usize,
    concurrency: usize,
    strace: bool,
    only: Vec<String>,
    build_seconds: Option<f64>,
    /// When `make bench` began (Unix seconds), for its whole run time.
    began: Option<u64>,
    /// Only re-render `benchmarks.md` from this `benchmarks.json`.
    render: Option<PathBuf>,
    /// Binaries of the same functions built another way (`LABEL=DIR`), started in the same
    /// interleaved cold rounds.
    variant_bins: Vec<(String, PathBuf)>,
}

/// A way of starting the binaries besides the plain one: other variables, or other binaries.
pub struct Variant {
    pub label: String,
    pub vars: Vec<(String, String)>,
    pub bins: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        bins: PathBuf::from("/work/target-bench/release"),
        out: PathBuf::from("docs"),
        logs: std::env::temp_dir().join("hirebridge-bench-logs"),
        warm: 1000,
        // A start takes about a millisecond on a machine that is itself a microVM: medians of 15
        // starts moved by 0.1–0.3 ms from run to run, of 60 by a few hundredths.
        rounds: 60,
        scale: 10_000,
        concurrency: 32,
        strace: false,
        only: Vec::new(),
        build_seconds: None,
        began: None,
        render: None,
        variant_bins: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bins" => a.bins = value()?.into(),
            "--out" => a.out = value()?.into(),
            "--logs" => a.logs = value()?.into(),
            "--warm" => a.warm = value()?.parse().map_err(|e| format!("--warm: {e}"))?,
            "--rounds" => a.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--scale" => a.scale = value()?.parse().map_err(|e| format!("--scale: {e}"))?,
            "--concurrency" => a.concurrency = value()?.parse().map_err(|e| format!("--concurrency: {e}"))?,
            "--build-seconds" => a.build_seconds = value()?.parse().ok(),
            "--began" => a.began = value()?.parse().ok(),
            "--render" => a.render = Some(value()?.into()),
            "--strace" => a.strace = true,
            "--variant-bins" => {
                let v = value()?;
                let (label, dir) = v.rsplit_once('=').ok_or("--variant-bins LABEL=DIR")?;
                a.variant_bins.push((label.to_owned(), dir.into()));
            }
            "--only" => a.only = value()?.split(',').map(str::to_owned).collect(),
            "-h" | "--help" => {
                println!("hirebridge-bench [--bins DIR] [--out DIR] [--logs DIR] [--warm N] [--rounds N] [--scale N] [--concurrency N] [--strace] [--only a,b]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The `p`-th percentile (nearest rank) of unsorted samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
    Some(s[rank.min(s.len()) - 1])
}

pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

/// AWS calls of some invocations, counted on the wire.
#[derive(Default, Clone)]
pub struct Tally {
    pub invocations: u64,
    pub sm: u64,
    pub ddb: u64,
    pub ddb_beyond_work_item: u64,
    /// Invocations with at least one Secrets Manager call.
    pub with_sm: u64,
    pub max_ddb: u64,
    pub max_ddb_beyond: u64,
    pub ops: BTreeMap<String, u64>,
    pub keys: BTreeMap<String, u64>,
    pub query_items: u64,
    pub query_scanned: u64,
    pub other: u64,
    /// Time spent waiting on AWS (moto, through the proxy), summed.
    pub aws_us: u64,
}

impl Tally {
    pub fn add(&mut self, calls: &[Call]) {
        self.invocations += 1;
        let (mut sm, mut ddb, mut beyond) = (0, 0, 0);
        for c in calls {
            self.aws_us += c.elapsed_us;
            *self.ops.entry(format!("{}.{}", c.service, c.op)).or_default() += 1;
            match c.service.as_str() {
                "secretsmanager" => sm += 1,
                "dynamodb" => {
                    ddb += 1;
                    if !c.is_work_item() {
                        beyond += 1;
                    }
                    for k in &c.keys {
                        *self.keys.entry(format!("{} {k}", c.op)).or_default() += 1;
                    }
                    if let Some(index) = &c.index {
                        *self.keys.entry(format!("{} index:{index}", c.op)).or_default() += 1;
                    }
                    self.query_items += c.items;
                    self.query_scanned += c.scanned;
                }
                _ => self.other += 1,
            }
        }
        self.sm += sm;
        self.ddb += ddb;
        self.ddb_beyond_work_item += beyond;
        self.with_sm += u64::from(sm > 0);
        self.max_ddb = self.max_ddb.max(ddb);
        self.max_ddb_beyond = self.max_ddb_beyond.max(beyond);
    }

    pub fn per(&self, v: u64) -> f64 {
        if self.invocations == 0 {
            0.0
        } else {
            v as f64 / self.invocations as f64
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "invocations": self.invocations,
            "secretsmanager_per_invocation": self.per(self.sm),
            "invocations_with_a_secretsmanager_call": self.with_sm,
            "dynamodb_per_invocation": self.per(self.ddb),
            "dynamodb_beyond_work_item_per_invocation": self.per(self.ddb_beyond_work_item),
            "dynamodb_max_in_one_invocation": self.max_ddb,
            "dynamodb_beyond_work_item_max_in_one_invocation": self.max_ddb_beyond,
            "query_items_returned": self.query_items,
            "query_items_scanned": self.query_scanned,
            "other_calls": self.other,
            "aws_wait_ms_per_invocation": self.per(self.aws_us) / 1e3,
            "by_operation": self.ops,
            "by_operation_and_key": self.keys,
        })
    }
}

/// What one binary measured.
#[derive(Default)]
pub struct Row {
    pub name: String,
    pub event: String,
    pub binary: Option<PathBuf>,
    pub binary_bytes: Option<u64>,
    pub zip_bytes: Option<u64>,
    pub errors: Vec<String>,
    pub init_ms: Vec<f64>,
    pub init_cpu_ms: Vec<f64>,
    pub rss_init_kb: Vec<f64>,
    pub faults_init: Vec<f64>,
    pub first_ms: Vec<f64>,
    pub first_calls: Tally,
    pub warm_ms: Vec<f64>,
    pub warm_cpu_ms: Option<f64>,
    pub warm_cpu_sched_ms: Option<f64>,
    pub peak_rss_kb: Option<u64>,
    pub statuses: BTreeMap<String, u64>,
    pub warm: Tally,
    pub example_answer: Option<String>,
    /// Requests the fakes (Teamtailor and the services) received per warm invocation.
    pub outbound_per_warm: Option<f64>,
}

fn status_key(r: &Invoked) -> String {
    if r.ok {
        r.status.to_string()
    } else {
        "invocation error".to_owned()
    }
}

fn zip_size(binary: &Path) -> Option<u64> {
    let dir = std::env::temp_dir().join(format!("hirebridge-bench-zip-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::copy(binary, dir.join("bootstrap")).ok()?;
    let ok = std::process::Command::new("zip")
        .args(["-9", "-q", "-X", "bootstrap.zip", "bootstrap"])
        .current_dir(&dir)
        .status()
        .ok()?
        .success();
    let size = ok.then(|| std::fs::metadata(dir.join("bootstrap.zip")).ok().map(|m| m.len())).flatten();
    let _ = std::fs::remove_dir_all(&dir);
    size
}

async fn ready_and_first(world: &World, f: &Function, env: &mut Env, row: &mut Row) -> Result<(), String> {
    let init = env.ready(READY_LIMIT).await?;
    row.init_ms.push(ms(init));
    row.init_cpu_ms.push(env.cpu_ns() as f64 / 1e6);
    row.rss_init_kb.push(env.peak_rss_kb() as f64);
    row.faults_init.push(env.minor_faults() as f64);
    let event = world.event(f.kind).await?;
    let first = env.invoke(&event).await?;
    row.first_ms.push(ms(first.duration));
    row.first_calls.add(&first.calls);
    *row.statuses.entry(format!("first {}", status_key(&first))).or_default() += 1;
    if row.example_answer.is_none() || !(200..300).contains(&first.status) {
        row.example_answer =
            Some(format!("{} {}", first.status, first.text().chars().take(300).collect::<String>()));
    }
    Ok(())
}

/// One long-lived environment: init, first invocation, then `n` warm ones.
async fn warm(world: &World, f: &Function, n: usize, row: &mut Row) -> Result<(), String> {
    warm_with(world, f, n, row, Vec::new()).await
}

async fn warm_with(
    world: &World,
    f: &Function,
    n: usize,
    row: &mut Row,
    vars: Vec<(String, String)>,
) -> Result<(), String> {
    let mut spec = world.spec(f.name);
    spec.vars.extend(vars);
    let mut env = world.start(&spec).await?;
    ready_and_first(world, f, &mut env, row).await?;
    let outbound_before = world.sandbox.state().await.requests.len();
    let (ticks, sched) = (env.cpu_ticks(), env.cpu_ns());
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        events.push(world.event(f.kind).await?);
    }
    // Events are built beforehand so that the CPU of the fakes is not interleaved with the
    // function's own more than the calls themselves need.
    for event in &events {
        let r = env.invoke(event).await?;
        row.warm_ms.push(ms(r.duration));
        row.warm.add(&r.calls);
        let key = status_key(&r);
        if !(200..300).contains(&r.status) && !row.statuses.contains_key(&key) {
            row.errors.push(format!(
                "warm answer {}: {}",
                r.status,
                r.text().chars().take(300).collect::<String>()
            ));
        }
        *row.statuses.entry(key).or_default() += 1;
    }
    let tck = procfs::clock_ticks_per_sec() as f64;
    row.warm_cpu_ms = Some((env.cpu_ticks() - ticks) as f64 * 1e3 / tck / n.max(1) as f64);
    row.warm_cpu_sched_ms = Some((env.cpu_ns() - sched) as f64 / 1e6 / n.max(1) as f64);
    row.peak_rss_kb = Some(env.peak_rss_kb());
    let outbound = world.sandbox.state().await.requests.len() - outbound_before;
    row.outbound_per_warm = Some(outbound as f64 / n.max(1) as f64);
    Ok(())
}

/// Cold starts, interleaved: each round starts every binary once per variant (init and first
/// invocation).
async fn cold(
    world: &World,
    functions: &[&Function],
    rounds: usize,
    rows: &mut HashMap<String, Row>,
    variants: &[Variant],
) {
    for round in 0..rounds {
        for f in functions {
            for v in variants {
                let key =
                    if v.label.is_empty() { f.name.to_owned() } else { format!("{} [{}]", f.name, v.label) };
                let mut spec = world.spec(f.name);
                spec.vars.extend(v.vars.iter().cloned());
                if let Some(dir) = &v.bins {
                    spec.binary = dir.join(f.name);
                    if !spec.binary.exists() {
                        continue;
                    }
                }
                let row = rows.entry(key.clone()).or_insert_with(|| Row {
                    name: key.clone(),
                    event: f.event.to_owned(),
                    binary_bytes: std::fs::metadata(&spec.binary).ok().map(|m| m.len()),
                    binary: v.bins.as_ref().map(|_| spec.binary.clone()),
                    zip_bytes: v.bins.as_ref().and_then(|_| zip_size(&spec.binary)),
                    ..Row::default()
                });
                if row.errors.len() > 3 {
                    continue;
                }
                let outcome = async {
                    let mut env = world.start(&spec).await?;
                    ready_and_first(world, f, &mut env, row).await
                }
                .await;
                if let Err(e) = outcome {
                    row.errors.push(format!("cold round {round}: {e}"));
                }
            }
        }
    }
}

/// The 2Secure poll with `open` orders open among the finished ones.
async fn poll(world: &World, open: usize, warm_runs: usize) -> Result<Value, String> {
    // Exactly `open` orders without a final status: place or finish orders until so.
    let have = world.open_orders().await;
    if have < open {
        let mut env = world.start(&world.spec("twosecure-order")).await?;
        env.ready(READY_LIMIT).await?;
        for _ in have..open {
            let r = env.invoke(&world.event(Kind::TwoSecureOrder).await?).await?;
            if r.status != 200 {
                return Err(format!("placing an order for the poll: {} {}", r.status, r.text()));
            }
        }
    }
    let mut env = world.start(&world.spec("twosecure-status")).await?;
    env.ready(READY_LIMIT).await?;
    for _ in open..world.open_orders().await {
        let r = env.invoke(&world.event(Kind::TwoSecureStatus).await?).await?;
        if r.status != 200 {
            return Err(format!("finishing an order before the poll: {} {}", r.status, r.text()));
        }
    }
    let placed = world.sandbox.state().await.twosecure.orders.len();
    let finished = placed - world.open_orders().await;
    let schedule = world.schedule_event("twosecure-status");
    let first = env.invoke(&schedule).await?;
    let mut tally = Tally::default();
    tally.add(&first.calls);
    let due_reads: Vec<&Call> = first.calls.iter().filter(|c| c.op == "Query" && c.index.is_some()).collect();
    let mut durations = Vec::new();
    let mut warm_tally = Tally::default();
    for _ in 0..warm_runs {
        let r = env.invoke(&world.schedule_event("twosecure-status")).await?;
        durations.push(ms(r.duration));
        warm_tally.add(&r.calls);
    }
    Ok(json!({
        "orders_finished": finished,
        "orders_open": open,
        "first_run": {
            "ok": first.ok,
            "answer": first.body,
            "duration_ms": ms(first.duration),
            "due_index_queries": due_reads.len(),
            "due_index_items_read": due_reads.iter().map(|c| c.items).sum::<u64>(),
            "due_index_items_scanned": due_reads.iter().map(|c| c.scanned).sum::<u64>(),
            "calls": tally.to_json(),
        },
        "warm_runs": {
            "n": warm_runs,
            "p50_ms": median(&durations),
            "p99_ms": percentile(&durations, 99.0),
            "calls": warm_tally.to_json(),
        }
    }))
}

fn learnster_effects(
    st: &testkit::sandbox::SandboxState,
    result_ids: &HashSet<String>,
    emails: &HashSet<String>,
) -> Value {
    let mut updates: HashMap<&str, u64> = HashMap::new();
    for u in &st.partner.updates {
        if result_ids.contains(&u.id) {
            *updates.entry(u.id.as_str()).or_default() += 1;
        }
    }
    let mut students: HashMap<String, u64> = HashMap::new();
    for s in &st.learnster.students {
        if let Some(e) = s.user.get("email").and_then(Value::as_str) {
            if emails.contains(e) {
                *students.entry(e.to_owned()).or_default() += 1;
            }
        }
    }
    let mut final_status: BTreeMap<String, u64> = BTreeMap::new();
    for id in result_ids {
        let status = st
            .partner
            .results
            .get(id)
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str)
            .unwrap_or("none");
        *final_status.entry(status.to_owned()).or_default() += 1;
    }
    json!({
        "partner_results_final_status": final_status,
        "partner_results_updated_once": updates.values().filter(|&&n| n == 1).count(),
        "partner_results_updated_more_than_once": updates.values().filter(|&&n| n > 1).count(),
        "partner_results_never_updated": result_ids.len() - updates.len(),
        "students_exactly_one": students.values().filter(|&&n| n == 1).count(),
        "students_duplicated": students.values().filter(|&&n| n > 1).count(),
        "candidates_without_student": emails.len() - students.len(),
    })
}

fn student_creations(st: &testkit::sandbox::SandboxState) -> usize {
    st.requests
        .iter()
        .filter(|r| r.service == "learnster" && r.method == "POST" && r.path.contains("/users/students"))
        .count()
}

/// `n` distinct Learnster webhooks through `concurrency` environments at once (as Lambda runs
/// that many execution environments), then the sweep with 100 due among them.
async fn scale_and_sweep(world: &World, n: usize, concurrency: usize) -> Result<(Value, Value), String> {
    // A failed trigger is due again after 2 s (HIREBRIDGE_RETRY_SCHEDULE), so the sweep needs
    // no long wait; it changes nothing for the triggers that succeed.
    world.extra_vars.lock().unwrap().push(("HIREBRIDGE_RETRY_SCHEDULE".into(), "2,300,900,3600".into()));
    let spec = world.spec("learnster-webhook");
    let mut envs = Vec::new();
    let started = Instant::now();
    for _ in 0..concurrency {
        envs.push(world.start(&spec).await?);
    }
    for env in &mut envs {
        env.ready(READY_LIMIT * 2).await?;
    }
    let all_ready_ms = ms(started.elapsed());
    let before = student_creations(&*world.sandbox.state().await);
    let cpu_before: u64 = envs.iter().map(Env::cpu_ns).sum();

    let next = std::sync::atomic::AtomicUsize::new(0);
    let sent = std::sync::Mutex::new((HashSet::new(), HashSet::new()));
    let started = Instant::now();
    let workers = envs.iter_mut().map(|env| {
        let (next, sent) = (&next, &sent);
        async move {
            let mut out: Vec<(u16, f64)> = Vec::new();
            let mut tally = Tally::default();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let mv = world.learnster_move();
                sent.lock().unwrap().0.insert(mv.result_id.clone());
                sent.lock().unwrap().1.insert(mv.email.clone());
                let event = world.learnster_webhook(&mv)?;
                let r = env.invoke(&event).await?;
                out.push((if r.ok { r.status } else { 0 }, ms(r.duration)));
                tally.add(&r.calls);
            }
            Ok::<_, String>((out, tally))
        }
    });
    let results = futures::future::join_all(workers).await;
    let wall = started.elapsed();
    let cpu_after: u64 = envs.iter().map(Env::cpu_ns).sum();
    let mut answers: BTreeMap<u16, u64> = BTreeMap::new();
    let mut durations = Vec::new();
    let mut tally = Tally::default();
    for r in results {
        let (out, t) = r?;
        for (status, d) in out {
            *answers.entry(status).or_default() += 1;
            durations.push(d);
        }
        tally.invocations += t.invocations;
        tally.sm += t.sm;
        tally.ddb += t.ddb;
        tally.ddb_beyond_work_item += t.ddb_beyond_work_item;
        tally.with_sm += t.with_sm;
        tally.aws_us += t.aws_us;
        tally.max_ddb = tally.max_ddb.max(t.max_ddb);
        tally.max_ddb_beyond = tally.max_ddb_beyond.max(t.max_ddb_beyond);
        for (k, v) in t.ops {
            *tally.ops.entry(k).or_default() += v;
        }
    }
    let (result_ids, emails) = sent.into_inner().unwrap();
    let st = world.sandbox.state().await;
    let created = student_creations(&st) - before;
    let effects = learnster_effects(&st, &result_ids, &emails);
    drop(st);
    let scale = json!({
        "target": "the learnster-webhook release binary, through this harness's Runtime API (one environment per concurrent invocation, as Lambda scales)",
        "webhooks": n,
        "distinct_events": result_ids.len(),
        "concurrency": concurrency,
        "environments_ready_ms": all_ready_ms,
        "wall_s": wall.as_secs_f64(),
        "throughput_per_s": n as f64 / wall.as_secs_f64(),
        "answers": answers,
        "duration_p50_ms": median(&durations),
        "duration_p99_ms": percentile(&durations, 99.0),
        "function_cpu_ms_per_webhook": (cpu_after - cpu_before) as f64 / 1e6 / n.max(1) as f64,
        "student_creation_calls": created,
        "effects": effects,
        "calls": tally.to_json(),
    });

    // The sweep: 100 more webhooks fail at Learnster (503), so their work is due in 2 s.
    let due_n: usize = 100;
    let fault: testkit::sandbox::Fault = serde_json::from_value(json!({
        "service": "learnster", "method": "POST", "path_contains": "/users/students", "status": 503, "times": 1_000_000
    }))
    .map_err(|e| format!("the fake's fault: {e}"))?;
    world.sandbox.add_fault(fault).await;
    let mut failing = Vec::new();
    let mut failed_answers: BTreeMap<u16, u64> = BTreeMap::new();
    let mut chunks = Vec::new();
    for _ in 0..due_n {
        let mv = world.learnster_move();
        chunks.push(world.learnster_webhook(&mv)?);
        failing.push(mv);
    }
    let per_env = due_n.div_ceil(envs.len());
    let runs = envs.iter_mut().zip(chunks.chunks(per_env)).map(|(env, events)| async move {
        let mut statuses = Vec::new();
        for e in events {
            statuses.push(env.invoke(e).await.map(|r| r.status).unwrap_or(0));
        }
        statuses
    });
    for statuses in futures::future::join_all(runs).await {
        for s in statuses {
            *failed_answers.entry(s).or_default() += 1;
        }
    }
    world.sandbox.state().await.faults.clear();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let env = &mut envs[0];
    let before = student_creations(&*world.sandbox.state().await);
    let mut sweeps = Vec::new();
    for _ in 0..2 {
        let r = env.invoke(&world.schedule_event("learnster-webhook")).await?;
        let due: Vec<&Call> = r.calls.iter().filter(|c| c.op == "Query" && c.index.is_some()).collect();
        let mut t = Tally::default();
        t.add(&r.calls);
        sweeps.push(json!({
            "ok": r.ok,
            "answer": r.body,
            "duration_ms": ms(r.duration),
            "due_index_queries": due.len(),
            "due_index_items_read": due.iter().map(|c| c.items).sum::<u64>(),
            "due_index_items_scanned": due.iter().map(|c| c.scanned).sum::<u64>(),
            "calls": t.to_json(),
        }));
    }
    let st = world.sandbox.state().await;
    let rerun_creations = student_creations(&st) - before;
    let ids: HashSet<String> = failing.iter().map(|m| m.result_id.clone()).collect();
    let emails: HashSet<String> = failing.iter().map(|m| m.email.clone()).collect();
    let sweep = json!({
        "finished_before": n,
        "failed_webhooks": due_n,
        "failed_webhook_answers": failed_answers,
        "retry_schedule": "HIREBRIDGE_RETRY_SCHEDULE=2,300,900,3600",
        "first_sweep": sweeps[0],
        "second_sweep": sweeps[1],
        "student_creation_calls_by_the_sweeps": rerun_creations,
        "effects_of_the_due_work": learnster_effects(&st, &ids, &emails),
    });
    Ok((scale, sweep))
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("hirebridge-bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let args = args()?;
    if let Some(json) = &args.render {
        let text = std::fs::read_to_string(json).map_err(|e| format!("{}: {e}", json.display()))?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?;
        let md = json.with_extension("md");
        std::fs::write(&md, report::markdown(&doc)).map_err(|e| e.to_string())?;
        eprintln!("bench: wrote {}", md.display());
        return Ok(());
    }
    let run_started = Instant::now();
    let moto = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL (the moto server) is not set: run make bench")?;
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set: run make bench")?;
    let (sandbox, sandbox_url) = testkit::spawn().await;
    let world = World::new(sandbox, sandbox_url, moto, table, args.bins.clone(), args.logs.clone());
    let _ = std::fs::remove_dir_all(&args.logs);
    world.seed_secrets().await?;
    eprintln!(
        "bench: secrets under {}/, fakes at {}, logs in {}",
        world.prefix,
        world.sandbox_url,
        args.logs.display()
    );

    let selected: Vec<&Function> = FUNCTIONS
        .iter()
        .filter(|f| {
            args.only.is_empty() || args.only.iter().any(|o| o == f.name) || matches!(f.kind, Kind::Floor)
        })
        .collect();
    let mut rows: HashMap<String, Row> = HashMap::new();
    let mut built = Vec::new();
    for f in &selected {
        let mut row = Row { name: f.name.to_owned(), event: f.event.to_owned(), ..Row::default() };
        let binary = args.bins.join(f.name);
        match std::fs::metadata(&binary) {
            Ok(m) => {
                row.binary_bytes = Some(m.len());
                row.binary = Some(binary.clone());
                row.zip_bytes = zip_size(&binary);
                built.push(*f);
            }
            Err(_) => row.errors.push(format!("no release binary at {} (did it build?)", binary.display())),
        }
        rows.insert(f.name.to_owned(), row);
    }

    // Set-up: each tenant through its function's own admin routes, in an environment of its own.
    let mut ready: Vec<&Function> = Vec::new();
    for f in &built {
        let t = Instant::now();
        let outcome = async {
            let mut env = world.start(&world.spec(f.name)).await?;
            env.ready(READY_LIMIT).await?;
            world.setup(f.kind, &mut env).await
        }
        .await;
        eprintln!("bench: set-up of {} in {:.1} s", f.name, t.elapsed().as_secs_f64());
        match outcome {
            Ok(()) => ready.push(f),
            Err(e) => rows.get_mut(f.name).unwrap().errors.push(format!("set-up: {e}")),
        }
    }
    eprintln!(
        "bench: set up {} of {} binaries ({:.0} s)",
        ready.len(),
        selected.len(),
        run_started.elapsed().as_secs_f64()
    );

    // Warm: per function, one environment, `warm` invocations after the first. 2Secure's status
    // callbacks need orders: twosecure-order places more than it is measured with.
    for f in &ready {
        let n = match f.kind {
            Kind::TwoSecureOrder => args.warm + args.rounds + 120,
            _ => args.warm,
        };
        let t = Instant::now();
        let row = rows.get_mut(f.name).unwrap();
        if let Err(e) = warm(&world, f, n, row).await {
            row.errors.push(format!("warm: {e}"));
        }
        eprintln!("bench: {} warm ×{n} in {:.1} s", f.name, t.elapsed().as_secs_f64());
    }

    // Cold: every binary started `rounds` times, interleaved.
    let t = Instant::now();
    let mut variants = vec![Variant { label: String::new(), vars: Vec::new(), bins: None }];
    for (label, dir) in &args.variant_bins {
        variants.push(Variant { label: label.clone(), vars: Vec::new(), bins: Some(dir.clone()) });
    }
    cold(&world, &ready, args.rounds, &mut rows, &variants).await;
    eprintln!("bench: {} cold rounds in {:.1} s", args.rounds, t.elapsed().as_secs_f64());

    let mut extra = serde_json::Map::new();
    if ready.iter().any(|f| f.kind == Kind::TwoSecureStatus)
        && ready.iter().any(|f| f.kind == Kind::TwoSecureOrder)
    {
        let t = Instant::now();
        extra.insert(
            "twosecure_poll".into(),
            poll(&world, 100, 20).await.unwrap_or_else(|e| json!({"error": e})),
        );
        eprintln!("bench: 2Secure poll in {:.1} s", t.elapsed().as_secs_f64());
    }
    if args.scale > 0 && ready.iter().any(|f| f.kind == Kind::Learnster) {
        let t = Instant::now();
        match scale_and_sweep(&world, args.scale, args.concurrency).await {
            Ok((scale, sweep)) => {
                extra.insert("scale".into(), scale);
                extra.insert("sweep".into(), sweep);
            }
            Err(e) => {
                extra.insert("scale".into(), json!({"error": e}));
            }
        }
        world.extra_vars.lock().unwrap().clear();
        eprintln!("bench: scale and sweep in {:.1} s", t.elapsed().as_secs_f64());
    }
    if args.strace {
        let t = Instant::now();
        extra.insert("init".into(), report::investigate_init(&world, &ready, args.rounds, &mut rows).await);
        eprintln!("bench: init investigation in {:.1} s", t.elapsed().as_secs_f64());
    }

    let bench_seconds = run_started.elapsed().as_secs_f64();
    let mut doc = report::document(&rows, &extra, &args_json(&args), bench_seconds, args.build_seconds);
    if let Some(began) = args.began {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        doc["make_bench_seconds"] = json!(now.saturating_sub(began));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let json_path = args.out.join("benchmarks.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n")
        .map_err(|e| e.to_string())?;
    let md_path = args.out.join("benchmarks.md");
    std::fs::write(&md_path, report::markdown(&doc)).map_err(|e| e.to_string())?;
    eprintln!("bench: wrote {} and {} ({bench_seconds:.0} s)", md_path.display(), json_path.display());
    let failures: Vec<String> =
        rows.values().flat_map(|r| r.errors.iter().map(move |e| format!("{}: {e}", r.name))).collect();
    for f in &failures {
        eprintln!("bench: {f}");
    }
    Ok(())
}

fn args_json(a: &Args) -> Value {
    json!({
        "warm_invocations": a.warm,
        "cold_rounds": a.rounds,
        "scale_webhooks": a.scale,
        "concurrency": a.concurrency,
        "binaries": a.bins.display().to_string(),
    })
}

pub fn spec_with(world: &World, name: &str, wrapper: Vec<String>, vars: Vec<(String, String)>) -> Spec {
    let mut s = world.spec(name);
    s.wrapper = wrapper;
    s.vars.extend(vars);
    s
}
