//! # Halo: identities, roles and credentials
//!
//! ## Pallet API
//!
//! See the [`pallet`] module for the [`Config`], the [`Call`]s and the storage; other pallets
//! read Halo through [`IdentityInspect`], which [`Pallet`] implements.
//!
//! ## Overview
//!
//! Everyone in Lilypad acts in a role: job creator, resource provider, module provider, solver
//! or mediator. Taking a role is an explicit act ([`Call::register_role`]) that the pallets of
//! each role check, so that a wallet that only ever buys compute cannot be drawn as a mediator.
//!
//! Enterprises need more than roles. **Issuers** (added by [`Config::IssuerOrigin`]: root now,
//! governance later) vouch for accounts with named **credentials** such as `org:acme` or
//! `compliance:gxp`, optionally until an expiry block; a job may require its provider to hold
//! one. An organisation **delegates** acting rights to operator accounts, so that its staff
//! and its CI publish modules for it without sharing its key.
//!
//! ## Low Level / Implementation Details
//!
//! - A credential is valid while its issuer is registered, it is not revoked and it has not
//!   expired. Removing an issuer therefore invalidates everything it issued in O(1); the
//!   records stay until the issuer (if re-added) or the holder revokes them.
//! - Every per-account collection is bounded and counted ([`CredentialCount`],
//!   [`DelegateCount`]), so a check is one read and `try_state` can prove the counts.
#![cfg_attr(not(feature = "std"), no_std)]

pub use lilypad_primitives::identity::{CredentialName, IdentityInspect, Role, RoleSet};
pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

