//! Load on a dev network: many small jobs at once, with one agent and with two, and the
//! end-to-end latency of `lilypad run`.
//!
//! For each agent count, a fresh `lilypad-node --dev --solver` (made ready with `lilypad dev
//! init`: a 2-block challenge window) and agents of capacity 128. Three job creators (Bob,
//! Charlie, Ferdie) submit `JOBS` trivial WASM jobs (`cowsay`) in batches of 100, all at once;
//! the bench counts `JobCompleted` events per finalized block until every job has settled and
//! reports settled jobs per minute, the busiest block, and the CPU and peak memory of the node
//! and each agent. With one agent it also times `RUNS` sequential `lilypad run --wait settled
//! --json` of the WASM and the Docker cowsay: to verified outputs (the result in a best block),
//! to the result's finality and to settlement, in seconds and blocks.
//!
//! `scripts/bench-load.sh [jobs=1200] [runs=15] [agent counts, default 1 2]`
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};

use lilypad_e2e::{
	cli::{module_dir, Cli},
	echo::lilypad,
	legacy,
	rp::{docker_image, example_module, inputs, module_name, Agent},
	submit_finalized, summary, Node,
};
use lilypad_primitives::registry::{ModuleRef, SemVer};
use subxt::{utils::Static, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::{dev, Keypair};

const ASK: &str = "10000000000";
const BATCH: usize = 100;
/// Jobs each agent runs at once. A slot stays taken from the match until the result is on
/// chain (about four blocks), so a provider settles at most `CAPACITY / 4` jobs a block.
const CAPACITY: u32 = 128;

/// Peak resident memory (VmHWM) of `pid`, in MiB.
fn peak_mib(pid: u32) -> f64 {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
	let kib: f64 = status
		.lines()
		.find(|l| l.starts_with("VmHWM:"))
		.and_then(|l| l.split_whitespace().nth(1))
		.and_then(|v| v.parse().ok())
		.unwrap_or(0.0);
	kib / 1024.0
}

/// CPU seconds `pid` has used (user + system).
fn cpu_secs(pid: u32) -> f64 {
	let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
	// Fields after the command name (which may hold spaces) start at ") ".
	let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
	let f: Vec<&str> = rest.split_whitespace().collect();
	let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
		+ f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
	ticks / 100.0
}

const COWSAY_INPUT: &str =
	"[[inputs]]\nname = \"Message\"\ntype = \"text\"\nrequired = true\ndelivery = \"env\"";

/// Submits `n` cowsay jobs as `who`, in finalized batches of [`BATCH`].
async fn submit(
	api: &OnlineClient<SubstrateConfig>,
	rpc: &subxt::rpcs::RpcClient,
	who: Keypair,
	n: usize,
) {
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::jobs::JobOptions,
		lilypad_runtime::RuntimeCall, pallet_jobs::pallet::Call as JobsCall,
	};
	let mut left = n;
	while left > 0 {
		let k = left.min(BATCH);
		let best = lilypad_e2e::best_number(rpc).await.unwrap().unwrap() as u32;
		let calls = (0..k)
			.map(|_| {
				RuntimeCall::Jobs(JobsCall::submit_job {
					module: Static(ModuleRef {
						name: module_name("cowsay"),
						version: SemVer::new(0, 1, 0),
					}),
					inputs: Static(inputs("Message", "load")),
					max_price: ASK.parse().unwrap(),
					deadline: best + 300,
					options: JobOptions {
						target: None,
						credentials: BoundedVec(vec![]),
						verification: None,
					},
				})
			})
			.collect();
		submit_finalized(api, &lilypad::transactions().utility().batch_all(calls), &who)
			.await
			.expect("a batch of jobs");
		left -= k;
	}
}

struct Network {
	node: Node,
	agents: Vec<Agent>,
	cli: Cli,
	_dir: tempfile::TempDir,
}

