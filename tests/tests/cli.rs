//! The `lilypad` CLI end to end, as a user runs it: a real `lilypad-node --dev --solver`, a
//! real `lilypad-rp` (Dave) running WASM and Docker jobs, modules published from
//! `lilypad-module.toml` directories, and jobs run by Charlie through the `lilypad` binary.
//!
//! 1. A WASM job and a Docker job complete; their outputs are downloaded and match the digests
//!    on chain; Charlie's balance falls by exactly the price paid, the transaction fees and
//!    the job deposit, which alone stays held. The other commands (job, module, account, provider) report the
//!    same facts.
//! 2. Every mistake gets its message and exit code, with Charlie's balance untouched: unknown
//!    module and version, missing and malformed input, a price below the floor, a balance too
//!    small, an unreachable node. A job that expires is refunded in full; one that fails or
//!    runs out of time says why and what was paid. Only the job deposits stay held (until
//!    the records are pruned, a day later).
use std::{path::Path, time::Duration};

use lilypad_client::content::blob_url;

use lilypad_e2e::{
	cli::{module_dir, planck, Cli},
	free_port,
	rp::{docker_image, example_module, Agent},
	Node,
};
use serde_json::Value;

const START_TIMEOUT: Duration = Duration::from_secs(240);
/// Dave's asking price: 0.01 LILY.
const ASK: &str = "10000000000";
const CHARLIE: &str = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const FERDIE: &str = "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL";
/// The runtime's job deposit (0.005 LILY), held from submission until the record is pruned.
const JOB_DEPOSIT: u128 = lilypad_runtime::configs::JobDeposit::get();

struct Setup {
	_node: Node,
	_agent: Agent,
	cli: Cli,
	dir: tempfile::TempDir,
}

/// A dev chain made ready with `lilypad dev init`, Dave's agent, and `modules` published
/// with `lilypad module publish`: `(name, artifact kind, artifact bytes, input, timeout)`.
async fn setup(name: &str, modules: &[(&str, &str, Vec<u8>, &str, u32)]) -> Setup {
	let mut node = Node::spawn(name, &["--dev", "--tmp", "--solver"]);
	node.wait_for_finalized(1, START_TIMEOUT).await;
	let dir = tempfile::tempdir().unwrap();
	let cli = Cli::new(&node.ws_url(), dir.path());
	cli.ok(Some("//Alice"), &["dev", "init"]);
	let mut agent = Agent::spawn(
		&format!("{name}-rp"),
		&node.ws_url(),
		"//Dave",
		&dir.path().join("dave"),
		&["--capacity", "2", "--price", ASK],
	);
	agent.wait_for_log(&["collateral bonded"], Duration::from_secs(120)).await;
	for (module, kind, bytes, input, timeout) in modules {
		let file = dir.path().join(format!("{module}.artifact"));
		std::fs::write(&file, bytes).unwrap();
		let mdir = module_dir(dir.path(), module, (kind, &file), input, *timeout);
		let published = cli.ok(Some("//Alice"), &["module", "publish", mdir.to_str().unwrap()]);
		assert_eq!(published["published"], true, "{published}");
		assert_eq!(published["uploaded"], 1, "the artifact went to Dave's store: {published}");
		// Publishing the same manifest again changes nothing.
		let again = cli.ok(Some("//Alice"), &["module", "publish", mdir.to_str().unwrap()]);
		assert_eq!(again["published"], false, "{again}");
	}
	Setup { _node: node, _agent: agent, cli, dir }
}

const COWSAY_INPUT: &str =
	"[[inputs]]\nname = \"Message\"\ntype = \"text\"\nrequired = true\ndelivery = \"env\"";
const NUMERIC_INPUT: &str = "[[inputs]]\nname = \"rounds\"\ntype = \"integer\"\n\
	 default = \"1000\"\ndelivery = \"argument\"";

