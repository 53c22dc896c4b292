//! Halo, identities: the roles an account takes on, the credentials issuers vouch for, and the
//! delegation of an organisation's rights to its operators. Other pallets ask through
//! [`IdentityInspect`] and never read Halo's storage themselves.
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{sp_core::ConstU32, sp_runtime::BoundedVec};
use scale_info::TypeInfo;

/// Longest credential name, in bytes.
pub const MAX_CREDENTIAL_LEN: u32 = 64;

/// A credential's name, `namespace:value` (`org:acme`, `compliance:gxp`); see
/// [`is_valid_credential`].
pub type CredentialName = BoundedVec<u8, ConstU32<MAX_CREDENTIAL_LEN>>;

/// What an account does in the network. Registering a role is explicit; the pallets of each
/// role check it (a solver must be registered as [`Role::Solver`] to propose matches).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum Role {
	JobCreator,
	ResourceProvider,
	ModuleProvider,
	Solver,
	Mediator,
}

impl Role {
	/// Every role, in declaration order.
	pub const ALL: [Role; 5] = [
		Role::JobCreator,
		Role::ResourceProvider,
		Role::ModuleProvider,
		Role::Solver,
		Role::Mediator,
	];

	const fn bit(self) -> u8 {
		1 << (self as u8)
	}
}

/// A set of [`Role`]s, one bit each.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct RoleSet(u8);

impl RoleSet {
	pub fn contains(&self, role: Role) -> bool {
		self.0 & role.bit() != 0
	}
	pub fn insert(&mut self, role: Role) {
		self.0 |= role.bit();
	}
	pub fn remove(&mut self, role: Role) {
		self.0 &= !role.bit();
	}
	pub fn is_empty(&self) -> bool {
		self.0 == 0
	}
	/// Whether only known roles' bits are set (a decoded value might carry others).
	pub fn is_well_formed(&self) -> bool {
		self.0 & !Role::ALL.iter().fold(0, |acc, r| acc | r.bit()) == 0
	}
}

/// `namespace:value`, both non-empty, lowercase letters, digits, `-`, `_` and `.`.
pub fn is_valid_credential(name: &[u8]) -> bool {
	let part_ok = |p: &[u8]| {
		!p.is_empty()
			&& p.iter().all(|b| {
				b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
			})
	};
	let mut parts = name.splitn(2, |b| *b == b':');
	match (parts.next(), parts.next()) {
		(Some(ns), Some(value)) => part_ok(ns) && part_ok(value),
		_ => false,
	}
}

/// What other pallets may ask Halo.
pub trait IdentityInspect<AccountId> {
	/// Whether `who` has registered `role`.
	fn has_role(who: &AccountId, role: Role) -> bool;
	/// Whether `who` holds `credential` now: issued by a registered issuer, not revoked, not
	/// expired.
	fn has_credential(who: &AccountId, credential: &CredentialName) -> bool;
	/// Whether `org` has delegated acting rights to `operator`.
	fn is_delegate(org: &AccountId, operator: &AccountId) -> bool;
	/// Whether `who` may act for `org`: it is `org`, or one of its delegates.
	fn acts_for(who: &AccountId, org: &AccountId) -> bool
	where
		AccountId: PartialEq,
	{
		who == org || Self::is_delegate(org, who)
	}

	/// Gives `who` a role, for benchmarks of pallets that check roles.
	#[cfg(feature = "runtime-benchmarks")]
	fn grant_role(who: &AccountId, role: Role);
	/// Makes `operator` a delegate of `org`, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn grant_delegation(org: &AccountId, operator: &AccountId);
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn role_sets_hold_each_role_independently() {
		let mut set = RoleSet::default();
		assert!(set.is_empty());
		set.insert(Role::Solver);
		set.insert(Role::Mediator);
		assert!(set.contains(Role::Solver) && set.contains(Role::Mediator));
		assert!(!set.contains(Role::JobCreator));
		set.remove(Role::Solver);
		assert!(!set.contains(Role::Solver) && set.contains(Role::Mediator));
		assert!(set.is_well_formed());
		assert!(!RoleSet(0x80).is_well_formed());
	}

	#[test]
	fn credential_names_are_namespaced() {
		for good in ["org:acme", "compliance:gxp", "kyc:tier-2", "iso:27001"] {
			assert!(is_valid_credential(good.as_bytes()), "{good}");
		}
		for bad in ["", "acme", ":acme", "org:", "Org:acme", "org:ac me", "org::acme"] {
			assert!(!is_valid_credential(bad.as_bytes()), "{bad}");
		}
	}
}
