//! Resource providers' offers and the bonds of providers, solvers and mediators: the types the
//! providers pallet stores, the solver reads and the agent registers, and the pure checks on
//! them (is an offer well formed, does it cover a module's needs, does it hold a job's models).
use crate::{
	identity::{is_valid_credential, CredentialName},
	registry::{is_valid_slug, Digest, ModuleName, Resources},
};
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{sp_core::ConstU32, sp_runtime::BoundedVec};
use scale_info::TypeInfo;

use alloc::vec::Vec;

/// Most GPUs one offer lists.
pub const MAX_OFFER_GPUS: u32 = 16;
/// Most modules one offer names (in its filter or its price list).
pub const MAX_OFFER_MODULES: u32 = 32;
/// Most credentials one offer claims.
pub const MAX_OFFER_CREDENTIALS: u32 = 8;
/// Longest content-store endpoint URL, in bytes.
pub const MAX_ENDPOINT_LEN: u32 = 256;
/// Longest GPU model name, in bytes.
pub const MAX_GPU_MODEL_LEN: u32 = 32;
/// Most offers one `offers` runtime-API call returns.
pub const MAX_OFFERS_PAGE: u32 = 100;
/// Most model digests one offer lists (see [`Offer::models`]).
pub const MAX_OFFER_MODELS: u32 = 32;

/// One GPU of a provider.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Gpu {
	/// As the driver names it (`NVIDIA H100 80GB HBM3`).
	pub model: BoundedVec<u8, ConstU32<MAX_GPU_MODEL_LEN>>,
	/// Its memory in MiB.
	pub vram_mib: u32,
}

/// What a provider has to run jobs with, for each job at once (see [`Offer::capacity`]).
#[derive(
	Clone,
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
pub struct OfferResources {
	pub cpu_millicores: u32,
	pub ram_mib: u32,
	pub gpus: BoundedVec<Gpu, ConstU32<MAX_OFFER_GPUS>>,
	pub disk_mib: u32,
}

/// Which modules a provider runs.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum ModuleFilter {
	/// Any module whose resources the offer covers.
	All,
	/// Only these.
	Only(BoundedVec<ModuleName, ConstU32<MAX_OFFER_MODULES>>),
}

/// A resource provider's standing offer.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Offer<Balance> {
	pub resources: OfferResources,
	pub modules: ModuleFilter,
	/// Asking price of one job of a module not in `prices`.
	pub default_price: Balance,
	/// Asking prices of particular modules.
	pub prices: BoundedVec<(ModuleName, Balance), ConstU32<MAX_OFFER_MODULES>>,
	/// Jobs it runs at once.
	pub capacity: u32,
	/// Credentials it holds (checked with Halo when the offer is made) for jobs that ask.
	pub credentials: BoundedVec<CredentialName, ConstU32<MAX_OFFER_CREDENTIALS>>,
	/// `http(s)://` URL of its content store, where job creators fetch outputs by digest.
	pub endpoint: BoundedVec<u8, ConstU32<MAX_ENDPOINT_LEN>>,
	/// Digests of the model weights the provider holds now, so the solver can prefer it for
	/// jobs needing them (it need not download them); a hint, never checked. Each at most once.
	pub models: BoundedVec<Digest, ConstU32<MAX_OFFER_MODELS>>,
}

impl<Balance: Copy> Offer<Balance> {
	/// Whether the offer runs `module` at all.
	pub fn serves(&self, module: &[u8]) -> bool {
		match &self.modules {
			ModuleFilter::All => true,
			ModuleFilter::Only(names) => names.iter().any(|n| &n[..] == module),
		}
	}

	/// The asking price of one job of `module`.
	pub fn price_for(&self, module: &[u8]) -> Balance {
		self.prices
			.iter()
			.find(|(n, _)| &n[..] == module)
			.map(|(_, p)| *p)
			.unwrap_or(self.default_price)
	}

	/// Whether one job slot of the offer covers `needs`: CPU, memory, disk, and enough GPUs
	/// that each has the VRAM asked for.
	pub fn covers(&self, needs: &Resources) -> bool {
		let r = &self.resources;
		let gpus_big_enough = r.gpus.iter().filter(|g| g.vram_mib >= needs.vram_mib).count();
		r.cpu_millicores >= needs.cpu_millicores
			&& r.ram_mib >= needs.ram_mib
			&& r.disk_mib >= needs.disk_mib
			&& gpus_big_enough >= needs.gpus as usize
	}

