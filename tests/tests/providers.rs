//! Providers on a real `lilypad-node --dev`: with the heartbeat period and unbonding delay
//! shortened through the parameters pallet (sudo), Bob registers an offer, bonds collateral,
//! sends heartbeats, goes silent and is marked away, comes back, unbonds, is refused an early
//! withdrawal and withdraws after the delay, with his balances checked to the unit.
use std::time::Duration;

use lilypad_e2e::{best_number, submit_finalized as submit, wait_until_best, Node};
use lilypad_primitives::providers::{Gpu, ModuleFilter, Offer, OfferResources};
use subxt::{rpcs::rpc_params, utils::Static, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::dev;

#[subxt::subxt(
	runtime_metadata_path = "../metadata/lilypad.scale",
	substitute_type(
		path = "lilypad_primitives::providers::Offer",
		with = "::subxt::utils::Static<::lilypad_primitives::providers::Offer<u128>>"
	)
)]
pub mod lilypad {}

use lilypad::runtime_types::{
	lilypad_primitives::{identity::Role, providers::BondKind},
	lilypad_runtime::{
		configs::{dynamic_params::protocol, RuntimeParameters},
		RuntimeCall,
	},
	pallet_parameters::pallet::Call as ParametersCall,
};

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000_000_000_000;
/// Long enough that a heartbeat is still current when its transaction is final (dev chains
/// finalize a couple of blocks behind), short enough to wait out.
const HEARTBEAT_PERIOD: u32 = 8;
const UNBONDING_DELAY: u32 = 10;

type Client = OnlineClient<SubstrateConfig>;

fn offer() -> Offer<u128> {
	Offer {
		resources: OfferResources {
			cpu_millicores: 4_000,
			ram_mib: 8_192,
			gpus: vec![Gpu { model: b"RTX 4090".to_vec().try_into().unwrap(), vram_mib: 24_576 }]
				.try_into()
				.unwrap(),
			disk_mib: 20_000,
		},
		modules: ModuleFilter::All,
		default_price: LILY / 100,
		prices: Default::default(),
		capacity: 2,
		credentials: Default::default(),
		endpoint: b"http://127.0.0.1:8080".to_vec().try_into().unwrap(),
		models: Default::default(),
	}
}

async fn provider(rpc: &subxt::rpcs::RpcClient, who: &str) -> serde_json::Value {
	rpc.request("lilypad_provider", rpc_params![who]).await.expect("lilypad_provider")
}

/// Free and held (reserved) balance of `who` at the current block.
async fn balances(api: &Client, who: &subxt::utils::AccountId32) -> (u128, u128) {
	lilypad_client::chain::balance_at(api, who, None).await.expect("the account's balance")
}

