//! Benchmarks of Halo's calls, each in its most expensive case.
use super::*;
use frame_support::traits::EnsureOrigin;
use frame_system::RawOrigin;
use polkadot_sdk::{frame_benchmarking::v2::*, frame_support};

fn cred(n: u32) -> CredentialName {
	let mut name = b"org:".to_vec();
	name.extend(alloc::format!("{n:060}").bytes());
	name.try_into().expect("64 bytes fit; qed")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_role() {
		let who: T::AccountId = whitelisted_caller();
		Roles::<T>::insert(&who, {
			let mut set = RoleSet::default();
			set.insert(Role::Solver);
			set
		});
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), Role::Mediator);
		assert!(Pallet::<T>::has_role(&who, Role::Mediator));
	}

	#[benchmark]
	fn deregister_role() {
		let who: T::AccountId = whitelisted_caller();
		Pallet::<T>::grant_role(&who, Role::Mediator);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), Role::Mediator);
		assert!(!Pallet::<T>::has_role(&who, Role::Mediator));
	}

	#[benchmark]
	fn add_issuer() -> Result<(), BenchmarkError> {
		let origin =
			T::IssuerOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let issuer: T::AccountId = account("issuer", 0, 0);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, issuer.clone());
		assert!(Issuers::<T>::contains_key(&issuer));
		Ok(())
	}

	#[benchmark]
	fn remove_issuer() -> Result<(), BenchmarkError> {
		let origin =
			T::IssuerOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let issuer: T::AccountId = account("issuer", 0, 0);
		Issuers::<T>::insert(&issuer, ());
		IssuerCount::<T>::put(1);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, issuer.clone());
		assert!(!Issuers::<T>::contains_key(&issuer));
		Ok(())
	}

	#[benchmark]
	fn issue_credential() {
		let issuer: T::AccountId = whitelisted_caller();
		Issuers::<T>::insert(&issuer, ());
		IssuerCount::<T>::put(1);
		let subject: T::AccountId = account("subject", 0, 0);
		// A new credential: the count is read and written too.
		#[extrinsic_call]
		_(RawOrigin::Signed(issuer), subject.clone(), cred(0), Some(1_000u32.into()));
		assert!(Pallet::<T>::has_credential(&subject, &cred(0)));
	}

	#[benchmark]
	fn revoke_credential() {
		let issuer: T::AccountId = whitelisted_caller();
		Issuers::<T>::insert(&issuer, ());
		IssuerCount::<T>::put(1);
		let subject: T::AccountId = account("subject", 0, 0);
		Pallet::<T>::issue_credential(
			RawOrigin::Signed(issuer.clone()).into(),
			subject.clone(),
			cred(0),
			None,
		)
		.expect("a registered issuer issues; qed");
		#[extrinsic_call]
		_(RawOrigin::Signed(issuer), subject.clone(), cred(0));
		assert!(!Pallet::<T>::has_credential(&subject, &cred(0)));
	}

	#[benchmark]
	fn delegate() {
		let org: T::AccountId = whitelisted_caller();
		let operator: T::AccountId = account("operator", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(org.clone()), operator.clone());
		assert!(Pallet::<T>::is_delegate(&org, &operator));
	}

	#[benchmark]
	fn revoke_delegation() {
		let org: T::AccountId = whitelisted_caller();
		let operator: T::AccountId = account("operator", 0, 0);
		Pallet::<T>::grant_delegation(&org, &operator);
		#[extrinsic_call]
		_(RawOrigin::Signed(org.clone()), operator.clone());
		assert!(!Pallet::<T>::is_delegate(&org, &operator));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
