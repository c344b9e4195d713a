//! YAML front matter and `_config.yml` as Jekyll (Ruby's Psych, YAML 1.1) types them.
//!
//! We build the tree from `saphyr-parser` events instead of going through serde, because
//! Jekyll's meaning depends on things serde's data model cannot see: whether a scalar was
//! quoted (an unquoted `2022-03-15 10:00:00` is a UTC timestamp, a quoted one is local
//! time), and YAML 1.1 plain scalars (`no`, `off` are `false`). Limits on size, depth and
//! alias expansion keep a hostile post from exhausting memory (billion laughs).

pub mod timestamp;

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Most nodes one document may expand to, aliases included.
pub const MAX_NODES: usize = 100_000;
/// Deepest nesting of sequences and mappings we accept.
pub const MAX_DEPTH: usize = 64;

/// A YAML value typed the way Psych types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A plain scalar Psych reads as a timestamp (it has seconds); kept as written.
    Timestamp(String),
    /// A plain `YYYY-MM-DD`, which Psych reads as a `Date`.
    Date(String),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(Yaml, Yaml)>),
}

/// A YAML syntax or limit error, with the 1-based line inside the parsed text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

impl Yaml {
    /// Parses one YAML document; an empty document is `Null`.
    pub fn parse(text: &str) -> Result<Yaml, YamlError> {
        Builder::default().run(text)
    }

    /// Looks up a mapping key; on duplicate keys the last one wins, as in Psych.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| k.as_key().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as a mapping key string (Jekyll keys are strings).
    fn as_key(&self) -> Option<String> {
        match self {
            Yaml::Seq(_) | Yaml::Map(_) => None,
            other => Some(other.to_ruby_string()),
        }
    }

    /// The string Ruby's `to_s` would give for a scalar; collections give their YAML-ish form.
    pub fn to_ruby_string(&self) -> String {
        match self {
            Yaml::Null => String::new(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Int(i) => i.to_string(),
            Yaml::Float(f) => {
                if f.fract() == 0.0 && f.is_finite() {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            }
            Yaml::Timestamp(s) | Yaml::Date(s) | Yaml::Str(s) => s.clone(),
            Yaml::Seq(items) => {
                let inner: Vec<String> = items
                    .iter()
                    .map(|i| format!("{:?}", i.to_ruby_string()))
                    .collect();
                format!("[{}]", inner.join(", "))
            }
            Yaml::Map(_) => "{...}".to_string(),
        }
    }

    /// A non-empty string for string-like scalars; `None` for null, collections and "".
    pub fn as_text(&self) -> Option<String> {
        match self {
            Yaml::Null | Yaml::Seq(_) | Yaml::Map(_) => None,
            other => Some(other.to_ruby_string()).filter(|s| !s.is_empty()),
        }
    }

    /// Ruby truthiness: only `false` and `nil` are false.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Yaml::Null | Yaml::Bool(false))
    }
}

/// Resolves a plain (unquoted) scalar with Psych's YAML 1.1 rules.
fn resolve_plain(text: &str) -> Yaml {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        _ => {}
    }
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "yes" | "true" | "on" => return Yaml::Bool(true),
        "no" | "false" | "off" => return Yaml::Bool(false),
        _ => {}
    }
    if is_decimal_int(text) {
        if let Ok(i) = text.replace(['_', ','], "").parse::<i64>() {
            return Yaml::Int(i);
        }
    }
    if is_float(text) {
        if let Ok(f) = text.replace('_', "").parse::<f64>() {
            return Yaml::Float(f);
        }
    }
    if timestamp::is_yaml_timestamp(text) {
        return Yaml::Timestamp(text.to_string());
    }
    if timestamp::is_yaml_date(text) {
        return Yaml::Date(text.to_string());
    }
    Yaml::Str(text.to_string())
}

fn is_decimal_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    match digits.as_bytes() {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(|b| b.is_ascii_digit() || *b == b'_'),
        _ => false,
    }
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let Some((int, frac)) = body.split_once('.') else {
        return false;
    };
    let frac = frac.split(['e', 'E']).next().unwrap_or("");
    int.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
}

enum Kind {
    Seq,
    Other,
}

