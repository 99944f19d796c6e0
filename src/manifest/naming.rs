//! The names a service's cloud resources get from its manifest, as the Serverless Framework
//! gives them, where more than one part of updraft needs the same name: the AWS deploy names a
//! `schedule` event's EventBridge rule so, and `updraft offline` puts the same rule in the
//! scheduled events it delivers. Names are cut to the cloud's limit with a hash, so two long
//! names never collide.

use sha2::{Digest, Sha256};

/// EventBridge's limit on rule names.
pub const RULE_NAME_LIMIT: usize = 64;

/// The EventBridge rule of a function's `number`th `schedule` event (from 1, as the Framework
/// numbers them).
pub fn rule_name(service: &str, stage: &str, function_key: &str, number: usize) -> String {
    fit(
        format!("{service}-{stage}-{function_key}-schedule-{number}"),
        RULE_NAME_LIMIT,
    )
}

/// Cuts a name to `limit` characters, replacing the end with 8 hex digits of its hash when it
/// is too long.
pub fn fit(name: String, limit: usize) -> String {
    if name.len() <= limit {
        return name;
    }
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    let mut cut = limit - 9;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &name[..cut], &digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_rule_name_fits_eventbridge_and_stays_unique() {
        let long = "s".repeat(70);
        let a = rule_name(&long, "dev", "report", 1);
        let b = rule_name(&long, "dev", "report", 2);
        assert!(a.len() <= RULE_NAME_LIMIT && b.len() <= RULE_NAME_LIMIT);
        assert_ne!(a, b);
        assert_eq!(
            rule_name("svc", "dev", "report", 1),
            "svc-dev-report-schedule-1"
        );
    }
}
