//! # Ampli: the module registry
//!
//! ## Pallet API
//!
//! See the [`pallet`] module for the [`Config`], the [`Call`]s and the storage. The jobs pallet
//! reads the registry through [`ModuleRegistry`], which [`Pallet`] implements; clients read it
//! through the `RegistryApi` runtime API behind the `lilypad_module(s)` RPCs.
//!
//! ## Overview
//!
//! A **module** is what a job runs: a named, owned family of **versions**. Each version pins its
//! program by content (a Docker image by the blake3 digest of its `docker save` archive and its
//! config digest, or a WASM program by blake3 digest and size), declares its inputs (so that a
//! job's `-i Message=hello` is checked before any money moves), the resources and time one run
//! needs, a price floor, the owner's royalty and how results are verified.
//!
//! Publishing is accountable: the publisher signs the version's manifest with an sr25519 key
//! (the owner's, or a delegate's under Halo), bound to this chain's genesis hash, and the chain
//! keeps the signature so anyone can check who vouched for which bytes. A version may **fork**
//! another (its parent); jobs on the fork pay royalties up the lineage, and the royalties of one
//! job together never exceed the royalty cap of its price: the governed [`Config::RoyaltyCap`],
//! never above the hard ceiling [`Config::MaxRoyalty`]. Storage is paid for with a
//! deposit held from the owner until the module is retired.
//!
//! ## Low Level / Implementation Details
//!
//! - Versions are immutable once published, except their current price floor and deprecation.
//!   A parent must exist before its fork, so lineage cannot form a cycle; each version stores
//!   its depth and its lineage's total royalty, so publishing checks both in O(1).
//! - A version with unsettled jobs ([`ModuleRegistry::acquire`]) or with forks cannot be
//!   removed, so every job settles and every lineage resolves.
//! - Deposits are `fungible` holds ([`HoldReason::ModuleDeposit`]) and move with ownership.
//!
//! ## Models
//!
//! A **model** is a registry asset beside modules (logic in `models.rs`): named, owned
//! versions, each pinning its weights by blake3 digest and size, with a format, an SPDX
//! licence, a royalty and optionally a parent model version it derives from. Publishing is
//! signed like a module version, under its own domain ([`ModelManifest`]), and pays the same
//! deposits. A module version names the models it needs; publishing it checks that they exist
//! and that the module's lineage and every model's lineage together stay within the royalty
//! cap. A job's payees and shares are read once, at submission ([`ModuleRegistry::job_terms`]).
//! A model version stays while module versions need it, jobs use it or models derive from it.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use lilypad_primitives::{
	models::{ModelInfo, ModelManifest, ModelName, ModelRecord, ModelRef},
	registry::{
		Artifact, InputParam, JobTerms, ModuleInfo, ModuleName, ModuleRef, ModuleRegistry, SemVer,
		VerificationPolicy, VersionManifest, VersionRecord,
	},
};
pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod lineage;
pub mod migrations;
#[cfg(test)]
mod mock;
mod models;
#[cfg(test)]
mod tests;
pub mod weights;

use polkadot_sdk::{frame_support, frame_system, sp_core, sp_runtime};

