//! Epoch rewards (docs/design.md §6): each reward epoch, a class's budget `R_k` (providers,
//! solvers, mediators: the three [`BondKind`]s) is shared among that class's actors in proportion to
//! their value,
//!
//! `R_ik = V_ik / ΣV_k × R_k`, with `V = R̄^a1 × (ΣF)^a2 × C̄^a3`,
//!
//! where `R̄` is the actor's average reputation over the epoch, `ΣF` the fees it earned in the
//! epoch (a provider's prices, a solver's fees, a mediator's pay) and `C̄` its average bonded
//! stake over the epoch. Everything here is integer arithmetic ([`crate::fixed`]), so every
//! node computes the same shares; shares round down and the dust stays in the pool.
//!
//! The averages come from an [`Activity`]: running integrals (value × blocks) that are brought
//! forward whenever the actor is touched, so an epoch's averages need no per-block work.
use crate::{
	fixed::pow,
	providers::BondKind,
	reputation::{EpochIndex, Outcome},
};
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	sp_core::U256,
	sp_runtime::{
		traits::AtLeast32BitUnsigned, FixedPointNumber, FixedU128, PerThing, Perbill, Saturating,
		Weight,
	},
};
use scale_info::TypeInfo;

/// The actor classes, in the order of [`PerClass`]'s entries.
pub const CLASSES: [BondKind; 3] = [BondKind::Provider, BondKind::Solver, BondKind::Mediator];

/// One amount per actor class, indexed by [`class_index`].
pub type PerClass<T> = [T; 3];

/// `kind`'s index in a [`PerClass`].
pub fn class_index(kind: BondKind) -> usize {
	match kind {
		BondKind::Provider => 0,
		BondKind::Solver => 1,
		BondKind::Mediator => 2,
	}
}

/// The exponents of the value function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Exponents {
	/// `a1`, of average reputation.
	pub reputation: FixedU128,
	/// `a2`, of fees earned.
	pub fees: FixedU128,
	/// `a3`, of average stake.
	pub collateral: FixedU128,
}

/// An actor's value `V = R̄^a1 × (ΣF)^a2 × C̄^a3`, with fees and stake counted in `unit`s (one
/// LILY in the runtime), saturating. Zero when it earned nothing and `a2 > 0`: idle stake
/// earns no rewards.
pub fn value(
	reputation: Perbill,
	fees: u128,
	collateral: u128,
	unit: u128,
	e: &Exponents,
) -> FixedU128 {
	let r = FixedU128::saturating_from_rational(reputation.deconstruct(), Perbill::ACCURACY);
	let most = FixedU128::from_inner(u128::MAX);
	let f = FixedU128::checked_from_rational(fees, unit.max(1)).unwrap_or(most);
	let c = FixedU128::checked_from_rational(collateral, unit.max(1)).unwrap_or(most);
	pow(r, e.reputation).saturating_mul(pow(f, e.fees)).saturating_mul(pow(c, e.collateral))
}

/// `budget × value / total`, rounded down; zero when `total` is. Never more than `budget`
/// while `value <= total`, so a class's shares never add up to more than its budget.
pub fn share(budget: u128, value: FixedU128, total: U256) -> u128 {
	if total.is_zero() {
		return 0;
	}
	let s = U256::from(budget) * U256::from(value.into_inner()) / total;
	if s > U256::from(u128::MAX) {
		u128::MAX
	} else {
		s.low_u128()
	}
}

/// The budgets an epoch pays out: the governed `budgets`, without those of classes that have no
/// value to share (`totals` zero), scaled down in proportion when they add up to more than the
/// pool has `available`. Their sum never exceeds `available`.
pub fn epoch_budgets(
	budgets: PerClass<u128>,
	totals: &PerClass<U256>,
	available: u128,
) -> PerClass<u128> {
	let mut out = budgets;
	for (b, t) in out.iter_mut().zip(totals) {
		if t.is_zero() {
			*b = 0;
		}
	}
	let sum = out.iter().fold(U256::zero(), |acc, b| acc + U256::from(*b));
	if sum > U256::from(available) {
		for b in out.iter_mut() {
			*b = (U256::from(*b) * U256::from(available) / sum).low_u128();
		}
	}
	out
}

/// What an actor did in one epoch so far: the integrals behind its averages, and its fees.
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
pub struct Activity<Balance, BlockNumber> {
	/// The epoch this is the activity of.
	pub epoch: EpochIndex,
	/// The block the actor's presence in the epoch began (the epoch's start or later).
	pub from: BlockNumber,
	/// The block the integrals run to.
	pub last: BlockNumber,
	/// Σ score (parts per billion) × blocks.
	pub reputation_blocks: u128,
	/// Σ bonded stake × blocks.
	pub stake_blocks: u128,
	/// The bonded stake since `last`.
	pub stake: Balance,
	/// Fees earned in the epoch.
	pub fees: Balance,
}