	/// Whether the offer lists every one of `digests` (true for none): a job running with
	/// those model weights would find them on the provider already.
	pub fn holds_all(&self, digests: &[Digest]) -> bool {
		digests.iter().all(|d| self.models.contains(d))
	}
}

/// Why an offer is refused before any chain state is consulted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OfferError {
	/// No CPU or no memory offered.
	NoResources,
	/// A GPU without a model name or without memory.
	InvalidGpu,
	/// Capacity zero: the offer could run nothing.
	ZeroCapacity,
	/// The endpoint is not an `http://` or `https://` URL.
	InvalidEndpoint,
	/// A module name is not a slug, or is listed twice.
	InvalidModuleList,
	/// A price is given for a module the filter excludes.
	PriceForUnservedModule,
	/// A credential name is not `namespace:value`, or is listed twice.
	InvalidCredential,
	/// A model digest is listed twice.
	DuplicateModel,
}

/// Checks an offer on its own.
pub fn check_offer<Balance: Copy>(offer: &Offer<Balance>) -> Result<(), OfferError> {
	let r = &offer.resources;
	if r.cpu_millicores == 0 || r.ram_mib == 0 {
		return Err(OfferError::NoResources);
	}
	if r.gpus.iter().any(|g| g.model.is_empty() || g.vram_mib == 0) {
		return Err(OfferError::InvalidGpu);
	}
	if offer.capacity == 0 {
		return Err(OfferError::ZeroCapacity);
	}
	let url = &offer.endpoint[..];
	let rest = url.strip_prefix(b"https://").or_else(|| url.strip_prefix(b"http://"));
	if !rest.is_some_and(|host| !host.is_empty() && host.iter().all(|b| b.is_ascii_graphic())) {
		return Err(OfferError::InvalidEndpoint);
	}
	let unique_slugs = |names: &mut dyn Iterator<Item = &ModuleName>| {
		let names: Vec<_> = names.collect();
		names.iter().enumerate().all(|(i, n)| is_valid_slug(n) && !names[..i].contains(n))
	};
	if let ModuleFilter::Only(names) = &offer.modules {
		if names.is_empty() || !unique_slugs(&mut names.iter()) {
			return Err(OfferError::InvalidModuleList);
		}
	}
	if !unique_slugs(&mut offer.prices.iter().map(|(n, _)| n)) {
		return Err(OfferError::InvalidModuleList);
	}
	if offer.prices.iter().any(|(n, _)| !offer.serves(n)) {
		return Err(OfferError::PriceForUnservedModule);
	}
	let creds = &offer.credentials;
	if creds.iter().enumerate().any(|(i, c)| !is_valid_credential(c) || creds[..i].contains(c)) {
		return Err(OfferError::InvalidCredential);
	}
	let models = &offer.models;
	if models.iter().enumerate().any(|(i, d)| models[..i].contains(d)) {
		return Err(OfferError::DuplicateModel);
	}
	Ok(())
}

/// What a bond is for; each kind is held under its own hold reason.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum BondKind {
	/// A resource provider's collateral, locked per job at match.
	Provider,
	/// A solver's stake, from which invalid matches are penalised.
	Solver,
	/// A mediator's stake, at risk when it re-runs a job dishonestly.
	Mediator,
}

/// Whether a provider can be matched.
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
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(rename_all = "camelCase"))]
pub enum ProviderStatus {
	/// Heartbeats arrive in time.
	Active,
	/// A heartbeat is overdue: not matched until the next one arrives.
	Away,
}

/// LILY coming out of a bond: held until `unlocks_at`, then withdrawable.
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct Unlocking<Balance, BlockNumber> {
	pub amount: Balance,
	pub unlocks_at: BlockNumber,
}

/// A provider with its offer and status, as `lilypad_provider` shows it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ProviderInfo<AccountId, Balance, BlockNumber> {
	pub provider: AccountId,
	pub offer: Offer<Balance>,
	pub status: ProviderStatus,
	pub registered_at: BlockNumber,
	pub last_heartbeat: BlockNumber,
	/// Jobs running now; at most `offer.capacity`.
	pub active_jobs: u32,
	/// The provider's collateral bond, if any.
	pub bond: Option<BondInfo<Balance, BlockNumber>>,
}

