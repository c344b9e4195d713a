//! A post's searchable text in the smaller of two encodings: UTF-8, or UTF-16 for text
//! that is mostly CJK (two bytes a character instead of three). Every post's text is
//! kept for `q=`/`not=` words; at 100,000 Chinese posts that is the largest thing the
//! server holds after the feeds themselves, and a third of it goes this way.

use memchr::memmem;

/// The text; the first byte says the encoding (`UTF8` or `UTF16`, little-endian).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SearchText(Box<[u8]>);

const UTF8: u8 = 0;
const UTF16: u8 = 1;

impl SearchText {
    pub fn new(text: &str) -> SearchText {
        let units = text.encode_utf16().count();
        let mut bytes = Vec::with_capacity(1 + text.len().min(units * 2));
        if units * 2 < text.len() {
            bytes.push(UTF16);
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        } else {
            bytes.push(UTF8);
            bytes.extend_from_slice(text.as_bytes());
        }
        SearchText(bytes.into_boxed_slice())
    }

    /// Whether `word` occurs in the text (as `str::contains` would say of the text).
    pub fn contains(&self, word: &str) -> bool {
        let Some((&encoding, text)) = self.0.split_first() else {
            return word.is_empty();
        };
        if encoding == UTF8 {
            return memmem::find(text, word.as_bytes()).is_some();
        }
        let needle: Vec<u8> = word.encode_utf16().flat_map(u16::to_le_bytes).collect();
        // A match must start on a code unit, not in the middle of one.
        memmem::find_iter(text, &needle).any(|at| at % 2 == 0)
    }

    /// Bytes held (what the memory budget counts).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.len() <= 1
    }
}

impl std::fmt::Debug for SearchText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_first() {
            Some((&UTF16, text)) => {
                let units: Vec<u16> = (text.chunks_exact(2))
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                write!(f, "{:?}", String::from_utf16_lossy(&units))
            }
            Some((_, text)) => write!(f, "{:?}", String::from_utf8_lossy(text)),
            None => write!(f, "\"\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_text_takes_two_bytes_a_character() {
        let text = "美元走强，港股下跌，美联储加息\ndollar";
        let held = SearchText::new(text);
        assert!(held.len() < text.len(), "{} >= {}", held.len(), text.len());
        assert!(held.contains("港股") && held.contains("dollar") && held.contains("强，港"));
        assert!(!held.contains("美股"));
        let ascii = SearchText::new("plain ascii text");
        assert_eq!(ascii.len(), 1 + "plain ascii text".len());
    }

    proptest! {
        /// Whatever the encoding chosen, `contains` says what `str::contains` says,
        /// also for words that would match across code units (`乀` is 0x4E40, `䁎`
        /// 0x404E: their bytes overlap).
        #[test]
        fn contains_agrees_with_str(text in "[a-c美元乀䁎N@ \n😀]{0,24}", word in "[a-c美元乀䁎N@😀]{1,3}") {
            prop_assert_eq!(SearchText::new(&text).contains(&word), text.contains(&word));
        }
    }
}
