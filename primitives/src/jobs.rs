//! A job's terms and its result as the chain, the agent and the CLI exchange them: what a job
//! creator asks for, and the manifest a provider signs for what it ran (docs/design.md §3).
//! The jobs pallet stores these; the agent signs [`result_signing_payload`]; anyone can re-check it.
use crate::{
	economics::{Charge, FeeRates},
	identity::CredentialName,
	providers::{Offer, ProviderStatus},
	registry::{Digest, ModuleRef, ParamName, Resources, VerificationPolicy},
};
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{traits::AtLeast32BitUnsigned, BoundedVec};
use scale_info::TypeInfo;

use alloc::vec::Vec;
use polkadot_sdk::sp_core::ConstU32;

/// Longest inline value of one input parameter, in bytes; larger inputs go by digest.
pub const MAX_INPUT_VALUE_LEN: u32 = 1_024;
/// Most credentials a job may require of its provider.
pub const MAX_JOB_CREDENTIALS: u32 = 4;
/// Most entries of a job's history: every stage a job can pass through, once each.
pub const MAX_HISTORY: u32 = 8;
/// Most jobs one `jobs_by_*` runtime API call returns.
pub const MAX_JOBS_PAGE: u32 = 100;

/// One input's value, as given (`-i Name=value`).
pub type InputValue = BoundedVec<u8, ConstU32<MAX_INPUT_VALUE_LEN>>;

/// What a job runs on: named parameter values, checked against the module's schema, and
/// optionally one larger input by content digest (blake3), which the provider fetches.
#[derive(
	Clone,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct JobInputs {
	pub params:
		BoundedVec<(ParamName, InputValue), ConstU32<{ crate::registry::MAX_INPUT_PARAMS }>>,
	pub blob: Option<Digest>,
}

impl JobInputs {
	/// Bytes of inline values.
	pub fn inline_len(&self) -> u32 {
		self.params.iter().map(|(_, v)| v.len() as u32).sum()
	}
}

/// The digest a result manifest must name for a job's inputs: blake2-256 of the SCALE-encoded
/// [`JobInputs`], so that the chain can check it without a blake3 implementation.
pub fn input_digest(inputs: &JobInputs) -> Digest {
	polkadot_sdk::sp_crypto_hashing::blake2_256(&inputs.encode())
}

/// What a job creator may add to the module's terms.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct JobOptions<AccountId> {
	/// Only this provider may run the job.
	pub target: Option<AccountId>,
	/// Credentials the provider must hold when it is matched.
	pub credentials: BoundedVec<CredentialName, ConstU32<MAX_JOB_CREDENTIALS>>,
	/// A stricter verification policy than the module's.
	pub verification: Option<VerificationPolicy>,
}

impl<AccountId> Default for JobOptions<AccountId> {
	fn default() -> Self {
		Self { target: None, credentials: Default::default(), verification: None }
	}
}

/// A job's number, assigned in submission order.
pub type JobId = u64;

/// Domain tag of a signed result, so that a result signature is never valid as anything else.
pub const RESULT_SIGNING_DOMAIN: &[u8] = b"lilypad/jobs/result/v1";

/// How a run of the module ended. Anything but a missing result is the module's doing, not the
/// provider's: the job completes and the provider is paid.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ExitStatus {
	/// Exit code 0.
	Success,
	/// A non-zero exit code.
	Failed { code: i32 },
	/// Killed at the module's timeout.
	TimedOut,
	/// Killed for exceeding its memory.
	OutOfMemory,
}

/// What one run used, as the provider measured it.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub struct Usage {
	pub wall_ms: u64,
	pub cpu_ms: u64,
	pub peak_ram_mib: u32,
	pub gpu_ms: u64,
}

/// What a provider attests it ran and produced: the content digests (blake3) of the module,
/// the inputs, the outputs and the logs, how it ended and what it used.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct ResultManifest {
	pub job: JobId,
	pub module_digest: Digest,
	pub input_digest: Digest,
	pub output_digest: Digest,
	pub stdout_digest: Digest,
	pub stderr_digest: Digest,
	pub exit: ExitStatus,
	pub usage: Usage,
}

/// Where a job is in its lifecycle (docs/design.md §3). The first five are live: the job holds
/// escrow or collateral. The rest are final: the job holds only its storage deposit until pruned.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum Stage {
	/// Waiting for a match until its deadline.
	Submitted,
	/// Assigned to a provider, which must return a result by the execution deadline.
	Matched,
	/// A result is in; when the challenge window ends it is sampled for a re-run or completes.
	ResultSubmitted,
	/// Sampled or challenged: a mediator re-runs the job and its answer decides.
	InMediation,
	/// The job creator was refunded; the provider's collateral waits out the appeal window.
	SlashPending,
	/// Paid out: provider, solver, royalties and protocol fee.
	Completed,
	/// Refunded in full: cancelled before a match.
	Cancelled,
	/// Refunded in full: nobody matched it before its deadline.
	Expired,
	/// The provider was slashed (no result in time, or mediation found it at fault).
	Slashed,
	/// Governance cancelled the pending slash; the provider kept its collateral.
	SlashCancelled,
}

