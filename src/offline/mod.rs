//! The local emulator behind `updraft offline` and `updraft invoke local`: HTTP, schedule, queue
//! and storage triggers running real function code through the Lambda Runtime API.
//!
//! [`invoke`] is the contract between the front ends and the execution engine.

pub mod engine;
pub mod invoke;
