//! A single-pass, one-token-lookahead recursive-descent parser for the RFC 7644 §3.4.2.2 filter
//! grammar (Figure 1), PATCH paths (§3.5.2) and attribute lists (§3.4.2.3, §3.4.2.5).
//!
//! Every byte is looked at a bounded number of times and no alternative is ever re-tried, so the
//! running time is linear in the input; recursion only happens on `(`, `not (` and `[`, which
//! [`Limits::max_depth`] bounds.

use crate::ast::{join, AttrPath, CompValue, CompareOp, Filter, Span};
use crate::error::{Context, Error, LimitKind};

/// Bounds on what the parser accepts (ARCHITECTURE: one `Limits` per parser, safe defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum input length in bytes (default 8 KiB).
    pub max_len: usize,
    /// Maximum nesting of `( )`, `not ( )` and `[ ]` (default 32, clamped to 128 so that a host
    /// cannot configure a stack overflow).
    pub max_depth: usize,
    /// Maximum number of attribute expressions (`pr` and comparisons; default 1024).
    pub max_comparisons: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_len: 8 * 1024,
            max_depth: 32,
            max_comparisons: 1024,
        }
    }
}

impl Limits {
    /// Hard ceiling applied to `max_depth`.
    pub const DEPTH_CEILING: usize = 128;

    /// Sets `max_len`.
    pub fn with_max_len(mut self, n: usize) -> Self {
        self.max_len = n;
        self
    }

    /// Sets `max_depth` (clamped to [`Limits::DEPTH_CEILING`]).
    pub fn with_max_depth(mut self, n: usize) -> Self {
        self.max_depth = n;
        self
    }

    /// Sets `max_comparisons`.
    pub fn with_max_comparisons(mut self, n: usize) -> Self {
        self.max_comparisons = n;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A run of name characters: attribute paths and keywords.
    Word,
    Str(String),
    Num(serde_json::Number),
    /// A byte that starts no token.
    Invalid,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

/// ATTRNAME characters plus `.` (sub-attributes), `:` (URN prefixes, RFC 7644 §3.10) and `$`
/// (`$ref`, RFC 7643 §2.3.7).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'$')
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    pos: usize,
    peeked: Option<Token>,
    ctx: Context,
    limits: Limits,
    depth: usize,
    comparisons: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, ctx: Context, limits: Limits) -> Result<Self, Error> {
        if src.len() > limits.max_len {
            return Err(Error::Limit {
                context: ctx,
                offset: limits.max_len,
                limit: LimitKind::Length,
                max: limits.max_len,
            });
        }
        Ok(Parser {
            src,
            pos: 0,
            peeked: None,
            ctx,
            limits,
            depth: 0,
            comparisons: 0,
        })
    }

    fn found(&self, start: usize, end: usize) -> String {
        if start >= self.src.len() {
            return "end of input".to_owned();
        }
        let end = end.clamp(start + 1, self.src.len());
        let mut end = end.min(start + 24);
        while !self.src.is_char_boundary(end) {
            end += 1;
        }
        let mut start = start;
        while !self.src.is_char_boundary(start) {
            start -= 1;
        }
        format!("{:?}", &self.src[start..end])
    }

    fn err(&self, offset: usize, end: usize, expected: &'static str) -> Error {
        Error::Syntax {
            context: self.ctx,
            offset,
            expected,
            found: self.found(offset, end),
        }
    }

    fn err_tok(&self, t: &Token, expected: &'static str) -> Error {
        self.err(t.start, t.end, expected)
    }

    fn skip_ws(&mut self) {
        let b = self.src.as_bytes();
        while self.pos < b.len() && matches!(b[self.pos], b' ' | b'\t' | b'\r' | b'\n') {
            self.pos += 1;
        }
    }

    fn lex(&mut self) -> Result<Token, Error> {
        self.skip_ws();
        let b = self.src.as_bytes();
        let start = self.pos;
        let Some(&c) = b.get(start) else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let single = |tok| Token {
            tok,
            start,
            end: start + 1,
        };
        let t = match c {
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b'"' => return self.lex_string(),
            b'-' | b'0'..=b'9' => return self.lex_number(),
            c if c.is_ascii_alphabetic() || c == b'$' => {
                let mut end = start + 1;
                while end < b.len() && is_word_byte(b[end]) {
                    end += 1;
                }
                self.pos = end;
                return Ok(Token {
                    tok: Tok::Word,
                    start,
                    end,
                });
            }
            _ => {
                // Not a token start: let the parser say what it expected here.
                let mut end = start + 1;
                while !self.src.is_char_boundary(end) {
                    end += 1;
                }
                Token {
                    tok: Tok::Invalid,
                    start,
                    end,
                }
            }
        };
        self.pos = t.end;
        Ok(t)
    }

