//! LILY is a fixed-supply token: genesis allocates exactly the declared supply, fees, tips and
//! dust land in the treasury, nothing burns, and `pallet_supply`'s invariants hold after every
//! block (and fail on a deliberate imbalance).
//!
//! Blocks are built with `Executive` from the `development` preset, with a BABE pre-digest and
//! the timestamp inherent, and transactions are signed extrinsics that pay real fees.
use codec::Encode;
mod common;
use common::*;
use lilypad_runtime::{
	configs::{RewardsPoolAccount, TreasuryAccount},
	genesis_config_presets, AccountId, Balance, Balances, Executive, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeOrigin, SignedPayload, Supply, System, TxExtension, UncheckedExtrinsic,
	LILY, MILLI_LILY, SLOT_DURATION_MS, TOTAL_SUPPLY,
};
use polkadot_sdk::{
	frame_support::{assert_err, assert_ok, traits::fungible::Inspect},
	frame_system, pallet_babe, pallet_balances, pallet_sudo, pallet_transaction_payment,
	pallet_utility,
	sp_keyring::Sr25519Keyring,
	sp_runtime::{
		generic::Era, traits::Dispatchable, DispatchError, MultiAddress, MultiSignature,
		TryRuntimeError,
	},
};

/// A signed extrinsic from `who` carrying `call` and paying `tip`.
fn signed(who: Sr25519Keyring, call: RuntimeCall, tip: Balance) -> UncheckedExtrinsic {
	let account = who.to_account_id();
	let nonce = System::account_nonce(&account);
	let extension: TxExtension = (
		frame_system::AuthorizeCall::new(),
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(tip),
		frame_system::WeightReclaim::new(),
	);
	let payload = SignedPayload::new(call.clone(), extension.clone()).expect("payload builds");
	let signature = payload.using_encoded(|bytes| who.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(account),
		MultiSignature::Sr25519(signature),
		extension,
	)
}

fn balance(who: &AccountId) -> Balance {
	Balances::total_balance(who)
}

fn treasury() -> AccountId {
	TreasuryAccount::get()
}

/// The fee and tip of the last `TransactionFeePaid` event.
fn last_fee_paid() -> (AccountId, Balance, Balance) {
	System::events()
		.into_iter()
		.rev()
		.find_map(|r| match r.event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
			) => Some((who, actual_fee, tip)),
			_ => None,
		})
		.expect("a fee was paid")
}

fn transfer(to: AccountId, value: Balance) -> RuntimeCall {
	RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive { dest: to.into(), value })
}

#[test]
fn genesis_issuance_equals_the_declared_supply() {
	for preset in [genesis_config_presets::development(), genesis_config_presets::local_testnet()] {
		genesis(preset).execute_with(|| {
			assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
			assert_eq!(balance(&RewardsPoolAccount::get()), TOTAL_SUPPLY / 100 * 30);
			assert!(balance(&treasury()) >= TOTAL_SUPPLY / 100 * 20);
			assert_ok!(Supply::do_try_state());
		});
	}
}

#[test]
fn allocations_add_up_for_any_number_of_accounts() {
	for n in [0usize, 1, 3, 7, 12] {
		let accounts: Vec<AccountId> = (0..n).map(|i| AccountId::new([i as u8 + 1; 32])).collect();
		let total: Balance =
			genesis_config_presets::allocations(&accounts).iter().map(|(_, b)| b).sum();
		assert_eq!(total, TOTAL_SUPPLY, "{n} endowed accounts");
	}
}

#[test]
fn fees_and_tips_land_in_the_treasury() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let (alice0, bob0, treasury0) = (balance(&alice), balance(&bob), balance(&treasury()));
		let tip = 3 * MILLI_LILY;

		in_block(&mut head, || {
			let xt = signed(Sr25519Keyring::Alice, transfer(bob.clone(), 10 * LILY), tip);
			assert_ok!(Executive::apply_extrinsic(xt).expect("valid transaction"));
		});

		let (payer, fee, paid_tip) = last_fee_paid();
		assert_eq!(payer, alice);
		assert_eq!(paid_tip, tip);
		assert!(fee > tip, "the fee includes the tip and a base fee");
		assert_eq!(balance(&bob), bob0 + 10 * LILY);
		assert_eq!(balance(&alice), alice0 - 10 * LILY - fee);
		assert_eq!(balance(&treasury()), treasury0 + fee, "the whole fee, tip included");
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn dust_of_a_reaped_account_lands_in_the_treasury() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		let one = Sr25519Keyring::One.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let dust = MILLI_LILY / 2; // below the existential deposit

		in_block(&mut head, || {
			assert_ok!(Balances::transfer_allow_death(
				RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
				one.clone().into(),
				LILY,
			));
		});
		let treasury0 = balance(&treasury());
		in_block(&mut head, || {
			assert_ok!(Balances::transfer_allow_death(
				RuntimeOrigin::signed(one.clone()),
				bob.clone().into(),
				LILY - dust,
			));
		});

		assert!(!System::account_exists(&one), "the account was reaped");
		assert_eq!(balance(&treasury()), treasury0 + dust);
		System::assert_has_event(RuntimeEvent::Balances(pallet_balances::Event::DustLost {
			account: one,
			amount: dust,
		}));
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn issuance_is_unchanged_after_many_transfers() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		let keys = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie];
		for round in 0..5u128 {
			in_block(&mut head, || {
				for (i, from) in keys.iter().enumerate() {
					let to = keys[(i + 1) % keys.len()].to_account_id();
					let xt = signed(*from, transfer(to, (round + 1) * LILY), round * MILLI_LILY);
					assert_ok!(Executive::apply_extrinsic(xt).expect("valid transaction"));
				}
			});
			assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
		}
		assert_eq!(head.number, 5);
	});
}

