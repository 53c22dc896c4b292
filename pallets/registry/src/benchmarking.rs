//! Benchmarks of the registry's calls, each in its most expensive case: the largest manifest,
//! signed by a delegate, forking a version of another module.
use super::*;
use alloc::vec::Vec;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get,
};
use frame_system::RawOrigin;
use lilypad_primitives::{
	identity::{IdentityInspect, Role},
	models::{ModelRefs, Weights, WeightsFormat, WeightsLayout, MAX_MODULE_MODELS},
	registry::{Delivery, ParamType, Resources, MAX_INPUT_PARAMS, MAX_PARAM_DEFAULT_LEN},
};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	sp_core::{crypto::KeyTypeId, sr25519},
	sp_io,
	sp_runtime::{traits::IdentifyAccount, Perbill},
};

const KEY_TYPE: KeyTypeId = KeyTypeId(*b"lily");

fn module_name(n: u32) -> ModuleName {
	let mut name = b"module-".to_vec();
	name.extend(alloc::format!("{n:025}").bytes());
	name.try_into().expect("32 bytes fit; qed")
}

/// The largest manifest: every parameter, each with the longest default, and every model.
fn big_manifest<T: Config>(
	module: ModuleName,
	version: SemVer,
	parent: Option<ModuleRef>,
	models: ModelRefs,
) -> ManifestOf<T> {
	let inputs: Vec<InputParam> = (0..MAX_INPUT_PARAMS)
		.map(|i| InputParam {
			name: alloc::format!("Param_{i:026}").into_bytes().try_into().expect("32 bytes; qed"),
			kind: ParamType::Text,
			default: Some(
				alloc::vec![b'x'; MAX_PARAM_DEFAULT_LEN as usize].try_into().expect("fits; qed"),
			),
			required: false,
			delivery: Delivery::Env,
		})
		.collect();
	VersionManifest {
		module,
		version,
		artifact: Artifact::Docker { archive_digest: [1; 32], config_digest: [2; 32] },
		inputs: inputs.try_into().expect("MAX_INPUT_PARAMS of them; qed"),
		resources: Resources {
			cpu_millicores: 4_000,
			ram_mib: 16_384,
			gpus: 1,
			vram_mib: 24_576,
			disk_mib: 10_240,
		},
		timeout_secs: T::MaxTimeoutSecs::get(),
		price_floor: 1_000u32.into(),
		royalty: Perbill::zero(),
		verification: VerificationPolicy::Sampled { p: Perbill::from_percent(10) },
		parent,
		models,
	}
}

fn model_name(n: u32) -> ModelName {
	let mut name = b"model-".to_vec();
	name.extend(alloc::format!("{n:026}").bytes());
	name.try_into().expect("32 bytes fit; qed")
}

/// The largest model manifest: the longest licence.
fn model_manifest(model: ModelName, version: SemVer, parent: Option<ModelRef>) -> ModelManifest {
	let mut licence = b"LicenseRef-".to_vec();
	licence.resize(lilypad_primitives::models::MAX_LICENCE_LEN as usize, b'x');
	ModelManifest {
		model,
		version,
		weights: Weights {
			digest: [3; 32],
			size: 1 << 30,
			layout: WeightsLayout::Directory,
			format: WeightsFormat::Safetensors,
		},
		licence: licence.try_into().expect("MAX_LICENCE_LEN bytes; qed"),
		royalty: Perbill::zero(),
		parent,
	}
}

fn publish_model_as<T: Config>(
	owner: &T::AccountId,
	public: &sr25519::Public,
	manifest: ModelManifest,
) -> Result<(), BenchmarkError> {
	let signature = sign_model::<T>(public, &manifest);
	Pallet::<T>::publish_model(
		RawOrigin::Signed(owner.clone()).into(),
		manifest,
		*public,
		signature,
	)
	.map_err(|_| BenchmarkError::Stop("set-up model failed"))
}

fn sign_model<T: Config>(public: &sr25519::Public, manifest: &ModelManifest) -> sr25519::Signature {
	sp_io::crypto::sr25519_sign(KEY_TYPE, public, &Pallet::<T>::model_signing_payload(manifest))
		.expect("the key is in the keystore; qed")
}

