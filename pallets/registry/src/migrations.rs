//! Storage migrations of the registry, run by the runtime on upgrade.
//!
//! Each is a [`VersionedMigration`]: it runs once, when the pallet's on-chain storage version
//! is the one it migrates from, and sets the next.
use crate::pallet::*;
use frame_support::{
	migrations::VersionedMigration,
	traits::{fungible::MutateHold, tokens::Precision, Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use sp_runtime::traits::{Saturating, Zero};

/// What the migration must leave unchanged (modules, versions) and what it moves (deposits).
#[derive(Clone, Copy, PartialEq, Eq, Debug, codec::Encode, codec::Decode)]
pub struct ModuleTotals<Balance> {
	pub modules: u32,
	pub versions: u32,
	pub deposits: Balance,
}

/// The totals over every module in storage.
pub fn module_totals<T: Config>() -> ModuleTotals<BalanceOf<T>> {
	let mut totals: ModuleTotals<BalanceOf<T>> =
		ModuleTotals { modules: 0, versions: 0, deposits: Zero::zero() };
	for details in Modules::<T>::iter_values() {
		totals.modules.saturating_inc();
		totals.versions.saturating_accrue(details.versions.len() as u32);
		totals.deposits.saturating_accrue(details.deposit);
	}
	totals
}

/// Version 1: module deposits are re-priced to the current deposits.
pub mod v1 {
	use super::*;

	/// Every module whose deposit is above [`Config::ModuleDeposit`] plus
	/// [`Config::VersionDeposit`] per version gets the difference back (released from its
	/// [`HoldReason::ModuleDeposit`] hold); names, owners and versions are untouched.
	/// Afterwards it counts again and emits [`Event::DepositsRepriced`], whose `checked`
	/// says whether the modules and versions are unchanged and the deposits fell by exactly
	/// what was released.
	///
	/// One pass over `Modules` in one block: each module holds a deposit, which keeps the
	/// map small.
	pub struct RepriceModuleDeposits<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for RepriceModuleDeposits<T> {
		fn on_runtime_upgrade() -> Weight {
			let before = module_totals::<T>();
			let mut released = BalanceOf::<T>::zero();
			Modules::<T>::translate::<ModuleDetails<T>, _>(|_, mut details| {
				let price = T::ModuleDeposit::get().saturating_add(
					T::VersionDeposit::get().saturating_mul((details.versions.len() as u32).into()),
				);
				let excess = details.deposit.saturating_sub(price);
				if !excess.is_zero() {
					let freed = T::Currency::release(
						&HoldReason::ModuleDeposit.into(),
						&details.owner,
						excess,
						Precision::BestEffort,
					)
					.unwrap_or_default();
					details.deposit.saturating_reduce(freed);
					released.saturating_accrue(freed);
				}
				Some(details)
			});
			let after = module_totals::<T>();
			let checked = after.modules == before.modules
				&& after.versions == before.versions
				&& after.deposits.saturating_add(released) == before.deposits;
			if !checked {
				log::error!(
					target: "runtime::registry",
					"v1 migration: {before:?} -> {after:?}, released {released:?}"
				);
			}
			Pallet::<T>::deposit_event(Event::DepositsRepriced {
				modules: after.modules,
				versions: after.versions,
				released,
				checked,
			});
			let n = u64::from(before.modules);
			T::DbWeight::get().reads_writes(3 * n + 1, 3 * n + 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			Ok(module_totals::<T>().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = ModuleTotals::<BalanceOf<T>>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			let after = module_totals::<T>();
			frame_support::ensure!(after.modules == before.modules, "no module lost or added");
			frame_support::ensure!(after.versions == before.versions, "no version lost");
			frame_support::ensure!(after.deposits <= before.deposits, "deposits only fall");
			Pallet::<T>::do_try_state()
		}
	}

	/// [`RepriceModuleDeposits`] from storage version 0 to 1.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		RepriceModuleDeposits<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 2: module versions name the models they need.
pub mod v2 {
	use super::*;
	use lilypad_primitives::registry::v1::VersionRecord as V1Record;

	/// A version record as storage version 1 kept it.
	pub type V1RecordOf<T> = V1Record<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		frame_system::pallet_prelude::BlockNumberFor<T>,
	>;

	/// Rewrites every module version from the version 1 layout
	/// ([`lilypad_primitives::registry::v1::VersionRecord`]) into today's, which names the
	/// models a version needs: none, for versions published before models existed. Their
	/// signatures stay valid: a manifest without models signs the bytes version 1 signed
	/// ([`lilypad_primitives::registry::manifest_signing_payload`]). Emits
	/// [`Event::VersionsMigrated`], whose `checked` says whether every indexed version decoded
	/// and is there afterwards.
	///
	/// One pass over `Versions` in one block: each version holds a deposit, which keeps the
	/// map small.
	pub struct VersionsNameModels<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for VersionsNameModels<T> {
		fn on_runtime_upgrade() -> Weight {
			let indexed = module_totals::<T>().versions;
			let mut versions = 0u32;
			Versions::<T>::translate::<V1RecordOf<T>, _>(|_, _, old| {
				versions.saturating_inc();
				Some(old.upgrade())
			});
			let checked =
				versions == indexed && Versions::<T>::iter_values().count() as u32 == indexed;
			if !checked {
				log::error!(
					target: "runtime::registry",
					"v2 migration: {versions} versions rewritten, {indexed} indexed"
				);
			}
			Pallet::<T>::deposit_event(Event::VersionsMigrated { versions, checked });
			let modules = u64::from(module_totals::<T>().modules);
			let n = u64::from(versions);
			T::DbWeight::get().reads_writes(2 * n + 2 * modules + 1, n + 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			let mut records = alloc::vec::Vec::new();
			for (name, version) in Versions::<T>::iter_keys() {
				let raw = Versions::<T>::hashed_key_for(&name, version);
				let bytes = frame_support::storage::unhashed::get_raw(&raw)
					.ok_or("a version's bytes are there")?;
				let old = <V1RecordOf<T> as codec::Decode>::decode(&mut &bytes[..])
					.map_err(|_| "every version decodes in the version 1 layout")?;
				records.push(old);
			}
			Ok(records.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = alloc::vec::Vec::<V1RecordOf<T>>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			for old in before {
				let now = Versions::<T>::get(&old.manifest.module, old.manifest.version)
					.ok_or("a version is lost")?;
				frame_support::ensure!(now == old.upgrade(), "a version changed");
			}
			Pallet::<T>::do_try_state()
		}
	}

	/// [`VersionsNameModels`] from storage version 1 to 2.
	pub type MigrateToV2<T> = VersionedMigration<
		1,
		2,
		VersionsNameModels<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
