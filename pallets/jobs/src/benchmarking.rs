//! Benchmarks of the jobs pallet's calls and hook, each in its most expensive case: the
//! largest inputs, the deepest lineage (every owner paid a royalty), full batches.
use super::*;
use alloc::vec::Vec;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::RawOrigin;
use lilypad_primitives::{
	identity::{IdentityInspect, Role},
	jobs::{input_digest, ExitStatus, InputValue, Usage},
	providers::{BondKind, ModuleFilter, Offer, OfferResources, ProviderLedger},
	registry::{ModuleRef, ModuleRegistry, MAX_INPUT_PARAMS},
};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	sp_core::{crypto::KeyTypeId, sr25519},
	sp_io,
	sp_runtime::traits::{IdentifyAccount, One, Saturating},
};

const KEY_TYPE: KeyTypeId = KeyTypeId(*b"lily");
/// Ancestors of the benchmarked module: the registry's deepest lineage in the runtime.
const LINEAGE_DEPTH: u32 = 8;
const PRICE: u32 = 1_000_000;

fn plenty<T: Config>() -> BalanceOf<T> {
	let unit: BalanceOf<T> = 1_000_000_000u32.into();
	unit.saturating_mul(unit)
}

fn funded<T: Config>(name: &'static str, n: u32, role: Role) -> T::AccountId {
	let who: T::AccountId = account(name, n, 0);
	T::Currency::set_balance(&who, plenty::<T>());
	T::Identity::grant_role(&who, role);
	who
}

/// A provider with an sr25519 key in the benchmark keystore, bonded for many jobs.
fn provider<T: Config>() -> (T::AccountId, sr25519::Public) {
	let public = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	let who = T::ResultSigner::from(public).into_account();
	T::Currency::set_balance(&who, plenty::<T>().saturating_mul(2u32.into()));
	T::Identity::grant_role(&who, Role::ResourceProvider);
	let offer = Offer {
		resources: OfferResources {
			cpu_millicores: 64_000,
			ram_mib: 1 << 20,
			gpus: Default::default(),
			disk_mib: 1 << 20,
		},
		modules: ModuleFilter::All,
		default_price: PRICE.into(),
		prices: Default::default(),
		capacity: T::MaxBatch::get().max(T::MaxDuePerBlock::get()),
		credentials: Default::default(),
		endpoint: b"http://bench.example".to_vec().try_into().expect("short; qed"),
		models: Default::default(),
	};
	T::Providers::set_up_provider(&who, offer, plenty::<T>());
	(who, public)
}

fn solver<T: Config>() -> T::AccountId {
	let who = funded::<T>("solver", 0, Role::Solver);
	T::Providers::set_up_bond(&who, BondKind::Solver, plenty::<T>() / 2u32.into());
	who
}

/// Every parameter of the module's schema, the inline bytes shared out among them.
fn inputs<T: Config>() -> JobInputs {
	let each = (T::MaxInlineInput::get() / MAX_INPUT_PARAMS) as usize;
	let params: Vec<_> = (0..MAX_INPUT_PARAMS)
		.map(|i| {
			let name = alloc::format!("P{i}").into_bytes().try_into().expect("short; qed");
			let value: InputValue =
				alloc::vec![b'v'; each.min(1_024)].try_into().expect("fits; qed");
			(name, value)
		})
		.collect();
	JobInputs {
		params: params.try_into().expect("MAX_INPUT_PARAMS of them; qed"),
		blob: Some([1; 32]),
	}
}

struct World<T: Config> {
	module: ModuleRef,
	creator: T::AccountId,
	provider: T::AccountId,
	key: sr25519::Public,
	solver: T::AccountId,
}

fn world<T: Config>() -> World<T> {
	let owner = funded::<T>("owner", 0, Role::ModuleProvider);
	let module = T::Registry::set_up_lineage(&owner, LINEAGE_DEPTH);
	let creator = funded::<T>("creator", 0, Role::JobCreator);
	let (provider, key) = provider::<T>();
	World { module, creator, provider, key, solver: solver::<T>() }
}

