//! Logarithms and powers in integer arithmetic, so that every node computes the same bits:
//! the solver ranks by `stake^a × reputation^b` and epoch rewards weigh actors by
//! `R^a1 × F^a2 × C^a3`, both with governed, possibly fractional, exponents.
use polkadot_sdk::sp_runtime::{FixedPointNumber, FixedU128, Saturating};

/// Fractional bits of [`log2`] and of [`exp2`]'s argument.
pub const FRACTION_BITS: u32 = 32;

/// `log2(x)` with [`FRACTION_BITS`] fractional bits, rounded down; `None` for zero.
pub fn log2(x: u128) -> Option<i128> {
	if x == 0 {
		return None;
	}
	let int = 127 - x.leading_zeros();
	// The mantissa in [1, 2) with 62 fractional bits, so that its square fits in 128. Each
	// squaring yields the next bit: the square is >= 2 exactly when that bit is set.
	let mut m: u128 = if int >= 62 { x >> (int - 62) } else { x << (62 - int) };
	let mut log = (int as i128) << FRACTION_BITS;
	for bit in (0..FRACTION_BITS).rev() {
		m = (m * m) >> 62;
		if m >= 1 << 63 {
			m >>= 1;
			log |= 1 << bit;
		}
	}
	Some(log)
}

/// `log2(10^18)`, the scale of [`FixedU128`], with [`FRACTION_BITS`] fractional bits.
const LOG2_FIXED_DIV: i128 = 256_816_305_489;

/// `2^(2^-i)` for `i` in `1..=32`, with 62 fractional bits (rounded to nearest).
const EXP2_ROOTS: [u128; FRACTION_BITS as usize] = [
	6_521_908_912_666_391_106,
	5_484_249_825_272_419_512,
	5_029_079_263_719_320_435,
	4_815_862_801_830_788_490,
	4_712_668_792_719_003_884,
	4_661_903_986_662_671_290,
	4_636_727_017_470_743_990,
	4_624_189_567_668_517_720,
	4_617_933_561_212_708_776,
	4_614_808_732_577_250_068,
	4_613_247_111_281_068_008,
	4_612_466_498_810_092_975,
	4_612_076_242_109_103_707,
	4_611_881_126_141_011_236,
	4_611_783_571_252_412_754,
	4_611_734_794_581_956_353,
	4_611_710_406_440_186_476,
	4_611_698_212_417_665_819,
	4_611_692_115_418_496_524,
	4_611_689_066_921_934_630,
	4_611_687_542_674_409_371,
	4_611_686_780_550_835_664,
	4_611_686_399_489_096_040,
	4_611_686_208_958_238_036,
	4_611_686_113_692_811_986,
	4_611_686_066_060_099_699,
	4_611_686_042_243_743_740,
	4_611_686_030_335_565_807,
	4_611_686_024_381_476_851,
	4_611_686_021_404_432_377,
	4_611_686_019_915_910_140,
	4_611_686_019_171_649_022,
];

/// `2^y` for `y` with [`FRACTION_BITS`] fractional bits, saturating at [`FixedU128`]'s maximum
/// and rounding down (to zero below its smallest step).
pub fn exp2(y: i128) -> FixedU128 {
	let int = y >> FRACTION_BITS; // floor, also for negative y
	let frac = y & ((1 << FRACTION_BITS) - 1);
	// 2^frac in [1, 2), 62 fractional bits: one root per set bit of the fraction.
	let mut m: u128 = 1 << 62;
	for (i, root) in EXP2_ROOTS.iter().enumerate() {
		if frac & (1 << (FRACTION_BITS as usize - 1 - i)) != 0 {
			m = (m * root) >> 62;
		}
	}
	// m < 2^63 and DIV < 2^60: the product fits.
	let scaled = m * FixedU128::DIV;
	let shift = int - 62;
	let inner = if shift >= 0 {
		if shift >= 128 || scaled.leading_zeros() <= shift as u32 {
			u128::MAX
		} else {
			scaled << shift
		}
	} else if -shift >= 128 {
		0
	} else {
		scaled >> (-shift)
	};
	FixedU128::from_inner(inner)
}

