//! A runtime with balances and the rewards pallet, for unit tests. Bonds are a table the tests
//! set ([`set_bond`]), reported to the pallet as the providers pallet would.
use crate::{self as pallet_rewards, BondKind, OnBondChanged, StakeOf};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU32, Hooks},
	},
	frame_system, pallet_balances,
	sp_runtime::{BuildStorage, FixedU128, Perbill},
};
use std::{cell::RefCell, collections::BTreeMap};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

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
	pub type Rewards = pallet_rewards;
}

use polkadot_sdk::frame_support;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ExistentialDeposit;
}

pub const POOL: AccountId = 100;
pub const UNIT: Balance = 1_000;
pub const MAX_ACTORS_PER_BLOCK: u32 = 3;

parameter_types! {
	pub const ExistentialDeposit: Balance = 10;
	pub const RewardsPool: AccountId = POOL;
	/// Governed in the runtime; tests change them with `set`.
	pub static SlashFailureWeight: u32 = 5;
	pub static ReputationDecay: Perbill = Perbill::from_percent(98);
	pub static EpochLength: u32 = 100;
	pub static ReputationExponent: FixedU128 = FixedU128::from_u32(1);
	pub static FeesExponent: FixedU128 = FixedU128::from_u32(1);
	pub static CollateralExponent: FixedU128 = FixedU128::from_u32(1);
	pub static ProviderBudget: Balance = 10_000;
	pub static SolverBudget: Balance = 3_000;
	pub static MediatorBudget: Balance = 1_000;
	pub const ValueUnit: Balance = UNIT;
}

thread_local! {
	static BONDS: RefCell<BTreeMap<(AccountId, BondKind), Balance>> = const { RefCell::new(BTreeMap::new()) };
}

/// Stands in for the providers pallet's bonds.
pub struct MockStake;
impl StakeOf<AccountId, Balance> for MockStake {
	fn bonded(who: &AccountId, kind: BondKind) -> Balance {
		BONDS.with(|b| b.borrow().get(&(*who, kind)).copied().unwrap_or_default())
	}
}

/// Sets `who`'s bond of `kind` and reports it, as the providers pallet does.
pub fn set_bond(who: AccountId, kind: BondKind, bonded: Balance) {
	BONDS.with(|b| b.borrow_mut().insert((who, kind), bonded));
	<Rewards as OnBondChanged<AccountId, Balance>>::bond_changed(&who, kind, bonded);
}

/// Sets a bond that existed before the pallet saw it (not reported).
pub fn set_bond_unreported(who: AccountId, kind: BondKind, bonded: Balance) {
	BONDS.with(|b| b.borrow_mut().insert((who, kind), bonded));
}

impl pallet_rewards::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RewardsPool = RewardsPool;
	type Stake = MockStake;
	type SlashFailureWeight = SlashFailureWeight;
	type ReputationDecay = ReputationDecay;
	type EpochLength = EpochLength;
	type ReputationExponent = ReputationExponent;
	type FeesExponent = FeesExponent;
	type CollateralExponent = CollateralExponent;
	type ProviderBudget = ProviderBudget;
	type SolverBudget = SolverBudget;
	type MediatorBudget = MediatorBudget;
	type ValueUnit = ValueUnit;
	type MaxActorsPerBlock = ConstU32<MAX_ACTORS_PER_BLOCK>;
	type WeightInfo = ();
}

pub const POOL_FUNDS: Balance = 1_000_000;
pub const ENDOWMENT: Balance = 1_000;

pub fn new_test_ext() -> polkadot_sdk::sp_io::TestExternalities {
	BONDS.with(|b| b.borrow_mut().clear());
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: (1..=20).map(|n| (n, ENDOWMENT)).chain([(POOL, POOL_FUNDS)]).collect(),
			..Default::default()
		},
		..Default::default()
	}
	.build_storage()
	.unwrap();
	let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Advances to block `n`, running the pallet's `on_initialize` at each block and checking its
/// invariants after it.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Rewards::on_initialize(next);
		Rewards::do_try_state().expect("invariants hold");
	}
}

/// Runs blocks until no epoch is being closed.
pub fn run_until_closed() {
	run_to(System::block_number() + 1);
	while crate::Closing::<Test>::get().is_some() {
		run_to(System::block_number() + 1);
	}
}