// The generated `Call`: `publish_version` carries the signed manifest by value (about 290
// bytes, the other calls 30). Boxing it would make the metadata name the argument `Box<..>`,
// which subxt turns into a boxed field in every client's generated call, to shrink a value that
// lives only while a transaction is checked or a block built. The allow cannot be put on the
// generated enum alone.
#[allow(clippy::large_enum_variant)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	#[cfg(any(feature = "try-runtime", test))]
	use crate::lineage::check_descent;
	#[cfg(feature = "runtime-benchmarks")]
	use crate::models::{bench_account, BENCH_ROYALTY};
	use crate::{
		lineage::{descend, forked_only_within},
		models::ModelUse,
	};
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::pallet_prelude::*;
	use lilypad_primitives::{
		identity::{IdentityInspect, Role},
		registry::{check_manifest, manifest_signing_payload, ManifestError},
	};
	use sp_core::sr25519;
	use sp_runtime::{
		traits::{IdentifyAccount, Saturating, Verify, Zero},
		Perbill,
	};

	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	pub type VersionRecordOf<T> =
		VersionRecord<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type JobTermsOf<T> =
		JobTerms<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type ManifestOf<T> = VersionManifest<BalanceOf<T>>;
	pub type ModuleInfoOf<T> =
		ModuleInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub type ModelRecordOf<T> =
		ModelRecord<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
	pub type ModelInfoOf<T> =
		ModelInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

	/// A module: its owner, the deposit held from it, and its versions in publication order.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		Encode,
		Decode,
		MaxEncodedLen,
		TypeInfo,
		DebugNoBound,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct ModuleDetails<T: Config> {
		pub owner: T::AccountId,
		/// Held from `owner` under [`HoldReason::ModuleDeposit`]; released on retirement.
		pub deposit: BalanceOf<T>,
		pub versions: BoundedVec<SemVer, T::MaxVersions>,
	}

	/// A model: its owner, the deposit held from it, and its versions in publication order.
	/// The same record as a module's.
	pub type ModelDetails<T> = ModuleDetails<T>;

	/// Version 1 re-priced module deposits ([`crate::migrations::v1`]); version 2 has module
	/// versions name their models ([`crate::migrations::v2`]).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>>
			+ IsType<<Self as polkadot_sdk::frame_system::Config>::RuntimeEvent>;

		/// The token deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ polkadot_sdk::frame_support::traits::fungible::Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Roles and delegation (Halo).
		type Identity: IdentityInspect<Self::AccountId>;

		/// The account of a manifest-signing sr25519 key.
		type ManifestSigner: IdentifyAccount<AccountId = Self::AccountId> + From<sr25519::Public>;

		/// Held from the owner for a module's record.
		#[pallet::constant]
		type ModuleDeposit: Get<BalanceOf<Self>>;

		/// Held from the owner for each version's record.
		#[pallet::constant]
		type VersionDeposit: Get<BalanceOf<Self>>;

		/// Most versions one module has.
		#[pallet::constant]
		type MaxVersions: Get<u32>;

		/// Most ancestors a version has: the royalty walk at settlement is bounded by it.
		#[pallet::constant]
		type MaxLineageDepth: Get<u32>;

		/// The most of a job's price that all royalties along a lineage take together.
		#[pallet::constant]
		type MaxRoyalty: Get<Perbill>;

		/// The governed royalty cap. Publishing and settlement use it, clamped to
		/// [`Config::MaxRoyalty`], so governance can lower the cap but never lift it past the
		/// ceiling every stored version is known to respect.
		type RoyaltyCap: Get<Perbill>;

		/// The longest execution timeout a version may declare, in seconds.
		#[pallet::constant]
		type MaxTimeoutSecs: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why the registry holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a module and its versions.
		ModuleDeposit,
	}

	/// Modules by name.
	#[pallet::storage]
	pub type Modules<T: Config> = StorageMap<_, Blake2_128Concat, ModuleName, ModuleDetails<T>>;

	/// Versions by module name and version.
	#[pallet::storage]
	pub type Versions<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ModuleName,
		Blake2_128Concat,
		SemVer,
		VersionRecordOf<T>,
	>;

	/// Models by name.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelName, ModelDetails<T>>;

	/// Model versions by model name and version.
	#[pallet::storage]
	pub type ModelVersions<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ModelName,
		Blake2_128Concat,
		SemVer,
		ModelRecordOf<T>,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `owner` registered the module `module`, with `deposit` held.
		ModulePublished { module: ModuleName, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A version was published, signed by `publisher`.
		VersionPublished {
			module: ModuleName,
			version: SemVer,
			publisher: T::AccountId,
			parent: Option<ModuleRef>,
		},
		/// A version takes no new jobs; its existing jobs still settle.
		VersionDeprecated { module: ModuleName, version: SemVer },
		/// A version's price floor changed.
		PriceSet { module: ModuleName, version: SemVer, price_floor: BalanceOf<T> },
		/// `module` and its deposit passed from `from` to `to`.
		OwnershipTransferred { module: ModuleName, from: T::AccountId, to: T::AccountId },
		/// `module` and all its versions were removed and `deposit` released to `owner`.
		ModuleRetired { module: ModuleName, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A runtime upgrade re-priced the deposits of the `modules` in storage (with
		/// `versions` versions in all), returning `released` to their owners. `checked`: the
		/// modules and versions are as before and the deposits fell by exactly `released`.
		DepositsRepriced { modules: u32, versions: u32, released: BalanceOf<T>, checked: bool },
		/// A model version was published, signed by `publisher`; its first version registered
		/// the model for `owner`.
		ModelPublished {
			model: ModelName,
			version: SemVer,
			owner: T::AccountId,
			publisher: T::AccountId,
			parent: Option<ModelRef>,
		},
		/// `model` and all its versions were removed and `deposit` released to `owner`.
		ModelRetired { model: ModelName, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A runtime upgrade rewrote the `versions` module versions in storage into the layout
		/// that names models (none, for these). `checked`: every version is there, as before.
		VersionsMigrated { versions: u32, checked: bool },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Module names are lowercase slugs: `a-z`, `0-9`, single `-`, starting with a letter.
		InvalidModuleName,
		/// A module of this name exists; pick another name.
		ModuleExists,
		/// No module of this name.
		ModuleNotFound,
		/// No such version of this module.
		VersionNotFound,
		/// This version is published already; versions are immutable, publish a new one.
		VersionExists,
		/// The module has [`Config::MaxVersions`] versions; retire it or publish under a new name.
		TooManyVersions,
		/// Only the owner (and, except for ownership and retirement, its delegates) may do this.
		NotOwner,
		/// Publishing modules needs the module-provider role (Halo `register_role`).
		NotModuleProvider,
		/// The manifest's signing key belongs to neither the owner nor one of its delegates.
		SignerNotAuthorized,
		/// The signature does not match the manifest, the key, or this chain's genesis hash.
		BadSignature,
		/// A parameter name is not an identifier (`[A-Za-z_][A-Za-z0-9_]*`).
		InvalidParamName,
		/// Two input parameters share a name.
		DuplicateParam,
		/// A required parameter has a default; make it optional or drop the default.
		RequiredParamWithDefault,
		/// A default value does not parse as its parameter's type.
		DefaultTypeMismatch,
		/// Resources must ask for some CPU and memory, and VRAM only with a GPU.
		InvalidResources,
		/// The execution timeout is zero.
		ZeroTimeout,
		/// The execution timeout exceeds [`Config::MaxTimeoutSecs`].
		TimeoutTooLong,
		/// `Sampled { p }` needs `p > 0`; use `None` for no verification.
		ZeroSamplingProbability,
		/// A WASM artifact of zero bytes.
		EmptyArtifact,
		/// The parent version is not published.
		ParentNotFound,
		/// The lineage would be deeper than [`Config::MaxLineageDepth`].
		LineageTooDeep,
		/// This royalty plus the lineage's would exceed the royalty cap of a job's price.
		RoyaltyCapExceeded,
		/// The version is deprecated already.
		AlreadyDeprecated,
		/// The version is deprecated and takes no new jobs.
		VersionDeprecated,
		/// The account owns the module already.
		AlreadyOwner,
		/// A version still has unsettled jobs; retire after they settle.
		VersionInUse,
		/// Another module's version forks one of this module's; it must go first.
		VersionHasForks,
		/// A version names one model twice; each is mounted at `/models/<name>`.
		DuplicateModel,
		/// Model names are lowercase slugs: `a-z`, `0-9`, single `-`, starting with a letter.
		InvalidModelName,
		/// Weights of zero bytes.
		EmptyWeights,
		/// The licence is not an SPDX identifier or expression (`Apache-2.0`, `MIT OR X`).
		InvalidLicence,
		/// A model version names its own model as its parent.
		OwnParent,
		/// No model of this name, or no such version of it.
		ModelNotFound,
		/// This model version is published already; publish a new one.
		ModelVersionExists,
		/// Module versions still need a version of this model; retire them first.
		ModelInUse,
	}

	impl<T> From<ManifestError> for Error<T> {
		fn from(e: ManifestError) -> Self {
			match e {
				ManifestError::InvalidModuleName => Error::InvalidModuleName,
				ManifestError::InvalidParamName => Error::InvalidParamName,
				ManifestError::DuplicateParam => Error::DuplicateParam,
				ManifestError::RequiredParamWithDefault => Error::RequiredParamWithDefault,
				ManifestError::DefaultTypeMismatch => Error::DefaultTypeMismatch,
				ManifestError::InvalidResources => Error::InvalidResources,
				ManifestError::ZeroTimeout => Error::ZeroTimeout,
				ManifestError::ZeroSamplingProbability => Error::ZeroSamplingProbability,
				ManifestError::EmptyArtifact => Error::EmptyArtifact,
				ManifestError::DuplicateModel => Error::DuplicateModel,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxVersions::get() > 0, "no version could ever be published");
			assert!(T::MaxTimeoutSecs::get() > 0, "no timeout would be allowed");
			assert!(
				T::MaxLineageDepth::get() <= lilypad_primitives::registry::MAX_LINEAGE_DEPTH,
				"a job's payees would not fit in RoyaltyPayees"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register the module `name`, owned by the caller.
		///
		/// ## Dispatch Origin
		/// Signed by an account with the module-provider role.
		///
		/// ## Details
		/// Holds [`Config::ModuleDeposit`] from the caller until the module is retired.
		///
		/// ## Errors
		/// - [`Error::NotModuleProvider`]
		/// - [`Error::InvalidModuleName`]
		/// - [`Error::ModuleExists`]
		/// - a token error if the deposit cannot be held
		///
		/// ## Events
		/// - [`Event::ModulePublished`]
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::publish_module())]
		pub fn publish_module(origin: OriginFor<T>, name: ModuleName) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(
				T::Identity::has_role(&owner, Role::ModuleProvider),
				Error::<T>::NotModuleProvider
			);
			ensure!(
				lilypad_primitives::registry::is_valid_slug(&name),
				Error::<T>::InvalidModuleName
			);
			ensure!(!Modules::<T>::contains_key(&name), Error::<T>::ModuleExists);
			let deposit = T::ModuleDeposit::get();
			T::Currency::hold(&HoldReason::ModuleDeposit.into(), &owner, deposit)?;
			Modules::<T>::insert(
				&name,
				ModuleDetails { owner: owner.clone(), deposit, versions: Default::default() },
			);
			Self::deposit_event(Event::ModulePublished { module: name, owner, deposit });
			Ok(())
		}

		/// Publish a version of a module, signed by `signer`.
		///
		/// ## Dispatch Origin
		/// Signed by the module's owner or one of its delegates.
		///
		/// ## Details
		/// `signature` is `signer`'s sr25519 signature over
		/// [`manifest_signing_payload`]`(genesis hash, manifest)`; `signer`'s account must be
		/// the owner or a delegate of it. The manifest is checked (schema, resources, timeout,
		/// policy, artifact), and so is its lineage: the parent exists, the depth stays within
		/// [`Config::MaxLineageDepth`] and the royalties within the royalty cap. Holds
		/// [`Config::VersionDeposit`] from the owner.
		///
		/// ## Errors
		/// - [`Error::ModuleNotFound`], [`Error::NotOwner`]
		/// - [`Error::SignerNotAuthorized`], [`Error::BadSignature`]
		/// - [`Error::VersionExists`], [`Error::TooManyVersions`]
		/// - the manifest's: [`Error::InvalidParamName`], [`Error::DuplicateParam`],
		///   [`Error::RequiredParamWithDefault`], [`Error::DefaultTypeMismatch`],
		///   [`Error::InvalidResources`], [`Error::ZeroTimeout`], [`Error::TimeoutTooLong`],
		///   [`Error::ZeroSamplingProbability`], [`Error::EmptyArtifact`]
		/// - the lineage's: [`Error::ParentNotFound`], [`Error::LineageTooDeep`],
		///   [`Error::RoyaltyCapExceeded`] (the module's lineage and its models' together)
		/// - the models': [`Error::DuplicateModel`], [`Error::ModelNotFound`]
		///
		/// ## Events
		/// - [`Event::VersionPublished`]
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::publish_version())]
		pub fn publish_version(
			origin: OriginFor<T>,
			manifest: ManifestOf<T>,
			signer: sr25519::Public,
			signature: sr25519::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let name = manifest.module.clone();
			let mut module = Modules::<T>::get(&name).ok_or(Error::<T>::ModuleNotFound)?;
			ensure!(T::Identity::acts_for(&who, &module.owner), Error::<T>::NotOwner);
			let publisher = T::ManifestSigner::from(signer).into_account();
			ensure!(
				T::Identity::acts_for(&publisher, &module.owner),
				Error::<T>::SignerNotAuthorized
			);
			ensure!(
				signature.verify(&Self::signing_payload(&manifest)[..], &signer),
				Error::<T>::BadSignature
			);
			check_manifest(&manifest).map_err(Error::<T>::from)?;
			ensure!(manifest.timeout_secs <= T::MaxTimeoutSecs::get(), Error::<T>::TimeoutTooLong);
			ensure!(
				!Versions::<T>::contains_key(&name, manifest.version),
				Error::<T>::VersionExists
			);
			module.versions.try_push(manifest.version).map_err(|_| Error::<T>::TooManyVersions)?;

			// Read once: checked here, its fork count written back below.
			let mut parent_record = match &manifest.parent {
				None => None,
				Some(parent) => Some(
					Versions::<T>::get(&parent.name, parent.version)
						.ok_or(Error::<T>::ParentNotFound)?,
				),
			};
			let (depth, lineage_royalty) = descend(parent_record.as_ref(), manifest.royalty);
			ensure!(depth <= T::MaxLineageDepth::get(), Error::<T>::LineageTooDeep);
			// The models' lineages are paid beside the module's, within the same cap.
			let models_royalty = Self::models_royalty(&manifest.models)?;
			ensure!(
				lineage_royalty.saturating_add(models_royalty) <= Self::royalty_cap(),
				Error::<T>::RoyaltyCapExceeded
			);

			let deposit = T::VersionDeposit::get();
			T::Currency::hold(&HoldReason::ModuleDeposit.into(), &module.owner, deposit)?;
			module.deposit.saturating_accrue(deposit);
			Self::count_model_use(&manifest.models, ModelUse::Modules, true);
			if let (Some(parent), Some(p)) = (&manifest.parent, parent_record.as_mut()) {
				p.forks.saturating_inc();
				Versions::<T>::insert(&parent.name, parent.version, p);
			}
			let version = manifest.version;
			let parent = manifest.parent.clone();
			Versions::<T>::insert(
				&name,
				version,
				VersionRecord {
					price_floor: manifest.price_floor,
					manifest,
					publisher: publisher.clone(),
					signature,
					published_at: frame_system::Pallet::<T>::block_number(),
					deprecated: false,
					depth,
					lineage_royalty,
					active_jobs: 0,
					forks: 0,
				},
			);
			Modules::<T>::insert(&name, module);
			Self::deposit_event(Event::VersionPublished {
				module: name,
				version,
				publisher,
				parent,
			});
			Ok(())
		}

		/// Stop new jobs on a version; jobs it has still settle.
		///
		/// ## Dispatch Origin
		/// Signed by the module's owner or one of its delegates.
		///
		/// ## Errors
		/// - [`Error::ModuleNotFound`], [`Error::NotOwner`], [`Error::VersionNotFound`]
		/// - [`Error::AlreadyDeprecated`]
		///
		/// ## Events
		/// - [`Event::VersionDeprecated`]
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::deprecate_version())]
		pub fn deprecate_version(
			origin: OriginFor<T>,
			module: ModuleName,
			version: SemVer,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_acts_for_owner(&who, &module)?;
			Versions::<T>::try_mutate(&module, version, |v| {
				let v = v.as_mut().ok_or(Error::<T>::VersionNotFound)?;
				ensure!(!v.deprecated, Error::<T>::AlreadyDeprecated);
				v.deprecated = true;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::VersionDeprecated { module, version });
			Ok(())
		}

		/// Hand a module, its versions and its deposit to `new_owner`.
		///
		/// ## Dispatch Origin
		/// Signed by the module's owner (not a delegate).
		///
		/// ## Details
		/// The held deposit moves to `new_owner`, who gets it back on retirement; nobody pays
		/// twice. `new_owner` must have the module-provider role and an account.
		///
		/// ## Errors
		/// - [`Error::ModuleNotFound`], [`Error::NotOwner`], [`Error::AlreadyOwner`]
		/// - [`Error::NotModuleProvider`]
		///
		/// ## Events
		/// - [`Event::OwnershipTransferred`]
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::transfer_ownership())]
		pub fn transfer_ownership(
			origin: OriginFor<T>,
			module: ModuleName,
			new_owner: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut details = Modules::<T>::get(&module).ok_or(Error::<T>::ModuleNotFound)?;
			ensure!(details.owner == who, Error::<T>::NotOwner);
			ensure!(new_owner != who, Error::<T>::AlreadyOwner);
			ensure!(
				T::Identity::has_role(&new_owner, Role::ModuleProvider),
				Error::<T>::NotModuleProvider
			);
			T::Currency::transfer_on_hold(
				&HoldReason::ModuleDeposit.into(),
				&who,
				&new_owner,
				details.deposit,
				Precision::Exact,
				Restriction::OnHold,
				Fortitude::Polite,
			)?;
			details.owner = new_owner.clone();
			Modules::<T>::insert(&module, details);
			Self::deposit_event(Event::OwnershipTransferred { module, from: who, to: new_owner });
			Ok(())
		}

		/// Change a version's price floor for jobs submitted from now on.
		///
		/// ## Dispatch Origin
		/// Signed by the module's owner or one of its delegates.
		///
		/// ## Details
		/// The signed manifest keeps the price it was published with; the record's
		/// `price_floor` is the one jobs must meet.
		///
		/// ## Errors
		/// - [`Error::ModuleNotFound`], [`Error::NotOwner`], [`Error::VersionNotFound`]
		///
		/// ## Events
		/// - [`Event::PriceSet`]
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(
			origin: OriginFor<T>,
			module: ModuleName,
			version: SemVer,
			price_floor: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_acts_for_owner(&who, &module)?;
			Versions::<T>::try_mutate(&module, version, |v| {
				let v = v.as_mut().ok_or(Error::<T>::VersionNotFound)?;
				v.price_floor = price_floor;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::PriceSet { module, version, price_floor });
			Ok(())
		}

		/// Remove a module and all its versions, and release its deposit.
		///
		/// ## Dispatch Origin
		/// Signed by the module's owner (not a delegate).
		///
		/// ## Details
		/// Refused while any version has unsettled jobs, or is the parent of a version of
		/// another module. The name becomes free again.
		///
		/// ## Errors
		/// - [`Error::ModuleNotFound`], [`Error::NotOwner`]
		/// - [`Error::VersionInUse`], [`Error::VersionHasForks`]
		///
		/// ## Events
		/// - [`Event::ModuleRetired`]
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::retire_module(T::MaxVersions::get()))]
		pub fn retire_module(
			origin: OriginFor<T>,
			module: ModuleName,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let details = Modules::<T>::get(&module).ok_or(Error::<T>::ModuleNotFound)?;
			ensure!(details.owner == who, Error::<T>::NotOwner);
			let records: Vec<VersionRecordOf<T>> = details
				.versions
				.iter()
				.map(|v| Versions::<T>::get(&module, v).expect("indexed versions exist; qed"))
				.collect();
			ensure!(records.iter().all(|r| r.active_jobs == 0), Error::<T>::VersionInUse);
			// Forks inside this module go with it; forks from other modules must go first.
			ensure!(forked_only_within(&module, &records), Error::<T>::VersionHasForks);
			for r in &records {
				Self::count_model_use(&r.manifest.models, ModelUse::Modules, false);
				if let Some(p) = r.manifest.parent.as_ref().filter(|p| p.name != module) {
					Versions::<T>::mutate(&p.name, p.version, |p| {
						if let Some(p) = p {
							p.forks.saturating_dec();
						}
					});
				}
			}
			let _ = Versions::<T>::clear_prefix(&module, T::MaxVersions::get(), None);
			Modules::<T>::remove(&module);
			T::Currency::release(
				&HoldReason::ModuleDeposit.into(),
				&who,
				details.deposit,
				Precision::Exact,
			)?;
			Self::deposit_event(Event::ModuleRetired {
				module,
				owner: who,
				deposit: details.deposit,
			});
			Ok(Some(T::WeightInfo::retire_module(records.len() as u32)).into())
		}

		/// Publish a version of a model, signed by `signer`; the first version of a name
		/// registers the model, owned by the caller.
		///
		/// ## Dispatch Origin
		/// Signed by an account with the module-provider role: for a new model, its owner to
		/// be; for a known one, the owner or one of its delegates.
		///
		/// ## Details
		/// `signature` is `signer`'s sr25519 signature over
		/// [`lilypad_primitives::models::model_signing_payload`]`(genesis hash, manifest)`;
		/// `signer`'s account must be the owner or a delegate of it. The manifest is checked
		/// (name, weights, licence), and so is its lineage: the parent model version exists,
		/// the depth stays within [`Config::MaxLineageDepth`] and the royalties within the
		/// royalty cap. Holds [`Config::ModuleDeposit`] for a new model and
		/// [`Config::VersionDeposit`] for the version from the owner.
		///
		/// ## Errors
		/// - [`Error::NotModuleProvider`], [`Error::NotOwner`]
		/// - [`Error::SignerNotAuthorized`], [`Error::BadSignature`]
		/// - the manifest's: [`Error::InvalidModelName`], [`Error::EmptyWeights`],
		///   [`Error::InvalidLicence`], [`Error::OwnParent`]
		/// - [`Error::ModelVersionExists`], [`Error::TooManyVersions`]
		/// - the lineage's: [`Error::ParentNotFound`], [`Error::LineageTooDeep`],
		///   [`Error::RoyaltyCapExceeded`]
		/// - a token error if the deposit cannot be held
		///
		/// ## Events
		/// - [`Event::ModelPublished`]
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::publish_model())]
		pub fn publish_model(
			origin: OriginFor<T>,
			manifest: ModelManifest,
			signer: sr25519::Public,
			signature: sr25519::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_publish_model(who, manifest, signer, signature)
		}

		/// Remove a model and all its versions, and release its deposit.
		///
		/// ## Dispatch Origin
		/// Signed by the model's owner (not a delegate).
		///
		/// ## Details
		/// Refused while a module version needs one of its versions, a job uses one, or another
		/// model's version derives from one. The name becomes free again.
		///
		/// ## Errors
		/// - [`Error::ModelNotFound`], [`Error::NotOwner`]
		/// - [`Error::ModelInUse`], [`Error::VersionInUse`], [`Error::VersionHasForks`]
		///
		/// ## Events
		/// - [`Event::ModelRetired`]
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::retire_model(T::MaxVersions::get()))]
		pub fn retire_model(origin: OriginFor<T>, model: ModelName) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let versions = Self::do_retire_model(who, model)?;
			Ok(Some(T::WeightInfo::retire_model(versions)).into())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The royalty cap in force: the governed one, never above the ceiling.
		pub fn royalty_cap() -> Perbill {
			T::RoyaltyCap::get().min(T::MaxRoyalty::get())
		}

		/// What a publisher signs for `manifest` on this chain.
		pub fn signing_payload(manifest: &ManifestOf<T>) -> Vec<u8> {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			manifest_signing_payload(&genesis, manifest)
		}

		fn ensure_acts_for_owner(who: &T::AccountId, module: &ModuleName) -> DispatchResult {
			let details = Modules::<T>::get(module).ok_or(Error::<T>::ModuleNotFound)?;
			ensure!(T::Identity::acts_for(who, &details.owner), Error::<T>::NotOwner);
			Ok(())
		}

		/// A module with its versions, for the runtime API.
		pub fn module_info(name: ModuleName) -> Option<ModuleInfoOf<T>> {
			let details = Modules::<T>::get(&name)?;
			let versions =
				details.versions.iter().filter_map(|v| Versions::<T>::get(&name, v)).collect();
			Some(ModuleInfo { name, owner: details.owner, deposit: details.deposit, versions })
		}

		/// Up to `limit` modules after `start_after`, in storage order, for the runtime API.
		pub fn modules_page(start_after: Option<ModuleName>, limit: u32) -> Vec<ModuleInfoOf<T>> {
			let limit = limit.min(lilypad_primitives::registry::MAX_MODULES_PAGE) as usize;
			let names = match start_after {
				Some(after) => Modules::<T>::iter_keys_from(Modules::<T>::hashed_key_for(after)),
				None => Modules::<T>::iter_keys(),
			};
			names.take(limit).filter_map(Self::module_info).collect()
		}

		/// Storage agrees with itself and with the held deposits; lineage is acyclic, within
		/// depth and within the royalty cap.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			let mut held = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
			let mut indexed = 0usize;
			for (name, details) in Modules::<T>::iter() {
				let deposit = held.entry(details.owner.clone()).or_default();
				*deposit = deposit.saturating_add(details.deposit);
				for v in details.versions.iter() {
					ensure!(Versions::<T>::contains_key(&name, v), "an indexed version is missing");
				}
				indexed += details.versions.len();
			}
			for details in Models::<T>::iter_values() {
				let deposit = held.entry(details.owner.clone()).or_default();
				*deposit = deposit.saturating_add(details.deposit);
			}
			for (owner, deposit) in held {
				ensure!(
					T::Currency::balance_on_hold(&HoldReason::ModuleDeposit.into(), &owner)
						== deposit,
					"held deposits disagree with the modules' deposits"
				);
			}
			let mut forks = BTreeMap::<(ModuleName, SemVer), u32>::new();
			let mut stored = 0usize;
			for (name, version, record) in Versions::<T>::iter() {
				stored += 1;
				ensure!(
					record.manifest.module == name && record.manifest.version == version,
					"a version is stored under another key"
				);
				ensure!(
					Modules::<T>::get(&name).is_some_and(|m| m.versions.contains(&version)),
					"a version is not indexed by its module"
				);
				let parent = record.manifest.parent.as_ref().and_then(|p| {
					*forks.entry((p.name.clone(), p.version)).or_default() += 1;
					Versions::<T>::get(&p.name, p.version)
				});
				check_descent(
					&record,
					record.manifest.royalty,
					parent.as_ref(),
					T::MaxLineageDepth::get(),
					T::MaxRoyalty::get(),
				)?;
				// Walking up must end within the depth bound: no cycles.
				let mut at = record.manifest.parent.clone();
				let mut steps = 0;
				while let Some(p) = at {
					steps += 1;
					ensure!(steps <= T::MaxLineageDepth::get(), "a lineage has a cycle");
					at = Versions::<T>::get(&p.name, p.version).and_then(|r| r.manifest.parent);
				}
			}
			ensure!(stored == indexed, "versions are stored that no module indexes");
			Self::check_models()?;
			for (name, version, record) in Versions::<T>::iter() {
				ensure!(
					record.forks == forks.get(&(name, version)).copied().unwrap_or_default(),
					"a version's fork count is wrong"
				);
			}
			Ok(())
		}
	}

	impl<T: Config> ModuleRegistry<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
		fn version(module: &ModuleRef) -> Option<VersionRecordOf<T>> {
			Versions::<T>::get(&module.name, module.version)
		}

		fn acquire(module: &ModuleRef) -> DispatchResult {
			let models = Versions::<T>::try_mutate(&module.name, module.version, |v| {
				let v = v.as_mut().ok_or(Error::<T>::VersionNotFound)?;
				ensure!(!v.deprecated, Error::<T>::VersionDeprecated);
				v.active_jobs.saturating_inc();
				Ok::<_, DispatchError>(v.manifest.models.clone())
			})?;
			Self::count_model_use(&models, ModelUse::Jobs, true);
			Ok(())
		}

		fn release(module: &ModuleRef) {
			let models = Versions::<T>::mutate(&module.name, module.version, |v| {
				v.as_mut().map(|v| {
					v.active_jobs.saturating_dec();
					v.manifest.models.clone()
				})
			});
			Self::count_model_use(&models.unwrap_or_default(), ModelUse::Jobs, false);
		}

		fn job_terms(module: &ModuleRef) -> Option<JobTermsOf<T>> {
			Self::read_job_terms(module)
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn set_up_lineage(owner: &T::AccountId, depth: u32) -> ModuleRef {
			use lilypad_primitives::registry::{
				Delivery, ParamType, Resources, MAX_INPUT_PARAMS, MAX_PARAM_DEFAULT_LEN,
			};
			let version = SemVer::new(1, 0, 0);
			let mut parent: Option<ModuleRef> = None;
			let models: lilypad_primitives::models::ModelRefs = (0
				..lilypad_primitives::models::MAX_MODULE_MODELS)
				.map(|i| Self::set_up_model_lineage(i, depth))
				.collect::<Vec<_>>()
				.try_into()
				.expect("MAX_MODULE_MODELS of them; qed");
			for level in 0..=depth {
				// Each ancestor of its own owner: a job pays every one of them.
				let owner = if level == depth { owner.clone() } else { bench_account::<T>(level) };
				let name: ModuleName = alloc::format!("lineage-{level}")
					.into_bytes()
					.try_into()
					.expect("short names; qed");
				let inputs: Vec<InputParam> = (0..MAX_INPUT_PARAMS)
					.map(|i| InputParam {
						name: alloc::format!("P{i}").into_bytes().try_into().expect("short; qed"),
						kind: ParamType::Text,
						default: Some(
							alloc::vec![b'x'; MAX_PARAM_DEFAULT_LEN as usize]
								.try_into()
								.expect("fits; qed"),
						),
						required: false,
						delivery: Delivery::Env,
					})
					.collect();
				let manifest = VersionManifest {
					module: name.clone(),
					version,
					artifact: Artifact::Wasm { digest: [level as u8; 32], size: 1 },
					inputs: inputs.try_into().expect("MAX_INPUT_PARAMS of them; qed"),
					resources: Resources {
						cpu_millicores: 1_000,
						ram_mib: 256,
						gpus: 0,
						vram_mib: 0,
						disk_mib: 0,
					},
					timeout_secs: 60,
					price_floor: Zero::zero(),
					// Small enough that every payee of the deepest lineages fits in the cap.
					royalty: BENCH_ROYALTY,
					verification: VerificationPolicy::None,
					parent: parent.clone(),
					models: if level == depth { models.clone() } else { Default::default() },
				};
				Modules::<T>::insert(
					&name,
					ModuleDetails {
						owner: owner.clone(),
						deposit: Zero::zero(),
						versions: alloc::vec![version].try_into().expect("one fits; qed"),
					},
				);
				Versions::<T>::insert(
					&name,
					version,
					VersionRecord {
						price_floor: Zero::zero(),
						manifest,
						publisher: owner.clone(),
						signature: sr25519::Signature::from_raw([0; 64]),
						published_at: frame_system::Pallet::<T>::block_number(),
						deprecated: false,
						depth: level,
						lineage_royalty: Perbill::from_parts(
							BENCH_ROYALTY.deconstruct() * (level + 1),
						),
						active_jobs: 0,
						forks: u32::from(level < depth),
					},
				);
				parent = Some(ModuleRef { name, version });
			}
			parent.expect("at least one level; qed")
		}
	}
}
