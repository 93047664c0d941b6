//! The figures as `docs/benchmarks.json` and `docs/benchmarks.md`, each beside the floor's, with
//! the bars of docs/benchmarks.md; and the investigation of where init goes (strace of each start, and a trial
//! with a one-certificate CA bundle).
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::scenarios::{Function, World};
use crate::{median, percentile, Row};

pub const FLOOR: &str = "hello-floor";
const MB: f64 = 1e6;

fn cmd(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> Value {
    let model = cmd("lscpu", &[])
        .lines()
        .find_map(|l| l.strip_prefix("Model name:").map(|m| m.trim().to_owned()))
        .unwrap_or_default();
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().find_map(|l| {
                l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
            })
        })
        .and_then(|v| v.parse::<u64>().ok());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({
        "nproc": cmd("nproc", &[]),
        "cpu_model": model,
        "kernel": cmd("uname", &["-srm"]),
        "memory_gb": mem_kb.map(|k| (k as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "load_average_at_end": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "rustc": cmd("rustc", &["--version"]),
    })
}

fn release_profile() -> String {
    let toml = std::fs::read_to_string("Cargo.toml").unwrap_or_default();
    let mut out = Vec::new();
    let mut inside = false;
    for line in toml.lines() {
        if line.trim_start().starts_with('[') {
            inside = line.trim() == "[profile.release]";
            continue;
        }
        if inside && !line.trim().is_empty() {
            out.push(line.trim().to_owned());
        }
    }
    out.join(", ")
}

fn stats(samples: &[f64]) -> Value {
    json!({
        "n": samples.len(),
        "p50": median(samples),
        "min": samples.iter().copied().reduce(f64::min),
        "max": samples.iter().copied().reduce(f64::max),
    })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn row_json(r: &Row) -> Value {
    json!({
        "name": r.name,
        "event": r.event,
        "errors": r.errors,
        "binary_bytes": r.binary_bytes,
        "zip_bytes": r.zip_bytes,
        "sections_bytes": r.binary.as_deref().map(sections),
        "init_ms": stats(&r.init_ms),
        "init_cpu_ms": stats(&r.init_cpu_ms),
        "rss_at_init_kb": median(&r.rss_init_kb),
        "page_faults_at_init": median(&r.faults_init),
        "first_invocation_ms": stats(&r.first_ms),
        "warm": {
            "n": r.warm_ms.len(),
            "p50_ms": median(&r.warm_ms),
            "p99_ms": percentile(&r.warm_ms, 99.0),
            "cpu_ms_per_invocation": r.warm_cpu_ms,
            "cpu_ms_per_invocation_schedstat": r.warm_cpu_sched_ms,
        },
        "peak_rss_kb": r.peak_rss_kb,
        "outbound_http_calls_per_warm_invocation": r.outbound_per_warm,
        "answers": r.statuses,
        "example_first_answer": r.example_answer,
        "aws_calls": { "first_invocation": r.first_calls.to_json(), "warm": r.warm.to_json() },
    })
}

/// The sizes of the sections that make up most of a binary (`size -A`), unwind tables and
/// relocations summed under one name each.
fn sections(binary: &std::path::Path) -> Value {
    let out = cmd("size", &["-A", &binary.display().to_string()]);
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for line in out.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(size)) = (parts.next(), parts.next().and_then(|v| v.parse::<u64>().ok()))
        else {
            continue;
        };
        let key = match name {
            "Total" => continue,
            ".text" => "code (.text)",
            ".rodata" => "constants (.rodata)",
            ".eh_frame" | ".eh_frame_hdr" | ".gcc_except_table" => "unwind tables (.eh_frame*)",
            ".rela.dyn" | ".rela.plt" | ".relr.dyn" => "relocations (.rela.*)",
            ".data.rel.ro" => "relocated constants (.data.rel.ro)",
            _ => "other",
        };
        *m.entry(key.to_owned()).or_default() += size;
    }
    json!(m)
}

fn num(v: &Value, path: &str) -> Option<f64> {
    v.pointer(path).and_then(Value::as_f64)
}