    /// A JSON string (RFC 7159 §7): find the closing quote in one scan, then let serde_json
    /// decode the escapes (including surrogate pairs).
    fn lex_string(&mut self) -> Result<Token, Error> {
        let b = self.src.as_bytes();
        let start = self.pos;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match b.get(i) {
                None => return Err(self.err(b.len(), b.len(), "a closing '\"'")),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(c) if *c < 0x20 => {
                    return Err(self.err(
                        i,
                        i + 1,
                        "a string character (control characters must be escaped)",
                    ))
                }
                Some(_) => i += 1,
            }
        }
        let end = i + 1;
        if !escaped {
            // No escapes: the content is the string (control characters were refused above).
            self.pos = end;
            return Ok(Token {
                tok: Tok::Str(self.src[start + 1..i].to_owned()),
                start,
                end,
            });
        }
        let text = &self.src[start..end];
        match serde_json::from_str::<String>(text) {
            Ok(s) => {
                self.pos = end;
                Ok(Token {
                    tok: Tok::Str(s),
                    start,
                    end,
                })
            }
            Err(e) => {
                // serde_json reports a column within `text`; point there.
                let col = e.column().saturating_sub(1);
                let at = (start + col).min(end - 1);
                Err(self.err(at, at + 1, "a valid JSON string escape"))
            }
        }
    }

    /// A JSON number (RFC 7159 §6): `-? (0 / [1-9]DIGIT*) [frac] [exp]`.
    fn lex_number(&mut self) -> Result<Token, Error> {
        let b = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        let digits = |i: &mut usize| {
            let s = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > s
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(self.err(i, i + 1, "a digit")),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(self.err(i, i + 1, "a digit after '.'"));
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(self.err(i, i + 1, "a digit in the exponent"));
            }
        }
        if i < b.len() && (is_word_byte(b[i]) || b[i] == b'"') {
            // `01`, `1abc`: not a number token; the parser reports what it expected here.
            self.pos = i;
            return Ok(Token {
                tok: Tok::Invalid,
                start,
                end: i + 1,
            });
        }
        // Rust's float parsing is correctly rounded, so printing and re-parsing is exact.
        let text = &self.src[start..i];
        let n = if let Ok(v) = text.parse::<i64>() {
            Some(serde_json::Number::from(v))
        } else if let Ok(v) = text.parse::<u64>() {
            Some(serde_json::Number::from(v))
        } else {
            text.parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
        };
        let n = n.ok_or_else(|| self.err(start, i, "a number in range"))?;
        self.pos = i;
        Ok(Token {
            tok: Tok::Num(n),
            start,
            end: i,
        })
    }

    fn peek(&mut self) -> Result<&Token, Error> {
        if self.peeked.is_none() {
            let t = self.lex()?;
            self.peeked = Some(t);
        }
        match &self.peeked {
            Some(t) => Ok(t),
            None => unreachable_token(),
        }
    }

    fn next(&mut self) -> Result<Token, Error> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex(),
        }
    }

    fn word(&self, t: &Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    fn is_keyword(&self, t: &Token, kw: &str) -> bool {
        t.tok == Tok::Word && self.word(t).eq_ignore_ascii_case(kw)
    }

    fn enter(&mut self, offset: usize) -> Result<(), Error> {
        self.depth += 1;
        let max = self.limits.max_depth.min(Limits::DEPTH_CEILING);
        if self.depth > max {
            return Err(Error::Limit {
                context: self.ctx,
                offset,
                limit: LimitKind::Depth,
                max,
            });
        }
        Ok(())
    }

    fn count_comparison(&mut self, offset: usize) -> Result<(), Error> {
        self.comparisons += 1;
        if self.comparisons > self.limits.max_comparisons {
            return Err(Error::Limit {
                context: self.ctx,
                offset,
                limit: LimitKind::Comparisons,
                max: self.limits.max_comparisons,
            });
        }
        Ok(())
    }

    /// RFC 7644 §3.4.2.2 `FILTER`, lowest precedence first: `or`.
    fn parse_or(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let mut left = self.parse_and(in_value_path)?;
        loop {
            let t = self.peek()?.clone();
            if !self.is_keyword(&t, "or") {
                return Ok(left);
            }
            self.next()?;
            let right = self.parse_and(in_value_path)?;
            left = left.or(right);
        }
    }

    /// `and` binds tighter than `or` (RFC 7644 §3.4.2.2, "Logical operators").
    fn parse_and(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let mut left = self.parse_unary(in_value_path)?;
        loop {
            let t = self.peek()?.clone();
            if !self.is_keyword(&t, "and") {
                return Ok(left);
            }
            self.next()?;
            let right = self.parse_unary(in_value_path)?;
            left = left.and(right);
        }
    }

    /// `not "(" FILTER ")"`, `"(" FILTER ")"`, or an attribute expression / value path.
    fn parse_unary(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let t = self.next()?;
        match &t.tok {
            Tok::LParen => {
                self.enter(t.start)?;
                let inner = self.parse_or(in_value_path)?;
                let close = self.next()?;
                if close.tok != Tok::RParen {
                    return Err(self.err_tok(&close, "\"and\", \"or\" or ')'"));
                }
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Word => {
                if self.is_keyword(&t, "not") && self.peek()?.tok == Tok::LParen {
                    // `*1"not" "(" FILTER ")"`: "not" takes precedence over "and".
                    let open = self.next()?;
                    self.enter(open.start)?;
                    let inner = self.parse_or(in_value_path)?;
                    let close = self.next()?;
                    if close.tok != Tok::RParen {
                        return Err(self.err_tok(&close, "\"and\", \"or\" or ')'"));
                    }
                    self.depth -= 1;
                    return Ok(Filter::Not(Box::new(inner), Span::new(t.start, close.end)));
                }
                self.parse_attr_exp(t, in_value_path)
            }
            _ => Err(self.err_tok(&t, "an attribute path, '(' or \"not\"")),
        }
    }

    /// `attrExp = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)` or
    /// `valuePath = attrPath "[" valFilter "]"`.
    fn parse_attr_exp(&mut self, t: Token, in_value_path: bool) -> Result<Filter, Error> {
        let path = self.attr_path(&t)?;
        if in_value_path && (path.uri.is_some() || path.sub_attr.is_some()) {
            // Inside `[ ]` paths name sub-attributes of the enclosing complex attribute, and
            // sub-attributes have no sub-attributes (RFC 7643 §2.3.8).
            return Err(self.err_tok(&t, "a sub-attribute name"));
        }
        let next = self.next()?;
        match &next.tok {
            Tok::LBracket => {
                if in_value_path {
                    return Err(self.err_tok(
                        &next,
                        "a comparison operator or \"pr\" (value paths do not nest)",
                    ));
                }
                if path.sub_attr.is_some() {
                    return Err(self.err_tok(&next, "a comparison operator or \"pr\" (a value path applies to a complex attribute, not a sub-attribute)"));
                }
                self.enter(next.start)?;
                let inner = self.parse_or(true)?;
                let close = self.next()?;
                if close.tok != Tok::RBracket {
                    return Err(self.err_tok(&close, "\"and\", \"or\" or ']'"));
                }
                self.depth -= 1;
                let span = Span::new(t.start, close.end);
                Ok(Filter::ValuePath {
                    path,
                    filter: Box::new(inner),
                    span,
                })
            }
            Tok::Word if self.is_keyword(&next, "pr") => {
                self.count_comparison(t.start)?;
                Ok(Filter::Present {
                    path,
                    span: Span::new(t.start, next.end),
                })
            }
            Tok::Word => {
                let Some(op) = CompareOp::from_keyword(self.word(&next)) else {
                    return Err(self.err_tok(
                        &next,
                        "a comparison operator (eq ne co sw ew gt ge lt le) or \"pr\"",
                    ));
                };
                self.count_comparison(t.start)?;
                let v = self.next()?;
                let (v_start, v_end) = (v.start, v.end);
                let value = match v.tok {
                    Tok::Str(s) => CompValue::String(s),
                    Tok::Num(n) => CompValue::Number(n),
                    Tok::Word if self.is_keyword(&v, "true") => CompValue::Bool(true),
                    Tok::Word if self.is_keyword(&v, "false") => CompValue::Bool(false),
                    Tok::Word if self.is_keyword(&v, "null") => CompValue::Null,
                    _ => {
                        return Err(
                            self.err_tok(&v, "a value (string, number, true, false or null)")
                        )
                    }
                };
                Ok(Filter::Compare {
                    path,
                    op,
                    value,
                    span: join(Span::new(t.start, t.end), Span::new(v_start, v_end)),
                })
            }
            _ => Err(self.err_tok(
                &next,
                "a comparison operator (eq ne co sw ew gt ge lt le), \"pr\" or '['",
            )),
        }
    }

    /// `attrPath = [URI ":"] ATTRNAME *1subAttr` (RFC 7644 §3.4.2.2, §3.10).
    fn attr_path(&self, t: &Token) -> Result<AttrPath, Error> {
        let word = self.word(t);
        let base = t.start;
        let (uri, rest, rest_off) = if word.len() > 4 && word[..4].eq_ignore_ascii_case("urn:") {
            match word.rfind(':') {
                Some(i) if i > 4 => (Some(word[..i].to_owned()), &word[i + 1..], i + 1),
                _ => {
                    return Err(self.err(
                        base + word.len(),
                        base + word.len(),
                        "a schema URN followed by ':' and an attribute name",
                    ))
                }
            }
        } else {
            (None, word, 0)
        };
        let (name, sub) = match rest.find('.') {
            Some(i) => (&rest[..i], Some((&rest[i + 1..], i + 1))),
            None => (rest, None),
        };
        self.check_attr_name(name, base + rest_off)?;
        let sub_attr = match sub {
            Some((s, off)) => {
                self.check_attr_name(s, base + rest_off + off)?;
                Some(s.to_owned())
            }
            None => None,
        };
        Ok(AttrPath {
            uri,
            name: name.to_owned(),
            sub_attr,
            span: Span::new(t.start, t.end),
        })
    }

    /// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA` (RFC 7644 §3.4.2.2),
    /// plus `$ref` (RFC 7643 §2.3.7 names reference sub-attributes `$ref`).
    fn check_attr_name(&self, name: &str, offset: usize) -> Result<(), Error> {
        if name.eq_ignore_ascii_case("$ref") {
            return Ok(());
        }
        let b = name.as_bytes();
        match b.first() {
            Some(c) if c.is_ascii_alphabetic() => {}
            _ => return Err(self.err(offset, offset + 1, "an attribute name (a letter first)")),
        }
        for (i, c) in b.iter().enumerate().skip(1) {
            if !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_') {
                return Err(self.err(
                    offset + i,
                    offset + i + 1,
                    "an attribute name character (letter, digit, '-' or '_')",
                ));
            }
        }
        Ok(())
    }

    fn expect_eof(&mut self, expected: &'static str) -> Result<(), Error> {
        let t = self.next()?;
        if t.tok != Tok::Eof {
            return Err(self.err_tok(&t, expected));
        }
        Ok(())
    }
}

