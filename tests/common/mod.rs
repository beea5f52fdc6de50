//! Test support shared by the integration tests and the report examples.
#![allow(dead_code)]

pub mod accuracy;
pub mod digest;
pub mod reference;
pub mod softmax_accuracy;
pub mod softmax_reference;
pub mod ulp;
pub mod vector_files;
pub mod vectors;
