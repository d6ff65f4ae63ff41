//! The pieces every capability shares. See docs/ARCHITECTURE.md for the data flow.

pub mod channel;
pub mod error;
pub mod panic;
pub mod registry;
pub mod scope;