/// The whole result, with ratios to the floor and the bars.
pub fn document(
    rows: &HashMap<String, Row>,
    extra: &Map<String, Value>,
    run: &Value,
    bench_s: f64,
    build_s: Option<f64>,
) -> Value {
    let order: Vec<&str> = crate::scenarios::FUNCTIONS.iter().map(|f| f.name).collect();
    let mut names: Vec<&String> = rows.keys().collect();
    names.sort_by_key(|n| {
        let base = n.split(" [").next().unwrap_or(n);
        (order.iter().position(|o| *o == base).unwrap_or(99), n.to_string())
    });
    let floor = rows.get(FLOOR).map(row_json);
    let fl = |path: &str| floor.as_ref().and_then(|f| num(f, path));
    let mut functions = Vec::new();
    for name in names.iter().filter(|n| !n.contains(" [")) {
        let mut r = row_json(&rows[*name]);
        let ratios = json!({
            "init": ratio(num(&r, "/init_ms/p50"), fl("/init_ms/p50")),
            "init_cpu": ratio(num(&r, "/init_cpu_ms/p50"), fl("/init_cpu_ms/p50")),
            "first_invocation": ratio(num(&r, "/first_invocation_ms/p50"), fl("/first_invocation_ms/p50")),
            "warm_p50": ratio(num(&r, "/warm/p50_ms"), fl("/warm/p50_ms")),
            "warm_p99": ratio(num(&r, "/warm/p99_ms"), fl("/warm/p99_ms")),
            "cpu_per_warm_invocation": ratio(num(&r, "/warm/cpu_ms_per_invocation_schedstat"), fl("/warm/cpu_ms_per_invocation_schedstat")),
            "peak_rss": ratio(num(&r, "/peak_rss_kb"), fl("/peak_rss_kb")),
            "rss_at_init": ratio(num(&r, "/rss_at_init_kb"), fl("/rss_at_init_kb")),
            "page_faults_at_init": ratio(num(&r, "/page_faults_at_init"), fl("/page_faults_at_init")),
            "binary": ratio(num(&r, "/binary_bytes"), fl("/binary_bytes")),
            "zip": ratio(num(&r, "/zip_bytes"), fl("/zip_bytes")),
        });
        let is_floor = name.ends_with("-floor");
        if !is_floor {
            let bar = |ok: Option<bool>| match ok {
                Some(true) => "met",
                Some(false) => "missed",
                None => "not measured",
            };
            let init = ratios["init"].as_f64();
            let cpu = num(&r, "/warm/cpu_ms_per_invocation_schedstat");
            r["bars"] = json!({
                "init_at_most_1.5x_floor": bar(init.map(|x| x <= 1.5)),
                "binary_at_most_6_MB": bar(num(&r, "/binary_bytes").map(|b| b <= 6.0 * MB)),
                "zip_at_most_3_MB": bar(num(&r, "/zip_bytes").map(|b| b <= 3.0 * MB)),
                "no_secrets_manager_call_warm": bar(num(&r, "/aws_calls/warm/invocations_with_a_secretsmanager_call").map(|n| n == 0.0)),
                "at_most_2_dynamodb_round_trips_beyond_work_item": bar(num(&r, "/aws_calls/warm/dynamodb_beyond_work_item_max_in_one_invocation").map(|n| n <= 2.0)),
                "warm_cpu_under_1_ms_including_its_calls": bar(cpu.map(|c| c < 1.0)),
            });
        }
        r["ratios_to_floor"] = ratios;
        functions.push(r);
    }
    // CPU beyond the calls (derived): the warm CPU less the floor's, less each AWS call and each
    // outbound HTTP call at what one costs the ladder (the init investigation measures it).
    let per_call = |i: usize| {
        extra
            .get("init")
            .and_then(|x| x.pointer(&format!("/per_call_cpu/{i}/cpu_ms_per_call")))
            .and_then(Value::as_f64)
    };
    if let (Some(aws), Some(web), Some(floor_cpu)) =
        (per_call(1), per_call(2), fl("/warm/cpu_ms_per_invocation_schedstat"))
    {
        for f in functions.iter_mut() {
            let calls = |p: &str| num(f, p).unwrap_or(0.0);
            let aws_calls = calls("/aws_calls/warm/dynamodb_per_invocation")
                + calls("/aws_calls/warm/secretsmanager_per_invocation");
            let http_calls = calls("/outbound_http_calls_per_warm_invocation");
            if let Some(cpu) = num(f, "/warm/cpu_ms_per_invocation_schedstat") {
                let own = cpu - floor_cpu - aws_calls * aws - http_calls * web;
                f["warm"]["cpu_ms_beyond_calls_estimate"] = json!(own);
                f["warm"]["cpu_estimate_method"] = json!(format!(
                    "{cpu:.3} ms − floor {floor_cpu:.3} − {aws_calls:.2} AWS calls × {aws:.3} − {http_calls:.2} HTTP calls × {web:.3}"
                ));
                if f.get("bars").is_some() {
                    f["bars"]["warm_cpu_under_1_ms_beyond_calls_estimate"] =
                        json!(if own < 1.0 { "met (estimate)" } else { "missed (estimate)" });
                }
            }
        }
    }
    let variants: Vec<Value> =
        names.iter().filter(|n| n.contains(" [")).map(|n| row_json(&rows[*n])).collect();
    let (y, m, d, h, mi, _) = crate::events::civil(crate::events::now_secs());
    let mut doc = json!({
        "generated": format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC"),
        "machine": machine(),
        "release_profile": release_profile(),
        "floor": FLOOR,
        "run": run,
        "bench_seconds": bench_s,
        "build_seconds": build_s,
        "functions": functions,
        "variants": variants,
    });
    for (k, v) in extra {
        doc[k] = v.clone();
    }
    doc
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) => format!("{x:.digits$}"),
        None => "–".to_owned(),
    }
}

fn with_ratio(v: Option<f64>, r: Option<f64>, digits: usize) -> String {
    match (v, r) {
        (Some(_), Some(r)) => format!("{} ({r:.2}×)", fmt(v, digits)),
        _ => fmt(v, digits),
    }
}

