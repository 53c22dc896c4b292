//! A runtime upgrade by referendum on a real node, from the previous release to this one.
//!
//! `lilypad-node` starts a dev chain on the previous release's runtime
//! (`scripts/previous-runtime.sh` builds it from the commit in `runtime/previous-release`, in
//! its own target directory), whose module versions name no models, whose jobs have no payees
//! fixed and whose offers list no models. Eve publishes a module with a 5 % royalty, Bob offers
//! compute, Dave stakes as a solver and Ferdie as a mediator, and the dev
//! accounts authorize this release's runtime through a `root` referendum (conviction voting,
//! enacted by the scheduler). Right before Alice applies it, Charlie's jobs are left in every
//! live stage: submitted, matched, result submitted, in mediation (Ferdie drawn), and slash
//! pending (Ferdie found Bob's result wrong). Then, over JSON-RPC:
//! - the new `spec_version` runs and blocks keep being produced and finalized;
//! - the migrations ran once each and their own checks passed: the registry's
//!   (`VersionsMigrated`, Eve's one version), the jobs' (`PayeesFixed`, the five live jobs) and
//!   the providers' (`OffersMigrated`, Bob's offer);
//! - every job reads as it did, so do the module and Bob's offer (the node read the old layouts
//!   through the runtime APIs' earlier versions before), and no balance moved;
//! - the jobs settle on the new runtime: Ferdie upholds the mediated result and it completes,
//!   the reported one completes (each paying Eve her royalty, as fixed by the migration), the
//!   slash applies, the matched one times out, and Charlie cancels the open one with the
//!   `lilypad` CLI, which reads the chain's metadata afresh; what stays held of Charlie is then
//!   his jobs' deposits.
//!
//! Before the upgrade the test speaks the previous release's calls: calls whose arguments
//! changed (a version manifest, an offer, a result) are built in the old layouts, and calls
//! that carry any `RuntimeCall` (batches, sudo) are encoded against the node's own metadata.
use std::{path::PathBuf, process::Command, time::Duration};