impl Stage {
	/// Every stage, in the order a job can reach them.
	pub const ALL: [Stage; 10] = [
		Stage::Submitted,
		Stage::Matched,
		Stage::ResultSubmitted,
		Stage::InMediation,
		Stage::SlashPending,
		Stage::Completed,
		Stage::Cancelled,
		Stage::Expired,
		Stage::Slashed,
		Stage::SlashCancelled,
	];

	/// Whether nothing more can happen to the job but pruning.
	pub fn is_final(&self) -> bool {
		matches!(
			self,
			Stage::Completed
				| Stage::Cancelled
				| Stage::Expired
				| Stage::Slashed
				| Stage::SlashCancelled
		)
	}

	/// Whether the job's outcome is decided: final, or a slash waiting out its appeal window
	/// (the creator is refunded unless governance cancels it). What a creator waits for.
	pub fn is_settled(&self) -> bool {
		self.is_final() || *self == Stage::SlashPending
	}
}

/// Why a provider's collateral for a job is slashed.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum SlashCause {
	/// No result before the execution deadline.
	ExecutionTimeout,
	/// Mediation found the result wrong.
	BadResult,
}

/// Who runs a matched job, at what price, with how much collateral.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Assignment<AccountId, Balance, BlockNumber> {
	pub provider: AccountId,
	pub solver: AccountId,
	/// The provider's asking price: what it is paid.
	pub price: Balance,
	/// The part of the provider's bond this job locks.
	pub collateral: Balance,
	pub matched_at: BlockNumber,
	/// The last block a result is accepted in.
	pub execute_by: BlockNumber,
}

/// A slash waiting out its appeal window, its funds still held.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct PendingSlash<Balance, BlockNumber> {
	pub cause: SlashCause,
	/// Compensation for the job creator.
	pub to_creator: Balance,
	/// The mediator that caught a wrong result: its pay, taken from the treasury's part.
	pub to_mediator: Balance,
	/// The rest of the collateral, for the treasury.
	pub to_treasury: Balance,
	/// The block it applies in unless cancelled.
	pub applies_at: BlockNumber,
}

/// A job's mediation: why it started, who re-runs the job, and who failed to.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Mediation<AccountId, Balance, BlockNumber> {
	pub cause: crate::mediation::MediationCause,
	/// The mediator drawn for the job; `None` until the draw.
	pub mediator: Option<AccountId>,
	/// The part of the mediator's stake locked until it answers: its penalty if it does not.
	pub stake_locked: Balance,
	/// The last block the mediator's answer is accepted in.
	pub answer_by: BlockNumber,
	/// Mediators drawn before that did not answer in time; never drawn again for this job.
	pub failed: BoundedVec<AccountId, ConstU32<{ crate::mediation::MAX_MEDIATION_ATTEMPTS }>>,
	/// What the mediation decided, once it has.
	pub verdict: Option<crate::mediation::Verdict>,
}

/// A job, as stored and as `lilypad_job` shows it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Job<AccountId, Balance, BlockNumber> {
	pub creator: AccountId,
	pub module: ModuleRef,
	/// The digest of the module's artifact, which the result must name.
	pub module_digest: Digest,
	/// The module version's terms, fixed at submission.
	pub resources: Resources,
	pub timeout_secs: u32,
	pub verification: VerificationPolicy,
	pub inputs: JobInputs,
	pub max_price: Balance,
	pub target: Option<AccountId>,
	pub credentials: BoundedVec<CredentialName, ConstU32<MAX_JOB_CREDENTIALS>>,
	/// The fee rates at submission; the job is charged at these.
	pub rates: FeeRates,
	/// What the job creator owes: at `max_price` until matched, then at the price.
	pub charge: Charge<Balance>,
	/// What is held from the job creator now: `charge.total()` while live, zero when final.
	pub escrow: Balance,
	/// A challenge fee held from the job creator while in mediation.
	pub challenge_fee: Balance,
	/// The storage deposit, held until the job is pruned.
	pub deposit: Balance,
	/// The last block a match is accepted in.
	pub match_by: BlockNumber,
	/// Where the job is, with what that stage needs.
	pub state: JobState<AccountId, Balance, BlockNumber>,
	/// The block this job's next automatic step runs in (expiry, timeout, completion, slash,
	/// pruning); `None` while only a call can move it on (mediation).
	pub due: Option<BlockNumber>,
	/// Every stage it reached, with the block.
	pub history: BoundedVec<(Stage, BlockNumber), ConstU32<MAX_HISTORY>>,
}

impl<AccountId: PartialEq, Balance, BlockNumber: Copy> Job<AccountId, Balance, BlockNumber> {
	/// The job's stage: the name of its state.
	pub fn stage(&self) -> Stage {
		self.state.stage()
	}

	/// Whether the job waits for `provider`'s result: matched to it, with no result yet.
	pub fn awaits_result_from(&self, provider: &AccountId) -> bool {
		matches!(&self.state, JobState::Matched { assignment } if &assignment.provider == provider)
	}

	/// The block by which `mediator` must answer, if the job waits for its re-run: in
	/// mediation, drawn to it, with no verdict yet.
	pub fn awaits_mediation_from(&self, mediator: &AccountId) -> Option<BlockNumber> {
		let JobState::InMediation { mediation: m, .. } = &self.state else { return None };
		(m.mediator.as_ref() == Some(mediator) && m.verdict.is_none()).then_some(m.answer_by)
	}
}

