//! Flash footprint: `loss_and_grad` of the sigmoid form, `Kernel::Simd` (see `focal_loss_firmware::footprint`).

#![no_std]
#![no_main]

focal_loss_firmware::footprint_program!(sigmoid::<false>(Simd));
