//! # Jobs (Ophir): escrow, matching, results, settlement, timeouts and slashes
//!
//! ## Pallet API
//!
//! See the [`pallet`] module for the [`Config`], the [`Call`]s and the storage. Clients read
//! jobs through the `JobsApi` runtime API behind the `lilypad_job`, `lilypad_jobs` and
//! `lilypad_estimate` RPCs.
//!
//! ## Overview
//!
//! Every job is funded up front and settled on chain (docs/design.md §3, §6):
//!
//! 1. **Submit.** A job creator names a module version, its inputs, a maximum price and a
//!    match deadline. The module's resources, timeout and verification policy become the
//!    job's terms. The chain holds `max_price` plus the solver fee, the royalties and the
//!    protocol fee, all computed on `max_price`, and a storage deposit.
//! 2. **Match.** A staked solver proposes `(job, provider)` pairs, usually from its node's
//!    offchain worker ([`solver`]). The chain re-checks each. A stale pair (the job is no
//!    longer open, or an earlier match took the provider's room) costs nothing; an invalid
//!    pair costs the solver a governed penalty. A valid pair locks `rho × price` of the
//!    provider's bond and fixes the price at the provider's asking price; the excess escrow
//!    goes back at once.
//! 3. **Result.** The assigned provider submits a signed manifest before the execution
//!    deadline. A module that fails on its own (non-zero exit, timeout, out of memory) still
//!    completes the job: the provider did the work.
//! 4. **Verify.** When the challenge window ends, randomness drawn after the result decides
//!    whether it is re-checked, at the module's sampling rate. A challenge by the creator
//!    re-checks it for certain. A re-check goes to a mediator drawn by stake, never the
//!    job's provider or creator, which re-runs the job and submits its own signed result;
//!    the chain compares the two (see [Mediation](#mediation)).
//! 5. **Settle.** A result that was not re-checked, or that the re-check upheld, completes
//!    the job automatically: the provider, the solver, the lineage's owners and the protocol
//!    are paid, and the collateral is released.
//!
//! Nothing waits on anyone's goodwill: a job not matched by its deadline is refunded; a
//! provider that returns no result in time has the job refunded and its collateral slashed,
//! one job price to the creator and the rest to the treasury. Slashes wait an appeal window
//! with the funds still held, and apply unless governance cancels them.
//!
//! ## Mediation
//!
//! - **When.** `Deterministic` modules are re-checked at the governed
//!   [`Config::DeterministicSamplingRate`], `Sampled { p }` modules at `p`, `None` modules
//!   only when challenged. The decision uses [`Config::Randomness`] whose `known_since` block
//!   is after the result's block, so a provider cannot know when it submits whether it will
//!   be checked. (Only the author of the block that fixes the randomness could bias it, by
//!   withholding that block; with no block reward to lose that costs it little, so sampling
//!   bounds cheating in expectation rather than excluding it.)
//! - **Who.** A mediator is drawn from the providers pallet's mediator pool in proportion to
//!   its free stake, among those with at least [`Config::MediatorPenalty`] free and never the
//!   job's provider (or its delegates) or creator. The penalty is locked until it answers,
//!   which it must do within the provider's own time for the job plus
//!   [`Config::MediationTimeout`].
//! - **Answer.** The mediator re-runs the job and submits its own result manifest, signed
//!   under its own domain ([`lilypad_primitives::mediation::mediation_signing_payload`]). The
//!   chain compares the output digest and exit status exactly
//!   ([`lilypad_primitives::mediation::verdict`]).
//! - **Money.** Result upheld: the job completes; the mediator is paid the challenge fee, or
//!   for a sampled job up to [`Config::ChallengeFee`] out of the job's protocol fee. Result
//!   wrong: the creator is refunded (escrow and fee) and the provider's collateral is slashed
//!   after the appeal window; the mediator's pay, up to [`Config::ChallengeFee`], comes out of
//!   the treasury's part of that slash first. A mediator that does not answer in time
//!   loses its locked penalty to the treasury and another is
//!   drawn, up to [`lilypad_primitives::mediation::MAX_MEDIATION_ATTEMPTS`] mediators; with
//!   none left (or none eligible) the result stands and a challenger's fee goes back.
//! - [`Config::MediationOrigin`] (a `slash_appeals` referendum in the runtime) may still decide a mediation
//!   directly with [`Pallet::resolve_mediation`].
//!
//! ## Low Level / Implementation Details
//!
//! - Open jobs are indexed in [`OpenJobs`], so that a solver reads them without reading every
//!   job.
//! - Each job has at most one automatic step pending, at block [`Job::due`]; it is queued in
//!   [`DueJobs`] by block, and `on_initialize` runs one block's queue (at most
//!   [`Config::MaxDuePerBlock`]). An entry whose job has moved on (`due` differs) is skipped.
//!   A full block spills into the following ones.
//! - Funds are held on their owners' accounts under this pallet's [`HoldReason`]s and moved
//!   from there with `transfer_on_hold`, so nothing is minted or burnt, and every payment
//!   that cannot land (a recipient that cannot exist) goes to the treasury instead.
//! - The arithmetic of charges, collateral and slashes is in
//!   [`lilypad_primitives::economics`]; the match rules in [`lilypad_primitives::jobs`].
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use lilypad_primitives::{
	jobs::{
		Assignment, Job, JobId, JobInputs, JobOptions, MatchError, Mediation, PendingSlash,
		ResultManifest, SlashCause, Stage,
	},
	mediation::{MediationCause, Verdict},
};
pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod solver;
#[cfg(test)]
mod tests;
pub mod weights;

use polkadot_sdk::{frame_support, frame_system, sp_core, sp_io, sp_runtime};