/// A bond as `lilypad_bond` shows it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct BondInfo<Balance, BlockNumber> {
	/// Bonded and not unbonding.
	pub bonded: Balance,
	/// The part of `bonded` locked by running jobs; it cannot be unbonded.
	pub in_use: Balance,
	/// Amounts on their way out, oldest first.
	pub unlocking: Vec<Unlocking<Balance, BlockNumber>>,
}

/// Filters of the `offers` runtime API; `None` fields do not filter.
#[derive(Clone, Default, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct OfferFilter {
	/// Only offers that run this module.
	pub module: Option<ModuleName>,
	/// Only offers whose job slot covers these resources.
	pub covers: Option<Resources>,
	/// Only providers whose heartbeats are current.
	pub active_only: bool,
}

/// A provider as a match reads it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ProviderView<Balance> {
	pub offer: Offer<Balance>,
	pub status: ProviderStatus,
	pub active_jobs: u32,
}

/// What the jobs pallet needs from the providers pallet: reading offers, counting running jobs,
/// and locking, unlocking and slashing the collateral they use.
pub trait ProviderLedger<AccountId, Balance> {
	/// `who`'s offer, status and running jobs, if it has an offer.
	fn provider(who: &AccountId) -> Option<ProviderView<Balance>>;
	/// The part of `who`'s bond of `kind` that is bonded and not in use.
	fn free_bond(who: &AccountId, kind: BondKind) -> Balance;
	/// Locks `amount` of `who`'s bond of `kind` for a running job.
	fn lock_bond(
		who: &AccountId,
		kind: BondKind,
		amount: Balance,
	) -> polkadot_sdk::sp_runtime::DispatchResult;
	/// Unlocks what [`Self::lock_bond`] locked.
	fn unlock_bond(who: &AccountId, kind: BondKind, amount: Balance);
	/// Moves up to `amount` of `who`'s bond of `kind`, locked part first, to `to`; returns
	/// what moved. The bond shrinks by it: this is how collateral and stakes are slashed.
	fn slash_bond(who: &AccountId, kind: BondKind, amount: Balance, to: &AccountId) -> Balance;
	/// Counts one more running job on `who`'s offer; refused at capacity.
	fn start_job(who: &AccountId) -> polkadot_sdk::sp_runtime::DispatchResult;
	/// Counts one running job of `who`'s as ended.
	fn end_job(who: &AccountId);
	/// Up to `limit` providers with their offers, for read-only estimates off chain.
	fn offers(limit: u32) -> Vec<(AccountId, ProviderView<Balance>)>;
	/// The part of `who`'s bond of `kind` that running jobs lock, for invariant checks.
	fn bond_in_use(who: &AccountId, kind: BondKind) -> Balance;
	/// The mediator pool (bounded by the ledger), each with its free mediator stake.
	fn mediators() -> Vec<(AccountId, Balance)>;

	/// Registers `who` as an active provider with `offer` and bonds `bond` as its collateral,
	/// for benchmarks of the jobs pallet.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_up_provider(who: &AccountId, offer: Offer<Balance>, bond: Balance);
	/// Bonds `amount` as `who`'s stake of `kind`, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_up_bond(who: &AccountId, kind: BondKind, amount: Balance);
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Reads of providers and bonds, behind the `lilypad_offers`, `lilypad_provider` and
	/// `lilypad_bond` RPCs.
	///
	/// Version 2 returns offers that list the models their providers hold; version 1 (runtime
	/// spec 109 and before) returned the [`v1::ProviderInfo`] layout, which a node reads with
	/// `*_before_version_2`.
	#[api_version(2)]
	pub trait ProvidersApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// [`Self::provider`], as runtimes before version 2 return it.
		#[changed_in(2)]
		fn provider(who: AccountId) -> Option<v1::ProviderInfo<AccountId, Balance, BlockNumber>>;
		/// [`Self::offers`], as runtimes before version 2 return them.
		#[changed_in(2)]
		fn offers(
			start_after: Option<AccountId>,
			limit: u32,
			filter: OfferFilter,
		) -> Vec<v1::ProviderInfo<AccountId, Balance, BlockNumber>>;
		/// One provider, with its offer, status and collateral bond.
		fn provider(who: AccountId) -> Option<ProviderInfo<AccountId, Balance, BlockNumber>>;
		/// Up to `limit` providers (at most [`MAX_OFFERS_PAGE`]) after `start_after` that pass
		/// `filter`, in a stable order.
		fn offers(
			start_after: Option<AccountId>,
			limit: u32,
			filter: OfferFilter,
		) -> Vec<ProviderInfo<AccountId, Balance, BlockNumber>>;
		/// `who`'s bond of `kind`.
		fn bond(who: AccountId, kind: BondKind) -> Option<BondInfo<Balance, BlockNumber>>;
	}
}

