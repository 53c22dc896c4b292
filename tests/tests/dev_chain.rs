//! A real `lilypad-node --dev` produces and finalizes blocks, and a LILY transfer signed with
//! subxt settles on it: both balances move by exactly the amount and fee, and total issuance
//! stays the fixed supply.
use std::time::Duration;

use lilypad_e2e::{finalized_number, Node};
use subxt::{OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::dev;

#[subxt::subxt(runtime_metadata_path = "../metadata/lilypad.scale")]
pub mod lilypad {}

type AccountId = subxt::utils::AccountId32;

/// The supply declared in `lilypad_primitives::TOTAL_SUPPLY` (10^9 LILY of 10^12 units).
const TOTAL_SUPPLY: u128 = 1_000_000_000 * 1_000_000_000_000;

/// A debug node compiles the runtime before its first block; give it time on a slow machine.
const START_TIMEOUT: Duration = Duration::from_secs(240);

async fn free_balance(
	at: &subxt::client::ClientAtBlock<
		SubstrateConfig,
		subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
	>,
	who: &AccountId,
) -> u128 {
	let entry = at
		.storage()
		.entry(lilypad::storage().system().account())
		.expect("System.Account exists")
		.fetch((*who,))
		.await
		.expect("fetch account");
	entry.decode().expect("decode account").data.free
}

async fn total_issuance(
	at: &subxt::client::ClientAtBlock<
		SubstrateConfig,
		subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>,
	>,
) -> u128 {
	at.storage()
		.entry(lilypad::storage().balances().total_issuance())
		.expect("Balances.TotalIssuance exists")
		.fetch(())
		.await
		.expect("fetch issuance")
		.decode()
		.expect("decode issuance")
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_chain_finalizes_and_settles_a_signed_transfer() {
	let mut node = Node::spawn("dev", &["--dev", "--tmp"]);
	let rpc = node.wait_for_finalized(3, START_TIMEOUT).await;

	let api = OnlineClient::<SubstrateConfig>::from_rpc_client(rpc.clone())
		.await
		.expect("subxt connects to the node");
	let alice: AccountId = dev::alice().public_key().into();
	let bob: AccountId = dev::bob().public_key().into();

	let before = api.at_current_block().await.expect("finalized block");
	let (alice_before, bob_before) =
		(free_balance(&before, &alice).await, free_balance(&before, &bob).await);
	assert_eq!(total_issuance(&before).await, TOTAL_SUPPLY, "genesis issuance");

	let amount: u128 = 12_345 * 1_000_000_000_000;
	let tx = lilypad::transactions().balances().transfer_keep_alive(bob.into(), amount);
	let in_block = before
		.transactions()
		.sign_and_submit_then_watch_default(&tx, &dev::alice())
		.await
		.expect("submit transfer")
		.wait_for_finalized()
		.await
		.expect("transfer finalized");
	let events = in_block.wait_for_success().await.expect("transfer succeeded");

	let transfer = events
		.find_first::<lilypad::balances::events::Transfer>()
		.expect("decode events")
		.expect("a Transfer event");
	assert_eq!((transfer.from, transfer.to, transfer.amount), (alice, bob, amount));
	let fee = events
		.find_first::<lilypad::transaction_payment::events::TransactionFeePaid>()
		.expect("decode events")
		.expect("a TransactionFeePaid event");
	assert_eq!(fee.who, alice);
	assert!(fee.actual_fee > 0, "transfers are not free");

	let after = api.at_block(in_block.block_hash()).await.expect("block of the transfer");
	assert_eq!(free_balance(&after, &bob).await, bob_before + amount);
	assert_eq!(
		free_balance(&after, &alice).await,
		alice_before - amount - fee.actual_fee - fee.tip
	);
	assert_eq!(total_issuance(&after).await, TOTAL_SUPPLY, "issuance after the transfer");

	// The chain keeps finalizing after the transfer.
	let finalized = finalized_number(&rpc).await.expect("rpc").expect("header");
	assert!(finalized >= after.block_number(), "finality does not go backwards");
	node.assert_running();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_cannot_start_fails_with_its_log() {
	// An unknown chain spec file: the node exits at once; the harness must report it, not hang.
	let mut node = Node::spawn("bad", &["--chain", "/nonexistent/spec.json", "--tmp"]);
	let outcome = tokio::spawn(async move {
		node.wait_for_finalized(1, Duration::from_secs(60)).await;
	})
	.await;
	let panic = outcome.expect_err("waiting on a dead node must fail");
	let message = panic.into_panic().downcast::<String>().map(|s| *s).unwrap_or_default();
	assert!(message.contains("lilypad-node exited"), "unexpected failure: {message}");
	assert!(message.contains("nonexistent"), "the log explains why: {message}");
}
