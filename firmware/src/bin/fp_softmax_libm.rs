//! Flash footprint: `loss_and_grad` of the softmax form, `Kernel::Libm` (see `focal_loss_firmware::footprint`).

#![no_std]
#![no_main]

focal_loss_firmware::footprint_program!(focal_loss_firmware::footprint::softmax::<false>(
    focal_loss::Kernel::Libm
));