/// [`MAX_MODULE_MODELS`] models, each of its own fresh owner, numbered from `first`.
fn models<T: Config>(first: u32) -> Result<ModelRefs, BenchmarkError> {
	let mut refs = Vec::new();
	for n in first..first + MAX_MODULE_MODELS {
		let (owner, public) = funded_provider::<T>();
		let version = SemVer::new(1, 0, 0);
		publish_model_as::<T>(&owner, &public, model_manifest(model_name(n), version, None))?;
		refs.push(ModelRef { name: model_name(n), version });
	}
	Ok(refs.try_into().expect("MAX_MODULE_MODELS of them; qed"))
}

/// A funded module provider with an sr25519 key in the benchmark keystore.
fn funded_provider<T: Config>() -> (T::AccountId, sr25519::Public) {
	let public = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	let who = T::ManifestSigner::from(public).into_account();
	let funds = T::Currency::minimum_balance()
		+ (T::ModuleDeposit::get() + T::VersionDeposit::get()) * 1_000u32.into();
	T::Currency::set_balance(&who, funds);
	T::Identity::grant_role(&who, Role::ModuleProvider);
	(who, public)
}

fn sign<T: Config>(public: &sr25519::Public, manifest: &ManifestOf<T>) -> sr25519::Signature {
	sp_io::crypto::sr25519_sign(KEY_TYPE, public, &Pallet::<T>::signing_payload(manifest))
		.expect("the key is in the keystore; qed")
}

fn publish<T: Config>(
	owner: &T::AccountId,
	public: &sr25519::Public,
	manifest: ManifestOf<T>,
) -> Result<(), BenchmarkError> {
	let signature = sign::<T>(public, &manifest);
	Pallet::<T>::publish_version(
		RawOrigin::Signed(owner.clone()).into(),
		manifest,
		*public,
		signature,
	)
	.map_err(|_| BenchmarkError::Stop("set-up publish failed"))
}

