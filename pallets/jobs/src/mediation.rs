//! Mediation: whether a result is re-checked (sampling), who re-checks it (a mediator drawn by
//! stake), what happens when the mediator is late, and what a verdict moves.
use crate::*;

impl<T: Config> Pallet<T> {
	/// Releases the stake `mediator` has locked for mediation `m`.
	pub(crate) fn unlock_mediator(
		mediator: &T::AccountId,
		m: &mut Mediation<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>,
	) {
		let locked = core::mem::take(&mut m.stake_locked);
		T::Providers::unlock_bond(mediator, BondKind::Mediator, locked);
	}

	/// A fresh mediation record: no mediator drawn yet.
	pub(crate) fn new_mediation(
		cause: MediationCause,
		now: BlockNumberFor<T>,
	) -> Mediation<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
		Mediation {
			cause,
			mediator: None,
			stake_locked: Zero::zero(),
			answer_by: now,
			failed: Default::default(),
			verdict: None,
		}
	}

	/// The block `job`'s result was submitted in.
	pub(crate) fn result_block(job: &JobOf<T>) -> BlockNumberFor<T> {
		job.history
			.iter()
			.find(|(stage, _)| *stage == Stage::ResultSubmitted)
			.map(|(_, at)| *at)
			.unwrap_or_default()
	}

	/// A seed for `domain` and `job` from randomness first known after `after`:
	/// `Err(())` if the randomness known now is not that recent yet (wait a block),
	/// `Ok(None)` if the chain has none.
	pub(crate) fn seed(
		domain: &[u8],
		job: JobId,
		attempt: u32,
		after: BlockNumberFor<T>,
	) -> Result<Option<[u8; 32]>, ()> {
		let (random, known_since) = T::Randomness::random(&(domain, job, attempt).encode());
		if known_since <= after {
			return Err(());
		}
		Ok(random.map(|r| r.using_encoded(sp_io::hashing::blake2_256)))
	}

	/// The end of the challenge window: randomness from after the result decides whether
	/// the job is re-checked; if not, it completes.
	pub(crate) fn sample_or_complete(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
		drawn: &mut Weight,
	) -> DispatchResult {
		let rate = sampling_rate(job.verification, T::DeterministicSamplingRate::get());
		if rate.is_zero() {
			return Self::complete(id, job, now);
		}
		let seed = match Self::seed(SAMPLE_DOMAIN, id, 0, Self::result_block(job)) {
			Err(()) => return Self::retry_next_block(id, job, now),
			Ok(seed) => seed,
		};
		// Without randomness (a chain without VRF outputs) nothing can be sampled.
		if !seed.is_some_and(|seed| is_sampled(rate, &seed)) {
			return Self::complete(id, job, now);
		}
		let JobState::Reported { assignment, result } = job.state.clone() else {
			defensive!("a result is sampled only while reported");
			return Ok(());
		};
		let mediation = Self::new_mediation(MediationCause::Sampled, now);
		Self::enter(job, JobState::InMediation { assignment, result, mediation }, now, None);
		Self::deposit_event(Event::ResultSampled { job: id });
		Self::draw_mediator(id, job, now, drawn)
	}

	/// A mediation's due step: draw its mediator, or, past the drawn one's deadline,
	/// slash it and draw another.
	pub(crate) fn mediation_step(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
		drawn: &mut Weight,
	) -> DispatchResult {
		let JobState::InMediation { mediation: m, .. } = &mut job.state else {
			defensive!("a mediation steps only while the job is in mediation");
			return Ok(());
		};
		if let Some(mediator) = m.mediator.take() {
			let locked = core::mem::take(&mut m.stake_locked);
			let slashed = T::Providers::slash_bond(
				&mediator,
				BondKind::Mediator,
				locked,
				&T::Treasury::get(),
			);
			T::Providers::unlock_bond(
				&mediator,
				BondKind::Mediator,
				locked.saturating_sub(slashed),
			);
			// At most MAX_MEDIATION_ATTEMPTS are drawn, so this always fits.
			let _ = m.failed.try_push(mediator.clone());
			let exhausted = m.failed.len() as u32 >= MAX_MEDIATION_ATTEMPTS;
			T::Rewards::note(BondKind::Mediator, &mediator, Some(Outcome::Failure), Zero::zero());
			Self::deposit_event(Event::MediatorTimedOut { job: id, mediator, slashed });
			if exhausted {
				Self::deposit_event(Event::MediationTimedOut { job: id });
				return Self::stand_unverified(id, job, now);
			}
		}
		Self::draw_mediator(id, job, now, drawn)
	}

	/// Draws `job`'s mediator by stake and locks its penalty; with nobody to draw, the
	/// result stands.
	pub(crate) fn draw_mediator(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
		drawn: &mut Weight,
	) -> DispatchResult {
		let JobState::InMediation { assignment, mediation: m, .. } = &job.state else {
			defensive!("a mediator is drawn only for a job in mediation");
			return Ok(());
		};
		let (provider, failed) = (assignment.provider.clone(), m.failed.clone());
		let attempt = failed.len() as u32;
		let seed = match Self::seed(DRAW_DOMAIN, id, attempt, Self::result_block(job)) {
			Err(()) => return Self::retry_next_block(id, job, now),
			Ok(seed) => seed,
		};
		let penalty = T::MediatorPenalty::get();
		let pool = T::Providers::mediators();
		drawn.saturating_accrue(T::DbWeight::get().reads_writes(pool.len() as u64 + 3, 2));
		let (candidates, weights): (Vec<T::AccountId>, Vec<u128>) = pool
			.into_iter()
			.filter(|(who, stake)| {
				!stake.is_zero()
					&& *stake >= penalty
					&& *who != job.creator
					&& !failed.contains(who)
					&& !T::Identity::acts_for(who, &provider)
			})
			.map(|(who, stake)| (who, UniqueSaturatedInto::<u128>::unique_saturated_into(stake)))
			.unzip();
		let pick = seed.and_then(|seed| draw_weighted(&weights, &seed));
		let Some(mediator) = pick.map(|i| candidates[i].clone()) else {
			Self::deposit_event(Event::NoMediatorAvailable { job: id });
			return Self::stand_unverified(id, job, now);
		};
		// Checked just now: its free stake covers the penalty.
		T::Providers::lock_bond(&mediator, BondKind::Mediator, penalty)?;
		// The provider's own time to fetch and run the job, and the mediation timeout.
		let answer_by = now
			.saturating_add(blocks_for_secs(job.timeout_secs).into())
			.saturating_add(T::ExecutionGrace::get().into())
			.saturating_add(T::MediationTimeout::get());
		let due = Self::schedule(id, answer_by.saturating_add(1u32.into()))?;
		if let JobState::InMediation { mediation: m, .. } = &mut job.state {
			m.mediator = Some(mediator.clone());
			m.stake_locked = penalty;
			m.answer_by = answer_by;
		}
		job.due = Some(due);
		Self::deposit_event(Event::MediatorAssigned { job: id, mediator, answer_by });
		Ok(())
	}

	/// Mediation could not decide: the result stands, a challenger's fee goes back.
	pub(crate) fn stand_unverified(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let fee = core::mem::take(&mut job.challenge_fee);
		Self::release(HoldReason::ChallengeFee, &job.creator, fee);
		Self::complete(id, job, now)
	}

	/// Carries out `verdict` on a job in mediation; `mediator` is the one that answered
	/// (`None` when the mediation origin decided), and is paid.
	pub(crate) fn resolve(
		id: JobId,
		job: &mut JobOf<T>,
		verdict: Verdict,
		mediator: Option<T::AccountId>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let fee = core::mem::take(&mut job.challenge_fee);
		match &mut job.state {
			JobState::InMediation { mediation, .. } => mediation.verdict = Some(verdict),
			_ => {
				defensive!("a verdict is given only in mediation");
			}
		}
		Self::deposit_event(Event::MediationResolved { job: id, verdict });
		match verdict {
			Verdict::ResultUpheld => {
				let creator = job.creator.clone();
				match mediator {
					// A challenge pays for its mediation.
					Some(mediator) if !fee.is_zero() => {
						Self::pay_from(HoldReason::ChallengeFee, &creator, &mediator, fee);
						T::Rewards::note(BondKind::Mediator, &mediator, None, fee);
						Self::deposit_event(Event::MediatorPaid { job: id, mediator, amount: fee });
					}
					// A sample is paid for by the protocol, out of the job's protocol fee.
					Some(mediator) => {
						let amount = T::ChallengeFee::get().min(job.charge.protocol_fee);
						Self::pay_from(HoldReason::JobEscrow, &creator, &mediator, amount);
						job.charge.protocol_fee.saturating_reduce(amount);
						job.escrow.saturating_reduce(amount);
						T::Rewards::note(BondKind::Mediator, &mediator, None, amount);
						Self::deposit_event(Event::MediatorPaid { job: id, mediator, amount });
					}
					None => {
						Self::pay_from(HoldReason::ChallengeFee, &creator, &T::Treasury::get(), fee)
					}
				}
				Self::complete(id, job, now)
			}
			Verdict::ResultWrong => {
				Self::release(HoldReason::ChallengeFee, &job.creator, fee);
				Self::refund_escrow(job);
				Self::start_slash(id, job, SlashCause::BadResult, now).map(|_| ())
			}
		}
	}
}
