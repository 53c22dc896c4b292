//! # Providers: offers, heartbeats and bonds
//!
//! ## Pallet API
//!
//! See the [`pallet`] module for the [`Config`], the [`Call`]s and the storage. The jobs pallet
//! locks and unlocks bonds through [`ProviderLedger`]; clients read offers and bonds through
//! the `ProvidersApi` runtime API behind the `lilypad_offers`, `lilypad_provider` and
//! `lilypad_bond` RPCs.
//!
//! ## Overview
//!
//! A resource provider sells compute with a standing **offer**: the resources of one job slot
//! (CPU, memory, GPUs with their model and memory, disk), which modules it runs, its prices,
//! how many jobs it runs at once, the credentials it holds, where its content store serves
//! outputs, and the digests of the model weights its agent holds now. Solvers match jobs only
//! to providers whose **heartbeats** are current: one that stays silent longer than the
//! governed heartbeat period is marked away until it returns. At one price, they prefer a
//! provider whose offer lists every model a job runs with, as it need not download them; the
//! list is the provider's word, never checked, and only ranks.
//!
//! Providers, solvers and mediators put LILY at stake by **bonding** it: a `fungible` hold
//! under their own [`HoldReason`]. The part of a provider's bond that running jobs use as
//! collateral is tracked and cannot leave; the rest can be unbonded, and is withdrawn after
//! the governed unbonding delay, so a misdeed found meanwhile can still be punished.
//!
//! ## Low Level / Implementation Details
//!
//! - Heartbeat checks are queued by block ([`HeartbeatChecks`]) and run in `on_initialize`:
//!   each heartbeat schedules one check at `heartbeat + period + 1`, the provider record
//!   remembers which check is current, and stale entries are skipped. A full block's queue
//!   spills into the next few blocks, so the hook's work per block is bounded.
//! - Governed values (period, delay) are read from the parameters pallet and clamped to the
//!   bounds in [`lilypad_primitives::params`].
//! - Storage changes ship with a versioned migration in [`migrations`] (docs/migrations.md).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use lilypad_primitives::providers::{
	BondInfo, BondKind, Offer, OfferFilter, ProviderInfo, ProviderLedger, ProviderStatus,
	ProviderView, Unlocking,
};
pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use polkadot_sdk::{frame_support, frame_system, sp_runtime};

