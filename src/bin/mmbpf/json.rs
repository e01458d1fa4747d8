//! A small JSON value and writer: ordered objects, integers, strings with correct escaping.

use std::fmt::Write as _;

/// A JSON value. Objects keep their keys in insertion order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A non-negative integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An empty object.
    pub fn object() -> Json {
        Json::Object(Vec::new())
    }

    /// Add `key: value` to an object (no-op on other values), builder style.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Json>) -> Json {
        self.insert(key, value);
        self
    }

    /// Add `key: value` to an object (no-op on other values).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Json>) {
        if let Json::Object(fields) = self {
            fields.push((key.into(), value.into()));
        }
    }

    /// Compact text, no trailing newline.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Json::I64(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string literal: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`
/// escapes, and U+2028/U+2029 escaped so the output is also valid JavaScript.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::U64(n)
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Json {
        Json::U64(n.into())
    }
}

impl From<usize> for Json {
    fn from(n: usize) -> Json {
        Json::U64(n as u64)
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Json {
        Json::I64(n)
    }
}

impl From<i32> for Json {
    fn from(n: i32) -> Json {
        Json::I64(n.into())
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<Vec<Json>> for Json {
    fn from(v: Vec<Json>) -> Json {
        Json::Array(v)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_and_nesting() {
        let j = Json::object()
            .with(
                "maps",
                Json::object().with(
                    "counts",
                    Json::object().with("type", "array").with("mmapable", true),
                ),
            )
            .with(
                "list",
                vec![Json::U64(1), Json::I64(-2), Json::Null, Json::Bool(false)],
            )
            .with("empty", Json::object())
            .with("none", Json::from(None::<u32>));
        assert_eq!(
            j.to_text(),
            r#"{"maps":{"counts":{"type":"array","mmapable":true}},"list":[1,-2,null,false],"empty":{},"none":null}"#
        );
        assert_eq!(Json::Array(vec![]).to_text(), "[]");
        assert_eq!(Json::U64(u64::MAX).to_text(), "18446744073709551615");
        assert_eq!(Json::I64(i64::MIN).to_text(), "-9223372036854775808");
    }

    #[test]
    fn string_escaping() {
        let s =
            Json::from("a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}j\u{7f}k\u{2028}l/é😀").to_text();
        assert_eq!(
            s,
            r#""a\"b\\c\nd\re\tf\bg\fh\u0001i\u001fj\u007fk\u2028l/é😀""#
        );
        let mut out = String::new();
        write_string(&mut out, "");
        assert_eq!(out, r#""""#);
        // Keys are escaped too.
        assert_eq!(
            Json::object().with("on_getpid.____fmt\"", 1u32).to_text(),
            r#"{"on_getpid.____fmt\"":1}"#
        );
    }
}
