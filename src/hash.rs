//! Content hashes. One hash says which version of a published file this is: the
//! engine's xxh3-128 of the bytes it rendered, which decides whether a file changed,
//! makes its ETag and is what the manifest records, so nothing hashes a file twice.
//! Long folder names keep a SHA-256 suffix (`hex64`): those are URLs, stable forever.

use sha2::{Digest, Sha256};

/// First 64 bits of SHA-256 as 16 lowercase hex digits (long-name suffixes).
pub fn hex64(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash of a file's bytes, as the engine takes it.
pub fn of(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// How a file's hash is written in ETags and the manifest: 32 lowercase hex digits.
pub fn tag(hash: u128) -> String {
    format!("{hash:032x}")
}
