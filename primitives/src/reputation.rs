//! Reputation (docs/design.md §6): the score `(s + 1) / (s + f + 2)` over an actor's successes
//! `s` and failures `f`, a slash counting as `k` failures, both decayed by `lambda` per reward epoch.
//!
//! The score starts at 1/2 for an actor with no history, rises towards 1 with successes and
//! falls towards 0 with failures; decay lets old behaviour fade, so a record is never final.
//! Decay is applied lazily: a record remembers the epoch its counts are as of and is brought
//! up to date (`lambda^n` for `n` epochs at once) when it is next read or changed, so no block
//! walks every actor to decay it.
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{FixedPointNumber, FixedU128, PerThing, Perbill, Saturating};
use scale_info::TypeInfo;

/// A reward epoch's index, counted from genesis.
pub type EpochIndex = u32;

/// The score of an actor with no history.
pub const NEUTRAL: Perbill = Perbill::from_percent(50);

/// What an actor did, as reputation counts it.
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
pub enum Outcome {
	/// Did its part: a provider's job completed, a solver's match completed, a mediator
	/// answered.
	Success,
	/// Failed without losing collateral: a solver's invalid match, a mediator's silence.
	Failure,
	/// Lost a job's collateral: a provider's slash applied. Counts as `k` failures.
	Slash,
}

/// An actor's decayed counts.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct Reputation {
	/// Successes, decayed.
	pub successes: FixedU128,
	/// Failures (a slash weighing `k`), decayed.
	pub failures: FixedU128,
	/// The epoch the counts are decayed to.
	pub epoch: EpochIndex,
}

impl Reputation {
	/// A record with no history, as of `epoch`.
	pub fn new(epoch: EpochIndex) -> Self {
		Self { epoch, ..Default::default() }
	}

	/// The record decayed by `lambda` for every epoch from its own to `epoch` (unchanged if
	/// `epoch` is not later). Each count is rounded down.
	pub fn decayed(self, lambda: Perbill, epoch: EpochIndex) -> Self {
		let Some(epochs) = epoch.checked_sub(self.epoch).filter(|n| *n > 0) else { return self };
		let factor = FixedU128::saturating_from_rational(lambda.deconstruct(), Perbill::ACCURACY)
			.saturating_pow(epochs as usize);
		Self {
			successes: self.successes.saturating_mul(factor),
			failures: self.failures.saturating_mul(factor),
			epoch,
		}
	}

	/// Counts `outcome`, a slash as `slash_weight` failures.
	pub fn record(&mut self, outcome: Outcome, slash_weight: u32) {
		let (count, by) = match outcome {
			Outcome::Success => (&mut self.successes, 1),
			Outcome::Failure => (&mut self.failures, 1),
			Outcome::Slash => (&mut self.failures, slash_weight),
		};
		*count = count.saturating_add(FixedU128::from_u32(by));
	}

	/// `(s + 1) / (s + f + 2)`, rounded down.
	pub fn score(&self) -> Perbill {
		let one = FixedU128::DIV;
		let s = self.successes.into_inner();
		let num = s.saturating_add(one);
		let den = s.saturating_add(self.failures.into_inner()).saturating_add(2 * one);
		Perbill::from_rational_with_rounding(num, den, polkadot_sdk::sp_runtime::Rounding::Down)
			.unwrap_or(NEUTRAL)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn rep(s: u32, f: u32) -> Reputation {
		Reputation { successes: FixedU128::from_u32(s), failures: FixedU128::from_u32(f), epoch: 0 }
	}

	#[test]
	fn the_score_is_laplace_smoothed_success_rate() {
		assert_eq!(Reputation::new(3).score(), NEUTRAL);
		assert_eq!(rep(1, 0).score(), Perbill::from_rational(2u32, 3)); // 2/3
		assert_eq!(rep(8, 0).score(), Perbill::from_percent(90)); // 9/10
		assert_eq!(rep(3, 3).score(), NEUTRAL); // 4/8
		assert_eq!(rep(0, 2).score(), Perbill::from_percent(25)); // 1/4
		assert_eq!(rep(98, 0).score(), Perbill::from_percent(99)); // 99/100
	}

	#[test]
	fn a_slash_counts_as_k_failures() {
		let mut r = rep(9, 0);
		r.record(Outcome::Slash, 5);
		assert_eq!(r, rep(9, 5));
		assert_eq!(r.score(), Perbill::from_rational(10u32, 16)); // 10/16
		r.record(Outcome::Failure, 5);
		r.record(Outcome::Success, 5);
		assert_eq!(r, rep(10, 6));
		assert_eq!(r.score(), Perbill::from_rational(11u32, 18));
	}

	#[test]
	fn decay_shrinks_both_counts_by_lambda_per_epoch() {
		let lambda = Perbill::from_percent(98);
		let r = rep(100, 50);
		// One epoch: 98 and 49.
		let one = r.decayed(lambda, 1);
		assert_eq!(one.successes, FixedU128::from_u32(98));
		assert_eq!(one.failures, FixedU128::from_u32(49));
		assert_eq!(one.epoch, 1);
		// Three epochs at once: 0.98^3 = 0.941192, the same as one at a time.
		let three = r.decayed(lambda, 3);
		assert_eq!(three.successes, FixedU128::from_rational(941_192, 10_000));
		assert_eq!(three.failures, FixedU128::from_rational(470_596, 10_000));
		assert_eq!(three, r.decayed(lambda, 1).decayed(lambda, 2).decayed(lambda, 3));
		// The score moves back towards 1/2: (94.1192 + 1) / (141.1788 + 2) = 0.6643385...
		assert_eq!(three.score(), Perbill::from_parts(664_338_575));
		// Not backwards, not twice.
		assert_eq!(three.decayed(lambda, 2), three);
		assert_eq!(three.decayed(lambda, 3), three);
	}

	#[test]
	fn decay_forgets_slowly_and_never_goes_negative() {
		let mut r = rep(0, 5);
		r = r.decayed(Perbill::from_percent(98), 100);
		// 5 * 0.98^100 = 0.6630...
		assert!((r.failures.to_float() - 0.663_098).abs() < 1e-5);
		assert!(r.score() > Perbill::from_percent(37));
		assert_eq!(rep(1, 1).decayed(Perbill::zero(), 1), Reputation::new(1));
	}
}
