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
//! - A job's state is a [`JobState`] whose variants carry what that stage needs (a matched job
//!   its assignment, a reported one its result too, and so on), so a step reads what it needs
//!   by matching on the state; a branch the state rules out is marked `defensive!`.
//! - Open jobs are indexed in [`OpenJobs`], so that a solver reads them without reading every
//!   job.
//! - Each job has at most one automatic step pending, at block [`Job::due`]; it is queued in
//!   [`DueJobs`] by block, and `on_initialize` runs one block's queue (at most
//!   [`Config::MaxDuePerBlock`]). An entry whose job has moved on (`due` differs) is skipped.
//!   A full block spills into the following ones: up to [`MAX_DUE_SPILL`] blocks for a step a
//!   call queues (then the call is refused), up to [`MAX_HOOK_SPILL`] for one the hook queues.
//! - Funds are held on their owners' accounts under this pallet's [`HoldReason`]s and moved
//!   from there with `transfer_on_hold`, so nothing is minted or burnt, and every payment
//!   that cannot land (a recipient that cannot exist) goes to the treasury instead.
//! - The arithmetic of charges, collateral and slashes is in
//!   [`lilypad_primitives::economics`]; the match rules in [`lilypad_primitives::jobs`].
//!
//! ## Where each concern lives
//!
//! This file holds the pallet's interface: its configuration, storage, events, errors, hooks
//! and calls. The calls and the due steps are the only places that write [`Jobs`]; what they
//! do is in one file per concern:
//!
//! - `queue.rs`: the due-step queue, its policy (how far a full block spills, and when a step
//!   is refused), and each job's automatic step.
//! - `matching.rs`: who may propose matches, the checks of a pair, and what a match changes.
//! - `settlement.rs`: holds, payouts, refunds and releases.
//! - `mediation.rs`: sampling, the mediator draw, late mediators and verdicts.
//! - `slashing.rs`: timeouts and slashes, pending and applied.
//! - `signing.rs`: what providers and mediators sign on this chain.
//! - `api.rs`: the reads behind the `JobsApi` runtime API.
//! - `invariants.rs`: the invariants `try_state` checks.
//! - `solver.rs`: the solver's offchain worker; `migrations.rs`: storage migrations.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use lilypad_primitives::{
	jobs::{
		Assignment, Job, JobId, JobInputs, JobOptions, JobOutcome, JobState, MatchError, Mediation,
		PendingSlash, ResultManifest, SlashCause, Stage,
	},
	mediation::{MediationCause, Verdict},
};
pub use pallet::*;
pub use weights::WeightInfo;

