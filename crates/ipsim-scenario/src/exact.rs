//! Exact numbers for the request rule: docs/model.md computes
//! `ceil(rps * latency_s / (concurrency * target_utilization))` "exactly on the decimal values
//! as written (no floating-point rounding either way)".
//!
//! [`Exact`] is a non-negative rational `num / den` over a small unsigned big integer, so that
//! no product or sum of the values involved can overflow or round. Decimal text is read digit
//! by digit ([`Exact::parse`]); an `f64` that is the result of a computation (a diurnal sine)
//! is read as its exact binary value ([`Exact::from_f64`]). [`Exact::ceil`] rounds up to an
//! instance count, or says the count does not fit in `u32`.

use std::cmp::Ordering;

/// Most significant digits a decimal may have (far beyond any measured rate).
pub const MAX_DIGITS: usize = 1000;
/// Largest power of ten, either way, a decimal may carry.
pub const MAX_EXPONENT: i64 = 1000;

/// An unsigned integer of any size: little-endian 64-bit limbs without high zero limbs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Big(Vec<u64>);

impl Big {
    fn from_u128(v: u128) -> Big {
        let mut b = Big(vec![v as u64, (v >> 64) as u64]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn to_u128(&self) -> Option<u128> {
        match self.0.as_slice() {
            [] => Some(0),
            [a] => Some(u128::from(*a)),
            [a, b] => Some(u128::from(*a) | (u128::from(*b) << 64)),
            _ => None,
        }
    }

    /// `self * m + a`.
    fn mul_add_small(&self, m: u64, a: u64) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = u128::from(a);
        for &l in &self.0 {
            let v = u128::from(l) * u128::from(m) + carry;
            out.push(v as u64);
            carry = v >> 64;
        }
        out.push(carry as u64);
        let mut b = Big(out);
        b.trim();
        b
    }

    fn mul(&self, o: &Big) -> Big {
        if self.is_zero() || o.is_zero() {
            return Big::default();
        }
        let mut out = vec![0u64; self.0.len() + o.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in o.0.iter().enumerate() {
                let v = u128::from(a) * u128::from(b) + u128::from(out[i + j]) + carry;
                out[i + j] = v as u64;
                carry = v >> 64;
            }
            out[i + o.0.len()] = carry as u64;
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn add(&self, o: &Big) -> Big {
        let n = self.0.len().max(o.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u128;
        for i in 0..n {
            let v = u128::from(self.0.get(i).copied().unwrap_or(0))
                + u128::from(o.0.get(i).copied().unwrap_or(0))
                + carry;
            out.push(v as u64);
            carry = v >> 64;
        }
        out.push(carry as u64);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self - o`, for `self >= o`.
    fn sub(&self, o: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0u64;
        for (i, &a) in self.0.iter().enumerate() {
            let b = o.0.get(i).copied().unwrap_or(0);
            let (d, b1) = a.overflowing_sub(b);
            let (d, b2) = d.overflowing_sub(borrow);
            out.push(d);
            borrow = u64::from(b1 || b2);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self * 2^bits`.
    fn shl(&self, bits: u32) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (limbs, bits) = ((bits / 64) as usize, bits % 64);
        let mut out = vec![0u64; limbs];
        let mut carry = 0u64;
        for &l in &self.0 {
            if bits == 0 {
                out.push(l);
            } else {
                out.push((l << bits) | carry);
                carry = l >> (64 - bits);
            }
        }
        out.push(carry);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `10^e`.
    fn pow10(e: u32) -> Big {
        let mut b = Big(vec![1]);
        let mut left = e;
        while left > 0 {
            let step = left.min(19);
            b = b.mul_add_small(10u64.pow(step), 0);
            left -= step;
        }
        b
    }

    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }
}

/// A non-negative rational number held exactly: `num / den`, `den > 0`.
#[derive(Clone, Debug)]
pub struct Exact {
    num: Big,
    den: Big,
}

impl PartialEq for Exact {
    fn eq(&self, o: &Exact) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Exact {}

impl PartialOrd for Exact {
    fn partial_cmp(&self, o: &Exact) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Exact {
    fn cmp(&self, o: &Exact) -> Ordering {
        self.num.mul(&o.den).cmp(&o.num.mul(&self.den))
    }
}

/// Why decimal text is not an [`Exact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not a decimal number (`"abc"`, `""`, `"1.2.3"`).
    NotANumber,
    /// Infinity or NaN.
    NotFinite,
    /// Below zero.
    Negative,
    /// More than [`MAX_DIGITS`] significant digits, or a power of ten beyond
    /// [`MAX_EXPONENT`].
    OutOfRange,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseError::NotANumber => "not a number",
            ParseError::NotFinite => "not a finite number",
            ParseError::Negative => "below 0",
            ParseError::OutOfRange => {
                "out of the range ipsim computes exactly (at most 1000 significant digits and powers of ten from 1e-1000 to 1e1000)"
            }
        })
    }
}

impl Exact {
    /// Zero.
    pub fn zero() -> Exact {
        Exact::int(0)
    }

    /// A whole number.
    pub fn int(v: u64) -> Exact {
        Exact {
            num: Big::from_u128(u128::from(v)),
            den: Big(vec![1]),
        }
    }

    /// `num / den`; `None` if `den` is 0.
    pub fn ratio(num: u64, den: u64) -> Option<Exact> {
        (den > 0).then(|| Exact {
            num: Big::from_u128(u128::from(num)),
            den: Big::from_u128(u128::from(den)),
        })
    }

    /// The value of decimal text as written: `48.00000002`, `6e-1`, `+.5`, `7.`; surrounding
    /// spaces are ignored, `-0` is 0.
    pub fn parse(text: &str) -> Result<Exact, ParseError> {
        let t = text.trim();
        let lower = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
            return Err(ParseError::NotFinite);
        }
        let (neg, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mant, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], &mant[i + 1..]),
            None => (mant, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
            return Err(ParseError::NotANumber);
        }
        let mut e10: i64 = match exp {
            None => 0,
            Some(x) => {
                let d = x.strip_prefix(['+', '-']).unwrap_or(x);
                if d.is_empty() || !digits(d) {
                    return Err(ParseError::NotANumber);
                }
                let d = d.trim_start_matches('0');
                if d.len() > 6 {
                    return Err(ParseError::OutOfRange);
                }
                let v: i64 = d.parse().unwrap_or(0);
                if x.starts_with('-') { -v } else { v }
            }
        };
        // The significant digits, without leading and trailing zeros.
        let all: String = [int, frac].concat();
        let lead = all.len() - all.trim_start_matches('0').len();
        let sig = all[lead..].trim_end_matches('0');
        if sig.is_empty() {
            return Ok(Exact::zero());
        }
        if neg {
            return Err(ParseError::Negative);
        }
        let trailing = all.len() - lead - sig.len();
        e10 += trailing as i64 - frac.len() as i64;
        if sig.len() > MAX_DIGITS || e10.abs() > MAX_EXPONENT {
            return Err(ParseError::OutOfRange);
        }
        let mut num = Big::default();
        for chunk in sig.as_bytes().chunks(19) {
            let v = chunk
                .iter()
                .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
            num = num.mul_add_small(10u64.pow(chunk.len() as u32), v);
        }
        let p = Big::pow10(e10.unsigned_abs() as u32);
        Ok(if e10 >= 0 {
            Exact {
                num: num.mul(&p),
                den: Big(vec![1]),
            }
        } else {
            Exact { num, den: p }
        })
    }

