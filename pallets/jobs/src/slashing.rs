//! Slashing: a provider found at fault (no result in time, or a wrong one) has its collateral
//! put under a pending slash, applied after the appeal window unless governance cancels it.
use crate::*;

impl<T: Config> Pallet<T> {
	/// No result by the execution deadline: refund the creator, end the provider's
	/// running job, and slash its collateral after the appeal window.
	pub(crate) fn time_out(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let JobState::Matched { assignment: a } = &job.state else {
			defensive!("a job times out only while matched");
			return Ok(());
		};
		let provider = a.provider.clone();
		let refunded = Self::refund_escrow(job);
		T::Providers::end_job(&provider);
		let applies_at = Self::start_slash(id, job, SlashCause::ExecutionTimeout, now)?;
		Self::deposit_event(Event::ExecutionTimedOut { job: id, provider, refunded, applies_at });
		Ok(())
	}

	/// Puts the assigned provider's collateral under a pending slash: a matched job's for a
	/// timeout, a mediated one's for a wrong result. Returns the block it applies in.
	pub(crate) fn start_slash(
		id: JobId,
		job: &mut JobOf<T>,
		cause: SlashCause,
		now: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let (a, result, mediation) = match job.state.clone() {
			JobState::Matched { assignment } => (assignment, None, None),
			JobState::InMediation { assignment, result, mediation } => {
				(assignment, Some(result), Some(mediation))
			}
			_ => {
				defensive!("a provider is slashed only for a matched or mediated job");
				return Ok(now);
			}
		};
		let applies_at = now.saturating_add(T::AppealWindow::get().into());
		let split = timeout_slash(a.collateral, a.price);
		// A mediator that caught the result is paid out of the treasury's part first.
		let caught_by_mediator = mediation.as_ref().is_some_and(|m| m.mediator.is_some());
		let to_mediator = if caught_by_mediator {
			T::ChallengeFee::get().min(split.to_treasury)
		} else {
			Zero::zero()
		};
		let to_treasury = split.to_treasury.saturating_sub(to_mediator);
		let due = Self::schedule(id, applies_at)?;
		let slash = PendingSlash {
			cause,
			to_creator: split.to_creator,
			to_mediator,
			to_treasury,
			applies_at: due,
		};
		let provider = a.provider.clone();
		let state = JobState::SlashPending { assignment: a, result, mediation, slash };
		Self::enter(job, state, now, Some(due));
		Self::deposit_event(Event::SlashPending {
			job: id,
			provider,
			cause,
			to_creator: split.to_creator,
			to_mediator,
			to_treasury,
			applies_at: due,
		});
		Ok(due)
	}

	/// Applies a pending slash: the collateral goes to the creator and the treasury.
	pub(crate) fn apply_slash(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let JobState::SlashPending { assignment: a, result, mediation, slash } = job.state.clone()
		else {
			defensive!("a slash applies only while pending");
			return Ok(());
		};
		let treasury = T::Treasury::get();
		let to_creator = T::Providers::slash_bond(
			&a.provider,
			BondKind::Provider,
			slash.to_creator,
			&job.creator,
		);
		let mediator = mediation.as_ref().and_then(|m| m.mediator.clone());
		let to_mediator = match &mediator {
			Some(mediator) => T::Providers::slash_bond(
				&a.provider,
				BondKind::Provider,
				slash.to_mediator,
				mediator,
			),
			None => Zero::zero(),
		};
		// What could not reach the creator or the mediator goes to the treasury with the
		// rest.
		let short = slash
			.to_creator
			.saturating_sub(to_creator)
			.saturating_add(slash.to_mediator.saturating_sub(to_mediator));
		let to_treasury = T::Providers::slash_bond(
			&a.provider,
			BondKind::Provider,
			slash.to_treasury.saturating_add(short),
			&treasury,
		);
		// Anything left of this job's lock (a bond that shrank below it) is released.
		T::Providers::unlock_bond(
			&a.provider,
			BondKind::Provider,
			a.collateral
				.saturating_sub(to_creator)
				.saturating_sub(to_mediator)
				.saturating_sub(to_treasury),
		);
		if let Some(mediator) = mediator.filter(|_| !to_mediator.is_zero()) {
			T::Rewards::note(BondKind::Mediator, &mediator, None, to_mediator);
			Self::deposit_event(Event::MediatorPaid { job: id, mediator, amount: to_mediator });
		}
		T::Rewards::note(BondKind::Provider, &a.provider, Some(Outcome::Slash), Zero::zero());
		Self::deposit_event(Event::SlashApplied {
			job: id,
			provider: a.provider.clone(),
			to_creator,
			to_mediator,
			to_treasury,
		});
		let outcome = JobOutcome::Slashed { assignment: a, result, mediation, slash };
		Self::finish(id, job, outcome, now)
	}
}
