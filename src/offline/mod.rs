//! The local emulator behind `updraft offline` and `updraft invoke local`: HTTP, schedule, queue
//! and storage triggers running real function code through the Lambda Runtime API.
//!
//! [`invoke`] is the contract between the front ends and the execution engine. The front ends:
//! [`http`] (API Gateway), [`websocket`] (API Gateway WebSocket APIs), [`invoke_api`] (the
//! Lambda Invoke API), [`schedule`], [`emit`] and [`pollers`] (queues and streams on an AWS
//! endpoint); [`events`] builds what they send; [`server`] runs them together over
//! [`connection`]; [`reload`] restarts functions whose code changed.

pub mod alb;
pub mod connection;
pub mod emit;
pub mod engine;
pub mod events;
pub mod http;
pub mod ids;
pub mod invoke;
pub mod invoke_api;
pub mod pollers;
pub mod reload;
pub mod schedule;
pub mod server;
pub mod settings;
pub mod websocket;
