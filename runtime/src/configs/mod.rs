//! Configuration of every pallet in the runtime, with the reasons for its constants.
use super::*;
use polkadot_sdk::{
	frame_support::{
		derive_impl,
		dispatch::DispatchClass,
		parameter_types,
		traits::{
			tokens::imbalance::ResolveTo, ConstU128, ConstU32, ConstU64, ConstU8, Contains,
			EitherOf, VariantCountOf,
		},
		weights::{
			constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
			ConstantMultiplier, IdentityFee, Weight,
		},
	},
	frame_system::limits::{BlockLength, BlockWeights},
	pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier},
	sp_core::Void,
	sp_runtime::{
		traits::{AccountIdConversion, ConvertInto, One, OpaqueKeys, Verify},
		FixedU128, Perbill,
	},
};
use polkadot_sdk::{
	frame_support::{
		dynamic_params::{dynamic_pallet_params, dynamic_params},
		traits::AsEnsureOriginWithArg,
	},
	pallet_parameters,
};

/// Share of a block that ordinary (`Normal`) transactions may fill; the rest is kept for
/// operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// A block may take at most a quarter of its 2 s slot to execute, leaving the rest of the slot
/// for authoring overhead, gossip and import on other validators (0.5 s of reference time).
pub const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND / 2, u64::MAX);

/// A BABE epoch (and a session) lasts 10 minutes.
pub const EPOCH_DURATION_IN_SLOTS: u64 = 10 * lilypad_primitives::MINUTES as u64;

parameter_types! {
	pub const Version: RuntimeVersion = VERSION;
	pub RuntimeBlockWeights: BlockWeights =
		BlockWeights::with_sensible_defaults(MAXIMUM_BLOCK_WEIGHT, NORMAL_DISPATCH_RATIO);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * *max
		})
		.build();
	pub const BlockHashCount: BlockNumber = 2400;
	/// The generic Substrate address format.
	pub const SS58Prefix: u16 = 42;
	/// Fees, tips and dust land here. It is funded at genesis, so resolving a credit to it cannot
	/// fail for want of an existential deposit (which would burn the credit).
	pub TreasuryAccount: AccountId = TREASURY_PALLET_ID.into_account_truncating();
	pub RewardsPoolAccount: AccountId = REWARDS_POOL_PALLET_ID.into_account_truncating();
	pub FeeMultiplier: Multiplier = Multiplier::from_u32(1);
}

/// Keeps the supply fixed: the balance calls that create or destroy LILY, or move funds
/// without the owner's signature, are not dispatchable.
///
/// Root bypasses every call filter in FRAME, so `sudo` could still reach them: that is why only
/// the dev chain has a sudo key, and why `pallet_supply`'s `try_state` checks the supply.
pub struct BaseCallFilter;
impl Contains<RuntimeCall> for BaseCallFilter {
	fn contains(call: &RuntimeCall) -> bool {
		use pallet_balances::Call as B;
		!matches!(
			call,
			RuntimeCall::Balances(
				B::burn { .. }
					| B::force_transfer { .. }
					| B::force_set_balance { .. }
					| B::force_unreserve { .. }
					| B::force_adjust_total_issuance { .. }
			)
		)
	}
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type BaseCallFilter = BaseCallFilter;
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = Moment;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION_MS / 2 }>;
	type WeightInfo = ();
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = ConstU64<EPOCH_DURATION_IN_SLOTS>;
	type ExpectedBlockTime = ConstU64<SLOT_DURATION_MS>;
	// Epochs change with sessions.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<100>;
	type MaxNominators = ConstU32<0>;
	// No staking, so no offences to report equivocations to (yet).
	type KeyOwnerProof = Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<100>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = Void;
	type EquivocationReportSystem = ();
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	// The validator set is the genesis set; governance changes it later.
	type SessionManager = ();
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ();
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	/// Dust of reaped accounts goes to the treasury rather than being burnt.
	type DustRemoval = ResolveTo<TreasuryAccount, Balances>;
	/// An account must keep a thousandth of a LILY to exist: state costs validators storage.
	type ExistentialDeposit = ConstU128<MILLI_LILY>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Fees and tips go to the treasury: nothing is burnt.
	type OnChargeTransaction = FungibleAdapter<Balances, ResolveTo<TreasuryAccount, Balances>>;
	/// One smallest unit per picosecond of weight: a transfer costs about 0.0002 LILY.
	type WeightToFee = IdentityFee<Balance>;
	/// A micro-LILY per byte.
	type LengthToFee = ConstantMultiplier<Balance, ConstU128<MICRO_LILY>>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

impl pallet_supply::Config for Runtime {
	type Currency = Balances;
	type TotalSupply = ConstU128<TOTAL_SUPPLY>;
}

