//! Verification by sampled re-runs (docs/design.md §5): whether a result is re-checked, who
//! re-checks it, and what the re-check decides.
//!
//! Everything here is a pure function of a 32-byte seed, so that every node reaches the same
//! decision from the same on-chain randomness, and tests can replay any draw.

use crate::registry::VerificationPolicy;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{PerThing, Perbill};
use scale_info::TypeInfo;

/// Domain of the randomness that decides whether a result is sampled.
pub const SAMPLE_DOMAIN: &[u8] = b"lilypad/mediation/sample";
/// Domain of the randomness that draws a job's mediator.
pub const DRAW_DOMAIN: &[u8] = b"lilypad/mediation/draw";
/// Domain tag of the bytes a mediator signs, so that a provider's result signature can never
/// pass as a mediator's answer or the other way round.
pub const MEDIATION_SIGNING_DOMAIN: &[u8] = b"lilypad/jobs/mediation/v1";

/// Mediators a job may be offered to before its result stands unverified.
pub const MAX_MEDIATION_ATTEMPTS: u32 = 3;

/// What mediation decided about a result.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum Verdict {
	/// The result stands: the job completes and the mediator is paid.
	ResultUpheld,
	/// The result is wrong: the creator is refunded and the provider slashed.
	ResultWrong,
}

/// Why a job went to mediation.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum MediationCause {
	/// The randomness drawn after the result sampled it.
	Sampled,
	/// The job's creator challenged it, paying the challenge fee.
	Challenged,
}

/// How often results under `policy` are re-run: `Deterministic` modules at the governed
/// `deterministic_rate`, `Sampled { p }` at `p`, `None` never.
pub fn sampling_rate(policy: VerificationPolicy, deterministic_rate: Perbill) -> Perbill {
	match policy {
		VerificationPolicy::None => Perbill::zero(),
		VerificationPolicy::Deterministic => deterministic_rate,
		VerificationPolicy::Sampled { p } => p,
	}
}

/// Whether `seed` samples a result at `rate`.
///
/// The seed's first eight bytes are a uniform `x` in `[0, 2^64)`; the result is sampled when
/// `x / 2^64 < rate`, compared exactly in integers: no rounding, no modulo bias.
pub fn is_sampled(rate: Perbill, seed: &[u8; 32]) -> bool {
	let x = u64::from_le_bytes(seed[..8].try_into().expect("8 of 32 bytes; qed"));
	(x as u128) * (Perbill::ACCURACY as u128) < (rate.deconstruct() as u128) << 64
}

/// Draws one of `weights` in proportion to its weight; `None` if they sum to zero.
///
/// The seed's bytes 8..24 are a uniform `r` in `[0, 2^128)`, reduced modulo the total; the bias
/// this leaves is below `total / 2^128`. The seed's first bytes are left to [`is_sampled`], so
/// one seed may decide both without the two being correlated.
pub fn draw_weighted(weights: &[u128], seed: &[u8; 32]) -> Option<usize> {
	let total = weights.iter().try_fold(0u128, |acc, w| acc.checked_add(*w))?;
	if total == 0 {
		return None;
	}
	let r = u128::from_le_bytes(seed[8..24].try_into().expect("16 of 32 bytes; qed")) % total;
	let mut upto = 0u128;
	weights.iter().position(|w| {
		upto += w;
		r < upto
	})
}

/// What a re-run must reproduce of a result for the result to stand: its output digest and
/// exit status. Logs may legitimately differ (they are not part of the work's product).
pub fn verdict(
	result: &crate::jobs::ResultManifest,
	rerun: &crate::jobs::ResultManifest,
) -> Verdict {
	if result.output_digest == rerun.output_digest && result.exit == rerun.exit {
		Verdict::ResultUpheld
	} else {
		Verdict::ResultWrong
	}
}

