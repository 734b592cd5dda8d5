//! Exact traffic shares.
//!
//! Cloud Run splits traffic in whole percents, and a swap during a rollout scales the older
//! shares again, so a share is a product of fractions with denominator 100. Floating point
//! would make `ceil(demand * share)` depend on rounding (`0.07 * 100` is not 7), so shares are
//! exact rationals. The denominator grows as 100^n for n nested mid-rollout swaps; beyond
//! [`Share::MAX_DEN`] the share is rounded up to that denominator, which never happens below
//! thirteen nested swaps.

/// A traffic share in [0, 1] as an exact fraction `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Share {
    num: u128,
    den: u128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Share {
    /// Denominators stay below 2^90 so that `demand * num` fits in a `u128`.
    pub(crate) const MAX_DEN: u128 = 1 << 90;
    pub(crate) const ZERO: Share = Share { num: 0, den: 1 };
    pub(crate) const ONE: Share = Share { num: 1, den: 1 };

    /// `k` percent.
    pub(crate) fn percent(k: u32) -> Share {
        Share::reduced(u128::from(k.min(100)), 100)
    }

    fn reduced(num: u128, den: u128) -> Share {
        let g = gcd(num, den).max(1);
        let (mut num, mut den) = (num / g, den / g);
        if den > Self::MAX_DEN {
            // Round up so that a revision with traffic never computes zero instances.
            let scale = den.div_ceil(Self::MAX_DEN);
            num = num.div_ceil(scale);
            den /= scale;
            num = num.min(den);
        }
        Share { num, den }
    }

    /// This share scaled by `(100 - k)` percent.
    pub(crate) fn scaled_by_remaining(self, k: u32) -> Share {
        let k = u128::from(k.min(100));
        // num <= den < 2^90 and (100 - k) <= 100, so neither product overflows.
        Share::reduced(self.num * (100 - k), self.den * 100)
    }

    pub(crate) fn is_zero(self) -> bool {
        self.num == 0
    }

    /// `ceil(demand * share)`, exactly.
    pub(crate) fn of(self, demand: u32) -> u32 {
        let v = (u128::from(demand) * self.num).div_ceil(self.den);
        // share <= 1, so v <= demand.
        u32::try_from(v).unwrap_or(demand)
    }
}
