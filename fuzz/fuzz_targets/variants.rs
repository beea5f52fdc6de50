//! libFuzzer target: [`focal_loss_fuzz::variants::check`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| focal_loss_fuzz::variants::check(data));
