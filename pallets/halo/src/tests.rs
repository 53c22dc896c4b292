//! One test per rule of Halo.
use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok},
	sp_runtime::DispatchError,
};

fn cred(name: &str) -> CredentialName {
	name.as_bytes().to_vec().try_into().unwrap()
}

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

/// Runs `f` and then checks every invariant of the pallet.
fn test(f: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		f();
		Halo::do_try_state().expect("invariants hold");
	});
}

#[test]
fn roles_are_registered_explicitly_and_independently() {
	test(|| {
		assert!(!Halo::has_role(&1, Role::Solver));
		assert_ok!(Halo::register_role(signed(1), Role::Solver));
		System::assert_last_event(Event::RoleRegistered { who: 1, role: Role::Solver }.into());
		assert_ok!(Halo::register_role(signed(1), Role::Mediator));
		assert!(Halo::has_role(&1, Role::Solver) && Halo::has_role(&1, Role::Mediator));
		assert!(!Halo::has_role(&1, Role::JobCreator) && !Halo::has_role(&2, Role::Solver));
	});
}

#[test]
fn a_role_cannot_be_registered_twice() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::ModuleProvider));
		assert_noop!(
			Halo::register_role(signed(1), Role::ModuleProvider),
			Error::<Test>::RoleAlreadyRegistered
		);
	});
}

#[test]
fn deregistering_removes_only_that_role_and_the_last_one_clears_storage() {
	test(|| {
		assert_ok!(Halo::register_role(signed(1), Role::Solver));
		assert_ok!(Halo::register_role(signed(1), Role::Mediator));
		assert_ok!(Halo::deregister_role(signed(1), Role::Solver));
		System::assert_last_event(Event::RoleDeregistered { who: 1, role: Role::Solver }.into());
		assert!(!Halo::has_role(&1, Role::Solver) && Halo::has_role(&1, Role::Mediator));
		assert_ok!(Halo::deregister_role(signed(1), Role::Mediator));
		assert!(!Roles::<Test>::contains_key(1));
	});
}

#[test]
fn deregistering_a_role_not_held_fails() {
	test(|| {
		assert_noop!(
			Halo::deregister_role(signed(1), Role::Solver),
			Error::<Test>::RoleNotRegistered
		);
	});
}

#[test]
fn only_the_issuer_origin_adds_and_removes_issuers() {
	test(|| {
		assert_noop!(Halo::add_issuer(signed(1), 9), DispatchError::BadOrigin);
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		System::assert_last_event(Event::IssuerAdded { issuer: 9 }.into());
		assert_noop!(Halo::remove_issuer(signed(9), 9), DispatchError::BadOrigin);
		assert_ok!(Halo::remove_issuer(RuntimeOrigin::root(), 9));
		System::assert_last_event(Event::IssuerRemoved { issuer: 9 }.into());
		assert_eq!(IssuerCount::<Test>::get(), 0);
	});
}

#[test]
fn an_issuer_is_added_once_and_removed_only_if_present() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_noop!(Halo::add_issuer(RuntimeOrigin::root(), 9), Error::<Test>::AlreadyIssuer);
		assert_noop!(Halo::remove_issuer(RuntimeOrigin::root(), 8), Error::<Test>::NotIssuer);
	});
}

#[test]
fn issuers_are_bounded() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 8));
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_noop!(Halo::add_issuer(RuntimeOrigin::root(), 10), Error::<Test>::TooManyIssuers);
	});
}

#[test]
fn an_issuer_issues_credentials_that_hold_until_expiry() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:acme"), Some(10)));
		System::assert_last_event(
			Event::CredentialIssued {
				issuer: 9,
				subject: 1,
				credential: cred("org:acme"),
				expires_at: Some(10),
			}
			.into(),
		);
		assert!(Halo::has_credential(&1, &cred("org:acme")));
		assert!(!Halo::has_credential(&2, &cred("org:acme")));
		System::set_block_number(9);
		assert!(Halo::has_credential(&1, &cred("org:acme")));
		System::set_block_number(10);
		assert!(!Halo::has_credential(&1, &cred("org:acme")));
	});
}

#[test]
fn reissuing_by_the_same_issuer_updates_the_expiry() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:acme"), Some(5)));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:acme"), None));
		assert_eq!(CredentialCount::<Test>::get(1), 1);
		System::set_block_number(100);
		assert!(Halo::has_credential(&1, &cred("org:acme")));
	});
}

#[test]
fn only_registered_issuers_issue() {
	test(|| {
		assert_noop!(
			Halo::issue_credential(signed(9), 1, cred("org:acme"), None),
			Error::<Test>::NotIssuer
		);
	});
}