fn fee_paid(events: &subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>) -> u128 {
	lilypad_e2e::echo::fee(events)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_bonds_beats_goes_away_returns_unbonds_and_withdraws() {
	let mut node = Node::spawn("providers", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let (alice, bob) = (dev::alice(), dev::bob());
	let bob_id: subxt::utils::AccountId32 = bob.public_key().into();
	let bob_ss58 = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

	// Governance (sudo on dev) shortens the period and the delay for the test.
	for param in [
		protocol::Parameters::HeartbeatPeriod(protocol::HeartbeatPeriod, Some(HEARTBEAT_PERIOD)),
		protocol::Parameters::UnbondingDelay(protocol::UnbondingDelay, Some(UNBONDING_DELAY)),
	] {
		let set = RuntimeCall::Parameters(ParametersCall::set_parameter {
			key_value: RuntimeParameters::Protocol(param),
		});
		let events = submit(&api, &lilypad::transactions().sudo().sudo(set), &alice)
			.await
			.expect("sudo sets a parameter");
		let sudid =
			events.find_first::<lilypad::sudo::events::Sudid>().expect("decode").expect("Sudid");
		assert!(sudid.sudo_result.is_ok(), "set_parameter failed: {:?}", sudid.sudo_result);
	}

	// Bob offers compute and bonds 1 000 LILY of collateral.
	submit(&api, &lilypad::transactions().identity().register_role(Role::ResourceProvider), &bob)
		.await
		.expect("Bob registers as a resource provider");
	submit(&api, &lilypad::transactions().providers().register_provider(Static(offer())), &bob)
		.await
		.expect("Bob registers his offer");
	let (free_before, held_before) = balances(&api, &bob_id).await;
	let events = submit(
		&api,
		&lilypad::transactions().providers().bond(BondKind::Provider, 1_000 * LILY),
		&bob,
	)
	.await
	.expect("Bob bonds");
	let (free, held) = balances(&api, &bob_id).await;
	assert_eq!(held, held_before + 1_000 * LILY, "the bond is held");
	assert_eq!(free, free_before - 1_000 * LILY - fee_paid(&events), "and leaves the free balance");

	// Registering counted as a heartbeat, but three finalized transactions may have outlasted
	// the period: beat once more before looking.
	submit(&api, &lilypad::transactions().providers().heartbeat(), &bob).await.expect("heartbeat");
	let p = provider(&rpc, bob_ss58).await;
	assert_eq!(p["status"], "active");
	assert_eq!(p["capacity"], 2);
	assert_eq!(p["resources"]["gpus"][0]["model"], "RTX 4090");
	assert_eq!(p["bond"]["bonded"], (1_000 * LILY).to_string());
	let offers: Vec<serde_json::Value> = rpc
		.request("lilypad_offers", rpc_params![serde_json::json!({ "gpus": 1, "vramMib": 16384 })])
		.await
		.expect("lilypad_offers");
	assert_eq!(offers.len(), 1);
	let none: Vec<serde_json::Value> = rpc
		.request("lilypad_offers", rpc_params![serde_json::json!({ "gpus": 2 })])
		.await
		.expect("lilypad_offers");
	assert!(none.is_empty(), "no offer has two GPUs");

	// Heartbeats keep Bob active...
	for _ in 0..2 {
		submit(&api, &lilypad::transactions().providers().heartbeat(), &bob)
			.await
			.expect("heartbeat");
		assert_eq!(provider(&rpc, bob_ss58).await["status"], "active");
	}
	// ...silence makes him away once a period has passed since the last one...
	let last = provider(&rpc, bob_ss58).await["lastHeartbeat"].as_u64().expect("lastHeartbeat");
	let deadline = last + HEARTBEAT_PERIOD as u64 + 1;
	wait_until_best(&rpc, deadline, Duration::from_secs(60), "heartbeat deadline").await;
	assert_eq!(provider(&rpc, bob_ss58).await["status"], "away");
	let active_only: Vec<serde_json::Value> = rpc
		.request("lilypad_offers", rpc_params![serde_json::json!({ "activeOnly": true })])
		.await
		.expect("lilypad_offers");
	assert!(active_only.is_empty(), "an away provider is not offered");
	// ...and a heartbeat brings him back.
	let events = submit(&api, &lilypad::transactions().providers().heartbeat(), &bob)
		.await
		.expect("heartbeat");
	events
		.find_first::<lilypad::providers::events::ProviderReturned>()
		.expect("a ProviderReturned event")
		.expect("decode");
	assert_eq!(provider(&rpc, bob_ss58).await["status"], "active");

	// Unbonding 400 LILY keeps it held until the delay has passed.
	let events = submit(
		&api,
		&lilypad::transactions().providers().unbond(BondKind::Provider, 400 * LILY),
		&bob,
	)
	.await
	.expect("unbond");
	let unbonded = events
		.find_first::<lilypad::providers::events::Unbonded>()
		.expect("decode")
		.expect("Unbonded");
	assert_eq!(unbonded.amount, 400 * LILY);
	let unlocks_at = unbonded.unlocks_at as u64;
	let best = best_number(&rpc).await.expect("rpc").expect("header");
	assert!(best < unlocks_at, "the delay has not passed yet ({best} >= {unlocks_at})");
	let early = submit(
		&api,
		&lilypad::transactions().providers().withdraw_unbonded(BondKind::Provider),
		&bob,
	)
	.await
	.expect_err("an early withdrawal is refused");
	assert!(early.contains("NothingToWithdraw"), "refused for the wrong reason: {early}");

	wait_until_best(&rpc, unlocks_at, Duration::from_secs(90), "unbonding delay").await;
	let (free_before, held_before) = balances(&api, &bob_id).await;
	let events = submit(
		&api,
		&lilypad::transactions().providers().withdraw_unbonded(BondKind::Provider),
		&bob,
	)
	.await
	.expect("withdraw after the delay");
	let withdrawn = events
		.find_first::<lilypad::providers::events::Withdrawn>()
		.expect("decode")
		.expect("Withdrawn");
	assert_eq!(withdrawn.amount, 400 * LILY);
	let (free, held) = balances(&api, &bob_id).await;
	assert_eq!(held, held_before - 400 * LILY);
	assert_eq!(free, free_before + 400 * LILY - fee_paid(&events));
	let bond: serde_json::Value =
		rpc.request("lilypad_bond", rpc_params![bob_ss58, "provider"]).await.expect("lilypad_bond");
	assert_eq!(bond["bonded"], (600 * LILY).to_string());
	assert_eq!(bond["unlocking"].as_array().unwrap().len(), 0);
	node.assert_running();
}