/// Where a job is, each state with what it needs and nothing it cannot have (docs/design.md §3):
/// a matched job has its assignment, a reported one its result too, and so on. The live states
/// hold escrow or collateral; [`JobState::Closed`] holds only the storage deposit until pruned.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum JobState<AccountId, Balance, BlockNumber> {
	/// Waiting for a match until [`Job::match_by`].
	Open,
	/// Assigned to a provider, which owes a result by the assignment's `execute_by`.
	Matched { assignment: Assignment<AccountId, Balance, BlockNumber> },
	/// A result is in; when the challenge window ends it is sampled for a re-run or completes.
	Reported { assignment: Assignment<AccountId, Balance, BlockNumber>, result: ResultManifest },
	/// Sampled or challenged: a mediator re-runs the job and its answer decides.
	InMediation {
		assignment: Assignment<AccountId, Balance, BlockNumber>,
		result: ResultManifest,
		mediation: Mediation<AccountId, Balance, BlockNumber>,
	},
	/// The creator was refunded; the provider's collateral waits out the appeal window. A
	/// result found wrong keeps its result and mediation; a timeout has neither.
	SlashPending {
		assignment: Assignment<AccountId, Balance, BlockNumber>,
		result: Option<ResultManifest>,
		mediation: Option<Mediation<AccountId, Balance, BlockNumber>>,
		slash: PendingSlash<Balance, BlockNumber>,
	},
	/// Nothing more happens to the job but pruning.
	Closed(JobOutcome<AccountId, Balance, BlockNumber>),
}

/// How a job ended, with what it kept of its run.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum JobOutcome<AccountId, Balance, BlockNumber> {
	/// Refunded in full: cancelled before a match.
	Cancelled,
	/// Refunded in full: nobody matched it before its deadline.
	Expired,
	/// Paid out: provider, solver, royalties and protocol fee. `mediation` if it was re-checked.
	Completed {
		assignment: Assignment<AccountId, Balance, BlockNumber>,
		result: ResultManifest,
		mediation: Option<Mediation<AccountId, Balance, BlockNumber>>,
	},
	/// The provider's collateral was slashed as `slash` says.
	Slashed {
		assignment: Assignment<AccountId, Balance, BlockNumber>,
		result: Option<ResultManifest>,
		mediation: Option<Mediation<AccountId, Balance, BlockNumber>>,
		slash: PendingSlash<Balance, BlockNumber>,
	},
	/// Governance cancelled the pending slash; the provider kept its collateral.
	SlashCancelled {
		assignment: Assignment<AccountId, Balance, BlockNumber>,
		result: Option<ResultManifest>,
		mediation: Option<Mediation<AccountId, Balance, BlockNumber>>,
	},
}

impl<AccountId, Balance, BlockNumber> JobState<AccountId, Balance, BlockNumber> {
	/// The stage this state is.
	pub fn stage(&self) -> Stage {
		match self {
			JobState::Open => Stage::Submitted,
			JobState::Matched { .. } => Stage::Matched,
			JobState::Reported { .. } => Stage::ResultSubmitted,
			JobState::InMediation { .. } => Stage::InMediation,
			JobState::SlashPending { .. } => Stage::SlashPending,
			JobState::Closed(JobOutcome::Cancelled) => Stage::Cancelled,
			JobState::Closed(JobOutcome::Expired) => Stage::Expired,
			JobState::Closed(JobOutcome::Completed { .. }) => Stage::Completed,
			JobState::Closed(JobOutcome::Slashed { .. }) => Stage::Slashed,
			JobState::Closed(JobOutcome::SlashCancelled { .. }) => Stage::SlashCancelled,
		}
	}

	/// Who runs (or ran) the job, once matched.
	pub fn assignment(&self) -> Option<&Assignment<AccountId, Balance, BlockNumber>> {
		match self {
			JobState::Open | JobState::Closed(JobOutcome::Cancelled | JobOutcome::Expired) => None,
			JobState::Matched { assignment }
			| JobState::Reported { assignment, .. }
			| JobState::InMediation { assignment, .. }
			| JobState::SlashPending { assignment, .. }
			| JobState::Closed(
				JobOutcome::Completed { assignment, .. }
				| JobOutcome::Slashed { assignment, .. }
				| JobOutcome::SlashCancelled { assignment, .. },
			) => Some(assignment),
		}
	}

	/// The provider's result, once reported.
	pub fn result(&self) -> Option<&ResultManifest> {
		match self {
			JobState::Reported { result, .. }
			| JobState::InMediation { result, .. }
			| JobState::Closed(JobOutcome::Completed { result, .. }) => Some(result),
			JobState::SlashPending { result, .. }
			| JobState::Closed(
				JobOutcome::Slashed { result, .. } | JobOutcome::SlashCancelled { result, .. },
			) => result.as_ref(),
			_ => None,
		}
	}

	/// The re-check of the result, if it was sampled or challenged.
	pub fn mediation(&self) -> Option<&Mediation<AccountId, Balance, BlockNumber>> {
		match self {
			JobState::InMediation { mediation, .. } => Some(mediation),
			JobState::SlashPending { mediation, .. }
			| JobState::Closed(
				JobOutcome::Completed { mediation, .. }
				| JobOutcome::Slashed { mediation, .. }
				| JobOutcome::SlashCancelled { mediation, .. },
			) => mediation.as_ref(),
			_ => None,
		}
	}

