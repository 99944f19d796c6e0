//! Random ids for the emulator's hot path: request ids (UUID v4) and X-Ray trace ids.
//!
//! `uuid::Uuid::new_v4` asks the kernel for randomness on every call, and one HTTP request
//! needs four ids. These come from a per-thread xorshift generator seeded once from the
//! kernel: ids only have to be unique, not unguessable.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    let mut seed = [0u8; 8];
    seed.copy_from_slice(bytes.get(..8).unwrap_or(&[1; 8]));
    // xorshift must not start at zero.
    u64::from_le_bytes(seed) | 1
}

/// The next 64 random bits of this thread's generator (xorshift64*).
fn next() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    bytes
}

/// A random UUID v4, as Lambda's request ids are.
pub fn request_id() -> String {
    uuid::Builder::from_random_bytes(random_bytes())
        .into_uuid()
        .to_string()
}

/// An X-Ray trace header of the shape Lambda sends (not sampled: nothing collects it here).
pub fn trace_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let root = u128::from_le_bytes(random_bytes()) >> 32;
    format!(
        "Root=1-{seconds:08x}-{root:024x};Parent={:016x};Sampled=0",
        next()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let first = request_id();
        let second = request_id();
        assert_ne!(first, second);
        let parsed = uuid::Uuid::parse_str(&first).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4);
    }

    #[test]
    fn trace_ids_have_lambdas_shape() {
        let trace = trace_id();
        let parts: Vec<&str> = trace.split(';').collect();
        assert_eq!(parts.len(), 3, "{trace}");
        let root = parts[0].strip_prefix("Root=1-").expect("root");
        let (seconds, random) = root.split_once('-').expect("two parts");
        assert_eq!(seconds.len(), 8);
        assert_eq!(random.len(), 24);
        assert_eq!(parts[1].len(), "Parent=".len() + 16);
        assert_eq!(parts[2], "Sampled=0");
    }
}
