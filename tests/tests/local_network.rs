//! `--chain local`: four validators (Alice, Bob, Charlie, Dave) on one machine keep producing and
//! finalizing blocks when one of them goes down, and the one that comes back catches up.
use std::time::Duration;

use lilypad_e2e::{
	best_number, finalized_number, wait_until_best, wait_until_finalized, LocalNetwork,
};

/// Four debug nodes compile the runtime at once on two cores before their first block.
const START_TIMEOUT: Duration = Duration::from_secs(300);
const PROGRESS_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread")]
async fn local_network_survives_a_validator_going_down() {
	let dir = std::env::temp_dir().join(format!("lilypad-local-{}", std::process::id()));
	let mut net = LocalNetwork::start(&dir);
	const DAVE: usize = 3;

	// Every validator sees finality advance.
	let mut rpcs = Vec::new();
	for i in 0..LocalNetwork::NAMES.len() {
		rpcs.push(net.node(i).wait_for_finalized(3, START_TIMEOUT).await);
	}
	let alice = rpcs[0].clone();

	// Dave goes down: 3 of 4 GRANDPA voters are still more than 2/3, so blocks and finality
	// keep coming.
	net.stop(DAVE);
	let best_before = best_number(&alice).await.expect("rpc").expect("header");
	let final_before = finalized_number(&alice).await.expect("rpc").expect("header");
	wait_until_best(&alice, best_before + 5, PROGRESS_TIMEOUT, "blocks with Dave down").await;
	let final_while_down =
		wait_until_finalized(&alice, final_before + 5, PROGRESS_TIMEOUT, "with Dave down").await;
	for (i, rpc) in rpcs.iter().enumerate().take(DAVE) {
		wait_until_finalized(rpc, final_while_down, PROGRESS_TIMEOUT, LocalNetwork::NAMES[i]).await;
	}

	// Dave comes back on his old database and catches up with the others' finality.
	net.restart(DAVE);
	let dave = net.node(DAVE).wait_for_finalized(final_while_down, START_TIMEOUT).await;
	let target = finalized_number(&alice).await.expect("rpc").expect("header");
	wait_until_finalized(&dave, target, PROGRESS_TIMEOUT, "Dave catching up").await;
	let alice_best = best_number(&alice).await.expect("rpc").expect("header");
	wait_until_best(&dave, alice_best, PROGRESS_TIMEOUT, "Dave importing new blocks").await;
	for i in 0..LocalNetwork::NAMES.len() {
		net.node(i).assert_running();
	}
}