	/// The slash, pending or applied.
	pub fn slash(&self) -> Option<&PendingSlash<Balance, BlockNumber>> {
		match self {
			JobState::SlashPending { slash, .. }
			| JobState::Closed(JobOutcome::Slashed { slash, .. }) => Some(slash),
			_ => None,
		}
	}
}

/// The layout jobs were stored in up to storage version 1 of the jobs pallet (runtime spec
/// 108): a stage tag beside optional parts. Frozen here, never to change: the jobs pallet's v2
/// migration reads it, and a node reads it from a runtime older than `JobsApi` version 2.
pub mod v1 {
	use super::*;

	/// A job as version 1 stored it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
	pub struct Job<AccountId, Balance, BlockNumber> {
		pub creator: AccountId,
		pub module: ModuleRef,
		pub module_digest: Digest,
		pub resources: Resources,
		pub timeout_secs: u32,
		pub verification: VerificationPolicy,
		pub inputs: JobInputs,
		pub max_price: Balance,
		pub target: Option<AccountId>,
		pub credentials: BoundedVec<CredentialName, ConstU32<MAX_JOB_CREDENTIALS>>,
		pub rates: FeeRates,
		pub charge: Charge<Balance>,
		pub escrow: Balance,
		pub challenge_fee: Balance,
		pub deposit: Balance,
		pub match_by: BlockNumber,
		pub assignment: Option<Assignment<AccountId, Balance, BlockNumber>>,
		pub result: Option<ResultManifest>,
		pub slash: Option<PendingSlash<Balance, BlockNumber>>,
		pub mediation: Option<Mediation<AccountId, Balance, BlockNumber>>,
		pub stage: Stage,
		pub due: Option<BlockNumber>,
		pub history: BoundedVec<(Stage, BlockNumber), ConstU32<MAX_HISTORY>>,
	}

	/// Today's job as version 1 stored it: the stage, and each part its state has.
	impl<AccountId: Clone, Balance: Clone, BlockNumber: Clone>
		From<super::Job<AccountId, Balance, BlockNumber>> for Job<AccountId, Balance, BlockNumber>
	{
		fn from(j: super::Job<AccountId, Balance, BlockNumber>) -> Self {
			Job {
				assignment: j.state.assignment().cloned(),
				result: j.state.result().cloned(),
				slash: j.state.slash().cloned(),
				mediation: j.state.mediation().cloned(),
				stage: j.state.stage(),
				creator: j.creator,
				module: j.module,
				module_digest: j.module_digest,
				resources: j.resources,
				timeout_secs: j.timeout_secs,
				verification: j.verification,
				inputs: j.inputs,
				max_price: j.max_price,
				target: j.target,
				credentials: j.credentials,
				rates: j.rates,
				charge: j.charge,
				escrow: j.escrow,
				challenge_fee: j.challenge_fee,
				deposit: j.deposit,
				match_by: j.match_by,
				due: j.due,
				history: j.history,
			}
		}
	}

	impl<AccountId: Clone, Balance: Clone, BlockNumber: Clone> Job<AccountId, Balance, BlockNumber> {
		/// The job in today's layout, or `Err(self)` if its stage lacks a part that stage
		/// needs (a record version 1 never wrote: every stage past `Submitted` had its
		/// assignment, every stage past `Matched` but a timeout its result, and so on).
		// The record comes back whole on the rare refusal, so that nothing of it is lost: its
		// size is the point, not a cost on a path that never runs on a healthy chain.
		#[allow(clippy::result_large_err)]
		pub fn upgrade(self) -> Result<super::Job<AccountId, Balance, BlockNumber>, Self> {
			match self.state() {
				Some(state) => Ok(self.with_state(state)),
				None => Err(self),
			}
		}

		/// The state its stage and parts make, if they make one.
		pub fn state(&self) -> Option<JobState<AccountId, Balance, BlockNumber>> {
			use JobOutcome as O;
			let state =
				match (self.stage, &self.assignment, &self.result, &self.mediation, &self.slash) {
					(Stage::Submitted, None, None, None, None) => JobState::Open,
					(Stage::Cancelled, None, None, None, None) => JobState::Closed(O::Cancelled),
					(Stage::Expired, None, None, None, None) => JobState::Closed(O::Expired),
					(Stage::Matched, Some(a), None, None, None) => {
						JobState::Matched { assignment: a.clone() }
					}
					(Stage::ResultSubmitted, Some(a), Some(r), None, None) => {
						JobState::Reported { assignment: a.clone(), result: r.clone() }
					}
					(Stage::InMediation, Some(a), Some(r), Some(m), None) => {
						JobState::InMediation {
							assignment: a.clone(),
							result: r.clone(),
							mediation: m.clone(),
						}
					}
					(Stage::SlashPending, Some(a), r, m, Some(s)) => JobState::SlashPending {
						assignment: a.clone(),
						result: r.clone(),
						mediation: m.clone(),
						slash: s.clone(),
					},
					(Stage::Completed, Some(a), Some(r), m, None) => {
						JobState::Closed(O::Completed {
							assignment: a.clone(),
							result: r.clone(),
							mediation: m.clone(),
						})
					}
					(Stage::Slashed, Some(a), r, m, Some(s)) => JobState::Closed(O::Slashed {
						assignment: a.clone(),
						result: r.clone(),
						mediation: m.clone(),
						slash: s.clone(),
					}),
					(Stage::SlashCancelled, Some(a), r, m, None) => {
						JobState::Closed(O::SlashCancelled {
							assignment: a.clone(),
							result: r.clone(),
							mediation: m.clone(),
						})
					}
					_ => return None,
				};
			Some(state)
		}

