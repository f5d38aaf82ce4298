//! How many heap bytes a Snapshot keeps per pod: the memory postcheck holds for a cluster
//! once its pages are gone. A benchmark, not a test (numbers are reported, never asserted).
//!
//! Reads Snapshots written by `postcheck baseline -o FILE` (JSON), each after the last,
//! through a counting allocator: the bytes live after decoding one, minus those live
//! before, are what the Snapshot holds. Also the pods alone (`Vec<Pod>` cloned out of it).
//!
//!   cargo run --release -p postcheck-engine --example snapshot_bytes -- small.json medium.json

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        return Err("usage: snapshot_bytes SNAPSHOT.json...".into());
    }
    println!("file\tpods\tnodes\tsnapshot_bytes\tpods_bytes\tbytes_per_pod");
    for file in files {
        let text = std::fs::read(&file)?;
        let before = live();
        let snapshot: postcheck_engine::Snapshot =
            postcheck_engine::decode_interned(|| serde_json::from_slice(&text))?;
        let whole = live() - before;
        drop(text);
        let pods = snapshot.pod_list().len();
        let before = live();
        let cloned: Vec<postcheck_engine::Pod> = snapshot.pod_list().to_vec();
        let pods_bytes = live() - before;
        println!(
            "{file}\t{pods}\t{}\t{whole}\t{pods_bytes}\t{}",
            snapshot.node_list().len(),
            pods_bytes.checked_div(pods).unwrap_or(0)
        );
        drop(cloned);
    }
    Ok(())
}
