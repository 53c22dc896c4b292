//! Measures the `--chain local` network: finality lag with four validators, with one (Dave)
//! down, and how long a restarted Dave takes to catch up with the others' finality.
//!
//! `scripts/bench-local-network.sh [blocks=30]`
use std::time::{Duration, Instant};

use lilypad_e2e::{
	finalized_number, measure_finality, node_binary, summary, wait_until_finalized, LocalNetwork,
};

#[tokio::main]
async fn main() {
	let blocks: u64 = std::env::args().nth(1).map(|a| a.parse().expect("blocks")).unwrap_or(30);
	node_binary();
	let dir = std::env::temp_dir().join(format!("lilypad-local-bench-{}", std::process::id()));
	let mut net = LocalNetwork::start(&dir);
	let timeout = Duration::from_secs(300);
	let alice = net.node(0).wait_for_finalized(3, timeout).await;
	for i in 1..4 {
		net.node(i).wait_for_finalized(3, timeout).await;
	}

	let all_up = measure_finality(&alice, blocks).await;
	println!("{}", summary("4 validators: block interval", " ms", all_up.intervals_ms));
	println!("{}", summary("4 validators: finality lag", " ms", all_up.import_to_final_ms));
	println!("{}", summary("4 validators: finality lag", " blocks", all_up.lag_blocks));

	net.stop(3);
	let one_down = measure_finality(&alice, blocks).await;
	println!("{}", summary("3 of 4 validators: block interval", " ms", one_down.intervals_ms));
	println!("{}", summary("3 of 4 validators: finality lag", " ms", one_down.import_to_final_ms));
	println!("{}", summary("3 of 4 validators: finality lag", " blocks", one_down.lag_blocks));

	let target = finalized_number(&alice).await.expect("rpc").expect("header");
	let restarted = Instant::now();
	net.restart(3);
	let dave = net.node(3).wait_for_finalized(1, timeout).await;
	let rpc_ready = restarted.elapsed();
	wait_until_finalized(&dave, target, timeout, "Dave catching up").await;
	println!(
		"restarted validator: JSON-RPC after {:.1} s, finalized the others' head #{target} after {:.1} s",
		rpc_ready.as_secs_f64(),
		restarted.elapsed().as_secs_f64()
	);
}
