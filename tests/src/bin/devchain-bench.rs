//! Measures a dev chain: node start-up time, block interval (median, p95) and finality lag over
//! N blocks, and the node's resident memory when idle.
//!
//! `scripts/bench-devchain.sh [blocks=300]`
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};

use lilypad_e2e::{legacy, node_binary, summary, Node};
use subxt::rpcs::RpcClient;

fn rss_kib(pid: u32) -> Option<u64> {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
	let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
	line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() {
	let blocks: u64 = std::env::args().nth(1).map(|a| a.parse().expect("blocks")).unwrap_or(300);
	node_binary();

	let started = Instant::now();
	let mut node = Node::spawn("bench", &["--dev", "--tmp"]);
	let rpc = loop {
		node.assert_running();
		if let Ok(rpc) = RpcClient::from_insecure_url(node.ws_url()).await {
			break rpc;
		}
		tokio::time::sleep(Duration::from_millis(50)).await;
	};
	let rpc_ready = started.elapsed();
	let methods = legacy(&rpc);
	let mut best = methods.chain_subscribe_new_heads().await.expect("subscribe best heads");
	let mut finalized =
		methods.chain_subscribe_finalized_heads().await.expect("subscribe finalized heads");

	let mut imported: BTreeMap<u64, Instant> = BTreeMap::new();
	let mut final_at: BTreeMap<u64, Instant> = BTreeMap::new();
	let mut lag_blocks = Vec::new();
	let mut last_final = 0u64;
	let mut first_block = None;
	while last_final < blocks {
		tokio::select! {
			Some(h) = best.next() => {
				let n = h.expect("best head").number;
				if n == 1 && first_block.is_none() { first_block = Some(started.elapsed()); }
				imported.entry(n).or_insert_with(Instant::now);
				lag_blocks.push(n.saturating_sub(last_final) as f64);
			}
			Some(h) = finalized.next() => {
				let n = h.expect("finalized head").number;
				let now = Instant::now();
				for k in last_final + 1..=n { final_at.entry(k).or_insert(now); }
				last_final = last_final.max(n);
			}
		}
	}
	let pid = node.pid();
	tokio::time::sleep(Duration::from_secs(5)).await;
	let rss = rss_kib(pid);

	println!(
		"node start-up: RPC ready after {:.1} s, block #1 after {:.1} s",
		rpc_ready.as_secs_f64(),
		first_block.map(|d| d.as_secs_f64()).unwrap_or(f64::NAN)
	);
	let intervals: Vec<f64> = imported
		.iter()
		.zip(imported.iter().skip(1))
		.filter(|((a, _), (b, _))| **a >= 1 && **b == **a + 1 && **b <= blocks)
		.map(|((_, ta), (_, tb))| tb.duration_since(*ta).as_secs_f64() * 1000.0)
		.collect();
	println!("{}", summary("block interval", " ms", intervals));
	let lags: Vec<f64> = final_at
		.iter()
		.filter_map(|(n, tf)| {
			imported.get(n).map(|ti| tf.duration_since(*ti).as_secs_f64() * 1000.0)
		})
		.collect();
	println!("{}", summary("finality lag (import to finalized)", " ms", lags));
	println!("{}", summary("finality lag at each new best block", " blocks", lag_blocks));
	match rss {
		Some(kib) => println!("idle resident memory: {:.0} MiB", kib as f64 / 1024.0),
		None => println!("idle resident memory: unavailable"),
	}
	node.assert_running();
}
