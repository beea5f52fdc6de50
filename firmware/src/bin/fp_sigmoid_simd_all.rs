//! Flash footprint: every entry point of the sigmoid form, `Kernel::Simd` (see `focal_loss_firmware::footprint`).

#![no_std]
#![no_main]

focal_loss_firmware::footprint_program!(sigmoid::<true>(Simd));
