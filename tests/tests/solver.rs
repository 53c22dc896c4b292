//! The solver's offchain worker on real nodes: nobody calls `propose_match` by hand.
//!
//! Node A is `lilypad-node --dev --solver` (Alice's solver key); node B is a second,
//! non-validating node on the same chain whose keystore gets Ferdie's solver key over
//! `author_insertKey`. Alice publishes a module; Dave and Bob offer the same price with
//! capacity 3 each, Dave with the larger stake; Alice and Ferdie stake as solvers. Charlie
//! submits 4 jobs, then 4 more: every job that fits is matched within 5 blocks, the higher
//! stake first; the two that do not fit stay open; both solvers' batches land, no job is
//! matched twice, no provider runs more than it offers, and nobody is penalised.
use std::time::{Duration, Instant};

use lilypad_e2e::{
	echo::{inputs, job, lilypad, manifest, module, offer, publish, reached, MILLI},
	free_port, generate_node_key, submit_finalized as submit, wait_until_finalized, Node,
};
use polkadot_sdk::sp_runtime::Perbill;
use subxt::{
	rpcs::{rpc_params, RpcClient},
	utils::{AccountId32, Static},
	OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::{dev, Keypair};

use lilypad::runtime_types::lilypad_primitives::{identity::Role, providers::BondKind};

type Client = OnlineClient<SubstrateConfig>;

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 10 * MILLI;
const CAPACITY: u32 = 3;
/// The bound: a job is matched within this many blocks of its submission.
const MATCH_WITHIN: u64 = 5;

fn id(k: &Keypair) -> AccountId32 {
	k.public_key().into()
}

/// The block `job` reached `stage` in, from its history.
/// Charlie submits `n` jobs in one transaction; returns their ids and the block they are in.
async fn submit_jobs(api: &Client, rpc: &RpcClient, n: usize) -> (Vec<u64>, u64) {
	let jobs = (0..n).map(|i| (module(), inputs(&format!("hello {i}")))).collect();
	let ids = lilypad_e2e::echo::submit_batch(api, rpc, jobs, 2 * ASK).await;
	let at = job(rpc, ids[0]).await["history"][0]["at"].as_u64().unwrap();
	(ids, at)
}

/// Waits until each of `ids` is matched, or `timeout`; returns the jobs.
async fn wait_matched(rpc: &RpcClient, ids: &[u64], timeout: Duration) -> Vec<serde_json::Value> {
	let start = Instant::now();
	loop {
		let mut jobs = Vec::new();
		for id in ids {
			jobs.push(job(rpc, *id).await);
		}
		if jobs.iter().all(|j| reached(j, "matched").is_some()) {
			return jobs;
		}
		assert!(start.elapsed() < timeout, "jobs not matched within {timeout:?}: {jobs:?}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Every `propose_match` in blocks `from..=to`: its signer and the jobs it matched, skipped
/// and had rejected.
async fn proposals(api: &Client, from: u64, to: u64) -> Vec<(AccountId32, Vec<u64>, u64, u64)> {
	let mut out = Vec::new();
	for n in from..=to {
		let block = api.at_block(n).await.expect("block");
		let extrinsics = block.extrinsics().fetch().await.expect("extrinsics");
		for xt in extrinsics.iter() {
			let xt = xt.expect("decode extrinsic");
			if (xt.pallet_name(), xt.call_name()) != ("Jobs", "propose_match") {
				continue;
			}
			// A `MultiAddress::Id`: variant byte, then the account.
			let address = xt.address_bytes().expect("signed");
			let signer = AccountId32(address[1..33].try_into().unwrap());
			let events = xt.events().await.expect("events");
			let matched = events
				.find::<lilypad::jobs::events::JobMatched>()
				.map(|e| e.expect("decode JobMatched").job)
				.collect();
			let skipped = events.find::<lilypad::jobs::events::MatchSkipped>().count() as u64;
			let rejected = events.find::<lilypad::jobs::events::MatchRejected>().count() as u64;
			out.push((signer, matched, skipped, rejected));
		}
	}
	out
}

async fn solver_stake(rpc: &RpcClient, who: &AccountId32) -> String {
	let bond: serde_json::Value =
		rpc.request("lilypad_bond", rpc_params![who.to_string(), "solver"]).await.expect("bond");
	bond["bonded"].as_str().expect("bonded").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_solver_nodes_match_every_job_once_within_five_blocks() {
	let dir = std::env::temp_dir().join(format!("lilypad-solver-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let key_file = dir.join("node-a.key");
	let peer = generate_node_key(&key_file);
	let p2p_a = free_port();
	let mut a = Node::spawn_on(
		"solver-a",
		&["--dev", "--tmp", "--solver", "--node-key-file", key_file.to_str().unwrap()],
		free_port(),
		p2p_a,
	);
	let bootnode = format!("/ip4/127.0.0.1/tcp/{p2p_a}/p2p/{peer}");
	let mut b = Node::spawn(
		"solver-b",
		&[
			"--chain",
			"dev",
			"--tmp",
			"--offchain-worker",
			"always",
			"--rpc-methods",
			"unsafe",
			"--bootnodes",
			&bootnode,
		],
	);
	let rpc = a.wait_for_finalized(1, START_TIMEOUT).await;
	let rpc_b = b.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let (alice, bob, charlie, dave, ferdie) =
		(dev::alice(), dev::bob(), dev::charlie(), dev::dave(), dev::ferdie());
	let tx = lilypad::transactions;

	// Node B's solver key: Ferdie's, inserted into the running node.
	let ferdie_public = format!(
		"0x{}",
		ferdie.public_key().0.iter().map(|b| format!("{b:02x}")).collect::<String>()
	);
	rpc_b
		.request::<()>("author_insertKey", rpc_params!["solv", "//Ferdie", ferdie_public])
		.await
		.expect("node B takes a solver key");

	// Everything Alice signs comes before the jobs: her node's worker signs as Alice too.
	publish(&api, &alice, manifest(60, Perbill::zero())).await;
	for solver in [&alice, &ferdie] {
		submit(&api, &tx().identity().register_role(Role::Solver), solver).await.unwrap();
		submit(&api, &tx().providers().bond(BondKind::Solver, 50 * LILY), solver).await.unwrap();
	}
	for (provider, stake) in [(&dave, 20 * LILY), (&bob, 10 * LILY)] {
		submit(&api, &tx().identity().register_role(Role::ResourceProvider), provider)
			.await
			.unwrap();
		submit(&api, &tx().providers().register_provider(Static(offer(ASK, CAPACITY))), provider)
			.await
			.unwrap();
		submit(&api, &tx().providers().bond(BondKind::Provider, stake), provider).await.unwrap();
	}
	submit(&api, &tx().identity().register_role(Role::JobCreator), &charlie).await.unwrap();
	let stakes = (solver_stake(&rpc, &id(&alice)).await, solver_stake(&rpc, &id(&ferdie)).await);

	// Wave 1: four jobs, all fit. Dave, with the larger stake, takes the first three.
	let (first, first_at) = submit_jobs(&api, &rpc, 4).await;
	let jobs = wait_matched(&rpc, &first, Duration::from_secs(60)).await;
	for (j, id) in jobs.iter().zip(&first) {
		let matched_at = reached(j, "matched").unwrap();
		println!("job {id}: submitted in #{first_at}, matched in #{matched_at}");
		assert!(matched_at <= first_at + MATCH_WITHIN, "job {id} matched at {matched_at}");
	}
	let providers: Vec<_> =
		jobs.iter().map(|j| j["assignment"]["provider"].as_str().unwrap().to_string()).collect();
	let (dave_id, bob_id) = (id(&dave).to_string(), id(&bob).to_string());
	assert_eq!(providers, [&dave_id, &dave_id, &dave_id, &bob_id].map(String::clone), "stake");

	// Wave 2: four more, but only two slots are left (Bob's).
	let (second, second_at) = submit_jobs(&api, &rpc, 4).await;
	let jobs = wait_matched(&rpc, &second[..2], Duration::from_secs(60)).await;
	for (j, id) in jobs.iter().zip(&second) {
		let matched_at = reached(j, "matched").unwrap();
		println!("job {id}: submitted in #{second_at}, matched in #{matched_at}");
		assert!(matched_at <= second_at + MATCH_WITHIN, "job {id} matched at {matched_at}");
		assert_eq!(j["assignment"]["provider"], bob_id);
	}
	// Give the workers time to get the last two wrong, if they would.
	let end = second_at + 2 * MATCH_WITHIN;
	wait_until_finalized(&rpc, end, Duration::from_secs(60), "the last blocks").await;
	for id in &second[2..] {
		assert_eq!(job(&rpc, *id).await["stage"], "submitted", "job {id} had no slot left");
	}
	for who in [&dave, &bob] {
		let info: serde_json::Value =
			rpc.request("lilypad_provider", rpc_params![id(who).to_string()]).await.unwrap();
		assert_eq!(info["activeJobs"], CAPACITY, "{info}");
	}

	// Both workers' batches landed; every job was matched once; nobody was penalised.
	let proposals = proposals(&api, first_at, end).await;
	let solvers: std::collections::BTreeSet<_> = proposals.iter().map(|p| p.0).collect();
	assert_eq!(solvers, [id(&alice), id(&ferdie)].into(), "both solvers proposed");
	let mut matched: Vec<u64> = proposals.iter().flat_map(|p| p.1.clone()).collect();
	matched.sort();
	let expected: Vec<u64> = first.iter().chain(&second[..2]).copied().collect();
	assert_eq!(matched, expected, "each job matched exactly once");
	assert_eq!(proposals.iter().map(|p| p.3).sum::<u64>(), 0, "no pair was invalid");
	assert!(proposals.iter().map(|p| p.2).sum::<u64>() > 0, "the slower solver's pairs went stale");
	assert_eq!(
		(solver_stake(&rpc, &id(&alice)).await, solver_stake(&rpc, &id(&ferdie)).await),
		stakes,
		"stale pairs cost no stake"
	);
	a.assert_running();
	b.assert_running();
}