fn submit<T: Config>(w: &World<T>) -> JobId {
	let id = NextJobId::<T>::get();
	let deadline =
		frame_system::Pallet::<T>::block_number().saturating_add(T::MatchTimeout::get().into());
	Pallet::<T>::submit_job(
		RawOrigin::Signed(w.creator.clone()).into(),
		w.module.clone(),
		inputs::<T>(),
		PRICE.into(),
		deadline,
		Default::default(),
	)
	.expect("the benchmark job is valid; qed");
	id
}

fn matched<T: Config>(w: &World<T>) -> JobId {
	let job = submit(w);
	let batch: BatchOf<T> =
		alloc::vec![(job, w.provider.clone())].try_into().expect("one fits; qed");
	Pallet::<T>::propose_match(RawOrigin::Signed(w.solver.clone()).into(), batch)
		.expect("the pair is valid; qed");
	assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::Matched));
	job
}

fn manifest<T: Config>(job: JobId) -> ResultManifest {
	let record = Jobs::<T>::get(job).expect("the job exists; qed");
	ResultManifest {
		job,
		module_digest: record.module_digest,
		input_digest: input_digest(&record.inputs),
		output_digest: [2; 32],
		stdout_digest: [3; 32],
		stderr_digest: [4; 32],
		exit: ExitStatus::Success,
		usage: Usage { wall_ms: 1_000, cpu_ms: 1_000, peak_ram_mib: 64, gpu_ms: 0 },
	}
}

/// The job's model digests, and the provider's signature over `m` run with them.
fn sign<T: Config>(
	key: &sr25519::Public,
	m: &ResultManifest,
) -> (lilypad_primitives::registry::ModelDigests, sr25519::Signature) {
	let models = JobModels::<T>::get(m.job).unwrap_or_default();
	let sig = sp_io::crypto::sr25519_sign(KEY_TYPE, key, &Pallet::<T>::result_payload(m, &models))
		.expect("the key is in the keystore; qed");
	(models, sig)
}

fn with_result<T: Config>(w: &World<T>) -> JobId {
	let job = matched(w);
	let m = manifest::<T>(job);
	let (models, sig) = sign::<T>(&w.key, &m);
	let origin = RawOrigin::Signed(w.provider.clone()).into();
	Pallet::<T>::submit_result(origin, job, m, models, w.key, sig)
		.expect("the result is valid; qed");
	job
}

fn challenged<T: Config>(w: &World<T>) -> JobId {
	let job = with_result(w);
	Pallet::<T>::challenge(RawOrigin::Signed(w.creator.clone()).into(), job)
		.expect("inside the window; qed");
	job
}

