//! Models end to end, as users meet them: a real `lilypad-node --dev --solver`, two real
//! `lilypad-rp` agents, and the `lilypad` CLI.
//!
//! Eve publishes two models with `lilypad model publish`: a weights file (`gguf`) and a
//! directory (a tokenizer and a config, one canonical tar), their weights handed to Ferdie's
//! content store only. Bob publishes `model-probe`, a WASM module and a Docker module that
//! each need both models. Charlie runs each. Dave, the cheaper provider, runs them: his agent
//! has neither the weights in its store nor its cache, so it fetches them from its peer
//! Ferdie, checks them against their digests, and mounts them read-only at `/models/<name>`.
//! The probe reports every file it sees there, its size and checksum, and that writing beside
//! it failed. Eve is paid her models' royalties to the unit, Bob his module's, and Dave's
//! offer afterwards names the weights it holds.
use std::time::Duration;

use lilypad_client::content::StoreClient;
use lilypad_e2e::{
	cli::{planck, Cli},
	rp::{docker_image, example_module, Agent},
	Node,
};
use serde_json::Value;

const START_TIMEOUT: Duration = Duration::from_secs(240);
/// Dave's asking price: 0.01 LILY. Ferdie asks more, so the solver picks Dave.
const ASK: u128 = 10_000_000_000;
const FERDIE_ASK: &str = "20000000000";
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
const EVE: &str = "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw";

/// FNV-1a, 64 bits, as `model-probe` reports it.
fn fnv1a(bytes: &[u8]) -> u64 {
	bytes
		.iter()
		.fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// `n` bytes that look like weights: not compressible, the same every run.
fn weights(n: usize) -> Vec<u8> {
	let mut state = 0x9e37_79b9_7f4a_7c15u64;
	(0..n)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state as u8
		})
		.collect()
}

