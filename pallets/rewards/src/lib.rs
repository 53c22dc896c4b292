//! # Rewards: reputation and epoch rewards
//!
//! ## Pallet API
//!
//! See the [`pallet`] module for the [`Config`], the [`Call`]s and the storage. The jobs pallet
//! reports what actors do through [`OnActivity`], the providers pallet reports bond changes
//! through [`OnBondChanged`], and the solver reads scores through [`ReputationOf`]; clients
//! read standings, claimable rewards and the epoch through the `RewardsApi` runtime API.
//!
//! ## Overview
//!
//! Every provider, solver and mediator (an *actor*, in one of three classes: the
//! [`BondKind`]s) has a **reputation** `(s + 1) / (s + f + 2)` over its successes and failures,
//! a slash counting as `k` failures, both decayed by `lambda` per epoch
//! ([`lilypad_primitives::reputation`]).
//!
//! Time is cut into **reward epochs** of a governed length. At the end of each, every class's
//! budget is shared among its actors in proportion to their value
//! `V = R̄^a1 × (ΣF)^a2 × C̄^a3` (average reputation, fees earned, average stake;
//! [`lilypad_primitives::rewards`]). Rewards are paid from the rewards pool, which holds a
//! genesis allocation and receives its share of every protocol fee; nothing is minted.
//! Credited rewards wait in [`Claimable`] until their actor calls [`Pallet::claim`].
//!
//! ## Low Level / Implementation Details
//!
//! - **Lazy.** An actor's record is brought up to date only when it is touched (a job outcome,
//!   a bond change, the closing cursor): decay is applied for all epochs since, and the
//!   integrals behind its averages run forward to the current block.
//! - **Closing.** Shares need `ΣV` over every actor of a class, so an epoch is closed by a
//!   cursor over [`Actors`] in two passes, at most [`Config::MaxActorsPerBlock`] actors per
//!   block: *valuing* computes each actor's `V` and sums them per class, then the budgets are
//!   fixed (never more than the pool has uncommitted), then *crediting* adds each actor's share
//!   to [`Claimable`]. The next epoch opens when closing begins; it cannot end before closing
//!   is done.
//! - **Conservation.** [`Committed`] is what the pool owes: unclaimed rewards plus, while
//!   crediting, the budgets not yet credited. Budgets never exceed the pool's balance less
//!   what it owes, so every claim can be paid; shares round down and the dust is released back
//!   to the pool at the end of crediting.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use lilypad_primitives::{
	providers::BondKind,
	reputation::{EpochIndex, Outcome, Reputation},
	rewards::{
		Activity, EpochInfo, OnActivity, OnBondChanged, PerClass, ReputationOf, StakeOf, Standing,
	},
};
pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use polkadot_sdk::{frame_support, frame_system, sp_core, sp_runtime};