#[test]
fn credential_names_must_be_namespaced() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_noop!(
			Halo::issue_credential(signed(9), 1, cred("acme"), None),
			Error::<Test>::InvalidCredentialName
		);
	});
}

#[test]
fn expiry_must_be_in_the_future() {
	test(|| {
		System::set_block_number(5);
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_noop!(
			Halo::issue_credential(signed(9), 1, cred("org:acme"), Some(5)),
			Error::<Test>::ExpiryInPast
		);
	});
}

#[test]
fn another_issuers_credential_cannot_be_overwritten() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 8));
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(8), 1, cred("org:acme"), None));
		assert_noop!(
			Halo::issue_credential(signed(9), 1, cred("org:acme"), Some(3)),
			Error::<Test>::CredentialIssuedByAnother
		);
	});
}

#[test]
fn credentials_per_account_are_bounded() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:a"), None));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:b"), None));
		assert_noop!(
			Halo::issue_credential(signed(9), 1, cred("org:c"), None),
			Error::<Test>::TooManyCredentials
		);
	});
}

#[test]
fn removing_an_issuer_invalidates_what_it_issued() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("compliance:gxp"), None));
		assert_ok!(Halo::remove_issuer(RuntimeOrigin::root(), 9));
		assert!(!Halo::has_credential(&1, &cred("compliance:gxp")));
	});
}

#[test]
fn the_issuer_or_the_holder_revokes_a_credential() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:a"), None));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:b"), None));
		assert_ok!(Halo::revoke_credential(signed(9), 1, cred("org:a")));
		System::assert_last_event(
			Event::CredentialRevoked { subject: 1, credential: cred("org:a"), by: 9 }.into(),
		);
		assert_ok!(Halo::revoke_credential(signed(1), 1, cred("org:b")));
		assert!(
			!Halo::has_credential(&1, &cred("org:a")) && !Halo::has_credential(&1, &cred("org:b"))
		);
		assert!(!CredentialCount::<Test>::contains_key(1));
	});
}

#[test]
fn others_cannot_revoke_a_credential() {
	test(|| {
		assert_ok!(Halo::add_issuer(RuntimeOrigin::root(), 9));
		assert_ok!(Halo::issue_credential(signed(9), 1, cred("org:a"), None));
		assert_noop!(
			Halo::revoke_credential(signed(2), 1, cred("org:a")),
			Error::<Test>::NotCredentialIssuer
		);
	});
}

#[test]
fn revoking_a_missing_credential_fails() {
	test(|| {
		assert_noop!(
			Halo::revoke_credential(signed(1), 1, cred("org:a")),
			Error::<Test>::CredentialNotFound
		);
	});
}

#[test]
fn an_organisation_delegates_to_operators_and_revokes_them() {
	test(|| {
		assert!(!Halo::acts_for(&2, &1));
		assert!(Halo::acts_for(&1, &1));
		assert_ok!(Halo::delegate(signed(1), 2));
		System::assert_last_event(Event::DelegateAdded { org: 1, operator: 2 }.into());
		assert!(Halo::is_delegate(&1, &2) && Halo::acts_for(&2, &1));
		// Delegation is one way.
		assert!(!Halo::acts_for(&1, &2));
		assert_ok!(Halo::revoke_delegation(signed(1), 2));
		System::assert_last_event(Event::DelegateRevoked { org: 1, operator: 2 }.into());
		assert!(!Halo::acts_for(&2, &1));
		assert!(!DelegateCount::<Test>::contains_key(1));
	});
}

#[test]
fn delegating_to_oneself_fails() {
	test(|| {
		assert_noop!(Halo::delegate(signed(1), 1), Error::<Test>::CannotDelegateToSelf);
	});
}

#[test]
fn a_delegate_is_added_once() {
	test(|| {
		assert_ok!(Halo::delegate(signed(1), 2));
		assert_noop!(Halo::delegate(signed(1), 2), Error::<Test>::AlreadyDelegate);
	});
}

#[test]
fn delegates_are_bounded() {
	test(|| {
		assert_ok!(Halo::delegate(signed(1), 2));
		assert_ok!(Halo::delegate(signed(1), 3));
		assert_noop!(Halo::delegate(signed(1), 4), Error::<Test>::TooManyDelegates);
	});
}

#[test]
fn revoking_a_non_delegate_fails() {
	test(|| {
		assert_noop!(Halo::revoke_delegation(signed(1), 2), Error::<Test>::NotDelegate);
	});
}

#[test]
fn try_state_catches_a_count_out_of_step() {
	new_test_ext().execute_with(|| {
		assert_ok!(Halo::delegate(signed(1), 2));
		DelegateCount::<Test>::insert(1, 2);
		assert!(Halo::do_try_state().is_err());
	});
}
