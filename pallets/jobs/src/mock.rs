//! A runtime with balances, Halo, the registry, the providers pallet and the jobs pallet, for
//! unit and property tests: the real pallets around the jobs pallet, not mocks of them.
use crate as pallet_jobs;
use codec::Encode;
use lilypad_primitives::{
	providers::BondKind,
	reputation::Outcome,
	rewards::{OnActivity, ReputationOf},
};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::ConstU32,
		traits::{fungible::Inspect, Hooks},
		weights::Weight,
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_core::{sr25519, Pair},
	sp_keystore::{testing::MemoryKeystore, KeystoreExt},
	sp_runtime::{
		traits::IdentityLookup, AccountId32, BuildStorage, FixedU128, MultiSignature, MultiSigner,
		Perbill,
	},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;
pub type AccountId = AccountId32;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Halo = pallet_halo;
	#[runtime::pallet_index(3)]
	pub type Registry = pallet_registry;
	#[runtime::pallet_index(4)]
	pub type Providers = pallet_providers;
	#[runtime::pallet_index(5)]
	pub type Ophir = pallet_jobs;
}

use polkadot_sdk::frame_support;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

pub const ED: Balance = 1;

parameter_types! {
	pub const ExistentialDeposit: Balance = ED;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ExistentialDeposit;
}

parameter_types! {
	pub const MaxIssuers: u32 = 4;
	pub const MaxCredentials: u32 = 4;
	pub const MaxDelegates: u32 = 4;
}

impl pallet_halo::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type IssuerOrigin = EnsureRoot<AccountId>;
	type MaxIssuers = MaxIssuers;
	type MaxCredentials = MaxCredentials;
	type MaxDelegates = MaxDelegates;
	type WeightInfo = ();
}

parameter_types! {
	pub const ModuleDeposit: Balance = 10;
	pub const VersionDeposit: Balance = 1;
	pub const MaxVersions: u32 = 4;
	pub const MaxLineageDepth: u32 = 2;
	pub const MaxRoyalty: Perbill = Perbill::from_percent(20);
	pub static RoyaltyCap: Perbill = Perbill::from_percent(20);
	pub const MaxTimeoutSecs: u32 = 3_600;
}

impl pallet_registry::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Identity = Halo;
	type ManifestSigner = MultiSigner;
	type ModuleDeposit = ModuleDeposit;
	type VersionDeposit = VersionDeposit;
	type MaxVersions = MaxVersions;
	type MaxLineageDepth = MaxLineageDepth;
	type MaxRoyalty = MaxRoyalty;
	type RoyaltyCap = RoyaltyCap;
	type MaxTimeoutSecs = MaxTimeoutSecs;
	type WeightInfo = ();
}

parameter_types! {
	pub static HeartbeatPeriod: u32 = 1_000;
	pub const UnbondingDelay: u32 = 5;
	pub const MaxUnlocking: u32 = 4;
	pub const MaxChecksPerBlock: u32 = 64;
}

impl pallet_providers::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Identity = Halo;
	type HeartbeatPeriod = HeartbeatPeriod;
	type UnbondingDelay = UnbondingDelay;
	type MaxUnlocking = MaxUnlocking;
	type MaxChecksPerBlock = MaxChecksPerBlock;
	type MaxMediators = ConstU32<8>;
	type OnBondChanged = ();
	type WeightInfo = ();
}

pub const TREASURY: u8 = 200;
pub const REWARDS: u8 = 201;
pub const JOB_DEPOSIT: Balance = 5;
pub const RETENTION: u64 = 20;
pub const MEDIATION_TIMEOUT: u64 = 30;
pub const MAX_DUE: u32 = 4;

