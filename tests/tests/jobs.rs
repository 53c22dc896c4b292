//! Jobs on a real `lilypad-node --dev`, every balance change checked to the unit.
//!
//! With the challenge window, execution grace and appeal window shortened through the
//! parameters pallet (sudo): Alice publishes a module, Bob offers compute and bonds collateral,
//! Dave stakes as a solver, Charlie submits jobs.
//! - Job 0: submit → match (Dave) → result (signed with Bob's key) → automatic completion:
//!   Bob, Dave, Alice (royalty), the rewards pool and the treasury are paid exactly.
//! - Job 1: submit → match → no result → execution timeout: Charlie is refunded at once, a
//!   slash is pending, and after the appeal window one price of Bob's collateral goes to
//!   Charlie and the rest to the treasury.
use std::time::Duration;

use lilypad_client::chain::result_call;
use lilypad_e2e::{
	echo::{
		self, fee, inputs, job, lilypad, manifest, module, offer, publish, sudo_set,
		wait_for_stage, DIGEST, MILLI,
	},
	legacy, submit_finalized as submit, Node,
};
use lilypad_primitives::economics::{
	charge_with_royalties, collateral_for, split_protocol_fee, FeeRates,
};
use polkadot_sdk::sp_runtime::{traits::AccountIdConversion, FixedU128, Perbill};
use subxt::{
	rpcs::{rpc_params, RpcClient},
	utils::{AccountId32, Static},
	OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::{dev, Keypair};

use lilypad::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	lilypad_primitives::{identity::Role, jobs::JobOptions, providers::BondKind},
};

type Client = OnlineClient<SubstrateConfig>;
type Events = subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>;

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 10 * MILLI;
const MAX_PRICE: u128 = 20 * MILLI;
/// The runtime's job deposit, held until the record is pruned.
const DEPOSIT: u128 = lilypad_runtime::configs::JobDeposit::get();
const CHALLENGE_WINDOW: u32 = 3;
/// Long enough for a result sent after the match is final; short enough to wait out.
const EXECUTION_GRACE: u32 = 20;
const APPEAL_WINDOW: u32 = 4;
/// The runtime's default fee rates (docs/design.md §6), which the charge is computed with.
const RATES: FeeRates =
	FeeRates { solver: Perbill::from_percent(2), protocol: Perbill::from_percent(3) };
const ROYALTY: Perbill = Perbill::from_percent(10);
/// The module's timeout: one block.
const TIMEOUT_SECS: u32 = 2;

fn id(k: &Keypair) -> AccountId32 {
	k.public_key().into()
}

fn pallet_account(id: polkadot_sdk::frame_support::PalletId) -> AccountId32 {
	let a: polkadot_sdk::sp_runtime::AccountId32 = id.into_account_truncating();
	AccountId32(a.into())
}

/// Free and held balance of `who` at block `at` (the best finalized block if `None`).
async fn balances(api: &Client, who: &AccountId32, at: Option<u64>) -> (u128, u128) {
	lilypad_client::chain::balance_at(api, who, at).await.expect("the account's balance")
}

async fn provider_bond(rpc: &RpcClient, who: &AccountId32) -> serde_json::Value {
	rpc.request("lilypad_bond", rpc_params![who.to_string(), "provider"])
		.await
		.expect("lilypad_bond")
}

async fn submit_job(api: &Client, rpc: &RpcClient, creator: &Keypair) -> (u64, Events) {
	let best = lilypad_e2e::best_number(rpc).await.unwrap().unwrap() as u32;
	let options = JobOptions { target: None, credentials: BoundedVec(vec![]), verification: None };
	let events = submit(
		api,
		&lilypad::transactions().jobs().submit_job(
			Static(module()),
			Static(inputs("hello")),
			MAX_PRICE,
			best + 100,
			options,
		),
		creator,
	)
	.await
	.expect("Charlie submits a job");
	let submitted = events
		.find_first::<lilypad::jobs::events::JobSubmitted>()
		.expect("decode")
		.expect("JobSubmitted");
	(submitted.job, events)
}

