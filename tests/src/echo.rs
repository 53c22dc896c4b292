//! The chain's API generated from the runtime's metadata, and the `echo` module and offers the
//! job and solver tests share.
use lilypad_primitives::{
	jobs::JobInputs,
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
	}
}

/// The fee and tip an extrinsic paid.
pub fn fee(events: &subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>) -> u128 {
	let fee = events
		.find_first::<lilypad::transaction_payment::events::TransactionFeePaid>()
		.expect("decode events")
		.expect("a fee");
	fee.actual_fee + fee.tip
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
	let at = match n {
		Some(n) => api.at_block(n).await,
		None => api.at_current_block().await,
	};
	at.expect("block")
		.storage()
		.entry(lilypad::storage().system().account())
		.expect("System.Account")
		.fetch((*who,))
		.await
		.expect("fetch account")
		.decode()
		.expect("decode account")
		.data
		.free
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
	let events = crate::submit_finalized(api, &lilypad::transactions().sudo().sudo(batch), &alice)
		.await
		.expect("sudo sets the parameters");
	let sudid =
		events.find_first::<lilypad::sudo::events::Sudid>().expect("decode").expect("Sudid");
	assert!(sudid.sudo_result.is_ok(), "set_parameter failed: {:?}", sudid.sudo_result);
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

/// `owner` takes the module-provider role (unless it has it), publishes the module `manifest`
/// names and the version `manifest` describes, signed for the chain of `genesis`.
pub async fn publish(
	api: &OnlineClient<SubstrateConfig>,
	genesis: [u8; 32],
	owner: &Keypair,
	manifest: VersionManifest<u128>,
) {
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::identity::Role,
	};
	let tx = lilypad::transactions;
	let at = api.at_current_block().await.expect("block");
	let roles = at
		.storage()
		.fetch(lilypad::storage().identity().roles(), (owner.public_key().into(),))
		.await
		.expect("roles");
	let roles = lilypad_primitives::identity::RoleSet::decode(&mut roles.bytes()).expect("roles");
	if !roles.contains(lilypad_primitives::identity::Role::ModuleProvider) {
		crate::submit_finalized(api, &tx().identity().register_role(Role::ModuleProvider), owner)
			.await
			.expect("register_role");
	}
	crate::submit_finalized(
		api,
		&tx().registry().publish_module(BoundedVec(manifest.module.to_vec())),
		owner,
	)
	.await
	.expect("publish_module");
	let sig =
		owner.sign(&lilypad_primitives::registry::manifest_signing_payload(&genesis, &manifest)).0;
	let version = tx().registry().publish_version(
		Static(manifest),
		retype(&owner.public_key().0),
		retype(&sig),
	);
	crate::submit_finalized(api, &version, owner).await.expect("publish_version");
}
