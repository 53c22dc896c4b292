//! The money of one job (docs/design.md §6), as plain arithmetic the jobs pallet, the CLI's price
//! estimate and the tests share: what a job creator pays, how it is split at completion, how
//! much collateral a match locks, and where a provider's collateral goes when it never returns
//! a result. Every split returns parts that add up exactly to what is split.
use crate::params;
use codec::{Decode, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::AtLeast32BitUnsigned,
	FixedPointNumber, FixedU128, Perbill, Rounding,
};
use scale_info::TypeInfo;

/// Fee rates in force, read from the protocol parameters. A job keeps the rates of its
/// submission, so that a later change never makes it cost more than was held.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct FeeRates {
	/// The solver's fee as a share of the price.
	pub solver: Perbill,
	/// The protocol's fee as a share of the price.
	pub protocol: Perbill,
}

/// What a job creator pays for a job at `price`, part by part.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Charge<Balance> {
	/// To the provider.
	pub price: Balance,
	/// To the solver that made the match.
	pub solver_fee: Balance,
	/// To the module's owners up its lineage.
	pub royalties: Balance,
	/// Split between the rewards pool and the treasury.
	pub protocol_fee: Balance,
}

impl<Balance: AtLeast32BitUnsigned + Copy> Charge<Balance> {
	/// The whole charge: what is held from the job creator.
	pub fn total(&self) -> Balance {
		self.price
			.saturating_add(self.solver_fee)
			.saturating_add(self.royalties)
			.saturating_add(self.protocol_fee)
	}
}

/// The charge for a job at `price`, with `royalty` the lineage's total royalty (already capped).
/// Fees are computed on the price, each rounded down.
pub fn charge<Balance: AtLeast32BitUnsigned + Copy>(
	price: Balance,
	rates: FeeRates,
	royalty: Perbill,
) -> Charge<Balance> {
	Charge {
		price,
		solver_fee: rates.solver * price,
		royalties: royalty * price,
		protocol_fee: rates.protocol * price,
	}
}

/// The charge for a job at `price` whose royalties (already split along the lineage and capped)
/// come to `royalties`.
pub fn charge_with_royalties<Balance: AtLeast32BitUnsigned + Copy>(
	price: Balance,
	rates: FeeRates,
	royalties: Balance,
) -> Charge<Balance> {
	Charge {
		price,
		solver_fee: rates.solver * price,
		royalties,
		protocol_fee: rates.protocol * price,
	}
}

/// The protocol fee split: `(to the rewards pool, to the treasury)`, adding up to `fee`.
pub fn split_protocol_fee<Balance: AtLeast32BitUnsigned + Copy>(
	fee: Balance,
	to_rewards: Perbill,
) -> (Balance, Balance) {
	let rewards = to_rewards * fee;
	(rewards, fee - rewards)
}

/// The collateral a match locks for a job at `price`: `rho * price`, rounded up, with `rho` never
/// below [`params::MIN_COLLATERAL_RATIO`].
pub fn collateral_for<Balance: AtLeast32BitUnsigned + Copy>(
	price: Balance,
	governed_rho: FixedU128,
) -> Balance {
	let rho = params::collateral_ratio(governed_rho);
	let price: u128 = price.unique_saturated_into();
	// rho * price = price * inner / 10^18, exactly, rounded up; saturates at the maximum.
	multiply_by_rational_with_rounding(price, rho.into_inner(), FixedU128::DIV, Rounding::Up)
		.and_then(|c| <Balance as TryFrom<u128>>::try_from(c).ok())
		.unwrap_or_else(Balance::max_value)
}

/// Where a provider's collateral for a job goes when it returns no result in time.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimeoutSlash<Balance> {
	/// Compensation to the job creator: one job price (or all of the collateral, if less).
	pub to_creator: Balance,
	/// The rest, to the treasury (a mediator that caught fraud is paid from it first).
	pub to_treasury: Balance,
}

/// The split of `collateral` when the provider of a job at `price` times out.
pub fn timeout_slash<Balance: AtLeast32BitUnsigned + Copy>(
	collateral: Balance,
	price: Balance,
) -> TimeoutSlash<Balance> {
	let to_creator = price.min(collateral);
	TimeoutSlash { to_creator, to_treasury: collateral.saturating_sub(to_creator) }
}

#[cfg(test)]
mod tests {
	use super::*;

	const RATES: FeeRates =
		FeeRates { solver: Perbill::from_percent(2), protocol: Perbill::from_percent(3) };

	#[test]
	fn a_charge_is_the_price_plus_fees_on_it() {
		let c = charge(1_000u128, RATES, Perbill::from_percent(10));
		assert_eq!(c, Charge { price: 1_000, solver_fee: 20, royalties: 100, protocol_fee: 30 });
		assert_eq!(c.total(), 1_150);
		// Fees round down: a 1-unit job pays no fee.
		assert_eq!(charge(1u128, RATES, Perbill::from_percent(10)).total(), 1);
	}

	#[test]
	fn a_charge_at_a_lower_price_never_costs_more() {
		for max in [0u128, 1, 7, 99, 1_000, 123_456_789, 10u128.pow(24)] {
			let held = charge(max, RATES, Perbill::from_percent(20)).total();
			for price in [0, max / 3, max / 2, max] {
				assert!(charge(price, RATES, Perbill::from_percent(20)).total() <= held);
			}
		}
	}

	#[test]
	fn the_protocol_fee_split_adds_up() {
		for fee in [0u128, 1, 2, 3, 999, 1_000_001, u128::MAX / 2] {
			for share in [0, 1, 33, 50, 99, 100] {
				let (rewards, treasury) = split_protocol_fee(fee, Perbill::from_percent(share));
				assert_eq!(rewards + treasury, fee);
			}
		}
		assert_eq!(split_protocol_fee(30u128, Perbill::from_percent(50)), (15, 15));
	}

	#[test]
	fn collateral_is_rho_times_the_price_rounded_up_and_rho_at_least_two_and_a_half() {
		let rho = |n, d| FixedU128::saturating_from_rational(n, d);
		assert_eq!(collateral_for(100u128, rho(5, 2)), 250);
		assert_eq!(collateral_for(101u128, rho(5, 2)), 253); // 252.5 rounds up
		assert_eq!(collateral_for(100u128, rho(3, 1)), 300);
		// A governed rho below the minimum is lifted to it.
		assert_eq!(collateral_for(100u128, rho(1, 1)), 250);
		assert_eq!(collateral_for(0u128, rho(5, 2)), 0);
		// Exact for the largest prices, saturating only when the result does not fit.
		assert_eq!(collateral_for(10u128.pow(30), rho(5, 2)), 25 * 10u128.pow(29));
		assert_eq!(collateral_for(u64::MAX, rho(5, 2)), u64::MAX);
		assert_eq!(collateral_for(u128::MAX, rho(5, 2)), u128::MAX);
	}

	#[test]
	fn a_timeout_compensates_one_price_and_sends_the_rest_to_the_treasury() {
		assert_eq!(timeout_slash(250u128, 100), TimeoutSlash { to_creator: 100, to_treasury: 150 });
		assert_eq!(timeout_slash(50u128, 100), TimeoutSlash { to_creator: 50, to_treasury: 0 });
		for (c, p) in [(0u128, 0), (1, 0), (0, 1), (253, 101), (10u128.pow(20), 3)] {
			let s = timeout_slash(c, p);
			assert_eq!(s.to_creator + s.to_treasury, c);
		}
	}
}