/// How many later blocks a full heartbeat-check queue spills into before a heartbeat is
/// refused.
pub const MAX_CHECK_SPILL: u32 = 16;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use lilypad_primitives::{
		identity::{IdentityInspect, Role},
		params,
		providers::{check_offer, OfferError, MAX_OFFERS_PAGE},
		rewards::{OnBondChanged, StakeOf},
	};
	use sp_runtime::{
		traits::{Saturating, Zero},
		ArithmeticError,
	};

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type OfferOf<T> = Offer<BalanceOf<T>>;
	pub type ProviderInfoOf<T> =
		ProviderInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type BondInfoOf<T> = BondInfo<BalanceOf<T>, BlockNumberFor<T>>;

	/// A registered provider.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		Encode,
		Decode,
		MaxEncodedLen,
		TypeInfo,
		DebugNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct ProviderRecord<T: Config> {
		pub offer: OfferOf<T>,
		pub status: ProviderStatus,
		pub registered_at: BlockNumberFor<T>,
		pub last_heartbeat: BlockNumberFor<T>,
		/// The block whose [`HeartbeatChecks`] entry is this provider's current check.
		pub check_at: BlockNumberFor<T>,
		/// Jobs running now.
		pub active_jobs: u32,
	}

	/// A bond of one kind.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		frame_support::DefaultNoBound,
		Encode,
		Decode,
		MaxEncodedLen,
		TypeInfo,
		DebugNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct Bond<T: Config> {
		/// Bonded and not unbonding; held.
		pub bonded: BalanceOf<T>,
		/// The part of `bonded` that running jobs lock.
		pub in_use: BalanceOf<T>,
		/// Unbonded amounts still held until their block, oldest first.
		pub unlocking: BoundedVec<Unlocking<BalanceOf<T>, BlockNumberFor<T>>, T::MaxUnlocking>,
	}

	impl<T: Config> Bond<T> {
		/// All of it that is held: bonded plus unlocking.
		pub fn held(&self) -> BalanceOf<T> {
			self.unlocking.iter().fold(self.bonded, |acc, u| acc.saturating_add(u.amount))
		}

		fn is_empty(&self) -> bool {
			self.bonded.is_zero() && self.in_use.is_zero() && self.unlocking.is_empty()
		}
	}

	/// Version 1: offers list the models their providers hold ([`crate::migrations::v1`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;

		/// The token bonds are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Roles (Halo): bonding and offering need the matching role.
		type Identity: IdentityInspect<Self::AccountId>;

		/// Blocks a provider may stay silent before it is marked away (governed).
		type HeartbeatPeriod: Get<u32>;

		/// Blocks between unbonding and withdrawing (governed).
		type UnbondingDelay: Get<u32>;

		/// Most unbonding chunks per bond.
		#[pallet::constant]
		type MaxUnlocking: Get<u32>;

		/// Most heartbeat checks one block runs.
		#[pallet::constant]
		type MaxChecksPerBlock: Get<u32>;

		/// Most accounts with a mediator stake: the pool mediators are drawn from, read whole
		/// at each draw.
		#[pallet::constant]
		type MaxMediators: Get<u32>;

		/// Told of every change to a bond (the rewards pallet averages stake over epochs).
		type OnBondChanged: OnBondChanged<Self::AccountId, BalanceOf<Self>>;

		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A resource provider's collateral.
		ProviderCollateral,
		/// A solver's stake.
		SolverStake,
		/// A mediator's stake.
		MediatorStake,
	}

	impl HoldReason {
		/// The hold reason of a bond kind.
		pub fn of(kind: BondKind) -> Self {
			match kind {
				BondKind::Provider => Self::ProviderCollateral,
				BondKind::Solver => Self::SolverStake,
				BondKind::Mediator => Self::MediatorStake,
			}
		}
	}

	/// Providers and their standing offers.
	#[pallet::storage]
	pub type Offers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ProviderRecord<T>>;

	/// Bonds by account and kind.
	#[pallet::storage]
	pub type Bonds<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, BondKind, Bond<T>>;

	/// Every account with a mediator stake bonded, in bonding order: the pool a job's
	/// mediator is drawn from.
	#[pallet::storage]
	pub type Mediators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxMediators>, ValueQuery>;

	/// Providers whose heartbeat is checked at each block.
	#[pallet::storage]
	pub type HeartbeatChecks<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<T::AccountId, T::MaxChecksPerBlock>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `provider` made an offer.
		ProviderRegistered { provider: T::AccountId, capacity: u32 },
		/// `provider` changed its offer.
		OfferUpdated { provider: T::AccountId, capacity: u32 },
		/// `provider` withdrew its offer.
		OfferWithdrawn { provider: T::AccountId },
		/// `provider` missed its heartbeat and is not matched until it returns.
		ProviderAway { provider: T::AccountId, last_heartbeat: BlockNumberFor<T> },
		/// `provider` sent a heartbeat after being away.
		ProviderReturned { provider: T::AccountId },
		/// `who` bonded `amount` more as `kind`.
		Bonded { who: T::AccountId, kind: BondKind, amount: BalanceOf<T> },
		/// `who` started unbonding `amount`, withdrawable from `unlocks_at`.
		Unbonded {
			who: T::AccountId,
			kind: BondKind,
			amount: BalanceOf<T>,
			unlocks_at: BlockNumberFor<T>,
		},
		/// `who` got `amount` of unbonded LILY back.
		Withdrawn { who: T::AccountId, kind: BondKind, amount: BalanceOf<T> },
		/// `amount` of `who`'s bond of `kind` was slashed.
		Slashed { who: T::AccountId, kind: BondKind, amount: BalanceOf<T> },
		/// A runtime upgrade rewrote `offers` provider records in storage into the layout whose
		/// offers list models (none, for these). `checked`: every record was read in the old
		/// layout and reads in the new one.
		OffersMigrated { offers: u32, checked: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Offering compute needs the resource-provider role (Halo `register_role`).
		NotResourceProvider,
		/// Bonding needs the role of its kind: resource provider, solver or mediator.
		MissingRole,
		/// The account has an offer already; update it instead.
		AlreadyRegistered,
		/// The account has no offer.
		NotRegistered,
		/// The offer has no CPU or no memory.
		NoResources,
		/// A GPU without a model name or without memory.
		InvalidGpu,
		/// Capacity must be at least one job.
		ZeroCapacity,
		/// The endpoint must be an `http://` or `https://` URL.
		InvalidEndpoint,
		/// A module name is not a slug or is listed twice, or `Only` lists none.
		InvalidModuleList,
		/// A price is given for a module the offer does not run.
		PriceForUnservedModule,
		/// A credential name is malformed or listed twice.
		InvalidCredential,
		/// The offer claims a credential the provider does not hold now.
		CredentialNotHeld,
		/// The new capacity is below the jobs running now.
		CapacityBelowActiveJobs,
		/// Jobs are running; withdraw the offer once they finish.
		JobsInProgress,
		/// Too many heartbeat checks are queued in the coming blocks; retry next block.
		HeartbeatQueueFull,
		/// Amounts must be above zero.
		ZeroAmount,
		/// More than is bonded.
		InsufficientBond,
		/// That much of the bond is locked by running jobs.
		BondInUse,
		/// [`Config::MaxUnlocking`] chunks are unbonding already; withdraw some first.
		TooManyUnlockingChunks,
		/// Nothing unbonded has reached its unlock block.
		NothingToWithdraw,
		/// The mediator pool is full ([`Config::MaxMediators`]).
		TooManyMediators,
		/// The provider runs as many jobs as its offer allows.
		AtCapacity,
		/// A model digest is listed twice in the offer; list each once.
		DuplicateModel,
	}

	impl<T> From<OfferError> for Error<T> {
		fn from(e: OfferError) -> Self {
			match e {
				OfferError::NoResources => Error::NoResources,
				OfferError::InvalidGpu => Error::InvalidGpu,
				OfferError::ZeroCapacity => Error::ZeroCapacity,
				OfferError::InvalidEndpoint => Error::InvalidEndpoint,
				OfferError::InvalidModuleList => Error::InvalidModuleList,
				OfferError::PriceForUnservedModule => Error::PriceForUnservedModule,
				OfferError::InvalidCredential => Error::InvalidCredential,
				OfferError::DuplicateModel => Error::DuplicateModel,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Runs this block's heartbeat checks: at most [`Config::MaxChecksPerBlock`].
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = HeartbeatChecks::<T>::take(now);
			let checked = due.len() as u32;
			if checked > 0 {
				let period = Self::heartbeat_period();
				for who in due {
					Self::check_heartbeat(who, now, period);
				}
			}
			T::WeightInfo::on_initialize(checked)
		}

		fn integrity_test() {
			assert!(T::MaxChecksPerBlock::get() > 0, "no heartbeat could ever be checked");
			assert!(T::MaxUnlocking::get() > 0, "nothing could ever be unbonded");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Offer compute.
		///
		/// ## Dispatch Origin
		/// Signed by an account with the resource-provider role.
		///
		/// ## Details
		/// The offer is checked on its own (resources, GPUs, capacity, endpoint, module and
		/// price lists, credential names, models listed once) and every credential it claims
		/// must be held now. The models it lists are not checked: they only rank it.
		/// Registering counts as the first heartbeat.
		///
		/// ## Errors
		/// - [`Error::NotResourceProvider`], [`Error::AlreadyRegistered`]
		/// - the offer's: [`Error::NoResources`], [`Error::InvalidGpu`],
		///   [`Error::ZeroCapacity`], [`Error::InvalidEndpoint`], [`Error::InvalidModuleList`],
		///   [`Error::PriceForUnservedModule`], [`Error::InvalidCredential`],
		///   [`Error::DuplicateModel`], [`Error::CredentialNotHeld`]
		/// - [`Error::HeartbeatQueueFull`]
		///
		/// ## Events
		/// - [`Event::ProviderRegistered`]
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_provider())]
		pub fn register_provider(origin: OriginFor<T>, offer: OfferOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				T::Identity::has_role(&who, Role::ResourceProvider),
				Error::<T>::NotResourceProvider
			);
			ensure!(!Offers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
			Self::check(&who, &offer)?;
			let now = frame_system::Pallet::<T>::block_number();
			let check_at = Self::schedule_check(&who, now, Self::heartbeat_period())?;
			let capacity = offer.capacity;
			Offers::<T>::insert(
				&who,
				ProviderRecord {
					offer,
					status: ProviderStatus::Active,
					registered_at: now,
					last_heartbeat: now,
					check_at,
					active_jobs: 0,
				},
			);
			Self::deposit_event(Event::ProviderRegistered { provider: who, capacity });
			Ok(())
		}

		/// Replace the caller's offer.
		///
		/// ## Dispatch Origin
		/// Signed by a registered provider.
		///
		/// ## Details
		/// Jobs already running keep their terms; the capacity may not drop below them. An
		/// agent updates its offer when the models it holds change.
		///
		/// ## Errors
		/// - [`Error::NotRegistered`], [`Error::CapacityBelowActiveJobs`]
		/// - the offer's, as for [`Pallet::register_provider`]
		///
		/// ## Events
		/// - [`Event::OfferUpdated`]
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_offer())]
		pub fn update_offer(origin: OriginFor<T>, offer: OfferOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Offers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			Self::check(&who, &offer)?;
			ensure!(offer.capacity >= record.active_jobs, Error::<T>::CapacityBelowActiveJobs);
			let capacity = offer.capacity;
			record.offer = offer;
			Offers::<T>::insert(&who, record);
			Self::deposit_event(Event::OfferUpdated { provider: who, capacity });
			Ok(())
		}

		/// Withdraw the caller's offer. Its bonds stay; unbond them separately.
		///
		/// ## Dispatch Origin
		/// Signed by a registered provider.
		///
		/// ## Errors
		/// - [`Error::NotRegistered`], [`Error::JobsInProgress`]
		///
		/// ## Events
		/// - [`Event::OfferWithdrawn`]
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::withdraw_offer())]
		pub fn withdraw_offer(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Offers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(record.active_jobs == 0, Error::<T>::JobsInProgress);
			// Its queued check finds no record and is skipped.
			Offers::<T>::remove(&who);
			Self::deposit_event(Event::OfferWithdrawn { provider: who });
			Ok(())
		}

		/// Tell the chain the caller is online.
		///
		/// ## Dispatch Origin
		/// Signed by a registered provider.
		///
		/// ## Details
		/// Schedules the next check one heartbeat period from now; a provider marked away is
		/// active again at once.
		///
		/// ## Errors
		/// - [`Error::NotRegistered`], [`Error::HeartbeatQueueFull`]
		///
		/// ## Events
		/// - [`Event::ProviderReturned`] if it was away
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Offers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			let now = frame_system::Pallet::<T>::block_number();
			record.check_at = Self::schedule_check(&who, now, Self::heartbeat_period())?;
			record.last_heartbeat = now;
			let returned = record.status == ProviderStatus::Away;
			record.status = ProviderStatus::Active;
			Offers::<T>::insert(&who, record);
			if returned {
				Self::deposit_event(Event::ProviderReturned { provider: who });
			}
			Ok(())
		}

		/// Bond `amount` more as `kind`.
		///
		/// ## Dispatch Origin
		/// Signed by an account with the role of `kind`.
		///
		/// ## Errors
		/// - [`Error::MissingRole`], [`Error::ZeroAmount`]
		/// - a token error if `amount` cannot be held
		///
		/// ## Events
		/// - [`Event::Bonded`]
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::bond().saturating_add(T::OnBondChanged::bond_changed_weight()))]
		pub fn bond(origin: OriginFor<T>, kind: BondKind, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let role = match kind {
				BondKind::Provider => Role::ResourceProvider,
				BondKind::Solver => Role::Solver,
				BondKind::Mediator => Role::Mediator,
			};
			ensure!(T::Identity::has_role(&who, role), Error::<T>::MissingRole);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			if kind == BondKind::Mediator {
				Self::enlist_mediator(&who)?;
			}
			T::Currency::hold(&HoldReason::of(kind).into(), &who, amount)?;
			Bonds::<T>::try_mutate(&who, kind, |bond| {
				let bond = bond.get_or_insert_with(Default::default);
				bond.bonded = bond.bonded.checked_add(&amount).ok_or(ArithmeticError::Overflow)?;
				Ok::<_, DispatchError>(())
			})?;
			Self::bond_changed(&who, kind);
			Self::deposit_event(Event::Bonded { who, kind, amount });
			Ok(())
		}

		/// Start unbonding `amount` of the caller's bond of `kind`.
		///
		/// ## Dispatch Origin
		/// Signed by the bonded account.
		///
		/// ## Details
		/// The amount stays held for the governed unbonding delay, then
		/// [`Pallet::withdraw_unbonded`] releases it. The part locked by running jobs cannot be
		/// unbonded.
		///
		/// ## Errors
		/// - [`Error::ZeroAmount`], [`Error::InsufficientBond`], [`Error::BondInUse`]
		/// - [`Error::TooManyUnlockingChunks`]
		///
		/// ## Events
		/// - [`Event::Unbonded`]
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::unbond().saturating_add(T::OnBondChanged::bond_changed_weight()))]
		pub fn unbond(
			origin: OriginFor<T>,
			kind: BondKind,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			let delay: BlockNumberFor<T> = params::unbonding_delay(T::UnbondingDelay::get()).into();
			let unlocks_at = frame_system::Pallet::<T>::block_number().saturating_add(delay);
			Bonds::<T>::try_mutate(&who, kind, |bond| {
				let bond = bond.as_mut().ok_or(Error::<T>::InsufficientBond)?;
				ensure!(amount <= bond.bonded, Error::<T>::InsufficientBond);
				ensure!(amount <= bond.bonded.saturating_sub(bond.in_use), Error::<T>::BondInUse);
				bond.unlocking
					.try_push(Unlocking { amount, unlocks_at })
					.map_err(|_| Error::<T>::TooManyUnlockingChunks)?;
				bond.bonded.saturating_reduce(amount);
				Ok::<_, DispatchError>(())
			})?;
			Self::bond_changed(&who, kind);
			Self::deposit_event(Event::Unbonded { who, kind, amount, unlocks_at });
			Ok(())
		}

		/// Release every unbonded amount of `kind` whose unlock block has come.
		///
		/// ## Dispatch Origin
		/// Signed by the bonded account.
		///
		/// ## Errors
		/// - [`Error::NothingToWithdraw`]
		///
		/// ## Events
		/// - [`Event::Withdrawn`]
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded(T::MaxUnlocking::get()))]
		pub fn withdraw_unbonded(
			origin: OriginFor<T>,
			kind: BondKind,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let mut bond = Bonds::<T>::get(&who, kind).ok_or(Error::<T>::NothingToWithdraw)?;
			let now = frame_system::Pallet::<T>::block_number();
			let chunks = bond.unlocking.len() as u32;
			let (ripe, waiting): (Vec<_>, Vec<_>) =
				bond.unlocking.into_iter().partition(|u| u.unlocks_at <= now);
			ensure!(!ripe.is_empty(), Error::<T>::NothingToWithdraw);
			let amount =
				ripe.iter().fold(BalanceOf::<T>::zero(), |acc, u| acc.saturating_add(u.amount));
			bond.unlocking =
				waiting.try_into().expect("a subset of a bounded vector fits its bound; qed");
			T::Currency::release(&HoldReason::of(kind).into(), &who, amount, Precision::Exact)?;
			if bond.is_empty() {
				Bonds::<T>::remove(&who, kind);
			} else {
				Bonds::<T>::insert(&who, kind, bond);
			}
			Self::deposit_event(Event::Withdrawn { who, kind, amount });
			Ok(Some(T::WeightInfo::withdraw_unbonded(chunks)).into())
		}
	}

	impl<T: Config> Pallet<T> {
		fn check(who: &T::AccountId, offer: &OfferOf<T>) -> DispatchResult {
			check_offer(offer).map_err(Error::<T>::from)?;
			for credential in offer.credentials.iter() {
				ensure!(
					T::Identity::has_credential(who, credential),
					Error::<T>::CredentialNotHeld
				);
			}
			Ok(())
		}

		/// The governed heartbeat period, clamped to its minimum.
		fn heartbeat_period() -> BlockNumberFor<T> {
			params::heartbeat_period(T::HeartbeatPeriod::get()).into()
		}

		/// Queues `who`'s next heartbeat check one `period` after `from`, spilling into later
		/// blocks when that one is full; returns the block it is queued at.
		fn schedule_check(
			who: &T::AccountId,
			from: BlockNumberFor<T>,
			period: BlockNumberFor<T>,
		) -> Result<BlockNumberFor<T>, DispatchError> {
			let first = from.saturating_add(period).saturating_add(1u32.into());
			for spill in 0..MAX_CHECK_SPILL {
				let at = first.saturating_add(spill.into());
				let queued = HeartbeatChecks::<T>::try_mutate(at, |due| due.try_push(who.clone()));
				if queued.is_ok() {
					return Ok(at);
				}
			}
			Err(Error::<T>::HeartbeatQueueFull.into())
		}

		/// The check queued for `who` at `now`: marks it away if its heartbeat is overdue.
		fn check_heartbeat(who: T::AccountId, now: BlockNumberFor<T>, period: BlockNumberFor<T>) {
			let Some(mut record) = Offers::<T>::get(&who) else { return };
			if record.check_at != now || record.status == ProviderStatus::Away {
				return; // A later heartbeat queued a newer check, or it is away already.
			}
			if now <= record.last_heartbeat.saturating_add(period) {
				// The period grew since the heartbeat: check again when it ends. If the queue
				// is full that far, fall through and mark it away: it must not go unchecked.
				if let Ok(at) = Self::schedule_check(&who, record.last_heartbeat, period) {
					record.check_at = at;
					Offers::<T>::insert(&who, record);
					return;
				}
			}
			record.status = ProviderStatus::Away;
			let last_heartbeat = record.last_heartbeat;
			Offers::<T>::insert(&who, record);
			Self::deposit_event(Event::ProviderAway { provider: who, last_heartbeat });
		}

		/// Adds `who` to the mediator pool unless it is in it.
		fn enlist_mediator(who: &T::AccountId) -> DispatchResult {
			Mediators::<T>::try_mutate(|pool| {
				if !pool.contains(who) {
					pool.try_push(who.clone()).map_err(|_| Error::<T>::TooManyMediators)?;
				}
				Ok(())
			})
		}

		/// After `who`'s bond of `kind` changed: takes it out of the mediator pool once
		/// nothing of its mediator stake is bonded, and tells [`Config::OnBondChanged`].
		fn bond_changed(who: &T::AccountId, kind: BondKind) {
			let bonded = Self::bonded(who, kind);
			if kind == BondKind::Mediator && bonded.is_zero() {
				Mediators::<T>::mutate(|pool| pool.retain(|m| m != who));
			}
			T::OnBondChanged::bond_changed(who, kind, bonded);
		}

		fn bond_info(bond: Bond<T>) -> BondInfoOf<T> {
			BondInfo {
				bonded: bond.bonded,
				in_use: bond.in_use,
				unlocking: bond.unlocking.into_inner(),
			}
		}

		/// One provider, for the runtime API.
		pub fn provider_info(who: T::AccountId) -> Option<ProviderInfoOf<T>> {
			let r = Offers::<T>::get(&who)?;
			let bond = Bonds::<T>::get(&who, BondKind::Provider).map(Self::bond_info);
			Some(ProviderInfo {
				provider: who,
				offer: r.offer,
				status: r.status,
				registered_at: r.registered_at,
				last_heartbeat: r.last_heartbeat,
				active_jobs: r.active_jobs,
				bond,
			})
		}

		/// A page of providers passing `filter`, for the runtime API. Scans at most a hundred
		/// times the page size, so a selective filter may return a short page before the end.
		pub fn offers_page(
			start_after: Option<T::AccountId>,
			limit: u32,
			filter: OfferFilter,
		) -> Vec<ProviderInfoOf<T>> {
			let limit = limit.min(MAX_OFFERS_PAGE) as usize;
			let keys = match start_after {
				Some(after) => Offers::<T>::iter_keys_from(Offers::<T>::hashed_key_for(after)),
				None => Offers::<T>::iter_keys(),
			};
			keys.take(limit.saturating_mul(100))
				.filter_map(Self::provider_info)
				.filter(|p| {
					filter.module.as_ref().is_none_or(|m| p.offer.serves(m))
						&& filter.covers.as_ref().is_none_or(|r| p.offer.covers(r))
						&& (!filter.active_only || p.status == ProviderStatus::Active)
				})
				.take(limit)
				.collect()
		}

		/// One bond, for the runtime API.
		pub fn bond_of(who: T::AccountId, kind: BondKind) -> Option<BondInfoOf<T>> {
			Bonds::<T>::get(&who, kind).map(Self::bond_info)
		}

		/// Bonds equal their holds, in-use parts fit their bonds, running jobs fit capacity.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use frame_support::traits::fungible::InspectHold;
			for (who, kind, bond) in Bonds::<T>::iter() {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::of(kind).into(), &who) == bond.held(),
					"a bond disagrees with its hold"
				);
				ensure!(bond.in_use <= bond.bonded, "more of a bond is in use than is bonded");
				ensure!(!bond.is_empty(), "an empty bond is stored");
				ensure!(
					kind != BondKind::Mediator
						|| bond.bonded.is_zero()
						|| Mediators::<T>::get().contains(&who),
					"a bonded mediator is not in the pool"
				);
			}
			for who in Mediators::<T>::get() {
				ensure!(
					Bonds::<T>::get(&who, BondKind::Mediator).is_some_and(|b| !b.bonded.is_zero()),
					"the mediator pool holds an account with nothing bonded"
				);
			}
			let now = frame_system::Pallet::<T>::block_number();
			for (who, record) in Offers::<T>::iter() {
				ensure!(record.active_jobs <= record.offer.capacity, "jobs exceed capacity");
				if record.status == ProviderStatus::Active {
					ensure!(record.check_at > now, "an active provider has no pending check");
					ensure!(
						HeartbeatChecks::<T>::get(record.check_at).contains(&who),
						"an active provider's check is not queued"
					);
				}
			}
			Ok(())
		}
	}

	impl<T: Config> ProviderLedger<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn provider(who: &T::AccountId) -> Option<ProviderView<BalanceOf<T>>> {
			Offers::<T>::get(who).map(|r| ProviderView {
				offer: r.offer,
				status: r.status,
				active_jobs: r.active_jobs,
			})
		}

		fn free_bond(who: &T::AccountId, kind: BondKind) -> BalanceOf<T> {
			Bonds::<T>::get(who, kind)
				.map(|b| b.bonded.saturating_sub(b.in_use))
				.unwrap_or_default()
		}

		fn lock_bond(who: &T::AccountId, kind: BondKind, amount: BalanceOf<T>) -> DispatchResult {
			Bonds::<T>::try_mutate(who, kind, |bond| {
				let bond = bond.as_mut().ok_or(Error::<T>::InsufficientBond)?;
				let in_use = bond.in_use.saturating_add(amount);
				ensure!(in_use <= bond.bonded, Error::<T>::InsufficientBond);
				bond.in_use = in_use;
				Ok(())
			})
		}

		fn unlock_bond(who: &T::AccountId, kind: BondKind, amount: BalanceOf<T>) {
			Bonds::<T>::mutate(who, kind, |bond| {
				if let Some(bond) = bond {
					bond.in_use.saturating_reduce(amount);
				}
			});
		}

		fn slash_bond(
			who: &T::AccountId,
			kind: BondKind,
			amount: BalanceOf<T>,
			to: &T::AccountId,
		) -> BalanceOf<T> {
			let Some(mut bond) = Bonds::<T>::get(who, kind) else { return Zero::zero() };
			let amount = amount.min(bond.bonded);
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::of(kind).into(),
				who,
				to,
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_default();
			bond.bonded.saturating_reduce(moved);
			bond.in_use = bond.in_use.saturating_sub(moved).min(bond.bonded);
			if bond.is_empty() {
				Bonds::<T>::remove(who, kind);
			} else {
				Bonds::<T>::insert(who, kind, bond);
			}
			Self::bond_changed(who, kind);
			if !moved.is_zero() {
				Self::deposit_event(Event::Slashed { who: who.clone(), kind, amount: moved });
			}
			moved
		}

		fn start_job(who: &T::AccountId) -> DispatchResult {
			Offers::<T>::try_mutate(who, |record| {
				let record = record.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(record.active_jobs < record.offer.capacity, Error::<T>::AtCapacity);
				record.active_jobs.saturating_inc();
				Ok(())
			})
		}

		fn end_job(who: &T::AccountId) {
			Offers::<T>::mutate(who, |record| {
				if let Some(record) = record {
					record.active_jobs.saturating_dec();
				}
			});
		}

		fn offers(limit: u32) -> Vec<(T::AccountId, ProviderView<BalanceOf<T>>)> {
			Offers::<T>::iter()
				.take(limit as usize)
				.map(|(who, r)| {
					(
						who,
						ProviderView {
							offer: r.offer,
							status: r.status,
							active_jobs: r.active_jobs,
						},
					)
				})
				.collect()
		}

		fn bond_in_use(who: &T::AccountId, kind: BondKind) -> BalanceOf<T> {
			Bonds::<T>::get(who, kind).map(|b| b.in_use).unwrap_or_default()
		}

		fn mediators() -> Vec<(T::AccountId, BalanceOf<T>)> {
			Mediators::<T>::get()
				.into_iter()
				.map(|who| {
					let free = Self::free_bond(&who, BondKind::Mediator);
					(who, free)
				})
				.collect()
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn set_up_provider(who: &T::AccountId, offer: OfferOf<T>, bond: BalanceOf<T>) {
			let now = frame_system::Pallet::<T>::block_number();
			let check_at = Self::schedule_check(who, now, Self::heartbeat_period())
				.expect("benchmarks queue few checks; qed");
			Offers::<T>::insert(
				who,
				ProviderRecord {
					offer,
					status: ProviderStatus::Active,
					registered_at: now,
					last_heartbeat: now,
					check_at,
					active_jobs: 0,
				},
			);
			Self::set_up_bond(who, BondKind::Provider, bond);
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn set_up_bond(who: &T::AccountId, kind: BondKind, amount: BalanceOf<T>) {
			T::Currency::hold(&HoldReason::of(kind).into(), who, amount)
				.expect("benchmarks fund their accounts; qed");
			Bonds::<T>::mutate(who, kind, |bond| {
				bond.get_or_insert_with(Default::default).bonded.saturating_accrue(amount)
			});
			if kind == BondKind::Mediator {
				Self::enlist_mediator(who).expect("benchmarks stay within the pool; qed");
			}
			Self::bond_changed(who, kind);
		}
	}

	impl<T: Config> StakeOf<T::AccountId, BalanceOf<T>> for Pallet<T> {
		fn bonded(who: &T::AccountId, kind: BondKind) -> BalanceOf<T> {
			Bonds::<T>::get(who, kind).map(|b| b.bonded).unwrap_or_default()
		}
	}
}
