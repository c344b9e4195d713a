//! Content hashes for stable, collision-resistant tags (ETags, long-name suffixes).

use sha2::{Digest, Sha256};

/// First 64 bits of SHA-256 as 16 lowercase hex digits.
pub fn hex64(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
