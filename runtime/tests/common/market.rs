//! A small market on the real runtime, set up through its calls as users would: Eve publishes
//! the `echo` module, Dave offers compute, Bob solves, Charlie submits jobs and Alice mediates.
use super::in_block;
use lilypad_primitives::{
	identity::Role,
	jobs::{input_digest, ExitStatus, JobId, JobInputs, ResultManifest, Stage, Usage},
	providers::{BondKind, ModuleFilter, Offer, OfferResources},
	registry::{
		Artifact, Delivery, InputParam, ModuleName, ModuleRef, ParamType, Resources, SemVer,
		VerificationPolicy, VersionManifest,
	},
};
use lilypad_runtime::{
	configs::{dynamic_params::protocol, RuntimeParameters},
	AccountId, Balance, Header, Identity, Jobs, Providers, Registry, Runtime, RuntimeCall,
	RuntimeOrigin, System, LILY,
};
use polkadot_sdk::{
	frame_support::{assert_ok, traits::Get},
	pallet_parameters,
	sp_core::Pair,
	sp_keyring::Sr25519Keyring::{self, *},
	sp_runtime::{traits::Dispatchable, Perbill},
};

/// Dave's asking price, and the module's price floor.
pub const ASK: Balance = LILY;
/// What Charlie offers per job.
pub const MAX_PRICE: Balance = 2 * ASK;
pub const PROVIDER_BOND: Balance = 1_000 * LILY;
/// Blocks a provider has past a job's timeout before it is slashed, in these tests.
pub const EXECUTION_GRACE: u32 = 2;
/// Blocks a result can be challenged in, in these tests.
pub const CHALLENGE_WINDOW: u32 = 10;

pub fn who(k: Sr25519Keyring) -> AccountId {
	k.to_account_id()
}

pub fn signed(k: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(who(k))
}

pub fn name(s: &str) -> ModuleName {
	s.as_bytes().to_vec().try_into().unwrap()
}

pub fn echo() -> ModuleRef {
	ModuleRef { name: name("echo"), version: SemVer::new(1, 0, 0) }
}

/// Sets protocol parameters as Root (sudo on the dev chain) would.
pub fn set_protocol(params: impl IntoIterator<Item = protocol::Parameters>) {
	for p in params {
		assert_ok!(RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
			key_value: RuntimeParameters::Protocol(p),
		})
		.dispatch(RuntimeOrigin::root()));
	}
}

/// In one block: short execution grace and challenge window, with the appeal window given;
/// Eve's `echo` 1.0.0 (a WASM module, no re-runs); Dave's offer of `capacity` jobs at
/// [`ASK`], bonded [`PROVIDER_BOND`]; Bob's solver stake; Charlie's job-creator role; and,
/// with `mediator`, Alice's mediator stake.
pub fn open_market(head: &mut Header, appeal_window: u32, capacity: u32, mediator: bool) {
	in_block(head, || {
		set_protocol([
			protocol::Parameters::ExecutionGrace(protocol::ExecutionGrace, Some(EXECUTION_GRACE)),
			protocol::Parameters::ChallengeWindow(
				protocol::ChallengeWindow,
				Some(CHALLENGE_WINDOW),
			),
			protocol::Parameters::AppealWindow(protocol::AppealWindow, Some(appeal_window)),
		]);
		assert_ok!(Identity::register_role(signed(Eve), Role::ModuleProvider));
		assert_ok!(Registry::publish_module(signed(Eve), echo().name));
		let manifest = VersionManifest {
			module: echo().name,
			version: echo().version,
			artifact: Artifact::Wasm { digest: [7; 32], size: 1_234 },
			inputs: vec![InputParam {
				name: b"Message".to_vec().try_into().unwrap(),
				kind: ParamType::Text,
				default: None,
				required: true,
				delivery: Delivery::Env,
			}]
			.try_into()
			.unwrap(),
			resources: Resources { cpu_millicores: 500, ram_mib: 64, ..Default::default() },
			timeout_secs: 4,
			price_floor: ASK,
			royalty: Perbill::zero(),
			verification: VerificationPolicy::None,
			parent: None,
			models: Default::default(),
		};
		let signature = Eve.pair().sign(&Registry::signing_payload(&manifest));
		assert_ok!(Registry::publish_version(signed(Eve), manifest, Eve.public(), signature));

		assert_ok!(Identity::register_role(signed(Dave), Role::ResourceProvider));
		assert_ok!(Providers::register_provider(
			signed(Dave),
			Offer {
				resources: OfferResources {
					cpu_millicores: 4_000,
					ram_mib: 8_192,
					gpus: Default::default(),
					disk_mib: 10_000,
				},
				modules: ModuleFilter::All,
				default_price: ASK,
				prices: Default::default(),
				capacity,
				credentials: Default::default(),
				endpoint: b"http://dave.example".to_vec().try_into().unwrap(),
				models: Default::default(),
			}
		));
		assert_ok!(Providers::bond(signed(Dave), BondKind::Provider, PROVIDER_BOND));
		assert_ok!(Identity::register_role(signed(Bob), Role::Solver));
		assert_ok!(Providers::bond(signed(Bob), BondKind::Solver, 1_000 * LILY));
		assert_ok!(Identity::register_role(signed(Charlie), Role::JobCreator));
		if mediator {
			assert_ok!(Identity::register_role(signed(Alice), Role::Mediator));
			assert_ok!(Providers::bond(signed(Alice), BondKind::Mediator, 1_000 * LILY));
		}
	});
}

