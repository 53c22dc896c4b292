//! The pallet's invariants, checked by `try_state` (and after every block in the tests).
use crate::*;

impl<T: Config> Pallet<T> {
	/// Holds agree with the jobs: escrow, challenge fees and deposits on every account,
	/// collateral in use per provider, running jobs per provider; finished jobs hold
	/// nothing; every scheduled step is queued; the open-jobs index is exact. Linear in
	/// accounts and jobs: `try_state` and tests only.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut held: BTreeMap<T::AccountId, [BalanceOf<T>; 3]> = BTreeMap::new();
		let mut locked: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut running: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let mut mediating: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for id in Payees::<T>::iter_keys().chain(JobModels::<T>::iter_keys()) {
			ensure!(
				Jobs::<T>::get(id).is_some_and(|j| !j.stage().is_final()),
				"payees or model digests kept for a job that is not live"
			);
		}
		for (id, job) in Jobs::<T>::iter() {
			let h = held.entry(job.creator.clone()).or_default();
			h[0].saturating_accrue(job.escrow);
			h[1].saturating_accrue(job.challenge_fee);
			h[2].saturating_accrue(job.deposit);
			let stage = job.stage();
			let live = !stage.is_final();
			if !live || stage == Stage::SlashPending {
				ensure!(job.escrow.is_zero(), "a finished job holds escrow");
				ensure!(job.challenge_fee.is_zero(), "a finished job holds a challenge fee");
			} else {
				ensure!(job.escrow == job.charge.total(), "escrow differs from the charge");
			}
			ensure!(
				stage == Stage::InMediation || job.challenge_fee.is_zero(),
				"a challenge fee outside mediation"
			);
			if let Some(m) = job.state.mediation() {
				ensure!(
					stage == Stage::InMediation || m.stake_locked.is_zero(),
					"a mediator's stake is locked outside mediation"
				);
				if let Some(mediator) = &m.mediator {
					mediating
						.entry(mediator.clone())
						.or_default()
						.saturating_accrue(m.stake_locked);
				}
			}
			if let Some(a) = job.state.assignment() {
				if matches!(
					stage,
					Stage::Matched
						| Stage::ResultSubmitted
						| Stage::InMediation
						| Stage::SlashPending
				) {
					locked.entry(a.provider.clone()).or_default().saturating_accrue(a.collateral);
				}
				if stage == Stage::Matched {
					running.entry(a.provider.clone()).or_default().saturating_inc();
				}
			}
			if let Some(due) = job.due {
				ensure!(DueJobs::<T>::get(due).contains(&id), "a job's step is not queued");
			}
			ensure!(JobsByCreator::<T>::contains_key(&job.creator, id), "a job is not indexed");
			ensure!(
				OpenJobs::<T>::contains_key(id) == (stage == Stage::Submitted),
				"the open jobs are not exactly the submitted ones"
			);
		}
		ensure!(
			OpenJobs::<T>::iter_keys().all(Jobs::<T>::contains_key),
			"an open job does not exist"
		);
		// Every account, so that a hold no job accounts for is caught too.
		for who in frame_system::Account::<T>::iter_keys() {
			let [escrow, fee, deposit] = held.get(&who).copied().unwrap_or_default();
			let on_hold = |r: HoldReason| T::Currency::balance_on_hold(&r.into(), &who);
			ensure!(on_hold(HoldReason::JobEscrow) == escrow, "escrow differs from its hold");
			ensure!(on_hold(HoldReason::ChallengeFee) == fee, "fees differ from their hold");
			ensure!(on_hold(HoldReason::JobDeposit) == deposit, "deposits differ from their hold");
		}
		for (who, collateral) in locked {
			ensure!(
				T::Providers::bond_in_use(&who, BondKind::Provider) == collateral,
				"collateral in use differs from the jobs'"
			);
		}
		// Every mediator in the pool, so that a lock no job accounts for is caught too.
		for (who, _) in T::Providers::mediators() {
			ensure!(
				T::Providers::bond_in_use(&who, BondKind::Mediator)
					== mediating.get(&who).copied().unwrap_or_default(),
				"a mediator's locked stake differs from its mediations'"
			);
		}
		for (who, jobs) in running {
			ensure!(
				T::Providers::provider(&who).map(|p| p.active_jobs) == Some(jobs),
				"running jobs differ from the provider's count"
			);
		}
		Ok(())
	}
}
