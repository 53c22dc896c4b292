//! A runtime with balances, Halo and the registry, for unit tests. Accounts are sr25519 keys,
//! so manifests are signed for real.
use crate as pallet_registry;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_core::{sr25519, Pair},
	sp_keystore::{testing::MemoryKeystore, KeystoreExt},
	sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSigner, Perbill},
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
}

use polkadot_sdk::frame_support;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
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

pub const MODULE_DEPOSIT: Balance = 100;
pub const VERSION_DEPOSIT: Balance = 10;
pub const MAX_VERSIONS: u32 = 4;
pub const MAX_DEPTH: u32 = 2;

parameter_types! {
	pub const ModuleDeposit: Balance = MODULE_DEPOSIT;
	/// Migration tests change it with `set`.
	pub static VersionStorageDeposit: Balance = VERSION_DEPOSIT;
	pub const MaxVersions: u32 = MAX_VERSIONS;
	pub const MaxLineageDepth: u32 = MAX_DEPTH;
	pub const MaxRoyalty: Perbill = Perbill::from_percent(20);
	/// Governed in the runtime; tests change it with `set`.
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
	type VersionDeposit = VersionStorageDeposit;
	type MaxVersions = MaxVersions;
	type MaxLineageDepth = MaxLineageDepth;
	type MaxRoyalty = MaxRoyalty;
	type RoyaltyCap = RoyaltyCap;
	type MaxTimeoutSecs = MaxTimeoutSecs;
	type WeightInfo = ();
}

/// The sr25519 key of test account `n`.
pub fn key(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n; 32])
}

/// Test account `n`: the account of [`key`]`(n)`.
pub fn account(n: u8) -> AccountId {
	AccountId::from(key(n).public())
}

pub const ALICE: u8 = 1;
pub const BOB: u8 = 2;
pub const CHARLIE: u8 = 3;
pub const DAVE: u8 = 4;
pub const ENDOWMENT: Balance = 1_000;

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: [ALICE, BOB, CHARLIE, DAVE].map(|n| (account(n), ENDOWMENT)).to_vec(),
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
