//! Runs the `plenary-loadtest` binary against the real embedded gateway, started in
//! this process, or against its own limit baseline (`plenary-loadtest baseline`, a child
//! process), and checks the JSON reports.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;

const SECRET: &str = "loadtest-secret-0123456789abcdef";

/// Starts the real embedded gateway in this process, with a low per-user rate so the
/// publisher meets RATE_LIMITED and must retry.
async fn start_gateway() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = plenary_gateway::Config::parse_from([
        "plenary",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--sync-mode",
        "normal",
    ]);
    config.user_rate = 20;
    config.user_burst = 5;
    let settings = config.validate_with(Some(SECRET.into()), None).unwrap();
    let (ws, admin, bound) = plenary_gateway::bind(&settings).await.unwrap();
    tokio::spawn(plenary_gateway::run(
        settings,
        ws,
        admin,
        tokio_util::sync::CancellationToken::new(),
    ));
    (format!("ws://{}/ws", bound.ws), dir)
}

/// A report path unique to this test run.
fn out_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "plenary-loadtest-{}-{name}.json",
        std::process::id()
    ))
}

async fn run_binary(args: &[&str]) -> std::process::Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_plenary-loadtest"))
        .args(args)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the load test stops by itself")
        .unwrap()
}

/// A fanout report in which every attendee got every message once, nobody was closed
/// and the drain finished.
fn assert_every_delivery(report: &serde_json::Value, clients: u64, messages: u64) {
    assert_eq!(report["clients"], clients, "{report:#}");
    assert_eq!(report["messages_sent"], messages, "{report:#}");
    for field in ["expected_deliveries", "deliveries", "distinct_deliveries"] {
        assert_eq!(report[field], clients * messages, "{field}: {report:#}");
    }
    for field in ["lost", "duplicates", "errors", "disconnected"] {
        assert_eq!(report[field], 0, "{field}: {report:#}");
    }
    assert_eq!(report["drained"], true, "{report:#}");
}

