//! Replays inputs through a target's checks without libFuzzer:
//! `cargo run --release --example replay -- <target> <file>...` (a failure panics with the
//! case's details).

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().expect("usage: replay <target> <file>...");
    let (_, check) = focal_loss_fuzz::TARGETS
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no target {name}"));
    for file in args {
        check(&std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}")));
        println!("{file}: passed");
    }
}
