//! The chain's API generated from the runtime's metadata, and the `echo` module and offers the
//! job and solver tests share.
use lilypad_primitives::{
	jobs::{input_digest, ExitStatus, JobInputs, ResultManifest, Usage},
	providers::{ModuleFilter, Offer, OfferResources},
	registry::{
		Artifact, Delivery, InputParam, ModuleRef, ParamType, Resources, SemVer,
		VerificationPolicy, VersionManifest,
	},
};
use polkadot_sdk::sp_runtime::Perbill;
use subxt::{
	ext::codec::{Decode, Encode},
	rpcs::{rpc_params, RpcClient},
	utils::Static,
	OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::Keypair;

/// Calls, events and storage from `metadata/lilypad.scale`: the agent's generated API, so
/// that the tests and `lilypad-rp` speak the same types.
pub use lilypad_rp::chain::lilypad;

/// One thousandth of a LILY.
pub const MILLI: u128 = 1_000_000_000;
/// The echo module's artifact digest.
pub const DIGEST: [u8; 32] = [0xEC; 32];

/// Re-types a key or signature as the generated (subxt) type of the same SCALE shape.
pub fn retype<T: Decode>(value: &impl Encode) -> T {
	T::decode(&mut &value.encode()[..]).expect("same SCALE shape as the runtime's type")
}

/// `echo@1.0.0`.
pub fn module() -> ModuleRef {
	ModuleRef { name: b"echo".to_vec().try_into().unwrap(), version: SemVer::new(1, 0, 0) }
}

/// Its manifest: half a core, 64 MiB, one text input `Message`, a floor of 0.001 LILY.
pub fn manifest(timeout_secs: u32, royalty: Perbill) -> VersionManifest<u128> {
	VersionManifest {
		module: module().name,
		version: module().version,
		artifact: Artifact::Wasm { digest: DIGEST, size: 2_048 },
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
		timeout_secs,
		price_floor: MILLI,
		royalty,
		verification: VerificationPolicy::None,
		parent: None,
		models: Default::default(),
	}
}

/// Inputs of one echo job.
pub fn inputs(message: &str) -> JobInputs {
	JobInputs {
		params: vec![(
			b"Message".to_vec().try_into().unwrap(),
			message.as_bytes().to_vec().try_into().unwrap(),
		)]
		.try_into()
		.unwrap(),
		blob: None,
	}
}

/// An offer of 4 cores and 8 GiB per job for any module at `ask`, `capacity` jobs at once.
pub fn offer(ask: u128, capacity: u32) -> Offer<u128> {
	Offer {
		resources: OfferResources {
			cpu_millicores: 4_000,
			ram_mib: 8_192,
			gpus: Default::default(),
			disk_mib: 20_000,
		},
		modules: ModuleFilter::All,
		default_price: ask,
		prices: Default::default(),
		capacity,
		credentials: Default::default(),
		endpoint: b"http://127.0.0.1:8080".to_vec().try_into().unwrap(),
		models: Default::default(),
	}
}

/// What a provider of the echo job on `inputs("hello")` reports for `job`: `output`, logs
/// `[2; 32]` and `[3; 32]`, success.
pub fn result(job: u64, module_digest: [u8; 32], output: [u8; 32]) -> ResultManifest {
	ResultManifest {
		job,
		module_digest,
		input_digest: input_digest(&inputs("hello")),
		output_digest: output,
		stdout_digest: [2; 32],
		stderr_digest: [3; 32],
		exit: ExitStatus::Success,
		usage: Usage { wall_ms: 800, cpu_ms: 700, peak_ram_mib: 12, gpu_ms: 0 },
	}
}

/// The fee and tip an extrinsic paid.
pub fn fee(events: &subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>) -> u128 {
	lilypad_client::chain::fee_paid(events).expect("a fee")
}

/// `who`'s free balance at the best finalized block.
pub async fn free(api: &OnlineClient<SubstrateConfig>, who: &subxt::utils::AccountId32) -> u128 {
	free_at(api, who, None).await
}

/// `who`'s free balance at block `n`, or at the best finalized block if `None`.
pub async fn free_at(
	api: &OnlineClient<SubstrateConfig>,
	who: &subxt::utils::AccountId32,
	n: Option<u64>,
) -> u128 {
	lilypad_client::chain::balance_at(api, who, n).await.expect("the account's balance").0
}

/// The protocol parameters of short windows, for tests that wait them out: the challenge
/// window, the execution grace and the appeal window, in blocks.
pub fn windows(
	challenge: u32,
	grace: u32,
	appeal: u32,
) -> Vec<lilypad::runtime_types::lilypad_runtime::configs::dynamic_params::protocol::Parameters> {
	use lilypad::runtime_types::lilypad_runtime::configs::dynamic_params::protocol;
	vec![
		protocol::Parameters::ChallengeWindow(protocol::ChallengeWindow, Some(challenge)),
		protocol::Parameters::ExecutionGrace(protocol::ExecutionGrace, Some(grace)),
		protocol::Parameters::AppealWindow(protocol::AppealWindow, Some(appeal)),
	]
}

/// Alice (sudo on the dev chain) sets every one of `params` in one batch.
pub async fn sudo_set(
	api: &OnlineClient<SubstrateConfig>,
	params: Vec<
		lilypad::runtime_types::lilypad_runtime::configs::dynamic_params::protocol::Parameters,
	>,
) {
	use lilypad::runtime_types::{
		lilypad_runtime::{configs::RuntimeParameters, RuntimeCall},
		pallet_parameters::pallet::Call as ParametersCall,
		pallet_utility::pallet::Call as UtilityCall,
	};
	let calls = params
		.into_iter()
		.map(|param| {
			RuntimeCall::Parameters(ParametersCall::set_parameter {
				key_value: RuntimeParameters::Protocol(param),
			})
		})
		.collect();
	let batch = RuntimeCall::Utility(UtilityCall::batch_all { calls });
	let alice = subxt_signer::sr25519::dev::alice();
	// Encoded against the node's own metadata: the upgrade test sets parameters on the previous
	// release's runtime, whose `RuntimeCall` has other calls beside these.
	let sudo = lilypad::transactions().sudo().sudo(batch).unvalidated();
	let events =
		crate::submit_finalized(api, &sudo, &alice).await.expect("sudo sets the parameters");
	let sudid =
		events.find_first::<lilypad::sudo::events::Sudid>().expect("decode").expect("Sudid");
	assert!(sudid.sudo_result.is_ok(), "set_parameter failed: {:?}", sudid.sudo_result);
}

/// Charlie submits jobs on `(module, inputs)` in one transaction, each paying up to
/// `max_price` and to be matched within 200 blocks; returns their ids.
pub async fn submit_batch(
	api: &OnlineClient<SubstrateConfig>,
	rpc: &RpcClient,
	jobs: Vec<(ModuleRef, JobInputs)>,
	max_price: u128,
) -> Vec<u64> {
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::jobs::JobOptions,
		lilypad_runtime::RuntimeCall, pallet_jobs::pallet::Call as JobsCall,
	};
	let best = crate::best_number(rpc).await.unwrap().unwrap() as u32;
	let n = jobs.len();
	let calls = jobs
		.into_iter()
		.map(|(module, inputs)| {
			RuntimeCall::Jobs(JobsCall::submit_job {
				module: Static(module),
				inputs: Static(inputs),
				max_price,
				deadline: best + 200,
				options: JobOptions {
					target: None,
					credentials: BoundedVec(vec![]),
					verification: None,
				},
			})
		})
		.collect();
	let charlie = subxt_signer::sr25519::dev::charlie();
	// Encoded against the node's own metadata, as `sudo_set` is.
	let batch = lilypad::transactions().utility().batch_all(calls).unvalidated();
	let events =
		crate::submit_finalized(api, &batch, &charlie).await.expect("Charlie submits jobs");
	let ids: Vec<u64> = events
		.find::<lilypad::jobs::events::JobSubmitted>()
		.map(|e| e.expect("decode JobSubmitted").job)
		.collect();
	assert_eq!(ids.len(), n);
	ids
}

