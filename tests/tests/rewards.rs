//! Reputation and epoch rewards on a real `lilypad-node --dev`.
//!
//! Bob, Ferdie and Eve offer compute with the same collateral; Dave stakes as the solver and
//! Charlie submits five jobs. Bob completes two, Ferdie one, and Eve one, but she never
//! returns a result for her second, so after the appeal window her collateral is slashed.
//! Then the reward epoch is shortened (sudo) so that it ends: every actor is valued, each
//! class's budget is shared out, and everyone claims.
//!
//! Their records imply the order of their rewards: Bob earned twice the fees of the others;
//! Ferdie and Eve earned the same, but Eve's slash lowered her reputation (and a little of
//! her stake). The test checks that order, that the providers' shares add up to their budget
//! less rounding dust, and that the rewards pool falls by exactly what the claims paid.
use std::time::{Duration, Instant};

use lilypad_client::chain::result_call;
use lilypad_e2e::{
	echo::{
		self, fee, free, inputs, lilypad, manifest, module, offer, publish, sudo_set,
		wait_for_stage, DIGEST, MILLI,
	},
	legacy, submit_finalized as submit, Node,
};
use polkadot_sdk::sp_runtime::Perbill;
use subxt::{
	rpcs::RpcClient,
	utils::{AccountId32, Static},
	OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::{dev, Keypair};

use lilypad::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	lilypad_primitives::{identity::Role, jobs::JobOptions, providers::BondKind},
	lilypad_runtime::configs::dynamic_params::protocol,
};

type Client = OnlineClient<SubstrateConfig>;

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 10 * MILLI;
const MAX_PRICE: u128 = 20 * MILLI;
const CHALLENGE_WINDOW: u32 = 2;
const EXECUTION_GRACE: u32 = 20;
const APPEAL_WINDOW: u32 = 4;
const TIMEOUT_SECS: u32 = 2;
/// The runtime's default budgets per epoch.
const PROVIDER_BUDGET: u128 = 2_000 * LILY;
const SOLVER_BUDGET: u128 = 500 * LILY;

fn id(k: &Keypair) -> AccountId32 {
	k.public_key().into()
}

fn pool_account() -> AccountId32 {
	let pool: [u8; 32] = lilypad_runtime::configs::RewardsPoolAccount::get().into();
	AccountId32(pool)
}

/// `RewardsApi_claimable`.
async fn claimable(api: &Client, who: &AccountId32) -> u128 {
	let call = lilypad::runtime_apis().rewards_api().claimable(*who);
	api.at_current_block().await.expect("block").runtime_apis().call(call).await.expect("claimable")
}

/// `RewardsApi_standing` as a provider: (score in parts per billion, failures as a float).
async fn standing(api: &Client, who: &AccountId32) -> (u32, f64) {
	let call = lilypad::runtime_apis().rewards_api().standing(*who, BondKind::Provider);
	let s = api
		.at_current_block()
		.await
		.expect("block")
		.runtime_apis()
		.call(call)
		.await
		.expect("standing");
	(s.score.0, s.failures.0 as f64 / 1e18)
}

/// Charlie submits one echo job; returns its id.
async fn submit_job(api: &Client, rpc: &RpcClient) -> u64 {
	let best = lilypad_e2e::best_number(rpc).await.unwrap().unwrap() as u32;
	let options = JobOptions { target: None, credentials: BoundedVec(vec![]), verification: None };
	let call = lilypad::transactions().jobs().submit_job(
		Static(module()),
		Static(inputs("hello")),
		MAX_PRICE,
		best + 100,
		options,
	);
	let events = submit(api, &call, &dev::charlie()).await.expect("Charlie submits a job");
	events
		.find_first::<lilypad::jobs::events::JobSubmitted>()
		.expect("decode")
		.expect("JobSubmitted")
		.job
}

/// `provider` returns the echo job's result for each of `jobs`, one after another.
async fn deliver(api: &Client, genesis: [u8; 32], provider: &Keypair, jobs: &[u64]) {
	for &job in jobs {
		let call = result_call(&genesis, provider, &echo::result(job, DIGEST, [1; 32]), &[]);
		submit(api, &call, provider).await.expect("the provider submits its result");
	}
}

