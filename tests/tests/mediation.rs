//! Mediation on a real `lilypad-node --dev`: the test plays the mediator.
//!
//! Alice publishes `echo` with a `Deterministic` policy, the sampling rate of deterministic
//! modules is set to 100 % (sudo), and the challenge and appeal windows are shortened. Bob
//! offers compute, Dave stakes as a solver, Charlie submits jobs, and Eve stakes as the only
//! mediator.
//! - Job 0: Bob submits a forged result (a wrong output digest, signed with his key). The
//!   chain samples it with randomness from after the result and draws Eve, who submits the
//!   true digest signed with her key. The result is found wrong: Charlie gets his escrow back
//!   at once and, after the appeal window, one job price out of Bob's collateral; Eve is paid
//!   out of the rest.
//! - Job 1: Bob submits the true result; Eve's re-run agrees; the job completes, Bob is paid,
//!   and Eve is paid out of the job's protocol fee.
//!
//! Then the same with a real mediator: `lilypad-rp --mediate --provide false` signing as Eve,
//! on the real `cowsay` module. It re-runs the job it is drawn for and catches Bob's forged
//! result; it upholds his honest one.
use std::time::Duration;

use lilypad_client::{
	chain::{mediation_call, result_call},
	content::{blob_url, digest_of},
};
use lilypad_e2e::{
	echo::{
		self, fee, free, inputs, job, lilypad, manifest, module, offer, publish, sudo_set,
		wait_for_job as wait_for, DIGEST, MILLI,
	},
	legacy, submit_finalized as submit, wait_until_finalized, Node,
};
use lilypad_primitives::{
	economics::{charge_with_royalties, collateral_for, FeeRates},
	jobs::{ExitStatus, ResultManifest, Usage},
	registry::{VerificationPolicy, VersionManifest},
};
use polkadot_sdk::sp_runtime::{FixedU128, Perbill};
use subxt::{
	rpcs::{rpc_params, RpcClient},
	utils::{AccountId32, Static},
	OnlineClient, SubstrateConfig,
};
use subxt_signer::sr25519::{dev, Keypair};

use lilypad::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec,
	lilypad_primitives::{identity::Role, jobs::JobOptions, providers::BondKind},
	lilypad_runtime::configs::dynamic_params::protocol,
	sp_arithmetic::per_things::Perbill as GenPerbill,
};

type Client = OnlineClient<SubstrateConfig>;
type Events = subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>;

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 10 * MILLI;
const MAX_PRICE: u128 = 20 * MILLI;
const CHALLENGE_WINDOW: u32 = 2;
const EXECUTION_GRACE: u32 = 20;
const APPEAL_WINDOW: u32 = 4;
/// The runtime's default challenge fee: what a mediator is paid at most.
const CHALLENGE_FEE: u128 = LILY;
const RATES: FeeRates =
	FeeRates { solver: Perbill::from_percent(2), protocol: Perbill::from_percent(3) };
const TIMEOUT_SECS: u32 = 2;
/// The output the echo job really produces, and the one Bob forges.
const TRUE_OUTPUT: [u8; 32] = [1; 32];
const FORGED_OUTPUT: [u8; 32] = [6; 32];

fn id(k: &Keypair) -> AccountId32 {
	k.public_key().into()
}

/// The block job `id` reached `stage` in, from its history.
fn reached(j: &serde_json::Value, stage: &str) -> u64 {
	echo::reached(j, stage).expect(stage)
}

/// Charlie submits a job, Dave matches it to Bob, Bob reports `output` of the module with
/// artifact digest `module_digest`: returns the job's id.
async fn run_job(
	api: &Client,
	rpc: &RpcClient,
	genesis: [u8; 32],
	module_digest: [u8; 32],
	output: [u8; 32],
) -> u64 {
	let (bob, charlie, dave) = (dev::bob(), dev::charlie(), dev::dave());
	let tx = lilypad::transactions;
	let best = lilypad_e2e::best_number(rpc).await.unwrap().unwrap() as u32;
	let options = JobOptions { target: None, credentials: BoundedVec(vec![]), verification: None };
	let events = submit(
		api,
		&tx().jobs().submit_job(
			Static(module()),
			Static(inputs("hello")),
			MAX_PRICE,
			best + 100,
			options,
		),
		&charlie,
	)
	.await
	.expect("Charlie submits a job");
	let job = events
		.find_first::<lilypad::jobs::events::JobSubmitted>()
		.expect("decode")
		.expect("JobSubmitted")
		.job;
	let pair = BoundedVec(vec![(job, id(&bob))]);
	let events = submit(api, &tx().jobs().propose_match(pair), &dave).await.expect("Dave proposes");
	assert!(events.find_first::<lilypad::jobs::events::JobMatched>().is_some(), "matched");
	let result = echo::result(job, module_digest, output);
	submit(api, &result_call(&genesis, &bob, &result, &[]), &bob)
		.await
		.expect("Bob submits his result");
	job
}