		/// The job in today's layout with `state`, every other field as it was.
		pub fn with_state(
			self,
			state: JobState<AccountId, Balance, BlockNumber>,
		) -> super::Job<AccountId, Balance, BlockNumber> {
			super::Job {
				creator: self.creator,
				module: self.module,
				module_digest: self.module_digest,
				resources: self.resources,
				timeout_secs: self.timeout_secs,
				verification: self.verification,
				inputs: self.inputs,
				max_price: self.max_price,
				target: self.target,
				credentials: self.credentials,
				rates: self.rates,
				charge: self.charge,
				escrow: self.escrow,
				challenge_fee: self.challenge_fee,
				deposit: self.deposit,
				match_by: self.match_by,
				state,
				due: self.due,
				history: self.history,
			}
		}
	}
}

/// Why a proposed pair breaks a rule: the solver is penalised for it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum MatchError {
	/// The account has no offer.
	ProviderNotRegistered,
	/// Its heartbeat is overdue.
	ProviderAway,
	/// The job names another provider.
	NotTargetProvider,
	/// The offer does not run the module.
	ModuleNotServed,
	/// The offer's job slot does not cover the module's resources.
	ResourcesNotCovered,
	/// The provider asks more than the job's maximum price.
	PriceAboveMax,
	/// The provider asks less than the module's price floor.
	PriceBelowFloor,
	/// The provider runs as many jobs as its offer allows.
	CapacityFull,
	/// The provider lacks a credential the job requires.
	CredentialMissing,
	/// The provider's free collateral is below `rho * price`.
	InsufficientCollateral,
}

/// The keystore key type of solver keys, which a node's solver offchain worker signs its
/// `propose_match` batches with.
pub const SOLVER_KEY_TYPE: polkadot_sdk::sp_core::crypto::KeyTypeId =
	polkadot_sdk::sp_core::crypto::KeyTypeId(*b"solv");

/// What a provider offers a job, as [`check_match`] reads it.
pub struct ProviderTerms<'a, AccountId, Balance> {
	pub account: &'a AccountId,
	pub offer: &'a Offer<Balance>,
	pub status: ProviderStatus,
	pub active_jobs: u32,
	pub free_collateral: Balance,
}

/// Checks one proposed pair against every rule of a match (docs/design.md §4), in O(1) apart from
/// the offer's short lists; returns the price and the collateral to lock. `floor` is the
/// module's price floor, `rho` the governed collateral ratio and `has_credential` whether the
/// provider holds a credential now.
pub fn check_match<AccountId: PartialEq, Balance: AtLeast32BitUnsigned + Copy>(
	job: &Job<AccountId, Balance, impl Copy>,
	provider: &ProviderTerms<AccountId, Balance>,
	floor: Balance,
	rho: polkadot_sdk::sp_runtime::FixedU128,
	has_credential: impl Fn(&CredentialName) -> bool,
) -> Result<(Balance, Balance), MatchError> {
	if provider.status != ProviderStatus::Active {
		return Err(MatchError::ProviderAway);
	}
	if job.target.as_ref().is_some_and(|t| t != provider.account) {
		return Err(MatchError::NotTargetProvider);
	}
	let offer = provider.offer;
	if !offer.serves(&job.module.name) {
		return Err(MatchError::ModuleNotServed);
	}
	if !offer.covers(&job.resources) {
		return Err(MatchError::ResourcesNotCovered);
	}
	let price = offer.price_for(&job.module.name);
	if price > job.max_price {
		return Err(MatchError::PriceAboveMax);
	}
	if price < floor {
		return Err(MatchError::PriceBelowFloor);
	}
	if provider.active_jobs >= offer.capacity {
		return Err(MatchError::CapacityFull);
	}
	if !job.credentials.iter().all(&has_credential) {
		return Err(MatchError::CredentialMissing);
	}
	let collateral = crate::economics::collateral_for(price, rho);
	if provider.free_collateral < collateral {
		return Err(MatchError::InsufficientCollateral);
	}
	Ok((price, collateral))
}

/// The number of blocks that cover `secs` seconds, rounded up.
pub fn blocks_for_secs(secs: u32) -> u32 {
	let ms = secs as u64 * 1_000;
	ms.div_ceil(crate::SLOT_DURATION_MS) as u32
}

