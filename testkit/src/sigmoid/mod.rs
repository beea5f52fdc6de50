//! The sigmoid form: its independent `f64` reference and the accuracy grid measured against
//! it. (The bound its reference vectors are held to is [`crate::vectors::SIGMOID_BOUND`].)

pub mod accuracy;
pub mod reference;