/// `docs/benchmarks.md`.
pub fn markdown(doc: &Value) -> String {
    let mut md = String::new();
    let m = &doc["machine"];
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `make bench` (scripts/bench.sh → bench/) on {}: `nproc` = {}, {} ({}, {} GB RAM, load average at the end {}), {}. \
         `make bench` took {} s{}.\n",
        doc["generated"].as_str().unwrap_or_default(),
        m["nproc"].as_str().unwrap_or_default(),
        m["cpu_model"].as_str().unwrap_or_default(),
        m["kernel"].as_str().unwrap_or_default(),
        m["memory_gb"],
        m["load_average_at_end"].as_str().unwrap_or_default(),
        m["rustc"].as_str().unwrap_or_default(),
        fmt(doc["make_bench_seconds"].as_f64().or(doc["bench_seconds"].as_f64()), 0),
        match doc["build_seconds"].as_f64() {
            Some(b) => format!(
                " in all: {b:.0} s of release builds (with any trial build), then {} s of measuring",
                fmt(doc["bench_seconds"].as_f64(), 0)
            ),
            None => String::new(),
        },
    );
    let run = &doc["run"];
    let _ = writeln!(
        md,
        "Every function is its release binary (`[profile.release]`: {}) in a local Lambda execution environment: \
         the Runtime API (`AWS_LAMBDA_RUNTIME_API`) on loopback, the variables a deployment sets, moto behind a \
         counting proxy (`AWS_ENDPOINT_URL`), the testkit fakes as the outside services. The floor is `{}`, \
         `cargo lambda new`'s hello world for `lambda_http` (bench/floor), built in the same `cargo build` with the same profile. \
         Init is process start to its first `next` (median of {} cold starts, interleaved with the other binaries); \
         first invocation is the median over those starts; warm figures are over {} invocations of one environment \
         (Lambda's `Duration`: event handed out → response); CPU is `/proc/<pid>/stat` utime+stime \
         (and the scheduler's ns run time) over the warm invocations; AWS calls are counted on the wire. \
         MB = 10⁶ bytes; zip is `zip -9` of the binary named `bootstrap`.\n",
        doc["release_profile"].as_str().unwrap_or_default(),
        doc["floor"].as_str().unwrap_or_default(),
        run["cold_rounds"],
        run["warm_invocations"],
    );
    let _ = writeln!(md, "## Per function, and as a ratio to the floor\n");
    let _ = writeln!(
        md,
        "| function | event | init ms | init CPU ms | first inv. ms | warm p50 ms | warm p99 ms | of which waiting on moto ms (mean) | CPU / warm inv. ms | peak RSS MB | binary MB | zip MB | SM calls / warm inv. | DynamoDB / warm inv. (beyond work item, max) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let empty = Vec::new();
    let functions = doc["functions"].as_array().unwrap_or(&empty);
    for f in functions {
        let r = &f["ratios_to_floor"];
        let floor = f["name"].as_str().unwrap_or_default().ends_with("-floor");
        let aws = &f["aws_calls"]["warm"];
        let (sm, ddb) = if floor {
            ("–".to_owned(), "–".to_owned())
        } else {
            (
                format!(
                    "{} ({} inv. with one)",
                    fmt(aws["secretsmanager_per_invocation"].as_f64(), 3),
                    aws["invocations_with_a_secretsmanager_call"]
                ),
                format!(
                    "{} ({}, max {})",
                    fmt(aws["dynamodb_per_invocation"].as_f64(), 2),
                    fmt(aws["dynamodb_beyond_work_item_per_invocation"].as_f64(), 2),
                    aws["dynamodb_beyond_work_item_max_in_one_invocation"]
                ),
            )
        };
        let cpu = f["warm"]["cpu_ms_per_invocation_schedstat"].as_f64();
        let _ = writeln!(
            md,
            "| **{}** | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f["name"].as_str().unwrap_or_default(),
            f["event"].as_str().unwrap_or_default(),
            with_ratio(num(f, "/init_ms/p50"), r["init"].as_f64(), 2),
            with_ratio(num(f, "/init_cpu_ms/p50"), r["init_cpu"].as_f64(), 2),
            with_ratio(num(f, "/first_invocation_ms/p50"), r["first_invocation"].as_f64(), 2),
            with_ratio(num(f, "/warm/p50_ms"), r["warm_p50"].as_f64(), 3),
            with_ratio(num(f, "/warm/p99_ms"), r["warm_p99"].as_f64(), 3),
            if floor { "–".to_owned() } else { fmt(aws["aws_wait_ms_per_invocation"].as_f64(), 3) },
            with_ratio(cpu, r["cpu_per_warm_invocation"].as_f64(), 3)
                + &format!(" [stat: {}]", fmt(num(f, "/warm/cpu_ms_per_invocation"), 2)),
            with_ratio(num(f, "/peak_rss_kb").map(|k| k * 1024.0 / MB), r["peak_rss"].as_f64(), 2),
            with_ratio(num(f, "/binary_bytes").map(|b| b / MB), r["binary"].as_f64(), 2),
            with_ratio(num(f, "/zip_bytes").map(|b| b / MB), r["zip"].as_f64(), 2),
            sm,
            ddb,
        );
    }
    let _ = writeln!(
        md,
        "\nWarm invocation counts and answers: {}.\n",
        functions
            .iter()
            .map(|f| format!("{} {}", f["name"].as_str().unwrap_or_default(), f["answers"]))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let errors: Vec<String> = functions
        .iter()
        .flat_map(|f| {
            let name = f["name"].as_str().unwrap_or_default().to_owned();
            f["errors"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |e| format!("- {name}: {}", e.as_str().unwrap_or_default()))
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(md, "Errors in this run:\n\n{}\n", errors.join("\n"));
    }

    let _ = writeln!(md, "## The bars\n");
    let _ = writeln!(md, "| function | init ≤ 1.5× floor | binary ≤ 6 MB | zip ≤ 3 MB | no Secrets Manager call warm | ≤ 2 DynamoDB round trips beyond the work item | warm CPU < 1 ms including its calls | warm CPU < 1 ms beyond its calls (estimate) |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for f in functions.iter().filter(|f| f.get("bars").is_some()) {
        let b = &f["bars"];
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            f["name"].as_str().unwrap_or_default(),
            b["init_at_most_1.5x_floor"].as_str().unwrap_or_default(),
            b["binary_at_most_6_MB"].as_str().unwrap_or_default(),
            b["zip_at_most_3_MB"].as_str().unwrap_or_default(),
            b["no_secrets_manager_call_warm"].as_str().unwrap_or_default(),
            b["at_most_2_dynamodb_round_trips_beyond_work_item"].as_str().unwrap_or_default(),
            b["warm_cpu_under_1_ms_including_its_calls"].as_str().unwrap_or_default(),
            match (
                b["warm_cpu_under_1_ms_beyond_calls_estimate"].as_str(),
                f["warm"]["cpu_estimate_method"].as_str()
            ) {
                (Some(v), Some(how)) => format!(
                    "{v}: {} = {how}",
                    own_cpu(f["warm"]["cpu_ms_beyond_calls_estimate"].as_f64().unwrap_or(0.0))
                ),
                _ => "–".to_owned(),
            },
        );
    }
    let _ = writeln!(md, "\nDynamoDB calls of one warm invocation by operation and item (per invocation):\n");
    for f in functions.iter().filter(|f| !f["name"].as_str().unwrap_or_default().ends_with("-floor")) {
        let aws = &f["aws_calls"]["warm"];
        let n = aws["invocations"].as_f64().unwrap_or(0.0).max(1.0);
        let keys: Vec<String> = aws["by_operation_and_key"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("`{k}` {:.2}", v.as_f64().unwrap_or(0.0) / n)).collect())
            .unwrap_or_default();
        let ops: Vec<String> = aws["by_operation"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k} {:.2}", v.as_f64().unwrap_or(0.0) / n)).collect())
            .unwrap_or_default();
        let first_n = f["aws_calls"]["first_invocation"]["invocations"].as_f64().unwrap_or(0.0).max(1.0);
        let first: Vec<String> = f["aws_calls"]["first_invocation"]["by_operation"]
            .as_object()
            .map(|o| {
                o.iter().map(|(k, v)| format!("{k} {:.2}", v.as_f64().unwrap_or(0.0) / first_n)).collect()
            })
            .unwrap_or_default();
        let first = format!("{} (mean of {first_n} first invocations)", first.join(", "));
        let _ = writeln!(
            md,
            "- **{}**: {} — {}. First invocation: {}.",
            f["name"].as_str().unwrap_or_default(),
            ops.join(", "),
            keys.join(", "),
            first
        );
    }

    md.push_str(&findings(doc));
    if let Some(p) = doc.get("twosecure_poll") {
        let _ = writeln!(md, "\n## The 2Secure poll (twosecure-status, EventBridge schedule)\n");
        if let Some(e) = p.get("error") {
            let _ = writeln!(md, "Not measured: {e}");
        } else {
            let f = &p["first_run"];
            let _ = writeln!(
                md,
                "{} orders finished, {} open. One scheduled run: {} ms, read {} items from the due index in {} quer{} \
                 (scanned {}); answer {}; its calls: {}. Warm runs (n = {}): p50 {} ms, p99 {} ms.",
                p["orders_finished"], p["orders_open"], fmt(f["duration_ms"].as_f64(), 1), f["due_index_items_read"], f["due_index_queries"],
                if f["due_index_queries"] == 1 { "y" } else { "ies" }, f["due_index_items_scanned"], f["answer"], f["calls"]["by_operation"],
                p["warm_runs"]["n"], fmt(p["warm_runs"]["p50_ms"].as_f64(), 1), fmt(p["warm_runs"]["p99_ms"].as_f64(), 1),
            );
        }
    }
    if let Some(s) = doc.get("scale") {
        let _ = writeln!(md, "\n## Scale\n");
        if let Some(e) = s.get("error") {
            let _ = writeln!(md, "Not measured: {e}");
        } else {
            let _ = writeln!(
                md,
                "{} distinct Learnster webhooks, {} at a time, against {}. {} environments ready in {} ms. \
                 Wall {} s: **{} webhooks/s**; answers {}; duration p50 {} ms, p99 {} ms under load; function CPU {} ms per webhook. \
                 Exactly one effect: {} student-creation calls for {} events; {}. AWS calls per webhook: {}.",
                s["webhooks"], s["concurrency"], s["target"].as_str().unwrap_or_default(), s["concurrency"], fmt(s["environments_ready_ms"].as_f64(), 0),
                fmt(s["wall_s"].as_f64(), 1), fmt(s["throughput_per_s"].as_f64(), 1), s["answers"],
                fmt(s["duration_p50_ms"].as_f64(), 1), fmt(s["duration_p99_ms"].as_f64(), 1), fmt(s["function_cpu_ms_per_webhook"].as_f64(), 3),
                s["student_creation_calls"], s["distinct_events"], s["effects"],
                json!({"secretsmanager": s["calls"]["secretsmanager_per_invocation"], "dynamodb": s["calls"]["dynamodb_per_invocation"], "by_operation": s["calls"]["by_operation"]}),
            );
        }
    }
    if let Some(s) = doc.get("sweep") {
        let _ = writeln!(md, "\n## The sweep (learnster-webhook, EventBridge schedule)\n");
        let first = &s["first_sweep"];
        let second = &s["second_sweep"];
        let _ = writeln!(
            md,
            "{} finished triggers and {} failed ones (answers {}, {}), due again 2 s later. First sweep: {} ms, read **{}** items \
             from the due index in {} quer{} (scanned {}), answer {}. Second sweep: read {} items, answer {}. \
             Student creations by the sweeps: {}; effects of the due work: {}.",
            s["finished_before"], s["failed_webhooks"], s["failed_webhook_answers"], s["retry_schedule"].as_str().unwrap_or_default(),
            fmt(first["duration_ms"].as_f64(), 1), first["due_index_items_read"], first["due_index_queries"],
            if first["due_index_queries"] == 1 { "y" } else { "ies" }, first["due_index_items_scanned"], first["answer"],
            second["due_index_items_read"], second["answer"], s["student_creation_calls_by_the_sweeps"], s["effects_of_the_due_work"],
        );
    }
    if let Some(init) = doc.get("init") {
        let _ = writeln!(md, "\n## Where init goes\n");
        let _ = writeln!(md, "{}\n", init["method"].as_str().unwrap_or_default());
        if let Some(ca) = init.get("ca_trial") {
            let _ = writeln!(md, "| binary | init ms, system CA roots | init ms, one-certificate bundle | difference ms | init CPU ms, system / one | page faults, system / one | CA paths touched at init (strace) |");
            let _ = writeln!(md, "|---|---|---|---|---|---|---|");
            for row in ca.as_array().unwrap_or(&empty) {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} / {} | {} / {} | {} |",
                    row["name"].as_str().unwrap_or_default(),
                    fmt(row["system_init_ms"].as_f64(), 2),
                    fmt(row["one_cert_init_ms"].as_f64(), 2),
                    fmt(row["difference_ms"].as_f64(), 2),
                    fmt(row["system_init_cpu_ms"].as_f64(), 2),
                    fmt(row["one_cert_init_cpu_ms"].as_f64(), 2),
                    fmt(row["system_page_faults"].as_f64(), 0),
                    fmt(row["one_cert_page_faults"].as_f64(), 0),
                    row["ca_files_opened"],
                );
            }
        }
        if let Some(ladder) = init.get("ladder").and_then(Value::as_array).filter(|l| !l.is_empty()) {
            let _ = writeln!(md, "\nThe ladder (`ladder-floor`, bench/ladder: the floor plus each step of a function's init, same build and profile, interleaved cold starts):\n");
            let _ = writeln!(md, "| rung | init ms | init CPU ms | page faults | RSS at init MB |");
            let _ = writeln!(md, "|---|---|---|---|---|");
            for r in ladder {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    r["rung"].as_str().unwrap_or_default(),
                    fmt(r["init_ms"].as_f64(), 2),
                    fmt(r["init_cpu_ms"].as_f64(), 2),
                    fmt(r["page_faults"].as_f64(), 0),
                    fmt(r["rss_at_init_kb"].as_f64().map(|k| k * 1024.0 / MB), 2),
                );
            }
        }
        if let Some(cases) = init.get("per_call_cpu").and_then(Value::as_array).filter(|l| !l.is_empty()) {
            let _ = writeln!(md, "\nWhat one call costs a warm invocation (`ladder-floor` with every client, 500 warm invocations each):\n");
            let _ = writeln!(md, "| case | CPU / invocation ms | wall p50 ms | CPU per call ms |");
            let _ = writeln!(md, "|---|---|---|---|");
            for c in cases {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |",
                    c["case"].as_str().unwrap_or_default(),
                    fmt(c["cpu_ms_per_invocation"].as_f64(), 3),
                    fmt(c["wall_p50_ms"].as_f64(), 3),
                    fmt(c["cpu_ms_per_call"].as_f64(), 3),
                );
            }
        }
        if let Some(traces) = init.get("strace").and_then(Value::as_array) {
            let _ = writeln!(md, "\nTimelines under `strace -f -ttt` (ms after `execve`; strace slows every system call, so only the order and the shares are meaningful):\n");
            for t in traces {
                let _ = writeln!(
                    md,
                    "- **{}**: {}",
                    t["name"].as_str().unwrap_or_default(),
                    t["summary"].as_str().unwrap_or_default()
                );
            }
        }
    }
    if let Some(v) = doc["variants"].as_array().filter(|v| !v.is_empty()) {
        let _ = writeln!(md, "\n## Variants\n\n| binary | init ms p50 | init CPU ms p50 | page faults at init | RSS at init MB | first inv. ms p50 | binary MB | zip MB |\n|---|---|---|---|---|---|---|---|");
        for r in v {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r["name"].as_str().unwrap_or_default(),
                fmt(num(r, "/init_ms/p50"), 2),
                fmt(num(r, "/init_cpu_ms/p50"), 2),
                fmt(num(r, "/page_faults_at_init"), 0),
                fmt(num(r, "/rss_at_init_kb").map(|k| k * 1024.0 / MB), 2),
                fmt(num(r, "/first_invocation_ms/p50"), 2),
                fmt(num(r, "/binary_bytes").map(|b| b / MB), 2),
                fmt(num(r, "/zip_bytes").map(|b| b / MB), 2),
            );
        }
    }
    md
}