/// What a job would cost, as `lilypad_estimate` shows it: the cheapest active offer that can
/// run the module, and the charge at that price.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct PriceEstimate<AccountId, Balance> {
	/// The module's price floor.
	pub floor: Balance,
	/// The cheapest active provider that serves the module and covers its resources, if any.
	pub cheapest: Option<(AccountId, Balance)>,
	/// Offers seen that could run it.
	pub offers: u32,
	/// What a job at the cheapest price (or the floor, if none) is charged, fees included.
	pub charge: Charge<Balance>,
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Reads of jobs, behind the `lilypad_job`, `lilypad_jobs` and `lilypad_estimate` RPCs.
	///
	/// Version 2 returns jobs whose state is a [`JobState`]; version 1 (runtime spec 108 and
	/// before) returned the [`v1::Job`] layout, which a node reads with `*_before_version_2`.
	#[api_version(2)]
	pub trait JobsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// One job, with its history, as version 1 stored it.
		#[changed_in(2)]
		fn job(id: JobId) -> Option<v1::Job<AccountId, Balance, BlockNumber>>;
		/// One job, with its history.
		fn job(id: JobId) -> Option<Job<AccountId, Balance, BlockNumber>>;
		/// [`Self::jobs_of`], as version 1 stored them.
		#[changed_in(2)]
		fn jobs_of(
			who: AccountId,
			as_provider: bool,
			start_after: Option<JobId>,
			limit: u32,
		) -> Vec<(JobId, v1::Job<AccountId, Balance, BlockNumber>)>;
		/// Up to `limit` (at most [`MAX_JOBS_PAGE`]) jobs `who` created, or runs if `as_provider`,
		/// after job `start_after`, oldest first.
		fn jobs_of(
			who: AccountId,
			as_provider: bool,
			start_after: Option<JobId>,
			limit: u32,
		) -> Vec<(JobId, Job<AccountId, Balance, BlockNumber>)>;
		/// What a job on `module` would cost now.
		fn estimate(module: ModuleRef) -> Option<PriceEstimate<AccountId, Balance>>;
	}
}

/// The bytes a provider signs for a result: domain tag, the chain's genesis hash, the
/// SCALE-encoded manifest and the digests of the model weights it ran with, in the order the
/// module names its models. A job without models signs no list, not an empty one: the bytes
/// results signed before modules named models.
pub fn result_signing_payload<Hash: Encode>(
	genesis_hash: &Hash,
	manifest: &ResultManifest,
	models: &[Digest],
) -> Vec<u8> {
	let mut payload = (RESULT_SIGNING_DOMAIN, genesis_hash, manifest).encode();
	if !models.is_empty() {
		models.encode_to(&mut payload);
	}
	payload
}

