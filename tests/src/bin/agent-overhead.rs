//! `agent-overhead`: what `lilypad-rp` adds to a job, and what it holds in memory.
//!
//! One run, on a real `lilypad-node --dev --solver` and a real agent (capacity 8):
//! - a trivial WASM job (cowsay) and a trivial Docker job (cowsay's image) through the agent,
//!   timed by the agent itself from taking the job to having its result ready (reading the
//!   module's record, fetching it, delivering inputs, running, archiving and storing the
//!   outputs: everything but the chain's own block times), against the same work run
//!   directly (wasmtime in-process on a compiled module; `docker run`), as ratios;
//! - the agent's resident memory idle, and at its peak with 8 WASM jobs and with 8 Docker jobs
//!   running (WASM modules run inside the agent's process; containers do not).
//!
//! Run with `scripts/bench-agent.sh`.
use std::{process::Command, time::Duration, time::Instant};

use lilypad_client::content::{blob_url, digest_of};

use lilypad_e2e::{
	echo::{lilypad, publish, wait_for_job, MILLI},
	rp::{
		docker_artifact, docker_image, example_module, inputs, submit_jobs, version, wasm_artifact,
		Agent,
	},
	submit_finalized as submit, summary, Node,
};
use lilypad_primitives::{
	jobs::JobInputs,
	registry::{Delivery, ParamType},
};
use subxt::{rpcs::RpcClient, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::dev;

use lilypad::runtime_types::lilypad_primitives::{identity::Role, providers::BondKind};

type Client = OnlineClient<SubstrateConfig>;

const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 10 * MILLI;
/// Trivial jobs timed through the agent, of each engine.
const TRIVIAL_JOBS: usize = 6;
/// Jobs running at once for the memory figure.
const CONCURRENT: usize = 8;
/// numeric rounds that keep a job running for several seconds.
const LONG_ROUNDS: u64 = 400_000_000;

/// Charlie submits `n` jobs of `module` on `input` in one batch; returns their ids.
async fn submit_n(
	api: &Client,
	rpc: &RpcClient,
	module: &str,
	input: JobInputs,
	n: usize,
) -> Vec<u64> {
	submit_jobs(api, rpc, vec![(module, input); n], 2 * ASK).await
}

async fn wait_for_results(rpc: &RpcClient, ids: &[u64]) {
	for id in ids {
		wait_for_job(rpc, *id, "given a result", Duration::from_secs(600), |j| {
			j["result"].is_object()
		})
		.await;
	}
}

/// The agent's own time for job `id`, from its `ran` log line.
fn took_ms(agent: &Agent, id: u64) -> f64 {
	let log = agent.log_text();
	let line = log
		.lines()
		.find(|l| l.contains(&format!("job{{id={id}}}: ran ")))
		.unwrap_or_else(|| panic!("job {id} not run:\n{log}"));
	let v = line.split("took_ms=").nth(1).expect("took_ms").split_whitespace().next().unwrap();
	v.parse().unwrap()
}

/// Resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
	let kb: f64 = status
		.lines()
		.find_map(|l| l.strip_prefix("VmRSS:"))
		.and_then(|v| v.split_whitespace().next())
		.and_then(|v| v.parse().ok())
		.expect("VmRSS");
	kb / 1024.0
}

/// Jobs the agent's metrics say are running.
async fn running(agent: &Agent) -> usize {
	let text = reqwest::get(format!("{}/metrics", agent.url)).await.unwrap().text().await.unwrap();
	text.lines()
		.filter_map(|l| l.strip_prefix("lilypad_rp_jobs_running{"))
		.filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
		.sum::<f64>() as usize
}

