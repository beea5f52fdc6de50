//! Replays the committed seed corpus (`corpus/<target>/`) through every target's checks:
//! the smoke stage of `cargo xtask test`, on stable Rust without libFuzzer.

use std::path::Path;

/// The replay's thread stack: the test profile is unoptimised (`Cargo.toml`), and there the
/// sixteen-lane passes' frames outgrow the test harness's 2 MiB.
const STACK: usize = 64 << 20;

#[test]
fn every_corpus_input_passes_its_checks() {
    let replay = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(replay_every_target)
        .expect("a replay thread");
    // A failed check panics in the thread; its message is already printed.
    assert!(replay.join().is_ok(), "a corpus input failed its checks");
}

fn replay_every_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, check) in focal_loss_fuzz::TARGETS {
        let dir = root.join(name);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            check(&std::fs::read(&path).unwrap());
            inputs += 1;
        }
        assert!(inputs > 0, "{}: empty seed corpus", dir.display());
        println!("{name}: {inputs} inputs");
    }
}
