//! A runtime upgrade by referendum on a real node, from the previous release to this one.
//!
//! `lilypad-node` starts a dev chain on the previous release's runtime
//! (`scripts/previous-runtime.sh` builds it from the commit in `runtime/previous-release`, in
//! its own target directory). Eve publishes a module and Charlie submits jobs on it. Then the
//! dev accounts authorize this release's runtime through a `root` referendum (conviction
//! voting, enacted by the scheduler), Ferdie applies it, and over JSON-RPC:
//! - the new `spec_version` runs and blocks keep being produced and finalized;
//! - the storage migrations ran once, and their own checks passed (`checked` in both
//!   `DepositsRepriced` events), with the counts and escrow this test saw before;
//! - every job and module is as it was except its re-priced deposit, and the balances moved by
//!   exactly what the migrations released;
//! - the `lilypad` CLI, which reads the chain's metadata afresh, still reads and transacts.
use std::{path::PathBuf, process::Command, time::Duration};

use lilypad_e2e::{
	cli::{planck, Cli},
	echo::{self, lilypad, manifest, publish},
	legacy, submit_finalized, wait_until_finalized, Node,
};
use polkadot_sdk::{
	frame_support::traits::{schedule::DispatchTime, Bounded},
	frame_system, pallet_conviction_voting as voting,
	sp_core::Encode,
	sp_io::hashing::blake2_256,
	sp_runtime::{traits::BlakeTwo256, Perbill},
};
use serde_json::Value;
use subxt::{rpcs::RpcClient, utils::Static, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::{dev, Keypair};

type Api = OnlineClient<SubstrateConfig>;

/// A debug node compiles the runtime before its first block; give it time on a slow machine.
const START_TIMEOUT: Duration = Duration::from_secs(240);
/// Jobs Charlie leaves waiting for a provider over the upgrade (no provider exists).
const JOBS: usize = 3;
const MAX_PRICE: u128 = 5 * echo::MILLI;

/// The previous release's runtime blob: `$LILYPAD_PREVIOUS_RUNTIME`, or built (or found) by
/// `scripts/previous-runtime.sh`.
fn previous_runtime() -> Vec<u8> {
	let path = lilypad_e2e::built("LILYPAD_PREVIOUS_RUNTIME", || {
		let script = lilypad_e2e::workspace_root().join("scripts/previous-runtime.sh");
		let out = Command::new("bash").arg(&script).output().expect("run previous-runtime.sh");
		assert!(
			out.status.success(),
			"{} failed:\n{}",
			script.display(),
			String::from_utf8_lossy(&out.stderr)
		);
		PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
	});
	std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The dev chain spec with `code` as its genesis runtime.
fn dev_spec_with(code: &[u8], dir: &std::path::Path) -> PathBuf {
	let out = Command::new(lilypad_e2e::node_binary())
		.args(["build-spec", "--chain", "dev"])
		.output()
		.expect("run build-spec");
	assert!(out.status.success(), "build-spec: {}", String::from_utf8_lossy(&out.stderr));
	let mut spec: Value = serde_json::from_slice(&out.stdout).expect("a JSON chain spec");
	let genesis = &mut spec["genesis"]["runtimeGenesis"];
	assert!(genesis["code"].is_string(), "runtimeGenesis.code in {genesis}");
	genesis["code"] = Value::String(format!("0x{}", hex::encode(code)));
	let path = dir.join("previous-release.json");
	std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
	path
}

async fn spec_version(rpc: &RpcClient) -> u32 {
	legacy(rpc).state_get_runtime_version(None).await.expect("runtime version").spec_version
}

async fn job(rpc: &RpcClient, id: u64) -> Value {
	echo::job(rpc, id).await
}

/// `v` without `key`.
fn without(v: &Value, key: &str) -> Value {
	let mut v = v.clone();
	v.as_object_mut().expect("an object").remove(key);
	v
}

async fn submit(api: &Api, call: &impl subxt::transactions::Payload, who: &Keypair, what: &str) {
	submit_finalized(api, call, who).await.unwrap_or_else(|e| panic!("{what}: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referendum_upgrades_the_runtime_and_the_migration_keeps_every_job_and_module() {
	let dir = tempfile::tempdir().unwrap();
	let old_code = previous_runtime();
	let new_code = lilypad_runtime::WASM_BINARY.expect("the runtime's blob is built");
	let spec = dev_spec_with(&old_code, dir.path());
	let mut node = Node::spawn(
		"upgrade",
		&[
			"--chain".as_ref(),
			spec.as_os_str(),
			"--alice".as_ref(),
			"--validator".as_ref(),
			"--force-authoring".as_ref(),
			"--tmp".as_ref(),
			// A non-dev validator needs a network key; any fixed one does for one node.
			"--node-key".as_ref(),
			"0000000000000000000000000000000000000000000000000000000000000001".as_ref(),
		],
	);
	let rpc = node.wait_for_finalized(2, START_TIMEOUT).await;
	let old_version = spec_version(&rpc).await;
	let new_version = lilypad_runtime::VERSION.spec_version;
	assert!(old_version < new_version, "the chain starts on the previous release");

	// --- Before: a module and live jobs, with escrow held.
	let api = Api::from_rpc_client(rpc.clone()).await.expect("subxt client");
	let (eve, charlie) = (dev::eve(), dev::charlie());
	publish(&api, &eve, manifest(10, Perbill::zero())).await;
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::identity::Role,
	};
	let tx = lilypad::transactions;
	submit(&api, &tx().identity().register_role(Role::JobCreator), &charlie, "role").await;
	let best = lilypad_e2e::best_number(&rpc).await.unwrap().unwrap() as u32;
	let mut jobs = vec![];
	for _ in 0..JOBS {
		let options = lilypad::runtime_types::lilypad_primitives::jobs::JobOptions {
			target: None,
			credentials: BoundedVec(vec![]),
			verification: None,
		};
		let call = tx().jobs().submit_job(
			Static(echo::module()),
			Static(echo::inputs("before the upgrade")),
			MAX_PRICE,
			// Within the match timeout (300 blocks), beyond the end of this test.
			best + 250,
			options,
		);
		let events = submit_finalized(&api, &call, &charlie).await.expect("submit_job");
		let submitted = events
			.find_first::<lilypad::jobs::events::JobSubmitted>()
			.expect("decode")
			.expect("JobSubmitted");
		jobs.push(submitted.job);
	}
	let cli = Cli::new(&node.ws_url(), dir.path());
	let charlie_addr = charlie.public_key().to_account_id().to_string();
	let eve_addr = eve.public_key().to_account_id().to_string();
	let before_jobs: Vec<Value> = futures_join(&rpc, &jobs).await;
	let before_module = cli.ok(None, &["module", "show", "echo"]);
	let escrow: u128 = before_jobs.iter().map(|j| planck(&j["escrow"])).sum();
	let old_job_deposit = planck(&before_jobs[0]["deposit"]);
	let old_module_deposit = planck(&before_module["deposit"]);
	let issuance = total_issuance(&api).await;

	// --- The referendum: Root track, inline proposal, every dev account votes aye.
	let code_hash = blake2_256(new_code);
	let authorize = lilypad_runtime::RuntimeCall::System(frame_system::Call::authorize_upgrade {
		code_hash: code_hash.into(),
	});
	let proposal = Bounded::<lilypad_runtime::RuntimeCall, BlakeTwo256>::Inline(
		authorize.encode().try_into().expect("a small call"),
	);
	let origin = lilypad_runtime::OriginCaller::system(frame_system::RawOrigin::Root);
	let alice = dev::alice();
	let index = 0u32;
	// Built from the runtime's own types; subxt encodes them as they are.
	let submit_referendum = subxt::transactions::dynamic(
		"Referenda",
		"submit",
		(Static(origin), Static(proposal), Static(DispatchTime::<u32>::After(1))),
	);
	submit(&api, &submit_referendum, &alice, "submit the referendum").await;
	submit(&api, &tx().referenda().place_decision_deposit(index), &alice, "decision deposit").await;
	// Each puts nine tenths of a dev account behind its vote: together two thirds of the
	// votable supply, above the root track's 50 % support from the start.
	let votable = echo::free(&api, &dev::ferdie().public_key().into()).await / 10 * 9;
	// All at once: voted one after the other, the first votes would pass it before the last.
	let votes: Vec<_> =
		[dev::alice(), dev::bob(), dev::charlie(), dev::dave(), dev::eve(), dev::ferdie()]
			.into_iter()
			.map(|voter| {
				let api = api.clone();
				tokio::spawn(async move {
					let vote = voting::AccountVote::Standard {
						vote: voting::Vote { aye: true, conviction: voting::Conviction::Locked1x },
						balance: votable,
					};
					let vote = subxt::transactions::dynamic(
						"ConvictionVoting",
						"vote",
						(index, Static(vote)),
					);
					submit(&api, &vote, &voter, "vote").await;
				})
			})
			.collect();
	for vote in votes {
		vote.await.expect("a vote lands");
	}
	// Prepare, decide, confirm, enact: a few dev-pace blocks.
	let start = std::time::Instant::now();
	loop {
		let at = api.at_current_block().await.unwrap();
		let authorized = at
			.storage()
			.try_fetch(lilypad::storage().system().authorized_upgrade(), ())
			.await
			.expect("read AuthorizedUpgrade");
		if authorized.is_some() {
			break;
		}
		assert!(start.elapsed() < Duration::from_secs(180), "the referendum did not pass");
		tokio::time::sleep(Duration::from_secs(1)).await;
	}

	// Charlie and Eve voted (and paid fees): their balances from here on.
	let (charlie_free, charlie_held) = cli.balance(&charlie_addr);
	let (eve_free, eve_held) = cli.balance(&eve_addr);

	// --- Anyone may apply the authorized code (the fee is waived for the authorized code).
	let progress = api
		.at_current_block()
		.await
		.unwrap()
		.transactions()
		.sign_and_submit_then_watch_default(
			&tx().system().apply_authorized_upgrade(new_code.to_vec()),
			&dev::ferdie(),
		)
		.await
		.expect("submit apply_authorized_upgrade");
	let in_block = progress.wait_for_finalized().await.expect("finalized");
	let events = in_block.wait_for_success().await.expect("apply_authorized_upgrade succeeds");
	assert!(events.find_first::<lilypad::system::events::CodeUpdated>().is_some());
	let upgraded_at = legacy(&rpc)
		.chain_get_header(Some(in_block.block_hash()))
		.await
		.unwrap()
		.expect("the block's header")
		.number;
	let rpc2 = node.wait_for_finalized(upgraded_at + 3, Duration::from_secs(60)).await;
	assert_eq!(spec_version(&rpc2).await, new_version, "the new runtime runs");
	node.assert_running();

	// --- The migrations ran in the first block of the new runtime, and their checks passed.
	let api = Api::from_rpc_client(rpc2.clone()).await.expect("client with fresh metadata");
	let events = api.at_block(upgraded_at + 1).await.unwrap().events().fetch().await.unwrap();
	let jobs_migrated = events
		.find_first::<lilypad::jobs::events::DepositsRepriced>()
		.expect("decode")
		.expect("the jobs migration ran");
	let modules_migrated = events
		.find_first::<lilypad::registry::events::DepositsRepriced>()
		.expect("decode")
		.expect("the registry migration ran");
	assert!(jobs_migrated.checked && modules_migrated.checked, "post-checks passed");
	assert_eq!(jobs_migrated.jobs as usize, JOBS);
	assert_eq!(jobs_migrated.escrow, escrow);
	assert_eq!((modules_migrated.modules, modules_migrated.versions), (1, 1));

	// --- Jobs, modules and balances: unchanged but for the re-priced deposits.
	let new_job_deposit = lilypad_runtime::configs::JobDeposit::get();
	let new_module_deposit = lilypad_runtime::configs::ModuleDeposit::get()
		+ lilypad_runtime::configs::VersionDeposit::get();
	assert!(new_job_deposit < old_job_deposit && new_module_deposit < old_module_deposit);
	let after_jobs = futures_join(&rpc2, &jobs).await;
	for (before, after) in before_jobs.iter().zip(&after_jobs) {
		assert_eq!(without(after, "deposit"), without(before, "deposit"));
		assert_eq!(planck(&after["deposit"]), new_job_deposit);
	}
	let job_refund = JOBS as u128 * (old_job_deposit - new_job_deposit);
	assert_eq!(jobs_migrated.released, job_refund);
	let module_refund = old_module_deposit - new_module_deposit;
	assert_eq!(modules_migrated.released, module_refund);
	let after_module = cli.ok(None, &["module", "show", "echo"]);
	assert_eq!(without(&after_module, "deposit"), without(&before_module, "deposit"));
	assert_eq!(planck(&after_module["deposit"]), new_module_deposit);
	assert_eq!(cli.balance(&charlie_addr), (charlie_free + job_refund, charlie_held - job_refund));
	assert_eq!(cli.balance(&eve_addr), (eve_free + module_refund, eve_held - module_refund));
	assert_eq!(total_issuance(&api).await, issuance, "the supply did not change");

	// --- Blocks keep coming, and the CLI still transacts: Charlie cancels a job.
	let best_now = lilypad_e2e::best_number(&rpc2).await.unwrap().unwrap();
	wait_until_finalized(&rpc2, best_now + 3, Duration::from_secs(60), "blocks after").await;
	let (free0, _) = cli.balance(&charlie_addr);
	let cancelled = cli.ok(Some("//Charlie"), &["job", "cancel", &jobs[0].to_string()]);
	assert_eq!(job(&rpc2, jobs[0]).await["stage"], "cancelled", "{cancelled}");
	let refunded = planck(&before_jobs[0]["escrow"]);
	let fee = planck(&cancelled["tx_fees"]);
	assert_eq!(planck(&cancelled["refunded"]), refunded);
	assert_eq!(cli.balance(&charlie_addr).0, free0 + refunded - fee);
}

/// Every job in `ids`, as `lilypad_job` returns it.
async fn futures_join(rpc: &RpcClient, ids: &[u64]) -> Vec<Value> {
	let mut out = vec![];
	for id in ids {
		out.push(job(rpc, *id).await);
	}
	out
}

async fn total_issuance(api: &Api) -> u128 {
	api.at_current_block()
		.await
		.unwrap()
		.storage()
		.fetch(lilypad::storage().balances().total_issuance(), ())
		.await
		.expect("issuance")
		.decode()
		.expect("decode issuance")
}