impl pallet_halo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Root (sudo on dev) until governance lands.
	type IssuerOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxIssuers = ConstU32<64>;
	type MaxCredentials = ConstU32<32>;
	type MaxDelegates = ConstU32<32>;
	type WeightInfo = pallet_halo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A module's record is small; the deposit mostly keeps names from being squatted.
	pub const ModuleDeposit: Balance = LILY;
	/// A version's record is up to ~5 KiB (the largest input schema): 0.05 LILY holds it.
	/// Spec 108 halved it from 0.1 LILY; the registry's v1 migration returned the difference.
	pub const VersionDeposit: Balance = 50 * MILLI_LILY;
	/// The ceiling of the governed royalty cap: all royalties along a lineage never take more
	/// than a fifth of a job's price, whatever governance decides.
	pub const MaxRoyalty: Perbill = Perbill::from_percent(20);
}

impl pallet_registry::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Identity = Identity;
	/// Manifest keys are sr25519 keys; their accounts are the chain's ordinary accounts.
	type ManifestSigner = polkadot_sdk::sp_runtime::MultiSigner;
	type ModuleDeposit = ModuleDeposit;
	type VersionDeposit = VersionDeposit;
	type MaxVersions = ConstU32<64>;
	/// Eight ancestors: settlement walks at most nine owners.
	type MaxLineageDepth = ConstU32<8>;
	type MaxRoyalty = MaxRoyalty;
	type RoyaltyCap = dynamic_params::protocol::RoyaltyCap;
	/// One day: longer work is split into several jobs.
	type MaxTimeoutSecs = ConstU32<{ 24 * 3_600 }>;
	type WeightInfo = pallet_registry::weights::SubstrateWeight<Runtime>;
}

/// Every tunable of the protocol, in one place: read by the pallets through `Get`, changed by
/// `Parameters::set_parameter` from [`ParametersAdmin`] (a `parameters` referendum). Bounds the
/// store cannot express are applied where each value is read (`lilypad_primitives::params`).
#[dynamic_params(RuntimeParameters, pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod protocol {
		use super::*;

		/// Collateral ratio `rho`: a match locks `rho * price` of the provider's bond. Never
		/// below 2.5 where used.
		#[codec(index = 0)]
		pub static CollateralRatio: FixedU128 = FixedU128::from_rational(5, 2);
		/// The solver's fee, as a share of the job's price.
		#[codec(index = 1)]
		pub static SolverFee: Perbill = Perbill::from_percent(2);
		/// The protocol's fee, as a share of the job's price.
		#[codec(index = 2)]
		pub static ProtocolFee: Perbill = Perbill::from_percent(3);
		/// The share of the protocol fee that goes to the rewards pool; the rest goes to the
		/// treasury.
		#[codec(index = 3)]
		pub static ProtocolFeeToRewards: Perbill = Perbill::from_percent(50);
		/// All royalties of one job together, as a share of its price (ceiling: 20 %).
		#[codec(index = 4)]
		pub static RoyaltyCap: Perbill = Perbill::from_percent(20);
		/// Blocks after a result during which it can be challenged or sampled.
		#[codec(index = 5)]
		pub static ChallengeWindow: BlockNumber = 10 * lilypad_primitives::MINUTES;
		/// Blocks a submitted job waits for a match before it is refunded.
		#[codec(index = 6)]
		pub static MatchTimeout: BlockNumber = 10 * lilypad_primitives::MINUTES;
		/// How often results of `Deterministic` modules are re-run by a mediator (`Sampled`
		/// modules set their own rate).
		#[codec(index = 7)]
		pub static DefaultSamplingRate: Perbill = Perbill::from_percent(5);
		/// Blocks a provider may stay silent before it is marked away (at least 2).
		#[codec(index = 8)]
		pub static HeartbeatPeriod: BlockNumber = 5 * lilypad_primitives::MINUTES;
		/// Blocks between unbonding and withdrawing (at least 2).
		#[codec(index = 9)]
		pub static UnbondingDelay: BlockNumber = lilypad_primitives::DAYS;
		/// Taken from a solver's stake for each invalid match it proposes.
		#[codec(index = 10)]
		pub static InvalidMatchPenalty: Balance = 10 * LILY;
		/// Blocks a slash waits for an appeal before it applies.
		#[codec(index = 11)]
		pub static AppealWindow: BlockNumber = lilypad_primitives::DAYS;
		/// What a job creator pays to challenge a result; refunded when it is right.
		#[codec(index = 12)]
		pub static ChallengeFee: Balance = LILY;
		/// How many failures one slash counts as in reputation (`k`).
		#[codec(index = 13)]
		pub static SlashFailureWeight: u32 = 5;
		/// Reputation decay per reward epoch (`lambda`).
		#[codec(index = 14)]
		pub static ReputationDecay: Perbill = Perbill::from_percent(98);
		/// Blocks per reward epoch.
		#[codec(index = 15)]
		pub static RewardEpoch: BlockNumber = lilypad_primitives::HOURS;
		/// Reward value exponents of a provider: reputation (`a1`).
		#[codec(index = 16)]
		pub static RewardReputationExponent: FixedU128 = FixedU128::one();
		/// ... fees earned (`a2`).
		#[codec(index = 17)]
		pub static RewardFeesExponent: FixedU128 = FixedU128::one();
		/// ... collateral (`a3`).
		#[codec(index = 18)]
		pub static RewardCollateralExponent: FixedU128 = FixedU128::one();
		/// Solver ranking exponents: stake (`a`) ...
		#[codec(index = 19)]
		pub static RankingStakeExponent: FixedU128 = FixedU128::one();
		/// ... and reputation (`b`).
		#[codec(index = 20)]
		pub static RankingReputationExponent: FixedU128 = FixedU128::one();
		/// Blocks a provider has beyond a module's timeout to fetch it, run it and report.
		#[codec(index = 21)]
		pub static ExecutionGrace: BlockNumber = 5 * lilypad_primitives::MINUTES;
		/// Locked from a drawn mediator's stake until it answers; taken if it does not.
		#[codec(index = 22)]
		pub static MediatorPenalty: Balance = 10 * LILY;
		/// What providers share per reward epoch, from the rewards pool (`R_k`). With the
		/// solvers' and mediators' budgets, 3,000 LILY an hour: the genesis pool alone lasts
		/// over eleven years.
		#[codec(index = 23)]
		pub static ProviderRewardBudget: Balance = 2_000 * LILY;
		/// ... solvers.
		#[codec(index = 24)]
		pub static SolverRewardBudget: Balance = 500 * LILY;
		/// ... mediators.
		#[codec(index = 25)]
		pub static MediatorRewardBudget: Balance = 500 * LILY;
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl Default for RuntimeParameters {
	fn default() -> Self {
		RuntimeParameters::Protocol(dynamic_params::protocol::Parameters::CollateralRatio(
			dynamic_params::protocol::CollateralRatio,
			Some(FixedU128::from_rational(3, 1)),
		))
	}
}