fn unreachable_token() -> Result<&'static Token, Error> {
    // `peek` fills `peeked` right before reading it; this arm cannot be reached, but returning an
    // error keeps the parser free of panics.
    Err(Error::Syntax {
        context: Context::Filter,
        offset: 0,
        expected: "a token",
        found: "internal state".to_owned(),
    })
}

/// Parses a filter with the default [`Limits`] (RFC 7644 §3.4.2.2).
///
/// ```
/// let f = idforge_scim_filter::parse_filter(r#"userName Eq "john" and not (title pr)"#)?;
/// assert_eq!(f.to_string(), r#"userName eq "john" and not (title pr)"#);
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
pub fn parse_filter(input: &str) -> Result<Filter, Error> {
    parse_filter_with(input, &Limits::default())
}

/// Parses a filter with explicit [`Limits`].
pub fn parse_filter_with(input: &str, limits: &Limits) -> Result<Filter, Error> {
    let mut p = Parser::new(input, Context::Filter, *limits)?;
    let f = p.parse_or(false)?;
    p.expect_eof("\"and\", \"or\" or end of input")?;
    Ok(f)
}

/// A PATCH operation path: `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The target attribute (with a sub-attribute only when there is no value filter).
    pub attr: AttrPath,
    /// The `[valFilter]` selecting elements of a multi-valued complex attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after the value filter: `addresses[type eq "work"].streetAddress`.
    pub sub_attr: Option<String>,
    /// Source span.
    pub span: Span,
}