/// The bytes a mediator signs for its re-run of a job on the chain with `genesis_hash`.
pub fn mediation_signing_payload<Hash: Encode>(
	genesis_hash: &Hash,
	rerun: &crate::jobs::ResultManifest,
) -> alloc::vec::Vec<u8> {
	(MEDIATION_SIGNING_DOMAIN, genesis_hash, rerun).encode()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::jobs::{ExitStatus, ResultManifest, Usage};
	use polkadot_sdk::sp_crypto_hashing::blake2_256;

	fn seed(i: u64) -> [u8; 32] {
		blake2_256(&(b"test seed", i).encode())
	}

	/// `successes` of `n` draws at probability `p` lie within 4 standard deviations of `n p`.
	fn within_4_sigma(successes: u64, n: u64, p: f64) -> bool {
		let mean = n as f64 * p;
		let sigma = (n as f64 * p * (1.0 - p)).sqrt();
		(successes as f64 - mean).abs() <= 4.0 * sigma
	}

	#[test]
	fn sampling_is_a_function_of_the_seed() {
		let rate = Perbill::from_percent(37);
		for i in 0..100 {
			assert_eq!(is_sampled(rate, &seed(i)), is_sampled(rate, &seed(i)));
		}
		// The edges: never at zero, always at one, whatever the seed.
		for s in [[0u8; 32], [0xff; 32], seed(1)] {
			assert!(!is_sampled(Perbill::zero(), &s));
			assert!(is_sampled(Perbill::one(), &s));
		}
		// The threshold is exact: x = 0 is sampled at any rate above zero, the largest x only
		// at one.
		assert!(is_sampled(Perbill::from_parts(1), &[0u8; 32]));
		assert!(!is_sampled(Perbill::from_parts(999_999_999), &[0xff; 32]));
	}

	#[test]
	fn sampling_converges_to_the_rate() {
		const N: u64 = 10_000;
		for percent in [1, 5, 25, 50, 90] {
			let rate = Perbill::from_percent(percent);
			let hits = (0..N).filter(|i| is_sampled(rate, &seed(*i))).count() as u64;
			assert!(
				within_4_sigma(hits, N, percent as f64 / 100.0),
				"{hits} of {N} sampled at {percent} %"
			);
		}
	}

	#[test]
	fn the_policy_sets_the_rate() {
		let default = Perbill::from_percent(5);
		assert_eq!(sampling_rate(VerificationPolicy::None, default), Perbill::zero());
		assert_eq!(sampling_rate(VerificationPolicy::Deterministic, default), default);
		let p = Perbill::from_percent(40);
		assert_eq!(sampling_rate(VerificationPolicy::Sampled { p }, default), p);
	}

	#[test]
	fn draws_are_in_proportion_to_weight() {
		const N: u64 = 10_000;
		let weights = [100u128, 0, 300, 600];
		let mut counts = [0u64; 4];
		for i in 0..N {
			counts[draw_weighted(&weights, &seed(i)).unwrap()] += 1;
		}
		assert_eq!(counts[1], 0, "a zero weight is never drawn");
		for (i, w) in weights.iter().enumerate().filter(|(_, w)| **w > 0) {
			let p = *w as f64 / 1_000.0;
			assert!(within_4_sigma(counts[i], N, p), "{} draws of weight {w}", counts[i]);
		}
	}

	#[test]
	fn draws_are_deterministic_and_empty_or_zero_weights_draw_nobody() {
		let weights = [5u128, 7, 11];
		for i in 0..50 {
			assert_eq!(draw_weighted(&weights, &seed(i)), draw_weighted(&weights, &seed(i)));
		}
		assert_eq!(draw_weighted(&[], &seed(0)), None);
		assert_eq!(draw_weighted(&[0, 0], &seed(0)), None);
		assert_eq!(draw_weighted(&[u128::MAX, 1], &seed(0)), None, "an overflowing total");
		// One candidate with weight is always the one.
		assert_eq!(draw_weighted(&[0, 9, 0], &seed(3)), Some(1));
	}

	fn manifest(output: u8, exit: ExitStatus) -> ResultManifest {
		ResultManifest {
			job: 1,
			module_digest: [1; 32],
			input_digest: [2; 32],
			output_digest: [output; 32],
			stdout_digest: [4; 32],
			stderr_digest: [5; 32],
			exit,
			usage: Usage { wall_ms: 1, cpu_ms: 1, peak_ram_mib: 1, gpu_ms: 0 },
		}
	}

	#[test]
	fn a_rerun_upholds_a_result_only_with_the_same_output_and_exit() {
		let result = manifest(3, ExitStatus::Success);
		let mut same_but_logs = result.clone();
		same_but_logs.stdout_digest = [9; 32];
		assert_eq!(verdict(&result, &same_but_logs), Verdict::ResultUpheld);
		assert_eq!(verdict(&result, &manifest(4, ExitStatus::Success)), Verdict::ResultWrong);
		assert_eq!(
			verdict(&result, &manifest(3, ExitStatus::Failed { code: 1 })),
			Verdict::ResultWrong
		);
	}

	#[test]
	fn a_mediator_signs_under_its_own_domain() {
		let m = manifest(3, ExitStatus::Success);
		let genesis = [7u8; 32];
		assert_ne!(
			mediation_signing_payload(&genesis, &m),
			crate::jobs::result_signing_payload(&genesis, &m, &[])
		);
	}
}
