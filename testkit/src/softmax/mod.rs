//! The softmax form: its independent `f64` reference and the accuracy grid measured against
//! it. (The bound its reference vectors are held to is [`crate::vectors::softmax_bound`].)

pub mod accuracy;
pub mod finite_difference;
pub mod reference;
