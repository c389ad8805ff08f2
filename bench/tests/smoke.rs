//! The harness in smoke mode against a real server process: every scenario runs
//! with tiny counts, so a change that breaks the bench fails here. Correctness
//! only: no figure is compared with a target.

use std::process::Command;

#[test]
fn every_scenario_runs_in_smoke_mode_and_loses_no_acknowledged_write() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_herald-bench"))
        .args(["--smoke", "--server-bin", "self", "--results-dir"])
        .arg(out.path())
        .output()
        .expect("herald-bench runs");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "herald-bench failed:\n{log}");

    let json = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a JSON result file");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();

    let idle = &results["idle"];
    assert_eq!(idle["connected"], idle["attempted"], "{log}");
    assert_eq!(idle["dropped"], 0, "{log}");

    let herald = &results["targets"][0];
    assert_eq!(herald["target"], "herald");
    assert_eq!(herald["errors"].as_array().unwrap().len(), 0, "{log}");
    for phase in ["broadcast_latency", "broadcast_throughput"] {
        let b = &herald[phase];
        assert!(b["deliveries"].as_u64().unwrap() > 0, "{phase}: {log}");
        assert_eq!(b["deliveries"], b["expected_deliveries"], "{phase}: {log}");
    }
    let personal = &herald["personal"];
    assert_eq!(personal["received"], personal["accepted"], "{log}");
    assert!(!herald["steps"].as_array().unwrap().is_empty());

    let chat = &results["chat"]["run"];
    assert!(chat["accepted"].as_u64().unwrap() > 0, "{log}");
    assert_eq!(
        chat["received"], chat["expected"],
        "every member got every message: {log}"
    );
    assert!(results["durable"]["http"]["accepted"].as_u64().unwrap() > 0);
    assert!(results["durable"]["store"]["accepted"].as_u64().unwrap() > 0);
    for run in ["single", "batched"] {
        let accepted = results["postgres"][run]["accepted"].as_u64();
        assert!(accepted.is_some_and(|n| n > 0), "T11 {run}: {log}");
    }
    assert_eq!(
        results["crash"]["lost"], 0,
        "acknowledged writes lost: {log}"
    );

    let floods = results["login"].as_array().expect("T16 ran");
    assert_eq!(floods.len(), 2, "{log}");
    for flood in floods {
        assert!(flood["attempts"].as_u64().unwrap() > 0, "{log}");
        assert_eq!(flood["killed_at_guard"], false, "{log}");
        assert!(flood["healthy"]["count"].as_u64().unwrap() > 0, "{log}");
        assert_eq!(flood["healthy_failed"], 0, "{log}");
    }

    let table = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .expect("a markdown table");
    for id in ["| T1 |", "| T6 |", "| T8 | chat", "| T12 |", "| T16 |"] {
        assert!(table.contains(id), "{id} missing from:\n{table}");
    }
}