async fn network(name: &str, agents: usize) -> Network {
	let mut node = Node::spawn(name, &["--dev", "--tmp", "--solver"]);
	node.wait_for_finalized(1, Duration::from_secs(240)).await;
	let dir = tempfile::tempdir().unwrap();
	let cli = Cli::new(&node.ws_url(), dir.path());
	cli.ok(Some("//Alice"), &["dev", "init"]);
	let mut started = Vec::new();
	for key in ["//Dave", "//Eve"].into_iter().take(agents) {
		let mut agent = Agent::spawn(
			&format!("{name}-{}", &key[2..]),
			&node.ws_url(),
			key,
			&dir.path().join(&key[2..]),
			&["--capacity", &CAPACITY.to_string(), "--price", ASK],
		);
		agent.wait_for_log(&["collateral bonded"], Duration::from_secs(120)).await;
		started.push(agent);
	}
	// Trivial modules that fit a 128-slot offer on two cores: 15 millicores each.
	for (module, kind, bytes) in [
		("cowsay", "wasm", example_module("cowsay")),
		("cowsay-docker", "docker", docker_image("cowsay").tarball),
	] {
		let file = dir.path().join(format!("{module}.artifact"));
		std::fs::write(&file, bytes).unwrap();
		let mdir = module_dir(dir.path(), module, (kind, &file), COWSAY_INPUT, 60);
		let manifest = std::fs::read_to_string(mdir.join("lilypad-module.toml")).unwrap();
		std::fs::write(
			mdir.join("lilypad-module.toml"),
			manifest.replace("cpu_millicores = 500", "cpu_millicores = 15"),
		)
		.unwrap();
		cli.ok(Some("//Alice"), &["module", "publish", mdir.to_str().unwrap()]);
	}
	Network { node, agents: started, cli, _dir: dir }
}

async fn throughput(net: &Network, jobs: usize) {
	let rpc = subxt::rpcs::RpcClient::from_insecure_url(net.node.ws_url()).await.unwrap();
	let api = OnlineClient::<SubstrateConfig>::from_rpc_client(rpc.clone()).await.unwrap();
	let creators = [dev::bob(), dev::charlie(), dev::ferdie()];
	for c in &creators {
		let call = lilypad::transactions()
			.identity()
			.register_role(lilypad::runtime_types::lilypad_primitives::identity::Role::JobCreator);
		let _ = submit_finalized(&api, &call, c).await;
	}
	let pids: Vec<(String, u32)> = std::iter::once(("node".to_string(), net.node.pid()))
		.chain(
			net.agents
				.iter()
				.enumerate()
				.map(|(i, a)| (format!("agent {}", i + 1), a.pid().unwrap())),
		)
		.collect();
	let cpu_before: Vec<f64> = pids.iter().map(|(_, p)| cpu_secs(*p)).collect();
	let mut finalized = legacy(&rpc).chain_subscribe_finalized_heads().await.unwrap();
	let start = Instant::now();
	let per = jobs / creators.len();
	let submitters: Vec<_> = creators
		.into_iter()
		.map(|c| {
			let (api, rpc) = (api.clone(), rpc.clone());
			tokio::spawn(async move { submit(&api, &rpc, c, per).await })
		})
		.collect();
	let total = per * 3;
	let mut done = 0usize;
	let mut per_block: BTreeMap<u64, (usize, Duration)> = BTreeMap::new();
	// What could limit the rate: the share of a block's transaction weight used, the matches
	// and results each block carried.
	let (mut weight_shares, mut matched, mut results) = (Vec::new(), Vec::new(), Vec::new());
	// The block each job was submitted in, and the blocks from there to its match.
	let (mut submitted_in, mut match_delay) = (BTreeMap::new(), Vec::new());
	// Count from the block finalized now: older blocks' state may be pruned already.
	let mut last_seen = lilypad_e2e::finalized_number(&rpc).await.unwrap().unwrap();
	while done < total {
		let head = tokio::time::timeout(Duration::from_secs(60), finalized.next())
			.await
			.expect("a finalized block within a minute")
			.expect("stream")
			.expect("head");
		for n in last_seen + 1..=head.number {
			let at = api.at_block(n).await.unwrap();
			let events = at.events().fetch().await.unwrap();
			let completed = events.find::<lilypad::jobs::events::JobCompleted>().count();
			done += completed;
			per_block.insert(n, (completed, start.elapsed()));
			for e in events.find::<lilypad::jobs::events::JobSubmitted>().flatten() {
				submitted_in.insert(e.job, n);
			}
			let mut matches = 0;
			for e in events.find::<lilypad::jobs::events::JobMatched>().flatten() {
				matches += 1;
				if let Some(at) = submitted_in.get(&e.job) {
					match_delay.push((n - at) as f64);
				}
			}
			matched.push(matches as f64);
			results.push(events.find::<lilypad::jobs::events::ResultSubmitted>().count() as f64);
			let weight = at.storage().fetch(lilypad::storage().system().block_weight(), ()).await;
			if let Some(weight) = weight.ok().and_then(|w| w.decode().ok()) {
				// Normal transactions may use 75% of the block's 0.5 s (runtime/src/configs).
				let normal = weight.normal.ref_time as f64 / (0.75 * 0.5e12);
				weight_shares.push(normal * 100.0);
			}
		}
		last_seen = head.number;
		assert!(
			start.elapsed() < Duration::from_secs(900),
			"only {done} of {total} settled in 15 min"
		);
	}
	let took = start.elapsed();
	for s in submitters {
		s.await.unwrap();
	}
	let first = per_block.values().find(|(c, _)| *c > 0).map(|(_, t)| *t).unwrap();
	let busiest = per_block.values().map(|(c, _)| *c).max().unwrap();
	let blocks_with = per_block.values().filter(|(c, _)| *c > 0).count();
	println!(
		"  {total} jobs settled in {:.1} s: {:.0} jobs/min overall (submission to last settlement), {:.0} jobs/min from the first settlement on",
		took.as_secs_f64(),
		total as f64 * 60.0 / took.as_secs_f64(),
		total as f64 * 60.0 / (took - first).as_secs_f64().max(0.001)
	);
	println!("  settlements over {blocks_with} blocks, busiest block {busiest} (the block's capacity is 141 complete lifecycles)");
	let busy = |xs: &[f64]| xs.iter().cloned().fold(0.0, f64::max);
	println!(
		"  per block: matches up to {:.0} (the solver proposes up to 4 x 64 a block), results up to {:.0}, transaction weight up to {:.0}% of what a block allows ({})",
		busy(&matched),
		busy(&results),
		busy(&weight_shares),
		summary("weight used", "%", weight_shares.clone())
	);
	let next_block = match_delay.iter().filter(|d| **d == 1.0).count();
	println!(
		"  {} (1 = the solver's batch in the block after the job's; more when every slot was taken); {next_block} jobs matched in the block after their own",
		summary("submitted to matched, blocks", "", match_delay)
	);
	for ((name, pid), before) in pids.iter().zip(cpu_before) {
		println!(
			"  {name}: {:.2} cores on average, peak RSS {:.1} MiB",
			(cpu_secs(*pid) - before) / took.as_secs_f64(),
			peak_mib(*pid)
		);
	}
}