/// Checks a successful `run --json`: completed, outputs on disk hashing to the digest on
/// chain, and Charlie's balance down by exactly what the job and its transactions cost.
fn check_completed(s: &Setup, run: &Value, before: (u128, u128), says: &str) {
	assert_eq!(run["state"], "completed", "{run}");
	assert_eq!(run["provider"], DAVE, "{run}");
	let stdout = run["stdout"].as_str().unwrap();
	assert!(stdout.contains(says) && stdout.contains("(oo)"), "the cow: {stdout}");
	let dir = Path::new(run["outputs_dir"].as_str().unwrap());
	assert_eq!(std::fs::read_to_string(dir.join("stdout")).unwrap(), stdout);
	assert_eq!(std::fs::read_to_string(dir.join("outputs/cow.txt")).unwrap(), stdout);
	let archive = lilypad_rp::archive::canonical_archive(&dir.join("outputs"), 1 << 20).unwrap();
	assert_eq!(run["output_digest"], format!("0x{}", blake3::hash(&archive).to_hex()));
	let submitted = run["submitted_block"].as_u64().unwrap();
	let matched = run["matched_block"].as_u64().unwrap();
	let completed = run["completed_block"].as_u64().unwrap();
	assert!(submitted < matched && matched <= completed, "{run}");

	// The chain agrees: the price is Dave's ask, the charge is what the CLI says was paid.
	let id = run["job_id"].as_u64().unwrap().to_string();
	let status = s.cli.ok(None, &["job", "status", &id]);
	assert_eq!(status["stage"], "completed");
	assert_eq!(status["assignment"]["price"], ASK);
	assert_eq!(status["charge"]["total"], run["price_paid"]);
	assert_eq!(status["result"]["outputDigest"], run["output_digest"]);
	assert_spent(s, before, planck(&run["price_paid"]), planck(&run["tx_fees"]), &run["deposit"]);
}

/// Charlie's balance moved from `before` by exactly `charge` and `fees` spent and the job
/// deposits held (returned when the jobs' records are pruned); nothing else is held.
fn assert_spent(s: &Setup, before: (u128, u128), charge: u128, fees: u128, deposits: &Value) {
	let deposits = match deposits {
		Value::Array(d) => d.iter().map(planck).sum(),
		one => planck(one),
	};
	assert_eq!(deposits % JOB_DEPOSIT, 0, "whole job deposits: {deposits}");
	let (free, held) = s.cli.balance(CHARLIE);
	assert_eq!(held - before.1, deposits, "only the job deposits are held");
	assert_eq!(
		before.0 - free,
		charge + fees + deposits,
		"Charlie paid exactly the charge and the fees"
	);
}