fn read_report(path: &PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let _ = std::fs::remove_file(path);
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_delivers_everything_to_everyone() {
    let (url, _dir) = start_gateway().await;
    for format in ["json", "proto"] {
        let out = out_file(&format!("fanout-{format}"));
        let output = run_binary(&[
            "fanout",
            "--url",
            &url,
            "--url",
            &url,
            "--jwt-secret",
            SECRET,
            "--clients",
            "40",
            "--rate",
            "0",
            "--messages",
            "30",
            "--size",
            "300",
            "--source-ips",
            "4",
            "--format",
            format,
            "--json",
            out.to_str().unwrap(),
            "--drain-timeout",
            "10",
        ])
        .await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        println!("{stdout}");
        assert!(stdout.contains("latency p50"), "{stdout}");
        let report = read_report(&out);
        assert_every_delivery(&report, 40, 30);
        assert!(
            report["server_cpu_s_per_million"].is_null(),
            "no --server-pid"
        );
        assert_eq!(report["format"], format);
        assert!(report["rate_limited"].as_u64().unwrap() > 0, "{report:#}");
        assert!(report["p99_ms"].as_f64().unwrap() > 0.0, "{report:#}");
        assert!(
            report["deliveries_per_sec"].as_f64().unwrap() > 0.0,
            "{report:#}"
        );
        assert_eq!(report["size"], 300);
        assert!(report["started_at"].as_str().unwrap().ends_with('Z'));
    }
}

/// `plenary-loadtest baseline` on 127.0.0.1:0, as a child process; stops when its
/// stdin (held in the guard) closes, or is killed when the guard drops.
struct Baseline {
    child: tokio::process::Child,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    url: String,
}

impl Baseline {
    async fn start() -> Baseline {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_plenary-loadtest"))
            .args([
                "baseline",
                "--listen",
                "127.0.0.1:0",
                "--duration-secs",
                "120",
            ])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the baseline says where it listens")
            .unwrap()
            .unwrap();
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Baseline { child, stdout, url }
    }

    fn pid(&self) -> String {
        self.child.id().unwrap().to_string()
    }

    /// Closes its stdin; it stops and prints its summary line.
    async fn stop(mut self) -> serde_json::Value {
        drop(self.child.stdin.take());
        let line = tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line())
            .await
            .expect("the baseline stops when stdin closes")
            .unwrap()
            .unwrap();
        let status = self.child.wait().await.unwrap();
        assert!(status.success(), "{status}");
        serde_json::from_str(&line).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_raw_delivers_everything_through_the_baseline() {
    let baseline = Baseline::start().await;
    let pid = baseline.pid();
    for format in ["json", "proto"] {
        let out = out_file(&format!("fanout-raw-{format}"));
        let output = run_binary(&[
            "fanout",
            "--raw",
            "--url",
            &baseline.url,
            "--jwt-secret",
            "unchecked",
            "--clients",
            "20",
            "--rate",
            "0",
            "--messages",
            "5",
            "--size",
            "100",
            "--source-ips",
            "2",
            "--format",
            format,
            "--server-pid",
            &pid,
            "--json",
            out.to_str().unwrap(),
        ])
        .await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("per million deliveries"), "{stdout}");
        let report = read_report(&out);
        assert_eq!(report["publisher_node"], "plenary-loadtest-baseline");
        assert_every_delivery(&report, 20, 5);
        assert_eq!(report["format"], format);
        assert!(report["p99_ms"].as_f64().unwrap() > 0.0, "{report:#}");
        // Present (CPU ticks are 10 ms: a run this short may show 0).
        assert!(
            report["server_cpu_seconds"].as_f64().unwrap() >= 0.0,
            "{report:#}"
        );
        assert!(
            report["server_cpu_s_per_million"].as_f64().unwrap() >= 0.0,
            "{report:#}"
        );
    }
    let summary = baseline.stop().await;
    assert_eq!(summary["reason"], "stdin closed", "{summary:#}");
    // Two runs of 21 members each; every message to the 20 others.
    assert_eq!(summary["joined"], 42, "{summary:#}");
    assert_eq!(summary["messages"], 10, "{summary:#}");
    assert_eq!(summary["deliveries"], 200, "{summary:#}");
    assert_eq!(summary["dropped_slow"], 0, "{summary:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_refuses_a_mislabelled_server() {
    let (gateway, _dir) = start_gateway().await;
    let baseline = Baseline::start().await;
    for (url, raw, expected) in [
        (&gateway, true, "is not `plenary-loadtest baseline`"),
        (&baseline.url, false, "pass --raw"),
    ] {
        let out = out_file(&format!("fanout-mislabelled-{raw}"));
        let mut args = vec![
            "fanout",
            "--url",
            url,
            "--jwt-secret",
            SECRET,
            "--clients",
            "2",
            "--rate",
            "0",
            "--messages",
            "1",
            "--size",
            "10",
            "--json",
            out.to_str().unwrap(),
        ];
        if raw {
            args.push("--raw");
        }
        let output = run_binary(&args).await;
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!out.exists());
    }
    baseline.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_measures_this_process() {
    let (url, _dir) = start_gateway().await;
    let out = out_file("idle");
    let pid = std::process::id().to_string();
    let output = run_binary(&[
        "idle",
        "--url",
        &url,
        "--jwt-secret",
        SECRET,
        "--clients",
        "25",
        "--server-pid",
        &pid,
        "--hold",
        "0",
        "--json",
        out.to_str().unwrap(),
        "--source-ips",
        "2",
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_report(&out);
    assert_eq!(report["clients"], 25, "{report:#}");
    assert_eq!(report["connected"], 25, "{report:#}");
    assert!(report["rss_before_bytes"].as_u64().unwrap() > 0);
    assert!(report["rss_after_bytes"].as_u64().unwrap() > 0);
    assert!(report["rss_per_connection_bytes"].is_i64());
    assert_eq!(report["errors"], 0);
}

#[tokio::test]
async fn nobody_connecting_is_a_failure() {
    // Nothing listens on this port.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    drop(listener);
    let out = out_file("refused");
    let output = run_binary(&[
        "idle",
        "--url",
        &url,
        "--jwt-secret",
        SECRET,
        "--clients",
        "3",
        "--server-pid",
        &std::process::id().to_string(),
        "--json",
        out.to_str().unwrap(),
    ])
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("none of the 3 attendees connected"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qa_clears_every_question_with_exclusive_claims() {
    let (url, _dir) = start_gateway().await;
    let out = out_file("qa");
    let output = run_binary(&[
        "qa",
        "--url",
        &url,
        "--jwt-secret",
        SECRET,
        "--attendees",
        "30",
        "--moderators",
        "3",
        "--ask-window",
        "1",
        "--drain-timeout",
        "20",
        "--source-ips",
        "2",
        "--json",
        out.to_str().unwrap(),
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_report(&out);
    assert_eq!(report["questions"], 30, "{report:#}");
    assert_eq!(report["done"], 30, "{report:#}");
    assert_eq!(report["lost"], 0, "{report:#}");
    assert_eq!(report["double_owned"], 0, "{report:#}");
    assert_eq!(report["drained"], true, "{report:#}");
    assert!(report["claim_p99_ms"].as_f64().unwrap() > 0.0, "{report:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_counts_every_acknowledged_vote_once_and_everyone_converges() {
    let (url, _dir) = start_gateway().await;
    let out = out_file("vote");
    let output = run_binary(&[
        "vote",
        "--url",
        &url,
        "--jwt-secret",
        SECRET,
        "--attendees",
        "40",
        "--vote-window",
        "1",
        "--converge-timeout",
        "20",
        "--source-ips",
        "2",
        "--json",
        out.to_str().unwrap(),
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_report(&out);
    assert_eq!(report["votes"], 40, "{report:#}");
    assert_eq!(report["acknowledged"], 40, "{report:#}");
    assert_eq!(report["counted"], 40, "{report:#}");
    assert_eq!(report["lost"], 0, "{report:#}");
    assert_eq!(
        report["counted_per_option"],
        serde_json::json!([10, 10, 10, 10]),
        "{report:#}"
    );
    assert_eq!(report["converged_clients"], 40, "{report:#}");
    assert!(report["ack_p99_ms"].as_f64().unwrap() > 0.0, "{report:#}");
    assert!(
        report["max_tally_pushes_per_sec"].as_u64().unwrap() >= 1,
        "{report:#}"
    );
}

#[tokio::test]
async fn react_every_client_sees_exactly_the_reactions_acknowledged() {
    let (url, _dir) = start_gateway().await;
    let out = out_file("react");
    // This test process is the server: its CPU time is what gets read.
    let pid = std::process::id().to_string();
    let output = run_binary(&[
        "react",
        "--url",
        &url,
        "--jwt-secret",
        SECRET,
        "--attendees",
        "30",
        "--rate",
        "4",
        "--duration",
        "2",
        "--server-pid",
        &pid,
        "--source-ips",
        "2",
        "--json",
        out.to_str().unwrap(),
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = read_report(&out);
    // 30 attendees × 4/s × 2 s, and the moderator's 2 crowd reactions.
    assert_eq!(report["sent"], 242, "{report:#}");
    assert_eq!(report["acknowledged"], 242, "{report:#}");
    assert_eq!(report["counted_min"], 242, "{report:#}");
    assert_eq!(report["counted_max"], 242, "{report:#}");
    assert_eq!(report["exact_clients"], 31, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    let per_sec = report["max_pushes_per_sec"].as_u64().unwrap();
    assert!((1..=5).contains(&per_sec), "{report:#}");
    assert!(
        report["server_cpu_react_secs"].as_f64().unwrap() > 0.0,
        "{report:#}"
    );
}
