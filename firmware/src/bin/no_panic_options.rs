//! The no-panic proof of the sigmoid form's options, Poly-1, reduced and normalised (see
//! `focal_loss_firmware::no_panic`).

#![no_std]
#![no_main]

focal_loss_firmware::no_panic_program!(testkit::every_entry_point::sigmoid_options_all);