#[tokio::test]
async fn wasm_and_docker_jobs_run_through_the_cli() {
	let cowsay = example_module("cowsay");
	let image = docker_image("cowsay");
	let s = setup(
		"cli-jobs",
		&[
			("cowsay", "wasm", cowsay, COWSAY_INPUT, 60),
			("cowsay-docker", "docker", image.tarball, COWSAY_INPUT, 60),
		],
	)
	.await;
	let charlie = Some("//Charlie");

	let before = s.cli.balance(CHARLIE);
	let args = ["run", "cowsay", "-i", "Message=hello from lilypad", "--wait", "settled"];
	let wasm = s.cli.ok(charlie, &args);
	check_completed(&s, &wasm, before, "hello from lilypad");
	let (result, finalized) =
		(wasm["result_block"].as_u64(), wasm["result_finalized_block"].as_u64());
	assert_eq!(finalized, result, "the result's block, finalized: {wasm}");

	let before = s.cli.balance(CHARLIE);
	let args =
		["run", "cowsay-docker:0.1.0", "-i", "Message=hello from a container", "--wait", "settled"];
	let docker = s.cli.ok(charlie, &args);
	check_completed(&s, &docker, before, "hello from a container");

	// By default `run` returns once the outputs are verified against a result in a best block:
	// what exists only after settlement (or finality) is absent, not zero, even if the job
	// happened to settle meanwhile.
	let quick = s.cli.ok(charlie, &["run", "cowsay", "-i", "Message=quick"]);
	assert!(
		["resultSubmitted", "completed"].contains(&quick["state"].as_str().unwrap()),
		"{quick}"
	);
	assert!(quick["stdout"].as_str().unwrap().contains("< quick >"), "{quick}");
	assert!(
		quick["result_block"].as_u64().is_some() && quick["result_ms"].as_u64().is_some(),
		"{quick}"
	);
	for absent in ["price_paid", "balance_change", "completed_block", "deposit_returned_at"] {
		assert!(quick.get(absent).is_none(), "{absent} in {quick}");
	}
	assert!(quick.get("result_finalized_block").is_none(), "{quick}");
	// `--wait final`: until the result is finalized.
	let fin = s.cli.ok(charlie, &["run", "cowsay", "-i", "Message=final", "--wait", "final"]);
	assert_eq!(fin["result_finalized_block"], fin["result_block"], "{fin}");
	assert!(fin["final_ms"].as_u64() >= fin["result_ms"].as_u64(), "{fin}");

	// As text: stdout is the job's stdout and nothing else; the lifecycle goes to stderr.
	// With an input file: it goes to the provider's store first and the job names it.
	std::fs::write(s.cli.cwd.join("notes.txt"), b"an input blob").unwrap();
	let args =
		["run", "cowsay", "-i", "Message=moo", "--input-file", "notes.txt", "--wait", "settled"];
	let text = s.cli.text(charlie, &args);
	assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
	assert!(text.stdout.starts_with(" _____\n< moo >"), "{}", text.stdout);
	for step in [
		"submitted in block #",
		"matched in block #",
		"result in block #",
		"outputs verified",
		"completed in block #",
	] {
		assert!(text.stderr.contains(step), "{step}: {}", text.stderr);
	}

	let blob = blake3::hash(b"an input blob");
	let jobs = s.cli.ok(charlie, &["job", "list"]);
	let last = jobs["jobs"].as_array().unwrap().last().unwrap().clone();
	assert_eq!(last["inputBlob"], format!("0x{}", blob.to_hex()), "{last}");
	let stored = reqwest::get(blob_url(&s._agent.url, blob.as_bytes())).await.unwrap();
	assert_eq!(stored.bytes().await.unwrap().as_ref(), b"an input blob");

	// The other commands tell the same story.
	let ids: Vec<Value> = [&wasm, &docker].iter().map(|r| r["job_id"].clone()).collect();
	let list = s.cli.ok(charlie, &["job", "list"]);
	let listed: Vec<Value> =
		list["jobs"].as_array().unwrap().iter().map(|j| j["id"].clone()).collect();
	assert!(ids.iter().all(|id| listed.contains(id)), "{list}");
	let id = wasm["job_id"].to_string();
	let logs = s.cli.text(None, &["job", "logs", &id]);
	assert_eq!(logs.stdout, wasm["stdout"].as_str().unwrap());
	let got = s.cli.ok(None, &["job", "get", &id, "--output", "again"]);
	assert_eq!(got["outputs"], serde_json::json!(["cow.txt"]));
	assert!(s.cli.cwd.join("again").join(&id).join("outputs/cow.txt").is_file());
	let modules = s.cli.ok(None, &["module", "list"]);
	assert_eq!(modules["modules"].as_array().unwrap().len(), 2, "{modules}");
	let shown = s.cli.ok(None, &["module", "show", "cowsay-docker@0.1.0"]);
	assert_eq!(shown["artifact"]["kind"], "docker");
	let provider = s.cli.ok(None, &["provider", "status", DAVE]);
	assert_eq!(provider["status"], "active");
	assert_eq!(provider["defaultPrice"], ASK);
	drop(s.dir);
}