/// One parsed strace line: pid, time, syscall, first quoted argument, return value text.
struct Sys {
    t: f64,
    name: String,
    path: Option<String>,
    rest: String,
}

fn parse_strace(text: &str) -> Vec<Sys> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.trim_start().splitn(2, char::is_whitespace);
        let (Some(_pid), Some(rest)) = (parts.next(), parts.next()) else { continue };
        let mut parts = rest.trim_start().splitn(2, char::is_whitespace);
        let (Some(ts), Some(call)) = (parts.next(), parts.next()) else { continue };
        let Ok(t) = ts.parse::<f64>() else { continue };
        let call = call.trim_start();
        if call.starts_with("<...") || call.starts_with("---") || call.starts_with("+++") {
            continue;
        }
        let name = call.split('(').next().unwrap_or_default().to_owned();
        let path = call.split_once('"').and_then(|(_, r)| r.split_once('"')).map(|(p, _)| p.to_owned());
        out.push(Sys { t, name, path, rest: call.to_owned() });
    }
    out
}

fn category(path: &str) -> Option<&'static str> {
    if path.contains("ssl")
        || path.contains("certs")
        || path.contains("pki")
        || path.contains("ca-certificates")
        || path.ends_with(".pem")
    {
        Some("CA roots")
    } else if path.contains(".aws") {
        Some("AWS shared config")
    } else if path.ends_with(".so") || path.contains(".so.") || path.contains("ld.so") {
        Some("shared libraries")
    } else if path.starts_with("/sys/") || path.starts_with("/proc/") {
        Some("/proc and /sys")
    } else {
        None
    }
}

