//! The published state the server answers from: every file's bytes with its precomputed
//! cache headers, and the HTTP settings of the configuration that built them, swapped
//! whole (`arc-swap`) so a request sees one version or the next, never a mix — a reload
//! changes feeds and settings in one store. Compressed variants are made once per
//! version, on first request, and kept.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// A content coding we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
    Zstd,
}

impl Encoding {
    /// The compressed encodings, in the order of `layout::VARIANT_SUFFIXES`.
    pub const COMPRESSED: [Encoding; 3] = [Encoding::Gzip, Encoding::Brotli, Encoding::Zstd];

    /// The file-name suffix of a precompressed copy (`None` for identity).
    pub fn suffix(self) -> Option<&'static str> {
        let at = Encoding::COMPRESSED.iter().position(|e| *e == self)?;
        Some(crate::layout::VARIANT_SUFFIXES[at])
    }

    /// The `Content-Encoding` token, and the ETag suffix of that variant.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }
}

/// One encoded form of a file.
#[derive(Debug, Clone)]
pub struct Variant {
    pub bytes: Bytes,
    /// Strong ETag of this variant (quotes included).
    pub etag: String,
}

/// One published file: identity bytes, cache validators, lazily compressed variants.
#[derive(Debug)]
pub struct FeedFile {
    pub identity: Variant,
    pub content_type: &'static str,
    /// When these bytes were first published (whole seconds; never goes backwards).
    pub last_modified: SystemTime,
    pub last_modified_header: String,
    /// The hash the variant ETags share: `"<hash>"`, `"<hash>-gzip"`, …
    hash: String,
    gzip: OnceLock<Variant>,
    brotli: OnceLock<Variant>,
    zstd: OnceLock<Variant>,
}

impl FeedFile {
    pub fn new(bytes: Bytes, content_type: &'static str, last_modified: SystemTime) -> FeedFile {
        let hash = crate::hash::hex64(&bytes);
        let last_modified = whole_seconds(last_modified);
        FeedFile {
            identity: Variant {
                etag: format!("\"{hash}\""),
                bytes,
            },
            content_type,
            last_modified_header: httpdate::fmt_http_date(last_modified),
            last_modified,
            hash,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            zstd: OnceLock::new(),
        }
    }

    /// The ETag of one variant: `"<hash>"` for identity, `"<hash>-<token>"` otherwise.
    pub fn etag(&self, encoding: Encoding) -> String {
        match encoding {
            Encoding::Identity => format!("\"{}\"", self.hash),
            other => format!("\"{}-{}\"", self.hash, other.token()),
        }
    }

    /// The variant for an encoding, compressing it on first use.
    pub fn variant(&self, encoding: Encoding) -> &Variant {
        let make = |encoding: Encoding| Variant {
            bytes: {
                // Compressors over-allocate (zstd reserves its worst-case bound); keep
                // only what is used, since variants live as long as the feed version.
                let mut out = compress(&self.identity.bytes, encoding);
                out.shrink_to_fit();
                Bytes::from(out)
            },
            etag: self.etag(encoding),
        };
        match encoding {
            Encoding::Identity => &self.identity,
            Encoding::Gzip => self.gzip.get_or_init(|| make(encoding)),
            Encoding::Brotli => self.brotli.get_or_init(|| make(encoding)),
            Encoding::Zstd => self.zstd.get_or_init(|| make(encoding)),
        }
    }

    /// Whether an entity tag (from If-None-Match, `W/` already removed, quotes kept)
    /// names any variant of these bytes: clients send back the tag of the gzip response.
    pub fn has_tag(&self, tag: &str) -> bool {
        let Some(inner) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return false;
        };
        match inner.strip_prefix(self.hash.as_str()) {
            Some("") => true,
            Some(rest) => matches!(rest, "-gzip" | "-br" | "-zstd"),
            None => false,
        }
    }

    /// Bytes held for this file (identity plus any variants made so far).
    pub fn held_bytes(&self) -> usize {
        self.identity.bytes.len()
            + [&self.gzip, &self.brotli, &self.zstd]
                .iter()
                .filter_map(|v| v.get())
                .map(|v| v.bytes.len())
                .sum::<usize>()
    }
}

fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Compresses with a level that suits files compressed once and served many times. The
/// server's variants and the precompressed files on disk both come from here, so they
/// are the same bytes.
pub fn compress(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
    use std::io::Write;
    match encoding {
        Encoding::Identity => bytes.to_vec(),
        Encoding::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(bytes);
            enc.finish().unwrap_or_default()
        }
        Encoding::Brotli => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 5,
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
            out
        }
        Encoding::Zstd => zstd::bulk::compress(bytes, 6).unwrap_or_default(),
    }
}

/// Everything the server answers from, at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By path relative to the output dir (`tags/西海都市报新闻/feed.xml`, `feeds.opml`).
    /// A persistent map: a new snapshot shares all unchanged entries with the last one,
    /// so publishing one feed costs O(log n), not a copy of every file's entry.
    pub files: imbl::HashMap<String, Arc<FeedFile>>,
    pub feeds: imbl::OrdMap<crate::layout::FeedKey, Arc<crate::render::site::FeedInfo>>,
    pub site_title: String,
    pub formats: Vec<crate::layout::Format>,
    /// The HTTP settings of the configuration these files were built with.
    pub settings: Arc<crate::serve::HttpSettings>,
    pub posts: usize,
    /// Counts each publish; for logs and `/healthz`.
    pub generation: u64,
    pub index_page: OnceLock<Arc<FeedFile>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn variants_decode_to_identity_and_share_the_hash() {
        let body = "<feed>".repeat(1000);
        let file = FeedFile::new(Bytes::from(body.clone()), "text/plain", SystemTime::now());
        let gz = file.variant(Encoding::Gzip);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz.bytes[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let br = file.variant(Encoding::Brotli);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br.bytes[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        let zs = file.variant(Encoding::Zstd);
        assert_eq!(zstd::decode_all(&zs.bytes[..]).unwrap(), body.as_bytes());
        for tag in [&file.identity.etag, &gz.etag, &br.etag, &zs.etag] {
            assert!(file.has_tag(tag), "{tag}");
        }
        assert!(!file.has_tag("\"0000000000000000\""));
        assert!(!file.has_tag(&file.identity.etag.replace('"', "")));
    }
}