/// The layout offers had up to storage version 0 of the providers pallet and `ProvidersApi`
/// version 1 (runtime spec 109 and before), before offers listed the models their providers
/// hold. Frozen here, never to change: the pallet's v1 migration reads it, and a node reads it
/// from a runtime older than `ProvidersApi` version 2.
pub mod v1 {
	use super::*;

	/// An offer as version 1 laid it out.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
	pub struct Offer<Balance> {
		pub resources: OfferResources,
		pub modules: ModuleFilter,
		pub default_price: Balance,
		pub prices: BoundedVec<(ModuleName, Balance), ConstU32<MAX_OFFER_MODULES>>,
		pub capacity: u32,
		pub credentials: BoundedVec<CredentialName, ConstU32<MAX_OFFER_CREDENTIALS>>,
		pub endpoint: BoundedVec<u8, ConstU32<MAX_ENDPOINT_LEN>>,
	}

	/// A provider as `ProvidersApi` version 1 returns it.
	#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
	pub struct ProviderInfo<AccountId, Balance, BlockNumber> {
		pub provider: AccountId,
		pub offer: Offer<Balance>,
		pub status: ProviderStatus,
		pub registered_at: BlockNumber,
		pub last_heartbeat: BlockNumber,
		pub active_jobs: u32,
		pub bond: Option<BondInfo<Balance, BlockNumber>>,
	}

	impl<Balance> Offer<Balance> {
		/// The same offer in today's layout: it lists no models, as none could be named. The
		/// solver then ranks the provider as one that would download a job's weights.
		pub fn upgrade(self) -> super::Offer<Balance> {
			super::Offer {
				resources: self.resources,
				modules: self.modules,
				default_price: self.default_price,
				prices: self.prices,
				capacity: self.capacity,
				credentials: self.credentials,
				endpoint: self.endpoint,
				models: Default::default(),
			}
		}
	}

