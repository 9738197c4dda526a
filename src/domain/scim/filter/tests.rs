use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::domain::scim::schema::MIJNKWH_USER_URN;

fn parse(input: &str) -> Filter {
    Filter::parse(input).unwrap_or_else(|error| panic!("{input:?}: {error}"))
}

fn path(input: &str) -> AttrPath {
    AttrPath::parse(input).unwrap()
}

fn eq(attr: &str, value: &str) -> Filter {
    Filter::Compare {
        path: path(attr),
        op: CompareOp::Eq,
        value: CompValue::String(value.into()),
    }
}

fn present(attr: &str) -> Filter {
    Filter::Present(path(attr))
}

fn and(left: Filter, right: Filter) -> Filter {
    Filter::And(Box::new(left), Box::new(right))
}

fn or(left: Filter, right: Filter) -> Filter {
    Filter::Or(Box::new(left), Box::new(right))
}

/// Every example filter of RFC 7644 §3.4.2.2.
const RFC_EXAMPLES: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    "title pr",
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType eq "Employee" and (emails.type eq "work")"#,
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
];

#[test]
fn parses_every_example_of_the_rfc_and_reads_its_own_text_back() {
    for example in RFC_EXAMPLES {
        let filter = parse(example);
        assert_eq!(parse(&filter.to_string()), filter, "{example}");
    }
    assert_eq!(
        parse(RFC_EXAMPLES[15]),
        and(
            eq("userType", "Employee"),
            Filter::ValuePath {
                attr: path("emails"),
                filter: Box::new(and(
                    eq("type", "work"),
                    Filter::Compare {
                        path: path("value"),
                        op: CompareOp::Co,
                        value: CompValue::String("@example.com".into()),
                    }
                )),
            }
        )
    );
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    assert_eq!(
        parse("a pr or b pr and c pr"),
        or(present("a"), and(present("b"), present("c")))
    );
    assert_eq!(
        parse("a pr and b pr or c pr"),
        or(and(present("a"), present("b")), present("c"))
    );
    assert_eq!(
        parse("not (a pr) and b pr"),
        and(Filter::Not(Box::new(present("a"))), present("b"))
    );
    assert_eq!(
        parse("a pr and (b pr or c pr)"),
        and(present("a"), or(present("b"), present("c")))
    );
    assert_eq!(
        parse("a pr or b pr or c pr"),
        or(or(present("a"), present("b")), present("c"))
    );
    assert_eq!(parse("(a pr)"), present("a"));
    assert_eq!(
        parse("not(a pr)"),
        Filter::Not(Box::new(present("a"))),
        "the ABNF needs no space"
    );
}