/// `lilypad_job`: the job as JSON.
pub async fn job(rpc: &RpcClient, id: u64) -> serde_json::Value {
	rpc.request("lilypad_job", rpc_params![id]).await.expect("lilypad_job")
}

/// Polls `lilypad_job` until `check` holds for job `id`; returns the job. Panics, naming
/// `what`, after `timeout`.
pub async fn wait_for_job(
	rpc: &RpcClient,
	id: u64,
	what: &str,
	timeout: std::time::Duration,
	check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
	let start = std::time::Instant::now();
	loop {
		let j = job(rpc, id).await;
		if check(&j) {
			return j;
		}
		assert!(start.elapsed() < timeout, "job {id}: not {what} within {timeout:?}: {j}");
		tokio::time::sleep(std::time::Duration::from_millis(250)).await;
	}
}

/// The block `job` (its JSON) entered `stage` in, from its history.
pub fn reached(job: &serde_json::Value, stage: &str) -> Option<u64> {
	job["history"].as_array()?.iter().find(|h| h["stage"] == stage)?["at"].as_u64()
}

/// Polls `lilypad_job` (best block) until job `id` is at `stage`, then waits until the block
/// it got there in is finalized (what subxt's current block is); returns that block.
pub async fn wait_for_stage(
	rpc: &RpcClient,
	id: u64,
	stage: &str,
	timeout: std::time::Duration,
) -> u64 {
	let j = wait_for_job(rpc, id, stage, timeout, |j| j["stage"] == stage).await;
	let at = reached(&j, stage).expect("the stage is in the history");
	crate::wait_until_finalized(rpc, at, timeout, stage).await;
	at
}

/// `owner` publishes the version `manifest` describes (taking the module-provider role and
/// registering the module where it has not yet).
pub async fn publish(
	api: &OnlineClient<SubstrateConfig>,
	owner: &Keypair,
	manifest: VersionManifest<u128>,
) {
	lilypad_client::chain::publish(api, owner, &manifest).await.expect("publish");
}
