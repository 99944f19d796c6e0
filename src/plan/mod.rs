//! The planner: desired state against live state gives a plan of create / update / replace /
//! delete / no-op. Pure and synchronous: no IO, no async, no SDK types. (Not built yet.)