use lilypad_client::chain::mediation_call;
use lilypad_e2e::{
	cli::{planck, Cli},
	echo::{
		self, inputs, lilypad, manifest, offer, submit_batch, sudo_set, wait_for_job,
		wait_for_stage, DIGEST, MILLI,
	},
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
const LILY: u128 = 1_000 * MILLI;
const ASK: u128 = 2 * MILLI;
const MAX_PRICE: u128 = 5 * MILLI;
/// The echo module's timeout: one block.
const TIMEOUT_SECS: u32 = 2;
/// Windows (in blocks) that keep the jobs live from their creation through the upgrade and its
/// checks, on a slow machine too: the test waits them out afterwards.
const CHALLENGE_WINDOW: u32 = 60;
const EXECUTION_GRACE: u32 = 60;
const APPEAL_WINDOW: u32 = 40;
/// What Bob's results say the module output, and what Ferdie's re-run of the wrong one does.
const OUTPUT: [u8; 32] = [1; 32];
const OTHER_OUTPUT: [u8; 32] = [2; 32];

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

async fn submit(api: &Api, call: &impl subxt::transactions::Payload, who: &Keypair, what: &str) {
	submit_finalized(api, call, who).await.unwrap_or_else(|e| panic!("{what}: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referendum_upgrades_the_runtime_and_jobs_in_every_live_stage_carry_over_and_settle() {
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

	// --- Before: a module, a provider, a solver, a mediator and a job creator.
	let api = Api::from_rpc_client(rpc.clone()).await.expect("subxt client");
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash").0;
	let (bob, charlie, dave, eve, ferdie) =
		(dev::bob(), dev::charlie(), dev::dave(), dev::eve(), dev::ferdie());
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec,
		lilypad_primitives::{identity::Role, providers::BondKind},
		lilypad_runtime::RuntimeCall,
		pallet_jobs::pallet::Call as JobsCall,
	};
	let tx = lilypad::transactions;
	tokio::join!(
		async {
			sudo_set(&api, echo::windows(CHALLENGE_WINDOW, EXECUTION_GRACE, APPEAL_WINDOW)).await;
			publish_before_upgrade(&api, &eve, genesis).await;
		},
		async {
			submit(&api, &tx().identity().register_role(Role::ResourceProvider), &bob, "role")
				.await;
			let register = subxt::transactions::dynamic(
				"Providers",
				"register_provider",
				(Static(v1_offer(offer(ASK, 4))),),
			);
			submit(&api, &register, &bob, "offer").await;
			submit(&api, &tx().providers().bond(BondKind::Provider, LILY), &bob, "bond").await;
		},
		async {
			submit(&api, &tx().identity().register_role(Role::Solver), &dave, "role").await;
			let bond = tx().providers().bond(BondKind::Solver, 50 * LILY);
			submit(&api, &bond, &dave, "stake").await;
		},
		async {
			submit(&api, &tx().identity().register_role(Role::Mediator), &ferdie, "role").await;
			let bond = tx().providers().bond(BondKind::Mediator, 20 * LILY);
			submit(&api, &bond, &ferdie, "stake").await;
		},
		async {
			let role = tx().identity().register_role(Role::JobCreator);
			submit(&api, &role, &charlie, "role").await;
		},
	);

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

	// --- Jobs in every live stage, made now so that none moves on before the upgrade.
	let id = |k: &Keypair| -> subxt::utils::AccountId32 { k.public_key().into() };
	let ids = submit_batch(&api, &rpc, vec![(echo::module(), inputs("hello")); 5], MAX_PRICE).await;
	let [open, matched, reported, mediated, wrong] = ids.try_into().expect("five jobs");
	let pairs = [matched, reported, mediated, wrong].map(|job| (job, id(&bob))).to_vec();
	submit(&api, &tx().jobs().propose_match(BoundedVec(pairs)), &dave, "Dave matches").await;
	for job in [reported, mediated, wrong] {
		let result = echo::result(job, DIGEST, OUTPUT);
		// Signed as the previous release signs: a job without models signs no model list.
		let payload = lilypad_primitives::jobs::result_signing_payload(&genesis, &result, &[]);
		let report = subxt::transactions::dynamic(
			"Jobs",
			"submit_result",
			(job, Static(result), Static(bob.public_key().0), Static(bob.sign(&payload).0)),
		);
		submit(&api, &report, &bob, "Bob reports").await;
	}
	let challenges = [mediated, wrong].map(|job| RuntimeCall::Jobs(JobsCall::challenge { job }));
	let challenges = Vec::from(challenges);
	let batch = tx().utility().batch_all(challenges).unvalidated();
	submit(&api, &batch, &charlie, "challenges").await;
	for job in [mediated, wrong] {
		let j = wait_for_job(&rpc, job, "drawn a mediator", Duration::from_secs(60), |j| {
			!j["mediation"]["mediator"].is_null()
		})
		.await;
		assert_eq!(j["mediation"]["mediator"], id(&ferdie).to_string(), "the only mediator");
	}
	let rerun = echo::result(wrong, DIGEST, OTHER_OUTPUT);
	submit(&api, &mediation_call(&genesis, &ferdie, &rerun), &ferdie, "Ferdie disagrees").await;
	let jobs = [open, matched, reported, mediated, wrong];
	let before_jobs = futures_join(&rpc, &jobs).await;
	let stages: Vec<_> = before_jobs.iter().map(|j| j["stage"].clone()).collect();
	assert_eq!(
		stages,
		["submitted", "matched", "resultSubmitted", "inMediation", "slashPending"],
		"every live stage, read from the previous release"
	);
	let deposit = planck(&before_jobs[0]["deposit"]);
	let cli = Cli::new(&node.ws_url(), dir.path());
	let accounts = [&charlie, &bob, &dave, &ferdie].map(|k| id(k).to_string());
	let balances = accounts.clone().map(|a| cli.balance(&a));
	let issuance = total_issuance(&api).await;
	let eve_before = cli.balance(&id(&eve).to_string()).0;
	let offer_before = cli.ok(None, &["provider", "status", &id(&bob).to_string()]);
	let module_before = cli.ok(None, &["module", "show", "echo@1.0.0"]);

	// --- Anyone may apply the authorized code (the fee is waived for the authorized code).
	let progress = api
		.at_current_block()
		.await
		.unwrap()
		.transactions()
		.sign_and_submit_then_watch_default(
			&tx().system().apply_authorized_upgrade(new_code.to_vec()),
			&dev::alice(),
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
	let versions = events
		.find_first::<lilypad::registry::events::VersionsMigrated>()
		.expect("decode")
		.expect("the registry migration ran");
	assert!(versions.checked, "the registry migration's own check passed");
	assert_eq!(versions.versions, 1, "Eve's one version");
	let payees = events
		.find_first::<lilypad::jobs::events::PayeesFixed>()
		.expect("decode")
		.expect("the jobs migration ran");
	assert!(payees.checked, "the jobs migration's own check passed");
	assert_eq!(payees.live as usize, jobs.len(), "every job is live");
	let offers = events
		.find_first::<lilypad::providers::events::OffersMigrated>()
		.expect("decode")
		.expect("the providers migration ran");
	assert!(offers.checked, "the providers migration's own check passed");
	assert_eq!(offers.offers, 1, "Bob's offer");
	assert_eq!(cli.ok(None, &["module", "show", "echo@1.0.0"]), module_before);
	let offer_after = cli.ok(None, &["provider", "status", &id(&bob).to_string()]);
	assert_eq!(offer_after, offer_before, "the offer reads as it did, naming no models");

	// --- Every job reads as it did, and no balance moved.
	let after_jobs = futures_join(&rpc2, &jobs).await;
	for (before, after) in before_jobs.iter().zip(&after_jobs) {
		assert_eq!(after, before);
	}
	assert_eq!(accounts.clone().map(|a| cli.balance(&a)), balances);
	assert_eq!(total_issuance(&api).await, issuance, "the supply did not change");

	// --- The jobs settle on the new runtime.
	let best_now = lilypad_e2e::best_number(&rpc2).await.unwrap().unwrap();
	wait_until_finalized(&rpc2, best_now + 3, Duration::from_secs(60), "blocks after").await;
	let rerun = echo::result(mediated, DIGEST, OUTPUT);
	submit(&api, &mediation_call(&genesis, &ferdie, &rerun), &ferdie, "Ferdie agrees").await;
	let (free0, _) = cli.balance(&accounts[0]);
	let cancelled = cli.ok(Some("//Charlie"), &["job", "cancel", &open.to_string()]);
	assert_eq!(job(&rpc2, open).await["stage"], "cancelled", "{cancelled}");
	let refunded = planck(&before_jobs[0]["escrow"]);
	assert_eq!(planck(&cancelled["refunded"]), refunded);
	assert_eq!(cli.balance(&accounts[0]).0, free0 + refunded - planck(&cancelled["tx_fees"]));
	// The latest the windows allow, and some.
	let wait = Duration::from_secs(2 * (CHALLENGE_WINDOW + EXECUTION_GRACE) as u64 + 60);
	for (job, stage) in [
		(mediated, "completed"),
		(reported, "completed"),
		(wrong, "slashed"),
		(matched, "slashPending"),
	] {
		wait_for_stage(&rpc2, job, stage, wait).await;
	}
	let settled = futures_join(&rpc2, &jobs).await;
	assert_eq!(settled.iter().map(|j| planck(&j["escrow"])).sum::<u128>(), 0, "no escrow left");
	// The two completed jobs each paid Eve her 5 % of Bob's price, as the migration fixed.
	let eve_after = cli.balance(&id(&eve).to_string()).0;
	assert_eq!(eve_after - eve_before, 2 * (ASK * 5 / 100), "Eve's royalties");
	assert_eq!(cli.balance(&accounts[0]).1, jobs.len() as u128 * deposit, "only the deposits held");
	node.assert_running();
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

/// Eve publishes the echo module (5 % royalty) in the previous release's layout: its version
/// manifest names no models, and she signs what the previous release signs (a manifest without
/// models signs no model list).
async fn publish_before_upgrade(api: &Api, eve: &Keypair, genesis: [u8; 32]) {
	use lilypad::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, lilypad_primitives::identity::Role,
	};
	let tx = lilypad::transactions;
	let m = manifest(TIMEOUT_SECS, Perbill::from_percent(5));
	submit(api, &tx().identity().register_role(Role::ModuleProvider), eve, "role").await;
	let name = BoundedVec(m.module.to_vec());
	submit(api, &tx().registry().publish_module(name), eve, "module").await;
	let payload = lilypad_primitives::registry::manifest_signing_payload(&genesis, &m);
	let old = lilypad_primitives::registry::v1::VersionManifest {
		module: m.module,
		version: m.version,
		artifact: m.artifact,
		inputs: m.inputs,
		resources: m.resources,
		timeout_secs: m.timeout_secs,
		price_floor: m.price_floor,
		royalty: m.royalty,
		verification: m.verification,
		parent: m.parent,
	};
	let call = subxt::transactions::dynamic(
		"Registry",
		"publish_version",
		(Static(old), Static(eve.public_key().0), Static(eve.sign(&payload).0)),
	);
	submit(api, &call, eve, "version").await;
}

/// `offer` in the previous release's layout, which lists no models.
fn v1_offer(
	offer: lilypad_primitives::providers::Offer<u128>,
) -> lilypad_primitives::providers::v1::Offer<u128> {
	lilypad_primitives::providers::v1::Offer {
		resources: offer.resources,
		modules: offer.modules,
		default_price: offer.default_price,
		prices: offer.prices,
		capacity: offer.capacity,
		credentials: offer.credentials,
		endpoint: offer.endpoint,
	}
}