/// Waits for Eve to be drawn for `job`, then submits her re-run (the true output), signed
/// with her key under the mediation domain.
async fn eve_answers(api: &Client, rpc: &RpcClient, genesis: [u8; 32], job_id: u64) -> Events {
	let eve = dev::eve();
	let j = wait_for(rpc, job_id, "drawn a mediator", Duration::from_secs(60), |j| {
		j["stage"] == "inMediation" && !j["mediation"]["mediator"].is_null()
	})
	.await;
	assert_eq!(j["mediation"]["cause"], "sampled");
	assert_eq!(j["mediation"]["mediator"], id(&eve).to_string(), "the only eligible mediator");
	let result_at = reached(&j, "resultSubmitted");
	let sampled_at = reached(&j, "inMediation");
	assert!(sampled_at > result_at + CHALLENGE_WINDOW as u64, "decided after the window");
	let rerun = ResultManifest {
		// A re-run's logs and usage may differ; only the output and exit are compared.
		stdout_digest: [4; 32],
		usage: Usage { wall_ms: 900, cpu_ms: 800, peak_ram_mib: 12, gpu_ms: 0 },
		..echo::result(job_id, DIGEST, TRUE_OUTPUT)
	};
	let call = mediation_call(&genesis, &eve, &rerun);
	let events = submit(api, &call, &eve).await.expect("Eve answers");
	let answered = events
		.find_first::<lilypad::jobs::events::MediatorAnswered>()
		.expect("decode")
		.expect("MediatorAnswered");
	assert_eq!((answered.job, answered.output_digest), (job_id, TRUE_OUTPUT));
	events
}