impl<Balance, BlockNumber> Activity<Balance, BlockNumber>
where
	Balance: AtLeast32BitUnsigned + Copy,
	BlockNumber: AtLeast32BitUnsigned + Copy,
{
	/// An actor present in `epoch` from block `from`, with `stake` bonded.
	pub fn new(epoch: EpochIndex, from: BlockNumber, stake: Balance) -> Self {
		Self {
			epoch,
			from,
			last: from,
			reputation_blocks: 0,
			stake_blocks: 0,
			stake,
			fees: Balance::zero(),
		}
	}

	/// Runs the integrals to block `to` at reputation `score` (no-op if `to` is not later).
	pub fn advance(&mut self, to: BlockNumber, score: Perbill) {
		if to <= self.last {
			return;
		}
		let blocks: u128 = (to - self.last).unique_saturated_into();
		let stake: u128 = self.stake.unique_saturated_into();
		self.reputation_blocks = self
			.reputation_blocks
			.saturating_add((score.deconstruct() as u128).saturating_mul(blocks));
		self.stake_blocks = self.stake_blocks.saturating_add(stake.saturating_mul(blocks));
		self.last = to;
	}

	/// The averages over an epoch from `start` to `end` (run to `end` first): reputation over
	/// the blocks the actor was present, stake over the whole epoch, so stake bonded just
	/// before the end counts for little.
	pub fn averages(&self, start: BlockNumber, end: BlockNumber) -> (Perbill, u128) {
		let present: u128 = end.saturating_sub(self.from).unique_saturated_into();
		let length: u128 = end.saturating_sub(start).unique_saturated_into();
		let reputation = match present {
			0 => Perbill::zero(),
			n => Perbill::from_parts((self.reputation_blocks / n).min(u32::MAX as u128) as u32),
		};
		let stake = match length {
			0 => 0,
			n => self.stake_blocks / n,
		};
		(reputation, stake)
	}
}

/// Told of what actors do, by the pallets that see it (jobs): the rewards pallet.
pub trait OnActivity<AccountId, Balance> {
	/// `who`, acting as `kind`, had `outcome` (if any) and earned `earned` in fees.
	fn note(kind: BondKind, who: &AccountId, outcome: Option<Outcome>, earned: Balance);
	/// The weight of one [`OnActivity::note`].
	fn note_weight() -> Weight;
}

impl<AccountId, Balance> OnActivity<AccountId, Balance> for () {
	fn note(_: BondKind, _: &AccountId, _: Option<Outcome>, _: Balance) {}
	fn note_weight() -> Weight {
		Weight::zero()
	}
}

/// Told when a bond changes, by the providers pallet: the rewards pallet averages stake.
pub trait OnBondChanged<AccountId, Balance> {
	/// `who`'s bond of `kind` is now `bonded` (held, not unbonding).
	fn bond_changed(who: &AccountId, kind: BondKind, bonded: Balance);
	/// The weight of one [`OnBondChanged::bond_changed`].
	fn bond_changed_weight() -> Weight;
}

impl<AccountId, Balance> OnBondChanged<AccountId, Balance> for () {
	fn bond_changed(_: &AccountId, _: BondKind, _: Balance) {}
	fn bond_changed_weight() -> Weight {
		Weight::zero()
	}
}

/// Reads how much an account has bonded: the providers pallet. The rewards pallet reads it when
/// it first sees an actor, so that bonds made before then are averaged too.
pub trait StakeOf<AccountId, Balance> {
	/// `who`'s bond of `kind` (held, not unbonding).
	fn bonded(who: &AccountId, kind: BondKind) -> Balance;
}

/// Reads reputation scores: the solver ranks providers by them.
pub trait ReputationOf<AccountId> {
	/// `who`'s score as `kind`, decayed to now.
	fn reputation(kind: BondKind, who: &AccountId) -> Perbill;
}

impl<AccountId> ReputationOf<AccountId> for () {
	fn reputation(_: BondKind, _: &AccountId) -> Perbill {
		crate::reputation::NEUTRAL
	}
}

/// The reward epoch as clients see it.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug, MaxEncodedLen,
)]
pub struct EpochInfo<BlockNumber> {
	/// The open epoch.
	pub index: EpochIndex,
	/// Its first block.
	pub start: BlockNumber,
	/// The block from which it may close (the governed epoch length after `start`).
	pub ends_at: BlockNumber,
	/// The epoch being closed, if one is.
	pub closing: Option<EpochIndex>,
}

