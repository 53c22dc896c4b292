//! Settlement: the funds a job holds (escrow, challenge fee, deposit, under this pallet's
//! [`HoldReason`]s), and how they leave: paid out on completion, refunded, released. Every
//! payment moves held funds with `transfer_on_hold`, so nothing is minted or burnt, and one that
//! cannot land goes to the treasury.
use crate::*;

impl<T: Config> Pallet<T> {
	/// The governed fee rates in force.
	pub(crate) fn fee_rates() -> FeeRates {
		FeeRates { solver: T::SolverFee::get(), protocol: T::ProtocolFee::get() }
	}

	/// All royalties `payees` earn of a job at `price`.
	pub(crate) fn royalties_total(
		payees: &[(T::AccountId, Perbill)],
		price: BalanceOf<T>,
	) -> BalanceOf<T> {
		royalty_amounts(payees, price)
			.into_iter()
			.fold(Zero::zero(), |acc: BalanceOf<T>, (_, a)| acc.saturating_add(a))
	}

	/// The weight of `n` notes to the rewards pallet (bond changes the providers pallet
	/// reports to it included).
	pub(crate) fn notes_weight(n: u32) -> Weight {
		T::Rewards::note_weight().saturating_mul(n.into())
	}

	/// Pays out a job: provider, solver, the royalty payees fixed at submission, protocol fee;
	/// releases the collateral.
	pub(crate) fn complete(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let (a, result, mediation) = match job.state.clone() {
			JobState::Reported { assignment, result } => (assignment, result, None),
			JobState::InMediation { assignment, result, mediation } => {
				(assignment, result, Some(mediation))
			}
			_ => {
				defensive!("a job completes only with a result");
				return Ok(());
			}
		};
		let charge = job.charge;
		let creator = job.creator.clone();
		let escrow = HoldReason::JobEscrow;
		Self::pay_from(escrow, &creator, &a.provider, charge.price);
		Self::pay_from(escrow, &creator, &a.solver, charge.solver_fee);
		T::Rewards::note(BondKind::Provider, &a.provider, Some(Outcome::Success), charge.price);
		T::Rewards::note(BondKind::Solver, &a.solver, Some(Outcome::Success), charge.solver_fee);
		let mut left = charge.royalties;
		for (owner, due) in royalty_amounts(&Payees::<T>::get(id).unwrap_or_default(), charge.price)
		{
			let amount = due.min(left);
			Self::pay_from(escrow, &creator, &owner, amount);
			left.saturating_reduce(amount);
		}
		// What rounding left of the royalties goes back to the creator.
		Self::release(escrow, &creator, left);
		let (rewards, treasury) =
			split_protocol_fee(charge.protocol_fee, T::ProtocolFeeToRewards::get());
		Self::pay_from(escrow, &creator, &T::RewardsPool::get(), rewards);
		Self::pay_from(escrow, &creator, &T::Treasury::get(), treasury);
		job.escrow = Zero::zero();
		T::Providers::unlock_bond(&a.provider, BondKind::Provider, a.collateral);
		T::Registry::release(&job.module);
		Self::deposit_event(Event::JobCompleted {
			job: id,
			provider: a.provider.clone(),
			price: charge.price,
			solver_fee: charge.solver_fee,
			royalties: charge.royalties.saturating_sub(left),
			protocol_fee: charge.protocol_fee,
		});
		Self::finish(id, job, JobOutcome::Completed { assignment: a, result, mediation }, now)
	}

	/// Returns a live job's whole escrow to its creator and ends its count on the module.
	pub(crate) fn refund_escrow(job: &mut JobOf<T>) -> BalanceOf<T> {
		let refunded = core::mem::take(&mut job.escrow);
		Self::release(HoldReason::JobEscrow, &job.creator, refunded);
		T::Registry::release(&job.module);
		refunded
	}

	/// Returns a finished job's deposit and drops it from the indexes (its record is the
	/// caller's to remove).
	pub(crate) fn prune(id: JobId, job: JobOf<T>) {
		Self::release(HoldReason::JobDeposit, &job.creator, job.deposit);
		JobsByCreator::<T>::remove(&job.creator, id);
		if let Some(a) = job.state.assignment() {
			JobsByProvider::<T>::remove(&a.provider, id);
		}
		Self::deposit_event(Event::JobPruned { job: id, deposit: job.deposit });
	}

	/// Moves `amount` held from `from` under `reason` to `to`; to the treasury if `to`
	/// cannot receive it (an amount below the existential deposit for an account that does
	/// not exist), and back to `from` if even that fails, so nothing stays held.
	pub(crate) fn pay_from(
		reason: HoldReason,
		from: &T::AccountId,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) {
		if amount.is_zero() {
			return;
		}
		let transfer = |dest: &T::AccountId| {
			T::Currency::transfer_on_hold(
				&reason.into(),
				from,
				dest,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)
		};
		if transfer(to).is_err() && transfer(&T::Treasury::get()).is_err() {
			Self::release(reason, from, amount);
		}
	}

	/// Releases `amount` held from `who` under `reason`.
	pub(crate) fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
		if !amount.is_zero() {
			// What was held under `reason` can always be released: the amounts are the
			// pallet's own records of what it held.
			let _ = T::Currency::release(&reason.into(), who, amount, Precision::BestEffort);
		}
	}
}