    /// The exact binary value of a finite `f64` of 0 or more (`-0.0` is 0); `None` otherwise.
    pub fn from_f64(v: f64) -> Option<Exact> {
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e2) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp - 1075)
        };
        let m = Big::from_u128(u128::from(m));
        Some(if e2 >= 0 {
            Exact {
                num: m.shl(e2.unsigned_abs()),
                den: Big(vec![1]),
            }
        } else {
            Exact {
                num: m,
                den: Big(vec![1]).shl(e2.unsigned_abs()),
            }
        })
    }

    /// The value an `f64` prints as (its shortest round-trip decimal): how a number that was
    /// written as decimal text but is only known as an `f64` reads back.
    pub fn from_f64_decimal(v: f64) -> Option<Exact> {
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        Exact::parse(&v.to_string()).ok()
    }

    /// `(num, den)` when both fit in `u64` (not reduced), for compact storage.
    pub(crate) fn as_u64_ratio(&self) -> Option<(u64, u64)> {
        let n = u64::try_from(self.num.to_u128()?).ok()?;
        let d = u64::try_from(self.den.to_u128()?).ok()?;
        Some((n, d))
    }

    /// Whether it is 0.
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// `self * o`.
    pub fn mul(&self, o: &Exact) -> Exact {
        Exact {
            num: self.num.mul(&o.num),
            den: self.den.mul(&o.den),
        }
    }

    /// `self + o`.
    pub fn add(&self, o: &Exact) -> Exact {
        if self.den == o.den {
            return Exact {
                num: self.num.add(&o.num),
                den: self.den.clone(),
            };
        }
        Exact {
            num: self.num.mul(&o.den).add(&o.num.mul(&self.den)),
            den: self.den.mul(&o.den),
        }
    }

    /// `self - o`, or 0 if `o` is larger.
    pub fn sub_or_zero(&self, o: &Exact) -> Exact {
        let (a, b) = (self.num.mul(&o.den), o.num.mul(&self.den));
        if a.cmp(&b) != Ordering::Greater {
            return Exact::zero();
        }
        Exact {
            num: a.sub(&b),
            den: self.den.mul(&o.den),
        }
    }

    /// `self / o`; `None` if `o` is 0.
    pub fn div(&self, o: &Exact) -> Option<Exact> {
        (!o.is_zero()).then(|| Exact {
            num: self.num.mul(&o.den),
            den: self.den.mul(&o.num),
        })
    }

    /// About the value as an `f64` (within a few units in the last place while in the `f64`
    /// range), for messages and statistics only.
    pub fn to_f64(&self) -> f64 {
        // Scale both to at most 64 significant bits: the quotient keeps about 63 bits.
        fn top(b: &Big) -> (f64, i64) {
            let n = b.0.len();
            match n {
                0 => (0.0, 0),
                1 => (b.0[0] as f64, 0),
                _ => {
                    let hi = (b.0[n - 1] as f64) * 18_446_744_073_709_551_616.0 + b.0[n - 2] as f64;
                    (hi, 64 * (n as i64 - 2))
                }
            }
        }
        let (n, en) = top(&self.num);
        let (d, ed) = top(&self.den);
        let e = (en - ed).clamp(-2000, 2000) as i32;
        n / d * 2f64.powi(e)
    }

    /// The value rounded up: `None` if that is above `u32::MAX`.
    pub fn ceil(&self) -> Option<u32> {
        if self.num.is_zero() {
            return Some(0);
        }
        if let (Some(n), Some(d)) = (self.num.to_u128(), self.den.to_u128()) {
            let q = n / d + u128::from(n % d != 0);
            return u32::try_from(q).ok();
        }
        // ceil(n / d) > u32::MAX exactly when n > d * u32::MAX.
        if self
            .num
            .cmp(&self.den.mul_add_small(u64::from(u32::MAX), 0))
            == Ordering::Greater
        {
            return None;
        }
        // The least k in [1, u32::MAX] with d * k >= n.
        let (mut lo, mut hi) = (1u64, u64::from(u32::MAX));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.den.mul_add_small(mid, 0).cmp(&self.num) == Ordering::Less {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        u32::try_from(lo).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(s: &str) -> Exact {
        Exact::parse(s).unwrap()
    }

    #[test]
    fn parses_decimals_as_written() {
        assert_eq!(
            x("48.00000002"),
            Exact::ratio(4_800_000_002, 100_000_000).unwrap()
        );
        assert_eq!(x("0.1").add(&x("0.2")), x("0.3"));
        assert_eq!(x("6e-1"), x("0.6"));
        assert_eq!(x(" +.5 "), Exact::ratio(1, 2).unwrap());
        assert_eq!(x("7."), Exact::int(7));
        assert_eq!(x("-0.000"), Exact::zero());
        assert_eq!(x("1E3"), Exact::int(1000));
        assert_eq!(x("00120.0500e+1"), x("1200.5"));
        assert!(x("0.30000000000000004") > x("0.3"));
        for bad in [
            "", ".", "e5", "1e", "1.2.3", "abc", "1e+", "--1", "0x10", "1_000",
        ] {
            assert_eq!(Exact::parse(bad), Err(ParseError::NotANumber), "{bad:?}");
        }
        assert_eq!(Exact::parse("inf"), Err(ParseError::NotFinite));
        assert_eq!(Exact::parse("-NaN"), Err(ParseError::NotFinite));
        assert_eq!(Exact::parse("-1"), Err(ParseError::Negative));
        assert_eq!(Exact::parse("1e1001"), Err(ParseError::OutOfRange));
        assert_eq!(
            Exact::parse("1e99999999999999"),
            Err(ParseError::OutOfRange)
        );
        assert_eq!(Exact::parse(&"9".repeat(1001)), Err(ParseError::OutOfRange));
        // Zeros do not count: a long zero or trailing zeros are fine.
        assert_eq!(
            Exact::parse(&format!("0.{}", "0".repeat(5000))),
            Ok(Exact::zero())
        );
        assert_eq!(x("1e1000").cmp(&x("1e999")), Ordering::Greater);
    }

    #[test]
    fn binary_values_are_exact() {
        assert_eq!(Exact::from_f64(0.5), Some(Exact::ratio(1, 2).unwrap()));
        assert_eq!(Exact::from_f64(-0.0), Some(Exact::zero()));
        assert_eq!(Exact::from_f64(-1.0), None);
        assert_eq!(Exact::from_f64(f64::NAN), None);
        // 0.1 as a double is a hair above 0.1; its printed form is 0.1 exactly.
        assert!(Exact::from_f64(0.1).unwrap() > x("0.1"));
        assert_eq!(Exact::from_f64_decimal(0.1), Some(x("0.1")));
        assert_eq!(Exact::from_f64(1e300).unwrap().ceil(), None);
        assert_eq!(
            Exact::from_f64(f64::MIN_POSITIVE / 4.0).unwrap().ceil(),
            Some(1)
        );
        assert_eq!(Exact::from_f64(3.0e9).unwrap().ceil(), Some(3_000_000_000));
    }

    #[test]
    fn ceil_is_exact_and_bounded() {
        assert_eq!(x("2").ceil(), Some(2));
        assert_eq!(x("2.0000000000000000000000000001").ceil(), Some(3));
        assert_eq!(x("0.0000000000000000000000000001").ceil(), Some(1));
        assert_eq!(x("4294967295").ceil(), Some(u32::MAX));
        assert_eq!(x("4294967295.000000000000000000000001").ceil(), None);
        assert_eq!(
            x("4294967294.000000000000000000000001").ceil(),
            Some(u32::MAX)
        );
        let third = Exact::ratio(1, 3).unwrap();
        assert_eq!(third.mul(&Exact::int(3)).ceil(), Some(1));
        assert_eq!(third.add(&third).add(&third), Exact::int(1));
        assert_eq!(x("1").div(&Exact::zero()), None);
        assert_eq!(x("3").sub_or_zero(&x("1.25")), x("1.75"));
        assert_eq!(x("1.25").sub_or_zero(&x("3")), Exact::zero());
        let huge = x("1e60");
        assert_eq!(huge.add(&x("1")).sub_or_zero(&huge), Exact::int(1));
        assert!((x("0.6").to_f64() - 0.6).abs() < 1e-15);
        assert!((x("1e-300").to_f64() / 1e-300 - 1.0).abs() < 1e-12);
    }
}