/// A challenged job with a mediator assigned to it, as the draw leaves it; returns the
/// mediator's account and key.
fn mediating<T: Config>(job: JobId) -> (T::AccountId, sr25519::Public) {
	let key = sp_io::crypto::sr25519_generate(KEY_TYPE, None);
	let mediator = T::ResultSigner::from(key).into_account();
	T::Currency::set_balance(&mediator, plenty::<T>());
	T::Identity::grant_role(&mediator, Role::Mediator);
	T::Providers::set_up_bond(&mediator, BondKind::Mediator, plenty::<T>() / 2u32.into());
	let penalty = T::MediatorPenalty::get();
	T::Providers::lock_bond(&mediator, BondKind::Mediator, penalty).expect("bonded; qed");
	let answer_by =
		frame_system::Pallet::<T>::block_number().saturating_add(T::MediationTimeout::get());
	Jobs::<T>::mutate(job, |j| {
		let Some(JobState::InMediation { mediation: m, .. }) = j.as_mut().map(|j| &mut j.state)
		else {
			panic!("challenged; qed")
		};
		m.mediator = Some(mediator.clone());
		m.stake_locked = penalty;
		m.answer_by = answer_by;
	});
	(mediator, key)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit_job() {
		let w = world::<T>();
		// Not `now + 1`: the benchmark moves a genesis block number of 0 to 1 before the call.
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MatchTimeout::get().into());
		#[extrinsic_call]
		_(
			RawOrigin::Signed(w.creator.clone()),
			w.module.clone(),
			inputs::<T>(),
			PRICE.into(),
			deadline,
			Default::default(),
		);
		assert_eq!(Jobs::<T>::get(0).map(|j| j.stage()), Some(Stage::Submitted));
	}

	#[benchmark]
	fn cancel_job() {
		let w = world::<T>();
		let job = submit(&w);
		#[extrinsic_call]
		_(RawOrigin::Signed(w.creator.clone()), job);
		assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::Cancelled));
	}

	#[benchmark]
	fn propose_match(b: Linear<1, { T::MaxBatch::get() }>) {
		let w = world::<T>();
		let jobs: Vec<JobId> = (0..b).map(|_| submit(&w)).collect();
		let batch: BatchOf<T> = jobs
			.iter()
			.map(|j| (*j, w.provider.clone()))
			.collect::<Vec<_>>()
			.try_into()
			.expect("b <= MaxBatch; qed");
		#[extrinsic_call]
		_(RawOrigin::Signed(w.solver.clone()), batch);
		for job in jobs {
			assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::Matched));
		}
	}

	#[benchmark]
	fn submit_result() {
		let w = world::<T>();
		let job = matched(&w);
		let m = manifest::<T>(job);
		let (models, sig) = sign::<T>(&w.key, &m);
		assert!(!models.is_empty(), "the worst case checks every model's digest");
		#[extrinsic_call]
		_(RawOrigin::Signed(w.provider.clone()), job, m, models, w.key, sig);
		assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::ResultSubmitted));
	}

	#[benchmark]
	fn challenge() {
		let w = world::<T>();
		let job = with_result(&w);
		#[extrinsic_call]
		_(RawOrigin::Signed(w.creator.clone()), job);
		assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::InMediation));
	}

	#[benchmark]
	fn resolve_mediation() -> Result<(), BenchmarkError> {
		let w = world::<T>();
		let job = challenged(&w);
		let origin =
			T::MediationOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		// Upholding pays every party up the lineage: the dearer verdict.
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, job, Verdict::ResultUpheld);
		assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::Completed));
		Ok(())
	}

	/// The mediator agrees: the job completes, paying every party up the lineage and the
	/// mediator (the dearer verdict, as for `resolve_mediation`).
	#[benchmark]
	fn submit_mediation() {
		let w = world::<T>();
		let job = challenged(&w);
		let (mediator, key) = mediating::<T>(job);
		let rerun = manifest::<T>(job);
		let payload = Pallet::<T>::mediation_payload(&rerun);
		let sig = sp_io::crypto::sr25519_sign(KEY_TYPE, &key, &payload).expect("in the keystore");
		#[extrinsic_call]
		_(RawOrigin::Signed(mediator), job, rerun, key, sig);
		assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::Completed));
	}

	#[benchmark]
	fn cancel_slash() -> Result<(), BenchmarkError> {
		let w = world::<T>();
		let job = challenged(&w);
		Pallet::<T>::resolve_mediation(
			T::MediationOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?,
			job,
			Verdict::ResultWrong,
		)?;
		let origin = T::SlashCancelOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, job);
		assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::SlashCancelled));
		Ok(())
	}

	/// `n` jobs complete in one block, each paying every owner of the deepest lineage.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxDuePerBlock::get() }>) {
		let w = world::<T>();
		let jobs: Vec<JobId> = (0..n).map(|_| with_result(&w)).collect();
		// All due in one block: other steps of the set-up may share their natural block.
		let due = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		let queue: BoundedVec<JobId, T::MaxDuePerBlock> =
			jobs.clone().try_into().expect("n <= MaxDuePerBlock; qed");
		DueJobs::<T>::insert(due, queue);
		for job in &jobs {
			Jobs::<T>::mutate(job, |j| {
				if let Some(j) = j {
					j.due = Some(due);
				}
			});
		}
		frame_system::Pallet::<T>::set_block_number(due);
		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}
		for job in jobs {
			assert_eq!(Jobs::<T>::get(job).map(|j| j.stage()), Some(Stage::Completed));
		}
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
