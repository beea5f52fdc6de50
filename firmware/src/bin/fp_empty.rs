//! Flash footprint: the harness alone, no kernel (see `focal_loss_firmware::footprint`).

#![no_std]
#![no_main]

focal_loss_firmware::footprint_program!(Ok(()));
