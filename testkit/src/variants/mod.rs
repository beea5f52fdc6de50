//! The variants of the focal family (`FocalStar`, `QualityFocal`, `Varifocal`, `Asymmetric`):
//! their independent `f64` references and the accuracy grid measured against them.

pub mod accuracy;
pub mod options;
pub mod reference;
