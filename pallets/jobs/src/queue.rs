//! The due-step queue: each job has at most one automatic step pending, at block `Job::due`,
//! queued in [`DueJobs`] by block; `on_initialize` runs one block's queue. The queue's policy is
//! here and only here: a step a call asks for is refused with [`Error::QueueFull`] when
//! [`MAX_DUE_SPILL`] blocks from the one asked are full (the caller can try again), and a step the
//! hook asks for, which cannot be refused, looks up to [`MAX_HOOK_SPILL`] blocks on.
use crate::*;

// Present while the block's hook runs its steps: what they queue is never refused.
environmental::environmental!(in_hook: ());

impl<T: Config> Pallet<T> {
	/// Runs the steps queued for `now` (at most [`Config::MaxDuePerBlock`]); returns how many,
	/// and the weight of the mediator draws they made beyond their own.
	pub(crate) fn run_due(now: BlockNumberFor<T>) -> (u32, Weight) {
		Self::as_hook(|| {
			let due = DueJobs::<T>::take(now);
			let mut draws = Weight::zero();
			for id in due.iter() {
				draws.saturating_accrue(Self::step(*id, now));
			}
			(due.len() as u32, draws)
		})
	}

	/// Runs `f` as the block's hook runs its steps: what it queues is never refused.
	pub(crate) fn as_hook<R>(f: impl FnOnce() -> R) -> R {
		in_hook::using(&mut (), f)
	}

	/// How many blocks from the one asked a step may land in: the hook's own steps cannot be
	/// refused, so they look further than a call's, which its caller can send again.
	fn reach() -> u32 {
		match in_hook::with(|_| ()) {
			Some(()) => MAX_HOOK_SPILL,
			None => MAX_DUE_SPILL,
		}
	}

	/// Queues `job`'s next step at `at`, or in one of the blocks after it (as far as
	/// [`Self::reach`] allows) if that block is full; returns the block.
	pub(crate) fn schedule(
		job: JobId,
		at: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		// This block's queue has run (or runs now): the earliest step is the next block's,
		// whatever a governed window of zero would say.
		let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
		let at = at.max(next);
		for extra in 0..Self::reach() {
			let block = at.saturating_add(extra.into());
			if DueJobs::<T>::try_mutate(block, |due| due.try_push(job)).is_ok() {
				return Ok(block);
			}
		}
		Err(Error::<T>::QueueFull.into())
	}

	/// Moves `job` to `state` at `now`, with its next step at `due`, and records the stage.
	pub(crate) fn enter(
		job: &mut JobOf<T>,
		state: StateOf<T>,
		now: BlockNumberFor<T>,
		due: Option<BlockNumberFor<T>>,
	) {
		let stage = state.stage();
		job.state = state;
		job.due = due;
		// Each stage is entered at most once, and there are no more stages than entries.
		let _ = job.history.try_push((stage, now));
	}

	/// Closes a job with `outcome`, its pruning queued after the retention period.
	pub(crate) fn finish(
		id: JobId,
		job: &mut JobOf<T>,
		outcome: OutcomeOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let due = Self::schedule(id, now.saturating_add(T::Retention::get()))?;
		Self::enter(job, JobState::Closed(outcome), now, Some(due));
		// Paid or refunded: what was fixed for its settlement is done with.
		Payees::<T>::remove(id);
		JobModels::<T>::remove(id);
		Ok(())
	}

	/// Runs `id`'s automatic step if it is due at `now`; returns the weight of any mediator
	/// draw it made, beyond the step's own.
	pub(crate) fn step(id: JobId, now: BlockNumberFor<T>) -> Weight {
		let Some(mut job) = Jobs::<T>::get(id) else { return Weight::zero() };
		if job.due != Some(now) {
			return Weight::zero(); // The job moved on since this entry was queued.
		}
		let mut drawn = Weight::zero();
		let result = match job.state {
			JobState::Open => {
				let refunded = Self::refund_escrow(&mut job);
				OpenJobs::<T>::remove(id);
				Self::deposit_event(Event::JobExpired { job: id, refunded });
				Self::finish(id, &mut job, JobOutcome::Expired, now)
			}
			JobState::Matched { .. } => Self::time_out(id, &mut job, now),
			JobState::Reported { .. } => Self::sample_or_complete(id, &mut job, now, &mut drawn),
			JobState::InMediation { .. } => Self::mediation_step(id, &mut job, now, &mut drawn),
			JobState::SlashPending { .. } => Self::apply_slash(id, &mut job, now),
			JobState::Closed(_) => {
				Self::prune(id, job);
				Jobs::<T>::remove(id);
				return Weight::zero();
			}
		};
		if result.is_err() {
			// Every block in reach is full: the step is done (funds moved) and the job
			// waits for a call-free retry one block on.
			job.due = None;
		}
		Jobs::<T>::insert(id, job);
		drawn
	}

	/// Waits a block for usable randomness.
	pub(crate) fn retry_next_block(
		id: JobId,
		job: &mut JobOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		job.due = Some(Self::schedule(id, now.saturating_add(1u32.into()))?);
		Ok(())
	}
}