/// `x^a` for a non-negative, possibly fractional `a`, saturating. The integer part of `a` is
/// exact (repeated multiplication); the fractional part goes through [`log2`] and [`exp2`],
/// with a relative error below `10^-9`. `0^0 = 1`.
pub fn pow(x: FixedU128, a: FixedU128) -> FixedU128 {
	let whole = a.into_inner() / FixedU128::DIV;
	let frac = a.into_inner() % FixedU128::DIV;
	let exact = x.saturating_pow(usize::try_from(whole).unwrap_or(usize::MAX));
	if frac == 0 {
		return exact;
	}
	let Some(log) = log2(x.into_inner()) else { return FixedU128::from_inner(0) };
	let log = log - LOG2_FIXED_DIV;
	// |log| < 2^40 and frac < 2^60: the product fits in i128.
	let y = log * frac as i128 / FixedU128::DIV as i128;
	exact.saturating_mul(exp2(y))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn f(x: f64) -> FixedU128 {
		FixedU128::from_float(x)
	}

	/// Relative distance of `got` from `want`.
	fn error(got: FixedU128, want: f64) -> f64 {
		((got.to_float() - want) / want).abs()
	}

	#[test]
	fn log2_is_exact_on_powers_of_two_and_monotone() {
		let one = 1i128 << FRACTION_BITS;
		assert_eq!(log2(0), None);
		assert_eq!(log2(1), Some(0));
		assert_eq!(log2(2), Some(one));
		assert_eq!(log2(1 << 100), Some(100 * one));
		// log2(3) = 1.584962500721156..., rounded down.
		assert_eq!(log2(3), Some((1.584_962_500_721_156 * one as f64) as i128));
		let mut last = 0;
		for x in (1..10_000u128).chain([u64::MAX as u128, u128::MAX - 1, u128::MAX]) {
			let l = log2(x).unwrap();
			assert!(l >= last, "log2 is monotone at {x}");
			last = l;
		}
		assert_eq!(LOG2_FIXED_DIV, (59.794_705_707_972_52 * one as f64) as i128);
	}

	#[test]
	fn exp2_inverts_log2() {
		let one = 1i128 << FRACTION_BITS;
		assert_eq!(exp2(0), FixedU128::from_u32(1));
		assert_eq!(exp2(10 * one), FixedU128::from_u32(1_024));
		assert_eq!(exp2(-one), f(0.5));
		assert!(error(exp2(one / 2), 2f64.sqrt()) < 1e-12);
		assert!(error(exp2(-(one / 3)), 2f64.powf(-1.0 / 3.0)) < 1e-9);
		// Saturates above, rounds to zero far below.
		assert_eq!(exp2(200 * one), FixedU128::from_inner(u128::MAX));
		assert_eq!(exp2(-200 * one), FixedU128::from_inner(0));
	}

	#[test]
	fn integer_powers_are_exact() {
		assert_eq!(pow(f(3.0), f(2.0)), f(9.0));
		assert_eq!(pow(f(0.5), f(3.0)), f(0.125));
		assert_eq!(pow(f(123.456), FixedU128::from_u32(1)), f(123.456));
		assert_eq!(pow(f(7.0), f(0.0)), f(1.0));
		assert_eq!(pow(f(0.0), f(0.0)), f(1.0));
		assert_eq!(pow(f(0.0), f(1.5)), f(0.0));
		assert_eq!(pow(f(10.0), f(40.0)), FixedU128::from_inner(u128::MAX));
	}

	#[test]
	fn fractional_powers_match_hand_computed_values() {
		// (x, a, x^a by hand)
		for (x, a, want) in [
			(4.0, 0.5, 2.0),
			(0.25, 0.5, 0.5),
			(2.0, 1.5, 2.828_427_124_746_19),
			(10.0, 2.5, 316.227_766_016_837_9),
			(0.9, 0.5, 0.948_683_298_050_513_8),
			(1_000_000.0, 0.25, 31.622_776_601_683_79),
			(0.001, 0.75, 0.005_623_413_251_903_491),
			(27.0, 1.0 / 3.0, 3.0),
		] {
			let got = pow(f(x), f(a));
			assert!(error(got, want) < 1e-9, "{x}^{a} = {} not {want}", got.to_float());
		}
	}

	#[test]
	fn powers_are_monotone_in_the_base() {
		let a = f(0.7);
		let mut last = FixedU128::from_inner(0);
		for i in 1..2_000u128 {
			let p = pow(FixedU128::from_inner(i * 7_919_000_000_000_000), a);
			assert!(p >= last);
			last = p;
		}
	}
}
