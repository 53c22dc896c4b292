//! # Supply pallet
//!
//! Keeps LILY a fixed-supply token and proves it.
//!
//! ## Pallet API
//!
//! No dispatchables. See [`Config`] for the currency and the declared supply, and
//! [`Pallet::do_try_state`] for the invariants.
//!
//! ## Overview
//!
//! Lilypad pays providers, solvers and mediators from funds that exist at genesis: the whole
//! supply is allocated there (accounts, a rewards pool, a treasury) and nothing is minted
//! afterwards. Nothing is burnt either: fees, tips and dust are resolved to the treasury and
//! the balance calls that destroy or create funds are filtered out of the runtime.
//!
//! This pallet states the rule in one place. At genesis it refuses to build a chain whose
//! allocations do not add up to [`Config::TotalSupply`]; in `try_state` (and in tests, after every
//! block) it checks that total issuance still equals that supply and that the accounts' balances
//! add up to the issuance.
//!
//! ## Low Level / Implementation Details
//!
//! The checks read [`fungible::Inspect`], so they see free, reserved and held funds alike.
//! Summing every account is linear in the number of accounts, so it runs only in `try_state`,
//! never in a block.
#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use polkadot_sdk::{frame_support, frame_system, sp_runtime};

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{self, Inspect},
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use sp_runtime::{traits::Zero, Saturating, TryRuntimeError};

	pub(crate) type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
		<T as frame_system::Config>::AccountId,
	>>::Balance;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The token whose supply is fixed.
		type Currency: fungible::Inspect<Self::AccountId>;

		/// The whole supply, all of it allocated at genesis.
		#[pallet::constant]
		type TotalSupply: Get<BalanceOf<Self>>;
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Runs after the balances pallet's genesis (construct_runtime order). An empty
			// genesis (FRAME's default config, built by `construct_runtime`'s own test) allocates
			// nothing and is let through; any allocation must be the whole supply.
			let issued = T::Currency::total_issuance();
			assert!(
				issued.is_zero() || issued == T::TotalSupply::get(),
				"genesis allocations add up to {:?}, but the fixed supply is {:?}",
				issued,
				T::TotalSupply::get(),
			);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::TotalSupply::get().is_zero(), "a chain needs a non-zero supply");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks that the supply is still what genesis allocated:
		/// - total issuance equals [`Config::TotalSupply`] (nothing minted or burnt);
		/// - the balances of all accounts (free, reserved and held) add up to total issuance.
		///
		/// Linear in the number of accounts: for `try_state` and tests only.
		pub fn do_try_state() -> Result<(), TryRuntimeError> {
			let issued = T::Currency::total_issuance();
			ensure!(
				issued == T::TotalSupply::get(),
				TryRuntimeError::Other("total issuance differs from the fixed supply")
			);
			let held: BalanceOf<T> = frame_system::Account::<T>::iter_keys()
				.map(|who| T::Currency::total_balance(&who))
				.fold(Zero::zero(), |sum: BalanceOf<T>, b| sum.saturating_add(b));
			ensure!(
				held == issued,
				TryRuntimeError::Other("account balances do not add up to total issuance")
			);
			Ok(())
		}
	}
}
