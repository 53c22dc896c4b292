//! Storage migrations of the jobs pallet, run by the runtime on upgrade.
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

/// What the migration must leave unchanged (jobs, escrow) and what it moves (deposits).
#[derive(Clone, Copy, PartialEq, Eq, Debug, codec::Encode, codec::Decode)]
pub struct JobTotals<Balance> {
	pub jobs: u32,
	pub escrow: Balance,
	pub deposits: Balance,
}

/// The totals over every job in storage.
pub fn job_totals<T: Config>() -> JobTotals<BalanceOf<T>> {
	let mut totals: JobTotals<BalanceOf<T>> =
		JobTotals { jobs: 0, escrow: Zero::zero(), deposits: Zero::zero() };
	for job in Jobs::<T>::iter_values() {
		totals.jobs.saturating_inc();
		totals.escrow.saturating_accrue(job.escrow);
		totals.deposits.saturating_accrue(job.deposit);
	}
	totals
}

/// Version 1: job deposits are re-priced to the current [`Config::JobDeposit`].
pub mod v1 {
	use super::*;

	/// Every job whose deposit is above [`Config::JobDeposit`] gets the difference back
	/// (released from its [`HoldReason::JobDeposit`] hold) and records the new deposit; jobs,
	/// escrow and everything else are untouched. Afterwards it counts again and emits
	/// [`Event::DepositsRepriced`], whose `checked` says whether the count and the escrow
	/// are unchanged and the deposits fell by exactly what was released.
	///
	/// One pass over `Jobs` in one block: jobs are pruned a day after they settle, so the map
	/// holds at most a day's jobs (about 10^5 at the measured load), inside a block's weight.
	pub struct RepriceJobDeposits<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for RepriceJobDeposits<T> {
		fn on_runtime_upgrade() -> Weight {
			let price = T::JobDeposit::get();
			let before = job_totals::<T>();
			let mut released = BalanceOf::<T>::zero();
			Jobs::<T>::translate::<JobOf<T>, _>(|_, mut job| {
				let excess = job.deposit.saturating_sub(price);
				if !excess.is_zero() {
					let freed = T::Currency::release(
						&HoldReason::JobDeposit.into(),
						&job.creator,
						excess,
						Precision::BestEffort,
					)
					.unwrap_or_default();
					job.deposit.saturating_reduce(freed);
					released.saturating_accrue(freed);
				}
				Some(job)
			});
			let after = job_totals::<T>();
			let checked = after.jobs == before.jobs
				&& after.escrow == before.escrow
				&& after.deposits.saturating_add(released) == before.deposits;
			if !checked {
				log::error!(target: "runtime::jobs", "v1 migration: {before:?} -> {after:?}, released {released:?}");
			}
			Pallet::<T>::deposit_event(Event::DepositsRepriced {
				jobs: after.jobs,
				escrow: after.escrow,
				released,
				checked,
			});
			// Three passes over the jobs; a job re-priced also writes its creator's holds.
			let n = u64::from(before.jobs);
			T::DbWeight::get().reads_writes(3 * n + 1, 3 * n + 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			Ok(job_totals::<T>().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = JobTotals::<BalanceOf<T>>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			let after = job_totals::<T>();
			frame_support::ensure!(after.jobs == before.jobs, "no job is lost or added");
			frame_support::ensure!(after.escrow == before.escrow, "escrow is untouched");
			frame_support::ensure!(after.deposits <= before.deposits, "deposits only fall");
			Pallet::<T>::do_try_state()
		}
	}

	/// [`RepriceJobDeposits`] from storage version 0 to 1.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		RepriceJobDeposits<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