/// The timeline of one start: categories of files touched, threads, the Runtime API connect.
fn timeline(text: &str, runtime_port: u16) -> Value {
    let calls = parse_strace(text);
    let Some(t0) = calls.first().map(|c| c.t) else { return json!({"summary": "no trace"}) };
    let at = |t: f64| (t - t0) * 1e3;
    let connect = calls
        .iter()
        .find(|c| c.name == "connect" && c.rest.contains(&format!("htons({runtime_port})")))
        .map(|c| c.t);
    let end = connect.unwrap_or(f64::MAX);
    let mut cats: BTreeMap<&str, (f64, f64, usize)> = BTreeMap::new();
    let mut others: Vec<String> = Vec::new();
    let mut threads = Vec::new();
    let mut before = 0;
    let mut other_connects = Vec::new();
    for c in calls.iter().filter(|c| c.t <= end) {
        before += 1;
        if c.name.starts_with("clone") {
            threads.push(at(c.t));
        }
        if c.name == "connect" {
            other_connects.push(format!(
                "{:.2} ms {}",
                at(c.t),
                c.rest.chars().take(120).collect::<String>()
            ));
        }
        if let Some(p) = &c.path {
            if !matches!(
                c.name.as_str(),
                "openat"
                    | "open"
                    | "stat"
                    | "statx"
                    | "newfstatat"
                    | "access"
                    | "faccessat"
                    | "faccessat2"
                    | "readlink"
                    | "execve"
                    | "lstat"
            ) {
                continue;
            }
            match category(p) {
                Some(cat) => {
                    let e = cats.entry(cat).or_insert((at(c.t), at(c.t), 0));
                    e.1 = at(c.t);
                    e.2 += 1;
                }
                None if c.name != "execve" && others.len() < 12 && !others.contains(p) => {
                    others.push(p.clone());
                }
                None => {}
            }
        }
    }
    // Each load of the system roots lists the CA directory once.
    let ca_loads = calls
        .iter()
        .filter(|c| c.t <= end && c.name == "openat" && c.rest.contains("O_DIRECTORY"))
        .filter(|c| c.path.as_deref().and_then(category) == Some("CA roots"))
        .count();
    let reads_in_ca = cats.get("CA roots").map(|(a, b, _)| {
        calls.iter().filter(|c| c.name == "read" && at(c.t) >= *a && at(c.t) <= *b + 0.5).count()
    });
    let mut summary = format!(
        "Runtime API connect at {} ms after {} system calls; threads started at {} ms",
        connect.map(|c| format!("{:.2}", at(c))).unwrap_or_else(|| "–".into()),
        before,
        threads.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>().join(", ")
    );
    for (cat, (a, b, n)) in &cats {
        let _ = write!(summary, "; {cat}: {n} paths, {a:.2}–{b:.2} ms");
        if *cat == "CA roots" {
            let _ = write!(summary, " ({} reads, {ca_loads} loads of the store)", reads_in_ca.unwrap_or(0));
        }
    }
    if !other_connects.is_empty() {
        let _ = write!(summary, "; other connects before it: {}", other_connects.join(" | "));
    }
    if !others.is_empty() {
        let _ = write!(summary, "; other paths: {}", others.join(", "));
    }
    json!({
        "runtime_connect_ms": connect.map(at),
        "syscalls_before_connect": before,
        "threads_started_ms": threads,
        "categories": cats.iter().map(|(k, (a, b, n))| (k.to_string(), json!({"first_ms": a, "last_ms": b, "paths": n}))).collect::<BTreeMap<_, _>>(),
        "ca_reads": reads_in_ca,
        "ca_loads": ca_loads,
        "other_paths": others,
        "summary": summary,
    })
}

/// The first certificate of the system bundle, as a one-certificate CA bundle.
fn one_cert_bundle(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let all = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())?;
    let end = "-----END CERTIFICATE-----";
    let first = &all[all.find("-----BEGIN CERTIFICATE-----")?..all.find(end)? + end.len()];
    let path = dir.join("one-cert.pem");
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(&path, format!("{first}\n")).ok()?;
    Some(path)
}