use polkadot_sdk::{frame_support, frame_system};

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use lilypad_primitives::identity::is_valid_credential;

	/// A credential held by an account.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
	pub struct Credential<AccountId, BlockNumber> {
		/// The issuer that vouched for it; only it may update or revoke it.
		pub issuer: AccountId,
		pub issued_at: BlockNumber,
		/// The first block at which it is no longer valid, if any.
		pub expires_at: Option<BlockNumber>,
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;

		/// Who may add and remove credential issuers.
		type IssuerOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Most registered issuers.
		#[pallet::constant]
		type MaxIssuers: Get<u32>;

		/// Most credentials one account holds.
		#[pallet::constant]
		type MaxCredentials: Get<u32>;

		/// Most delegates one organisation has.
		#[pallet::constant]
		type MaxDelegates: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The roles each account has registered. Accounts without roles have no entry.
	#[pallet::storage]
	pub type Roles<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, RoleSet, ValueQuery>;

	/// Registered credential issuers.
	#[pallet::storage]
	pub type Issuers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	/// Number of entries in [`Issuers`].
	#[pallet::storage]
	pub type IssuerCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Credentials by holder and name.
	#[pallet::storage]
	pub type Credentials<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		CredentialName,
		Credential<T::AccountId, BlockNumberFor<T>>,
		OptionQuery,
	>;

	/// Number of [`Credentials`] each account holds.
	#[pallet::storage]
	pub type CredentialCount<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Delegations: organisation, then operator.
	#[pallet::storage]
	pub type Delegates<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		(),
		OptionQuery,
	>;

	/// Number of [`Delegates`] each organisation has.
	#[pallet::storage]
	pub type DelegateCount<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` took on `role`.
		RoleRegistered { who: T::AccountId, role: Role },
		/// `who` gave up `role`.
		RoleDeregistered { who: T::AccountId, role: Role },
		/// `issuer` may now issue credentials.
		IssuerAdded { issuer: T::AccountId },
		/// `issuer` may no longer issue credentials; those it issued are no longer valid.
		IssuerRemoved { issuer: T::AccountId },
		/// `issuer` vouched for `subject` with `credential` until `expires_at` (if any).
		CredentialIssued {
			issuer: T::AccountId,
			subject: T::AccountId,
			credential: CredentialName,
			expires_at: Option<BlockNumberFor<T>>,
		},
		/// `credential` of `subject` was revoked by `by` (its issuer or its holder).
		CredentialRevoked { subject: T::AccountId, credential: CredentialName, by: T::AccountId },
		/// `org` let `operator` act for it.
		DelegateAdded { org: T::AccountId, operator: T::AccountId },
		/// `org` took back `operator`'s right to act for it.
		DelegateRevoked { org: T::AccountId, operator: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account already has this role.
		RoleAlreadyRegistered,
		/// The account does not have this role.
		RoleNotRegistered,
		/// The account is already an issuer.
		AlreadyIssuer,
		/// Only registered issuers issue credentials; ask governance to add the account.
		NotIssuer,
		/// [`Config::MaxIssuers`] are registered; remove one first.
		TooManyIssuers,
		/// Credential names are `namespace:value` in lowercase letters, digits, `-`, `_`, `.`.
		InvalidCredentialName,
		/// The expiry must be a future block.
		ExpiryInPast,
		/// Another issuer already vouched for this credential; it must revoke it first.
		CredentialIssuedByAnother,
		/// The account holds [`Config::MaxCredentials`] credentials already.
		TooManyCredentials,
		/// The account does not hold this credential.
		CredentialNotFound,
		/// Only the credential's issuer or its holder may revoke it.
		NotCredentialIssuer,
		/// An account always acts for itself; delegate to another account.
		CannotDelegateToSelf,
		/// The operator is already a delegate of this organisation.
		AlreadyDelegate,
		/// The organisation has [`Config::MaxDelegates`] delegates already.
		TooManyDelegates,
		/// The operator is not a delegate of this organisation.
		NotDelegate,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxIssuers::get() > 0, "no issuer could ever be added");
			assert!(T::MaxCredentials::get() > 0, "no credential could ever be held");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Take on `role`.
		///
		/// ## Dispatch Origin
		/// Signed by the account taking the role.
		///
		/// ## Details
		/// Roles are free; the pallets of each role ask for stake or deposits of their own.
		///
		/// ## Errors
		/// - [`Error::RoleAlreadyRegistered`]
		///
		/// ## Events
		/// - [`Event::RoleRegistered`]
		#[pallet::call_index(0)]
		pub fn register_role(origin: OriginFor<T>, role: Role) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Roles::<T>::try_mutate(&who, |roles| {
				ensure!(!roles.contains(role), Error::<T>::RoleAlreadyRegistered);
				roles.insert(role);
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::RoleRegistered { who, role });
			Ok(())
		}

		/// Give up `role`.
		///
		/// ## Dispatch Origin
		/// Signed by the account holding the role.
		///
		/// ## Errors
		/// - [`Error::RoleNotRegistered`]
		///
		/// ## Events
		/// - [`Event::RoleDeregistered`]
		#[pallet::call_index(1)]
		pub fn deregister_role(origin: OriginFor<T>, role: Role) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut roles = Roles::<T>::get(&who);
			ensure!(roles.contains(role), Error::<T>::RoleNotRegistered);
			roles.remove(role);
			if roles.is_empty() {
				Roles::<T>::remove(&who);
			} else {
				Roles::<T>::insert(&who, roles);
			}
			Self::deposit_event(Event::RoleDeregistered { who, role });
			Ok(())
		}

		/// Let `issuer` issue credentials.
		///
		/// ## Dispatch Origin
		/// [`Config::IssuerOrigin`].
		///
		/// ## Errors
		/// - [`Error::AlreadyIssuer`]
		/// - [`Error::TooManyIssuers`]
		///
		/// ## Events
		/// - [`Event::IssuerAdded`]
		#[pallet::call_index(2)]
		pub fn add_issuer(origin: OriginFor<T>, issuer: T::AccountId) -> DispatchResult {
			T::IssuerOrigin::ensure_origin(origin)?;
			ensure!(!Issuers::<T>::contains_key(&issuer), Error::<T>::AlreadyIssuer);
			let count = IssuerCount::<T>::get();
			ensure!(count < T::MaxIssuers::get(), Error::<T>::TooManyIssuers);
			Issuers::<T>::insert(&issuer, ());
			IssuerCount::<T>::put(count + 1);
			Self::deposit_event(Event::IssuerAdded { issuer });
			Ok(())
		}

		/// Stop `issuer` from issuing credentials. What it issued stops being valid at once.
		///
		/// ## Dispatch Origin
		/// [`Config::IssuerOrigin`].
		///
		/// ## Errors
		/// - [`Error::NotIssuer`]
		///
		/// ## Events
		/// - [`Event::IssuerRemoved`]
		#[pallet::call_index(3)]
		pub fn remove_issuer(origin: OriginFor<T>, issuer: T::AccountId) -> DispatchResult {
			T::IssuerOrigin::ensure_origin(origin)?;
			ensure!(Issuers::<T>::take(&issuer).is_some(), Error::<T>::NotIssuer);
			IssuerCount::<T>::mutate(|c| *c = c.saturating_sub(1));
			Self::deposit_event(Event::IssuerRemoved { issuer });
			Ok(())
		}

		/// Vouch for `subject` with `credential`, valid before block `expires_at` if given.
		///
		/// ## Dispatch Origin
		/// Signed by a registered issuer.
		///
		/// ## Details
		/// Issuing a credential the same issuer issued before updates its expiry.
		///
		/// ## Errors
		/// - [`Error::NotIssuer`]
		/// - [`Error::InvalidCredentialName`]
		/// - [`Error::ExpiryInPast`]
		/// - [`Error::CredentialIssuedByAnother`]
		/// - [`Error::TooManyCredentials`]
		///
		/// ## Events
		/// - [`Event::CredentialIssued`]
		#[pallet::call_index(4)]
		pub fn issue_credential(
			origin: OriginFor<T>,
			subject: T::AccountId,
			credential: CredentialName,
			expires_at: Option<BlockNumberFor<T>>,
		) -> DispatchResult {
			let issuer = ensure_signed(origin)?;
			ensure!(Issuers::<T>::contains_key(&issuer), Error::<T>::NotIssuer);
			ensure!(is_valid_credential(&credential), Error::<T>::InvalidCredentialName);
			let now = frame_system::Pallet::<T>::block_number();
			if let Some(expiry) = expires_at {
				ensure!(expiry > now, Error::<T>::ExpiryInPast);
			}
			match Credentials::<T>::get(&subject, &credential) {
				Some(existing) => {
					ensure!(existing.issuer == issuer, Error::<T>::CredentialIssuedByAnother)
				}
				None => {
					let count = CredentialCount::<T>::get(&subject);
					ensure!(count < T::MaxCredentials::get(), Error::<T>::TooManyCredentials);
					CredentialCount::<T>::insert(&subject, count + 1);
				}
			}
			Credentials::<T>::insert(
				&subject,
				&credential,
				Credential { issuer: issuer.clone(), issued_at: now, expires_at },
			);
			Self::deposit_event(Event::CredentialIssued {
				issuer,
				subject,
				credential,
				expires_at,
			});
			Ok(())
		}

		/// Withdraw `credential` from `subject`.
		///
		/// ## Dispatch Origin
		/// Signed by the credential's issuer, or by `subject` itself (to drop it).
		///
		/// ## Errors
		/// - [`Error::CredentialNotFound`]
		/// - [`Error::NotCredentialIssuer`]
		///
		/// ## Events
		/// - [`Event::CredentialRevoked`]
		#[pallet::call_index(5)]
		pub fn revoke_credential(
			origin: OriginFor<T>,
			subject: T::AccountId,
			credential: CredentialName,
		) -> DispatchResult {
			let by = ensure_signed(origin)?;
			let existing = Credentials::<T>::get(&subject, &credential)
				.ok_or(Error::<T>::CredentialNotFound)?;
			ensure!(by == existing.issuer || by == subject, Error::<T>::NotCredentialIssuer);
			Credentials::<T>::remove(&subject, &credential);
			CredentialCount::<T>::mutate_exists(&subject, |c| {
				*c = c.and_then(|c| c.checked_sub(1)).filter(|c| *c > 0)
			});
			Self::deposit_event(Event::CredentialRevoked { subject, credential, by });
			Ok(())
		}

		/// Let `operator` act for the calling organisation (publish its modules, run its jobs).
		///
		/// ## Dispatch Origin
		/// Signed by the organisation.
		///
		/// ## Errors
		/// - [`Error::CannotDelegateToSelf`]
		/// - [`Error::AlreadyDelegate`]
		/// - [`Error::TooManyDelegates`]
		///
		/// ## Events
		/// - [`Event::DelegateAdded`]
		#[pallet::call_index(6)]
		pub fn delegate(origin: OriginFor<T>, operator: T::AccountId) -> DispatchResult {
			let org = ensure_signed(origin)?;
			ensure!(org != operator, Error::<T>::CannotDelegateToSelf);
			ensure!(!Delegates::<T>::contains_key(&org, &operator), Error::<T>::AlreadyDelegate);
			let count = DelegateCount::<T>::get(&org);
			ensure!(count < T::MaxDelegates::get(), Error::<T>::TooManyDelegates);
			Delegates::<T>::insert(&org, &operator, ());
			DelegateCount::<T>::insert(&org, count + 1);
			Self::deposit_event(Event::DelegateAdded { org, operator });
			Ok(())
		}

		/// Take back `operator`'s right to act for the calling organisation.
		///
		/// ## Dispatch Origin
		/// Signed by the organisation.
		///
		/// ## Errors
		/// - [`Error::NotDelegate`]
		///
		/// ## Events
		/// - [`Event::DelegateRevoked`]
		#[pallet::call_index(7)]
		pub fn revoke_delegation(origin: OriginFor<T>, operator: T::AccountId) -> DispatchResult {
			let org = ensure_signed(origin)?;
			ensure!(Delegates::<T>::take(&org, &operator).is_some(), Error::<T>::NotDelegate);
			DelegateCount::<T>::mutate_exists(&org, |c| {
				*c = c.and_then(|c| c.checked_sub(1)).filter(|c| *c > 0)
			});
			Self::deposit_event(Event::DelegateRevoked { org, operator });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Storage agrees with itself: counts match their maps, no empty role sets.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			for (_, roles) in Roles::<T>::iter() {
				ensure!(!roles.is_empty(), "an empty role set is stored");
				ensure!(roles.is_well_formed(), "a role set has unknown bits");
			}
			ensure!(
				Issuers::<T>::iter_keys().count() as u32 == IssuerCount::<T>::get(),
				"IssuerCount disagrees with Issuers"
			);
			let mut credentials = BTreeMap::<T::AccountId, u32>::new();
			for (subject, name, _) in Credentials::<T>::iter() {
				ensure!(is_valid_credential(&name), "a stored credential name is invalid");
				*credentials.entry(subject).or_default() += 1;
			}
			ensure!(
				credentials
					.into_iter()
					.eq(CredentialCount::<T>::iter().collect::<BTreeMap<_, _>>()),
				"CredentialCount disagrees with Credentials"
			);
			let mut delegates = BTreeMap::<T::AccountId, u32>::new();
			for (org, operator, _) in Delegates::<T>::iter() {
				ensure!(org != operator, "an account is its own delegate");
				*delegates.entry(org).or_default() += 1;
			}
			ensure!(
				delegates.into_iter().eq(DelegateCount::<T>::iter().collect::<BTreeMap<_, _>>()),
				"DelegateCount disagrees with Delegates"
			);
			Ok(())
		}
	}
}

extern crate alloc;

impl<T: Config> IdentityInspect<T::AccountId> for Pallet<T> {
	fn has_role(who: &T::AccountId, role: Role) -> bool {
		Roles::<T>::get(who).contains(role)
	}

	fn has_credential(who: &T::AccountId, credential: &CredentialName) -> bool {
		Credentials::<T>::get(who, credential).is_some_and(|c| {
			Issuers::<T>::contains_key(&c.issuer)
				&& c.expires_at.is_none_or(|e| frame_system::Pallet::<T>::block_number() < e)
		})
	}

	fn is_delegate(org: &T::AccountId, operator: &T::AccountId) -> bool {
		Delegates::<T>::contains_key(org, operator)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn grant_role(who: &T::AccountId, role: Role) {
		Roles::<T>::mutate(who, |roles| roles.insert(role));
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn grant_delegation(org: &T::AccountId, operator: &T::AccountId) {
		if !Delegates::<T>::contains_key(org, operator) {
			Delegates::<T>::insert(org, operator, ());
			DelegateCount::<T>::mutate(org, |c| *c += 1);
		}
	}
}