/// The longest raw key of [`Actors`]: prefix (32) + class (8 + 1) + account (16 + up to 64).
pub const MAX_CURSOR_LEN: u32 = 128;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate},
			tokens::{Fortitude, Preservation},
		},
	};
	use frame_system::pallet_prelude::*;
	use lilypad_primitives::{
		params,
		rewards::{class_index, epoch_budgets, share, value, Exponents, CLASSES},
	};
	use sp_core::U256;
	use sp_runtime::{
		traits::{Saturating, UniqueSaturatedInto, Zero},
		FixedU128, Perbill,
	};

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type ActorOf<T> = Actor<BalanceOf<T>, BlockNumberFor<T>>;
	pub type ClosingOf<T> = ClosingEpoch<BalanceOf<T>, BlockNumberFor<T>>;

	/// An actor's record in one class.
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
	)]
	pub struct Actor<Balance, BlockNumber> {
		/// Successes and failures, decayed to `reputation.epoch`.
		pub reputation: Reputation,
		/// What it did in the epoch `activity.epoch`.
		pub activity: Activity<Balance, BlockNumber>,
		/// Its value in an epoch being closed, until its share is credited.
		pub valued: Option<(EpochIndex, FixedU128)>,
	}

	/// The open reward epoch.
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
	pub struct OpenEpoch<BlockNumber> {
		pub index: EpochIndex,
		pub start: BlockNumber,
	}

	/// Which pass of closing an epoch is under way.
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
	pub enum Step {
		/// Computing each actor's value and each class's total.
		Valuing,
		/// Crediting each actor's share.
		Crediting,
	}

	/// An epoch being closed.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
	pub struct ClosingEpoch<Balance, BlockNumber> {
		pub epoch: EpochIndex,
		/// Its first block.
		pub start: BlockNumber,
		/// The first block after it (the next epoch's start).
		pub end: BlockNumber,
		pub step: Step,
		/// The raw key of the last actor this step visited; `None` before the first.
		pub cursor: Option<BoundedVec<u8, ConstU32<MAX_CURSOR_LEN>>>,
		/// `ΣV` per class, complete once valuing is done.
		pub totals: PerClass<U256>,
		/// What each class shares, fixed when valuing is done.
		pub budgets: PerClass<Balance>,
		/// Credited so far.
		pub credited: Balance,
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;

		/// The token rewards are paid in.
		type Currency: Mutate<Self::AccountId>;

		/// The account rewards are paid from.
		type RewardsPool: Get<Self::AccountId>;

		/// Bonds, read when an actor is first seen.
		type Stake: StakeOf<Self::AccountId, BalanceOf<Self>>;

		/// How many failures a slash counts as (`k`, governed).
		type SlashFailureWeight: Get<u32>;

		/// Decay of successes and failures per epoch (`lambda`, governed).
		type ReputationDecay: Get<Perbill>;

		/// Blocks per reward epoch (governed; never below
		/// [`params::MIN_REWARD_EPOCH`]).
		type EpochLength: Get<u32>;

		/// The value exponents `a1` (reputation), `a2` (fees) and `a3` (stake) (governed).
		type ReputationExponent: Get<FixedU128>;
		type FeesExponent: Get<FixedU128>;
		type CollateralExponent: Get<FixedU128>;

		/// What each class shares per epoch (governed), when the pool has it.
		type ProviderBudget: Get<BalanceOf<Self>>;
		type SolverBudget: Get<BalanceOf<Self>>;
		type MediatorBudget: Get<BalanceOf<Self>>;

		/// The unit fees and stake are counted in by the value function (one LILY): it keeps
		/// values in fixed point's range.
		#[pallet::constant]
		type ValueUnit: Get<BalanceOf<Self>>;

		/// How many actors one block's closing step visits.
		#[pallet::constant]
		type MaxActorsPerBlock: Get<u32>;

		type WeightInfo: WeightInfo;
	}

	/// Every actor's record, by class and account.
	#[pallet::storage]
	pub type Actors<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BondKind, Blake2_128Concat, T::AccountId, ActorOf<T>>;

	/// Rewards credited and not yet claimed.
	#[pallet::storage]
	pub type Claimable<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// What the pool owes: [`Claimable`] in all, plus the budgets of a crediting pass not yet
	/// credited.
	#[pallet::storage]
	pub type Committed<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The open epoch.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, OpenEpoch<BlockNumberFor<T>>, ValueQuery>;

	/// The epoch being closed, if one is.
	#[pallet::storage]
	pub type Closing<T: Config> = StorageValue<_, ClosingOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An epoch ended at block `end` and closing began; the next opened.
		EpochEnded { epoch: EpochIndex, end: BlockNumberFor<T> },
		/// Every actor was valued: each class shares `budgets`.
		EpochValued { epoch: EpochIndex, budgets: PerClass<BalanceOf<T>> },
		/// An actor's share of an epoch was credited to it.
		RewardCredited {
			who: T::AccountId,
			kind: BondKind,
			epoch: EpochIndex,
			amount: BalanceOf<T>,
		},
		/// Every share was credited; `dust` (rounding) stays in the pool.
		EpochClosed { epoch: EpochIndex, credited: BalanceOf<T>, dust: BalanceOf<T> },
		/// Credited rewards were paid out.
		RewardClaimed { who: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Nothing is credited to the caller.
		NothingToClaim,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let db = T::DbWeight::get();
			match Closing::<T>::get() {
				Some(closing) => Self::close_step(closing).saturating_add(db.reads(1)),
				None => {
					// `Closing`, `CurrentEpoch` and the governed epoch length.
					let read = db.reads(3);
					let open = CurrentEpoch::<T>::get();
					if now < open.start.saturating_add(Self::epoch_length()) {
						return read;
					}
					Self::end_epoch(open, now);
					T::WeightInfo::end_epoch().saturating_add(read)
				}
			}
		}

		fn integrity_test() {
			assert!(T::MaxActorsPerBlock::get() > 0, "closing must make progress");
			assert!(!T::ValueUnit::get().is_zero(), "values are counted in a non-zero unit");
			// Prefix, class (twox64 + 1 byte), account (blake2_128 + the account).
			let longest_key = 32 + 9 + 16 + T::AccountId::max_encoded_len();
			assert!(longest_key <= MAX_CURSOR_LEN as usize, "an actor's key fits the cursor");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Pay the caller every reward credited to it.
		///
		/// ## Dispatch Origin
		/// Signed by the rewarded account.
		///
		/// ## Errors
		/// - [`Error::NothingToClaim`]
		///
		/// ## Events
		/// - [`Event::RewardClaimed`]
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let amount = Claimable::<T>::take(&who);
			ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
			// Committed funds stay in the pool above its existential deposit (see
			// `fix_budgets`), so this transfer cannot fail for want of funds.
			T::Currency::transfer(&T::RewardsPool::get(), &who, amount, Preservation::Preserve)?;
			Committed::<T>::mutate(|c| c.saturating_reduce(amount));
			Self::deposit_event(Event::RewardClaimed { who, amount });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		fn epoch_length() -> BlockNumberFor<T> {
			params::reward_epoch(T::EpochLength::get()).into()
		}

		fn exponents() -> Exponents {
			Exponents {
				reputation: T::ReputationExponent::get(),
				fees: T::FeesExponent::get(),
				collateral: T::CollateralExponent::get(),
			}
		}

		fn budget(kind: BondKind) -> BalanceOf<T> {
			match kind {
				BondKind::Provider => T::ProviderBudget::get(),
				BondKind::Solver => T::SolverBudget::get(),
				BondKind::Mediator => T::MediatorBudget::get(),
			}
		}

		/// Ends the open epoch at `now`, opens the next and starts closing the ended one.
		pub(crate) fn end_epoch(open: OpenEpoch<BlockNumberFor<T>>, now: BlockNumberFor<T>) {
			Closing::<T>::put(ClosingEpoch {
				epoch: open.index,
				start: open.start,
				end: now,
				step: Step::Valuing,
				cursor: None,
				totals: Default::default(),
				budgets: Default::default(),
				credited: Zero::zero(),
			});
			CurrentEpoch::<T>::put(OpenEpoch { index: open.index.saturating_add(1), start: now });
			Self::deposit_event(Event::EpochEnded { epoch: open.index, end: now });
		}

		/// Visits the next [`Config::MaxActorsPerBlock`] actors of the closing pass, and moves
		/// on when the pass has seen them all.
		pub(crate) fn close_step(mut closing: ClosingOf<T>) -> Weight {
			let max = T::MaxActorsPerBlock::get();
			let iter = match &closing.cursor {
				Some(key) => Actors::<T>::iter_from(key.to_vec()),
				None => Actors::<T>::iter(),
			};
			let batch: Vec<_> = iter.take(max as usize).collect();
			let visited = batch.len() as u32;
			let last_key =
				batch.last().map(|(kind, who, _)| Actors::<T>::hashed_key_for(kind, who));
			for (kind, who, actor) in batch {
				match closing.step {
					Step::Valuing => Self::value_actor(&mut closing, kind, who, actor),
					Step::Crediting => Self::credit_actor(&mut closing, kind, who, actor),
				}
			}
			let step = closing.step;
			match last_key.filter(|_| visited == max) {
				Some(key) => {
					// Fits: `integrity_test` checks the longest key against MAX_CURSOR_LEN.
					closing.cursor = key.try_into().ok();
					Closing::<T>::put(closing);
				}
				None => match closing.step {
					Step::Valuing => Self::fix_budgets(closing),
					Step::Crediting => Self::finish_closing(closing),
				},
			}
			match step {
				Step::Valuing => T::WeightInfo::value_actors(visited),
				Step::Crediting => T::WeightInfo::credit_actors(visited),
			}
		}

		/// Valuing: rolls the actor's activity of the closing epoch into its value and adds it
		/// to its class's total.
		fn value_actor(
			closing: &mut ClosingOf<T>,
			kind: BondKind,
			who: T::AccountId,
			mut actor: ActorOf<T>,
		) {
			if actor.activity.epoch <= closing.epoch {
				Self::roll(&mut actor, closing);
				Actors::<T>::insert(kind, &who, &actor);
			}
			if let Some((epoch, v)) = actor.valued {
				if epoch == closing.epoch {
					let total = &mut closing.totals[class_index(kind)];
					*total = total.saturating_add(U256::from(v.into_inner()));
				}
			}
		}

		/// All values are in: fixes each class's budget, never more than the pool has
		/// uncommitted above its existential deposit, and commits it.
		fn fix_budgets(mut closing: ClosingOf<T>) {
			let pool = T::RewardsPool::get();
			let free: u128 =
				T::Currency::reducible_balance(&pool, Preservation::Preserve, Fortitude::Polite)
					.unique_saturated_into();
			let committed = Committed::<T>::get();
			let available = free.saturating_sub(committed.unique_saturated_into());
			let wanted = CLASSES.map(|k| Self::budget(k).unique_saturated_into());
			let fixed = epoch_budgets(wanted, &closing.totals, available);
			closing.budgets = fixed.map(|b| b.unique_saturated_into());
			let sum =
				closing.budgets.iter().fold(BalanceOf::<T>::zero(), |s, b| s.saturating_add(*b));
			Committed::<T>::put(committed.saturating_add(sum));
			closing.step = Step::Crediting;
			closing.cursor = None;
			Self::deposit_event(Event::EpochValued {
				epoch: closing.epoch,
				budgets: closing.budgets,
			});
			Closing::<T>::put(closing);
		}

		/// Crediting: adds the actor's share of its class's budget to what it can claim.
		fn credit_actor(
			closing: &mut ClosingOf<T>,
			kind: BondKind,
			who: T::AccountId,
			mut actor: ActorOf<T>,
		) {
			let Some((epoch, v)) = actor.valued.filter(|(e, _)| *e == closing.epoch) else {
				return;
			};
			let i = class_index(kind);
			let amount: BalanceOf<T> =
				share(closing.budgets[i].unique_saturated_into(), v, closing.totals[i])
					.unique_saturated_into();
			actor.valued = None;
			Actors::<T>::insert(kind, &who, &actor);
			if amount.is_zero() {
				return;
			}
			Claimable::<T>::mutate(&who, |c| c.saturating_accrue(amount));
			closing.credited.saturating_accrue(amount);
			Self::deposit_event(Event::RewardCredited { who, kind, epoch, amount });
		}

		/// Every share is credited: the rounding dust is released back to the pool.
		fn finish_closing(closing: ClosingOf<T>) {
			let budgets =
				closing.budgets.iter().fold(BalanceOf::<T>::zero(), |s, b| s.saturating_add(*b));
			let dust = budgets.saturating_sub(closing.credited);
			Committed::<T>::mutate(|c| c.saturating_reduce(dust));
			Closing::<T>::kill();
			Self::deposit_event(Event::EpochClosed {
				epoch: closing.epoch,
				credited: closing.credited,
				dust,
			});
		}

		/// Ends `actor`'s activity in the closing epoch: runs it to the epoch's end, values it,
		/// and starts its activity in the next epoch with the same stake.
		fn roll(actor: &mut ActorOf<T>, closing: &ClosingOf<T>) {
			let score =
				actor.reputation.decayed(T::ReputationDecay::get(), actor.activity.epoch).score();
			actor.activity.advance(closing.end, score);
			let (reputation, stake) = actor.activity.averages(closing.start, closing.end);
			let v = value(
				reputation,
				actor.activity.fees.unique_saturated_into(),
				stake,
				T::ValueUnit::get().unique_saturated_into(),
				&Self::exponents(),
			);
			actor.valued = (!v.is_zero()).then_some((closing.epoch, v));
			actor.activity =
				Activity::new(closing.epoch.saturating_add(1), closing.end, actor.activity.stake);
		}

		/// `who`'s record as `kind`, brought up to the current block: a new one if it has none,
		/// its last epoch's activity rolled if closing has not reached it yet, decay applied
		/// and its integrals run to now. The caller changes it and writes it back.
		fn touch(kind: BondKind, who: &T::AccountId) -> ActorOf<T> {
			let now = frame_system::Pallet::<T>::block_number();
			let open = CurrentEpoch::<T>::get();
			let mut actor = Actors::<T>::get(kind, who).unwrap_or_else(|| Actor {
				reputation: Reputation::new(open.index),
				activity: Activity::new(open.index, now, T::Stake::bonded(who, kind)),
				valued: None,
			});
			if actor.activity.epoch < open.index {
				// Only the epoch being valued can be behind: valuing visits every actor.
				match Closing::<T>::get().filter(|c| c.epoch == actor.activity.epoch) {
					Some(closing) => Self::roll(&mut actor, &closing),
					None => {
						actor.activity = Activity::new(open.index, open.start, actor.activity.stake)
					}
				}
			}
			actor.reputation = actor.reputation.decayed(T::ReputationDecay::get(), open.index);
			actor.activity.advance(now, actor.reputation.score());
			actor
		}

		/// `who`'s standing as `kind`, decayed to the open epoch, for clients.
		pub fn standing(who: T::AccountId, kind: BondKind) -> Standing<BalanceOf<T>> {
			let open = CurrentEpoch::<T>::get();
			let Some(actor) = Actors::<T>::get(kind, &who) else {
				return Standing {
					score: lilypad_primitives::reputation::NEUTRAL,
					successes: Zero::zero(),
					failures: Zero::zero(),
					fees: Zero::zero(),
				};
			};
			let r = actor.reputation.decayed(T::ReputationDecay::get(), open.index);
			let fees =
				if actor.activity.epoch == open.index { actor.activity.fees } else { Zero::zero() };
			Standing { score: r.score(), successes: r.successes, failures: r.failures, fees }
		}

		/// The reward epoch, for clients.
		pub fn epoch_info() -> EpochInfo<BlockNumberFor<T>> {
			let open = CurrentEpoch::<T>::get();
			EpochInfo {
				index: open.index,
				start: open.start,
				ends_at: open.start.saturating_add(Self::epoch_length()),
				closing: Closing::<T>::get().map(|c| c.epoch),
			}
		}

		/// Checks that the pool can pay what it owes:
		/// - [`Committed`] is the sum of [`Claimable`], plus the budgets a crediting pass has
		///   not credited yet;
		/// - the pool holds at least that much above its existential deposit;
		/// - no actor holds a value of an epoch other than the one being closed.
		///
		/// Iterates every claim and actor: for `try_state` and tests only.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let closing = Closing::<T>::get();
			let mut owed = Claimable::<T>::iter_values()
				.fold(BalanceOf::<T>::zero(), |s, c| s.saturating_add(c));
			if let Some(c) = closing.as_ref().filter(|c| c.step == Step::Crediting) {
				let budgets =
					c.budgets.iter().fold(BalanceOf::<T>::zero(), |s, b| s.saturating_add(*b));
				owed.saturating_accrue(budgets.saturating_sub(c.credited));
			}
			ensure!(owed == Committed::<T>::get(), "committed differs from what is owed");
			let pool = T::Currency::reducible_balance(
				&T::RewardsPool::get(),
				Preservation::Preserve,
				Fortitude::Polite,
			);
			ensure!(pool >= owed, "the rewards pool cannot pay what it owes");
			let closing_epoch = closing.map(|c| c.epoch);
			for actor in Actors::<T>::iter_values() {
				if let Some((epoch, _)) = actor.valued {
					ensure!(Some(epoch) == closing_epoch, "a value outlived its epoch's closing");
				}
			}
			Ok(())
		}
	}

	impl<T: Config> OnActivity<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn note(
			kind: BondKind,
			who: &T::AccountId,
			outcome: Option<Outcome>,
			earned: BalanceOf<T>,
		) {
			let mut actor = Self::touch(kind, who);
			if let Some(outcome) = outcome {
				actor.reputation.record(outcome, T::SlashFailureWeight::get());
			}
			actor.activity.fees.saturating_accrue(earned);
			Actors::<T>::insert(kind, who, actor);
		}

		fn note_weight() -> Weight {
			T::WeightInfo::note()
		}
	}

	impl<T: Config> OnBondChanged<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn bond_changed(who: &T::AccountId, kind: BondKind, bonded: BalanceOf<T>) {
			let mut actor = Self::touch(kind, who);
			actor.activity.stake = bonded;
			Actors::<T>::insert(kind, who, actor);
		}

		fn bond_changed_weight() -> Weight {
			T::WeightInfo::note()
		}
	}

	impl<T: Config> ReputationOf<T::AccountId> for Pallet<T> {
		fn reputation(kind: BondKind, who: &T::AccountId) -> Perbill {
			Self::standing(who.clone(), kind).score
		}
	}
}