parameter_types! {
	pub TreasuryAccount: AccountId = account(TREASURY);
	pub RewardsAccount: AccountId = account(REWARDS);
	/// Governed in the runtime; tests change them with `set`.
	pub static SolverFee: Perbill = Perbill::from_percent(2);
	pub static ProtocolFee: Perbill = Perbill::from_percent(4);
	pub static ProtocolFeeToRewards: Perbill = Perbill::from_percent(50);
	pub static CollateralRatio: FixedU128 = FixedU128::from_rational(5, 2);
	pub static MatchTimeout: u32 = 50;
	pub static ExecutionGrace: u32 = 3;
	pub static ChallengeWindow: u32 = 5;
	pub static AppealWindow: u32 = 10;
	pub static InvalidMatchPenalty: Balance = 7;
	pub static ChallengeFee: Balance = 11;
	/// Migration tests change it with `set`.
	pub static JobStorageDeposit: Balance = JOB_DEPOSIT;
	pub const Retention: u64 = RETENTION;
	pub const MediationTimeout: u64 = MEDIATION_TIMEOUT;
	pub const MaxInlineInput: u32 = 64;
	pub const MaxBatch: u32 = 8;
	pub const MaxDuePerBlock: u32 = MAX_DUE;
	pub static RankingStakeExponent: FixedU128 = FixedU128::from_u32(1);
	pub static RankingReputationExponent: FixedU128 = FixedU128::from_u32(1);
	/// Zero by default, so that tests not about sampling complete without it.
	pub static DeterministicSamplingRate: Perbill = Perbill::zero();
	pub static MediatorPenalty: Balance = 13;
	/// What [`TestRandomness`] mixes in; tests vary it to replay draws.
	pub static RandomSeed: u64 = 0;
	/// Whether the chain has randomness at all (a chain without VRF outputs has none).
	pub static HasRandomness: bool = true;
}

/// BABE's parent-block randomness as the runtime sees it: fresh each block and known since
/// the parent block.
pub struct TestRandomness;

impl polkadot_sdk::frame_support::traits::Randomness<Option<polkadot_sdk::sp_core::H256>, u64>
	for TestRandomness
{
	fn random(subject: &[u8]) -> (Option<polkadot_sdk::sp_core::H256>, u64) {
		let now = System::block_number();
		let random = HasRandomness::get().then(|| {
			polkadot_sdk::sp_core::H256(polkadot_sdk::sp_io::hashing::blake2_256(
				&(subject, RandomSeed::get(), now).encode(),
			))
		});
		(random, now.saturating_sub(1))
	}
}

impl pallet_jobs::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = Registry;
	type Providers = Providers;
	type Identity = Halo;
	type ResultSigner = MultiSigner;
	type MediationOrigin = EnsureRoot<AccountId>;
	type Randomness = TestRandomness;
	type DeterministicSamplingRate = DeterministicSamplingRate;
	type MediatorPenalty = MediatorPenalty;
	type SlashCancelOrigin = EnsureRoot<AccountId>;
	type Treasury = TreasuryAccount;
	type RewardsPool = RewardsAccount;
	type SolverFee = SolverFee;
	type ProtocolFee = ProtocolFee;
	type ProtocolFeeToRewards = ProtocolFeeToRewards;
	type CollateralRatio = CollateralRatio;
	type MatchTimeout = MatchTimeout;
	type ExecutionGrace = ExecutionGrace;
	type ChallengeWindow = ChallengeWindow;
	type AppealWindow = AppealWindow;
	type InvalidMatchPenalty = InvalidMatchPenalty;
	type ChallengeFee = ChallengeFee;
	type JobDeposit = JobStorageDeposit;
	type Retention = Retention;
	type MediationTimeout = MediationTimeout;
	type MaxInlineInput = MaxInlineInput;
	type MaxBatch = MaxBatch;
	type MaxDuePerBlock = MaxDuePerBlock;
	type SolverKey = crate::solver::crypto::SolverKey;
	type RankingStakeExponent = RankingStakeExponent;
	type RankingReputationExponent = RankingReputationExponent;
	type Rewards = RecordedNotes;
	type WeightInfo = ();
}

/// What the solver's offchain worker submits in tests: a signed call with its nonce.
pub type Extrinsic = polkadot_sdk::sp_runtime::generic::UncheckedExtrinsic<
	AccountId,
	RuntimeCall,
	MultiSignature,
	frame_system::CheckNonce<Test>,
>;

