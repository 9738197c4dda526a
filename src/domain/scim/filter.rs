//! The SCIM filter language (RFC 7644 §3.4.2.2): a small recursive-descent parser into an AST,
//! and its canonical text.
//!
//! Beyond the ABNF, on purpose: keywords, operators and `true`/`false`/`null` in any case, any
//! run of whitespace where the RFC writes one space, and Entra ID's
//! `emails[type eq "work"].value eq "x"` (a value path with a sub-attribute, which the RFC
//! allows only in PATCH paths), read as `emails[type eq "work" and value eq "x"]`, which means
//! the same.

use std::fmt;
use std::str::FromStr;

use super::ScimType;
use super::path::{AttrPath, ParsedName, is_attribute_name, parse_name};

/// The longest filter accepted. Entra ID and Okta send one or two comparisons; a query string
/// is cut far below this by most proxies anyway.
pub const MAX_FILTER_LENGTH: usize = 4096;
/// The deepest nesting of `( )`, `not ( )` and `[ ]`, so that hostile input cannot exhaust the
/// stack of the parser or of the functions that walk the tree. The length limit bounds
/// `and`/`or` chains.
pub const MAX_FILTER_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths are
    /// sub-attributes of `attr`.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// `compValue = false / null / true / number / string` (JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

impl CompValue {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CompValue::Null => serde_json::Value::Null,
            CompValue::Bool(b) => serde_json::Value::Bool(*b),
            CompValue::Number(n) => serde_json::Value::Number(n.clone()),
            CompValue::String(s) => serde_json::Value::String(s.clone()),
        }
    }
}

/// A filter that is not one: answered as 400 with `scimType: invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// Byte offset in the filter where the problem was found, when it is about the text.
    pub at: Option<usize>,
    pub reason: String,
}

impl FilterError {
    fn at(at: usize, reason: impl Into<String>) -> FilterError {
        FilterError {
            at: Some(at),
            reason: reason.into(),
        }
    }

    pub(crate) fn about(reason: impl Into<String>) -> FilterError {
        FilterError {
            at: None,
            reason: reason.into(),
        }
    }

    pub fn scim_type(&self) -> ScimType {
        ScimType::InvalidFilter
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "invalid filter at offset {at}: {}", self.reason),
            None => write!(f, "invalid filter: {}", self.reason),
        }
    }
}

impl std::error::Error for FilterError {}

impl Filter {
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        let mut parser = Parser::new(input)?;
        let filter = parser.filter(false)?;
        parser.expect_end()?;
        Ok(filter)
    }

    /// The equality a store can answer with an index instead of reading every user: `userName`,
    /// `externalId`, `id` or the email address equal to a string. `emails[type eq "work"]` counts
    /// because a Mijn KWH user has exactly one address and shows it as the work address; another
    /// type does not, since it would find that address under the wrong type.
    pub fn as_simple_equality(&self) -> Option<(AttrPath, &str)> {
        match self {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::String(value),
            } => {
                if ["userName", "externalId", "id", "emails.value"]
                    .iter()
                    .any(|known| path.is_core(known))
                {
                    Some((path.clone(), value))
                } else if path.is_core("emails") {
                    Some((AttrPath::core("emails", Some("value")), value))
                } else {
                    None
                }
            }
            Filter::ValuePath { attr, filter } if attr.is_core("emails") => {
                let Filter::And(left, right) = filter.as_ref() else {
                    return None;
                };
                let value = match (work_type(left), work_type(right)) {
                    (true, false) => sub_attr_equality(right, "value"),
                    (false, true) => sub_attr_equality(left, "value"),
                    _ => None,
                }?;
                Some((AttrPath::core("emails", Some("value")), value))
            }
            _ => None,
        }
    }
}

fn work_type(filter: &Filter) -> bool {
    sub_attr_equality(filter, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("work"))
}

fn sub_attr_equality<'a>(filter: &'a Filter, name: &str) -> Option<&'a str> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(value),
        } if path.is_core(name) => Some(value),
        _ => None,
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(input: &str) -> Result<Filter, FilterError> {
        Filter::parse(input)
    }
}

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn from_word(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| word.eq_ignore_ascii_case(op.as_str()))
    }
}

/// The canonical text: lower-case names and keywords, single spaces, JSON strings, and the
/// fewest parentheses that keep the tree (`and` binds tighter than `or`; both lean left).
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_filter(f, self, Binding::Or)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Or,
    And,
    Atom,
}

