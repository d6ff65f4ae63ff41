//! What baton's addon keeps beside the baton-napi crate: the registry of live
//! resources and tasks behind `resources()`.

pub mod registry;