#[tokio::test]
async fn every_error_is_clear_and_moves_only_what_it_reports() {
	let numeric = example_module("numeric");
	let s = setup(
		"cli-errors",
		&[
			("cowsay", "wasm", example_module("cowsay"), COWSAY_INPUT, 60),
			("numeric", "wasm", numeric.clone(), NUMERIC_INPUT, 60),
			("slow", "wasm", numeric, NUMERIC_INPUT, 1),
		],
	)
	.await;
	let charlie = Some("//Charlie");

	// Mistakes caught before anything is sent: the balance does not move at all.
	let refused: [(&[&str], i32, &str); 6] = [
		(&["run", "nope"], 3, "no module named \"nope\" (published: cowsay, numeric, slow)"),
		(&["run", "cowsay:9.9.9"], 3, "cowsay has no version 9.9.9 (published: 0.1.0)"),
		(&["run", "cowsay"], 3, "missing input Message: pass -i Message=VALUE"),
		(&["run", "numeric", "-i", "rounds=lots"], 3, "input rounds is malformed: \"lots\""),
		(&["run", "numeric", "-i", "colour=red"], 3, "numeric@0.1.0 has no input \"colour\""),
		(
			&["run", "cowsay", "-i", "Message=x", "--max-price", "0.0001"],
			4,
			"--max-price 0.0001 LILY is below cowsay@0.1.0's price floor of 0.001 LILY",
		),
	];
	let before = s.cli.balance(CHARLIE);
	for (args, code, says) in refused {
		let out = s.cli.json(charlie, args);
		assert_eq!(out.code, code, "{args:?}: {out:?}");
		assert!(out.error().contains(says), "{args:?}: {}", out.error());
		assert_eq!(s.cli.balance(CHARLIE), before, "{args:?} moved Charlie's balance");
	}

	// An account that cannot pay: a key of its own, given 0.01 LILY by Charlie.
	let poor = s.cli.ok(None, &["account", "new", "--name", "poor"]);
	let poor_account = poor["account"].as_str().unwrap();
	let sent = s.cli.ok(charlie, &["account", "transfer", poor_account, "0.01"]);
	assert_eq!(sent["amount"], "10000000000");
	let poor_before = s.cli.balance(poor_account);
	assert_eq!(poor_before, (10_000_000_000, 0));
	let out = s.cli.json(Some("poor"), &["run", "cowsay", "-i", "Message=x"]);
	assert_eq!(out.code, 4, "{out:?}");
	assert!(out.error().contains("insufficient balance"), "{}", out.error());
	assert_eq!(s.cli.balance(poor_account), poor_before);

	// A node nobody runs: a clear answer within seconds.
	let mut nowhere = Cli::new(&format!("ws://127.0.0.1:{}", free_port()), s.dir.path());
	nowhere.home = s.cli.home.clone();
	let out = nowhere.json(charlie, &["run", "cowsay", "-i", "Message=x"]);
	assert_eq!(out.code, 5, "{out:?}");
	assert!(out.error().contains("cannot reach the node"), "{}", out.error());
	assert!(out.took < Duration::from_secs(10), "took {:?}", out.took);

	// A job only Ferdie (no provider) may take expires and is refunded in full: Charlie pays
	// the transaction fees, nothing else, and nothing stays held.
	let before = s.cli.balance(CHARLIE);
	let out = s.cli.json(
		charlie,
		&[
			"run",
			"cowsay",
			"-i",
			"Message=x",
			"--target",
			FERDIE,
			"--match-within",
			"2",
			"--wait",
			"settled",
		],
	);
	assert_eq!(out.code, 6, "{out:?}");
	assert!(
		out.error().contains("expired") && out.error().contains("refunded in full"),
		"{}",
		out.error()
	);
	let details = &out.json["error"]["details"];
	assert_spent(&s, before, 0, planck(&details["tx_fees"]), &details["deposit"]);

	// A job not yet taken is cancelled and refunded; a settled one cannot be.
	let before = s.cli.balance(CHARLIE);
	let open =
		s.cli.ok(charlie, &["run", "cowsay", "-i", "Message=x", "--target", FERDIE, "--no-wait"]);
	let id = open["job_id"].to_string();
	let cancelled = s.cli.ok(charlie, &["job", "cancel", &id]);
	assert_eq!(cancelled["refunded"], open["held"]);
	assert_spent(
		&s,
		before,
		0,
		planck(&open["tx_fees"]) + planck(&cancelled["tx_fees"]),
		&cancelled["deposit"],
	);
	let out = s.cli.json(charlie, &["job", "cancel", &id]);
	assert_eq!(out.code, 3, "{out:?}");
	assert!(out.error().contains("only a job nobody has taken yet"), "{}", out.error());

	// A module that fails on its own: the provider did the work and is paid; the creator is
	// told why, with its stderr.
	let before = s.cli.balance(CHARLIE);
	let out = s.cli.json(charlie, &["run", "numeric", "-i", "rounds=-5", "--wait", "settled"]);
	assert_eq!(out.code, 6, "{out:?}");
	assert!(out.error().contains("failed with exit code 2"), "{}", out.error());
	assert!(out.error().contains("--rounds must be a non-negative integer"), "{}", out.error());
	let failed = out.json["error"]["details"].clone();
	assert_spent(
		&s,
		before,
		planck(&failed["price_paid"]),
		planck(&failed["tx_fees"]),
		&failed["deposit"],
	);

	// One that runs past its 1 s limit.
	let args = ["run", "slow", "-i", "rounds=100000000000", "--wait", "settled"];
	let out = s.cli.json(charlie, &args);
	assert_eq!(out.code, 6, "{out:?}");
	assert!(out.error().contains("ran out of time"), "{}", out.error());
	let slow = &out.json["error"]["details"];
	assert_spent(
		&s,
		before,
		planck(&failed["price_paid"]) + planck(&slow["price_paid"]),
		planck(&failed["tx_fees"]) + planck(&slow["tx_fees"]),
		&serde_json::json!([failed["deposit"], slow["deposit"]]),
	);
}