mod api;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(any(feature = "try-runtime", test))]
mod invariants;
mod matching;
mod mediation;
pub mod migrations;
#[cfg(test)]
mod mock;
mod queue;
mod settlement;
mod signing;
mod slashing;
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
	pub(crate) use alloc::vec::Vec;
	pub(crate) use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation, Restriction},
			Randomness,
		},
	};
	pub(crate) use frame_system::{
		offchain::{AppCrypto, CreateSignedTransaction},
		pallet_prelude::*,
	};
	pub(crate) use lilypad_primitives::{
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
		registry::{
			check_inputs, royalty_amounts, Digest, InputError, JobTerms, ModelDigests, ModuleRef,
			ModuleRegistry, RoyaltyPayees,
		},
		reputation::Outcome,
		rewards::{OnActivity, ReputationOf},
	};
	pub(crate) use sp_core::sr25519;
	pub(crate) use sp_runtime::{
		traits::{IdentifyAccount, Saturating, UniqueSaturatedInto, Verify, Zero},
		FixedU128, Perbill,
	};

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type JobOf<T> =
		Job<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type StateOf<T> =
		JobState<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type OutcomeOf<T> =
		JobOutcome<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type OptionsOf<T> = JobOptions<<T as frame_system::Config>::AccountId>;
	pub type BatchOf<T> =
		BoundedVec<(JobId, <T as frame_system::Config>::AccountId), <T as Config>::MaxBatch>;

	/// Version 1 re-priced job deposits ([`crate::migrations::v1`]); version 2 stores a job's
	/// state as a [`JobState`] ([`crate::migrations::v2`]); version 3 fixes a job's royalty
	/// payees and model digests at submission ([`crate::migrations::v3`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

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

	/// Who earns royalties from a live job, and what share of its price each: the module's
	/// lineage and its models', read from the registry once, at submission, so that matching
	/// and completion walk no lineage. Absent for a job without royalties; removed when the
	/// job closes.
	#[pallet::storage]
	pub type Payees<T: Config> = StorageMap<_, Twox64Concat, JobId, RoyaltyPayees<T::AccountId>>;

	/// The digests of the model weights a live job runs with, fixed at submission: what its
	/// result must name. Absent for a job whose module needs no models; removed when the job
	/// closes.
	#[pallet::storage]
	pub type JobModels<T: Config> = StorageMap<_, Twox64Concat, JobId, ModelDigests>;

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
		/// A runtime upgrade moved the `jobs` in storage to the layout whose state is a
		/// [`JobState`] ([`crate::migrations::v2`]); they hold `escrow` in all. `refused`: records
		/// whose stage lacked a part it needs, closed with their funds returned (none on a
		/// healthy chain). `checked`: every job is there, in the stage it was in, and the escrow
		/// is as before but for what the refused ones returned.
		JobsMigrated { jobs: u32, escrow: BalanceOf<T>, refused: u32, checked: bool },
		/// A runtime upgrade fixed the royalty payees and model digests of the `live` jobs in
		/// storage ([`crate::migrations::v3`]), as their module's lineage gives them now.
		/// `checked`: every live job has its payees, and no closed one has any.
		PayeesFixed { live: u32, checked: bool },
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
		/// The model digests the result names are not those of the job's models, in order.
		ModelDigestMismatch,
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
			let (steps, draws) = Self::run_due(now);
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
			// The one walk of the lineages in the job's life.
			let JobTerms { version, payees, models } =
				T::Registry::job_terms(&module).ok_or(Error::<T>::ModuleNotFound)?;
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
			let royalties = Self::royalties_total(&payees, max_price);
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
			let due = Self::schedule(id, deadline.saturating_add(1u32.into()))?;
			T::Registry::acquire(&module)?;
			T::Currency::hold(&HoldReason::JobEscrow.into(), &who, escrow)?;
			T::Currency::hold(&HoldReason::JobDeposit.into(), &who, deposit)?;
			NextJobId::<T>::put(id.saturating_add(1));
			JobsByCreator::<T>::insert(&who, id, ());
			OpenJobs::<T>::insert(id, ());
			if !payees.is_empty() {
				Payees::<T>::insert(id, payees);
			}
			if !models.is_empty() {
				JobModels::<T>::insert(id, models);
			}
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
					state: JobState::Open,
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
			ensure!(record.state == JobState::Open, Error::<T>::NotOpen);
			let now = frame_system::Pallet::<T>::block_number();
			let refunded = Self::refund_escrow(&mut record);
			Self::finish(job, &mut record, JobOutcome::Cancelled, now)?;
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
				let Some(mut record) =
					Jobs::<T>::get(job).filter(|r| r.state == JobState::Open && now <= r.match_by)
				else {
					Self::deposit_event(Event::MatchSkipped { job, provider });
					continue;
				};
				match Self::check_pair(&record, &provider, rho) {
					Ok((price, collateral)) => {
						let solver = solver.clone();
						Self::make_match(
							job,
							&mut record,
							provider,
							solver,
							price,
							collateral,
							now,
						)?;
						Jobs::<T>::insert(job, record);
					}
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
		/// [`result_signing_payload`]`(genesis hash, manifest, models)`; `signer` must be the
		/// provider's key or a delegate's. The manifest must name this job, the module's
		/// artifact digest and the job's input digest, and `models` the digests of the weights
		/// of the job's models, in the module's order. Any exit status completes the job: a
		/// module that fails on its own is not the provider's fault.
		///
		/// ## Errors
		/// - [`Error::JobNotFound`], [`Error::NotAwaitingResult`],
		///   [`Error::NotAssignedProvider`], [`Error::ExecutionDeadlinePassed`]
		/// - [`Error::SignerNotAuthorized`], [`Error::WrongJob`],
		///   [`Error::ModuleDigestMismatch`], [`Error::InputDigestMismatch`],
		///   [`Error::ModelDigestMismatch`], [`Error::BadSignature`], [`Error::QueueFull`]
		///
		/// ## Events
		/// - [`Event::ResultSubmitted`]
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::submit_result())]
		pub fn submit_result(
			origin: OriginFor<T>,
			job: JobId,
			manifest: ResultManifest,
			models: ModelDigests,
			signer: sr25519::Public,
			signature: sr25519::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut record = Jobs::<T>::get(job).ok_or(Error::<T>::JobNotFound)?;
			let JobState::Matched { assignment } = record.state.clone() else {
				return Err(Error::<T>::NotAwaitingResult.into());
			};
			let provider = assignment.provider.clone();
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
				models == JobModels::<T>::get(job).unwrap_or_default(),
				Error::<T>::ModelDigestMismatch
			);
			ensure!(
				signature.verify(&Self::result_payload(&manifest, &models)[..], &signer),
				Error::<T>::BadSignature
			);

			let challenge_until = now.saturating_add(T::ChallengeWindow::get().into());
			let due = Self::schedule(job, challenge_until.saturating_add(1u32.into()))?;
			T::Providers::end_job(&provider);
			let exit = manifest.exit;
			Self::enter(
				&mut record,
				JobState::Reported { assignment, result: manifest },
				now,
				Some(due),
			);
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
			let JobState::Reported { assignment, result } = record.state.clone() else {
				return Err(Error::<T>::NotChallengeable.into());
			};
			ensure!(record.due.is_some_and(|d| now < d), Error::<T>::NotChallengeable);
			let fee = T::ChallengeFee::get();
			ensure!(
				T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite)
					>= fee,
				Error::<T>::InsufficientBalance
			);
			// The draw needs randomness from after this block: the next block's step has it.
			let due = Self::schedule(job, now.saturating_add(1u32.into()))?;
			T::Currency::hold(&HoldReason::ChallengeFee.into(), &who, fee)?;
			record.challenge_fee = fee;
			let mediation = Self::new_mediation(MediationCause::Challenged, now);
			Self::enter(
				&mut record,
				JobState::InMediation { assignment, result, mediation },
				now,
				Some(due),
			);
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
			let JobState::InMediation { mediation, .. } = &mut record.state else {
				return Err(Error::<T>::NotInMediation.into());
			};
			if let Some(mediator) = mediation.mediator.take() {
				Self::unlock_mediator(&mediator, mediation);
			}
			let now = frame_system::Pallet::<T>::block_number();
			Self::resolve(job, &mut record, verdict, None, now)?;
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
			let JobState::InMediation { result, mediation, .. } = &mut record.state else {
				return Err(Error::<T>::NotInMediation.into());
			};
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
			let verdict = verdict(result, &rerun);
			Self::unlock_mediator(&mediator, mediation);
			T::Rewards::note(BondKind::Mediator, &mediator, Some(Outcome::Success), Zero::zero());
			Self::deposit_event(Event::MediatorAnswered {
				job,
				mediator: mediator.clone(),
				output_digest: rerun.output_digest,
			});
			Self::resolve(job, &mut record, verdict, Some(mediator), now)?;
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
			let JobState::SlashPending { assignment, result, mediation, .. } = record.state.clone()
			else {
				return Err(Error::<T>::NoPendingSlash.into());
			};
			let now = frame_system::Pallet::<T>::block_number();
			T::Providers::unlock_bond(
				&assignment.provider,
				BondKind::Provider,
				assignment.collateral,
			);
			let provider = assignment.provider.clone();
			let outcome = JobOutcome::SlashCancelled { assignment, result, mediation };
			Self::finish(job, &mut record, outcome, now)?;
			Jobs::<T>::insert(job, record);
			Self::deposit_event(Event::SlashCancelled { job, provider });
			Ok(())
		}
	}
}