/// Who may change protocol parameters: a `parameters` referendum, or Root (a `root`
/// referendum; sudo on the dev chain).
pub type ParametersAdmin = AsEnsureOriginWithArg<
	EitherOf<frame_system::EnsureRoot<AccountId>, crate::governance::origins::ParameterAdmin>,
>;

/// Who may cancel a pending slash or decide a mediation: a `slash_appeals` referendum, or Root.
pub type SlashAppealOrigin =
	EitherOf<frame_system::EnsureRoot<AccountId>, crate::governance::origins::SlashAppeals>;

impl pallet_parameters::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeParameters = RuntimeParameters;
	type AdminOrigin = ParametersAdmin;
	/// Upstream's measured weights (the pallet exports them only as `()`).
	type WeightInfo = ();
}

impl pallet_providers::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Identity = Identity;
	type HeartbeatPeriod = dynamic_params::protocol::HeartbeatPeriod;
	type UnbondingDelay = dynamic_params::protocol::UnbondingDelay;
	type MaxUnlocking = ConstU32<16>;
	/// A heartbeat check costs a read and at most a write: 256 fit easily in a block.
	type MaxChecksPerBlock = ConstU32<256>;
	/// A draw reads every mediator's bond: 64 reads, well inside a block.
	type MaxMediators = ConstU32<64>;
	type OnBondChanged = Rewards;
	type WeightInfo = pallet_providers::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A job record is up to ~5 KiB (4 KiB of inline inputs, the result manifest) and lives a
	/// day after it settles: 0.005 LILY holds it. Spec 108 halved it from 0.01 LILY; the jobs
	/// pallet's v1 migration returned the difference on the jobs then in storage.
	pub const JobDeposit: Balance = 5 * MILLI_LILY;
	/// A finished job stays readable for a day (clients poll it), then its deposit returns.
	pub const JobRetention: BlockNumber = lilypad_primitives::DAYS;
	/// A drawn mediator has the job's own time to run it plus an hour to answer; then another
	/// is drawn.
	pub const MediationTimeout: BlockNumber = lilypad_primitives::HOURS;
}

