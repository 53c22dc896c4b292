//! LILY amounts as people write them (`0.5`, `12`) and as the chain counts them (planck,
//! 10^-12 LILY).
use anyhow::{bail, Context};

/// Planck in one LILY.
pub const LILY: u128 = lilypad_primitives::LILY;
const DECIMALS: usize = 12;

/// Parses a decimal LILY amount (`1`, `0.001`) into planck.
pub fn parse_lily(s: &str) -> anyhow::Result<u128> {
	let s = s.trim();
	let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
	if whole.is_empty() && frac.is_empty() {
		bail!("{s:?} is not an amount of LILY");
	}
	if frac.len() > DECIMALS {
		bail!("{s:?} has more than {DECIMALS} decimals");
	}
	let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
	if !digits(whole) || !digits(frac) {
		bail!("{s:?} is not an amount of LILY (e.g. 0.5)");
	}
	let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().context("too large")? };
	let frac_planck: u128 = if frac.is_empty() {
		0
	} else {
		format!("{frac:0<width$}", width = DECIMALS).parse().context("decimals")?
	};
	whole
		.checked_mul(LILY)
		.and_then(|w| w.checked_add(frac_planck))
		.with_context(|| format!("{s} LILY is too large"))
}

/// Formats planck as LILY, without trailing zeros (`0.0015 LILY`).
pub fn lily(planck: u128) -> String {
	let whole = planck / LILY;
	let frac = planck % LILY;
	if frac == 0 {
		return format!("{whole} LILY");
	}
	let frac = format!("{frac:0>width$}", width = DECIMALS);
	format!("{whole}.{} LILY", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_round_trip() {
		assert_eq!(parse_lily("1").unwrap(), LILY);
		assert_eq!(parse_lily("0.001").unwrap(), LILY / 1000);
		assert_eq!(parse_lily(".5").unwrap(), LILY / 2);
		assert_eq!(parse_lily("2.000000000001").unwrap(), 2 * LILY + 1);
		assert_eq!(lily(1_500_000_000_000), "1.5 LILY");
		assert_eq!(lily(3 * LILY), "3 LILY");
		assert_eq!(lily(1), "0.000000000001 LILY");
	}

	#[test]
	fn bad_amounts_are_refused() {
		for bad in ["", ".", "1.2.3", "-1", "1e3", "0.0000000000001", "abc"] {
			assert!(parse_lily(bad).is_err(), "{bad:?}");
		}
	}
}
