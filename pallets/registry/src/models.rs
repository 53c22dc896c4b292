//! Models: publishing and retiring them, what a module version's models add to its jobs
//! (mounts, royalty payees, the digests a result must name), and their invariants.
#[cfg(any(feature = "try-runtime", test))]
use crate::lineage::check_descent;
use crate::{
	lineage::{descend, forked_only_within},
	pallet::*,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use lilypad_primitives::{
	identity::{IdentityInspect, Role},
	models::{
		check_model_manifest, model_signing_payload, ModelError, ModelManifest, ModelName,
		MAX_MODELS_PAGE,
	},
	registry::{cap_shares, ModuleRef},
};
use polkadot_sdk::{frame_support, frame_system, sp_core::sr25519, sp_runtime};
use sp_runtime::{
	traits::{IdentifyAccount, Saturating, Verify, Zero},
	DispatchResult, Perbill,
};

impl<T> From<ModelError> for Error<T> {
	fn from(e: ModelError) -> Self {
		match e {
			ModelError::InvalidModelName => Error::InvalidModelName,
			ModelError::EmptyWeights => Error::EmptyWeights,
			ModelError::InvalidLicence => Error::InvalidLicence,
			ModelError::OwnParent => Error::OwnParent,
		}
	}
}

/// What needs a model version, and so keeps it registered.
#[derive(Clone, Copy)]
pub(crate) enum ModelUse {
	/// Module versions that name it.
	Modules,
	/// Unsettled jobs that run with it.
	Jobs,
}

impl<T: Config> Pallet<T> {
	/// What a publisher signs for a model `manifest` on this chain.
	pub fn model_signing_payload(manifest: &ModelManifest) -> Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		model_signing_payload(&genesis, manifest)
	}

	/// `publish_model`: checks, deposits, the parent's fork count, the record.
	pub(crate) fn do_publish_model(
		who: T::AccountId,
		manifest: ModelManifest,
		signer: sr25519::Public,
		signature: sr25519::Signature,
	) -> DispatchResult {
		ensure!(T::Identity::has_role(&who, Role::ModuleProvider), Error::<T>::NotModuleProvider);
		check_model_manifest(&manifest).map_err(Error::<T>::from)?;
		let name = manifest.model.clone();
		let (mut details, new) = match Models::<T>::get(&name) {
			Some(details) => {
				ensure!(T::Identity::acts_for(&who, &details.owner), Error::<T>::NotOwner);
				(details, false)
			}
			None => (
				ModelDetails::<T> {
					owner: who.clone(),
					deposit: Zero::zero(),
					versions: Default::default(),
				},
				true,
			),
		};
		let publisher = T::ManifestSigner::from(signer).into_account();
		ensure!(T::Identity::acts_for(&publisher, &details.owner), Error::<T>::SignerNotAuthorized);
		ensure!(
			signature.verify(&Self::model_signing_payload(&manifest)[..], &signer),
			Error::<T>::BadSignature
		);
		ensure!(
			!ModelVersions::<T>::contains_key(&name, manifest.version),
			Error::<T>::ModelVersionExists
		);
		details.versions.try_push(manifest.version).map_err(|_| Error::<T>::TooManyVersions)?;

		let mut parent = match &manifest.parent {
			None => None,
			Some(p) => Some(
				ModelVersions::<T>::get(&p.name, p.version).ok_or(Error::<T>::ParentNotFound)?,
			),
		};
		let (depth, lineage_royalty) = descend(parent.as_ref(), manifest.royalty);
		ensure!(depth <= T::MaxLineageDepth::get(), Error::<T>::LineageTooDeep);
		ensure!(lineage_royalty <= Self::royalty_cap(), Error::<T>::RoyaltyCapExceeded);

		let deposit = if new {
			T::ModuleDeposit::get().saturating_add(T::VersionDeposit::get())
		} else {
			T::VersionDeposit::get()
		};
		T::Currency::hold(&HoldReason::ModuleDeposit.into(), &details.owner, deposit)?;
		details.deposit.saturating_accrue(deposit);
		if let (Some(p), Some(record)) = (&manifest.parent, parent.as_mut()) {
			record.forks.saturating_inc();
			ModelVersions::<T>::insert(&p.name, p.version, record);
		}
		let version = manifest.version;
		let parent = manifest.parent.clone();
		let owner = details.owner.clone();
		ModelVersions::<T>::insert(
			&name,
			version,
			ModelRecordOf::<T> {
				manifest,
				publisher: publisher.clone(),
				signature,
				published_at: frame_system::Pallet::<T>::block_number(),
				depth,
				lineage_royalty,
				modules: 0,
				active_jobs: 0,
				forks: 0,
			},
		);
		Models::<T>::insert(&name, details);
		Self::deposit_event(Event::ModelPublished {
			model: name,
			version,
			owner,
			publisher,
			parent,
		});
		Ok(())
	}

	/// `retire_model`: refused while anything depends on a version; returns how many versions
	/// went.
	pub(crate) fn do_retire_model(
		who: T::AccountId,
		model: ModelName,
	) -> Result<u32, DispatchError> {
		let details = Models::<T>::get(&model).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(details.owner == who, Error::<T>::NotOwner);
		let records: Vec<ModelRecordOf<T>> = details
			.versions
			.iter()
			.map(|v| ModelVersions::<T>::get(&model, v).expect("indexed versions exist; qed"))
			.collect();
		ensure!(records.iter().all(|r| r.modules == 0), Error::<T>::ModelInUse);
		ensure!(records.iter().all(|r| r.active_jobs == 0), Error::<T>::VersionInUse);
		// Versions derived within this model go with it; other models' must go first.
		ensure!(forked_only_within(&model, &records), Error::<T>::VersionHasForks);
		for r in &records {
			if let Some(p) = r.manifest.parent.as_ref().filter(|p| p.name != model) {
				ModelVersions::<T>::mutate(&p.name, p.version, |p| {
					if let Some(p) = p {
						p.forks.saturating_dec();
					}
				});
			}
		}
		let _ = ModelVersions::<T>::clear_prefix(&model, T::MaxVersions::get(), None);
		Models::<T>::remove(&model);
		T::Currency::release(
			&HoldReason::ModuleDeposit.into(),
			&who,
			details.deposit,
			Precision::Exact,
		)?;
		Self::deposit_event(Event::ModelRetired { model, owner: who, deposit: details.deposit });
		Ok(records.len() as u32)
	}

	/// The royalties the lineages of `models` take together; each model version must exist.
	pub(crate) fn models_royalty(models: &[ModuleRef]) -> Result<Perbill, DispatchError> {
		models.iter().try_fold(Perbill::zero(), |total, m| {
			let record =
				ModelVersions::<T>::get(&m.name, m.version).ok_or(Error::<T>::ModelNotFound)?;
			Ok(total.saturating_add(record.lineage_royalty))
		})
	}

	/// Counts a module version (`ModelUse::Modules`) or a job (`ModelUse::Jobs`) that needs
	/// `models` in (`add`) or out of each of them.
	pub(crate) fn count_model_use(models: &[ModuleRef], what: ModelUse, add: bool) {
		for m in models {
			ModelVersions::<T>::mutate(&m.name, m.version, |r| {
				let Some(r) = r else { return };
				let count = match what {
					ModelUse::Modules => &mut r.modules,
					ModelUse::Jobs => &mut r.active_jobs,
				};
				if add {
					count.saturating_inc()
				} else {
					count.saturating_dec()
				}
			});
		}
	}

	/// What a job on `module` takes from the registry, in one walk: up the module's lineage,
	/// then up each of its models' lineages, the shares cut to the royalty cap in that order,
	/// owners merged. Bounded: at most `(MaxLineageDepth + 1) * (1 + MAX_MODULE_MODELS)`
	/// records are read.
	pub(crate) fn read_job_terms(module: &ModuleRef) -> Option<JobTermsOf<T>> {
		let version = Versions::<T>::get(&module.name, module.version)?;
		let mut owners = alloc::vec![Modules::<T>::get(&module.name)?.owner];
		let mut shares = alloc::vec![version.manifest.royalty];
		let mut at = version.manifest.parent.clone();
		while let Some(m) = at.take() {
			let Some(record) = Versions::<T>::get(&m.name, m.version) else { break };
			let Some(details) = Modules::<T>::get(&m.name) else { break };
			owners.push(details.owner);
			shares.push(record.manifest.royalty);
			at = record.manifest.parent;
		}
		let mut digests = Vec::new();
		for model in version.manifest.models.iter() {
			let mut at = Some(model.clone());
			while let Some(m) = at.take() {
				let Some(record) = ModelVersions::<T>::get(&m.name, m.version) else { break };
				if m == *model {
					digests.push(record.manifest.weights.digest);
				}
				let Some(details) = Models::<T>::get(&m.name) else { break };
				owners.push(details.owner);
				shares.push(record.manifest.royalty);
				at = record.manifest.parent;
			}
		}
		let mut payees: Vec<(T::AccountId, Perbill)> = Vec::new();
		for (owner, share) in owners.into_iter().zip(cap_shares(&shares, Self::royalty_cap())) {
			if share.is_zero() {
				continue;
			}
			match payees.iter_mut().find(|(o, _)| *o == owner) {
				Some((_, total)) => *total = total.saturating_add(share),
				None => payees.push((owner, share)),
			}
		}
		Some(JobTermsOf::<T> {
			version,
			// Bounded by construction: each lineage is at most MaxLineageDepth deep (checked
			// at publishing, and MaxLineageDepth <= MAX_LINEAGE_DEPTH by the integrity test).
			payees: BoundedVec::truncate_from(payees),
			models: digests.try_into().expect("one per model, and models are bounded alike; qed"),
		})
	}

	/// A model with its versions, for the runtime API.
	pub fn model_info(name: ModelName) -> Option<ModelInfoOf<T>> {
		let details = Models::<T>::get(&name)?;
		let versions =
			details.versions.iter().filter_map(|v| ModelVersions::<T>::get(&name, v)).collect();
		Some(ModelInfoOf::<T> { name, owner: details.owner, deposit: details.deposit, versions })
	}

	/// Up to `limit` models after `start_after`, in storage order, for the runtime API.
	pub fn models_page(start_after: Option<ModelName>, limit: u32) -> Vec<ModelInfoOf<T>> {
		let limit = limit.min(MAX_MODELS_PAGE) as usize;
		let names = match start_after {
			Some(after) => Models::<T>::iter_keys_from(Models::<T>::hashed_key_for(after)),
			None => Models::<T>::iter_keys(),
		};
		names.take(limit).filter_map(Self::model_info).collect()
	}

	/// Models agree with themselves and with the module versions that need them: each version
	/// indexed, lineages acyclic, within depth and the cap, and the counts of forks, module
	/// versions and jobs that use each version right.
	#[cfg(any(feature = "try-runtime", test))]
	pub(crate) fn check_models() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		type Key = (ModelName, lilypad_primitives::registry::SemVer);
		let mut indexed = 0usize;
		for (name, details) in Models::<T>::iter() {
			for v in details.versions.iter() {
				ensure!(
					ModelVersions::<T>::contains_key(&name, v),
					"an indexed model version is missing"
				);
			}
			indexed += details.versions.len();
		}
		let mut forks = BTreeMap::<Key, u32>::new();
		let mut users = BTreeMap::<Key, u32>::new();
		let mut jobs = BTreeMap::<Key, u32>::new();
		for (_, _, version) in Versions::<T>::iter() {
			for m in version.manifest.models.iter() {
				ensure!(
					ModelVersions::<T>::contains_key(&m.name, m.version),
					"a module version needs a model that is not published"
				);
				*users.entry((m.name.clone(), m.version)).or_default() += 1;
				*jobs.entry((m.name.clone(), m.version)).or_default() += version.active_jobs;
			}
		}
		let mut stored = 0usize;
		for (name, version, record) in ModelVersions::<T>::iter() {
			stored += 1;
			ensure!(
				record.manifest.model == name && record.manifest.version == version,
				"a model version is stored under another key"
			);
			ensure!(
				Models::<T>::get(&name).is_some_and(|m| m.versions.contains(&version)),
				"a model version is not indexed by its model"
			);
			let parent = record.manifest.parent.as_ref().and_then(|p| {
				*forks.entry((p.name.clone(), p.version)).or_default() += 1;
				ModelVersions::<T>::get(&p.name, p.version)
			});
			check_descent(
				&record,
				record.manifest.royalty,
				parent.as_ref(),
				T::MaxLineageDepth::get(),
				T::MaxRoyalty::get(),
			)?;
			let key = (name, version);
			ensure!(
				record.modules == users.get(&key).copied().unwrap_or_default(),
				"a model version's count of module versions is wrong"
			);
			ensure!(
				record.active_jobs == jobs.get(&key).copied().unwrap_or_default(),
				"a model version's count of jobs is wrong"
			);
		}
		ensure!(stored == indexed, "model versions are stored that no model indexes");
		for (name, version, record) in ModelVersions::<T>::iter() {
			ensure!(
				record.forks == forks.get(&(name, version)).copied().unwrap_or_default(),
				"a model version's fork count is wrong"
			);
		}
		Ok(())
	}

	/// Publishes a model lineage `depth` deep (`depth + 1` versions), each version of its own
	/// owner, for benchmarks; returns the deepest version.
	#[cfg(feature = "runtime-benchmarks")]
	pub(crate) fn set_up_model_lineage(index: u32, depth: u32) -> ModuleRef {
		use lilypad_primitives::{
			models::{Weights, WeightsFormat, WeightsLayout},
			registry::SemVer,
		};
		let version = SemVer::new(1, 0, 0);
		let mut parent: Option<ModuleRef> = None;
		for level in 0..=depth {
			let owner = bench_account::<T>(1_000 * (index + 1) + level);
			let name: ModelName = alloc::format!("model-{index}-{level}")
				.into_bytes()
				.try_into()
				.expect("short names; qed");
			let manifest = ModelManifest {
				model: name.clone(),
				version,
				weights: Weights {
					digest: [index as u8; 32],
					size: 1,
					layout: WeightsLayout::File,
					format: WeightsFormat::Gguf,
				},
				licence: b"Apache-2.0".to_vec().try_into().expect("short; qed"),
				royalty: BENCH_ROYALTY,
				parent: parent.clone(),
			};
			Models::<T>::insert(
				&name,
				ModelDetails::<T> {
					owner: owner.clone(),
					deposit: Zero::zero(),
					versions: alloc::vec![version].try_into().expect("one fits; qed"),
				},
			);
			ModelVersions::<T>::insert(
				&name,
				version,
				ModelRecordOf::<T> {
					manifest,
					publisher: owner,
					signature: sr25519::Signature::from_raw([0; 64]),
					published_at: frame_system::Pallet::<T>::block_number(),
					depth: level,
					lineage_royalty: Perbill::from_parts(BENCH_ROYALTY.deconstruct() * (level + 1)),
					modules: u32::from(level == depth),
					active_jobs: 0,
					forks: u32::from(level < depth),
				},
			);
			parent = Some(ModuleRef { name, version });
		}
		parent.expect("at least one level; qed")
	}
}

/// The royalty of every version the benchmarks set up: small enough that the deepest lineages
/// of a module and its models together stay within any cap, so every owner is paid.
#[cfg(feature = "runtime-benchmarks")]
pub(crate) const BENCH_ROYALTY: Perbill = Perbill::from_parts(100_000);

/// A distinct account for the benchmarks' owners.
#[cfg(feature = "runtime-benchmarks")]
pub(crate) fn bench_account<T: frame_system::Config>(seed: u32) -> T::AccountId {
	use codec::Decode;
	use sp_runtime::traits::TrailingZeroInput;
	T::AccountId::decode(&mut TrailingZeroInput::new(&(b"lilypad/bench/owner", seed).encode()))
		.expect("infinite input decodes; qed")
}