	impl<AccountId, Balance, BlockNumber> ProviderInfo<AccountId, Balance, BlockNumber> {
		/// The same provider in today's layout.
		pub fn upgrade(self) -> super::ProviderInfo<AccountId, Balance, BlockNumber> {
			super::ProviderInfo {
				provider: self.provider,
				offer: self.offer.upgrade(),
				status: self.status,
				registered_at: self.registered_at,
				last_heartbeat: self.last_heartbeat,
				active_jobs: self.active_jobs,
				bond: self.bond,
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn names(list: &[&str]) -> BoundedVec<ModuleName, ConstU32<MAX_OFFER_MODULES>> {
		list.iter()
			.map(|n| n.as_bytes().to_vec().try_into().unwrap())
			.collect::<Vec<_>>()
			.try_into()
			.unwrap()
	}

	fn offer() -> Offer<u128> {
		Offer {
			resources: OfferResources {
				cpu_millicores: 8_000,
				ram_mib: 32_768,
				gpus: vec![Gpu {
					model: b"RTX 4090".to_vec().try_into().unwrap(),
					vram_mib: 24_576,
				}]
				.try_into()
				.unwrap(),
				disk_mib: 100_000,
			},
			modules: ModuleFilter::All,
			default_price: 100,
			prices: vec![(b"sdxl".to_vec().try_into().unwrap(), 500)].try_into().unwrap(),
			capacity: 2,
			credentials: Default::default(),
			endpoint: b"http://10.0.0.7:8080".to_vec().try_into().unwrap(),
			models: vec![[1; 32], [2; 32]].try_into().unwrap(),
		}
	}

	#[test]
	fn a_well_formed_offer_passes() {
		assert_eq!(check_offer(&offer()), Ok(()));
	}

	/// A change that breaks one rule of what it changes.
	type Break<T> = fn(&mut T);

	#[test]
	fn offer_checks_name_each_broken_rule() {
		let cases: Vec<(Break<Offer<u128>>, OfferError)> = vec![
			(|o| o.resources.ram_mib = 0, OfferError::NoResources),
			(|o| o.resources.gpus[0].vram_mib = 0, OfferError::InvalidGpu),
			(|o| o.capacity = 0, OfferError::ZeroCapacity),
			(|o| o.endpoint = b"ftp://x".to_vec().try_into().unwrap(), OfferError::InvalidEndpoint),
			(
				|o| o.endpoint = b"https://".to_vec().try_into().unwrap(),
				OfferError::InvalidEndpoint,
			),
			(
				|o| o.endpoint = b"http://a b".to_vec().try_into().unwrap(),
				OfferError::InvalidEndpoint,
			),
			(|o| o.modules = ModuleFilter::Only(names(&[])), OfferError::InvalidModuleList),
			(|o| o.modules = ModuleFilter::Only(names(&["a", "a"])), OfferError::InvalidModuleList),
			(|o| o.modules = ModuleFilter::Only(names(&["Bad"])), OfferError::InvalidModuleList),
			(
				|o| o.modules = ModuleFilter::Only(names(&["cowsay"])),
				OfferError::PriceForUnservedModule,
			),
			(
				|o| o.credentials = vec![b"acme".to_vec().try_into().unwrap()].try_into().unwrap(),
				OfferError::InvalidCredential,
			),
			(
				|o| o.models = vec![[1; 32], [3; 32], [1; 32]].try_into().unwrap(),
				OfferError::DuplicateModel,
			),
		];
		for (break_rule, error) in cases {
			let mut o = offer();
			break_rule(&mut o);
			assert_eq!(check_offer(&o), Err(error));
		}
	}

	#[test]
	fn prices_fall_back_to_the_default_and_filters_apply() {
		let mut o = offer();
		assert_eq!(o.price_for(b"sdxl"), 500);
		assert_eq!(o.price_for(b"cowsay"), 100);
		assert!(o.serves(b"anything"));
		o.modules = ModuleFilter::Only(names(&["sdxl"]));
		assert!(o.serves(b"sdxl") && !o.serves(b"cowsay"));
	}

	#[test]
	fn coverage_needs_every_resource_and_big_enough_gpus() {
		let o = offer();
		let fits = Resources {
			cpu_millicores: 8_000,
			ram_mib: 1_024,
			gpus: 1,
			vram_mib: 24_576,
			disk_mib: 10,
		};
		assert!(o.covers(&fits));
		assert!(!o.covers(&Resources { cpu_millicores: 8_001, ..fits }));
		assert!(!o.covers(&Resources { ram_mib: 40_000, ..fits }));
		assert!(!o.covers(&Resources { disk_mib: 200_000, ..fits }));
		assert!(!o.covers(&Resources { gpus: 2, ..fits }));
		assert!(!o.covers(&Resources { vram_mib: 40_000, ..fits }));
		assert!(o.covers(&Resources { gpus: 0, vram_mib: 0, ..fits }));
	}

	#[test]
	fn an_offer_holds_a_jobs_models_only_if_it_lists_every_one() {
		let o = offer();
		assert!(o.holds_all(&[]));
		assert!(o.holds_all(&[[2; 32]]));
		assert!(o.holds_all(&[[2; 32], [1; 32]]));
		assert!(!o.holds_all(&[[1; 32], [3; 32]]));
		assert!(!Offer { models: Default::default(), ..o }.holds_all(&[[1; 32]]));
	}

	#[test]
	fn a_version_1_offer_upgrades_to_one_listing_no_models() {
		let now = Offer { models: Default::default(), ..offer() };
		let old = v1::Offer {
			resources: now.resources.clone(),
			modules: now.modules.clone(),
			default_price: now.default_price,
			prices: now.prices.clone(),
			capacity: now.capacity,
			credentials: now.credentials.clone(),
			endpoint: now.endpoint.clone(),
		};
		// Today's layout is version 1's followed by the (here empty) list of models.
		let mut bytes = old.encode();
		bytes.push(0);
		assert_eq!(now.encode(), bytes);
		assert_eq!(old.upgrade(), now);
	}
}
