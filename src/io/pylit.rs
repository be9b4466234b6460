//! A small, strict parser for the Python literals in a `.npy` header.
//!
//! NumPy writes the header with `repr` of a dict and reads it with `ast.literal_eval`. This parser accepts
//! the subset that can describe an array: dicts, tuples, lists, strings without escapes, decimal integers
//! (with Python 2's `L` suffix), `True`, `False` and `None`. Anything else is an error that says where and
//! what. Nesting is capped, so a hostile header cannot exhaust the stack.

use std::fmt;

/// A parsed literal.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Str(String),
    /// A decimal integer, kept as text (sign included) so any size parses; the caller converts it.
    Int(String),
    Bool(bool),
    None,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// Key/value pairs in the order written.
    Dict(Vec<(Value, Value)>),
}

impl Value {
    /// What kind of value this is, for error messages ("a list", "the string '<f4'").
    pub fn describe(&self) -> String {
        match self {
            Value::Str(s) => format!("the string '{s}'"),
            Value::Int(i) => format!("the integer {i}"),
            Value::Bool(b) => (if *b { "True" } else { "False" }).to_string(),
            Value::None => "None".into(),
            Value::Tuple(_) => "a tuple".into(),
            Value::List(_) => "a list".into(),
            Value::Dict(_) => "a dict".into(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(
            f: &mut fmt::Formatter<'_>,
            items: &[Value],
            open: &str,
            close: &str,
        ) -> fmt::Result {
            f.write_str(open)?;
            for (i, v) in items.iter().enumerate() {
                write!(f, "{}{v}", if i > 0 { ", " } else { "" })?;
            }
            if open == "(" && items.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(close)
        }
        match self {
            Value::Str(s) => write!(f, "'{s}'"),
            Value::Int(i) => f.write_str(i),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::None => f.write_str("None"),
            Value::Tuple(items) => seq(f, items, "(", ")"),
            Value::List(items) => seq(f, items, "[", "]"),
            Value::Dict(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    write!(f, "{}{k}: {v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Deeper nesting than this is rejected (an array header needs 2 levels; structured dtypes a few more).
const MAX_DEPTH: usize = 32;

/// Parses `text` as exactly one literal, surrounded by optional whitespace. `python2_longs` accepts
/// integers written `3L`, as Python 2 wrote them in version 1.0 and 2.0 headers.
pub(crate) fn parse(text: &str, python2_longs: bool) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        python2_longs,
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(p.unexpected("the end of the header"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    python2_longs: bool,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// "expected X at offset N, found 'c'" (or "found the end of the header").
    fn unexpected(&self, expected: &str) -> String {
        match self.peek() {
            None => format!(
                "expected {expected} at offset {}, found the end of the header",
                self.pos
            ),
            Some(c) if c.is_ascii_graphic() || c == b' ' => {
                format!(
                    "expected {expected} at offset {}, found '{}'",
                    self.pos, c as char
                )
            }
            Some(c) => format!(
                "expected {expected} at offset {}, found byte 0x{c:02x}",
                self.pos
            ),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth >= MAX_DEPTH {
            return Err(format!(
                "literals nested more than {MAX_DEPTH} deep at offset {}",
                self.pos
            ));
        }
        match self.peek() {
            Some(b'{') => self.dict(depth),
            Some(b'(') => self.tuple(depth),
            Some(b'[') => {
                self.pos += 1;
                let (items, _) = self.items(b']', depth)?;
                Ok(Value::List(items))
            }
            Some(b'\'' | b'"') => self.string(),
            Some(b'0'..=b'9' | b'-' | b'+') => self.int(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.name(),
            _ => Err(self.unexpected("a value")),
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1; // '{'
        let mut pairs = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(Value::Dict(pairs));
            }
            let key = self.value(depth + 1)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("':' after a dict key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.unexpected("',' or '}' in a dict")),
            }
        }
    }

    /// `(x)` is `x` in Python; `()`, `(x,)` and `(x, y)` are tuples.
    fn tuple(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1; // '('
        let (mut items, trailing_comma) = self.items(b')', depth)?;
        if items.len() == 1 && !trailing_comma {
            return Ok(items.pop().unwrap_or(Value::None));
        }
        Ok(Value::Tuple(items))
    }

    /// Comma-separated values up to `close` (consumed); also says whether a comma ended the list.
    fn items(&mut self, close: u8, depth: usize) -> Result<(Vec<Value>, bool), String> {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, trailing_comma));
            }
            if trailing_comma || items.is_empty() {
                items.push(self.value(depth + 1)?);
            } else {
                return Err(self.unexpected(&format!("',' or '{}'", close as char)));
            }
            self.skip_ws();
            trailing_comma = false;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    trailing_comma = true;
                }
                Some(c) if c == close => {}
                _ => return Err(self.unexpected(&format!("',' or '{}'", close as char))),
            }
        }
    }

    fn string(&mut self) -> Result<Value, String> {
        let quote = self.s[self.pos];
        let start = self.pos + 1;
        let mut end = start;
        loop {
            match self.s.get(end) {
                None | Some(b'\n') => {
                    self.pos = start - 1;
                    return Err(format!(
                        "unterminated string starting at offset {}",
                        self.pos
                    ));
                }
                Some(b'\\') => {
                    return Err(format!(
                        "escape sequences in strings are not supported (offset {end})"
                    ));
                }
                Some(&c) if c == quote => break,
                Some(_) => end += 1,
            }
        }
        // The input came from a &str and the quotes are ASCII, so this slice is valid UTF-8.
        let text = String::from_utf8_lossy(&self.s[start..end]).into_owned();
        self.pos = end + 1;
        Ok(Value::Str(text))
    }

    fn int(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let mut text = String::new();
        if let Some(sign @ (b'-' | b'+')) = self.peek() {
            if sign == b'-' {
                text.push('-');
            }
            self.pos += 1;
            self.skip_ws();
        }
        let digits_start = self.pos;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            text.push(c as char);
            self.pos += 1;
        }
        let digits = &self.s[digits_start..self.pos];
        if digits.is_empty() {
            return Err(self.unexpected("a digit"));
        }
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(format!("integer with a leading zero at offset {start}"));
        }
        if self.python2_longs && matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        if let Some(c) = self.peek()
            && (c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        {
            return Err(format!(
                "only decimal integers are supported, found '{}' after the digits at offset {}",
                c as char, self.pos
            ));
        }
        if text == "-0" {
            text = "0".into();
        }
        Ok(Value::Int(text))
    }

    fn name(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while let Some(c) = self.peek()
            && (c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        match &self.s[start..self.pos] {
            b"True" => Ok(Value::Bool(true)),
            b"False" => Ok(Value::Bool(false)),
            b"None" => Ok(Value::None),
            other => Err(format!(
                "unknown name '{}' at offset {start} (a header holds only literals)",
                String::from_utf8_lossy(other)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }
    fn i(x: &str) -> Value {
        Value::Int(x.into())
    }

    #[test]
    fn parses_what_numpy_writes() {
        let v = parse(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n",
            false,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Dict(vec![
                (s("descr"), s("<f4")),
                (s("fortran_order"), Value::Bool(false)),
                (s("shape"), Value::Tuple(vec![i("2"), i("3")])),
            ])
        );
        assert_eq!(parse("()", false).unwrap(), Value::Tuple(vec![]));
        assert_eq!(parse("(3,)", false).unwrap(), Value::Tuple(vec![i("3")]));
        assert_eq!(parse("(3)", false).unwrap(), i("3"));
        assert_eq!(
            parse("[('a', '<f4')]", false).unwrap().to_string(),
            "[('a', '<f4')]"
        );
        assert_eq!(parse("\"x\"", false).unwrap(), s("x"));
        assert_eq!(parse("-7", false).unwrap(), i("-7"));
        assert_eq!(parse("3L", true).unwrap(), i("3"));
    }

    #[test]
    fn rejects_what_is_not_a_plain_literal() {
        let cases = [
            (
                "{'a': 1",
                "expected ',' or '}' in a dict at offset 7, found the end of the header",
            ),
            (
                "{'a' 1}",
                "expected ':' after a dict key at offset 5, found '1'",
            ),
            ("(1 2)", "expected ',' or ')' at offset 3, found '2'"),
            ("(1,,)", "expected a value at offset 3, found ','"),
            ("'abc", "unterminated string starting at offset 0"),
            (
                "'a\\'b'",
                "escape sequences in strings are not supported (offset 2)",
            ),
            (
                "0x10",
                "only decimal integers are supported, found 'x' after the digits at offset 1",
            ),
            (
                "1.5",
                "only decimal integers are supported, found '.' after the digits at offset 1",
            ),
            ("007", "integer with a leading zero at offset 0"),
            (
                "3L",
                "only decimal integers are supported, found 'L' after the digits at offset 1",
            ),
            (
                "__import__",
                "unknown name '__import__' at offset 0 (a header holds only literals)",
            ),
            (
                "{} {}",
                "expected the end of the header at offset 3, found '{'",
            ),
            (
                "",
                "expected a value at offset 0, found the end of the header",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, false).unwrap_err(), want, "{text:?}");
        }
        let deep = "[".repeat(1000);
        assert_eq!(
            parse(&deep, false).unwrap_err(),
            "literals nested more than 32 deep at offset 32"
        );
    }
}
