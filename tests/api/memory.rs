//! Resident memory after a reset (issue 17): the old store's pages go back to the system,
//! not only to the allocator. The binary is measured (its allocator is mimalloc; this test
//! binary's is not), through `/proc`, so the test runs on Linux only.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ACCOUNT, spawn_binary};

/// Messages imported: enough that their memory (about 100 MiB in a debug build) dwarfs
/// the process's own.
const MESSAGES: usize = 300_000;

/// A failure guard only. The memory goes back on the workers' idle time after the reset
/// has answered (the old store is freed on a thread of its own, then each worker has the
/// allocator collect as it parks): there is no answer to wait for, so the test watches
/// `/proc` until the memory is back, which happens within milliseconds when it works. It
/// reads without sending requests: a worker that answers allocates, and allocating in the
/// old store's pages sweeps them too, so with requests in between the test passed even
/// with the collection removed.
const GUARD: Duration = Duration::from_secs(60);

/// `VmRSS` of process `pid`, in bytes.
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmRSS in kB");
    kib * 1024
}

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn a_reset_gives_the_old_stores_memory_back_to_the_system() {
    let app = spawn_binary();
    let pid = app.pid();
    let warm = app.control(Method::POST, "/_emulator/reset", None).await;
    assert_eq!(warm.status(), StatusCode::NO_CONTENT, "a first reset");
    let floor = resident_bytes(pid);

    let messages: Vec<Value> =
        (0..MESSAGES).map(|n| json!({"author": "memory", "body": format!("message {n}")})).collect();
    let document = json!({"accounts": [{"account_sid": ACCOUNT, "conversations": [{"messages": messages}]}]});
    let imported = app.control(Method::POST, "/_emulator/state", Some(&document)).await;
    assert!(imported.status().is_success(), "{}", imported.text().await.unwrap_or_default());
    drop(document);
    let filled = resident_bytes(pid);
    let grown = filled.saturating_sub(floor);
    assert!(grown >= 50 * MIB, "the import should take memory enough to tell: {} MiB", grown / MIB);
    let reset = app.control(Method::POST, "/_emulator/reset", None).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT, "the reset");

    // At least 80 % of what the import took goes back. Without the collection on the
    // workers, none did: the pages stayed with the threads that had allocated them.
    let bound = floor + grown / 5;
    let started = Instant::now();
    let mut resident = resident_bytes(pid);
    while resident > bound && started.elapsed() < GUARD {
        tokio::time::sleep(Duration::from_millis(10)).await;
        resident = resident_bytes(pid);
    }
    assert!(
        resident <= bound,
        "resident memory {} MiB after the reset, {} MiB before the import, {} MiB after it",
        resident / MIB,
        floor / MIB,
        filled / MIB
    );
}