#[test]
fn names_operators_and_literals_are_case_insensitive() {
    assert_eq!(
        parse(r#"USERNAME EQ "Jan" AND Title PR OR NOT (Active Eq TRUE)"#),
        parse(r#"userName eq "Jan" and title pr or not (active eq true)"#)
    );
    assert_eq!(
        parse(r#"userName eq "Jan""#),
        eq("username", "Jan"),
        "the value keeps its case"
    );
    assert_eq!(parse("x eq NULL"), parse("x eq null"));
    assert_eq!(parse("x eq False"), parse("x eq false"));
}

#[test]
fn values_are_json() {
    assert_eq!(
        parse(r#"displayName eq "a \"quote\", a \\ and \u00e9 \ud83d\ude00""#),
        eq("displayName", "a \"quote\", a \\ and é 😀")
    );
    let Filter::Compare { value, .. } = parse("count gt -1.5e3") else {
        panic!()
    };
    assert_eq!(value, CompValue::Number(serde_json::Number::from_f64(-1500.0).unwrap()));
    let Filter::Compare { value, .. } = parse("x eq 42") else {
        panic!()
    };
    assert_eq!(value, CompValue::Number(42.into()));
    let Filter::Compare { value, .. } = parse("x ne null") else {
        panic!()
    };
    assert_eq!(value, CompValue::Null);
    assert_eq!(parse(r#"x eq "a]b) or y pr""#), eq("x", "a]b) or y pr"));
}

#[test]
fn whitespace_beyond_single_spaces_is_accepted() {
    assert_eq!(parse(" userName  eq\t\"x\"\n"), eq("userName", "x"));
}

#[test]
fn entras_value_path_with_a_sub_attribute_means_both_conditions_on_one_value() {
    let filter = parse(r#"emails[type eq "work"].value eq "jan@kwh.nl""#);
    assert_eq!(
        filter,
        Filter::ValuePath {
            attr: path("emails"),
            filter: Box::new(and(eq("type", "work"), eq("value", "jan@kwh.nl"))),
        }
    );
    assert_eq!(
        filter.to_string(),
        r#"emails[type eq "work" and value eq "jan@kwh.nl"]"#
    );
    assert!(matches!(
        parse(r#"emails[type eq "work"].value pr"#),
        Filter::ValuePath { filter, .. } if matches!(*filter, Filter::And(_, ref r) if **r == present("value"))
    ));
}

#[test]
fn simple_equalities_are_the_lookups_a_store_can_index() {
    let simple = |input: &str| {
        parse(input)
            .as_simple_equality()
            .map(|(path, value)| (path.to_string(), value.to_string()))
    };
    let lookup = |path: &str, value: &str| Some((path.to_string(), value.to_string()));
    assert_eq!(simple(r#"userName eq "Jan@KWH.nl""#), lookup("username", "Jan@KWH.nl"));
    assert_eq!(simple(r#"USERNAME Eq "a""#), lookup("username", "a"));
    assert_eq!(
        simple(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#),
        lookup("username", "a")
    );
    assert_eq!(
        simple(r#"externalId eq "00ujl29u0le5T6Aj10h7""#),
        lookup("externalid", "00ujl29u0le5T6Aj10h7")
    );
    assert_eq!(simple(r#"id eq "23a35c27""#), lookup("id", "23a35c27"));
    assert_eq!(simple(r#"emails.value eq "a@b.nl""#), lookup("emails.value", "a@b.nl"));
    assert_eq!(simple(r#"emails eq "a@b.nl""#), lookup("emails.value", "a@b.nl"));
    assert_eq!(
        simple(r#"emails[type eq "work"].value eq "a@b.nl""#),
        lookup("emails.value", "a@b.nl")
    );
    assert_eq!(
        simple(r#"emails[value eq "a@b.nl" and type eq "Work"]"#),
        lookup("emails.value", "a@b.nl")
    );
    for not_simple in [
        r#"userName ne "a""#,
        r#"userName co "a""#,
        "userName eq 1",
        "userName eq null",
        "userName pr",
        r#"title eq "a""#,
        r#"emails.type eq "work""#,
        r#"emails[type eq "home"].value eq "a@b.nl""#,
        r#"emails[type eq "work"]"#,
        r#"emails[type eq "work" or value eq "a@b.nl"]"#,
        r#"phoneNumbers[type eq "work"].value eq "010""#,
        r#"userName eq "a" and active eq true"#,
        r#"userName eq "a" or userName eq "b""#,
        r#"not (userName eq "a")"#,
        r#"urn:ietf:params:scim:schemas:extension:mijnkwh:2.0:User:id eq "a""#,
    ] {
        assert_eq!(simple(not_simple), None, "{not_simple}");
    }
}

#[test]
fn refuses_what_is_not_a_filter_as_invalid_filter() {
    for bad in [
        "",
        "   ",
        "userName",
        "userName eq",
        r#"userName equals "x""#,
        r#"userName eq "x" and"#,
        r#"userName eq "x" userName eq "y""#,
        r#"userName eq "x"#,
        r#"userName eq x"#,
        r#"userName eq 'x'"#,
        r#"userName eq "\x""#,
        "userName eq \"tab\there\"",
        "userName eq 01",
        "userName eq 1.",
        "userName eq -",
        r#"(userName eq "x""#,
        r#"userName eq "x")"#,
        r#"not userName eq "x""#,
        r#"emails[type eq "work""#,
        r#"emails[type eq "work"]]"#,
        r#"emails[phones[type eq "x"]]"#,
        r#"emails.value[type eq "work"]"#,
        r#"emails[type eq "work"]."#,
        r#"emails[type eq "work"].value"#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User eq "x""#,
        r#"1name eq "x""#,
        r#"name..x eq "x""#,
        r#"userName eq "x" & title pr"#,
        r#"userName eq "x" ; drop table"#,
        "title pr pr",
        "()",
    ] {
        let error = Filter::parse(bad).unwrap_err();
        assert_eq!(error.scim_type(), ScimType::InvalidFilter, "{bad}");
        assert!(error.to_string().starts_with("invalid filter"), "{error}");
    }
    assert_eq!(Filter::parse(r#"userName eq "x" yes"#).unwrap_err().at, Some(16));
}

#[test]
fn hostile_nesting_and_length_are_refused_without_exhausting_the_stack() {
    let nested = |levels: usize| format!("{}a pr{}", "(".repeat(levels), ")".repeat(levels));
    assert!(Filter::parse(&nested(MAX_FILTER_DEPTH)).is_ok());
    assert!(Filter::parse(&nested(MAX_FILTER_DEPTH + 1)).is_err());
    let nots = format!(
        "{}a pr{}",
        "not (".repeat(MAX_FILTER_DEPTH + 1),
        ")".repeat(MAX_FILTER_DEPTH + 1)
    );
    assert!(nots.len() < MAX_FILTER_LENGTH);
    assert!(Filter::parse(&nots).unwrap_err().reason.contains("nested deeper"));
    assert!(Filter::parse(&"(".repeat(MAX_FILTER_LENGTH)).is_err());
    assert!(
        Filter::parse(&"[".repeat(100_000))
            .unwrap_err()
            .reason
            .contains("longer than"),
        "refused before lexing"
    );
    let long_chain = vec!["a pr"; (MAX_FILTER_LENGTH - 4) / 8 + 1].join(" or ");
    assert!(long_chain.len() <= MAX_FILTER_LENGTH);
    let filter = parse(&long_chain);
    assert_eq!(
        parse(&filter.to_string()),
        filter,
        "the longest chains still print and compare"
    );
}

// Hand-rolled property tests (no `proptest` in Cargo.lock): random trees, printed, scrambled
// in case and spacing, must parse back to themselves; random edits of printed filters must
// never panic, and whatever parses must print to text that parses back to it.

const NAMES: &[&str] = &[
    "userName",
    "title",
    "emails",
    "name",
    "active",
    "meta",
    "x-Custom_1",
    "members",
    "and",
    "not",
    "pr",
];
const SUB_ATTRS: &[&str] = &["value", "type", "givenName", "lastModified", "$ref", "primary"];
const SCHEMAS: &[&str] = &[
    MIJNKWH_USER_URN,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];
const STRING_PIECES: &[&str] = &[
    "a", "Z", " ", "\"", "\\", "é", "😀", "\n", "\t", "\u{0}", "]", ")", "(", " and ", "or", "eq", "\u{7f}", "/",
];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

fn random_path(rng: &mut StdRng, with_schema: bool, with_sub: bool) -> AttrPath {
    let mut text = String::new();
    if with_schema && rng.random_bool(0.2) {
        text.push_str(pick(rng, SCHEMAS));
        text.push(':');
    }
    text.push_str(pick(rng, NAMES));
    if with_sub && rng.random_bool(0.3) {
        text.push('.');
        text.push_str(pick(rng, SUB_ATTRS));
    }
    AttrPath::parse(&text).unwrap()
}

fn random_value(rng: &mut StdRng) -> CompValue {
    match rng.random_range(0..6) {
        0 => CompValue::Null,
        1 => CompValue::Bool(rng.random_bool(0.5)),
        2 => CompValue::Number(rng.random_range(i64::MIN..=i64::MAX).into()),
        // Decimals of at most 15 digits: serde_json without `float_roundtrip` reads longer ones
        // (or large exponents) up to one unit in the last place off, which no filter on a user
        // notices but a comparison of trees would.
        3 => {
            let digits = rng.random_range(-999_999_999_999_999i64..=999_999_999_999_999);
            let text = format!("{digits}e{}", rng.random_range(-20..=0));
            CompValue::Number(serde_json::Number::from_f64(text.parse().unwrap()).unwrap())
        }
        _ => CompValue::String((0..rng.random_range(0..8)).map(|_| pick(rng, STRING_PIECES)).collect()),
    }
}

fn random_filter(rng: &mut StdRng, depth: u32, in_value_path: bool) -> Filter {
    if depth == 0 || rng.random_bool(0.3) {
        let path = random_path(rng, !in_value_path, true);
        return if rng.random_bool(0.15) {
            Filter::Present(path)
        } else {
            Filter::Compare {
                path,
                op: CompareOp::ALL[rng.random_range(0..CompareOp::ALL.len())],
                value: random_value(rng),
            }
        };
    }
    let next = |rng: &mut StdRng| Box::new(random_filter(rng, depth - 1, in_value_path));
    match rng.random_range(0..4) {
        0 => Filter::And(next(rng), next(rng)),
        1 => Filter::Or(next(rng), next(rng)),
        2 => Filter::Not(next(rng)),
        _ if in_value_path => Filter::And(next(rng), next(rng)),
        _ => Filter::ValuePath {
            attr: random_path(rng, true, false),
            filter: Box::new(random_filter(rng, depth - 1, true)),
        },
    }
}

/// The same filter as a careless client writes it: letters outside strings in random case,
/// spaces doubled or turned into tabs.
fn scramble(rng: &mut StdRng, text: &str) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            (in_string, escaped) = match (escaped, c) {
                (false, '\\') => (true, true),
                (false, '"') => (false, false),
                _ => (true, false),
            };
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ' ' => out.push_str(pick(rng, &[" ", "  ", "\t", " \n "])),
            c if rng.random_bool(0.5) => out.push(c.to_ascii_uppercase()),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn property_printed_filters_parse_back_to_themselves_in_any_case_and_spacing() {
    let mut rng = StdRng::seed_from_u64(14);
    let mut checked = 0;
    for round in 0..3_000 {
        let filter = random_filter(&mut rng, 5, false);
        let text = filter.to_string();
        if text.len() > MAX_FILTER_LENGTH / 2 {
            continue;
        }
        assert_eq!(Filter::parse(&text).as_ref(), Ok(&filter), "round {round}: {text}");
        let scrambled = scramble(&mut rng, &text);
        assert_eq!(
            Filter::parse(&scrambled).as_ref(),
            Ok(&filter),
            "round {round}: {scrambled}"
        );
        checked += 1;
    }
    assert!(checked > 2_000, "only {checked} filters were short enough");
}

#[test]
fn property_edited_filters_never_panic_and_what_parses_prints_back() {
    let mut rng = StdRng::seed_from_u64(7644);
    let pieces = [
        "(", ")", "[", "]", "\"", "\\", ".", ":", " ", "not", "and", "or", "eq", "pr", "-", "1e", "é", "$",
    ];
    for round in 0..5_000 {
        let mut text: Vec<char> = random_filter(&mut rng, 3, false).to_string().chars().collect();
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..=text.len());
            if rng.random_bool(0.5) && at < text.len() {
                text.remove(at);
            } else {
                let piece: Vec<char> = pick(&mut rng, &pieces).chars().collect();
                text.splice(at..at, piece);
            }
        }
        let text: String = text.into_iter().collect();
        // Edits make decimals of any length, which serde_json may read one unit off (above).
        if let Ok(filter) = Filter::parse(&text).as_ref()
            && !has_decimal(filter)
        {
            assert_eq!(
                Filter::parse(&filter.to_string()).as_ref(),
                Ok(filter),
                "round {round}: {text}"
            );
        }
    }
}

fn has_decimal(filter: &Filter) -> bool {
    match filter {
        Filter::Compare {
            value: CompValue::Number(n),
            ..
        } => n.is_f64(),
        Filter::Compare { .. } | Filter::Present(_) => false,
        Filter::And(l, r) | Filter::Or(l, r) => has_decimal(l) || has_decimal(r),
        Filter::Not(inner) | Filter::ValuePath { filter: inner, .. } => has_decimal(inner),
    }
}
