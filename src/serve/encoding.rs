//! Choosing a content coding from `Accept-Encoding` (RFC 9110 §12.5.3), q-values included.

use crate::snapshot::Encoding;

/// Our preference when the client likes several equally: smallest first.
const PREFERENCE: [Encoding; 3] = [Encoding::Brotli, Encoding::Zstd, Encoding::Gzip];

/// The coding to send: the client's highest-q one we support, identity when none.
pub fn negotiate(accept_encoding: Option<&str>) -> Encoding {
    let Some(header) = accept_encoding else {
        return Encoding::Identity;
    };
    let q_of = |coding: &str| -> Option<f32> {
        let mut star = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .or_else(|| p.trim().strip_prefix("Q="))
                })
                .filter_map(|v| v.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            if name == coding || (coding == "gzip" && name == "x-gzip") {
                return Some(q);
            }
            if name == "*" {
                star = Some(q);
            }
        }
        star
    };
    let mut best = Encoding::Identity;
    let mut best_q = 0.0;
    for encoding in PREFERENCE {
        if let Some(q) = q_of(encoding.token()) {
            if q > best_q {
                best = encoding;
                best_q = q;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_table() {
        let rows = [
            (None, Encoding::Identity),
            (Some(""), Encoding::Identity),
            (Some("gzip"), Encoding::Gzip),
            (Some("gzip, deflate, br"), Encoding::Brotli),
            (Some("gzip;q=1.0, br;q=0.5"), Encoding::Gzip),
            (Some("br;q=0, gzip"), Encoding::Gzip),
            (Some("zstd, gzip;q=0.8"), Encoding::Zstd),
            (Some("identity"), Encoding::Identity),
            (Some("*"), Encoding::Brotli),
            (Some("*;q=0"), Encoding::Identity),
            (Some("GZIP"), Encoding::Gzip),
            (Some("x-gzip"), Encoding::Gzip),
            (Some("deflate"), Encoding::Identity),
        ];
        for (header, want) in rows {
            assert_eq!(negotiate(header), want, "{header:?}");
        }
    }
}
