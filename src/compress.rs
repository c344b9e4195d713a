//! The content codings feedd serves, and the one place bytes are compressed: the
//! variants served from memory and the precompressed copies on disk come from here, so
//! they are the same bytes.

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

/// Compresses with levels for files compressed once and served many times, chosen by
/// measurement on feeds of CJK text (a 360 KB feed on this 2-core machine): gzip 6
/// (36 MB/s, 43% of the size; what nginx's `gzip_static` sends, and every client takes),
/// brotli 4 (47 MB/s, 45%; quality 5 gave 41% at half the speed and made a 100k-post
/// build's copies take 90 CPU-seconds) and zstd 3 (its default: 256 MB/s, 46%). The
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
            // A window no larger than the file: the encoder allocates and clears tables
            // sized by the window for every file, which with the default 4 MiB window
            // cost more than the compressing itself on 30 KB feeds (1.3-1.8x faster, same
            // sizes, on 3,000 files of a 60,000-post site).
            let bits = usize::BITS - bytes.len().max(1).leading_zeros();
            let params = brotli::enc::BrotliEncoderParams {
                quality: 4,
                lgwin: (bits as i32).clamp(10, 22),
                size_hint: bytes.len(),
                ..Default::default()
            };
            let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
            out
        }
        Encoding::Zstd => zstd::bulk::compress(bytes, 3).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size decodes back, around the window's edges too: empty, one byte, powers of
    /// two and a file larger than the largest window.
    #[test]
    fn brotli_round_trips_at_every_window() {
        for len in [0, 1, 1023, 1024, 1025, 65_536, 300_001, 5 << 20] {
            let text: Vec<u8> = "西海都市报新闻 <p>feed</p> "
                .bytes()
                .cycle()
                .zip(0u32..)
                .map(|(b, i)| b ^ (i % 7 == 0) as u8)
                .take(len)
                .collect();
            let packed = compress(&text, Encoding::Brotli);
            let mut out = Vec::new();
            brotli::BrotliDecompress(&mut &packed[..], &mut out).unwrap();
            assert_eq!(out, text, "length {len}");
        }
    }
}