enum Frame {
    Seq(Vec<Yaml>, usize),
    Map(Vec<(Yaml, Yaml)>, Option<Yaml>, usize),
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Yaml>,
    nodes: usize,
    root: Option<Yaml>,
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Yaml, YamlError> {
        let mut parser = Parser::new_from_str(text);
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|e| YamlError {
                line: e.marker().line(),
                message: e.info().to_string(),
            })?;
            let line = span.start.line();
            let event_kind = if matches!(event, Event::SequenceStart(..)) {
                Kind::Seq
            } else {
                Kind::Other
            };
            let fail = |message: String| YamlError { line, message };
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_) if self.root.is_some() => {
                    return Err(fail(
                        "more than one YAML document in the front matter".into(),
                    ));
                }
                Event::Nothing
                | Event::StreamStart
                | Event::DocumentStart(_)
                | Event::DocumentEnd => {}
                Event::Alias(id) => {
                    let node = self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| fail("alias to an unknown anchor".into()))?;
                    self.count(count_nodes(&node), line)?;
                    self.push(node, 0);
                }
                Event::Scalar(value, style, anchor, tag) => {
                    self.count(1, line)?;
                    let node = match tag {
                        Some(tag) if tag.handle == "!!" && tag.suffix == "str" => {
                            Yaml::Str(value.into_owned())
                        }
                        Some(tag) => {
                            return Err(fail(format!(
                                "the YAML tag `{}{}` is not allowed",
                                tag.handle, tag.suffix
                            )))
                        }
                        None if style == ScalarStyle::Plain => resolve_plain(&value),
                        None => Yaml::Str(value.into_owned()),
                    };
                    self.push(node, anchor);
                }
                Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                    let is_seq = matches!(event_kind, Kind::Seq);
                    if let Some(tag) = tag {
                        return Err(fail(format!(
                            "the YAML tag `{}{}` is not allowed",
                            tag.handle, tag.suffix
                        )));
                    }
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(fail(format!("nesting deeper than {MAX_DEPTH} levels")));
                    }
                    self.count(1, line)?;
                    let frame = if is_seq {
                        Frame::Seq(Vec::new(), anchor)
                    } else {
                        Frame::Map(Vec::new(), None, anchor)
                    };
                    self.stack.push(frame);
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor) = match self.stack.pop() {
                        Some(Frame::Seq(items, anchor)) => (Yaml::Seq(items), anchor),
                        Some(Frame::Map(pairs, _, anchor)) => (Yaml::Map(pairs), anchor),
                        None => return Err(fail("unbalanced YAML collection".into())),
                    };
                    self.push(node, anchor);
                }
            }
        }
        Ok(self.root.unwrap_or(Yaml::Null))
    }

    fn count(&mut self, n: usize, line: usize) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                line,
                message: format!("more than {MAX_NODES} YAML nodes (alias bomb?)"),
            });
        }
        Ok(())
    }

    fn push(&mut self, node: Yaml, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(pairs, pending, _)) => match pending.take() {
                Some(key) => pairs.push((key, node)),
                None => *pending = Some(node),
            },
            None => self.root = Some(node),
        }
    }
}

fn count_nodes(node: &Yaml) -> usize {
    match node {
        Yaml::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Yaml::Map(pairs) => {
            1 + pairs
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_yaml_1_1() {
        let doc = Yaml::parse("a: no\nb: 'no'\nc: 2022-03-15 12:52:16\nd: \"2022-03-15 12:52:16\"\ne: 2022-03-15\nf: 42\ng: ~\nh: +0800\n").unwrap();
        assert_eq!(doc.get("a"), Some(&Yaml::Bool(false)));
        assert_eq!(doc.get("b"), Some(&Yaml::Str("no".into())));
        assert_eq!(
            doc.get("c"),
            Some(&Yaml::Timestamp("2022-03-15 12:52:16".into()))
        );
        assert_eq!(doc.get("d"), Some(&Yaml::Str("2022-03-15 12:52:16".into())));
        assert_eq!(doc.get("e"), Some(&Yaml::Date("2022-03-15".into())));
        assert_eq!(doc.get("f"), Some(&Yaml::Int(42)));
        assert_eq!(doc.get("g"), Some(&Yaml::Null));
        assert_eq!(doc.get("h"), Some(&Yaml::Str("+0800".into())));
    }

    #[test]
    fn duplicate_keys_last_one_wins() {
        let doc = Yaml::parse("title: one\ntitle: two\n").unwrap();
        assert_eq!(doc.get("title"), Some(&Yaml::Str("two".into())));
    }

    #[test]
    fn aliases_expand() {
        let doc = Yaml::parse("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(
            doc.get("b"),
            Some(&Yaml::Seq(vec![Yaml::Int(1), Yaml::Int(2)]))
        );
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9u8 {
            let prev = (b'a' + i) as char;
            let next = (b'b' + i) as char;
            text.push_str(&format!(
                "{next}: &{next} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = Yaml::parse(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert!(Yaml::parse(&text).is_err());
    }

    #[test]
    fn syntax_error_reports_line() {
        let err = Yaml::parse("title: ok\ntags: [a, b\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn ruby_tags_are_refused() {
        assert!(Yaml::parse("x: !ruby/object:Foo {}\n").is_err());
    }
}
