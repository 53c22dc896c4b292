//! Matching: who may propose pairs, the rules a pair must keep (`check_match` in
//! `lilypad_primitives::jobs`), and what a match changes (collateral, price, escrow).
use crate::*;

impl<T: Config> Pallet<T> {
	/// Whether `who` may propose matches: a solver whose free stake covers a penalty.
	/// Returns the penalty an invalid pair costs it.
	pub fn ensure_can_solve(who: &T::AccountId) -> Result<BalanceOf<T>, DispatchError> {
		ensure!(T::Identity::has_role(who, Role::Solver), Error::<T>::NotSolver);
		let stake = T::Providers::free_bond(who, BondKind::Solver);
		let penalty = T::InvalidMatchPenalty::get();
		ensure!(!stake.is_zero() && stake >= penalty, Error::<T>::SolverNotStaked);
		Ok(penalty)
	}

	/// Checks a pair against the rules of a match; `Ok((price, collateral))` if it holds.
	pub(crate) fn check_pair(
		job: &JobOf<T>,
		provider: &T::AccountId,
		rho: FixedU128,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), MatchError> {
		let view = T::Providers::provider(provider).ok_or(MatchError::ProviderNotRegistered)?;
		let floor =
			T::Registry::version(&job.module).map(|v| v.price_floor).unwrap_or_else(Zero::zero);
		check_match(
			job,
			&ProviderTerms {
				account: provider,
				offer: &view.offer,
				status: view.status,
				active_jobs: view.active_jobs,
				free_collateral: T::Providers::free_bond(provider, BondKind::Provider),
			},
			floor,
			rho,
			|c| T::Identity::has_credential(provider, c),
		)
	}

	/// Makes a checked match: locks the collateral, re-prices the job and returns the
	/// excess escrow.
	pub(crate) fn make_match(
		id: JobId,
		job: &mut JobOf<T>,
		provider: T::AccountId,
		solver: T::AccountId,
		price: BalanceOf<T>,
		collateral: BalanceOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let execute_by = now
			.saturating_add(blocks_for_secs(job.timeout_secs).into())
			.saturating_add(T::ExecutionGrace::get().into());
		let due = Self::schedule(id, execute_by.saturating_add(1u32.into()))?;
		// Both were checked just now; failing here would be a bug, and reverts the call.
		T::Providers::lock_bond(&provider, BondKind::Provider, collateral)?;
		T::Providers::start_job(&provider)?;
		// The payees' shares of the price, as fixed at submission; never more than held.
		let payees = Payees::<T>::get(id).unwrap_or_default();
		let royalties = Self::royalties_total(&payees, price).min(job.charge.royalties);
		let charge = charge_with_royalties(price, job.rates, royalties);
		let released = job.escrow.saturating_sub(charge.total());
		Self::release(HoldReason::JobEscrow, &job.creator, released);
		job.charge = charge;
		job.escrow = charge.total();
		let assignment = Assignment {
			provider: provider.clone(),
			solver: solver.clone(),
			price,
			collateral,
			matched_at: now,
			execute_by,
		};
		Self::enter(job, JobState::Matched { assignment }, now, Some(due));
		OpenJobs::<T>::remove(id);
		JobsByProvider::<T>::insert(&provider, id, ());
		Self::deposit_event(Event::JobMatched {
			job: id,
			provider,
			solver,
			price,
			collateral,
			released,
		});
		Ok(())
	}
}