/// An actor's standing, as clients see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct Standing<Balance> {
	/// The score, decayed to now.
	pub score: Perbill,
	/// Successes, decayed.
	pub successes: FixedU128,
	/// Failures (a slash weighing `k`), decayed.
	pub failures: FixedU128,
	/// Fees earned in the open epoch.
	pub fees: Balance,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Reads of reputation and rewards.
	pub trait RewardsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// `who`'s standing as `kind` (a neutral one if it has no record).
		fn standing(who: AccountId, kind: BondKind) -> Standing<Balance>;
		/// Rewards credited to `who` and not yet claimed.
		fn claimable(who: AccountId) -> Balance;
		/// The reward epoch.
		fn epoch() -> EpochInfo<BlockNumber>;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const ONE: Exponents = Exponents {
		reputation: FixedU128::from_u32(1),
		fees: FixedU128::from_u32(1),
		collateral: FixedU128::from_u32(1),
	};

	fn f(x: f64) -> FixedU128 {
		FixedU128::from_float(x)
	}

	#[test]
	fn value_multiplies_reputation_fees_and_stake() {
		// 0.9 × 20 × 500 = 9000 (fees and stake in units of 10).
		assert_eq!(value(Perbill::from_percent(90), 200, 5_000, 10, &ONE), f(9_000.0));
		// No fees, no value; no stake, no value.
		assert_eq!(value(Perbill::from_percent(90), 0, 5_000, 10, &ONE), f(0.0));
		assert_eq!(value(Perbill::from_percent(90), 200, 0, 10, &ONE), f(0.0));
		// An exponent of zero ignores its factor.
		let fees_only = Exponents { reputation: f(0.0), collateral: f(0.0), ..ONE };
		assert_eq!(value(Perbill::from_percent(10), 70, 0, 10, &fees_only), f(7.0));
	}

	#[test]
	fn value_with_fractional_exponents_matches_hand_computation() {
		// a1 = 2, a2 = 0.5, a3 = 0.25: 0.8^2 × 16^0.5 × 81^0.25 = 0.64 × 4 × 3 = 7.68
		let e = Exponents { reputation: f(2.0), fees: f(0.5), collateral: f(0.25) };
		let v = value(Perbill::from_percent(80), 16, 81, 1, &e);
		assert!((v.to_float() - 7.68).abs() < 1e-8, "{}", v.to_float());
		// a2 = 1.5: 0.5 × 9^1.5 × 2 = 27
		let e = Exponents { fees: f(1.5), ..ONE };
		let v = value(Perbill::from_percent(50), 9, 2, 1, &e);
		assert!((v.to_float() - 27.0).abs() < 1e-7, "{}", v.to_float());
	}

	#[test]
	fn shares_round_down_and_add_up_to_at_most_the_budget() {
		let values = [f(1.0), f(2.0), f(4.0)];
		let total = values.iter().fold(U256::zero(), |t, v| t + U256::from(v.into_inner()));
		let shares: Vec<u128> = values.iter().map(|v| share(700, *v, total)).collect();
		assert_eq!(shares, vec![100, 200, 400]);
		let shares: Vec<u128> = values.iter().map(|v| share(1_000, *v, total)).collect();
		// 142.857, 285.714, 571.428: 1 unit of dust.
		assert_eq!(shares, vec![142, 285, 571]);
		assert_eq!(share(1_000, f(1.0), U256::zero()), 0);
		// The largest budgets and values do not overflow.
		let max = FixedU128::from_inner(u128::MAX);
		let total = U256::from(u128::MAX) * 3;
		assert_eq!(share(u128::MAX, max, total), u128::MAX / 3);
	}

	#[test]
	fn budgets_fit_the_pool_and_skip_idle_classes() {
		let t = |x: u64| U256::from(x);
		assert_eq!(epoch_budgets([60, 30, 10], &[t(1), t(1), t(1)], 1_000), [60, 30, 10]);
		// Mediators had no value: their budget stays in the pool.
		assert_eq!(epoch_budgets([60, 30, 10], &[t(1), t(1), t(0)], 1_000), [60, 30, 0]);
		// A pool with 50 pays half of each.
		assert_eq!(epoch_budgets([60, 30, 10], &[t(1), t(1), t(1)], 50), [30, 15, 5]);
		let scaled = epoch_budgets([7, 11, 13], &[t(1), t(1), t(1)], 10);
		assert!(scaled.iter().sum::<u128>() <= 10);
	}

	#[test]
	fn averages_weigh_each_value_by_the_blocks_it_held() {
		// Epoch from block 100 to 200; present from the start with stake 10 and score 50 %;
		// at block 150 stake rises to 30 and the score to 70 %.
		let mut a = Activity::<u128, u32>::new(4, 100, 10);
		a.advance(150, Perbill::from_percent(50));
		a.stake = 30;
		a.advance(200, Perbill::from_percent(70));
		assert_eq!(a.averages(100, 200), (Perbill::from_percent(60), 20));
		// Joining at block 180 with 100 staked: reputation over its 20 blocks, stake over all
		// 100.
		let mut late = Activity::<u128, u32>::new(4, 180, 100);
		late.advance(200, Perbill::from_percent(50));
		assert_eq!(late.averages(100, 200), (Perbill::from_percent(50), 20));
		// Advancing backwards or to the same block changes nothing.
		let before = late;
		late.advance(190, Perbill::from_percent(90));
		assert_eq!(late, before);
	}
}