fn latency(net: &Network, module: &str, runs: usize) {
	let (mut result_s, mut final_s, mut settled_s) = (vec![], vec![], vec![]);
	let (mut matched_blocks, mut result_blocks, mut settled_blocks) = (vec![], vec![], vec![]);
	for i in 0..runs {
		let message = format!("Message=run {i}");
		let run =
			net.cli.ok(Some("//Charlie"), &["run", module, "-i", &message, "--wait", "settled"]);
		let n = |k: &str| run[k].as_u64().unwrap_or_else(|| panic!("no {k} in {run}")) as f64;
		result_s.push(n("result_ms") / 1000.0);
		final_s.push(n("final_ms") / 1000.0);
		settled_s.push(n("elapsed_ms") / 1000.0);
		matched_blocks.push(n("matched_block") - n("submitted_block"));
		result_blocks.push(n("result_block") - n("submitted_block"));
		settled_blocks.push(n("completed_block") - n("submitted_block"));
	}
	let secs = |name: &str, xs: Vec<f64>| {
		let mut xs = xs;
		xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
		let at = |p: f64| xs[((xs.len() as f64 - 1.0) * p).round() as usize];
		format!("{name}: n={} p50={:.1} s p95={:.1} s", xs.len(), at(0.5), at(0.95))
	};
	println!("  {module}: {}", secs("to verified outputs", result_s));
	println!("  {module}: {}", summary("submitted to matched, blocks", "", matched_blocks));
	println!("  {module}: {}", summary("submitted to result, blocks", "", result_blocks));
	println!("  {module}: {}", secs("to the result finalized", final_s));
	println!("  {module}: {}", secs("to settlement (2-block challenge window)", settled_s));
	println!("  {module}: {}", summary("submitted to settlement, blocks", "", settled_blocks));
}

#[tokio::main]
async fn main() {
	let jobs: usize = std::env::args().nth(1).map(|a| a.parse().expect("jobs")).unwrap_or(1200);
	let runs: usize = std::env::args().nth(2).map(|a| a.parse().expect("runs")).unwrap_or(15);
	lilypad_e2e::node_binary();
	let counts: Vec<usize> = std::env::args().skip(3).map(|a| a.parse().expect("agents")).collect();
	for agents in if counts.is_empty() { vec![1, 2] } else { counts } {
		println!("== {agents} agent(s), capacity {CAPACITY} each");
		let net = network(&format!("load{agents}"), agents).await;
		if agents == 1 && runs > 0 {
			println!("- latency of `lilypad run --json`, one at a time, idle network");
			latency(&net, "cowsay", runs);
			latency(&net, "cowsay-docker", runs);
		}
		println!("- {jobs} trivial WASM jobs at once");
		throughput(&net, jobs).await;
	}
}
