//! Google Cloud backend: Cloud Functions 2nd gen, Cloud Scheduler jobs for `schedule` events,
//! and the Cloud Run IAM binding that makes an HTTP function public.
//!
//! The pure parts: the typed function each manifest function becomes ([`function`]), with
//! Google's limits checked at plan time; the mapping of the Google plugin's 1st-gen event types
//! to Eventarc ([`eventarc`]); the desired state the planner compares ([`desired`]); the request
//! bodies and update masks ([`request`]), checked in tests against Google's published API
//! descriptions ([`discovery`]); and the reading of a function the API returns ([`live`]).
//!
//! The calls, through Google's official client libraries ([`clients`]): the live state
//! ([`read`]), one step of a plan ([`apply`]), the deploy lock in Cloud Storage
//! ([`deploy_lock`]), calling a deployed function ([`invoke`]) and reading its log ([`logs`]), all behind the [`backend::GcpBackend`]; failures say what to enable or
//! grant ([`call`]).

pub mod apply;
pub mod backend;
pub mod call;
pub mod clients;
pub mod deploy_lock;
pub mod desired;
pub mod discovery;
pub mod eventarc;
pub mod function;
pub mod invoke;
pub mod live;
pub mod logs;
pub mod read;
pub mod request;

pub use backend::{connect, GcpBackend};
