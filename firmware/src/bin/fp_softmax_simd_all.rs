//! Flash footprint: every entry point of the softmax form, `Kernel::Simd` (see `focal_loss_firmware::footprint`).

#![no_std]
#![no_main]

focal_loss_firmware::footprint_program!(softmax::<true>(Simd));