/// Submits `CONCURRENT` long jobs and samples the agent's memory while they run: the peak RSS
/// and the most jobs seen running at once.
async fn peak_with_jobs(
	api: &Client,
	rpc: &RpcClient,
	agent: &Agent,
	module: &str,
) -> (f64, usize) {
	let pid = agent.pid().expect("running");
	let ids =
		submit_n(api, rpc, module, inputs("rounds", &LONG_ROUNDS.to_string()), CONCURRENT).await;
	let (mut peak, mut most) = (0f64, 0usize);
	let start = Instant::now();
	loop {
		let n = running(agent).await;
		most = most.max(n);
		if n > 0 {
			peak = peak.max(rss_mib(pid));
		}
		let done = ids.iter().all(|id| agent.log_text().contains(&format!("job{{id={id}}}: ran ")));
		if done || start.elapsed() > Duration::from_secs(600) {
			break;
		}
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
	wait_for_results(rpc, &ids).await;
	(peak, most)
}

/// cowsay run 20 times in-process on one compiled module; microseconds each.
fn direct_wasm_runs(cowsay: &[u8]) -> Vec<f64> {
	let exec = lilypad_rp::wasm::WasmExecutor::new(None).unwrap();
	let module = exec.module(&digest_of(cowsay), || Ok(cowsay.to_vec())).unwrap();
	let mut direct_wasm = Vec::new();
	for _ in 0..20 {
		let dir = tempfile::tempdir().unwrap();
		let (i, o) = (dir.path().join("i"), dir.path().join("o"));
		std::fs::create_dir_all(&i).unwrap();
		std::fs::create_dir_all(&o).unwrap();
		let request = lilypad_rp::executor::Request {
			args: vec![],
			env: vec![("Message".into(), "hi".into())],
			inputs: i,
			outputs: o,
			models: Vec::new(),
			seed: [0; 32],
			name: "bench".into(),
			limits: lilypad_e2e::rp::WASM_LIMITS,
			stdout: None,
		};
		let t = Instant::now();
		exec.run_module(&module, request).unwrap();
		direct_wasm.push(t.elapsed().as_secs_f64() * 1e6);
	}
	direct_wasm
}

fn median(mut xs: Vec<f64>) -> f64 {
	xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
	xs[xs.len() / 2]
}

#[tokio::main]
async fn main() {
	let cowsay = example_module("cowsay");
	let numeric = example_module("numeric");
	let (cowsay_image, numeric_image) = (docker_image("cowsay"), docker_image("numeric"));

	// --- Directly: wasmtime in-process on a compiled module; `docker run`.
	let direct_wasm = {
		// wasmtime-wasi's synchronous calls block: off the async runtime.
		let cowsay = cowsay.clone();
		std::thread::spawn(move || direct_wasm_runs(&cowsay)).join().unwrap()
	};
	let image_id = format!("sha256:{}", hex::encode(cowsay_image.config));
	let mut direct_docker = Vec::new();
	for _ in 0..TRIVIAL_JOBS {
		let outputs = tempfile::tempdir().unwrap();
		std::fs::set_permissions(
			outputs.path(),
			std::os::unix::fs::PermissionsExt::from_mode(0o777),
		)
		.unwrap();
		let mount = format!("{}:/outputs", outputs.path().display());
		let t = Instant::now();
		let out = Command::new("docker")
			.args(["run", "--rm", "--network", "none", "-v", &mount, "-e", "Message=hi", &image_id])
			.output()
			.expect("docker runs");
		assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
		direct_docker.push(t.elapsed().as_secs_f64() * 1000.0);
	}

	// The agent's first Docker job loads the image from its store.
	let rmi = Command::new("docker").args(["rmi", "-f", &image_id]).output().expect("docker runs");
	assert!(rmi.status.success(), "{}", String::from_utf8_lossy(&rmi.stderr));

	// --- Through the agent.
	let mut node = Node::spawn("bench-agent", &["--dev", "--tmp", "--solver"]);
	let rpc = node.wait_for_finalized(1, Duration::from_secs(240)).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let alice = dev::alice();
	let env_input = ("Message", ParamType::Text, Delivery::Env);
	let rounds_input = ("rounds", ParamType::Integer, Delivery::Argument);
	for m in [
		version("cowsay", wasm_artifact(&cowsay), env_input, 120),
		version("numeric", wasm_artifact(&numeric), rounds_input, 120),
		version("cowsay-docker", docker_artifact(&cowsay_image), env_input, 120),
		version("numeric-docker", docker_artifact(&numeric_image), rounds_input, 120),
	] {
		// Small enough for one of the agent's 8 slots on a 2-core machine.
		let mut m = m;
		m.resources.cpu_millicores = 200;
		publish(&api, &alice, m).await;
	}
	let tx = lilypad::transactions;
	submit(&api, &tx().identity().register_role(Role::Solver), &alice).await.unwrap();
	submit(&api, &tx().providers().bond(BondKind::Solver, 50 * LILY), &alice).await.unwrap();
	submit(&api, &tx().identity().register_role(Role::JobCreator), &dev::charlie()).await.unwrap();

	let dir = tempfile::tempdir().unwrap();
	let mut agent = Agent::spawn(
		"bench-rp",
		&node.ws_url(),
		"//Dave",
		&dir.path().join("dave"),
		&[
			"--capacity",
			&CONCURRENT.to_string(),
			"--price",
			&ASK.to_string(),
			"--bond",
			&(100 * LILY).to_string(),
		],
	);
	agent.wait_for_log(&["collateral bonded"], Duration::from_secs(120)).await;
	let http = reqwest::Client::new();
	for (digest, bytes) in [
		(digest_of(&cowsay), cowsay.clone()),
		(digest_of(&numeric), numeric.clone()),
		(cowsay_image.archive, cowsay_image.tarball.clone()),
		(numeric_image.archive, numeric_image.tarball.clone()),
	] {
		let url = blob_url(&agent.url, &digest);
		http.put(&url).body(bytes).send().await.unwrap().error_for_status().unwrap();
	}
	tokio::time::sleep(Duration::from_secs(3)).await;
	let idle = rss_mib(agent.pid().unwrap());

	// One job at a time, so that each is timed alone; the first of each engine also compiles
	// (WASM) or loads (Docker) its module, and is reported apart.
	let timed = |module: &'static str, input: JobInputs| {
		let (api, rpc) = (api.clone(), rpc.clone());
		async move {
			let mut ms = Vec::new();
			for _ in 0..TRIVIAL_JOBS {
				let id = submit_n(&api, &rpc, module, input.clone(), 1).await[0];
				wait_for_results(&rpc, &[id]).await;
				ms.push(id);
			}
			ms
		}
	};
	let wasm_ids = timed("cowsay", inputs("Message", "hi")).await;
	let docker_ids = timed("cowsay-docker", inputs("Message", "hi")).await;
	let agent_wasm: Vec<f64> = wasm_ids.iter().map(|id| took_ms(&agent, *id)).collect();
	let agent_docker: Vec<f64> = docker_ids.iter().map(|id| took_ms(&agent, *id)).collect();

	let (wasm_peak, wasm_most) = peak_with_jobs(&api, &rpc, &agent, "numeric").await;
	let (docker_peak, docker_most) = peak_with_jobs(&api, &rpc, &agent, "numeric-docker").await;

	println!(
		"== agent overhead (one run; dev build; {} cores)",
		std::thread::available_parallelism().unwrap()
	);
	println!(
		"{}",
		summary("direct wasmtime run (cowsay, compiled module)", "µs", direct_wasm.clone())
	);
	println!(
		"{}",
		summary("through the agent, WASM (cowsay; warm)", "ms", agent_wasm[1..].to_vec())
	);
	println!("through the agent, WASM, first job (compiles the module): {:.0}ms", agent_wasm[0]);
	println!(
		"WASM ratio agent/direct (medians): {:.1}x",
		median(agent_wasm[1..].to_vec()) / (median(direct_wasm.clone()) / 1000.0)
	);
	println!("{}", summary("direct `docker run --rm` (cowsay image)", "ms", direct_docker.clone()));
	println!(
		"{}",
		summary("through the agent, Docker (cowsay image; warm)", "ms", agent_docker[1..].to_vec())
	);
	println!(
		"through the agent, Docker, first job (loads the image from the store): {:.0}ms",
		agent_docker[0]
	);
	println!(
		"Docker ratio agent/direct (medians): {:.2}x",
		median(agent_docker[1..].to_vec()) / median(direct_docker.clone())
	);
	println!("agent RSS idle: {idle:.1} MiB");
	println!(
		"agent RSS peak, {wasm_most} WASM jobs running (numeric, in-process): {wasm_peak:.1} MiB"
	);
	println!(
		"agent RSS peak, {docker_most} Docker jobs running (numeric image): {docker_peak:.1} MiB"
	);
	agent.kill();
	node.assert_running();
}
