//! Google Cloud backend: Cloud Functions 2nd gen. What is built so far is the pure part: the
//! typed function each manifest function becomes ([`function`]), with Google's limits checked at
//! plan time, and the mapping of the Google plugin's 1st-gen event types to Eventarc
//! ([`eventarc`]), the desired state the planner compares ([`desired`]), and the check of
//! request bodies against Google's published API descriptions ([`discovery`]), and the
//! bodies and update masks of Cloud Functions requests ([`request`]), and the reading of a
//! function the API returns ([`live`]). The calls to
//! Google's APIs are not built yet.

pub mod desired;
pub mod discovery;
pub mod eventarc;
pub mod function;
pub mod live;
pub mod request;