/// Where init goes: each binary started once under `strace -f -ttt` (the timeline) and
/// `strace -c -f` (the system-call summary); then cold starts with the system CA roots and
/// with a one-certificate bundle (`SSL_CERT_FILE`, which rustls-native-certs reads instead),
/// interleaved.
pub async fn investigate_init(
    world: &World,
    functions: &[&Function],
    rounds: usize,
    rows: &mut HashMap<String, Row>,
) -> Value {
    let dir = world.logs.join("strace");
    let _ = std::fs::create_dir_all(&dir);
    let mut traces = Vec::new();
    let mut opened_ca: HashMap<String, u64> = HashMap::new();
    for f in functions {
        let trace = dir.join(format!("{}.trace", f.name));
        let summary = dir.join(format!("{}.summary", f.name));
        let wrapper = vec![
            "strace".into(),
            "-f".into(),
            "-ttt".into(),
            "-T".into(),
            "-o".into(),
            trace.display().to_string(),
        ];
        let outcome = async {
            let mut env = world.start(&crate::spec_with(world, f.name, wrapper, Vec::new())).await?;
            env.ready(std::time::Duration::from_secs(60)).await?;
            let port = env.runtime_addr.port();
            env.stop_traced();
            let wrapper =
                vec!["strace".into(), "-c".into(), "-f".into(), "-o".into(), summary.display().to_string()];
            let mut env = world.start(&crate::spec_with(world, f.name, wrapper, Vec::new())).await?;
            env.ready(std::time::Duration::from_secs(60)).await?;
            env.stop_traced();
            Ok::<u16, String>(port)
        }
        .await;
        match outcome {
            Ok(port) => {
                let text = std::fs::read_to_string(&trace).unwrap_or_default();
                let mut t = timeline(&text, port);
                opened_ca
                    .insert(f.name.to_owned(), t["categories"]["CA roots"]["paths"].as_u64().unwrap_or(0));
                let top: Vec<String> = std::fs::read_to_string(&summary)
                    .unwrap_or_default()
                    .lines()
                    .skip_while(|l| !l.starts_with("------"))
                    .skip(1)
                    .take(8)
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect();
                t["name"] = json!(f.name);
                t["strace_c_top"] = json!(top);
                traces.push(t);
            }
            Err(e) => traces.push(json!({"name": f.name, "summary": format!("not traced: {e}")})),
        }
    }
    let mut ca_rows = Vec::new();
    if let Some(bundle) = one_cert_bundle(&dir) {
        let variants = vec![
            crate::Variant { label: "system CA roots".to_owned(), vars: Vec::new(), bins: None },
            crate::Variant {
                label: "one-certificate CA bundle".to_owned(),
                vars: vec![
                    ("SSL_CERT_FILE".to_owned(), bundle.display().to_string()),
                    ("SSL_CERT_DIR".to_owned(), "/nonexistent".to_owned()),
                ],
                bins: None,
            },
        ];
        crate::cold(world, functions, rounds, rows, &variants).await;
        for f in functions {
            let a = rows.get(&format!("{} [system CA roots]", f.name));
            let b = rows.get(&format!("{} [one-certificate CA bundle]", f.name));
            let (ai, bi) = (a.and_then(|r| median(&r.init_ms)), b.and_then(|r| median(&r.init_ms)));
            ca_rows.push(json!({
                "name": f.name,
                "system_init_ms": ai,
                "one_cert_init_ms": bi,
                "difference_ms": ai.zip(bi).map(|(a, b)| a - b),
                "system_init_cpu_ms": a.and_then(|r| median(&r.init_cpu_ms)),
                "one_cert_init_cpu_ms": b.and_then(|r| median(&r.init_cpu_ms)),
                "system_page_faults": a.and_then(|r| median(&r.faults_init)),
                "one_cert_page_faults": b.and_then(|r| median(&r.faults_init)),
                "ca_files_opened": opened_ca.get(f.name),
            }));
        }
    }
    // The ladder: the floor plus each step of a function's init, in interleaved cold rounds.
    let ladder = Function {
        name: "ladder-floor",
        kind: crate::scenarios::Kind::Floor,
        event: "GET /hello (HTTP API v2)",
    };
    let mut ladder_rows = Vec::new();
    if world.bins.join(ladder.name).exists() {
        let one_cert = one_cert_bundle(&dir).map(|b| b.display().to_string()).unwrap_or_default();
        let rungs: Vec<(&str, &str, bool)> = vec![
            ("nothing (= bare-floor)", "", false),
            ("JSON logs, EnvFilter (as shared/src/logging.rs)", "envfilter", false),
            ("JSON logs, LevelFilter", "levelfilter", false),
            ("EnvFilter + aws-config and 2 SDK clients", "envfilter,sdk", false),
            ("EnvFilter + SDK clients + reqwest client", "envfilter,sdk,reqwest", false),
            ("LevelFilter + SDK clients + reqwest client", "levelfilter,sdk,reqwest", false),
            (
                "EnvFilter + SDK clients + reqwest client, one-certificate CA bundle",
                "envfilter,sdk,reqwest",
                true,
            ),
            (
                "as above, region and credentials from the environment only (no default chains)",
                "envfilter,sdkenv,reqwest",
                true,
            ),
        ];
        let variants: Vec<crate::Variant> = rungs
            .iter()
            .map(|(label, steps, one)| {
                let mut vars = vec![("BENCH_LADDER".to_owned(), steps.to_string())];
                if *one {
                    vars.push(("SSL_CERT_FILE".to_owned(), one_cert.clone()));
                    vars.push(("SSL_CERT_DIR".to_owned(), "/nonexistent".to_owned()));
                }
                crate::Variant { label: label.to_string(), vars, bins: None }
            })
            .collect();
        crate::cold(world, &[&ladder], rounds, rows, &variants).await;
        for (label, steps, _) in &rungs {
            let r = rows.get(&format!("{} [{label}]", ladder.name));
            ladder_rows.push(json!({
                "rung": label,
                "BENCH_LADDER": steps,
                "init_ms": r.and_then(|r| median(&r.init_ms)),
                "init_cpu_ms": r.and_then(|r| median(&r.init_cpu_ms)),
                "page_faults": r.and_then(|r| median(&r.faults_init)),
                "rss_at_init_kb": r.and_then(|r| median(&r.rss_init_kb)),
            }));
        }
    }
    // What one call costs a warm invocation's CPU: the ladder with every client, without calls,
    // with DynamoDB GetItem calls (through the proxy to moto), with GETs to the fakes.
    let mut per_call = Vec::new();
    if world.bins.join(ladder.name).exists() {
        let n = 500;
        let base = vec![("BENCH_LADDER".to_owned(), "envfilter,sdk,reqwest".to_owned())];
        let url = format!("{}/_sandbox/nowhere", world.sandbox_url);
        type Case<'a> = (&'a str, usize, Vec<(String, String)>);
        let cases: Vec<Case> = vec![
            ("no call", 0, vec![]),
            ("7 DynamoDB GetItem (AWS SDK)", 7, vec![("BENCH_LADDER_DYNAMODB".to_owned(), "7".to_owned())]),
            (
                "4 HTTP GETs (reqwest, to the fakes)",
                4,
                vec![
                    ("BENCH_LADDER_HTTP".to_owned(), "4".to_owned()),
                    ("BENCH_LADDER_URL".to_owned(), url.clone()),
                ],
            ),
        ];
        let mut base_cpu = None;
        for (label, calls, extra) in cases {
            let mut row = Row::default();
            let mut vars = base.clone();
            vars.extend(extra);
            let outcome = crate::warm_with(world, &ladder, n, &mut row, vars).await;
            let cpu = row.warm_cpu_sched_ms;
            if calls == 0 {
                base_cpu = cpu;
            }
            per_call.push(json!({
                "case": label,
                "calls": calls,
                "error": outcome.err(),
                "cpu_ms_per_invocation": cpu,
                "wall_p50_ms": median(&row.warm_ms),
                "cpu_ms_per_call": if calls > 0 { cpu.zip(base_cpu).map(|(c, b)| (c - b) / calls as f64) } else { None },
            }));
        }
    }
    json!({
        "per_call_cpu": per_call,
        "ladder": ladder_rows,
        "method": "Each binary was started once under `strace -f -ttt -T` and once under `strace -c -f` (files: the logs directory), \
                   then every binary was started again in interleaved rounds with the system CA roots and with a one-certificate \
                   bundle (SSL_CERT_FILE / SSL_CERT_DIR, which rustls-native-certs reads instead of the system store): \
                   the difference is what loading the system roots costs the start.",
        "strace": traces,
        "ca_trial": ca_rows,
    })
}