impl std::fmt::Display for PatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(flt) = &self.filter {
            write!(f, "[{flt}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Parses a PATCH `path` (RFC 7644 §3.5.2). Errors map to `scimType` `invalidPath`.
///
/// ```
/// let p = idforge_scim_filter::parse_patch_path(r#"addresses[type eq "work"].streetAddress"#)?;
/// assert_eq!(p.sub_attr.as_deref(), Some("streetAddress"));
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
pub fn parse_patch_path(input: &str) -> Result<PatchPath, Error> {
    parse_patch_path_with(input, &Limits::default())
}

/// Parses a PATCH `path` with explicit [`Limits`].
pub fn parse_patch_path_with(input: &str, limits: &Limits) -> Result<PatchPath, Error> {
    let mut p = Parser::new(input, Context::PatchPath, *limits)?;
    let t = p.next()?;
    if t.tok != Tok::Word {
        return Err(p.err_tok(&t, "an attribute path"));
    }
    let attr = p.attr_path(&t)?;
    let after = p.peek()?.clone();
    if after.tok != Tok::LBracket {
        p.expect_eof("'[' or end of input")?;
        return Ok(PatchPath {
            attr,
            filter: None,
            sub_attr: None,
            span: Span::new(t.start, t.end),
        });
    }
    if attr.sub_attr.is_some() {
        return Err(p.err_tok(
            &after,
            "end of input (a value path applies to a complex attribute, not a sub-attribute)",
        ));
    }
    p.next()?;
    p.enter(after.start)?;
    let inner = p.parse_or(true)?;
    let close = p.next()?;
    if close.tok != Tok::RBracket {
        return Err(p.err_tok(&close, "\"and\", \"or\" or ']'"));
    }
    p.depth -= 1;
    let mut end = close.end;
    // `valuePath [subAttr]`: the '.' must follow ']' directly.
    let sub_attr = if p.src.as_bytes().get(close.end) == Some(&b'.') {
        let s = close.end + 1;
        let b = p.src.as_bytes();
        let mut e = s;
        while e < b.len() && is_word_byte(b[e]) {
            e += 1;
        }
        let name = &p.src[s..e];
        p.check_attr_name(name, s)?;
        p.pos = e;
        end = e;
        Some(name.to_owned())
    } else {
        None
    };
    p.expect_eof("a '.' sub-attribute or end of input")?;
    Ok(PatchPath {
        attr,
        filter: Some(inner),
        sub_attr,
        span: Span::new(t.start, end),
    })
}

/// Parses a single attribute path, e.g. the `sortBy` parameter (RFC 7644 §3.4.2.3).
pub fn parse_attr_path(input: &str) -> Result<AttrPath, Error> {
    parse_one_path(input, 0, Context::SortBy, &Limits::default())
}

fn parse_one_path(
    input: &str,
    base: usize,
    ctx: Context,
    limits: &Limits,
) -> Result<AttrPath, Error> {
    let mut p = Parser::new(input, ctx, *limits)?;
    let t = p.next()?;
    if t.tok != Tok::Word {
        return Err(p.err_tok(&t, "an attribute path").shift(base));
    }
    let mut path = p.attr_path(&t).map_err(|e| e.shift(base))?;
    p.expect_eof("end of the attribute path")
        .map_err(|e| e.shift(base))?;
    path.span = Span::new(path.span.start + base, path.span.end + base);
    Ok(path)
}

/// Parses an `attributes` or `excludedAttributes` list: comma-separated attribute paths
/// (RFC 7644 §3.4.2.5). Spaces around commas are allowed; empty items are not.
///
/// ```
/// let l = idforge_scim_filter::parse_attribute_list("userName, name.familyName")?;
/// assert_eq!(l.len(), 2);
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
pub fn parse_attribute_list(input: &str) -> Result<Vec<AttrPath>, Error> {
    let limits = Limits::default();
    if input.len() > limits.max_len {
        return Err(Error::Limit {
            context: Context::AttributeList,
            offset: limits.max_len,
            limit: LimitKind::Length,
            max: limits.max_len,
        });
    }
    let mut out = Vec::new();
    let mut start = 0;
    for piece in input.split(',') {
        out.push(parse_one_path(
            piece,
            start,
            Context::AttributeList,
            &limits,
        )?);
        start += piece.len() + 1;
        if out.len() > limits.max_comparisons {
            return Err(Error::Limit {
                context: Context::AttributeList,
                offset: start,
                limit: LimitKind::Comparisons,
                max: limits.max_comparisons,
            });
        }
    }
    Ok(out)
}

impl Error {
    fn shift(mut self, base: usize) -> Self {
        if let Error::Syntax { offset, .. } = &mut self {
            *offset += base;
        }
        self
    }
}
