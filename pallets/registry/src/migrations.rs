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
