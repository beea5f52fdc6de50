//! Flash footprint: `loss_and_grad` of the sigmoid form, `Kernel::Libm` (see `focal_loss_firmware::footprint`).

#![no_std]
#![no_main]

focal_loss_firmware::footprint_program!(sigmoid::<false>(Libm));