fn range(values: &[f64], digits: usize) -> String {
    let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    if values.is_empty() {
        "–".to_owned()
    } else if (hi - lo).abs() < 10f64.powi(-(digits as i32)) {
        format!("{lo:.digits$}")
    } else {
        format!("{lo:.digits$}–{hi:.digits$}")
    }
}

/// The bars missed, each with its measured cause, and the measured effect of the changes this
/// run could try without touching the functions (variants and the ladder).
fn findings(doc: &Value) -> String {
    let mut md = String::new();
    let empty = Vec::new();
    let functions: Vec<&Value> = doc["functions"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter(|f| !f["name"].as_str().unwrap_or_default().ends_with("-floor"))
        .collect();
    if functions.is_empty() {
        return md;
    }
    let floor = doc["functions"].as_array().unwrap_or(&empty).iter().find(|f| f["name"] == FLOOR);
    let all = |path: &str| functions.iter().filter_map(|f| num(f, path)).collect::<Vec<f64>>();
    let missed = |bar: &str| functions.iter().filter(|f| f["bars"][bar].as_str() == Some("missed")).count();
    let variants = doc["variants"].as_array().unwrap_or(&empty);
    let variant = |label: &str| -> Vec<&Value> {
        variants
            .iter()
            .filter(|v| v["name"].as_str().unwrap_or_default().ends_with(&format!("[{label}]")))
            .collect()
    };
    let _ = writeln!(md, "\n## Bars missed, their measured causes, and what closes them\n");

    // Init.
    if missed("init_at_most_1.5x_floor") > 0 {
        let floor_init = floor.and_then(|f| num(f, "/init_ms/p50"));
        let _ = writeln!(
            md,
            "- **Init** is {} ms against the floor's {} ms ({}× the floor; the bar is 1.5×).",
            range(&all("/init_ms/p50"), 2),
            fmt(floor_init, 2),
            range(&all("/ratios_to_floor/init"), 1),
        );
        let init = &doc["init"];
        let ca = init["ca_trial"].as_array().unwrap_or(&empty);
        let ca_floor = ca.iter().find(|r| r["name"] == FLOOR);
        let ca_fns: Vec<&Value> =
            ca.iter().filter(|r| !r["name"].as_str().unwrap_or_default().ends_with("-floor")).collect();
        if !ca_fns.is_empty() {
            let diff: Vec<f64> = ca_fns.iter().filter_map(|r| r["difference_ms"].as_f64()).collect();
            let one: Vec<f64> = ca_fns.iter().filter_map(|r| r["one_cert_init_ms"].as_f64()).collect();
            let floor_sys = ca_floor.and_then(|r| r["system_init_ms"].as_f64());
            let ratio_one: Vec<f64> = one.iter().filter_map(|o| floor_sys.map(|f| o / f)).collect();
            let loads: Vec<String> = init["strace"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .filter(|t| !t["name"].as_str().unwrap_or_default().ends_with("-floor"))
                .map(|t| format!("{} {}", t["name"].as_str().unwrap_or_default(), t["ca_loads"]))
                .collect();
            let _ = writeln!(
                md,
                "  - *The system CA store* (the largest cost before, 3–4.6 ms per start): read at no start now \
                 (strace, CA store loads per start: {}). The roots are compiled in (shared/src/https.rs) and one TLS \
                 set-up serves reqwest and the AWS SDK (shared/src/aws_http.rs). Started with a one-certificate \
                 bundle (`SSL_CERT_FILE`) all the same, the functions' init is {} ms ({} ms apart; {}× the floor's {} ms \
                 in the same rounds): no certificate file is read either way.",
                loads.join(", "),
                range(&one, 2),
                range(&diff, 2),
                range(&ratio_one, 2),
                fmt(floor_sys, 2),
            );
        }
        let ladder = init["ladder"].as_array().unwrap_or(&empty);
        let rung = |i: usize| ladder.get(i).and_then(|r| r["init_ms"].as_f64());
        if ladder.len() >= 8 {
            let _ = writeln!(
                md,
                "  - *The ladder* (same build, same rounds; its clients built eagerly, as the functions did before): the \
                 floor without logging {} ms; JSON logs with `EnvFilter` {} ms, with a `LevelFilter` {} ms (the filter \
                 costs the start nothing measurable); + `aws_config` loaded and the two SDK clients built {} ms; + one \
                 `reqwest::Client` {} ms; all of it with a one-certificate bundle {} ms. Building the SDK's clients is \
                 the largest step left ({} ms with the reqwest client, the region and credentials from the environment): the functions \
                 build them on their first call instead (shared/src/aws_http.rs `LazySdk`), which the first invocation \
                 pays.",
                fmt(rung(0), 2),
                fmt(rung(1), 2),
                fmt(rung(2), 2),
                fmt(rung(3), 2),
                fmt(rung(4), 2),
                fmt(rung(6), 2),
                fmt(rung(7).zip(rung(1)).map(|(a, b)| a - b), 2),
            );
        }
        let faults = all("/page_faults_at_init");
        let floor_faults = floor.and_then(|f| num(f, "/page_faults_at_init"));
        let _ = writeln!(
            md,
            "  - *A larger image to map and relocate.* Page faults at init: {} against the floor's {}; \
             the functions carry {} of dynamic relocations (PIE) that the loader applies at every start, the floor {}.",
            range(&faults, 0),
            fmt(floor_faults, 0),
            range(&functions.iter().filter_map(|f| num(f, "/sections_bytes/relocations (.rela.*)").map(|b| b / 1e3)).collect::<Vec<_>>(), 0) + " kB",
            fmt(floor.and_then(|f| num(f, "/sections_bytes/relocations (.rela.*)")).map(|b| b / 1e3), 0) + " kB",
        );
        for label in ["opt-level=z", "opt-level=z, relocation-model=static"] {
            let v = variant(label);
            if !v.is_empty() {
                let init: Vec<f64> = v
                    .iter()
                    .filter(|r| !r["name"].as_str().unwrap_or_default().contains("-floor"))
                    .filter_map(|r| num(r, "/init_ms/p50"))
                    .collect();
                let faults: Vec<f64> = v
                    .iter()
                    .filter(|r| !r["name"].as_str().unwrap_or_default().contains("-floor"))
                    .filter_map(|r| num(r, "/page_faults_at_init"))
                    .collect();
                let floor_v = v
                    .iter()
                    .find(|r| r["name"].as_str().unwrap_or_default().starts_with(FLOOR))
                    .and_then(|r| num(r, "/init_ms/p50"));
                let _ = writeln!(md, "  - Built with {label} (trial, same rounds): init {} ms (that build's floor {} ms), page faults {}.", range(&init, 2), fmt(floor_v, 2), range(&faults, 0));
            }
        }
    }

    // Size.
    if missed("binary_at_most_6_MB") + missed("zip_at_most_3_MB") > 0 {
        let bin: Vec<f64> = all("/binary_bytes").iter().map(|b| b / MB).collect();
        let zip: Vec<f64> = all("/zip_bytes").iter().map(|b| b / MB).collect();
        let _ = writeln!(
            md,
            "- **Size**: binaries {} MB (bar 6), zipped {} MB (bar 3).",
            range(&bin, 2),
            range(&zip, 2)
        );
        if let Some(f) = functions.iter().find(|f| f["sections_bytes"].is_object()) {
            let parts: Vec<String> = f["sections_bytes"]
                .as_object()
                .map(|o| {
                    o.iter().map(|(k, v)| format!("{k} {:.2} MB", v.as_f64().unwrap_or(0.0) / MB)).collect()
                })
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "  - *What a binary is made of* ({}): {}.",
                f["name"].as_str().unwrap_or_default(),
                parts.join(", ")
            );
        }
        let floors: Vec<&Value> = doc["functions"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|f| f["name"].as_str().unwrap_or_default().ends_with("-floor"))
            .collect();
        if let (Some(h), Some(b)) =
            (floors.iter().find(|f| f["name"] == FLOOR), floors.iter().find(|f| f["name"] == "bare-floor"))
        {
            let _ = writeln!(
                md,
                "  - *Logging machinery*: the floor with `tracing-subscriber` (fmt, `EnvFilter`) is {} MB, without it {} MB.",
                fmt(num(h, "/binary_bytes").map(|b| b / MB), 2),
                fmt(num(b, "/binary_bytes").map(|b| b / MB), 2),
            );
        }
        for label in ["opt-level=z", "opt-level=z, relocation-model=static"] {
            let v: Vec<&Value> = variant(label)
                .into_iter()
                .filter(|r| {
                    !r["name"].as_str().unwrap_or_default().contains("-floor")
                        && r["binary_bytes"].is_number()
                })
                .collect();
            if !v.is_empty() {
                let bin: Vec<f64> =
                    v.iter().filter_map(|r| num(r, "/binary_bytes")).map(|b| b / MB).collect();
                let zip: Vec<f64> = v.iter().filter_map(|r| num(r, "/zip_bytes")).map(|b| b / MB).collect();
                let first: Vec<f64> = v.iter().filter_map(|r| num(r, "/first_invocation_ms/p50")).collect();
                let _ = writeln!(
                    md,
                    "  - *Built with {label}* (a trial in a target dir of its own): binaries {} MB, zipped {} MB; first invocation {} ms.",
                    range(&bin, 2),
                    range(&zip, 2),
                    range(&first, 1),
                );
            }
        }
    }

    // DynamoDB.
    if missed("at_most_2_dynamodb_round_trips_beyond_work_item") > 0 {
        let _ = writeln!(md, "- **DynamoDB round trips beyond the work item** (the `EVENT#…` item's claim and finish), per warm invocation:");
        for f in &functions {
            if f["bars"]["at_most_2_dynamodb_round_trips_beyond_work_item"].as_str() != Some("missed") {
                continue;
            }
            let aws = &f["aws_calls"]["warm"];
            let n = aws["invocations"].as_f64().unwrap_or(1.0).max(1.0);
            let beyond: Vec<String> = aws["by_operation_and_key"]
                .as_object()
                .map(|o| {
                    o.iter()
                        // The work item's round trips, and what its transactions carry along.
                        .filter(|(k, _)| !k.contains(" EVENT#") && !k.starts_with("TransactWriteItems "))
                        .map(|(k, v)| format!("{k} ×{:.0}", v.as_f64().unwrap_or(0.0) / n))
                        .collect()
                })
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "  - {}: {} beyond the work item — {}.",
                f["name"].as_str().unwrap_or_default(),
                fmt(aws["dynamodb_beyond_work_item_per_invocation"].as_f64(), 0),
                beyond.join(", "),
            );
        }
    }
    // CPU.
    let cpu: Vec<f64> = all("/warm/cpu_ms_per_invocation_schedstat");
    if !cpu.is_empty() {
        let per_call = &doc["init"]["per_call_cpu"];
        let _ = writeln!(
            md,
            "- **Warm CPU**: {} ms per warm invocation including its calls; one DynamoDB call through the AWS SDK costs \
             {} ms of CPU, one reqwest call {} ms (the ladder); less those and the floor's, the functions' own work is: \
             {} (derived; a value at or below zero means the own work is within the estimate's noise).",
            range(&cpu, 2),
            fmt(per_call.pointer("/1/cpu_ms_per_call").and_then(Value::as_f64), 3),
            fmt(per_call.pointer("/2/cpu_ms_per_call").and_then(Value::as_f64), 3),
            functions
                .iter()
                .filter_map(|f| num(f, "/warm/cpu_ms_beyond_calls_estimate")
                    .map(|o| format!("{} {}", f["name"].as_str().unwrap_or_default(), own_cpu(o))))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    md
}

/// An estimate of CPU beyond the calls: at or below zero it is indistinguishable from zero.
fn own_cpu(ms: f64) -> String {
    if ms <= 0.0 {
        format!("≈0 ms ({ms:.2})")
    } else {
        format!("{ms:.2} ms")
    }
}
