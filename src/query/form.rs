//! The custom-feed builder's form (`GET <baseurl>/subscribe?cat=…&tag=…&q=…&not=…`), as
//! a browser sends it without any script: every field, empty ones too, form-encoded, so
//! `,` and `+` arrive as `%2C` and `%2B`. Commas separate names (*any of*), spaces
//! separate words (*all of*); the result is a `Query`, whose canonical form is the URL
//! the browser is sent on to.

use percent_encoding::{percent_decode_str, utf8_percent_encode};

use super::{Query, QueryError, NAME};

/// The query the form asks for; `Ok(None)` when every field is empty.
pub fn from_form(raw: &str) -> Result<Option<Query>, QueryError> {
    if raw.len() > super::MAX_BYTES {
        return Err(QueryError::TooLong);
    }
    let mut parts: Vec<String> = Vec::new();
    for pair in raw.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(&value.replace('+', " "))
            .decode_utf8()
            .map_err(|_| QueryError::Encoding("form"))?
            .into_owned();
        match name {
            "cat" | "tag" => {
                let names: Vec<String> = (value.split(','))
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(encode_name)
                    .collect();
                if !names.is_empty() {
                    parts.push(format!("{name}={}", names.join(",")));
                }
            }
            "q" | "not" => {
                for word in value.split_whitespace() {
                    parts.push(format!("{name}={}", utf8_percent_encode(word, NAME)));
                }
            }
            _ => {}
        }
    }
    Query::parse(&parts.join("&"))
}

/// A name as one literal of the grammar: its own `,` `+` and a leading `-` encoded.
fn encode_name(name: &str) -> String {
    let encoded = utf8_percent_encode(name, NAME).to_string();
    match encoded.strip_prefix('-') {
        Some(rest) => format!("%2D{rest}"),
        None => encoded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_as_browsers_send_it() {
        let table = [
            ("cat=&tag=&q=&not=", None),
            (
                "cat=emnews%2C+xihai&tag=&q=%E7%BE%8E%E5%85%83+%E9%99%8D%E5%87%86&not=",
                Some("cat=emnews,xihai&q=%E7%BE%8E%E5%85%83&q=%E9%99%8D%E5%87%86"),
            ),
            (
                "cat=&tag=C%2B%2B&q=&not=%E6%B8%AF%E8%82%A1",
                Some("not=%E6%B8%AF%E8%82%A1&tag=c%2B%2B"),
            ),
            ("tag=-minus&cat=", Some("tag=%2Dminus")),
            ("tag=%2C%2C&q=+", None),
        ];
        for (raw, want) in table {
            let got = from_form(raw).unwrap().map(|q| q.canonical());
            assert_eq!(got.as_deref(), want, "{raw}");
        }
        assert_eq!(from_form("q=%FF"), Err(QueryError::Encoding("form")));
    }
}