async fn propose(api: &Client, job: u64, provider: &AccountId32) -> Events {
	let events = submit(
		api,
		&lilypad::transactions().jobs().propose_match(BoundedVec(vec![(job, *provider)])),
		&dev::dave(),
	)
	.await
	.expect("Dave proposes a match");
	let matched = events
		.find_first::<lilypad::jobs::events::JobMatched>()
		.expect("decode")
		.expect("the pair is valid");
	assert_eq!((matched.job, matched.price), (job, ASK));
	events
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_completes_and_pays_everyone_and_a_silent_provider_is_slashed() {
	let mut node = Node::spawn("jobs", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash").0;
	let (alice, bob, charlie, dave) = (dev::alice(), dev::bob(), dev::charlie(), dev::dave());
	let tx = lilypad::transactions;

	sudo_set(&api, echo::windows(CHALLENGE_WINDOW, EXECUTION_GRACE, APPEAL_WINDOW)).await;

	// Alice publishes the module; Bob offers and bonds; Dave stakes; Charlie creates jobs.
	publish(&api, &alice, manifest(TIMEOUT_SECS, ROYALTY)).await;
	submit(&api, &tx().identity().register_role(Role::ResourceProvider), &bob).await.unwrap();
	submit(&api, &tx().providers().register_provider(Static(offer(ASK, 2))), &bob).await.unwrap();
	submit(&api, &tx().providers().bond(BondKind::Provider, LILY), &bob).await.unwrap();
	submit(&api, &tx().identity().register_role(Role::Solver), &dave).await.unwrap();
	submit(&api, &tx().providers().bond(BondKind::Solver, 50 * LILY), &dave).await.unwrap();
	submit(&api, &tx().identity().register_role(Role::JobCreator), &charlie).await.unwrap();

	let estimate: serde_json::Value =
		rpc.request("lilypad_estimate", rpc_params!["echo@1.0.0"]).await.expect("estimate");
	let at_ask = charge_with_royalties(ASK, RATES, ROYALTY * ASK);
	assert_eq!(estimate["cheapest"]["price"], ASK.to_string());
	assert_eq!(estimate["charge"]["total"], at_ask.total().to_string());

	let (alice_id, bob_id, charlie_id, dave_id) = (id(&alice), id(&bob), id(&charlie), id(&dave));
	let treasury = pallet_account(lilypad_runtime::TREASURY_PALLET_ID);
	let rewards = pallet_account(lilypad_runtime::REWARDS_POOL_PALLET_ID);
	let at_max = charge_with_royalties(MAX_PRICE, RATES, ROYALTY * MAX_PRICE);
	let collateral = collateral_for(ASK, FixedU128::from_rational(5, 2));

	// --- Job 0: submit, match, result, automatic completion.
	let charlie0 = balances(&api, &charlie_id, None).await;
	let (job0, submitted) = submit_job(&api, &rpc, &charlie).await;
	let after_submit = balances(&api, &charlie_id, None).await;
	assert_eq!(after_submit.0, charlie0.0 - fee(&submitted) - at_max.total() - DEPOSIT);
	assert_eq!(after_submit.1, charlie0.1 + at_max.total() + DEPOSIT, "escrow and deposit held");
	assert_eq!(job(&rpc, job0).await["stage"], "submitted");

	let dave0 = balances(&api, &dave_id, None).await;
	let proposed = propose(&api, job0, &bob_id).await;
	let after_match = balances(&api, &charlie_id, None).await;
	assert_eq!(after_match.0, after_submit.0 + at_max.total() - at_ask.total(), "excess released");
	let j = job(&rpc, job0).await;
	assert_eq!(j["stage"], "matched");
	assert_eq!(j["assignment"]["collateral"], collateral.to_string());
	let bond = provider_bond(&rpc, &bob_id).await;
	assert_eq!(bond["inUse"], collateral.to_string());

	// Bob signs the result with his key, over this chain's genesis.
	let result = echo::result(job0, DIGEST, [1; 32]);
	let bob0 = balances(&api, &bob_id, None).await;
	let alice0 = balances(&api, &alice_id, None).await;
	let reported = submit(&api, &result_call(&genesis, &bob, &result, &[]), &bob)
		.await
		.expect("Bob submits the signed result");

	let done = wait_for_stage(&rpc, job0, "completed", Duration::from_secs(120)).await;
	let (rewards_pool_share, treasury_share) =
		split_protocol_fee(at_ask.protocol_fee, Perbill::from_percent(50));
	let charlie1 = balances(&api, &charlie_id, None).await;
	assert_eq!(charlie1.0, after_match.0, "Charlie paid the charge at the ask, no more");
	assert_eq!(charlie1.1, charlie0.1 + DEPOSIT, "only the deposit stays held");
	assert_eq!(balances(&api, &bob_id, None).await.0, bob0.0 - fee(&reported) + ASK, "Bob");
	assert_eq!(
		balances(&api, &dave_id, None).await.0,
		dave0.0 - fee(&proposed) + at_ask.solver_fee,
		"Dave"
	);
	assert_eq!(balances(&api, &alice_id, None).await.0, alice0.0 + at_ask.royalties, "Alice");
	let before = done - 1;
	assert_eq!(
		balances(&api, &rewards, Some(done)).await.0,
		balances(&api, &rewards, Some(before)).await.0 + rewards_pool_share,
		"rewards pool"
	);
	assert_eq!(
		balances(&api, &treasury, Some(done)).await.0,
		balances(&api, &treasury, Some(before)).await.0 + treasury_share,
		"treasury"
	);
	let bond = provider_bond(&rpc, &bob_id).await;
	assert_eq!(bond["inUse"], "0", "collateral released");

	// --- Job 1: Bob never reports; the job times out and Bob is slashed after the appeal.
	let (job1, submitted) = submit_job(&api, &rpc, &charlie).await;
	propose(&api, job1, &bob_id).await;
	// Read at the match's block: the timeout may come before this test looks.
	let matched_at = job(&rpc, job1).await["assignment"]["matchedAt"].as_u64().unwrap();
	let charlie2 = balances(&api, &charlie_id, Some(matched_at)).await;
	let timed_out = wait_for_stage(&rpc, job1, "slashPending", Duration::from_secs(120)).await;
	let j = job(&rpc, job1).await;
	assert_eq!(j["slash"]["cause"], "executionTimeout");
	assert_eq!(j["slash"]["toCreator"], ASK.to_string());
	assert_eq!(j["slash"]["toTreasury"], (collateral - ASK).to_string());
	assert_eq!(j["slash"]["appliesAt"], timed_out + APPEAL_WINDOW as u64);
	let refunded = balances(&api, &charlie_id, Some(timed_out)).await;
	assert_eq!(refunded.0, charlie2.0 + at_ask.total(), "the escrow came back in full at once");
	let bond = provider_bond(&rpc, &bob_id).await;
	assert_eq!(bond["inUse"], collateral.to_string(), "the collateral stays locked meanwhile");

	let slashed = wait_for_stage(&rpc, job1, "slashed", Duration::from_secs(60)).await;
	assert_eq!(slashed, timed_out + APPEAL_WINDOW as u64);
	let charlie3 = balances(&api, &charlie_id, None).await;
	assert_eq!(charlie3.0, refunded.0 + ASK, "one job price of compensation");
	assert_eq!(
		charlie3.0,
		charlie1.0 - fee(&submitted) - DEPOSIT + ASK,
		"job 1 cost Charlie its fee and deposit, and paid him one price"
	);
	assert_eq!(
		balances(&api, &treasury, Some(slashed)).await.0,
		balances(&api, &treasury, Some(slashed - 1)).await.0 + collateral - ASK,
		"the rest of the collateral to the treasury"
	);
	let bond = provider_bond(&rpc, &bob_id).await;
	assert_eq!(bond["bonded"], (LILY - collateral).to_string());
	assert_eq!(bond["inUse"], "0");

	let jobs: Vec<serde_json::Value> = rpc
		.request("lilypad_jobs", rpc_params![charlie_id.to_string(), "creator"])
		.await
		.expect("lilypad_jobs");
	assert_eq!(
		jobs.iter().map(|j| j["id"].as_u64().unwrap()).collect::<Vec<_>>(),
		vec![job0, job1]
	);
	let runs: Vec<serde_json::Value> = rpc
		.request("lilypad_jobs", rpc_params![bob_id.to_string(), "provider"])
		.await
		.expect("lilypad_jobs");
	assert_eq!(runs.len(), 2);
	node.assert_running();
}