impl frame_system::offchain::SigningTypes for Test {
	type Public = MultiSigner;
	type Signature = MultiSignature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateSignedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		K: frame_system::offchain::AppCrypto<MultiSigner, MultiSignature>,
	>(
		call: RuntimeCall,
		public: MultiSigner,
		account: AccountId,
		nonce: <Test as frame_system::Config>::Nonce,
	) -> Option<Extrinsic> {
		let signature = K::sign(&(&call, nonce).encode(), public)?;
		Some(Extrinsic::new_signed(call, account, signature, frame_system::CheckNonce::from(nonce)))
	}
}

pub fn key(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n; 32])
}

pub fn account(n: u8) -> AccountId {
	AccountId::from(key(n).public())
}

/// The cast: a module owner, a job creator, two providers, a solver, and spares.
pub const OWNER: u8 = 1;
pub const CREATOR: u8 = 2;
pub const PROVIDER: u8 = 3;
pub const PROVIDER2: u8 = 4;
pub const SOLVER: u8 = 5;
pub const CREATOR2: u8 = 6;
pub const MEDIATOR: u8 = 7;
pub const MEDIATOR2: u8 = 8;
pub const MEDIATOR3: u8 = 9;
pub const ENDOWMENT: Balance = 100_000;

/// Every endowed account, the treasury and the rewards pool included.
pub fn endowed() -> Vec<u8> {
	vec![
		OWNER, CREATOR, PROVIDER, PROVIDER2, SOLVER, CREATOR2, MEDIATOR, MEDIATOR2, MEDIATOR3,
		TREASURY, REWARDS,
	]
}

thread_local! {
	static NOTES: core::cell::RefCell<Vec<Note>> = const { core::cell::RefCell::new(Vec::new()) };
	static REPUTATIONS: core::cell::RefCell<Vec<(AccountId, Perbill)>> =
		const { core::cell::RefCell::new(Vec::new()) };
}

/// A note to the rewards pallet: who, as what, with which outcome, earning how much.
pub type Note = (BondKind, AccountId, Option<Outcome>, Balance);

/// Stands in for the rewards pallet: records every note; providers rank with the scores
/// [`set_reputation`] gave them, others neutral.
pub struct RecordedNotes;
impl OnActivity<AccountId, Balance> for RecordedNotes {
	fn note(kind: BondKind, who: &AccountId, outcome: Option<Outcome>, earned: Balance) {
		NOTES.with(|n| n.borrow_mut().push((kind, who.clone(), outcome, earned)));
	}
	fn note_weight() -> Weight {
		Weight::from_parts(1_000, 0)
	}
}
impl ReputationOf<AccountId> for RecordedNotes {
	fn reputation(_: BondKind, who: &AccountId) -> Perbill {
		REPUTATIONS
			.with(|r| r.borrow().iter().find(|(a, _)| a == who).map(|(_, s)| *s))
			.unwrap_or(lilypad_primitives::reputation::NEUTRAL)
	}
}

/// The score the solver reads for provider `n`.
pub fn set_reputation(n: u8, score: Perbill) {
	REPUTATIONS.with(|r| r.borrow_mut().push((account(n), score)));
}

/// The notes since the last call, taken.
pub fn take_notes() -> Vec<Note> {
	NOTES.with(|n| core::mem::take(&mut *n.borrow_mut()))
}

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	NOTES.with(|n| n.borrow_mut().clear());
	REPUTATIONS.with(|r| r.borrow_mut().clear());
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: endowed().into_iter().map(|n| (account(n), ENDOWMENT)).collect(),
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// The total issuance at genesis: nothing may create or destroy any of it.
pub fn issuance() -> Balance {
	ENDOWMENT * endowed().len() as Balance
}

/// Checks the jobs pallet's invariants and that the supply is unchanged.
pub fn check_invariants() {
	Ophir::do_try_state().expect("jobs invariants");
	assert_eq!(<Balances as Inspect<AccountId>>::total_issuance(), issuance());
}

/// Advances to block `n`, running the hooks of providers and jobs at each block, and checks
/// the invariants after each.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Providers::on_initialize(next);
		Ophir::on_initialize(next);
		check_invariants();
	}
}
