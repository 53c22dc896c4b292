//! The module registry on a real `lilypad-node --dev`: Alice takes the module-provider role,
//! publishes a module and a version signed with her sr25519 key, reads it back through the
//! `lilypad_module(s)` RPCs, and sees a manifest signed with the wrong key refused.
use std::time::Duration;

use lilypad_e2e::{legacy, submit_finalized as submit, Node};
use lilypad_primitives::registry::{
	manifest_signing_payload, Artifact, Delivery, InputParam, ParamType, Resources, SemVer,
	VerificationPolicy, VersionManifest,
};
use polkadot_sdk::sp_runtime::Perbill;
use subxt::{
	ext::codec::{Decode, Encode},
	rpcs::rpc_params,
	OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::dev;

// The manifest is built and signed with the runtime's own type, so that the bytes signed here are
// the bytes the runtime verifies.
#[subxt::subxt(
	runtime_metadata_path = "../metadata/lilypad.scale",
	substitute_type(
		path = "lilypad_primitives::registry::VersionManifest",
		with = "::subxt::utils::Static<::lilypad_primitives::registry::VersionManifest<u128>>"
	)
)]
pub mod lilypad {}

use lilypad::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::identity::Role,
};
use subxt::utils::Static;

const START_TIMEOUT: Duration = Duration::from_secs(240);

/// Re-types a key or signature as the generated (subxt) type of the same SCALE shape.
fn retype<T: Decode>(value: &impl Encode) -> T {
	T::decode(&mut &value.encode()[..]).expect("same SCALE shape as the runtime's type")
}

fn manifest(version: SemVer) -> VersionManifest<u128> {
	VersionManifest {
		module: b"cowsay".to_vec().try_into().unwrap(),
		version,
		artifact: Artifact::Wasm { digest: [0xC0; 32], size: 4_096 },
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
		timeout_secs: 60,
		price_floor: 1_000_000_000,
		royalty: Perbill::from_percent(5),
		verification: VerificationPolicy::Deterministic,
		parent: None,
		models: Default::default(),
	}
}

type Client = OnlineClient<SubstrateConfig>;

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_module_version_is_published_read_back_and_a_forgery_refused() {
	let mut node = Node::spawn("registry", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let alice = dev::alice();
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash");

	submit(&api, &lilypad::transactions().identity().register_role(Role::ModuleProvider), &alice)
		.await
		.expect("Alice registers as a module provider");
	let name: Vec<u8> = b"cowsay".to_vec();
	submit(
		&api,
		&lilypad::transactions().registry().publish_module(BoundedVec(name.clone())),
		&alice,
	)
	.await
	.expect("Alice publishes the module");

	// Sign exactly what the runtime verifies: domain tag, genesis hash, SCALE manifest.
	let good = manifest(SemVer::new(0, 1, 0));
	let signature = alice.sign(&manifest_signing_payload(&genesis.0, &good)).0;
	let events = submit(
		&api,
		&lilypad::transactions().registry().publish_version(
			Static(good.clone()),
			retype(&alice.public_key().0),
			retype(&signature),
		),
		&alice,
	)
	.await
	.expect("a correctly signed version is accepted");
	let published = events
		.find_first::<lilypad::registry::events::VersionPublished>()
		.expect("decode events")
		.expect("a VersionPublished event");
	assert_eq!(published.module.0, name);

	// Read it back through the node's own RPC.
	let module: serde_json::Value =
		rpc.request("lilypad_module", rpc_params!["cowsay"]).await.expect("lilypad_module");
	let alice_ss58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
	assert_eq!(module["name"], "cowsay");
	assert_eq!(module["owner"], alice_ss58);
	let versions = module["versions"].as_array().expect("versions");
	assert_eq!(versions.len(), 1);
	let v = &versions[0];
	assert_eq!(v["version"], "0.1.0");
	assert_eq!(v["publisher"], alice_ss58);
	assert_eq!(v["artifact"]["kind"], "wasm");
	assert_eq!(v["artifact"]["digest"], format!("0x{}", "c0".repeat(32)));
	assert_eq!(v["artifact"]["size"], 4_096);
	assert_eq!(v["inputs"][0]["name"], "Message");
	assert_eq!(v["inputs"][0]["required"], true);
	assert_eq!(v["priceFloor"], "1000000000");
	assert_eq!(v["royaltyPerBillion"], 50_000_000);
	assert_eq!(v["verification"]["policy"], "deterministic");
	assert_eq!(v["deprecated"], false);
	let hex_sig: String = signature.iter().map(|b| format!("{b:02x}")).collect();
	assert_eq!(v["signature"], format!("0x{hex_sig}"));

	let missing: serde_json::Value =
		rpc.request("lilypad_module", rpc_params!["nope"]).await.expect("lilypad_module");
	assert!(missing.is_null());
	let page: Vec<serde_json::Value> = rpc
		.request("lilypad_modules", rpc_params![Option::<String>::None, 10])
		.await
		.expect("lilypad_modules");
	assert_eq!(page.len(), 1);
	assert_eq!(page[0]["name"], "cowsay");
	let after: Vec<serde_json::Value> =
		rpc.request("lilypad_modules", rpc_params!["cowsay", 10]).await.expect("next page");
	assert!(after.is_empty(), "one module, one page");
	let too_long = rpc
		.request::<serde_json::Value>("lilypad_module", rpc_params!["x".repeat(33)])
		.await
		.expect_err("an over-long name is invalid");
	assert!(too_long.to_string().contains("at most 32 bytes"), "{too_long}");

	// Bob's key signs, but the call claims Alice's: the chain refuses it.
	let next = manifest(SemVer::new(0, 2, 0));
	let forged = dev::bob().sign(&manifest_signing_payload(&genesis.0, &next)).0;
	let refused = submit(
		&api,
		&lilypad::transactions().registry().publish_version(
			Static(next.clone()),
			retype(&alice.public_key().0),
			retype(&forged),
		),
		&alice,
	)
	.await
	.expect_err("a forged signature is refused");
	assert!(refused.contains("BadSignature"), "refused for the wrong reason: {refused}");
	let module: serde_json::Value =
		rpc.request("lilypad_module", rpc_params!["cowsay"]).await.expect("lilypad_module");
	assert_eq!(module["versions"].as_array().unwrap().len(), 1, "nothing was published");
	node.assert_running();
}
