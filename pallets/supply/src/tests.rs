use crate::mock::*;
use polkadot_sdk::{
	frame_support::{
		assert_ok,
		traits::{
			fungible::{Balanced, Inspect, Mutate},
			tokens::{Fortitude, Precision, Preservation},
		},
	},
	sp_runtime::TryRuntimeError,
};

#[test]
fn genesis_allocates_exactly_the_supply() {
	new_test_ext().execute_with(|| {
		assert_eq!(Balances::total_issuance(), SUPPLY);
		assert_ok!(Supply::do_try_state());
	});
}

#[test]
#[should_panic(expected = "genesis allocations add up to 999, but the fixed supply is 1000")]
fn genesis_refuses_allocations_that_miss_the_supply() {
	genesis(vec![(1, 600), (2, 399)]);
}

#[test]
fn an_empty_genesis_builds_but_fails_try_state() {
	let mut ext: polkadot_sdk::sp_io::TestExternalities = genesis(vec![]).into();
	ext.execute_with(|| {
		assert_eq!(Balances::total_issuance(), 0);
		assert!(Supply::do_try_state().is_err());
	});
}

#[test]
fn transfers_keep_the_invariants() {
	new_test_ext().execute_with(|| {
		assert_ok!(<Balances as Mutate<_>>::transfer(&1, &4, 250, Preservation::Expendable));
		assert_ok!(<Balances as Mutate<_>>::transfer(&3, &1, 100, Preservation::Expendable));
		assert_eq!(Balances::total_balance(&4), 250);
		assert_ok!(Supply::do_try_state());
	});
}

#[test]
fn burning_breaks_the_issuance_invariant() {
	new_test_ext().execute_with(|| {
		assert_ok!(<Balances as Mutate<_>>::burn_from(
			&1,
			10,
			Preservation::Expendable,
			Precision::Exact,
			Fortitude::Polite
		));
		assert_eq!(
			Supply::do_try_state(),
			Err(TryRuntimeError::Other("total issuance differs from the fixed supply"))
		);
	});
}

#[test]
fn a_dropped_credit_breaks_the_issuance_invariant() {
	new_test_ext().execute_with(|| {
		// Withdrawing makes a credit; dropping it instead of resolving it burns the funds.
		let credit = <Balances as Balanced<_>>::withdraw(
			&2,
			5,
			Precision::Exact,
			Preservation::Expendable,
			Fortitude::Polite,
		)
		.unwrap();
		drop(credit);
		assert!(Supply::do_try_state().is_err());
	});
}

#[test]
fn an_account_balance_out_of_step_with_issuance_is_caught() {
	new_test_ext().execute_with(|| {
		// Writing an account's data directly (as a buggy pallet could) leaves issuance alone.
		polkadot_sdk::frame_system::Account::<Test>::mutate(3, |a| a.data.free += 7);
		assert_eq!(
			Supply::do_try_state(),
			Err(TryRuntimeError::Other("account balances do not add up to total issuance"))
		);
	});
}