#[test]
fn burn_and_force_calls_are_refused() {
	dev_chain().execute_with(|| {
		let mut head = genesis_header();
		let alice = Sr25519Keyring::Alice.to_account_id();
		let forbidden = [
			pallet_balances::Call::burn { value: LILY, keep_alive: false },
			pallet_balances::Call::force_set_balance { who: alice.clone().into(), new_free: 1 },
			pallet_balances::Call::force_adjust_total_issuance {
				direction: pallet_balances::AdjustmentDirection::Increase,
				delta: LILY,
			},
		];
		for call in forbidden {
			let call = RuntimeCall::Balances(call);
			// Directly, and hidden in a batch.
			assert_err!(
				call.clone().dispatch(RuntimeOrigin::signed(alice.clone())),
				frame_system::Error::<Runtime>::CallFiltered
			);
			in_block(&mut head, || {
				let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all {
					calls: vec![call.clone()],
				});
				let outcome = Executive::apply_extrinsic(signed(Sr25519Keyring::Alice, batch, 0))
					.expect("valid transaction");
				assert!(outcome.is_err(), "a filtered call inside a batch fails");
			});
			assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
		}
	});
}

#[test]
fn try_state_fails_on_a_deliberate_imbalance() {
	dev_chain().execute_with(|| {
		assert_ok!(Supply::do_try_state());
		// Minting behind the pallets' backs: issuance no longer matches the supply.
		let imbalance =
			<Balances as polkadot_sdk::frame_support::traits::Currency<AccountId>>::issue(LILY);
		assert_eq!(
			Supply::do_try_state(),
			Err(TryRuntimeError::Other("total issuance differs from the fixed supply"))
		);
		drop(imbalance);
		assert_ok!(Supply::do_try_state());
	});
}

#[test]
fn root_bypasses_the_filter_and_try_state_catches_it() {
	// FRAME lets Root skip call filters; this is why only the dev chain has a sudo key.
	dev_chain().execute_with(|| {
		let bob = Sr25519Keyring::Bob.to_account_id();
		let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
			call: Box::new(RuntimeCall::Balances(pallet_balances::Call::force_set_balance {
				who: bob.into(),
				new_free: 1,
			})),
		});
		assert_ok!(call.dispatch(RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id())));
		assert!(Supply::do_try_state().is_err());
	});
}

#[test]
fn the_local_chain_has_no_sudo_key() {
	genesis(genesis_config_presets::local_testnet()).execute_with(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
			call: Box::new(RuntimeCall::System(frame_system::Call::remark { remark: vec![] })),
		});
		assert_err!(
			call.dispatch(RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id())),
			DispatchError::from(pallet_sudo::Error::<Runtime>::RequireSudo)
		);
	});
}

#[test]
fn slots_last_two_seconds_and_a_full_block_fits_in_a_quarter_of_one() {
	use polkadot_sdk::frame_support::{
		traits::Get, weights::constants::WEIGHT_REF_TIME_PER_MILLIS,
	};
	assert_eq!(SLOT_DURATION_MS, 2_000);
	assert_eq!(
		<<Runtime as pallet_babe::Config>::ExpectedBlockTime as Get<u64>>::get(),
		SLOT_DURATION_MS
	);
	dev_chain().execute_with(|| assert_eq!(lilypad_runtime::Babe::slot_duration(), 2_000));
	let max_block = lilypad_runtime::configs::RuntimeBlockWeights::get().max_block;
	assert!(max_block.ref_time() <= SLOT_DURATION_MS / 4 * WEIGHT_REF_TIME_PER_MILLIS);
}
