//! A job matched on a fork that loses (docs/fast-jobs.md): the agent acts on best blocks, so it
//! runs a job whose match a reorg then retracts. `--chain local` with Alice, Bob, Charlie and
//! Dave validating; Eve's agent and the solver (Ferdie's key) are on Alice's node. Alice is cut
//! off: Bob, Charlie and Dave (3 of 4 GRANDPA voters) go on finalizing their fork, Alice builds
//! hers alone, so hers is certain to lose. Charlie submits a job to Alice's node; on Alice's
//! fork it is matched to Eve, run, and its result included. Alice rejoins: her fork is
//! retracted, the job's submission goes again from the pool onto the winning chain, it is
//! matched to Eve again, and the result Eve already has is sent again: on the finalized chain
//! the job has exactly one result (the same outputs), Charlie paid only the fees of his own
//! transaction, and Eve kept her collateral.
use std::time::Duration;

use lilypad_e2e::{
	cli::{module_dir, planck, Cli},
	echo::{job, lilypad, wait_for_job},
	finalized_number, legacy,
	rp::{example_module, Agent},
	submit_finalized, wait_until_finalized, LocalNetwork,
};
use serde_json::Value;
use subxt::{rpcs::RpcClient, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::dev;

/// Four debug nodes compile the runtime at once on two cores before their first block.
const START_TIMEOUT: Duration = Duration::from_secs(300);
const STEP_TIMEOUT: Duration = Duration::from_secs(240);
const ALICE: usize = 0;
const ASK: &str = "10000000000";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";
const COWSAY_INPUT: &str =
	"[[inputs]]\nname = \"Message\"\ntype = \"text\"\nrequired = true\ndelivery = \"env\"";

/// The `ResultSubmitted` events for job `id` in blocks `from..=to` of the chain `api` follows.
async fn results_of(api: &OnlineClient<SubstrateConfig>, id: u64, from: u64, to: u64) -> usize {
	let mut n = 0;
	for number in from..=to {
		let events = api.at_block(number).await.unwrap().events().fetch().await.unwrap();
		n += events
			.find::<lilypad::jobs::events::ResultSubmitted>()
			.flatten()
			.filter(|e| e.job == id)
			.count();
	}
	n
}

/// The hash of block `number` on the best chain of `rpc`'s node.
async fn hash_at(rpc: &RpcClient, number: u64) -> Option<subxt::utils::H256> {
	legacy(rpc).chain_get_block_hash(Some(number.into())).await.unwrap()
}

/// Free plus held balance of `who`.
fn total(cli: &Cli, who: &str) -> u128 {
	let (free, held) = cli.balance(who);
	free + held
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_matched_on_a_losing_fork_runs_again_on_the_winner_with_one_result() {
	let dir = tempfile::tempdir().unwrap();
	let mut net = LocalNetwork::start_with(&dir.path().join("net"), Some(ALICE), 4);
	let mut rpcs = Vec::new();
	for i in 0..4 {
		rpcs.push(net.node(i).wait_for_finalized(2, START_TIMEOUT).await);
	}
	let (alice_rpc, bob_rpc) = (rpcs[0].clone(), rpcs[1].clone());
	let alice_url = net.node(ALICE).ws_url();
	let api = OnlineClient::<SubstrateConfig>::from_rpc_client(alice_rpc.clone()).await.unwrap();

	// Ferdie solves from Alice's node: the role, a stake, the key in her keystore.
	use lilypad::runtime_types::lilypad_primitives::{identity::Role, providers::BondKind};
	let ferdie = dev::ferdie();
	let tx = lilypad::transactions;
	submit_finalized(&api, &tx().identity().register_role(Role::Solver), &ferdie).await.unwrap();
	let stake = tx().providers().bond(BondKind::Solver, 1_000_000_000_000_000);
	submit_finalized(&api, &stake, &ferdie).await.unwrap();
	let public = format!("0x{}", hex::encode(ferdie.public_key().0));
	let _: Value = alice_rpc
		.request("author_insertKey", subxt::rpcs::rpc_params!["solv", "//Ferdie", public])
		.await
		.expect("author_insertKey");

	// Eve provides, from Alice's node; cowsay is published.
	let cli = Cli::new(&alice_url, dir.path());
	let mut eve = Agent::spawn(
		"reorg-eve",
		&alice_url,
		"//Eve",
		&dir.path().join("eve"),
		&["--capacity", "2", "--price", ASK],
	);
	eve.wait_for_log(&["collateral bonded"], STEP_TIMEOUT).await;
	let file = dir.path().join("cowsay.wasm");
	std::fs::write(&file, example_module("cowsay")).unwrap();
	let module = module_dir(dir.path(), "cowsay", ("wasm", &file), COWSAY_INPUT, 60);
	cli.ok(Some("//Bob"), &["module", "publish", module.to_str().unwrap()]);
	cli.ok(Some("//Charlie"), &["account", "balance"]);
	let bond = |cli: &Cli| {
		let status = cli.ok(None, &["provider", "status", EVE]);
		planck(&status["bond"]["bonded"])
	};
	let eve_bond = bond(&cli);

	// Alice alone: the others finalize without her.
	let split_at = finalized_number(&bob_rpc).await.unwrap().unwrap();
	net.isolate(STEP_TIMEOUT).await;
	let charlie_before = total(&cli, CHARLIE);
	let submitted =
		cli.ok(Some("//Charlie"), &["run", "cowsay", "-i", "Message=forked", "--no-wait"]);
	let id = submitted["job_id"].as_u64().unwrap();
	let fees = planck(&submitted["tx_fees"]);
	let on_lost_fork =
		wait_for_job(&alice_rpc, id, "given a result on Alice's fork", STEP_TIMEOUT, |j| {
			!j["result"].is_null()
		})
		.await;
	let result_block = lilypad_e2e::echo::reached(&on_lost_fork, "resultSubmitted").unwrap();
	let lost_hash = hash_at(&alice_rpc, result_block).await;
	assert!(hash_at(&bob_rpc, result_block).await != lost_hash, "Bob never saw Alice's fork");
	let majority_final =
		wait_until_finalized(&bob_rpc, split_at + 3, STEP_TIMEOUT, "the others").await;

	// Alice rejoins: her fork is retracted, the job comes back through the pool.
	net.rejoin(STEP_TIMEOUT).await;
	wait_until_finalized(&alice_rpc, majority_final, STEP_TIMEOUT, "Alice on the winning chain")
		.await;
	eve.wait_for_log(&["block retracted"], STEP_TIMEOUT).await;
	let settled_view =
		wait_for_job(&bob_rpc, id, "given a result on the winning chain", STEP_TIMEOUT, |j| {
			!j["result"].is_null()
		})
		.await;
	let final_result = lilypad_e2e::echo::reached(&settled_view, "resultSubmitted").unwrap();
	let finalized = wait_until_finalized(&bob_rpc, final_result, STEP_TIMEOUT, "the result").await;
	assert!(hash_at(&alice_rpc, result_block).await != lost_hash, "Alice's fork was retracted");

	// One result on the finalized chain, the outputs the lost fork had; matched to Eve again.
	let bob_api = OnlineClient::<SubstrateConfig>::from_rpc_client(bob_rpc.clone()).await.unwrap();
	assert_eq!(results_of(&bob_api, id, split_at, finalized).await, 1, "exactly one result");
	let now = job(&bob_rpc, id).await;
	assert_eq!(now["result"]["outputDigest"], on_lost_fork["result"]["outputDigest"], "{now}");
	assert_eq!(now["assignment"]["provider"], EVE, "{now}");
	let log = eve.log_text();
	assert!(
		log.contains("its match was retracted") || log.contains("its result was retracted"),
		"Eve read the job again after the reorg:\n{log}"
	);

	// No funds lost: Charlie paid only his transaction's fee (once: the same transaction, on
	// the winning chain); the rest is held for the job. Eve's collateral is whole.
	assert_eq!(total(&cli, CHARLIE), charlie_before - fees, "Charlie's funds");
	assert_eq!(bond(&cli), eve_bond, "Eve's collateral");
	drop(net);
}
