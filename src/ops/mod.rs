//! The tensor API, by op family.

pub mod creation;
pub mod elementwise;
pub mod linalg;
pub mod movement;
pub mod reduce;