fn write_filter(f: &mut fmt::Formatter<'_>, filter: &Filter, context: Binding) -> fmt::Result {
    let (own, left, right) = match filter {
        Filter::Or(..) => (Binding::Or, Binding::Or, Binding::And),
        Filter::And(..) => (Binding::And, Binding::And, Binding::Atom),
        _ => (Binding::Atom, Binding::Atom, Binding::Atom),
    };
    let parenthesised = own < context;
    if parenthesised {
        f.write_str("(")?;
    }
    match filter {
        Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str())?,
        Filter::Present(path) => write!(f, "{path} pr")?,
        Filter::And(l, r) | Filter::Or(l, r) => {
            write_filter(f, l, left)?;
            f.write_str(if own == Binding::And { " and " } else { " or " })?;
            write_filter(f, r, right)?;
        }
        Filter::Not(inner) => {
            f.write_str("not (")?;
            write_filter(f, inner, Binding::Or)?;
            f.write_str(")")?;
        }
        Filter::ValuePath { attr, filter } => {
            write!(f, "{attr}[")?;
            write_filter(f, filter, Binding::Or)?;
            f.write_str("]")?;
        }
    }
    if parenthesised {
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => f.write_str(&serde_json::to_string(s).map_err(|_| fmt::Error)?),
        }
    }
}