/// `who` claims its rewards; returns (amount claimed, transaction fee).
async fn claim(api: &Client, who: &Keypair) -> (u128, u128) {
	let events = submit(api, &lilypad::transactions().rewards().claim(), who).await.expect("claim");
	let claimed = events
		.find_first::<lilypad::rewards::events::RewardClaimed>()
		.expect("decode")
		.expect("RewardClaimed");
	assert_eq!(claimed.who, id(who));
	(claimed.amount, fee(&events))
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_are_rewarded_in_the_order_of_their_records_and_the_pool_pays_exactly_the_claims()
{
	let mut node = Node::spawn("rewards", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash").0;
	let (alice, bob, charlie, dave, eve, ferdie) =
		(dev::alice(), dev::bob(), dev::charlie(), dev::dave(), dev::eve(), dev::ferdie());
	let tx = lilypad::transactions;

	let provider = |k: Keypair| {
		let api = api.clone();
		async move {
			submit(&api, &tx().identity().register_role(Role::ResourceProvider), &k).await.unwrap();
			let register = tx().providers().register_provider(Static(offer(ASK, 2)));
			submit(&api, &register, &k).await.unwrap();
			submit(&api, &tx().providers().bond(BondKind::Provider, 10 * LILY), &k).await.unwrap();
		}
	};
	tokio::join!(
		async {
			sudo_set(&api, echo::windows(CHALLENGE_WINDOW, EXECUTION_GRACE, APPEAL_WINDOW)).await;
			publish(&api, &alice, manifest(TIMEOUT_SECS, Perbill::zero())).await;
		},
		provider(bob.clone()),
		provider(ferdie.clone()),
		provider(eve.clone()),
		async {
			submit(&api, &tx().identity().register_role(Role::Solver), &dave).await.unwrap();
			submit(&api, &tx().providers().bond(BondKind::Solver, 50 * LILY), &dave).await.unwrap();
		},
		async {
			submit(&api, &tx().identity().register_role(Role::JobCreator), &charlie).await.unwrap();
		},
	);

	// Five jobs: two for Bob, one for Ferdie, two for Eve (who delivers only the first).
	let mut jobs = vec![];
	for _ in 0..5 {
		jobs.push(submit_job(&api, &rpc).await);
	}
	let assigned = [&bob, &bob, &ferdie, &eve, &eve];
	let pairs = jobs.iter().zip(assigned).map(|(j, p)| (*j, id(p))).collect();
	let events = submit(&api, &tx().jobs().propose_match(BoundedVec(pairs)), &dave).await.unwrap();
	let matched = events.find::<lilypad::jobs::events::JobMatched>().count();
	assert_eq!(matched, 5, "every pair is valid");
	tokio::join!(
		deliver(&api, genesis, &bob, &jobs[0..2]),
		deliver(&api, genesis, &ferdie, &jobs[2..3]),
		deliver(&api, genesis, &eve, &jobs[3..4]),
	);
	for &j in &jobs[0..4] {
		wait_for_stage(&rpc, j, "completed", Duration::from_secs(60)).await;
	}
	wait_for_stage(&rpc, jobs[4], "slashed", Duration::from_secs(120)).await;

	// Everything happened in epoch 0. A few more blocks with Eve's reputation lowered, then the
	// epoch is shortened to its minimum so that it ends at once.
	let epoch = |api: Client| async move {
		let call = lilypad::runtime_apis().rewards_api().epoch();
		api.at_current_block().await.expect("block").runtime_apis().call(call).await.expect("epoch")
	};
	assert_eq!(epoch(api.clone()).await.index, 0);
	let (bob_rep, ferdie_rep, eve_rep) = (
		standing(&api, &id(&bob)).await,
		standing(&api, &id(&ferdie)).await,
		standing(&api, &id(&eve)).await,
	);
	// Bob (3/4) above Ferdie (2/3) above Eve, whose slash counts as 5 failures ((1+1)/(1+5+2)).
	assert_eq!(bob_rep, (750_000_000, 0.0));
	assert_eq!(ferdie_rep.0, 666_666_666);
	assert_eq!(eve_rep, (250_000_000, 5.0));
	let best = lilypad_e2e::best_number(&rpc).await.unwrap().unwrap();
	lilypad_e2e::wait_until_best(&rpc, best + 3, Duration::from_secs(30), "three more blocks")
		.await;
	sudo_set(&api, vec![protocol::Parameters::RewardEpoch(protocol::RewardEpoch, Some(10))]).await;

	// Closing takes a block per pass here (a few actors).
	let start = Instant::now();
	loop {
		let e = epoch(api.clone()).await;
		if e.index >= 1 && e.closing.is_none() && claimable(&api, &id(&bob)).await > 0 {
			break;
		}
		assert!(start.elapsed() < Duration::from_secs(60), "epoch 0 not closed: {e:?}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}

	let (bob_id, ferdie_id, eve_id, dave_id) = (id(&bob), id(&ferdie), id(&eve), id(&dave));
	let due = [
		claimable(&api, &bob_id).await,
		claimable(&api, &ferdie_id).await,
		claimable(&api, &eve_id).await,
		claimable(&api, &dave_id).await,
	];
	println!("credited: Bob {} Ferdie {} Eve {} Dave (solver) {}", due[0], due[1], due[2], due[3]);
	assert!(due[0] > due[1] && due[1] > due[2] && due[2] > 0, "shares follow the records: {due:?}");
	// Shares round down: at most a unit per provider stays in the pool.
	let providers: u128 = due[..3].iter().sum();
	assert!((PROVIDER_BUDGET - 3..=PROVIDER_BUDGET).contains(&providers), "{providers}");
	// Dave is the only solver that earned fees: he takes the solvers' whole budget.
	assert_eq!(due[3], SOLVER_BUDGET);

	let pool_before = free(&api, &pool_account()).await;
	let before = [
		free(&api, &bob_id).await,
		free(&api, &ferdie_id).await,
		free(&api, &eve_id).await,
		free(&api, &dave_id).await,
	];
	let claims = tokio::join!(
		claim(&api, &bob),
		claim(&api, &ferdie),
		claim(&api, &eve),
		claim(&api, &dave)
	);
	let claims = [claims.0, claims.1, claims.2, claims.3];
	let ids = [&bob_id, &ferdie_id, &eve_id, &dave_id];
	for (i, (amount, fee)) in claims.iter().enumerate() {
		assert_eq!(*amount, due[i], "a claim pays what was credited");
		assert_eq!(free(&api, ids[i]).await, before[i] + amount - fee);
		assert_eq!(claimable(&api, ids[i]).await, 0);
	}
	let paid: u128 = claims.iter().map(|(amount, _)| amount).sum();
	assert_eq!(
		pool_before - free(&api, &pool_account()).await,
		paid,
		"the pool pays exactly the claims"
	);
	let again = submit(&api, &tx().rewards().claim(), &bob).await;
	assert!(again.unwrap_err().contains("NothingToClaim"));
	node.assert_running();
}