/// How many later blocks a full queue of due jobs spills into before a call is refused.
pub const MAX_DUE_SPILL: u32 = 16;
/// How far the hook's own steps may spill: they cannot be refused, so they look further.
pub const MAX_HOOK_SPILL: u32 = 1_024;
/// The most notes to the rewards pallet one automatic step makes: a slash applied moves the
/// provider's bond three times and notes the slash and the mediator's pay.
pub const NOTES_PER_STEP: u32 = 5;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation, Restriction},
			Randomness,
		},
	};
	use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	use lilypad_primitives::{
		economics::{charge_with_royalties, split_protocol_fee, timeout_slash, FeeRates},
		identity::{is_valid_credential, IdentityInspect, Role},
		jobs::{
			blocks_for_secs, check_match, effective_verification, input_digest,
			result_signing_payload, PriceEstimate, ProviderTerms, MAX_JOBS_PAGE,
		},
		mediation::{
			draw_weighted, is_sampled, mediation_signing_payload, sampling_rate, verdict,
			DRAW_DOMAIN, MAX_MEDIATION_ATTEMPTS, SAMPLE_DOMAIN,
		},
		providers::{BondKind, ProviderLedger, ProviderStatus},
		registry::{check_inputs, InputError, ModuleRef, ModuleRegistry},
		reputation::Outcome,
		rewards::{OnActivity, ReputationOf},
	};
	use sp_core::sr25519;
	use sp_runtime::{
		traits::{IdentifyAccount, Saturating, UniqueSaturatedInto, Verify, Zero},
		FixedU128, Perbill,
	};

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type JobOf<T> =
		Job<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type OptionsOf<T> = JobOptions<<T as frame_system::Config>::AccountId>;
	pub type BatchOf<T> =
		BoundedVec<(JobId, <T as frame_system::Config>::AccountId), <T as Config>::MaxBatch>;

	/// Version 1 re-priced job deposits ([`crate::migrations::v1`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		polkadot_sdk::frame_system::Config + CreateSignedTransaction<Call<Self>>
	{
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;

		/// The token jobs are paid in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Modules (Ampli): terms, royalties and the count of running jobs.
		type Registry: ModuleRegistry<Self::AccountId, BalanceOf<Self>, BlockNumberFor<Self>>;

		/// Offers and bonds: what a match checks and the collateral it locks.
		type Providers: ProviderLedger<Self::AccountId, BalanceOf<Self>>;

		/// Roles, credentials and delegates (Halo).
		type Identity: IdentityInspect<Self::AccountId>;

		/// The account of a result signer's key.
		type ResultSigner: IdentifyAccount<AccountId = Self::AccountId> + From<sr25519::Public>;

		/// Who may decide a mediation directly, overriding the mediator (Root until
		/// governance lands).
		type MediationOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Randomness that decides sampling and draws mediators: the block number it returns
		/// is the block since which it is known (BABE's `ParentBlockRandomness`).
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;

		/// How often results of `Deterministic` modules are re-checked (governed).
		type DeterministicSamplingRate: Get<Perbill>;

		/// Locked from a mediator's stake while it owes an answer, and taken if it does not
		/// answer in time (governed).
		type MediatorPenalty: Get<BalanceOf<Self>>;

		/// Who may cancel a pending slash on appeal (Root until governance lands).
		type SlashCancelOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Receives the treasury's share of protocol fees and slashes.
		type Treasury: Get<Self::AccountId>;

		/// Receives the rewards pool's share of protocol fees.
		type RewardsPool: Get<Self::AccountId>;

		/// The solver's fee, as a share of the price (governed).
		type SolverFee: Get<Perbill>;

		/// The protocol's fee, as a share of the price (governed).
		type ProtocolFee: Get<Perbill>;

		/// The rewards pool's share of the protocol fee (governed).
		type ProtocolFeeToRewards: Get<Perbill>;

		/// `rho`: a match locks `rho × price` of the provider's bond (governed, at least 2.5).
		type CollateralRatio: Get<FixedU128>;

		/// The latest match deadline a job may set, in blocks from submission (governed).
		type MatchTimeout: Get<u32>;

		/// Blocks a provider has beyond the module's timeout to fetch, run and report
		/// (governed).
		type ExecutionGrace: Get<u32>;

		/// Blocks after a result in which it can be challenged (governed).
		type ChallengeWindow: Get<u32>;

		/// Blocks a slash waits for an appeal before it applies (governed).
		type AppealWindow: Get<u32>;

		/// Taken from a solver's stake for each invalid pair (governed).
		type InvalidMatchPenalty: Get<BalanceOf<Self>>;

		/// Held from a job creator that challenges a result (governed).
		type ChallengeFee: Get<BalanceOf<Self>>;

		/// Held per job for its storage until it is pruned.
		#[pallet::constant]
		type JobDeposit: Get<BalanceOf<Self>>;

		/// Blocks a finished job stays readable before it is pruned.
		#[pallet::constant]
		type Retention: Get<BlockNumberFor<Self>>;

		/// Blocks a drawn mediator has to answer beyond the provider's own time for the job
		/// (its timeout and the execution grace).
		#[pallet::constant]
		type MediationTimeout: Get<BlockNumberFor<Self>>;

		/// Most bytes of inline input values per job.
		#[pallet::constant]
		type MaxInlineInput: Get<u32>;

		/// Most pairs in one `propose_match`.
		#[pallet::constant]
		type MaxBatch: Get<u32>;

		/// Most automatic steps one block runs.
		#[pallet::constant]
		type MaxDuePerBlock: Get<u32>;

		/// The key the solver's offchain worker signs `propose_match` with
		/// ([`solver::KEY_TYPE`] in the node's keystore).
		type SolverKey: AppCrypto<Self::Public, Self::Signature>;

		/// The exponent `a` of a provider's stake in the solver's ranking (governed).
		type RankingStakeExponent: Get<FixedU128>;

		/// The exponent `b` of a provider's reputation in the solver's ranking (governed).
		type RankingReputationExponent: Get<FixedU128>;

		/// Reputation and epoch rewards: told what each provider, solver and mediator did and
		/// earned, and asked for providers' reputation by the solver.
		type Rewards: OnActivity<Self::AccountId, BalanceOf<Self>> + ReputationOf<Self::AccountId>;

		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A job's price and fees, held from its creator until settled.
		JobEscrow,
		/// A challenge fee, held until mediation decides.
		ChallengeFee,
		/// A job's storage deposit, held until the job is pruned.
		JobDeposit,
	}

	/// The next job's number.
	#[pallet::storage]
	pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

	/// Jobs, live and recently finished.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// Jobs waiting for a match: what a solver reads instead of every job.
	#[pallet::storage]
	pub type OpenJobs<T: Config> = StorageMap<_, Twox64Concat, JobId, ()>;

	/// Jobs by creator, for listing.
	#[pallet::storage]
	pub type JobsByCreator<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, JobId, ()>;

	/// Jobs by assigned provider, for listing.
	#[pallet::storage]
	pub type JobsByProvider<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, JobId, ()>;

	/// Jobs whose automatic step is due at each block.
	#[pallet::storage]
	pub type DueJobs<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDuePerBlock>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `creator` submitted `job`; `held` is its escrow at `max_price`.
		JobSubmitted {
			job: JobId,
			creator: T::AccountId,
			module: ModuleRef,
			max_price: BalanceOf<T>,
			held: BalanceOf<T>,
		},
		/// The creator cancelled `job` before a match; `refunded` went back.
		JobCancelled { job: JobId, refunded: BalanceOf<T> },
		/// Nobody matched `job` by its deadline; `refunded` went back.
		JobExpired { job: JobId, refunded: BalanceOf<T> },
		/// `solver` matched `job` to `provider` at `price`, locking `collateral`; the escrow
		/// above the charge at `price`, `released`, went back to the creator.
		JobMatched {
			job: JobId,
			provider: T::AccountId,
			solver: T::AccountId,
			price: BalanceOf<T>,
			collateral: BalanceOf<T>,
			released: BalanceOf<T>,
		},
		/// A proposed pair was stale (the job is no longer open, or the provider's room was
		/// taken by an earlier match): skipped, no penalty.
		MatchSkipped { job: JobId, provider: T::AccountId },
		/// A proposed pair broke `reason`; `penalty` was taken from the solver's stake.
		MatchRejected {
			job: JobId,
			provider: T::AccountId,
			solver: T::AccountId,
			reason: MatchError,
			penalty: BalanceOf<T>,
		},
		/// `provider` submitted the result of `job`; it completes after `challenge_until`.
		ResultSubmitted {
			job: JobId,
			provider: T::AccountId,
			exit: lilypad_primitives::jobs::ExitStatus,
			challenge_until: BlockNumberFor<T>,
		},
		/// `job` completed and was paid out.
		JobCompleted {
			job: JobId,
			provider: T::AccountId,
			price: BalanceOf<T>,
			solver_fee: BalanceOf<T>,
			royalties: BalanceOf<T>,
			protocol_fee: BalanceOf<T>,
		},
		/// The creator challenged the result of `job`, paying `fee`.
		JobChallenged { job: JobId, fee: BalanceOf<T> },
		/// The randomness drawn after its result sampled `job` for a re-check.
		ResultSampled { job: JobId },
		/// `mediator` was drawn to re-run `job` and must answer by `answer_by`.
		MediatorAssigned { job: JobId, mediator: T::AccountId, answer_by: BlockNumberFor<T> },
		/// `mediator` re-ran `job` and got `output_digest`.
		MediatorAnswered {
			job: JobId,
			mediator: T::AccountId,
			output_digest: lilypad_primitives::registry::Digest,
		},
		/// Mediation decided `job`.
		MediationResolved { job: JobId, verdict: Verdict },
		/// `mediator` was paid `amount` for the mediation of `job`.
		MediatorPaid { job: JobId, mediator: T::AccountId, amount: BalanceOf<T> },
		/// `mediator` did not answer for `job` in time and lost `slashed` of its stake.
		MediatorTimedOut { job: JobId, mediator: T::AccountId, slashed: BalanceOf<T> },
		/// No mediator could be drawn for `job` (none eligible, or no randomness): the result
		/// stands and a challenger's fee went back.
		NoMediatorAvailable { job: JobId },
		/// Every mediator drawn for `job` failed to answer: the result stands and a
		/// challenger's fee went back.
		MediationTimedOut { job: JobId },
		/// `provider` returned no result for `job` in time: the creator got `refunded` back
		/// and the provider's collateral is slashed at `applies_at` unless cancelled.
		ExecutionTimedOut {
			job: JobId,
			provider: T::AccountId,
			refunded: BalanceOf<T>,
			applies_at: BlockNumberFor<T>,
		},
		/// A slash of `provider` for `job` is pending until `applies_at`.
		SlashPending {
			job: JobId,
			provider: T::AccountId,
			cause: SlashCause,
			to_creator: BalanceOf<T>,
			to_mediator: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
			applies_at: BlockNumberFor<T>,
		},
		/// The pending slash of `job` applied.
		SlashApplied {
			job: JobId,
			provider: T::AccountId,
			to_creator: BalanceOf<T>,
			to_mediator: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
		/// The pending slash of `job` was cancelled on appeal; the collateral was released.
		SlashCancelled { job: JobId, provider: T::AccountId },
		/// `job` was removed from storage and its creator got `deposit` back.
		JobPruned { job: JobId, deposit: BalanceOf<T> },
		/// A runtime upgrade re-priced the deposits of the `jobs` in storage, returning
		/// `released` to their creators; they hold `escrow` in all. `checked`: the jobs and
		/// their escrow are as before and the deposits fell by exactly `released`.
		DepositsRepriced { jobs: u32, escrow: BalanceOf<T>, released: BalanceOf<T>, checked: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Submitting jobs needs the job-creator role (Halo `register_role`).
		NotJobCreator,
		/// Proposing matches needs the solver role.
		NotSolver,
		/// The solver's free stake is below the penalty of one invalid pair.
		SolverNotStaked,
		/// No such module version.
		ModuleNotFound,
		/// The module version is deprecated: new jobs may not use it.
		VersionDeprecated,
		/// An input the module does not declare.
		UnknownInput,
		/// An input given twice.
		DuplicateInput,
		/// A required input is missing.
		MissingInput,
		/// An input value does not parse as its parameter's type.
		InputTypeMismatch,
		/// The inline input values exceed [`Config::MaxInlineInput`] bytes; pass large inputs
		/// by digest.
		InlineInputTooLarge,
		/// `max_price` is below the module's price floor.
		PriceBelowFloor,
		/// The match deadline is not after this block.
		DeadlineInPast,
		/// The match deadline is further than the governed match timeout.
		DeadlineTooFar,
		/// The job asks for looser verification than the module's policy.
		VerificationTooLoose,
		/// A required credential's name is malformed.
		InvalidCredential,
		/// The account cannot pay the escrow and the deposit.
		InsufficientBalance,
		/// Too many jobs are due in the coming blocks; retry in a later block.
		QueueFull,
		/// No such job.
		JobNotFound,
		/// Only the job's creator may do that.
		NotCreator,
		/// The job is no longer waiting for a match.
		NotOpen,
		/// The job is not waiting for a result.
		NotAwaitingResult,
		/// Only the assigned provider (or its delegate) may submit the result.
		NotAssignedProvider,
		/// The execution deadline has passed.
		ExecutionDeadlinePassed,
		/// The result's signing key is neither the provider's nor a delegate's.
		SignerNotAuthorized,
		/// The signature does not match the manifest, the key or this chain.
		BadSignature,
		/// The manifest names another job.
		WrongJob,
		/// The manifest's module digest is not the module's.
		ModuleDigestMismatch,
		/// The manifest's input digest is not the job's.
		InputDigestMismatch,
		/// The job has no result in its challenge window.
		NotChallengeable,
		/// The job is not in mediation.
		NotInMediation,
		/// The job has no pending slash.
		NoPendingSlash,
		/// Only the job's drawn mediator (or its delegate) may answer.
		NotAssignedMediator,
		/// The mediator's answer deadline has passed.
		MediationDeadlinePassed,
	}

	impl<T> From<InputError> for Error<T> {
		fn from(e: InputError) -> Self {
			match e {
				InputError::UnknownParam(_) => Error::UnknownInput,
				InputError::DuplicateParam(_) => Error::DuplicateInput,
				InputError::MissingParam(_) => Error::MissingInput,
				InputError::TypeMismatch(_) => Error::InputTypeMismatch,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Runs this block's automatic steps: at most [`Config::MaxDuePerBlock`].
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = DueJobs::<T>::take(now);
			let steps = due.len() as u32;
			let mut draws = Weight::zero();
			for id in due {
				draws.saturating_accrue(Self::step(id, now));
			}
			T::WeightInfo::on_initialize(steps)
				.saturating_add(draws)
				.saturating_add(Self::notes_weight(NOTES_PER_STEP.saturating_mul(steps)))
		}

		/// The solver, on a node that holds a solver key (see [`solver`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			solver::run::<T>(now);
		}

		fn integrity_test() {
			assert!(T::MaxDuePerBlock::get() > 0, "no job could ever be settled");
			assert!(T::MaxBatch::get() > 0, "no job could ever be matched");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submit a job: run `module` on `inputs` for at most `max_price`, matched by block
		/// `deadline`.
		///
		/// ## Dispatch Origin
		/// Signed by an account with the job-creator role.
		///
		/// ## Details
		/// The module version fixes the job's resources, timeout and verification policy;
		/// `options` may name a provider, require credentials and tighten verification. The
		/// inputs are checked against the module's schema. Holds the charge at `max_price`
		/// (price, solver fee, royalties and protocol fee) and the job deposit; nothing is
		/// held if any check fails.
		///
		/// ## Errors
		/// - [`Error::NotJobCreator`], [`Error::ModuleNotFound`], [`Error::VersionDeprecated`]
		/// - inputs: [`Error::UnknownInput`], [`Error::DuplicateInput`],
		///   [`Error::MissingInput`], [`Error::InputTypeMismatch`],
		///   [`Error::InlineInputTooLarge`]
		/// - [`Error::PriceBelowFloor`], [`Error::DeadlineInPast`], [`Error::DeadlineTooFar`]
		/// - [`Error::VerificationTooLoose`], [`Error::InvalidCredential`]
		/// - [`Error::InsufficientBalance`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::JobSubmitted`]
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job())]
		pub fn submit_job(
			origin: OriginFor<T>,
			module: ModuleRef,
			inputs: JobInputs,
			max_price: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
			options: OptionsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Identity::has_role(&who, Role::JobCreator), Error::<T>::NotJobCreator);
			let version = T::Registry::version(&module).ok_or(Error::<T>::ModuleNotFound)?;
			ensure!(!version.deprecated, Error::<T>::VersionDeprecated);
			check_inputs(&version.manifest.inputs, &inputs.params).map_err(Error::<T>::from)?;
			ensure!(
				inputs.inline_len() <= T::MaxInlineInput::get(),
				Error::<T>::InlineInputTooLarge
			);
			ensure!(max_price >= version.price_floor, Error::<T>::PriceBelowFloor);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(deadline > now, Error::<T>::DeadlineInPast);
			ensure!(
				deadline <= now.saturating_add(T::MatchTimeout::get().into()),
				Error::<T>::DeadlineTooFar
			);
			let verification =
				effective_verification(version.manifest.verification, options.verification)
					.ok_or(Error::<T>::VerificationTooLoose)?;
			ensure!(
				options.credentials.iter().all(|c| is_valid_credential(c)),
				Error::<T>::InvalidCredential
			);

			let rates = Self::fee_rates();
			let royalties = Self::royalties_total(&module, max_price);
			let charge = charge_with_royalties(max_price, rates, royalties);
			let escrow = charge.total();
			let deposit = T::JobDeposit::get();
			ensure!(
				T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite)
					>= escrow.saturating_add(deposit),
				Error::<T>::InsufficientBalance
			);

			let id = NextJobId::<T>::get();
			// A job not matched by `deadline` expires in the next block.
			let due = Self::schedule(id, deadline.saturating_add(1u32.into()), MAX_DUE_SPILL)?;
			T::Registry::acquire(&module)?;
			T::Currency::hold(&HoldReason::JobEscrow.into(), &who, escrow)?;
			T::Currency::hold(&HoldReason::JobDeposit.into(), &who, deposit)?;
			NextJobId::<T>::put(id.saturating_add(1));
			JobsByCreator::<T>::insert(&who, id, ());
			OpenJobs::<T>::insert(id, ());
			Jobs::<T>::insert(
				id,
				Job {
					creator: who.clone(),
					module: module.clone(),
					module_digest: version.manifest.artifact.content_digest(),
					resources: version.manifest.resources,
					timeout_secs: version.manifest.timeout_secs,
					verification,
					inputs,
					max_price,
					target: options.target,
					credentials: options.credentials,
					rates,
					charge,
					escrow,
					challenge_fee: Zero::zero(),
					deposit,
					match_by: deadline,
					assignment: None,
					result: None,
					slash: None,
					mediation: None,
					stage: Stage::Submitted,
					due: Some(due),
					history: BoundedVec::truncate_from(alloc::vec![(Stage::Submitted, now)]),
				},
			);
			Self::deposit_event(Event::JobSubmitted {
				job: id,
				creator: who,
				module,
				max_price,
				held: escrow,
			});
			Ok(())
		}

		/// Cancel a job that is not matched yet; its escrow goes back in full.
		///
		/// ## Dispatch Origin
		/// Signed by the job's creator.
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NotCreator`], [`Error::NotOpen`]
		///
		/// ## Events
		/// - [`Event::JobCancelled`]
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel_job())]
		pub fn cancel_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.creator == who, Error::<T>::NotCreator);
			ensure!(record.stage == Stage::Submitted, Error::<T>::NotOpen);
			let now = frame_system::Pallet::<T>::block_number();
			let refunded = Self::refund_escrow(&mut record);
			Self::finish(job, &mut record, Stage::Cancelled, now, MAX_DUE_SPILL)?;
			OpenJobs::<T>::remove(job);
			Jobs::<T>::insert(job, record);
			Self::deposit_event(Event::JobCancelled { job, refunded });
			Ok(())
		}

		/// Propose matches: each `(job, provider)` pair is checked and, if valid, made.
		///
		/// ## Dispatch Origin
		/// Signed by a solver whose free stake covers at least one invalid-pair penalty.
		///
		/// ## Details
		/// A *stale* pair is skipped without cost: its job is no longer open (matched,
		/// cancelled, past its deadline), or its provider has no slot or collateral left. The
		/// latter is how a pair goes stale when solvers race: another solver's match, landed
		/// first, took the room this one saw. A pair that breaks any other rule (see
		/// [`MatchError`]) is *invalid* and costs the solver the governed penalty, taken from
		/// its stake to the treasury; the call still succeeds so that the penalty stands. A
		/// valid pair locks the collateral, counts a running job on the provider, fixes the
		/// price at the provider's asking price and returns the excess escrow to the creator.
		///
		/// ## Errors
		/// - [`Error::NotSolver`], [`Error::SolverNotStaked`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - per pair: [`Event::JobMatched`], [`Event::MatchSkipped`] or
		///   [`Event::MatchRejected`]
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::propose_match(batch.len() as u32)
			.saturating_add(Pallet::<T>::notes_weight(2 * batch.len() as u32)))]
		pub fn propose_match(origin: OriginFor<T>, batch: BatchOf<T>) -> DispatchResult {
			let solver = ensure_signed(origin)?;
			let penalty = Self::ensure_can_solve(&solver)?;
			let now = frame_system::Pallet::<T>::block_number();
			let rho = T::CollateralRatio::get();
			for (job, provider) in batch {
				let Some(mut record) = Jobs::<T>::get(job)
					.filter(|r| r.stage == Stage::Submitted && now <= r.match_by)
				else {
					Self::deposit_event(Event::MatchSkipped { job, provider });
					continue;
				};
				match Self::check_pair(&record, &provider, rho) {
					Ok((price, collateral)) => Self::make_match(
						job,
						&mut record,
						provider,
						solver.clone(),
						price,
						collateral,
						now,
					)?,
					Err(MatchError::CapacityFull | MatchError::InsufficientCollateral) => {
						Self::deposit_event(Event::MatchSkipped { job, provider });
					}
					Err(reason) => {
						let penalty = T::Providers::slash_bond(
							&solver,
							BondKind::Solver,
							penalty,
							&T::Treasury::get(),
						);
						T::Rewards::note(
							BondKind::Solver,
							&solver,
							Some(Outcome::Failure),
							Zero::zero(),
						);
						Self::deposit_event(Event::MatchRejected {
							job,
							provider,
							solver: solver.clone(),
							reason,
							penalty,
						});
					}
				}
			}
			Ok(())
		}

		/// Submit the result of a matched job.
		///
		/// ## Dispatch Origin
		/// Signed by the assigned provider or one of its delegates.
		///
		/// ## Details
		/// `signature` is `signer`'s sr25519 signature over
		/// `SCALE(("lilypad/jobs/result/v1", genesis_hash, manifest))`; `signer` must be the
		/// provider's key or a delegate's. The manifest must name this job, the module's
		/// artifact digest and the job's input digest. Any exit status completes the job: a
		/// module that fails on its own is not the provider's fault.
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NotAwaitingResult`],
		///   [`Error::NotAssignedProvider`], [`Error::ExecutionDeadlinePassed`]
		/// - [`Error::SignerNotAuthorized`], [`Error::WrongJob`],
		///   [`Error::ModuleDigestMismatch`], [`Error::InputDigestMismatch`],
		///   [`Error::BadSignature`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::ResultSubmitted`]
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::submit_result())]
		pub fn submit_result(
			origin: OriginFor<T>,
			job: JobId,
			manifest: ResultManifest,
			signer: sr25519::Public,
			signature: sr25519::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.stage == Stage::Matched, Error::<T>::NotAwaitingResult);
			let assignment = record.assignment.clone().ok_or(Error::<T>::NotAwaitingResult)?;
			let provider = assignment.provider;
			ensure!(T::Identity::acts_for(&who, &provider), Error::<T>::NotAssignedProvider);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now <= assignment.execute_by, Error::<T>::ExecutionDeadlinePassed);
			let signer_account = T::ResultSigner::from(signer).into_account();
			ensure!(
				T::Identity::acts_for(&signer_account, &provider),
				Error::<T>::SignerNotAuthorized
			);
			ensure!(manifest.job == job, Error::<T>::WrongJob);
			ensure!(
				manifest.module_digest == record.module_digest,
				Error::<T>::ModuleDigestMismatch
			);
			ensure!(
				manifest.input_digest == input_digest(&record.inputs),
				Error::<T>::InputDigestMismatch
			);
			ensure!(
				signature.verify(&Self::result_payload(&manifest)[..], &signer),
				Error::<T>::BadSignature
			);

			let challenge_until = now.saturating_add(T::ChallengeWindow::get().into());
			let due =
				Self::schedule(job, challenge_until.saturating_add(1u32.into()), MAX_DUE_SPILL)?;
			T::Providers::end_job(&provider);
			let exit = manifest.exit;
			record.result = Some(manifest);
			Self::enter(&mut record, Stage::ResultSubmitted, now, Some(due));
			Jobs::<T>::insert(job, record);
			Self::deposit_event(Event::ResultSubmitted { job, provider, exit, challenge_until });
			Ok(())
		}

		/// Challenge a job's result inside its challenge window, paying the challenge fee.
		///
		/// ## Dispatch Origin
		/// Signed by the job's creator.
		///
		/// ## Details
		/// The fee is held and the job goes to mediation: a mediator is drawn in the next
		/// block. If the mediator finds the result wrong the fee goes back with the escrow; if
		/// it upholds the result the fee pays the mediator. With no mediator to draw, or none
		/// answering, the result stands and the fee goes back.
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NotCreator`], [`Error::NotChallengeable`]
		/// - [`Error::InsufficientBalance`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::JobChallenged`]
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::challenge())]
		pub fn challenge(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.creator == who, Error::<T>::NotCreator);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				record.stage == Stage::ResultSubmitted && record.due.is_some_and(|d| now < d),
				Error::<T>::NotChallengeable
			);
			let fee = T::ChallengeFee::get();
			ensure!(
				T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite)
					>= fee,
				Error::<T>::InsufficientBalance
			);
			// The draw needs randomness from after this block: the next block's step has it.
			let due = Self::schedule(job, now.saturating_add(1u32.into()), MAX_DUE_SPILL)?;
			T::Currency::hold(&HoldReason::ChallengeFee.into(), &who, fee)?;
			record.challenge_fee = fee;
			record.mediation = Some(Self::new_mediation(MediationCause::Challenged, now));
			Self::enter(&mut record, Stage::InMediation, now, Some(due));
			Jobs::<T>::insert(job, record);
			Self::deposit_event(Event::JobChallenged { job, fee });
			Ok(())
		}

		/// Decide a mediation directly, whatever the mediator says or has said.
		///
		/// ## Dispatch Origin
		/// [`Config::MediationOrigin`].
		///
		/// ## Details
		/// A drawn mediator's locked stake is released and it is not paid. Otherwise as a
		/// mediator's verdict: [`Verdict::ResultUpheld`] completes the job, the challenge fee
		/// going to the treasury; [`Verdict::ResultWrong`] refunds the creator its escrow and
		/// fee and slashes the provider's collateral after the appeal window, one job price
		/// to the creator and the rest to the treasury.
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NotInMediation`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::MediationResolved`], then [`Event::JobCompleted`] or
		///   [`Event::SlashPending`]
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::resolve_mediation().saturating_add(Pallet::<T>::notes_weight(2)))]
		pub fn resolve_mediation(
			origin: OriginFor<T>,
			job: JobId,
			verdict: Verdict,
		) -> DispatchResult {
			T::MediationOrigin::ensure_origin(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.stage == Stage::InMediation, Error::<T>::NotInMediation);
			let now = frame_system::Pallet::<T>::block_number();
			if let Some(m) = record.mediation.as_mut() {
				if let Some(mediator) = m.mediator.take() {
					Self::unlock_mediator(&mediator, m);
				}
			}
			Self::resolve(job, &mut record, verdict, None, now, MAX_DUE_SPILL)?;
			Jobs::<T>::insert(job, record);
			Ok(())
		}

		/// Answer a mediation: the drawn mediator's own result of re-running the job.
		///
		/// ## Dispatch Origin
		/// Signed by the job's mediator or one of its delegates.
		///
		/// ## Details
		/// `signature` is `signer`'s sr25519 signature over
		/// `SCALE(("lilypad/jobs/mediation/v1", genesis_hash, rerun))`; `signer` must be the
		/// mediator's key or a delegate's. The re-run must name this job, the module's artifact
		/// digest and the job's input digest. The chain compares its output digest and exit
		/// status with the provider's: equal upholds the result, different finds it wrong (see
		/// [`Pallet::resolve_mediation`] for what each verdict moves). The mediator's locked
		/// stake is released either way.
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NotInMediation`], [`Error::NotAssignedMediator`],
		///   [`Error::MediationDeadlinePassed`]
		/// - [`Error::SignerNotAuthorized`], [`Error::WrongJob`],
		///   [`Error::ModuleDigestMismatch`], [`Error::InputDigestMismatch`],
		///   [`Error::BadSignature`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::MediatorAnswered`], [`Event::MediationResolved`], then
		///   [`Event::MediatorPaid`] and [`Event::JobCompleted`], or [`Event::SlashPending`]
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::submit_mediation().saturating_add(Pallet::<T>::notes_weight(4)))]
		pub fn submit_mediation(
			origin: OriginFor<T>,
			job: JobId,
			rerun: ResultManifest,
			signer: sr25519::Public,
			signature: sr25519::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.stage == Stage::InMediation, Error::<T>::NotInMediation);
			let mut mediation = record.mediation.clone().ok_or(Error::<T>::NotInMediation)?;
			let mediator = mediation.mediator.clone().ok_or(Error::<T>::NotAssignedMediator)?;
			ensure!(T::Identity::acts_for(&who, &mediator), Error::<T>::NotAssignedMediator);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now <= mediation.answer_by, Error::<T>::MediationDeadlinePassed);
			let signer_account = T::ResultSigner::from(signer).into_account();
			ensure!(
				T::Identity::acts_for(&signer_account, &mediator),
				Error::<T>::SignerNotAuthorized
			);
			ensure!(rerun.job == job, Error::<T>::WrongJob);
			ensure!(rerun.module_digest == record.module_digest, Error::<T>::ModuleDigestMismatch);
			ensure!(
				rerun.input_digest == input_digest(&record.inputs),
				Error::<T>::InputDigestMismatch
			);
			ensure!(
				signature.verify(&Self::mediation_payload(&rerun)[..], &signer),
				Error::<T>::BadSignature
			);
			let result = record.result.as_ref().ok_or(Error::<T>::NotInMediation)?;
			let verdict = verdict(result, &rerun);
			Self::unlock_mediator(&mediator, &mut mediation);
			record.mediation = Some(mediation);
			T::Rewards::note(BondKind::Mediator, &mediator, Some(Outcome::Success), Zero::zero());
			Self::deposit_event(Event::MediatorAnswered {
				job,
				mediator: mediator.clone(),
				output_digest: rerun.output_digest,
			});
			Self::resolve(job, &mut record, verdict, Some(mediator), now, MAX_DUE_SPILL)?;
			Jobs::<T>::insert(job, record);
			Ok(())
		}

		/// Cancel a pending slash on appeal: the provider's collateral is released.
		///
		/// ## Dispatch Origin
		/// [`Config::SlashCancelOrigin`].
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NoPendingSlash`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::SlashCancelled`]
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::cancel_slash())]
		pub fn cancel_slash(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			T::SlashCancelOrigin::ensure_origin(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			ensure!(record.stage == Stage::SlashPending, Error::<T>::NoPendingSlash);
			let assignment = record.assignment.clone().ok_or(Error::<T>::NoPendingSlash)?;
			let now = frame_system::Pallet::<T>::block_number();
			T::Providers::unlock_bond(
				&assignment.provider,
				BondKind::Provider,
				assignment.collateral,
			);
			record.slash = None;
			Self::finish(job, &mut record, Stage::SlashCancelled, now, MAX_DUE_SPILL)?;
			Jobs::<T>::insert(job, record);
			Self::deposit_event(Event::SlashCancelled { job, provider: assignment.provider });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// This chain's genesis hash, which every signed payload names.
		fn genesis_hash() -> T::Hash {
			frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
		}

		/// The bytes a provider signs for `manifest` on this chain.
		pub fn result_payload(manifest: &ResultManifest) -> Vec<u8> {
			result_signing_payload(&Self::genesis_hash(), manifest)
		}

		/// The bytes a mediator signs for its re-run `rerun` on this chain.
		pub fn mediation_payload(rerun: &ResultManifest) -> Vec<u8> {
			mediation_signing_payload(&Self::genesis_hash(), rerun)
		}

		/// Releases the stake `mediator` has locked for mediation `m`.
		fn unlock_mediator(
			mediator: &T::AccountId,
			m: &mut Mediation<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>,
		) {
			let locked = core::mem::take(&mut m.stake_locked);
			T::Providers::unlock_bond(mediator, BondKind::Mediator, locked);
		}

		/// The governed fee rates in force.
		/// The weight of `n` notes to the rewards pallet (bond changes the providers pallet
		/// reports to it included).
		fn notes_weight(n: u32) -> Weight {
			T::Rewards::note_weight().saturating_mul(n.into())
		}

		fn fee_rates() -> FeeRates {
			FeeRates { solver: T::SolverFee::get(), protocol: T::ProtocolFee::get() }
		}

		/// All royalties of a job on `module` at `price`.
		fn royalties_total(module: &ModuleRef, price: BalanceOf<T>) -> BalanceOf<T> {
			T::Registry::royalties(module, price)
				.into_iter()
				.fold(Zero::zero(), |acc: BalanceOf<T>, (_, a)| acc.saturating_add(a))
		}

		/// Queues `job`'s next step at `at`, or in one of the `spill` blocks after it if that
		/// block is full; returns the block.
		fn schedule(
			job: JobId,
			at: BlockNumberFor<T>,
			spill: u32,
		) -> Result<BlockNumberFor<T>, DispatchError> {
			// This block's queue has run (or runs now): the earliest step is the next block's,
			// whatever a governed window of zero would say.
			let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
			let at = at.max(next);
			for extra in 0..spill {
				let block = at.saturating_add(extra.into());
				if DueJobs::<T>::try_mutate(block, |due| due.try_push(job)).is_ok() {
					return Ok(block);
				}
			}
			Err(Error::<T>::QueueFull.into())
		}

		/// Records that `job` reached `stage` at `now`, with its next step at `due`.
		fn enter(
			job: &mut JobOf<T>,
			stage: Stage,
			now: BlockNumberFor<T>,
			due: Option<BlockNumberFor<T>>,
		) {
			job.stage = stage;
			job.due = due;
			// Each stage is entered at most once, and there are no more stages than entries.
			let _ = job.history.try_push((stage, now));
		}

		/// Ends a job in a final `stage`, its pruning queued after the retention period.
		fn finish(
			id: JobId,
			job: &mut JobOf<T>,
			stage: Stage,
			now: BlockNumberFor<T>,
			spill: u32,
		) -> DispatchResult {
			let due = Self::schedule(id, now.saturating_add(T::Retention::get()), spill)?;
			Self::enter(job, stage, now, Some(due));
			Ok(())
		}

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
		fn check_pair(
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
		fn make_match(
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
			let due = Self::schedule(id, execute_by.saturating_add(1u32.into()), MAX_DUE_SPILL)?;
			// Both were checked just now; failing here would be a bug, and reverts the call.
			T::Providers::lock_bond(&provider, BondKind::Provider, collateral)?;
			T::Providers::start_job(&provider)?;
			// The royalties may only shrink: the lineage's cap may have changed since.
			let royalties = Self::royalties_total(&job.module, price).min(job.charge.royalties);
			let charge = charge_with_royalties(price, job.rates, royalties);
			let released = job.escrow.saturating_sub(charge.total());
			Self::release(HoldReason::JobEscrow, &job.creator, released);
			job.charge = charge;
			job.escrow = charge.total();
			job.assignment = Some(Assignment {
				provider: provider.clone(),
				solver: solver.clone(),
				price,
				collateral,
				matched_at: now,
				execute_by,
			});
			Self::enter(job, Stage::Matched, now, Some(due));
			OpenJobs::<T>::remove(id);
			JobsByProvider::<T>::insert(&provider, id, ());
			Jobs::<T>::insert(id, &*job);
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

		/// Runs `id`'s automatic step if it is due at `now`; returns the weight of any mediator
		/// draw it made, beyond the step's own.
		fn step(id: JobId, now: BlockNumberFor<T>) -> Weight {
			let Some(mut job) = Jobs::<T>::get(id) else { return Weight::zero() };
			if job.due != Some(now) {
				return Weight::zero(); // The job moved on since this entry was queued.
			}
			let mut drawn = Weight::zero();
			// The hook cannot refuse, so it spills further than calls do.
			let result = match job.stage {
				Stage::Submitted => {
					let refunded = Self::refund_escrow(&mut job);
					OpenJobs::<T>::remove(id);
					Self::deposit_event(Event::JobExpired { job: id, refunded });
					Self::finish(id, &mut job, Stage::Expired, now, MAX_HOOK_SPILL)
				}
				Stage::Matched => Self::time_out(id, &mut job, now),
				Stage::ResultSubmitted => Self::sample_or_complete(id, &mut job, now, &mut drawn),
				Stage::InMediation => Self::mediation_step(id, &mut job, now, &mut drawn),
				Stage::SlashPending => Self::apply_slash(id, &mut job, now),
				_ => {
					Self::prune(id, job);
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

		/// A fresh mediation record: no mediator drawn yet.
		fn new_mediation(
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
		fn result_block(job: &JobOf<T>) -> BlockNumberFor<T> {
			job.history
				.iter()
				.find(|(stage, _)| *stage == Stage::ResultSubmitted)
				.map(|(_, at)| *at)
				.unwrap_or_default()
		}

		/// A seed for `domain` and `job` from randomness first known after `after`:
		/// `Err(())` if the randomness known now is not that recent yet (wait a block),
		/// `Ok(None)` if the chain has none.
		fn seed(
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

		/// Waits a block for usable randomness.
		fn retry_next_block(
			id: JobId,
			job: &mut JobOf<T>,
			now: BlockNumberFor<T>,
		) -> DispatchResult {
			job.due = Some(Self::schedule(id, now.saturating_add(1u32.into()), MAX_HOOK_SPILL)?);
			Ok(())
		}

		/// The end of the challenge window: randomness from after the result decides whether
		/// the job is re-checked; if not, it completes.
		fn sample_or_complete(
			id: JobId,
			job: &mut JobOf<T>,
			now: BlockNumberFor<T>,
			drawn: &mut Weight,
		) -> DispatchResult {
			let rate = sampling_rate(job.verification, T::DeterministicSamplingRate::get());
			if rate.is_zero() {
				return Self::complete(id, job, now, MAX_HOOK_SPILL);
			}
			let seed = match Self::seed(SAMPLE_DOMAIN, id, 0, Self::result_block(job)) {
				Err(()) => return Self::retry_next_block(id, job, now),
				Ok(seed) => seed,
			};
			// Without randomness (a chain without VRF outputs) nothing can be sampled.
			if !seed.is_some_and(|seed| is_sampled(rate, &seed)) {
				return Self::complete(id, job, now, MAX_HOOK_SPILL);
			}
			job.mediation = Some(Self::new_mediation(MediationCause::Sampled, now));
			Self::enter(job, Stage::InMediation, now, None);
			Self::deposit_event(Event::ResultSampled { job: id });
			Self::draw_mediator(id, job, now, drawn)
		}

		/// A mediation's due step: draw its mediator, or, past the drawn one's deadline,
		/// slash it and draw another.
		fn mediation_step(
			id: JobId,
			job: &mut JobOf<T>,
			now: BlockNumberFor<T>,
			drawn: &mut Weight,
		) -> DispatchResult {
			let Some(m) = job.mediation.as_mut() else {
				return Self::stand_unverified(id, job, now);
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
				T::Rewards::note(
					BondKind::Mediator,
					&mediator,
					Some(Outcome::Failure),
					Zero::zero(),
				);
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
			let Some(m) = job.mediation.as_ref() else { return Ok(()) };
			let attempt = m.failed.len() as u32;
			let seed = match Self::seed(DRAW_DOMAIN, id, attempt, Self::result_block(job)) {
				Err(()) => return Self::retry_next_block(id, job, now),
				Ok(seed) => seed,
			};
			let penalty = T::MediatorPenalty::get();
			let provider = job.assignment.as_ref().map(|a| a.provider.clone());
			let pool = T::Providers::mediators();
			drawn.saturating_accrue(T::DbWeight::get().reads_writes(pool.len() as u64 + 3, 2));
			let (candidates, weights): (Vec<T::AccountId>, Vec<u128>) =
				pool.into_iter()
					.filter(|(who, stake)| {
						!stake.is_zero()
							&& *stake >= penalty && *who != job.creator
							&& !m.failed.contains(who)
							&& !provider.as_ref().is_some_and(|p| T::Identity::acts_for(who, p))
					})
					.map(|(who, stake)| {
						(who, UniqueSaturatedInto::<u128>::unique_saturated_into(stake))
					})
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
			let due = Self::schedule(id, answer_by.saturating_add(1u32.into()), MAX_HOOK_SPILL)?;
			if let Some(m) = job.mediation.as_mut() {
				m.mediator = Some(mediator.clone());
				m.stake_locked = penalty;
				m.answer_by = answer_by;
			}
			job.due = Some(due);
			Self::deposit_event(Event::MediatorAssigned { job: id, mediator, answer_by });
			Ok(())
		}

		/// Mediation could not decide: the result stands, a challenger's fee goes back.
		fn stand_unverified(
			id: JobId,
			job: &mut JobOf<T>,
			now: BlockNumberFor<T>,
		) -> DispatchResult {
			let fee = core::mem::take(&mut job.challenge_fee);
			Self::release(HoldReason::ChallengeFee, &job.creator, fee);
			Self::complete(id, job, now, MAX_HOOK_SPILL)
		}

		/// Carries out `verdict` on a job in mediation; `mediator` is the one that answered
		/// (`None` when the mediation origin decided), and is paid.
		fn resolve(
			id: JobId,
			job: &mut JobOf<T>,
			verdict: Verdict,
			mediator: Option<T::AccountId>,
			now: BlockNumberFor<T>,
			spill: u32,
		) -> DispatchResult {
			let fee = core::mem::take(&mut job.challenge_fee);
			if let Some(m) = job.mediation.as_mut() {
				m.verdict = Some(verdict);
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
							Self::deposit_event(Event::MediatorPaid {
								job: id,
								mediator,
								amount: fee,
							});
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
						None => Self::pay_from(
							HoldReason::ChallengeFee,
							&creator,
							&T::Treasury::get(),
							fee,
						),
					}
					Self::complete(id, job, now, spill)
				}
				Verdict::ResultWrong => {
					Self::release(HoldReason::ChallengeFee, &job.creator, fee);
					Self::refund_escrow(job);
					Self::start_slash(id, job, SlashCause::BadResult, now, spill)
				}
			}
		}

		/// No result by the execution deadline: refund the creator, end the provider's
		/// running job, and slash its collateral after the appeal window.
		fn time_out(id: JobId, job: &mut JobOf<T>, now: BlockNumberFor<T>) -> DispatchResult {
			let Some(a) = job.assignment.clone() else { return Ok(()) };
			let refunded = Self::refund_escrow(job);
			T::Providers::end_job(&a.provider);
			Self::start_slash(id, job, SlashCause::ExecutionTimeout, now, MAX_HOOK_SPILL)?;
			let applies_at = job.slash.map(|s| s.applies_at).unwrap_or(now);
			Self::deposit_event(Event::ExecutionTimedOut {
				job: id,
				provider: a.provider,
				refunded,
				applies_at,
			});
			Ok(())
		}

		/// Puts the assigned provider's collateral under a pending slash.
		fn start_slash(
			id: JobId,
			job: &mut JobOf<T>,
			cause: SlashCause,
			now: BlockNumberFor<T>,
			spill: u32,
		) -> DispatchResult {
			let Some(a) = job.assignment.clone() else { return Ok(()) };
			let applies_at = now.saturating_add(T::AppealWindow::get().into());
			let split = timeout_slash(a.collateral, a.price);
			// A mediator that caught the result is paid out of the treasury's part first.
			let caught_by_mediator = job.mediation.as_ref().is_some_and(|m| m.mediator.is_some());
			let to_mediator = if caught_by_mediator {
				T::ChallengeFee::get().min(split.to_treasury)
			} else {
				Zero::zero()
			};
			let to_treasury = split.to_treasury.saturating_sub(to_mediator);
			let due = Self::schedule(id, applies_at, spill)?;
			job.slash = Some(PendingSlash {
				cause,
				to_creator: split.to_creator,
				to_mediator,
				to_treasury,
				applies_at: due,
			});
			Self::enter(job, Stage::SlashPending, now, Some(due));
			Self::deposit_event(Event::SlashPending {
				job: id,
				provider: a.provider,
				cause,
				to_creator: split.to_creator,
				to_mediator,
				to_treasury,
				applies_at: due,
			});
			Ok(())
		}

		/// Applies a pending slash: the collateral goes to the creator and the treasury.
		fn apply_slash(id: JobId, job: &mut JobOf<T>, now: BlockNumberFor<T>) -> DispatchResult {
			let (Some(a), Some(slash)) = (job.assignment.clone(), job.slash) else {
				return Self::finish(id, job, Stage::Slashed, now, MAX_HOOK_SPILL);
			};
			let treasury = T::Treasury::get();
			let to_creator = T::Providers::slash_bond(
				&a.provider,
				BondKind::Provider,
				slash.to_creator,
				&job.creator,
			);
			let mediator = job.mediation.as_ref().and_then(|m| m.mediator.clone());
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
				provider: a.provider,
				to_creator,
				to_mediator,
				to_treasury,
			});
			Self::finish(id, job, Stage::Slashed, now, MAX_HOOK_SPILL)
		}

		/// Pays out a job: provider, solver, royalties up the lineage, protocol fee; releases
		/// the collateral.
		fn complete(
			id: JobId,
			job: &mut JobOf<T>,
			now: BlockNumberFor<T>,
			spill: u32,
		) -> DispatchResult {
			let Some(a) = job.assignment.clone() else { return Ok(()) };
			let charge = job.charge;
			let creator = job.creator.clone();
			let escrow = HoldReason::JobEscrow;
			Self::pay_from(escrow, &creator, &a.provider, charge.price);
			Self::pay_from(escrow, &creator, &a.solver, charge.solver_fee);
			T::Rewards::note(BondKind::Provider, &a.provider, Some(Outcome::Success), charge.price);
			T::Rewards::note(
				BondKind::Solver,
				&a.solver,
				Some(Outcome::Success),
				charge.solver_fee,
			);
			let mut left = charge.royalties;
			for (owner, due) in T::Registry::royalties(&job.module, charge.price) {
				let amount = due.min(left);
				Self::pay_from(escrow, &creator, &owner, amount);
				left.saturating_reduce(amount);
			}
			// Royalties that shrank since the match go back to the creator.
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
				provider: a.provider,
				price: charge.price,
				solver_fee: charge.solver_fee,
				royalties: charge.royalties.saturating_sub(left),
				protocol_fee: charge.protocol_fee,
			});
			Self::finish(id, job, Stage::Completed, now, spill)
		}

		/// Returns a live job's whole escrow to its creator and ends its count on the module.
		fn refund_escrow(job: &mut JobOf<T>) -> BalanceOf<T> {
			let refunded = core::mem::take(&mut job.escrow);
			Self::release(HoldReason::JobEscrow, &job.creator, refunded);
			T::Registry::release(&job.module);
			refunded
		}

		/// Removes a finished job and returns its deposit.
		fn prune(id: JobId, job: JobOf<T>) {
			Self::release(HoldReason::JobDeposit, &job.creator, job.deposit);
			JobsByCreator::<T>::remove(&job.creator, id);
			if let Some(a) = &job.assignment {
				JobsByProvider::<T>::remove(&a.provider, id);
			}
			Jobs::<T>::remove(id);
			Self::deposit_event(Event::JobPruned { job: id, deposit: job.deposit });
		}

		/// Moves `amount` held from `from` under `reason` to `to`; to the treasury if `to`
		/// cannot receive it (an amount below the existential deposit for an account that does
		/// not exist), and back to `from` if even that fails, so nothing stays held.
		fn pay_from(
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
		fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
			if !amount.is_zero() {
				// What was held under `reason` can always be released: the amounts are the
				// pallet's own records of what it held.
				let _ = T::Currency::release(&reason.into(), who, amount, Precision::BestEffort);
			}
		}

		/// One job, for the runtime API.
		pub fn job(id: JobId) -> Option<JobOf<T>> {
			Jobs::<T>::get(id)
		}

		/// A page of `who`'s jobs (as creator, or as provider), oldest first, for the runtime
		/// API. Scans at most ten thousand of the account's jobs.
		pub fn jobs_of(
			who: T::AccountId,
			as_provider: bool,
			start_after: Option<JobId>,
			limit: u32,
		) -> Vec<(JobId, JobOf<T>)> {
			let mut ids: Vec<JobId> = if as_provider {
				JobsByProvider::<T>::iter_key_prefix(&who).take(10_000).collect()
			} else {
				JobsByCreator::<T>::iter_key_prefix(&who).take(10_000).collect()
			};
			ids.sort_unstable();
			ids.into_iter()
				.filter(|id| start_after.is_none_or(|after| *id > after))
				.take(limit.min(MAX_JOBS_PAGE) as usize)
				.filter_map(|id| Jobs::<T>::get(id).map(|j| (id, j)))
				.collect()
		}

		/// What a job on `module` would cost now: the cheapest of up to a thousand offers, for
		/// the runtime API.
		pub fn estimate(module: ModuleRef) -> Option<PriceEstimate<T::AccountId, BalanceOf<T>>> {
			let version = T::Registry::version(&module)?;
			let mut offers = 0u32;
			let mut cheapest: Option<(T::AccountId, BalanceOf<T>)> = None;
			for (who, view) in T::Providers::offers(1_000) {
				if view.status != ProviderStatus::Active
					|| !view.offer.serves(&module.name)
					|| !view.offer.covers(&version.manifest.resources)
				{
					continue;
				}
				let price = view.offer.price_for(&module.name);
				if price < version.price_floor {
					continue;
				}
				offers.saturating_inc();
				if cheapest.as_ref().is_none_or(|(_, p)| price < *p) {
					cheapest = Some((who, price));
				}
			}
			let price = cheapest.as_ref().map(|(_, p)| *p).unwrap_or(version.price_floor);
			let charge = charge_with_royalties(
				price,
				Self::fee_rates(),
				Self::royalties_total(&module, price),
			);
			Some(PriceEstimate { floor: version.price_floor, cheapest, offers, charge })
		}

		/// Holds agree with the jobs: escrow, challenge fees and deposits on every account,
		/// collateral in use per provider, running jobs per provider; finished jobs hold
		/// nothing; every scheduled step is queued; the open-jobs index is exact. Linear in
		/// accounts and jobs: `try_state` and tests only.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut held: BTreeMap<T::AccountId, [BalanceOf<T>; 3]> = BTreeMap::new();
			let mut locked: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			let mut running: BTreeMap<T::AccountId, u32> = BTreeMap::new();
			let mut mediating: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, job) in Jobs::<T>::iter() {
				let h = held.entry(job.creator.clone()).or_default();
				h[0].saturating_accrue(job.escrow);
				h[1].saturating_accrue(job.challenge_fee);
				h[2].saturating_accrue(job.deposit);
				let live = !job.stage.is_final();
				if !live || job.stage == Stage::SlashPending {
					ensure!(job.escrow.is_zero(), "a finished job holds escrow");
					ensure!(job.challenge_fee.is_zero(), "a finished job holds a challenge fee");
				} else {
					ensure!(job.escrow == job.charge.total(), "escrow differs from the charge");
				}
				ensure!(
					job.stage == Stage::InMediation || job.challenge_fee.is_zero(),
					"a challenge fee outside mediation"
				);
				ensure!(
					job.stage != Stage::InMediation || job.mediation.is_some(),
					"a job in mediation has no mediation record"
				);
				if let Some(m) = &job.mediation {
					ensure!(
						job.stage == Stage::InMediation || m.stake_locked.is_zero(),
						"a mediator's stake is locked outside mediation"
					);
					if let Some(mediator) = &m.mediator {
						mediating
							.entry(mediator.clone())
							.or_default()
							.saturating_accrue(m.stake_locked);
					}
				}
				if let Some(a) = &job.assignment {
					if matches!(
						job.stage,
						Stage::Matched
							| Stage::ResultSubmitted
							| Stage::InMediation | Stage::SlashPending
					) {
						locked
							.entry(a.provider.clone())
							.or_default()
							.saturating_accrue(a.collateral);
					}
					if job.stage == Stage::Matched {
						running.entry(a.provider.clone()).or_default().saturating_inc();
					}
				}
				if let Some(due) = job.due {
					ensure!(DueJobs::<T>::get(due).contains(&id), "a job's step is not queued");
				}
				ensure!(JobsByCreator::<T>::contains_key(&job.creator, id), "a job is not indexed");
				ensure!(
					OpenJobs::<T>::contains_key(id) == (job.stage == Stage::Submitted),
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
				ensure!(
					on_hold(HoldReason::JobDeposit) == deposit,
					"deposits differ from their hold"
				);
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
}
