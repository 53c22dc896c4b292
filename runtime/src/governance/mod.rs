//! On-chain governance, from polkadot-sdk's own pallets: proposals are preimages, referenda
//! run on [`tracks`], holders vote with conviction, and the scheduler enacts what passes.
//!
//! What each track may do:
//! - `root`: anything Root may, above all runtime upgrades (`System::authorize_upgrade`,
//!   then anyone calls `apply_authorized_upgrade` with the code). Only the dev chain has a
//!   sudo key besides.
//! - `parameters`: `Parameters::set_parameter` (every protocol parameter).
//! - `slash_appeals`: `Jobs::cancel_slash` within the slash's appeal window, and
//!   `Jobs::resolve_mediation`.
//! - `treasurer`: `Treasury::spend` of LILY already in the treasury (nothing is minted), up to
//!   [`origins::MAX_GRANT`] each.
//!
//! Nothing here destroys LILY: referendum deposits that are slashed go to the treasury.
pub mod origins;
pub mod tracks;

use crate::{
	configs::{RewardsPoolAccount, TreasuryAccount, MAXIMUM_BLOCK_WEIGHT},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System, LILY,
	MICRO_LILY, MILLI_LILY, TREASURY_PALLET_ID,
};
use lilypad_primitives::DAYS;
use polkadot_sdk::{
	frame_support::{
		parameter_types,
		traits::{
			fungible::{self, HoldConsideration},
			tokens::{pay::PayFromAccount, UnityAssetBalanceConversion},
			ConstU32, Currency, EitherOf, EqualPrivilegeOnly, Get, LinearStoragePrice,
			OnUnbalanced,
		},
		weights::Weight,
	},
	frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned},
	pallet_balances, pallet_conviction_voting, pallet_preimage, pallet_referenda, pallet_scheduler,
	pallet_treasury,
	sp_runtime::{traits::IdentityLookup, Perbill, Permill},
};

/// The supply that can vote: the total issuance less the rewards pool and the treasury, which
/// hold half of it and never vote. Referendum support is measured against this; measured
/// against the total issuance, every dev account voting together could not pass a track.
pub struct VotableSupply;
impl Get<Balance> for VotableSupply {
	fn get() -> Balance {
		use fungible::Inspect;
		let held = |who: &AccountId| <Balances as Inspect<AccountId>>::total_balance(who);
		<Balances as Inspect<AccountId>>::total_issuance()
			.saturating_sub(held(&RewardsPoolAccount::get()))
			.saturating_sub(held(&TreasuryAccount::get()))
	}
}

/// Slashed referendum deposits (and any treasury "burn") go to the treasury: the supply is
/// fixed.
pub struct ToTreasury;
impl OnUnbalanced<pallet_balances::NegativeImbalance<Runtime>> for ToTreasury {
	fn on_nonzero_unbalanced(amount: pallet_balances::NegativeImbalance<Runtime>) {
		Balances::resolve_creating(&TreasuryAccount::get(), amount);
	}
}

parameter_types! {
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	pub const PreimageBaseDeposit: Balance = 100 * MILLI_LILY;
	pub const PreimageByteDeposit: Balance = 10 * MICRO_LILY;
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	/// A stored proposal holds 0.1 LILY plus 10 micro-LILY a byte from whoever noted it.
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Enacted calls may fill most of a block, leaving room for the block's own transactions.
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) * MAXIMUM_BLOCK_WEIGHT;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	/// Only referenda (through Root) schedule; there is no anonymous scheduling by accounts.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	pub const SubmissionDeposit: Balance = 10 * LILY;
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
	pub const VoteLockingPeriod: BlockNumber = 7 * DAYS;
}

impl pallet_referenda::Config for Runtime {
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type Scheduler = Scheduler;
	type Currency = Balances;
	/// Any account may propose; the submission deposit keeps spam costly.
	type SubmitOrigin = EnsureSigned<AccountId>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = ToTreasury;
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	/// Referenda check their alarms every block: dev tracks last a few blocks.
	type AlarmInterval = ConstU32<1>;
	type Tracks = tracks::Tracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_conviction_voting::Config for Runtime {
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type Polls = Referenda;
	type MaxTurnout = VotableSupply;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	pub const TreasuryPalletId: polkadot_sdk::frame_support::PalletId = TREASURY_PALLET_ID;
	pub const Burn: Permill = Permill::zero();
	pub const SpendPeriod: BlockNumber = DAYS;
	pub const PayoutPeriod: BlockNumber = 30 * DAYS;
	pub const MaxGrantByRoot: Balance = Balance::MAX;
	pub TreasuryAccountForPay: AccountId = TreasuryAccount::get();
}

impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = SpendPeriod;
	/// Nothing is burnt: idle treasury funds stay in the treasury.
	type Burn = Burn;
	/// The account fees, tips, dust and slashes already go to ([`TreasuryAccount`]).
	type PalletId = TreasuryPalletId;
	type BurnDestination = ToTreasury;
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<64>;
	/// A grant is a `treasurer` referendum (up to `MAX_GRANT`) or a root one.
	type SpendOrigin =
		EitherOf<EnsureRootWithSuccess<AccountId, MaxGrantByRoot>, origins::Treasurer>;
	/// Grants are in LILY only.
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	/// A grant moves LILY out of the treasury's account; it never mints.
	type Paymaster = PayFromAccount<Balances, TreasuryAccountForPay>;
	type BalanceConverter = UnityAssetBalanceConversion;
	/// The beneficiary has a month to claim an approved grant (`Treasury::payout`).
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
	type BlockNumberProvider = System;
}

impl origins::Config for Runtime {}
