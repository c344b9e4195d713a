//! The content directory as data: the drivers' edge that lists posts (`scan`) and reads
//! them into `Change`s (`read`) for the engine. The rule for which files are posts is
//! `post::path::classify`; these functions only walk and read.

pub mod pages;
mod read;
mod scan;

pub use read::{read, read_all};
pub use scan::{relative, scan, scan_under, Found};