/// The verification a job gets: the module's policy, or a stricter one the job asks for.
/// `None` if the job asks for a looser one (docs/design.md §3: stricter, never looser).
pub fn effective_verification(
	module: VerificationPolicy,
	requested: Option<VerificationPolicy>,
) -> Option<VerificationPolicy> {
	match requested {
		None => Some(module),
		Some(r) if r.strictness() >= module.strictness() => Some(r),
		Some(_) => None,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::sp_runtime::Perbill;

	fn manifest() -> ResultManifest {
		ResultManifest {
			job: 7,
			module_digest: [1; 32],
			input_digest: [2; 32],
			output_digest: [3; 32],
			stdout_digest: [4; 32],
			stderr_digest: [5; 32],
			exit: ExitStatus::Success,
			usage: Usage { wall_ms: 1_200, cpu_ms: 900, peak_ram_mib: 64, gpu_ms: 0 },
		}
	}

	#[test]
	fn the_result_payload_binds_domain_chain_and_every_field() {
		let m = manifest();
		let a = result_signing_payload(&[1u8; 32], &m, &[]);
		assert!(a.starts_with(&RESULT_SIGNING_DOMAIN.encode()));
		assert_ne!(a, result_signing_payload(&[2u8; 32], &m, &[]));
		assert_ne!(a, result_signing_payload(&[1u8; 32], &m, &[[9; 32]]));
		for change in [
			|m: &mut ResultManifest| m.job += 1,
			|m: &mut ResultManifest| m.output_digest[0] ^= 1,
			|m: &mut ResultManifest| m.exit = ExitStatus::Failed { code: 1 },
			|m: &mut ResultManifest| m.usage.wall_ms += 1,
		] {
			let mut changed = m.clone();
			change(&mut changed);
			assert_ne!(a, result_signing_payload(&[1u8; 32], &changed, &[]));
		}
		// A result payload is never a manifest payload of the registry.
		assert!(!a.starts_with(&crate::registry::MANIFEST_SIGNING_DOMAIN.encode()));
	}

	fn job(max_price: u128) -> Job<u32, u128, u32> {
		Job {
			creator: 1,
			module: ModuleRef {
				name: b"echo".to_vec().try_into().unwrap(),
				version: crate::registry::SemVer::new(1, 0, 0),
			},
			module_digest: [0; 32],
			resources: Resources { cpu_millicores: 1_000, ram_mib: 512, ..Default::default() },
			timeout_secs: 10,
			verification: VerificationPolicy::None,
			inputs: JobInputs::default(),
			max_price,
			target: None,
			credentials: Default::default(),
			rates: FeeRates { solver: Perbill::zero(), protocol: Perbill::zero() },
			charge: crate::economics::charge(
				max_price,
				FeeRates { solver: Perbill::zero(), protocol: Perbill::zero() },
				Perbill::zero(),
			),
			escrow: max_price,
			challenge_fee: 0,
			deposit: 0,
			match_by: 10,
			state: JobState::Open,
			due: Some(11),
			history: Default::default(),
		}
	}

	fn offer(price: u128) -> Offer<u128> {
		Offer {
			resources: crate::providers::OfferResources {
				cpu_millicores: 2_000,
				ram_mib: 1_024,
				gpus: Default::default(),
				disk_mib: 0,
			},
			modules: crate::providers::ModuleFilter::All,
			default_price: price,
			prices: Default::default(),
			capacity: 1,
			credentials: Default::default(),
			endpoint: b"http://p".to_vec().try_into().unwrap(),
			models: Default::default(),
		}
	}

	#[test]
	fn a_match_holds_only_when_every_rule_does() {
		let rho = polkadot_sdk::sp_runtime::FixedU128::from_rational(5, 2);
		let o = offer(100);
		let terms = |offer, active_jobs, free_collateral, status| ProviderTerms {
			account: &7u32,
			offer,
			status,
			active_jobs,
			free_collateral,
		};
		let ok = terms(&o, 0, 250, ProviderStatus::Active);
		assert_eq!(check_match(&job(150), &ok, 10, rho, |_| true), Ok((100, 250)));
		assert_eq!(
			check_match(&job(150), &terms(&o, 0, 249, ProviderStatus::Active), 10, rho, |_| true),
			Err(MatchError::InsufficientCollateral)
		);
		assert_eq!(
			check_match(&job(150), &terms(&o, 1, 250, ProviderStatus::Active), 10, rho, |_| true),
			Err(MatchError::CapacityFull)
		);
		assert_eq!(
			check_match(&job(150), &terms(&o, 0, 250, ProviderStatus::Away), 10, rho, |_| true),
			Err(MatchError::ProviderAway)
		);
		assert_eq!(check_match(&job(99), &ok, 10, rho, |_| true), Err(MatchError::PriceAboveMax));
		assert_eq!(
			check_match(&job(150), &ok, 101, rho, |_| true),
			Err(MatchError::PriceBelowFloor)
		);
		let mut targeted = job(150);
		targeted.target = Some(8);
		assert_eq!(
			check_match(&targeted, &ok, 10, rho, |_| true),
			Err(MatchError::NotTargetProvider)
		);
		let mut needs = job(150);
		needs.credentials = vec![b"kyc:basic".to_vec().try_into().unwrap()].try_into().unwrap();
		assert_eq!(
			check_match(&needs, &ok, 10, rho, |_| false),
			Err(MatchError::CredentialMissing)
		);
		assert_eq!(check_match(&needs, &ok, 10, rho, |_| true), Ok((100, 250)));
		let mut big = job(150);
		big.resources.ram_mib = 2_048;
		assert_eq!(check_match(&big, &ok, 10, rho, |_| true), Err(MatchError::ResourcesNotCovered));
		let mut other = offer(100);
		other.modules = crate::providers::ModuleFilter::Only(
			vec![b"cowsay".to_vec().try_into().unwrap()].try_into().unwrap(),
		);
		assert_eq!(
			check_match(&job(150), &terms(&other, 0, 250, ProviderStatus::Active), 10, rho, |_| {
				true
			}),
			Err(MatchError::ModuleNotServed)
		);
	}

	#[test]
	fn module_timeouts_round_up_to_whole_blocks() {
		assert_eq!(blocks_for_secs(0), 0);
		assert_eq!(blocks_for_secs(1), 1);
		assert_eq!(blocks_for_secs(2), 1);
		assert_eq!(blocks_for_secs(3), 2);
		assert_eq!(blocks_for_secs(86_400), 43_200);
	}

	#[test]
	fn the_input_digest_changes_with_every_byte_of_input() {
		let a = JobInputs {
			params: vec![(
				b"Message".to_vec().try_into().unwrap(),
				b"hi".to_vec().try_into().unwrap(),
			)]
			.try_into()
			.unwrap(),
			blob: None,
		};
		let mut b = a.clone();
		b.params[0].1 = b"ho".to_vec().try_into().unwrap();
		let mut c = a.clone();
		c.blob = Some([1; 32]);
		assert_ne!(input_digest(&a), input_digest(&b));
		assert_ne!(input_digest(&a), input_digest(&c));
		assert_eq!(input_digest(&a), input_digest(&a.clone()));
		assert_eq!(a.inline_len(), 2);
	}

	#[test]
	fn a_job_may_tighten_verification_but_never_loosen_it() {
		let sampled = |p| VerificationPolicy::Sampled { p: Perbill::from_percent(p) };
		let (none, det) = (VerificationPolicy::None, VerificationPolicy::Deterministic);
		assert_eq!(effective_verification(sampled(10), None), Some(sampled(10)));
		assert_eq!(effective_verification(sampled(10), Some(sampled(50))), Some(sampled(50)));
		assert_eq!(effective_verification(sampled(10), Some(det)), Some(det));
		assert_eq!(effective_verification(sampled(10), Some(sampled(5))), None);
		assert_eq!(effective_verification(det, Some(none)), None);
		assert_eq!(effective_verification(none, Some(none)), Some(none));
	}

	/// A version-1 job in `stage` with the given parts, the rest as [`job`] makes them.
	fn v1_job(
		stage: Stage,
		assignment: bool,
		result: bool,
		mediation: bool,
		slash: bool,
	) -> v1::Job<u32, u128, u32> {
		let j = job(100);
		v1::Job {
			creator: j.creator,
			module: j.module,
			module_digest: j.module_digest,
			resources: j.resources,
			timeout_secs: j.timeout_secs,
			verification: j.verification,
			inputs: j.inputs,
			max_price: j.max_price,
			target: j.target,
			credentials: j.credentials,
			rates: j.rates,
			charge: j.charge,
			escrow: j.escrow,
			challenge_fee: 7,
			deposit: 3,
			match_by: j.match_by,
			assignment: assignment.then_some(Assignment {
				provider: 2,
				solver: 3,
				price: 50,
				collateral: 125,
				matched_at: 4,
				execute_by: 9,
			}),
			result: result.then(|| ResultManifest {
				job: 0,
				module_digest: [1; 32],
				input_digest: [2; 32],
				output_digest: [3; 32],
				stdout_digest: [4; 32],
				stderr_digest: [5; 32],
				exit: ExitStatus::Success,
				usage: Usage::default(),
			}),
			slash: slash.then_some(PendingSlash {
				cause: SlashCause::BadResult,
				to_creator: 50,
				to_mediator: 10,
				to_treasury: 65,
				applies_at: 30,
			}),
			mediation: mediation.then(|| Mediation {
				cause: crate::mediation::MediationCause::Challenged,
				mediator: Some(5),
				stake_locked: 0,
				answer_by: 20,
				failed: Default::default(),
				verdict: None,
			}),
			stage,
			due: Some(12),
			history: BoundedVec::truncate_from(vec![(Stage::Submitted, 1), (stage, 2)]),
		}
	}

	#[test]
	fn every_version_1_job_keeps_its_stage_and_parts_in_the_new_layout() {
		// (stage, assignment, result, mediation, slash): every combination version 1 wrote.
		let written = [
			(Stage::Submitted, false, false, false, false),
			(Stage::Cancelled, false, false, false, false),
			(Stage::Expired, false, false, false, false),
			(Stage::Matched, true, false, false, false),
			(Stage::ResultSubmitted, true, true, false, false),
			(Stage::InMediation, true, true, true, false),
			(Stage::SlashPending, true, false, false, true),
			(Stage::SlashPending, true, true, true, true),
			(Stage::Completed, true, true, false, false),
			(Stage::Completed, true, true, true, false),
			(Stage::Slashed, true, false, false, true),
			(Stage::Slashed, true, true, true, true),
			(Stage::SlashCancelled, true, false, false, false),
			(Stage::SlashCancelled, true, true, true, false),
		];
		for stage in Stage::ALL {
			assert!(written.iter().any(|w| w.0 == stage), "{stage:?} is covered");
		}
		for (stage, a, r, m, s) in written {
			let old = v1_job(stage, a, r, m, s);
			let new = old.clone().upgrade().unwrap_or_else(|_| panic!("{stage:?} upgrades"));
			assert_eq!(new.stage(), old.stage);
			assert_eq!(new.state.assignment(), old.assignment.as_ref());
			assert_eq!(new.state.result(), old.result.as_ref());
			assert_eq!(new.state.mediation(), old.mediation.as_ref());
			assert_eq!(new.state.slash(), old.slash.as_ref());
			assert_eq!(
				(new.escrow, new.challenge_fee, new.deposit, new.due, new.history.clone()),
				(old.escrow, old.challenge_fee, old.deposit, old.due, old.history.clone())
			);
			assert_eq!(
				(new.creator, new.charge, new.inputs.clone()),
				(old.creator, old.charge, old.inputs.clone())
			);
			// And back: what version 1 stored is exactly what today's job says.
			assert_eq!(v1::Job::from(new.clone()).upgrade(), Ok(new));
		}
	}

	#[test]
	fn a_version_1_job_missing_what_its_stage_needs_is_refused_whole() {
		for (stage, a, r, m, s) in [
			(Stage::Matched, false, false, false, false),
			(Stage::Submitted, true, false, false, false),
			(Stage::ResultSubmitted, true, false, false, false),
			(Stage::InMediation, true, true, false, false),
			(Stage::SlashPending, true, true, true, false),
			(Stage::Completed, true, false, false, false),
			(Stage::SlashCancelled, true, false, false, true),
		] {
			let old = v1_job(stage, a, r, m, s);
			assert_eq!(old.clone().upgrade(), Err(old), "{stage:?}");
		}
	}

	#[test]
	fn a_job_awaits_the_provider_and_the_mediator_it_was_given() {
		let matched = v1_job(Stage::Matched, true, false, false, false).upgrade().unwrap();
		assert!(matched.awaits_result_from(&2) && !matched.awaits_result_from(&3));
		let reported = v1_job(Stage::ResultSubmitted, true, true, false, false).upgrade().unwrap();
		assert!(!reported.awaits_result_from(&2));
		let mediated = v1_job(Stage::InMediation, true, true, true, false).upgrade().unwrap();
		assert_eq!(mediated.awaits_mediation_from(&5), Some(20));
		assert_eq!(mediated.awaits_mediation_from(&2), None);
		let pending = v1_job(Stage::SlashPending, true, true, true, true).upgrade().unwrap();
		assert_eq!(pending.awaits_mediation_from(&5), None);
	}
}
