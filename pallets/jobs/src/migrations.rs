//! Storage migrations of the jobs pallet, run by the runtime on upgrade (docs/migrations.md).
//!
//! Each is a [`VersionedMigration`]: it runs once, when the pallet's on-chain storage version
//! is the one it migrates from, and sets the next. Each reads the layout it migrates from
//! through a frozen copy of it ([`v1::Jobs`]), so that it keeps compiling as today's types move
//! on.
use crate::pallet::*;
use frame_support::{
	migrations::VersionedMigration,
	storage_alias,
	traits::{fungible::MutateHold, tokens::Precision, Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
	Twox64Concat,
};
use lilypad_primitives::{
	jobs::{JobId, JobOutcome, JobState, Stage},
	providers::{BondKind, ProviderLedger},
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use sp_runtime::traits::{Saturating, Zero};

/// What a migration must account for: how many jobs, in which stages, holding what.
#[derive(Clone, Copy, PartialEq, Eq, Debug, codec::Encode, codec::Decode)]
pub struct JobTotals<Balance> {
	pub jobs: u32,
	pub escrow: Balance,
	pub deposits: Balance,
	/// How many jobs are in each stage, in the order of [`Stage::ALL`].
	pub stages: [u32; Stage::ALL.len()],
}

impl<Balance: Saturating + Zero + Copy> JobTotals<Balance> {
	/// The totals of these jobs: `(stage, escrow, deposit)` of each.
	pub fn of(jobs: impl Iterator<Item = (Stage, Balance, Balance)>) -> Self {
		let mut totals: Self = JobTotals {
			jobs: 0,
			escrow: Zero::zero(),
			deposits: Zero::zero(),
			stages: [0; Stage::ALL.len()],
		};
		for (stage, escrow, deposit) in jobs {
			totals.jobs.saturating_inc();
			totals.escrow = totals.escrow.saturating_add(escrow);
			totals.deposits = totals.deposits.saturating_add(deposit);
			if let Some(i) = Stage::ALL.iter().position(|s| *s == stage) {
				totals.stages[i].saturating_inc();
			}
		}
		totals
	}
}

/// The totals over every job stored in today's layout.
pub fn job_totals<T: Config>() -> JobTotals<BalanceOf<T>> {
	JobTotals::of(Jobs::<T>::iter_values().map(|j| (j.stage(), j.escrow, j.deposit)))
}

/// Version 1: job deposits are re-priced to the current [`Config::JobDeposit`].
pub mod v1 {
	use super::*;

	/// A job as storage versions 0 and 1 keep it: a stage tag beside optional parts.
	pub type JobOf<T> = lilypad_primitives::jobs::v1::Job<
		<T as frame_system::Config>::AccountId,
		BalanceOf<T>,
		BlockNumberFor<T>,
	>;

	/// [`crate::Jobs`] as storage versions 0 and 1 lay it out.
	#[storage_alias]
	pub type Jobs<T: Config> = StorageMap<Pallet<T>, Twox64Concat, JobId, JobOf<T>>;

	/// The totals over every job stored in the version 1 layout.
	pub fn job_totals<T: Config>() -> JobTotals<BalanceOf<T>> {
		JobTotals::of(Jobs::<T>::iter_values().map(|j| (j.stage, j.escrow, j.deposit)))
	}

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

		/// Compares the totals. The pallet's `try_state` reads today's layout, which version 1
		/// is not: the v2 migration's check runs it.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = JobTotals::<BalanceOf<T>>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			let after = job_totals::<T>();
			frame_support::ensure!(after.jobs == before.jobs, "no job is lost or added");
			frame_support::ensure!(after.stages == before.stages, "every job keeps its stage");
			frame_support::ensure!(after.escrow == before.escrow, "escrow is untouched");
			frame_support::ensure!(after.deposits <= before.deposits, "deposits only fall");
			Ok(())
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

/// Version 2: a job's stage and its optional parts become one [`JobState`], each variant
/// carrying what that stage needs.
pub mod v2 {
	use super::*;

	/// Rewrites every job from the [`v1::Jobs`] layout to today's ([`v1::JobOf::upgrade`]):
	/// same stage, same parts, same funds. A record whose stage lacks a part it needs (which
	/// version 1 never wrote) cannot be carried over: it is closed as
	/// [`JobOutcome::Cancelled`], and what it held comes back ([`close_refused`]). Afterwards it
	/// counts again and emits [`Event::JobsMigrated`].
	///
	/// One pass over `Jobs` in one block, as [`v1::RepriceJobDeposits`].
	pub struct UseJobStates<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UseJobStates<T> {
		fn on_runtime_upgrade() -> Weight {
			let before = v1::job_totals::<T>();
			let (mut refused, mut returned) = (0u32, BalanceOf::<T>::zero());
			Jobs::<T>::translate::<v1::JobOf<T>, _>(|id, old| {
				Some(old.upgrade().unwrap_or_else(|old| {
					log::error!(target: "runtime::jobs", "v2 migration: job {id} in {:?} lacks a part", old.stage);
					refused.saturating_inc();
					returned.saturating_accrue(old.escrow);
					close_refused::<T>(id, old)
				}))
			});
			let after = job_totals::<T>();
			let checked = after.jobs == before.jobs
				&& (refused > 0 || after.stages == before.stages)
				&& after.escrow.saturating_add(returned) == before.escrow
				&& after.deposits == before.deposits;
			if !checked {
				log::error!(target: "runtime::jobs", "v2 migration: {before:?} -> {after:?}");
			}
			Pallet::<T>::deposit_event(Event::JobsMigrated {
				jobs: after.jobs,
				escrow: after.escrow,
				refused,
				checked,
			});
			// Two passes reading, one writing; a refused job also writes its holds and bonds.
			let n = u64::from(before.jobs);
			let r = u64::from(refused);
			T::DbWeight::get().reads_writes(3 * n + 4 * r + 1, n + 4 * r + 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			Ok(v1::job_totals::<T>().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = JobTotals::<BalanceOf<T>>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			let after = job_totals::<T>();
			frame_support::ensure!(
				after == before,
				"every job keeps its stage, escrow and deposit"
			);
			Pallet::<T>::do_try_state()
		}
	}

	/// Closes a record the migration cannot carry over, as a cancel would, so that nothing it
	/// held stays held: its escrow and challenge fee go back to its creator, its provider's
	/// collateral and running job and its mediator's stake are released, and its pruning (which
	/// returns the deposit) stays where it was queued, or is queued now.
	pub fn close_refused<T: Config>(id: JobId, mut old: v1::JobOf<T>) -> JobOf<T> {
		let escrow = core::mem::take(&mut old.escrow);
		let fee = core::mem::take(&mut old.challenge_fee);
		Pallet::<T>::release(HoldReason::JobEscrow, &old.creator, escrow);
		Pallet::<T>::release(HoldReason::ChallengeFee, &old.creator, fee);
		if !old.stage.is_final() {
			if let Some(a) = &old.assignment {
				T::Providers::unlock_bond(&a.provider, BondKind::Provider, a.collateral);
				if old.stage == Stage::Matched {
					T::Providers::end_job(&a.provider);
				}
			}
		}
		if let Some(m) = &old.mediation {
			if let Some(mediator) = &m.mediator {
				T::Providers::unlock_bond(mediator, BondKind::Mediator, m.stake_locked);
			}
		}
		OpenJobs::<T>::remove(id);
		// Closed: nothing is kept for its settlement (none before version 3 kept any).
		Payees::<T>::remove(id);
		JobModels::<T>::remove(id);
		let mut job = old.with_state(JobState::Closed(JobOutcome::Cancelled));
		if job.due.is_none() {
			let at = frame_system::Pallet::<T>::block_number().saturating_add(T::Retention::get());
			job.due = Pallet::<T>::schedule(id, at).ok();
		}
		job
	}

	/// [`UseJobStates`] from storage version 1 to 2.
	pub type MigrateToV2<T> =
		VersionedMigration<1, 2, UseJobStates<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}

/// Version 3: a job's royalty payees and model digests are fixed at submission, in
/// [`Payees`] and [`JobModels`], instead of read from the registry's lineages at matching and
/// completion.
pub mod v3 {
	use super::*;
	use lilypad_primitives::registry::ModuleRegistry;

	/// Fixes the payees (and model digests, none before modules named models) of every job
	/// that is not closed, as the registry gives them now: what the job would have read at its
	/// completion. Closed jobs are paid or refunded and need none. Emits
	/// [`Event::PayeesFixed`].
	///
	/// One pass over `Jobs` in one block; live jobs each hold escrow, and closed ones are
	/// pruned after the retention period, which keeps the map small.
	pub struct FixPayees<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for FixPayees<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut jobs, mut live, mut reads) = (0u64, 0u32, 0u64);
			// Every live job owing royalties gets its payees; closed ones get none, as
			// `pre_upgrade` saw no payees at all.
			let mut checked = true;
			for (id, job) in Jobs::<T>::iter() {
				jobs.saturating_inc();
				if job.stage().is_final() {
					continue;
				}
				live.saturating_inc();
				// A live job keeps its version published (its `active_jobs` count).
				let (payees, models) = T::Registry::job_terms(&job.module)
					.map(|terms| (terms.payees, terms.models))
					.unwrap_or_default();
				// Each lineage step reads a version and its module.
				reads.saturating_accrue(2 * payees.len() as u64 + 2);
				checked &= !payees.is_empty() || job.charge.royalties.is_zero();
				if !payees.is_empty() {
					Payees::<T>::insert(id, payees);
				}
				if !models.is_empty() {
					JobModels::<T>::insert(id, models);
				}
			}
			if !checked {
				log::error!(target: "runtime::jobs", "v3 migration: payees out of step");
			}
			Pallet::<T>::deposit_event(Event::PayeesFixed { live, checked });
			T::DbWeight::get().reads_writes(jobs + reads + 1, 2 * u64::from(live) + 1)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			use codec::Encode;
			frame_support::ensure!(
				Payees::<T>::iter_keys().next().is_none(),
				"no payees before version 3"
			);
			Ok(job_totals::<T>().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = JobTotals::<BalanceOf<T>>::decode(&mut &state[..])
				.map_err(|_| "pre-upgrade state decodes")?;
			frame_support::ensure!(job_totals::<T>() == before, "jobs and their funds unchanged");
			for (id, job) in Jobs::<T>::iter() {
				frame_support::ensure!(
					!job.stage().is_final()
						|| (!Payees::<T>::contains_key(id) && !JobModels::<T>::contains_key(id)),
					"a closed job has payees"
				);
			}
			Pallet::<T>::do_try_state()
		}
	}

	/// [`FixPayees`] from storage version 2 to 3.
	pub type MigrateToV3<T> =
		VersionedMigration<2, 3, FixPayees<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
