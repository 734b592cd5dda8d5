//! Durations as people write them: `"20m"`, `"1h30m"`, `"90s"`, `"250ms"`, `"2d"`, or an
//! integer number of milliseconds.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Duration(pub u64);

const UNITS: [(&str, u64); 5] = [
    ("ms", 1),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
];

impl Duration {
    /// Milliseconds.
    pub fn ms(self) -> u64 {
        self.0
    }

    /// Parses `"1h30m"`-style text (units d, h, m, s, ms, in any combination) or a bare integer
    /// of milliseconds.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "invalid duration {text:?}: expected numbers with units d, h, m, s or ms, like \"20m\", \"1h30m\", \"90s\" or \"250ms\", or an integer of milliseconds"
            )
        };
        if t.is_empty() {
            return Err(bad());
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse()
                .map(Duration)
                .map_err(|_| format!("duration {text:?} is too large"));
        }
        let mut total: u64 = 0;
        let mut rest = t;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("duration {text:?} is too large"))?;
            rest = &rest[digits..];
            let Some(&(unit, ms)) = UNITS.iter().find(|(u, _)| rest.starts_with(u)) else {
                return Err(bad());
            };
            rest = &rest[unit.len()..];
            total = n
                .checked_mul(ms)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| format!("duration {text:?} is too large"))?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// The shortest form that parses back: `"1h30m"`, `"90s"` is written `"1m30s"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut left = self.0;
        for (unit, ms) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
        ] {
            if left >= ms {
                write!(f, "{}{unit}", left / ms)?;
                left %= ms;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration like \"20m\", \"1h30m\", \"90s\", or an integer of milliseconds")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v)
            .map(Duration)
            .map_err(|_| E::custom(format!("duration {v} is negative; durations are 0 or more")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Err(E::custom(format!(
            "duration {v} is not a whole number of milliseconds; write \"90s\" or 90000"
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        Duration::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: numbers with units d, h, m, s or ms (\"20m\", \"1h30m\", \"90s\"), or an integer of milliseconds",
            "oneOf": [
                { "type": "string", "pattern": "^\\s*(\\d+|(\\d+(ms|d|h|m|s))+)\\s*$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

/// A duration that must be positive, for the schema only.
struct PositiveDuration;

impl JsonSchema for PositiveDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PositiveDuration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let unit = "(ms|d|h|m|s)";
        schemars::json_schema!({
            "description": "A positive duration: numbers with units d, h, m, s or ms (\"20m\", \"1h30m\", \"90s\"), or an integer of milliseconds; not 0",
            "oneOf": [
                {
                    "type": "string",
                    "pattern": format!("^\\s*([0-9]*[1-9][0-9]*|([0-9]+{unit})*[0-9]*[1-9][0-9]*{unit}([0-9]+{unit})*)\\s*$")
                },
                { "type": "integer", "minimum": 1 }
            ]
        })
    }
}

/// The schema of a duration field that must be positive.
pub(crate) fn positive_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<PositiveDuration>()
}

/// [`positive_schema`], or `null` (an optional field left out).
pub(crate) fn positive_option_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let inner = serde_json::Value::from(positive_schema(g));
    schemars::json_schema!({ "anyOf": [inner, { "type": "null" }] })
}

#[cfg(test)]
mod tests {
    use super::Duration;

    #[test]
    fn parses_and_prints() {
        for (text, ms) in [
            ("20m", 1_200_000),
            ("1h30m", 5_400_000),
            ("90s", 90_000),
            ("250ms", 250),
            ("2d", 172_800_000),
            ("1500", 1500),
            ("1m30s500ms", 90_500),
        ] {
            assert_eq!(Duration::parse(text), Ok(Duration(ms)), "{text}");
            assert_eq!(Duration::parse(&Duration(ms).to_string()), Ok(Duration(ms)));
        }
        for bad in [
            "",
            "5x",
            "m",
            "1.5h",
            "-3s",
            "1h 30m",
            "99999999999999999999s",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Duration(5_400_000).to_string(), "1h30m");
    }
}