/// A module with one version, owned by a fresh provider.
fn module_with_version<T: Config>(
	n: u32,
) -> Result<(T::AccountId, sr25519::Public, ModuleName), BenchmarkError> {
	let (owner, public) = funded_provider::<T>();
	let name = module_name(n);
	Pallet::<T>::publish_module(RawOrigin::Signed(owner.clone()).into(), name.clone())
		.map_err(|_| BenchmarkError::Stop("set-up module failed"))?;
	let manifest = big_manifest::<T>(name.clone(), SemVer::new(0, 1, 0), None, Default::default());
	publish::<T>(&owner, &public, manifest)?;
	Ok((owner, public, name))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn publish_module() {
		let (owner, _) = funded_provider::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), module_name(0));
		assert!(Modules::<T>::contains_key(module_name(0)));
	}

	#[benchmark]
	fn publish_version() -> Result<(), BenchmarkError> {
		let (_, _, parent_module) = module_with_version::<T>(1)?;
		let (org, _) = funded_provider::<T>();
		Pallet::<T>::publish_module(RawOrigin::Signed(org.clone()).into(), module_name(2))
			.map_err(|_| BenchmarkError::Stop("set-up module failed"))?;
		// Both the caller and the signer are delegates: two delegation lookups.
		let (operator, operator_key) = funded_provider::<T>();
		T::Identity::grant_delegation(&org, &operator);
		let manifest = big_manifest::<T>(
			module_name(2),
			SemVer::new(1, 0, 0),
			Some(ModuleRef { name: parent_module, version: SemVer::new(0, 1, 0) }),
			models::<T>(0)?,
		);
		let signature = sign::<T>(&operator_key, &manifest);
		#[extrinsic_call]
		_(RawOrigin::Signed(operator), manifest, operator_key, signature);
		assert!(Versions::<T>::contains_key(module_name(2), SemVer::new(1, 0, 0)));
		Ok(())
	}

	#[benchmark]
	fn deprecate_version() -> Result<(), BenchmarkError> {
		let (owner, _, name) = module_with_version::<T>(1)?;
		let (operator, _) = funded_provider::<T>();
		T::Identity::grant_delegation(&owner, &operator);
		#[extrinsic_call]
		_(RawOrigin::Signed(operator), name.clone(), SemVer::new(0, 1, 0));
		assert!(Versions::<T>::get(&name, SemVer::new(0, 1, 0)).is_some_and(|v| v.deprecated));
		Ok(())
	}

	#[benchmark]
	fn transfer_ownership() -> Result<(), BenchmarkError> {
		let (owner, _, name) = module_with_version::<T>(1)?;
		let (new_owner, _) = funded_provider::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), name.clone(), new_owner.clone());
		assert!(Modules::<T>::get(&name).is_some_and(|m| m.owner == new_owner));
		Ok(())
	}

	#[benchmark]
	fn set_price() -> Result<(), BenchmarkError> {
		let (owner, _, name) = module_with_version::<T>(1)?;
		let (operator, _) = funded_provider::<T>();
		T::Identity::grant_delegation(&owner, &operator);
		#[extrinsic_call]
		_(RawOrigin::Signed(operator), name.clone(), SemVer::new(0, 1, 0), 7u32.into());
		assert!(Versions::<T>::get(&name, SemVer::new(0, 1, 0))
			.is_some_and(|v| v.price_floor == 7u32.into()));
		Ok(())
	}

	/// `v` versions, each forking a version of another module (whose fork count drops) and
	/// needing every model (whose counts of module versions drop).
	#[benchmark]
	fn retire_module(v: Linear<1, { T::MaxVersions::get() }>) -> Result<(), BenchmarkError> {
		let (_, _, parent_module) = module_with_version::<T>(1)?;
		let models = models::<T>(0)?;
		let (owner, public) = funded_provider::<T>();
		let name = module_name(2);
		Pallet::<T>::publish_module(RawOrigin::Signed(owner.clone()).into(), name.clone())
			.map_err(|_| BenchmarkError::Stop("set-up module failed"))?;
		for patch in 0..v {
			let parent = ModuleRef { name: parent_module.clone(), version: SemVer::new(0, 1, 0) };
			publish::<T>(
				&owner,
				&public,
				big_manifest::<T>(
					name.clone(),
					SemVer::new(1, 0, patch as u16),
					Some(parent),
					models.clone(),
				),
			)?;
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), name.clone());
		assert!(!Modules::<T>::contains_key(&name));
		Ok(())
	}

	/// A new version of a known model, sent and signed by delegates of its owner, deriving
	/// from another model's version.
	#[benchmark]
	fn publish_model() -> Result<(), BenchmarkError> {
		let (parent_owner, parent_key) = funded_provider::<T>();
		let version = SemVer::new(1, 0, 0);
		publish_model_as::<T>(
			&parent_owner,
			&parent_key,
			model_manifest(model_name(1), version, None),
		)?;
		let (org, org_key) = funded_provider::<T>();
		publish_model_as::<T>(&org, &org_key, model_manifest(model_name(2), version, None))?;
		let (operator, operator_key) = funded_provider::<T>();
		T::Identity::grant_delegation(&org, &operator);
		let manifest = model_manifest(
			model_name(2),
			SemVer::new(1, 1, 0),
			Some(ModelRef { name: model_name(1), version }),
		);
		let signature = sign_model::<T>(&operator_key, &manifest);
		#[extrinsic_call]
		_(RawOrigin::Signed(operator), manifest, operator_key, signature);
		assert!(ModelVersions::<T>::contains_key(model_name(2), SemVer::new(1, 1, 0)));
		Ok(())
	}

	/// `v` versions, each deriving from a version of another model (whose fork count drops).
	#[benchmark]
	fn retire_model(v: Linear<1, { T::MaxVersions::get() }>) -> Result<(), BenchmarkError> {
		let (parent_owner, parent_key) = funded_provider::<T>();
		let parent = ModelRef { name: model_name(1), version: SemVer::new(1, 0, 0) };
		publish_model_as::<T>(
			&parent_owner,
			&parent_key,
			model_manifest(parent.name.clone(), parent.version, None),
		)?;
		let (owner, public) = funded_provider::<T>();
		for patch in 0..v {
			let manifest = model_manifest(
				model_name(2),
				SemVer::new(1, 0, patch as u16),
				Some(parent.clone()),
			);
			publish_model_as::<T>(&owner, &public, manifest)?;
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model_name(2));
		assert!(!Models::<T>::contains_key(model_name(2)));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