/// Everyone's set-up but the mediator's, the accounts side by side: short windows and every
/// deterministic result sampled (sudo), Alice publishes `module`, Bob offers compute and bonds
/// collateral, Dave stakes as a solver, Charlie may submit jobs.
async fn set_up(api: &Client, module: VersionManifest<u128>) {
	let (alice, bob, charlie, dave) = (dev::alice(), dev::bob(), dev::charlie(), dev::dave());
	let tx = lilypad::transactions;
	let api = api.clone();
	tokio::join!(
		async {
			let mut params = echo::windows(CHALLENGE_WINDOW, EXECUTION_GRACE, APPEAL_WINDOW);
			// Every deterministic result is re-checked.
			params.push(protocol::Parameters::DefaultSamplingRate(
				protocol::DefaultSamplingRate,
				Some(GenPerbill(1_000_000_000)),
			));
			sudo_set(&api, params).await;
			publish(&api, &alice, module).await;
		},
		async {
			let role = tx().identity().register_role(Role::ResourceProvider);
			submit(&api, &role, &bob).await.unwrap();
			let register = tx().providers().register_provider(Static(offer(ASK, 2)));
			submit(&api, &register, &bob).await.unwrap();
			submit(&api, &tx().providers().bond(BondKind::Provider, LILY), &bob).await.unwrap();
		},
		async {
			submit(&api, &tx().identity().register_role(Role::Solver), &dave).await.unwrap();
			let bond = tx().providers().bond(BondKind::Solver, 50 * LILY);
			submit(&api, &bond, &dave).await.unwrap();
		},
		async {
			let role = tx().identity().register_role(Role::JobCreator);
			submit(&api, &role, &charlie).await.unwrap();
		},
	);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sampled_mediator_catches_a_forged_result_and_upholds_an_honest_one() {
	let mut node = Node::spawn("mediation", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash").0;
	let (bob, charlie, eve) = (dev::bob(), dev::charlie(), dev::eve());
	let tx = lilypad::transactions;

	// Each account's set-up in order, the accounts side by side.
	let mut deterministic = manifest(TIMEOUT_SECS, Perbill::zero());
	deterministic.verification = VerificationPolicy::Deterministic;
	tokio::join!(set_up(&api, deterministic), async {
		submit(&api, &tx().identity().register_role(Role::Mediator), &eve).await.unwrap();
		let bond = tx().providers().bond(BondKind::Mediator, 20 * LILY);
		submit(&api, &bond, &eve).await.unwrap();
	},);

	let (bob_id, charlie_id, eve_id) = (id(&bob), id(&charlie), id(&eve));
	let at_ask = charge_with_royalties(ASK, RATES, 0);
	let collateral = collateral_for(ASK, FixedU128::from_rational(5, 2));

	// --- Job 0: a forged result is caught.
	let job0 = run_job(&api, &rpc, genesis, DIGEST, FORGED_OUTPUT).await;
	let charlie0 = free(&api, &charlie_id).await;
	let eve0 = free(&api, &eve_id).await;
	let answered = eve_answers(&api, &rpc, genesis, job0).await;
	let resolved = answered
		.find_first::<lilypad::jobs::events::MediationResolved>()
		.expect("decode")
		.expect("MediationResolved");
	assert!(matches!(
		resolved.verdict,
		lilypad::runtime_types::lilypad_primitives::mediation::Verdict::ResultWrong
	));
	let j = job(&rpc, job0).await;
	assert_eq!(j["stage"], "slashPending");
	assert_eq!(j["mediation"]["verdict"], "resultWrong");
	assert_eq!(j["slash"]["cause"], "badResult");
	// The mediator's pay comes out of the treasury's part of the collateral first.
	let to_mediator = CHALLENGE_FEE.min(collateral - ASK);
	assert_eq!(j["slash"]["toCreator"], ASK.to_string());
	assert_eq!(j["slash"]["toMediator"], to_mediator.to_string());
	assert_eq!(j["slash"]["toTreasury"], (collateral - ASK - to_mediator).to_string());
	assert_eq!(free(&api, &charlie_id).await, charlie0 + at_ask.total(), "escrow back at once");

	let j =
		wait_for(&rpc, job0, "slashed", Duration::from_secs(60), |j| j["stage"] == "slashed").await;
	wait_until_finalized(&rpc, reached(&j, "slashed"), Duration::from_secs(60), "slashed").await;
	assert_eq!(
		free(&api, &charlie_id).await,
		charlie0 + at_ask.total() + ASK,
		"Charlie: escrow back and one price of compensation"
	);
	assert_eq!(free(&api, &eve_id).await, eve0 - fee(&answered) + to_mediator, "Eve is paid");
	let bond: serde_json::Value = rpc
		.request("lilypad_bond", rpc_params![bob_id.to_string(), "provider"])
		.await
		.expect("lilypad_bond");
	assert_eq!(bond["bonded"], (LILY - collateral).to_string(), "Bob's collateral slashed");
	assert_eq!(bond["inUse"], "0");
	let stake: serde_json::Value = rpc
		.request("lilypad_bond", rpc_params![eve_id.to_string(), "mediator"])
		.await
		.expect("lilypad_bond");
	assert_eq!(stake["inUse"], "0", "Eve's stake is unlocked after her answer");

	// --- Job 1: an honest result is upheld.
	let bob1 = free(&api, &bob_id).await;
	let job1 = run_job(&api, &rpc, genesis, DIGEST, TRUE_OUTPUT).await;
	let bob_paid_fees = bob1 - free(&api, &bob_id).await;
	let eve1 = free(&api, &eve_id).await;
	let answered = eve_answers(&api, &rpc, genesis, job1).await;
	let completed = answered
		.find_first::<lilypad::jobs::events::JobCompleted>()
		.expect("decode")
		.expect("the job completes with the answer");
	let mediator_pay = CHALLENGE_FEE.min(at_ask.protocol_fee);
	assert_eq!(completed.price, ASK);
	assert_eq!(completed.protocol_fee, at_ask.protocol_fee - mediator_pay);
	let paid = answered
		.find_first::<lilypad::jobs::events::MediatorPaid>()
		.expect("decode")
		.expect("MediatorPaid");
	assert_eq!((paid.mediator, paid.amount), (eve_id, mediator_pay));
	assert_eq!(job(&rpc, job1).await["stage"], "completed");
	assert_eq!(free(&api, &eve_id).await, eve1 - fee(&answered) + mediator_pay, "Eve is paid");
	assert_eq!(free(&api, &bob_id).await, bob1 - bob_paid_fees + ASK, "Bob is paid the ask");
	node.assert_running();
}

/// What an honest provider's run of `cowsay` on `message` produces: the output archive's
/// digest, from the agent's own WASM executor.
fn true_cowsay_output(wasm: &[u8], message: &str) -> [u8; 32] {
	let exec = lilypad_rp::wasm::WasmExecutor::new(None).unwrap();
	let module = exec.module(&digest_of(wasm), || Ok(wasm.to_vec())).unwrap();
	let (outcome, output) =
		lilypad_e2e::rp::run_wasm(&exec, &module, &[], &[("Message", message)], [0; 32]);
	assert_eq!(outcome.exit, ExitStatus::Success);
	output
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_in_mediator_mode_catches_a_forged_result() {
	let mut node = Node::spawn("mediation-agent", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash").0;
	let charlie = dev::charlie();

	// `echo` is the real cowsay module here: the same input (`Message`, an environment
	// variable), and an artifact the mediator can fetch and run.
	let cowsay = lilypad_e2e::rp::example_module("cowsay");
	let cowsay_digest = digest_of(&cowsay);
	let mut deterministic = manifest(TIMEOUT_SECS, Perbill::zero());
	deterministic.verification = VerificationPolicy::Deterministic;
	deterministic.artifact = lilypad_primitives::registry::Artifact::Wasm {
		digest: cowsay_digest,
		size: cowsay.len() as u64,
	};
	let dir = tempfile::tempdir().unwrap();
	let mut agent = lilypad_e2e::rp::Agent::spawn(
		"rp-eve-mediator",
		&node.ws_url(),
		"//Eve",
		&dir.path().join("eve"),
		&["--mediate", "--provide", "false", "--mediator-bond", &(20 * LILY).to_string()],
	);
	tokio::join!(
		set_up(&api, deterministic),
		agent.wait_for_log(&["mediator stake bonded"], Duration::from_secs(120)),
	);
	// The mediator has the module in its store (as it would from a peer or the publisher).
	let put = reqwest::Client::new()
		.put(blob_url(&agent.url, &cowsay_digest))
		.body(cowsay.clone())
		.send()
		.await
		.expect("PUT module");
	assert_eq!(put.status().as_u16(), 201);
	// wasmtime-wasi's synchronous calls block: off the async runtime.
	let wasm = cowsay.clone();
	let truth = std::thread::spawn(move || true_cowsay_output(&wasm, "hello")).join().unwrap();
	assert_ne!(truth, FORGED_OUTPUT);

	// A forged result: the agent is drawn, re-runs the job and answers the true digest.
	let charlie_id = id(&charlie);
	let forged = run_job(&api, &rpc, genesis, cowsay_digest, FORGED_OUTPUT).await;
	let charlie0 = free(&api, &charlie_id).await;
	let j = wait_for(&rpc, forged, "found wrong", Duration::from_secs(120), |j| {
		!j["mediation"]["verdict"].is_null()
	})
	.await;
	assert_eq!(j["mediation"]["mediator"], id(&dev::eve()).to_string());
	assert_eq!(j["mediation"]["verdict"], "resultWrong", "{j}");
	assert_eq!(j["stage"], "slashPending");
	assert_eq!(j["slash"]["cause"], "badResult");
	let answered_at = reached(&j, "slashPending");
	wait_until_finalized(&rpc, answered_at, Duration::from_secs(60), "answer finalized").await;
	let events = api.at_block(answered_at).await.unwrap().events().fetch().await.unwrap();
	let answer = events
		.find_first::<lilypad::jobs::events::MediatorAnswered>()
		.expect("decode")
		.expect("MediatorAnswered");
	assert_eq!((answer.job, answer.output_digest), (forged, truth), "the agent's re-run");
	let at_ask = charge_with_royalties(ASK, RATES, 0);
	assert_eq!(free(&api, &charlie_id).await, charlie0 + at_ask.total(), "escrow back at once");
	agent.wait_for_log(&["mediation answered"], Duration::from_secs(30)).await;

	// The honest result of the same job: upheld, the job completes.
	let honest = run_job(&api, &rpc, genesis, cowsay_digest, truth).await;
	let j = wait_for(&rpc, honest, "completed", Duration::from_secs(120), |j| {
		j["stage"] == "completed"
	})
	.await;
	assert_eq!(j["mediation"]["verdict"], "resultUpheld", "{j}");
	let metrics =
		reqwest::get(format!("{}/metrics", agent.url)).await.unwrap().text().await.unwrap();
	assert!(
		metrics.lines().any(|l| l == "lilypad_rp_mediations_total{engine=\"Wasm\"} 2"),
		"{metrics}"
	);
	node.assert_running();
}