/// A PATCH path with a value filter (RFC 7644 §3.5.2 `valuePath [subAttr]`):
/// `emails[type eq "work"].value` → (`emails`, `type eq "work"`, `Some("value")`).
pub(crate) fn parse_value_path(input: &str) -> Result<(AttrPath, Filter, Option<String>), FilterError> {
    let mut parser = Parser::new(input)?;
    let (attr, at) = parser.attribute_path()?;
    if parser.peek() != Some(&Token::LBracket) {
        return Err(FilterError::at(at, "expected `[` after the attribute"));
    }
    let filter = parser.bracketed()?;
    let sub_attr = if parser.peek() == Some(&Token::Dot) {
        parser.bump();
        Some(parser.sub_attribute()?)
    } else {
        None
    };
    parser.expect_end()?;
    Ok((attr, filter, sub_attr))
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    Word(&'a str),
    String(String),
    Number(serde_json::Number),
}

struct Parser<'a> {
    tokens: Vec<(Token<'a>, usize)>,
    position: usize,
    depth: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Parser<'a>, FilterError> {
        if input.len() > MAX_FILTER_LENGTH {
            return Err(FilterError::about(format!("longer than {MAX_FILTER_LENGTH} bytes")));
        }
        Ok(Parser {
            tokens: lex(input)?,
            position: 0,
            depth: 0,
            end: input.len(),
        })
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.position).map(|(token, _)| token)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token<'a>> {
        self.tokens.get(self.position + ahead).map(|(token, _)| token)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.position).map_or(self.end, |(_, at)| *at)
    }

    fn bump(&mut self) {
        self.position += 1;
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword))
    }

    fn expect(&mut self, expected: Token<'static>, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(&expected) {
            self.bump();
            Ok(())
        } else {
            Err(FilterError::at(self.offset(), format!("expected {what}")))
        }
    }

    fn expect_end(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(FilterError::at(
                self.offset(),
                "expected `and`, `or` or the end of the filter",
            )),
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            Err(FilterError::at(
                self.offset(),
                format!("nested deeper than {MAX_FILTER_DEPTH} levels"),
            ))
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `FILTER` (or, inside brackets, `valFilter`): terms joined by `or`.
    fn filter(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let mut left = self.conjunction(in_value_path)?;
        while self.peek_keyword("or") {
            self.bump();
            let right = self.conjunction(in_value_path)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let mut left = self.term(in_value_path)?;
        while self.peek_keyword("and") {
            self.bump();
            let right = self.term(in_value_path)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        match self.peek() {
            Some(Token::LParen) => self.parenthesised(in_value_path),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("not") && self.peek_at(1) == Some(&Token::LParen) => {
                self.bump();
                Ok(Filter::Not(Box::new(self.parenthesised(in_value_path)?)))
            }
            Some(Token::Word(_)) => self.attribute_expression(in_value_path),
            _ => Err(FilterError::at(self.offset(), "expected an attribute, `not (` or `(`")),
        }
    }

    fn parenthesised(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        self.enter()?;
        self.expect(Token::LParen, "`(`")?;
        let inner = self.filter(in_value_path)?;
        self.expect(Token::RParen, "`)`")?;
        self.leave();
        Ok(inner)
    }

    fn bracketed(&mut self) -> Result<Filter, FilterError> {
        self.enter()?;
        self.expect(Token::LBracket, "`[`")?;
        let inner = self.filter(true)?;
        self.expect(Token::RBracket, "`]`")?;
        self.leave();
        Ok(inner)
    }

    fn attribute_path(&mut self) -> Result<(AttrPath, usize), FilterError> {
        let at = self.offset();
        let Some(Token::Word(word)) = self.peek() else {
            return Err(FilterError::at(at, "expected an attribute"));
        };
        let path = match parse_name(word).map_err(|reason| FilterError::at(at, reason))? {
            ParsedName::Attribute(path) => path,
            ParsedName::Schema(urn) => {
                return Err(FilterError::at(at, format!("`{urn}` is a schema, not an attribute")));
            }
        };
        self.bump();
        Ok((path, at))
    }

    fn sub_attribute(&mut self) -> Result<String, FilterError> {
        match self.peek() {
            Some(Token::Word(word)) if is_attribute_name(word) => {
                let name = word.to_ascii_lowercase();
                self.bump();
                Ok(name)
            }
            _ => Err(FilterError::at(self.offset(), "expected a sub-attribute after `.`")),
        }
    }

    /// `attrPath op value`, `attrPath pr`, `attrPath[valFilter]`, or Entra's
    /// `attrPath[valFilter].subAttr op value`.
    fn attribute_expression(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let (path, at) = self.attribute_path()?;
        if self.peek() != Some(&Token::LBracket) {
            return self.comparison(path);
        }
        if in_value_path {
            return Err(FilterError::at(at, "a value filter cannot hold another"));
        }
        if path.sub_attr().is_some() {
            return Err(FilterError::at(
                at,
                "a value filter applies to an attribute, not a sub-attribute",
            ));
        }
        let filter = self.bracketed()?;
        if self.peek() != Some(&Token::Dot) {
            return Ok(Filter::ValuePath {
                attr: path,
                filter: Box::new(filter),
            });
        }
        self.bump();
        let sub = AttrPath::core(&self.sub_attribute()?, None);
        let sub_comparison = self.comparison(sub)?;
        Ok(Filter::ValuePath {
            attr: path,
            filter: Box::new(Filter::And(Box::new(filter), Box::new(sub_comparison))),
        })
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let at = self.offset();
        let op = match self.peek() {
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("pr") => {
                self.bump();
                return Ok(Filter::Present(path));
            }
            Some(Token::Word(word)) => CompareOp::from_word(word),
            _ => None,
        }
        .ok_or_else(|| FilterError::at(at, "expected an operator (eq ne co sw ew gt ge lt le pr)"))?;
        self.bump();
        let at = self.offset();
        let value = match self.peek() {
            Some(Token::String(s)) => CompValue::String(s.clone()),
            Some(Token::Number(n)) => CompValue::Number(n.clone()),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => {
                return Err(FilterError::at(
                    at,
                    "expected a value: a \"string\", a number, true, false or null",
                ));
            }
        };
        self.bump();
        Ok(Filter::Compare { path, op, value })
    }
}

fn lex(input: &str) -> Result<Vec<(Token<'_>, usize)>, FilterError> {
    let mut tokens = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let token = match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => Token::LParen,
            b')' => Token::RParen,
            b'[' => Token::LBracket,
            b']' => Token::RBracket,
            b'.' => Token::Dot,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return Err(FilterError::at(start, "a string without its closing quote"));
                }
                let text = serde_json::from_str::<String>(&input[start..=i])
                    .map_err(|_| FilterError::at(start, "not a JSON string (bad escape or control character)"))?;
                Token::String(text)
            }
            b'-' | b'0'..=b'9' => {
                while i + 1 < bytes.len() && matches!(bytes[i + 1], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                }
                let number = serde_json::from_str::<serde_json::Number>(&input[start..=i])
                    .map_err(|_| FilterError::at(start, "not a JSON number"))?;
                Token::Number(number)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'$' => {
                while i + 1 < bytes.len()
                    && matches!(bytes[i + 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':' | b'$')
                {
                    i += 1;
                }
                Token::Word(&input[start..=i])
            }
            _ => {
                let character = input[start..].chars().next().unwrap_or_default();
                return Err(FilterError::at(start, format!("unexpected character {character:?}")));
            }
        };
        tokens.push((token, start));
        i += 1;
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests;