/// Charlie submits an echo job matchable until `deadline`; returns its id.
pub fn submit(deadline: u32) -> JobId {
	let job = pallet_jobs::NextJobId::<Runtime>::get();
	let inputs = JobInputs {
		params: vec![(b"Message".to_vec().try_into().unwrap(), b"hi".to_vec().try_into().unwrap())]
			.try_into()
			.unwrap(),
		blob: None,
	};
	assert_ok!(Jobs::submit_job(
		signed(Charlie),
		echo(),
		inputs,
		MAX_PRICE,
		deadline,
		Default::default()
	));
	job
}

/// Charlie submits a job that may wait the full match timeout.
pub fn submit_open() -> JobId {
	submit(System::block_number() + protocol::MatchTimeout::get())
}

/// Bob matches `jobs` to Dave.
pub fn match_to_dave(jobs: &[JobId]) {
	let batch = jobs.iter().map(|j| (*j, who(Dave))).collect::<Vec<_>>().try_into().unwrap();
	assert_ok!(Jobs::propose_match(signed(Bob), batch));
	for job in jobs {
		assert_eq!(stage(*job), Stage::Matched, "job {job} was matched");
	}
}

/// Dave's `submit_result` call for `job`, a successful result signed by `signer`'s key while
/// naming Dave's (a key other than Dave's forges it).
pub fn result_call(job: JobId, signer: Sr25519Keyring) -> RuntimeCall {
	let record = pallet_jobs::Jobs::<Runtime>::get(job).expect("the job exists");
	let manifest = ResultManifest {
		job,
		module_digest: record.module_digest,
		input_digest: input_digest(&record.inputs),
		output_digest: [2; 32],
		stdout_digest: [3; 32],
		stderr_digest: [4; 32],
		exit: ExitStatus::Success,
		usage: Usage { wall_ms: 1_000, cpu_ms: 900, peak_ram_mib: 32, gpu_ms: 0 },
	};
	let models = pallet_jobs::JobModels::<Runtime>::get(job).unwrap_or_default();
	let signature = signer.pair().sign(&Jobs::result_payload(&manifest, &models));
	RuntimeCall::Jobs(pallet_jobs::Call::submit_result {
		job,
		manifest,
		models,
		signer: Dave.public(),
		signature,
	})
}

/// Dave returns a successful result for `job`, signed with his own key.
pub fn submit_result(job: JobId) {
	assert_ok!(result_call(job, Dave).dispatch(signed(Dave)));
}

pub fn stage(job: JobId) -> Stage {
	pallet_jobs::Jobs::<Runtime>::get(job).expect("the job exists").stage()
}
