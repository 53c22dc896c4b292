//! `lilypad-rp` end to end: a real `lilypad-node --dev --solver` (Alice's solver key), a real
//! agent signing as Dave, real WASM modules (`modules/`: cowsay, numeric) and jobs submitted
//! over JSON-RPC by Charlie. Nobody calls `propose_match` or `submit_result` by hand.
//!
//! 1. Two jobs run at once, their results land on chain, the jobs complete and pay Dave, and
//!    the outputs downloaded from the agent's store match the digests on chain.
//! 2. The agent is killed in the middle of a job and restarted: the result still arrives
//!    before the deadline. It is killed again right after submitting another job's result and
//!    restarted: that result is never submitted a second time.
//! 3. A Docker job: the agent loads the image from the tarball in its store (checking both
//!    digests), runs it in a hardened container, gets paid, and its metrics say so.
use std::time::Duration;

use lilypad_client::content::{blob_url, digest_of, parse_digest};

use lilypad_e2e::{
	echo::{free_at, job, lilypad, publish, reached, sudo_set, wait_for_job, MILLI},
	rp::{
		docker_artifact, docker_image, example_module, inputs, submit_jobs, version, wasm_artifact,
		Agent,
	},
	submit_finalized as submit, wait_until_finalized, Node,
};
use lilypad_primitives::{
	jobs::JobInputs,
	registry::{Delivery, ParamType, VersionManifest},
};
use subxt::{rpcs::RpcClient, utils::AccountId32, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::{dev, Keypair};

use lilypad::runtime_types::{
	lilypad_primitives::{identity::Role, providers::BondKind},
	lilypad_runtime::configs::dynamic_params::protocol,
};

type Client = OnlineClient<SubstrateConfig>;

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 10 * MILLI;
/// Blocks of the challenge window: short, so that jobs complete within the test.
const CHALLENGE_WINDOW: u32 = 3;
/// Rounds of `numeric` that keep it busy for a few seconds.
const LONG_ROUNDS: u64 = 300_000_000;

fn id(k: &Keypair) -> AccountId32 {
	k.public_key().into()
}

/// A WASM module version of `wasm` with one required input.
fn manifest(
	module: &str,
	wasm: &[u8],
	input: (&str, ParamType, Delivery),
	timeout_secs: u32,
) -> VersionManifest<u128> {
	version(module, wasm_artifact(wasm), input, timeout_secs)
}

/// The chain, the modules, and the roles and stakes every test starts from.
struct Setup {
	node: Node,
	rpc: RpcClient,
	api: Client,
	cowsay: Vec<u8>,
	numeric: Vec<u8>,
	_dir: tempfile::TempDir,
}

async fn setup(name: &str) -> Setup {
	let (cowsay, numeric) = (example_module("cowsay"), example_module("numeric"));
	let mut node = Node::spawn(name, &["--dev", "--tmp", "--solver"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let tx = lilypad::transactions;
	sudo_set(
		&api,
		vec![protocol::Parameters::ChallengeWindow(
			protocol::ChallengeWindow,
			Some(CHALLENGE_WINDOW),
		)],
	)
	.await;
	let alice = dev::alice();
	publish(
		&api,
		&alice,
		manifest("cowsay", &cowsay, ("Message", ParamType::Text, Delivery::Env), 60),
	)
	.await;
	publish(
		&api,
		&alice,
		manifest("numeric", &numeric, ("rounds", ParamType::Integer, Delivery::Argument), 120),
	)
	.await;
	submit(&api, &tx().identity().register_role(Role::Solver), &alice).await.unwrap();
	submit(&api, &tx().providers().bond(BondKind::Solver, 50 * LILY), &alice).await.unwrap();
	submit(&api, &tx().identity().register_role(Role::JobCreator), &dev::charlie()).await.unwrap();
	Setup { node, rpc, api, cowsay, numeric, _dir: tempfile::tempdir().unwrap() }
}

impl Setup {
	/// Starts Dave's agent (capacity 2) and hands it both modules over its store's HTTP API.
	async fn agent(&mut self) -> Agent {
		let data = self._dir.path().join("dave");
		let mut agent = Agent::spawn(
			"rp-dave",
			&self.node.ws_url(),
			"//Dave",
			&data,
			&["--capacity", "2", "--price", &ASK.to_string(), "--bond", &LILY.to_string()],
		);
		agent.wait_for_log(&["collateral bonded"], Duration::from_secs(120)).await;
		let http = reqwest::Client::new();
		for wasm in [&self.cowsay, &self.numeric] {
			let url = blob_url(&agent.url, &digest_of(wasm));
			let put = http.put(&url).body(wasm.clone()).send().await.expect("PUT module");
			assert_eq!(put.status().as_u16(), 201, "{url}");
		}
		// A blob under the wrong name is refused.
		let wrong = blob_url(&agent.url, &digest_of(b"not this"));
		let put = http.put(&wrong).body(b"something else".to_vec()).send().await.unwrap();
		assert_eq!(put.status().as_u16(), 422);
		assert_eq!(http.get(&wrong).send().await.unwrap().status().as_u16(), 404);
		agent
	}

	/// Charlie submits jobs on `(module, inputs)` in one transaction; returns their ids.
	async fn submit_jobs(&self, jobs: Vec<(&str, JobInputs)>) -> Vec<u64> {
		submit_jobs(&self.api, &self.rpc, jobs, 2 * ASK).await
	}

	/// Every `submit_result` signed by `who` in the finalized chain, those in batches too.
	async fn result_submissions(&self, who: &AccountId32) -> usize {
		let last = lilypad_e2e::finalized_number(&self.rpc).await.unwrap().unwrap();
		let mut count = 0;
		for n in 1..=last {
			let block = self.api.at_block(n).await.expect("block");
			for xt in block.extrinsics().fetch().await.expect("extrinsics").iter() {
				let xt = xt.expect("decode extrinsic");
				if xt.address_bytes().is_none_or(|a| a[1..33] != who.0) {
					continue;
				}
				count += match (xt.pallet_name(), xt.call_name()) {
					("Jobs", "submit_result") => 1,
					// The agent's batches: each result included, and each refused (a second
					// result for a job fails its item).
					("Utility", _) => xt
						.events()
						.await
						.expect("events")
						.iter()
						.map(|e| e.expect("event"))
						.filter(|e| {
							matches!(
								(e.pallet_name(), e.event_name()),
								("Jobs", "ResultSubmitted") | ("Utility", "ItemFailed")
							)
						})
						.count(),
					_ => 0,
				};
			}
		}
		count
	}
}

fn hex32(v: &serde_json::Value) -> String {
	v.as_str().expect("a hex digest").trim_start_matches("0x").to_string()
}

/// The first line of `log` at or after which `needle` appears.
fn line_of(log: &str, needle: &[&str]) -> usize {
	log.lines()
		.position(|l| needle.iter().all(|n| l.contains(n)))
		.unwrap_or_else(|| panic!("no line with {needle:?} in the agent's log:\n{log}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_runs_two_jobs_at_once_gets_paid_and_serves_outputs_that_match_the_chain() {
	let mut s = setup("agent-run").await;
	let agent = s.agent().await;
	let dave = id(&dev::dave());
	let ids = s
		.submit_jobs(vec![
			("numeric", inputs("rounds", &LONG_ROUNDS.to_string())),
			("cowsay", inputs("Message", "hello from lilypad")),
		])
		.await;
	let (numeric, cowsay) = (ids[0], ids[1]);

	let mut jobs = Vec::new();
	for id in [numeric, cowsay] {
		jobs.push(
			wait_for_job(&s.rpc, id, "completed", Duration::from_secs(240), |j| {
				j["stage"] == "completed"
			})
			.await,
		);
	}

	// Both ran at once: each started before the other finished.
	let log = agent.log_text();
	let running = |id: u64| line_of(&log, &[&format!("job{{id={id}}}: running")]);
	let ran = |id: u64| line_of(&log, &[&format!("job{{id={id}}}: ran ")]);
	assert!(
		running(cowsay) < ran(numeric) && running(numeric) < ran(cowsay),
		"not concurrent:\n{log}"
	);

	let http = reqwest::Client::new();
	for (j, id) in jobs.iter().zip([numeric, cowsay]) {
		assert_eq!(j["assignment"]["provider"], dave.to_string());
		let result = &j["result"];
		assert_eq!(result["exit"]["kind"], "success", "{j}");

		// The outputs, stdout included, come from the agent's store and match the chain.
		let get = |d: String| {
			let http = http.clone();
			let url = blob_url(&agent.url, &parse_digest(&d).unwrap());
			async move {
				let r = http.get(&url).send().await.expect("GET blob");
				assert_eq!(r.status().as_u16(), 200, "{url}");
				r.bytes().await.unwrap().to_vec()
			}
		};
		let archive = get(hex32(&result["outputDigest"])).await;
		assert_eq!(blake3::hash(&archive).to_hex().to_string(), hex32(&result["outputDigest"]));
		let stdout = get(hex32(&result["stdoutDigest"])).await;
		assert_eq!(blake3::hash(&stdout).to_hex().to_string(), hex32(&result["stdoutDigest"]));
		let out = tempfile::tempdir().unwrap();
		let files = lilypad_rp::archive::unpack(&archive, out.path()).unwrap();
		if id == cowsay {
			assert_eq!(files, vec![std::path::PathBuf::from("cow.txt")]);
			let cow = std::fs::read_to_string(out.path().join("cow.txt")).unwrap();
			assert!(cow.contains("< hello from lilypad >") && cow.contains("(oo)"), "{cow}");
			assert_eq!(stdout, cow.as_bytes());
		} else {
			let text = std::fs::read_to_string(out.path().join("result.txt")).unwrap();
			assert!(text.starts_with(&format!("rounds={LONG_ROUNDS}\n")), "{text}");
		}

		// Payment: the block that completed the job paid Dave the price.
		let done = reached(j, "completed").expect("completed");
		wait_until_finalized(&s.rpc, done, Duration::from_secs(60), "completion finalized").await;
		let events = s.api.at_block(done).await.unwrap().events().fetch().await.unwrap();
		let paid = events
			.find::<lilypad::jobs::events::JobCompleted>()
			.map(|e| e.unwrap())
			.find(|e| e.job == id)
			.expect("JobCompleted");
		assert_eq!((paid.provider, paid.price), (dave, ASK));
		let fees: u128 = events
			.find::<lilypad::transaction_payment::events::TransactionFeePaid>()
			.map(|e| e.unwrap())
			.filter(|e| e.who == dave)
			.map(|e| e.actual_fee + e.tip)
			.sum();
		let completed_here = events
			.find::<lilypad::jobs::events::JobCompleted>()
			.filter(|e| e.as_ref().unwrap().provider == dave)
			.count() as u128;
		assert_eq!(
			free_at(&s.api, &dave, Some(done)).await + fees,
			free_at(&s.api, &dave, Some(done - 1)).await + completed_here * ASK,
			"Dave is paid the price"
		);
	}
	assert_eq!(s.result_submissions(&dave).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_agent_finishes_its_job_after_a_restart_and_never_submits_twice() {
	let mut s = setup("agent-crash").await;
	let mut agent = s.agent().await;
	let dave = id(&dev::dave());

	// Killed mid-job: the job is running when the agent dies.
	let long =
		s.submit_jobs(vec![("numeric", inputs("rounds", &(2 * LONG_ROUNDS).to_string()))]).await[0];
	agent.wait_for_log(&[&format!("job{{id={long}}}: running")], Duration::from_secs(60)).await;
	agent.kill();
	let before = agent.log_text();
	assert!(!before.contains(&format!("job{{id={long}}}: ran ")), "killed too late:\n{before}");
	agent.restart();
	let j = wait_for_job(&s.rpc, long, "given a result", Duration::from_secs(240), |j| {
		reached(j, "resultSubmitted").is_some()
	})
	.await;
	let execute_by = j["assignment"]["executeBy"].as_u64().expect("executeBy");
	assert!(reached(&j, "resultSubmitted").unwrap() <= execute_by, "{j}");
	assert_eq!(j["result"]["exit"]["kind"], "success");
	assert!(agent.log_text().contains("resuming from the journal"), "{}", agent.log_text());

	// Killed right after submitting: the result is in a block, maybe not yet finalized, and
	// the journal may not have recorded it.
	let short = s.submit_jobs(vec![("cowsay", inputs("Message", "once only"))]).await[0];
	wait_for_job(&s.rpc, short, "given a result", Duration::from_secs(120), |j| {
		reached(j, "resultSubmitted").is_some()
	})
	.await;
	agent.kill();
	agent.restart();
	let j = wait_for_job(&s.rpc, short, "completed", Duration::from_secs(120), |j| {
		j["stage"] == "completed"
	})
	.await;
	let done = reached(&j, "completed").unwrap();
	// A few more finalized blocks in which a second submission could have landed.
	wait_until_finalized(&s.rpc, done + 5, Duration::from_secs(60), "blocks after completion")
		.await;
	assert_eq!(s.result_submissions(&dave).await, 2, "one submit_result per job");
	assert_eq!(job(&s.rpc, long).await["stage"], "completed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_docker_job_runs_in_a_hardened_container_gets_paid_and_shows_in_the_metrics() {
	let mut s = setup("agent-docker").await;
	let image = docker_image("cowsay");
	let docker_cowsay = version(
		"cowsay-docker",
		docker_artifact(&image),
		("Message", ParamType::Text, Delivery::Env),
		60,
	);
	publish(&s.api, &dev::alice(), docker_cowsay).await;
	let agent = s.agent().await;
	// The image is not loaded: the agent must load it from the tarball in its store.
	let docker = lilypad_rp::docker::DockerExecutor::connect().await.expect("a Docker engine");
	docker.remove_image(&image.config).await.unwrap();
	let http = reqwest::Client::new();
	let url = blob_url(&agent.url, &image.archive);
	let put = http.put(&url).body(image.tarball.clone()).send().await.expect("PUT image");
	assert_eq!(put.status().as_u16(), 201);

	let id =
		s.submit_jobs(vec![("cowsay-docker", inputs("Message", "hello from docker"))]).await[0];
	let j = wait_for_job(&s.rpc, id, "completed", Duration::from_secs(240), |j| {
		j["stage"] == "completed"
	})
	.await;
	assert!(docker.has_image(&image.config).await.unwrap(), "loaded from the store");
	let result = &j["result"];
	assert_eq!(result["exit"]["kind"], "success", "{j}");
	assert_eq!(hex32(&result["moduleDigest"]), hex::encode(image.archive));
	let get = |d: String| {
		let (http, url) = (http.clone(), blob_url(&agent.url, &parse_digest(&d).unwrap()));
		async move { http.get(&url).send().await.unwrap().bytes().await.unwrap().to_vec() }
	};
	let archive = get(hex32(&result["outputDigest"])).await;
	assert_eq!(blake3::hash(&archive).to_hex().to_string(), hex32(&result["outputDigest"]));
	let out = tempfile::tempdir().unwrap();
	assert_eq!(
		lilypad_rp::archive::unpack(&archive, out.path()).unwrap(),
		vec![std::path::PathBuf::from("cow.txt")]
	);
	let cow = std::fs::read_to_string(out.path().join("cow.txt")).unwrap();
	assert!(cow.contains("< hello from docker >"), "{cow}");
	assert_eq!(get(hex32(&result["stdoutDigest"])).await, cow.as_bytes());

	// The metrics: one Docker job done, none failed, and the price earned once the agent has
	// seen the completion finalized.
	let done = reached(&j, "completed").expect("completed");
	wait_until_finalized(&s.rpc, done + 2, Duration::from_secs(60), "completion finalized").await;
	let metrics = http.get(format!("{}/metrics", agent.url)).send().await.unwrap();
	assert_eq!(metrics.status().as_u16(), 200);
	let text = metrics.text().await.unwrap();
	let earned = format!("lilypad_rp_earnings_lily_total {}", ASK as f64 / LILY as f64);
	for line in [
		"lilypad_rp_jobs_done_total{engine=\"Docker\"} 1",
		"lilypad_rp_jobs_failed_total{engine=\"Docker\"} 0",
		"lilypad_rp_jobs_running{engine=\"Docker\"} 0",
		&earned,
	] {
		assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
	}
	assert!(text.contains("lilypad_rp_heartbeat_age_seconds "), "{text}");
}
