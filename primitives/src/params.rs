//! Bounds on governed protocol parameters. Governance can set any value its origin allows; the
//! protocol's safety rests on some of them staying within bounds the parameter store cannot
//! express, so each is clamped where it is read, with these functions.
use polkadot_sdk::sp_runtime::FixedU128;

/// The least collateral ratio `rho` (docs/design.md §6: `C_active >= rho * P_job`, `rho >= 2.5`):
/// below it a provider could profit from taking a job's price and walking away.
pub const MIN_COLLATERAL_RATIO: FixedU128 = FixedU128::from_inner(2_500_000_000_000_000_000);

/// `rho` as the protocol uses it: the governed value, never below [`MIN_COLLATERAL_RATIO`].
pub fn collateral_ratio(governed: FixedU128) -> FixedU128 {
	governed.max(MIN_COLLATERAL_RATIO)
}

/// The shortest heartbeat period, in blocks: a period of zero would mark every provider away
/// in the block after its heartbeat.
pub const MIN_HEARTBEAT_PERIOD: u32 = 2;

/// The heartbeat period as the protocol uses it.
pub fn heartbeat_period(governed: u32) -> u32 {
	governed.max(MIN_HEARTBEAT_PERIOD)
}

/// The shortest unbonding delay, in blocks: long enough that a bond cannot leave in the same
/// block a misdeed is reported.
pub const MIN_UNBONDING_DELAY: u32 = 2;

/// The unbonding delay as the protocol uses it.
pub fn unbonding_delay(governed: u32) -> u32 {
	governed.max(MIN_UNBONDING_DELAY)
}

/// The shortest reward epoch, in blocks: closing one takes a block to begin and at least one
/// per pass, and an epoch of a block or two would leave no time to earn anything.
pub const MIN_REWARD_EPOCH: u32 = 10;

/// The reward epoch length as the protocol uses it.
pub fn reward_epoch(governed: u32) -> u32 {
	governed.max(MIN_REWARD_EPOCH)
}

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::sp_runtime::{traits::Zero, FixedPointNumber};

	#[test]
	fn collateral_ratio_never_drops_below_two_and_a_half() {
		assert_eq!(MIN_COLLATERAL_RATIO, FixedU128::saturating_from_rational(5, 2));
		assert_eq!(collateral_ratio(FixedU128::from_u32(1)), MIN_COLLATERAL_RATIO);
		assert_eq!(collateral_ratio(FixedU128::zero()), MIN_COLLATERAL_RATIO);
		assert_eq!(collateral_ratio(FixedU128::from_u32(3)), FixedU128::from_u32(3));
	}

	#[test]
	fn periods_are_clamped_to_their_minimum() {
		assert_eq!(heartbeat_period(0), MIN_HEARTBEAT_PERIOD);
		assert_eq!(heartbeat_period(100), 100);
		assert_eq!(unbonding_delay(0), MIN_UNBONDING_DELAY);
		assert_eq!(unbonding_delay(50), 50);
		assert_eq!(reward_epoch(1), MIN_REWARD_EPOCH);
		assert_eq!(reward_epoch(1_800), 1_800);
	}
}