impl pallet_jobs::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = Registry;
	type Providers = Providers;
	type Identity = Identity;
	/// Result keys are sr25519 keys; their accounts are the chain's ordinary accounts.
	type ResultSigner = polkadot_sdk::sp_runtime::MultiSigner;
	/// A `slash_appeals` referendum (or Root) may override a mediator.
	type MediationOrigin = SlashAppealOrigin;
	/// The parent block's VRF output, known since the parent block: fresh every block
	/// (every slot has a VRF, primary or secondary).
	type Randomness = pallet_babe::ParentBlockRandomness<Runtime>;
	type DeterministicSamplingRate = dynamic_params::protocol::DefaultSamplingRate;
	type MediatorPenalty = dynamic_params::protocol::MediatorPenalty;
	/// A `slash_appeals` referendum (or Root) may cancel a slash within its appeal window.
	type SlashCancelOrigin = SlashAppealOrigin;
	type Treasury = TreasuryAccount;
	type RewardsPool = RewardsPoolAccount;
	type SolverFee = dynamic_params::protocol::SolverFee;
	type ProtocolFee = dynamic_params::protocol::ProtocolFee;
	type ProtocolFeeToRewards = dynamic_params::protocol::ProtocolFeeToRewards;
	type CollateralRatio = dynamic_params::protocol::CollateralRatio;
	type MatchTimeout = dynamic_params::protocol::MatchTimeout;
	type ExecutionGrace = dynamic_params::protocol::ExecutionGrace;
	type ChallengeWindow = dynamic_params::protocol::ChallengeWindow;
	type AppealWindow = dynamic_params::protocol::AppealWindow;
	type InvalidMatchPenalty = dynamic_params::protocol::InvalidMatchPenalty;
	type ChallengeFee = dynamic_params::protocol::ChallengeFee;
	type JobDeposit = JobDeposit;
	type Retention = JobRetention;
	type MediationTimeout = MediationTimeout;
	/// 4 KiB inline; larger inputs go by digest.
	type MaxInlineInput = ConstU32<4_096>;
	/// A solver round's worth of pairs per call.
	type MaxBatch = ConstU32<64>;
	/// A step costs at most one settlement, 1.2 ms at the deepest lineage (BENCHMARKS.md):
	/// 64 of them take under a sixth of a block's 0.5 s.
	type MaxDuePerBlock = ConstU32<64>;
	type SolverKey = pallet_jobs::solver::crypto::SolverKey;
	type RankingStakeExponent = dynamic_params::protocol::RankingStakeExponent;
	type RankingReputationExponent = dynamic_params::protocol::RankingReputationExponent;
	type Rewards = Rewards;
	type WeightInfo = pallet_jobs::weights::SubstrateWeight<Runtime>;
}

impl pallet_rewards::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RewardsPool = RewardsPoolAccount;
	type Stake = Providers;
	type SlashFailureWeight = dynamic_params::protocol::SlashFailureWeight;
	type ReputationDecay = dynamic_params::protocol::ReputationDecay;
	type EpochLength = dynamic_params::protocol::RewardEpoch;
	type ReputationExponent = dynamic_params::protocol::RewardReputationExponent;
	type FeesExponent = dynamic_params::protocol::RewardFeesExponent;
	type CollateralExponent = dynamic_params::protocol::RewardCollateralExponent;
	type ProviderBudget = dynamic_params::protocol::ProviderRewardBudget;
	type SolverBudget = dynamic_params::protocol::SolverRewardBudget;
	type MediatorBudget = dynamic_params::protocol::MediatorRewardBudget;
	/// Fees and stake counted in LILY keep values well inside fixed point's range.
	type ValueUnit = ConstU128<LILY>;
	/// A visit costs at most ~0.15 ms (BENCHMARKS.md): 256 take under a tenth of a block, and
	/// a thousand actors close in eight blocks.
	type MaxActorsPerBlock = ConstU32<256>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}

impl frame_system::offchain::SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// How offchain workers (the solver) sign: the same extensions as any wallet's transaction,
/// no tip, mortal for [`pallet_jobs::solver::TX_LIFETIME`] blocks.
impl<C> frame_system::offchain::CreateSignedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		K: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: RuntimeCall,
		public: Self::Public,
		account: AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		// Anchored at the parent block, whose hash the era check can look up.
		let birth = frame_system::Pallet::<Runtime>::block_number().saturating_sub(1);
		let era = generic::Era::mortal(pallet_jobs::solver::TX_LIFETIME.into(), birth.into());
		let extensions: TxExtension = (
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(era),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_system::WeightReclaim::<Runtime>::new(),
		);
		let payload = SignedPayload::new(call, extensions).ok()?;
		let signature = codec::Encode::using_encoded(&payload, |bytes| K::sign(bytes, public))?;
		let (call, extensions, _) = payload.deconstruct();
		Some(UncheckedExtrinsic::new_signed(call, Address::Id(account), signature, extensions))
	}
}