/// Writes `DIR/lilypad-module.toml` for `name`, whose artifact is `kind` (`wasm`, `docker`) at
/// `artifact`, needing both of Eve's models; returns DIR.
fn module_dir(root: &std::path::Path, name: &str, kind: &str, artifact: &[u8]) -> String {
	let dir = root.join(format!("module-{name}"));
	std::fs::create_dir_all(&dir).unwrap();
	std::fs::write(dir.join("artifact"), artifact).unwrap();
	let toml = format!(
		"name = \"{name}\"\nversion = \"1.0.0\"\ntimeout_secs = 60\nprice_floor = \"0.001\"\n\
		 royalty_percent = 2\nverification = \"none\"\n\
		 models = [\"probe-weights@1.0.0\", \"probe-tokenizer@1.0.0\"]\n\n\
		 [artifact]\n{kind} = \"artifact\"\n\n[resources]\ncpu_millicores = 500\nram_mib = 64\n"
	);
	std::fs::write(dir.join("lilypad-module.toml"), toml).unwrap();
	dir.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_runs_with_weights_fetched_from_a_peer_mounted_read_only_and_pays_their_owner() {
	let mut node = Node::spawn("models", &["--dev", "--tmp", "--solver"]);
	node.wait_for_finalized(1, START_TIMEOUT).await;
	let dir = tempfile::tempdir().unwrap();
	let cli = Cli::new(&node.ws_url(), dir.path());
	cli.ok(Some("//Alice"), &["dev", "init"]);

	// Ferdie: a provider whose store alone will have the weights.
	let mut ferdie = Agent::spawn(
		"models-ferdie",
		&node.ws_url(),
		"//Ferdie",
		&dir.path().join("ferdie"),
		&["--capacity", "1", "--price", FERDIE_ASK],
	);
	ferdie.wait_for_log(&["collateral bonded"], Duration::from_secs(120)).await;
	// Dave: the cheaper provider, with Ferdie's store as his peer.
	let config = dir.path().join("dave.toml");
	std::fs::write(&config, format!("peers = [\"{}\"]\n", ferdie.url)).unwrap();
	let mut dave = Agent::spawn(
		"models-dave",
		&node.ws_url(),
		"//Dave",
		&dir.path().join("dave"),
		&["--config", config.to_str().unwrap(), "--capacity", "1", "--price", &ASK.to_string()],
	);
	dave.wait_for_log(&["collateral bonded"], Duration::from_secs(120)).await;

	// Eve's models: a weights file, and a directory of two files.
	let gguf = weights(3 << 20);
	let model = dir.path().join("model-weights");
	std::fs::create_dir_all(&model).unwrap();
	std::fs::write(model.join("weights.gguf"), &gguf).unwrap();
	std::fs::write(
		model.join("lilypad-model.toml"),
		"name = \"probe-weights\"\nversion = \"1.0.0\"\nlicence = \"Apache-2.0\"\n\
		 royalty_percent = 5\nformat = \"gguf\"\nweights = \"weights.gguf\"\n",
	)
	.unwrap();
	let (tokenizer, config_json) = (weights(200_000), br#"{"vocab_size": 49152}"#.to_vec());
	let tok = dir.path().join("model-tokenizer");
	std::fs::create_dir_all(tok.join("files")).unwrap();
	std::fs::write(tok.join("files/tokenizer.json"), &tokenizer).unwrap();
	std::fs::write(tok.join("files/config.json"), &config_json).unwrap();
	std::fs::write(
		tok.join("lilypad-model.toml"),
		"name = \"probe-tokenizer\"\nversion = \"1.0.0\"\nlicence = \"MIT OR Apache-2.0\"\n\
		 royalty_percent = 1\nformat = \"safetensors\"\nweights = \"files\"\n",
	)
	.unwrap();
	let eve = Some("//Eve");
	let mut digests = Vec::new();
	for m in [&model, &tok] {
		let args = ["model", "publish", m.to_str().unwrap(), "--store", &ferdie.url];
		let published = cli.ok(eve, &args);
		assert_eq!(published["published"], true, "{published}");
		assert_eq!(published["uploaded"], 1, "the weights went to Ferdie's store: {published}");
		digests.push(published["weights_digest"].as_str().unwrap().to_string());
		// The same manifest again changes nothing.
		assert_eq!(cli.ok(eve, &args)["published"], false);
	}
	assert_eq!(digests[0], format!("0x{}", blake3::hash(&gguf).to_hex()));
	let shown = cli.ok(None, &["model", "show", "probe-tokenizer"]);
	assert_eq!(shown["owner"], EVE, "{shown}");
	assert_eq!(shown["versions"][0]["weights"]["layout"], "directory", "{shown}");
	assert_eq!(shown["versions"][0]["licence"], "MIT OR Apache-2.0", "{shown}");
	let listed = cli.ok(None, &["model", "list"]);
	assert_eq!(listed["models"].as_array().map(Vec::len), Some(2), "{listed}");
	// Dave has neither: whatever he mounts came from his peer.
	let dave_store = StoreClient::new(&dave.url);
	for d in &digests {
		let digest = lilypad_client::content::parse_digest(d).unwrap();
		assert!(!dave_store.has(&digest).await.unwrap(), "Dave's store holds {d}");
	}

	// Bob's modules that need both models, as WASM and as a Docker image. (Alice solves, and
	// her solver fees would blur her balance.)
	let bob = Some("//Bob");
	let probe = example_module("model-probe");
	let image = docker_image("model-probe");
	for (name, kind, artifact) in
		[("model-probe", "wasm", &probe), ("model-probe-docker", "docker", &image.tarball)]
	{
		let mdir = module_dir(dir.path(), name, kind, artifact);
		let published = cli.ok(bob, &["module", "publish", &mdir]);
		assert_eq!(published["published"], true, "{published}");
	}
	let shown = cli.ok(None, &["module", "show", "model-probe@1.0.0"]);
	assert_eq!(
		shown["models"],
		serde_json::json!(["probe-weights@1.0.0", "probe-tokenizer@1.0.0"]),
		"{shown}"
	);

	let expected = {
		let mut lines = [
			format!(
				"probe-tokenizer/config.json {} {:016x} read-only",
				config_json.len(),
				fnv1a(&config_json)
			),
			format!(
				"probe-tokenizer/tokenizer.json {} {:016x} read-only",
				tokenizer.len(),
				fnv1a(&tokenizer)
			),
			format!("probe-weights/weights.gguf {} {:016x} read-only", gguf.len(), fnv1a(&gguf)),
		];
		lines.sort();
		lines.iter().map(|l| format!("{l}\n")).collect::<String>()
	};
	let charlie = Some("//Charlie");
	for module in ["model-probe@1.0.0", "model-probe-docker@1.0.0"] {
		let (eve_before, _) = cli.balance(EVE);
		let (bob_before, _) = cli.balance(BOB);
		let run: Value = cli.ok(charlie, &["run", module, "--wait", "settled"]);
		assert_eq!(run["state"], "completed", "{run}");
		assert_eq!(run["provider"], DAVE, "the cheaper provider: {run}");
		assert_eq!(run["stdout"].as_str(), Some(expected.as_str()), "{module}: {run}");
		let report =
			std::path::Path::new(run["outputs_dir"].as_str().unwrap()).join("outputs/models.txt");
		assert_eq!(std::fs::read_to_string(report).unwrap(), expected);
		// Eve's two models take 5 % and 1 % of the price, Bob's module 2 %.
		let id = run["job_id"].as_u64().unwrap().to_string();
		let status = cli.ok(None, &["job", "status", &id]);
		assert_eq!(planck(&status["assignment"]["price"]), ASK, "{status}");
		assert_eq!(planck(&status["charge"]["royalties"]), ASK * 8 / 100, "{status}");
		assert_eq!(cli.balance(EVE).0, eve_before + ASK * 6 / 100, "Eve's royalties");
		assert_eq!(cli.balance(BOB).0, bob_before + ASK * 2 / 100, "Bob's royalty");
	}
	// Dave fetched the weights once, from Ferdie, and now offers them.
	let log = dave.log_text();
	assert_eq!(log.matches("model ready").count(), 4, "two models, two runs:\n{log}");
	dave.wait_for_log(&["offer names the models held"], Duration::from_secs(60)).await;
	let offer = cli.ok(None, &["provider", "status", DAVE]);
	let held: Vec<&str> =
		offer["models"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
	for d in &digests {
		assert!(held.contains(&d.as_str()), "Dave's offer names {d}: {offer}");
	}
	drop(ferdie);
	drop(dave);
	drop(dir);
}
