use super::*;

fn parse(raw: &str) -> Result<Option<Query>, QueryError> {
    Query::parse(raw)
}

fn canonical(raw: &str) -> String {
    parse(raw).unwrap().unwrap().canonical()
}

fn names(list: &[&str]) -> Vec<FeedName> {
    list.iter().map(|n| FeedName::new(n)).collect()
}

#[test]
fn the_grammar_table() {
    // (query, canonical form)
    let table = [
        ("cat=emnews", "cat=emnews"),
        ("cat=EMNews", "cat=emnews"),
        ("cat=b,a", "cat=a,b"),
        ("cat=a+b", "cat=a+b"),
        ("cat=b+a,c", "cat=a+b,c"),
        ("tag=-港股", "tag=-%E6%B8%AF%E8%82%A1"),
        ("tag=C%2B%2B", "tag=c%2B%2B"),
        ("tag=a%2Cb", "tag=a%2Cb"),
        ("tag=%2Dminus", "tag=%2Dminus"),
        ("tag=--minus", "tag=-%2Dminus"),
        ("q=美元", "q=%E7%BE%8E%E5%85%83"),
        ("q=US+Dollar", "q=us%20dollar"),
        ("q=b&q=a&q=a", "q=a&q=b"),
        (
            "not=港股&q=美元&cat=emnews",
            "cat=emnews&not=%E6%B8%AF%E8%82%A1&q=%E7%BE%8E%E5%85%83",
        ),
        ("limit=5&cat=x", "cat=x&limit=5"),
        ("limit=9&limit=5&cat=x", "cat=x&limit=5"),
        ("cat=x&utm_source=rss&_=123&Q=ignored", "cat=x"),
    ];
    for (raw, want) in table {
        assert_eq!(canonical(raw), want, "{raw}");
    }
    // The canonical form parses to the same query.
    for (raw, _) in table {
        let q = parse(raw).unwrap().unwrap();
        assert_eq!(parse(&q.canonical()).unwrap().unwrap(), q, "{raw}");
    }
    // Names decode as names: `C++` is one literal.
    let q = parse("tag=C%2B%2B").unwrap().unwrap();
    assert_eq!(
        q.tags[0].0,
        vec![vec![Literal {
            negated: false,
            name: FeedName::new("c++")
        }]]
    );
}

#[test]
fn nothing_selecting_is_the_plain_feed() {
    for raw in ["", "utm_source=x", "_=1&x=y", "&&"] {
        assert_eq!(parse(raw), Ok(None), "{raw}");
    }
}

#[test]
fn malformed_queries_say_what_is_wrong() {
    let long = format!("q={}", "a".repeat(MAX_BYTES));
    let many: Vec<String> = (0..17).map(|i| format!("q=w{i}")).collect();
    let table: Vec<(&str, QueryError)> = vec![
        ("cat=", QueryError::Empty("cat")),
        ("tag", QueryError::Empty("tag")),
        ("cat=a,,b", QueryError::EmptyItem("cat")),
        ("cat=a+", QueryError::EmptyItem("cat")),
        ("tag=-", QueryError::EmptyItem("tag")),
        ("tag=%20", QueryError::EmptyItem("tag")),
        ("q=+", QueryError::Empty("q")),
        ("cat=%zz", QueryError::Encoding("cat")),
        ("cat=%E4%B8", QueryError::Encoding("cat")),
        ("q=100%", QueryError::Encoding("q")),
        ("limit=0&cat=a", QueryError::Limit),
        ("limit=x", QueryError::Limit),
        ("limit=-1", QueryError::Limit),
        (&long, QueryError::TooLong),
    ];
    for (raw, want) in table {
        assert_eq!(parse(raw), Err(want), "{raw}");
    }
    assert_eq!(parse(&many.join("&")), Err(QueryError::TooManyTerms));
    // Repeats are one term.
    let repeated: Vec<&str> = vec!["q=x"; 17];
    assert!(parse(&repeated.join("&")).is_ok());
    assert_eq!(
        QueryError::EmptyItem("cat").to_string(),
        "cat= has an empty item (check `,`, `+` and `-`)"
    );
}

#[test]
fn matching_follows_the_grammar() {
    let q = parse("cat=emnews&q=美元&not=港股").unwrap().unwrap();
    let (cats, tags) = (names(&["EMNews"]), names(&[]));
    assert!(q.matches(&cats, &tags, &normalize_text("美元走强")));
    assert!(!q.matches(&cats, &tags, &normalize_text("美元 港股")));
    assert!(!q.matches(&names(&["other"]), &tags, "美元"));
    let q = parse("tag=a+b,c&tag=-d").unwrap().unwrap();
    let m = |t: &[&str]| q.matches(&[], &names(t), "");
    assert!(m(&["a", "b"]) && m(&["c"]) && m(&["A", "B", "x"]));
    assert!(!m(&["a"]) && !m(&["c", "d"]) && !m(&[]));
    let q = parse("q=DOLLAR").unwrap().unwrap();
    assert!(q.matches(&[], &[], &normalize_text("The US Dollar")));
    assert_eq!(
        parse("cat=emnews&tag=-港股,a+b&q=美元&not=x")
            .unwrap()
            .unwrap()
            .describe(),
        "emnews · a+b, -港股 · 美元 · -x"
    );
}

proptest::proptest! {
    /// The fast paths change nothing: NFC, then lower case, as `str` does it (final
    /// sigma aside, which words and texts then agree on anyway).
    #[test]
    fn normalize_text_is_nfc_then_lower_case(s in "[a-zA-Z 美元ÅÉé\u{301}Ａｂ\u{3000}\u{3099}が가Ως\u{2000}\u{2001}…“，Ｚ]{0,24}") {
        let naive: String = s.nfc().collect::<String>().to_lowercase();
        proptest::prop_assert_eq!(normalize_text(&s), crate::text::normalize_whitespace(&naive));
    }
}
