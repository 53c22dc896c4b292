//! The chat model, SmolLM2-135M-Instruct in the `chat` WASM module, on its real weights (the
//! Q8_0 GGUF `scripts/setup-models.sh` derives).
//!
//! - The module in the agent's WASM executor: the same prompt and seed give the same tokens
//!   run after run, another seed other tokens; `max_tokens` ends a completion with
//!   `finish_reason: length`; a `stop` string ends it before the string, which is never
//!   emitted, and what came before is what the run without it gave.
//! - The network: a real `lilypad-node --dev --solver`, Bob's `lilypad-rp` running jobs, Eve's
//!   `lilypad-rp --mediate` re-running every one of them (the sampling rate is 100 %). Ferdie
//!   publishes the Q4_1 model and the Q8_0 one derived from it, streamed into Bob's store
//!   (which refuses tampered or oversized weights); Bob publishes `chat`. Charlie runs it with
//!   `lilypad run`: tokens show in the terminal while the job has no result on chain, Eve's
//!   re-run upholds Bob's result, and the completion shown is the one in the outputs. The
//!   embedding model (a directory of files, one tar) and `embed` run a job Eve upholds too. A
//!   forged result (Dave's, with no agent behind it) is caught by Eve's re-run.
use std::{
	io::Read,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use lilypad_client::{
	chain::result_call,
	content::{blob_url, digest_of, WEIGHTS_OF},
};
use lilypad_e2e::{
	cli::Cli,
	echo::{self, job, lilypad, offer, sudo_set, wait_for_job},
	legacy,
	rp::{example_module, model_packages, Agent},
	submit_finalized as submit, Node,
};
use lilypad_primitives::jobs::{input_digest, ExitStatus, ResultManifest, Usage};
use lilypad_rp::{
	executor::{Limits, ModelMount, Request},
	wasm::{Module, WasmExecutor},
};
use serde_json::Value;
use subxt::{utils::Static, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::dev;

const START_TIMEOUT: Duration = Duration::from_secs(240);
const LILY: u128 = 1_000_000_000_000;
/// Bob's and Dave's asking price: 0.01 LILY.
const ASK: u128 = 10_000_000_000;
const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
const DAVE: &str = "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy";
/// The model `chat` runs, and the one it derives from.
const MODEL: &str = "smollm2-135m-instruct-q8";
const PARENT: &str = "smollm2-135m-instruct";
const QUESTION: &str =
	r#"[{"role":"user","content":"Write a long story about a frog who learns to sing."}]"#;

/// The model package `name` (`lilypad-model.toml` beside `weights.gguf`).
fn package(name: &str) -> PathBuf {
	model_packages().join(name)
}

/// What the executor's run of `chat` gave.
struct Run {
	exit: ExitStatus,
	/// One JSON line per token.
	stdout: String,
	stderr: String,
	/// `/outputs/completion.json`.
	completion: Value,
}

impl Run {
	/// The text the stdout lines let out, in order.
	fn streamed_text(&self) -> String {
		self.stdout
			.lines()
			.map(|l| {
				let line: Value = serde_json::from_str(l).expect("a JSON line per token");
				line["text"].as_str().expect("a text").to_string()
			})
			.collect()
	}

	fn text(&self) -> &str {
		self.completion["text"].as_str().expect("the completion's text")
	}
}

/// Runs `chat` as the agent runs a job: the conversation in `/inputs/messages`, `args` as the
/// agent passes arguments, the Q8_0 weights mounted read-only at `/models/<MODEL>`.
fn chat(exec: &WasmExecutor, module: &Module, args: &[&str]) -> Run {
	let dir = tempfile::tempdir().unwrap();
	let request = Request {
		args: args.iter().map(|s| s.to_string()).collect(),
		env: vec![("LILYPAD_MODELS".into(), MODEL.into())],
		inputs: dir.path().join("in"),
		outputs: dir.path().join("out"),
		models: vec![ModelMount { name: MODEL.into(), path: package(MODEL) }],
		seed: [0; 32],
		name: "chat-test".into(),
		limits: Limits {
			fuel: 2_000_000_000 * 600,
			wall: Duration::from_secs(600),
			memory_bytes: 1 << 30,
			output_bytes: 1 << 20,
			cpu_millicores: 1_000,
			pids: 1,
			gpus: 0,
		},
		stdout: None,
	};
	std::fs::create_dir_all(&request.inputs).unwrap();
	std::fs::create_dir_all(&request.outputs).unwrap();
	std::fs::write(request.inputs.join("messages"), QUESTION).unwrap();
	let outputs = request.outputs.clone();
	let outcome = exec.run_module(module, request).expect("the host side works");
	let stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
	let completion = std::fs::read(outputs.join("completion.json"))
		.map(|b| serde_json::from_slice(&b).expect("completion.json is JSON"))
		.unwrap_or(Value::Null);
	Run {
		exit: outcome.exit,
		stdout: String::from_utf8(outcome.stdout).unwrap(),
		stderr,
		completion,
	}
}

#[test]
fn the_module_is_a_function_of_its_inputs_and_honours_max_tokens_and_stop() {
	let wasm = example_module("chat");
	let exec = WasmExecutor::new(None).unwrap();
	let module = exec.module(&digest_of(&wasm), || Ok(wasm.clone())).unwrap();
	let sampled = ["--max_tokens=40", "--temperature=0.9", "--seed=7"];

	let first = chat(&exec, &module, &sampled);
	assert_eq!(first.exit, ExitStatus::Success, "{}", first.stderr);
	let c = &first.completion;
	assert_eq!(c["finish_reason"], "length", "{c}");
	assert_eq!(c["completion_tokens"], 40, "{c}");
	assert_eq!(c["token_ids"].as_array().map(Vec::len), Some(40), "{c}");
	assert!(c["prompt_tokens"].as_u64().unwrap() > 10, "{c}");
	assert_eq!(first.streamed_text(), first.text(), "the stream lets out the completion");
	assert_eq!(first.stdout.lines().count(), 40, "a line per token");

	// The same inputs: the same tokens, the same stream.
	let again = chat(&exec, &module, &sampled);
	assert_eq!(again.completion, first.completion);
	assert_eq!(again.stdout, first.stdout);

	// Another seed draws other tokens.
	let other = chat(&exec, &module, &["--max_tokens=40", "--temperature=0.9", "--seed=8"]);
	assert_eq!(other.exit, ExitStatus::Success, "{}", other.stderr);
	assert_ne!(other.completion["token_ids"], first.completion["token_ids"]);

	// A stop string from the middle of the first completion: the run ends before it, with
	// what the first run had let out up to there, and never emits it.
	let text = first.text();
	let from = (text.len() / 2..).find(|i| text.is_char_boundary(*i)).unwrap();
	let to = (from + 6..).find(|i| text.is_char_boundary(*i)).unwrap();
	let stop = &text[from..to];
	let cut = text.find(stop).expect("it is in the text");
	let stop_arg = format!("--stop={}", serde_json::to_string(stop).unwrap());
	let stopped =
		chat(&exec, &module, &["--max_tokens=40", "--temperature=0.9", "--seed=7", &stop_arg]);
	assert_eq!(stopped.exit, ExitStatus::Success, "{}", stopped.stderr);
	assert_eq!(stopped.completion["finish_reason"], "stop", "{}", stopped.completion);
	assert_eq!(stopped.text(), &text[..cut]);
	assert_eq!(stopped.streamed_text(), &text[..cut], "the stream never let the stop out");

	// Past the context: refused as a bad request, before a token is made.
	let too_long = chat(&exec, &module, &["--max_tokens=4090"]);
	assert_eq!(too_long.exit, ExitStatus::Failed { code: 2 }, "{}", too_long.stderr);
	assert!(too_long.stderr.contains("4096 tokens of context"), "{}", too_long.stderr);
	assert!(too_long.stdout.is_empty());
}

type Client = OnlineClient<SubstrateConfig>;

/// What a pipe brought so far, and when its first bytes came.
type Seen = Arc<Mutex<(String, Option<Instant>)>>;

/// Reads `from` to its end on a thread of its own, keeping what came and when the first
/// bytes did.
fn collect(mut from: impl Read + Send + 'static) -> (Seen, std::thread::JoinHandle<()>) {
	let seen: Seen = Arc::new(Mutex::new((String::new(), None)));
	let shared = seen.clone();
	let reader = std::thread::spawn(move || {
		let mut buf = [0u8; 4096];
		while let Ok(n) = from.read(&mut buf) {
			if n == 0 {
				break;
			}
			let mut s = shared.lock().unwrap();
			s.1.get_or_insert_with(Instant::now);
			s.0.push_str(&String::from_utf8_lossy(&buf[..n]));
		}
	});
	(seen, reader)
}

/// Sets up what is not the agents' or the CLI's: every deterministic result re-run, short
/// windows (Alice, sudo), and Dave, a provider with no agent, whose results the test forges.
async fn set_up_chain(api: &Client) {
	use lilypad::runtime_types::{
		lilypad_primitives::{identity::Role, providers::BondKind},
		lilypad_runtime::configs::dynamic_params::protocol,
		sp_arithmetic::per_things::Perbill as GenPerbill,
	};
	let tx = lilypad::transactions;
	let dave = dev::dave();
	let mut params = echo::windows(2, 20, 4);
	params.push(protocol::Parameters::DefaultSamplingRate(
		protocol::DefaultSamplingRate,
		Some(GenPerbill(1_000_000_000)),
	));
	sudo_set(api, params).await;
	submit(api, &tx().identity().register_role(Role::ResourceProvider), &dave).await.unwrap();
	let register = tx().providers().register_provider(Static(offer(ASK, 1)));
	submit(api, &register, &dave).await.unwrap();
	submit(api, &tx().providers().bond(BondKind::Provider, LILY), &dave).await.unwrap();
}

/// The module `name`'s manifest as committed (`modules/<name>`), its artifact the built
/// `<name>.wasm`.
fn committed_module(root: &Path, name: &str) -> PathBuf {
	let dir = root.join(format!("module-{name}"));
	std::fs::create_dir_all(&dir).unwrap();
	let wasm = format!("{name}.wasm");
	std::fs::write(dir.join(&wasm), example_module(name)).unwrap();
	let committed =
		lilypad_e2e::workspace_root().join(format!("modules/{name}/lilypad-module.toml"));
	let toml = std::fs::read_to_string(committed).unwrap();
	let artifact = format!("wasm = \"../dist/{wasm}\"");
	assert!(toml.contains(&artifact), "the committed artifact path");
	let toml = toml.replace(&artifact, &format!("wasm = \"{wasm}\""));
	std::fs::write(dir.join("lilypad-module.toml"), toml).unwrap();
	dir
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_stream_to_the_creator_before_the_result_and_a_mediator_checks_them() {
	let mut node = Node::spawn("chat", &["--dev", "--tmp", "--solver"]);
	let rpc = node.wait_for_finalized(1, START_TIMEOUT).await;
	let api = Client::from_rpc_client(rpc.clone()).await.expect("subxt connects");
	let genesis = legacy(&rpc).genesis_hash().await.expect("genesis hash").0;
	let dir = tempfile::tempdir().unwrap();
	let cli = Cli::new(&node.ws_url(), dir.path());
	cli.ok(Some("//Alice"), &["dev", "init"]);

	let mut bob = Agent::spawn(
		"chat-bob",
		&node.ws_url(),
		"//Bob",
		&dir.path().join("bob"),
		&["--capacity", "1", "--price", &ASK.to_string()],
	);
	let peers = dir.path().join("eve.toml");
	std::fs::write(&peers, format!("peers = [\"{}\"]\n", bob.url)).unwrap();
	let mut eve = Agent::spawn(
		"chat-eve",
		&node.ws_url(),
		"//Eve",
		&dir.path().join("eve"),
		&[
			"--config",
			peers.to_str().unwrap(),
			"--mediate",
			"--provide",
			"false",
			"--mediator-bond",
			&(20 * LILY).to_string(),
		],
	);
	tokio::join!(
		set_up_chain(&api),
		bob.wait_for_log(&["collateral bonded"], Duration::from_secs(120)),
		eve.wait_for_log(&["mediator stake bonded"], Duration::from_secs(120)),
	);

	// Ferdie's models, the weights streamed to Bob's store (the one store of an agent).
	let ferdie = Some("//Ferdie");
	for (name, parent) in [(PARENT, None), (MODEL, Some(PARENT))] {
		let pkg = package(name);
		let args = ["model", "publish", pkg.to_str().unwrap(), "--store", bob.url.as_str()];
		let published = cli.ok(ferdie, &args);
		assert_eq!(published["published"], true, "{published}");
		assert_eq!(published["uploaded"], 1, "streamed to Bob's store: {published}");
		let shown = cli.ok(None, &["model", "show", name]);
		let parent = parent.map(|p| Value::from(format!("{p}@1.0.0"))).unwrap_or(Value::Null);
		assert_eq!(shown["versions"][0]["parent"], parent, "{shown}");
	}
	let q8 = std::fs::read(package(MODEL).join("weights.gguf")).unwrap();
	let q8_digest = digest_of(&q8);

	// A store takes weights that large only as the published ones, whole and unchanged:
	// tampered bytes streamed under the published digest are refused at their end, and bytes
	// under a digest the model does not pin before they are read. (Eve's store: she holds
	// none of the weights yet.)
	let http = reqwest::Client::new();
	let as_model = format!("?{WEIGHTS_OF}={MODEL}@1.0.0");
	let mut tampered = q8.clone();
	tampered[q8.len() / 2] ^= 1;
	let response = http
		.put(format!("{}{as_model}", blob_url(&eve.url, &q8_digest)))
		.body(tampered)
		.send()
		.await
		.expect("PUT the tampered weights");
	assert_eq!(response.status().as_u16(), 422, "{:?}", response.text().await);
	let response = http
		.put(format!("{}{as_model}", blob_url(&eve.url, &digest_of(b"other"))))
		.body(&b"other"[..])
		.send()
		.await
		.expect("PUT other bytes");
	assert_eq!(response.status().as_u16(), 403, "{:?}", response.text().await);
	let eve_store = lilypad_client::content::StoreClient::new(&eve.url);
	assert!(!eve_store.has(&q8_digest).await.unwrap(), "nothing of it kept");

	let bob_key = Some("//Bob");
	let module = committed_module(dir.path(), "chat");
	let published = cli.ok(bob_key, &["module", "publish", module.to_str().unwrap()]);
	assert_eq!(published["published"], true, "{published}");
	let chat_digest = digest_of(&example_module("chat"));

	// Charlie asks; the tokens show while the job has no result on chain.
	let messages = format!("messages={QUESTION}");
	let run_args: [&str; 14] = [
		"run",
		"chat",
		"--wait",
		"settled",
		"--target",
		BOB,
		"-i",
		&messages,
		"-i",
		"max_tokens=32",
		"-i",
		"temperature=0.9",
		"-i",
		"seed=7",
	];
	let mut child = cli.spawn(Some("//Charlie"), &run_args);
	let (stdout, stdout_reader) = collect(child.stdout.take().unwrap());
	let (stderr, stderr_reader) = collect(child.stderr.take().unwrap());
	let deadline = Instant::now() + Duration::from_secs(300);
	loop {
		if stdout.lock().unwrap().1.is_some() {
			break;
		}
		if let Ok(Some(status)) = child.try_wait() {
			panic!("lilypad run exited ({status}) before any token:\n{}", stderr.lock().unwrap().0);
		}
		assert!(
			Instant::now() < deadline,
			"no token within 5 minutes:\n{}",
			stderr.lock().unwrap().0
		);
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	let id: u64 = {
		let err = stderr.lock().unwrap().0.clone();
		let line = err.lines().find(|l| l.starts_with("job ")).unwrap_or_else(|| panic!("{err}"));
		line["job ".len()..].split(':').next().unwrap().parse().unwrap()
	};
	let at_first_tokens = job(&rpc, id).await;
	assert!(
		at_first_tokens["result"].is_null(),
		"tokens came only after the result: {at_first_tokens}"
	);
	let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
	stdout_reader.join().unwrap();
	stderr_reader.join().unwrap();
	let (shown, _) = stdout.lock().unwrap().clone();
	let log = stderr.lock().unwrap().0.clone();
	assert!(status.success(), "lilypad run failed:\n{shown}\n{log}");
	let j = job(&rpc, id).await;
	assert_eq!(j["stage"], "completed", "{j}");
	assert_eq!(j["mediation"]["verdict"], "resultUpheld", "Eve's re-run agrees: {j}");
	let completion: Value = serde_json::from_slice(
		&std::fs::read(cli.cwd.join(format!("lilypad-outputs/{id}/outputs/completion.json")))
			.unwrap(),
	)
	.unwrap();
	let text = completion["text"].as_str().unwrap();
	assert!(!text.is_empty());
	// The completion, then the end of the terminal's line.
	let line_ended = if text.ends_with('\n') { text.to_string() } else { format!("{text}\n") };
	assert_eq!(shown, line_ended, "the terminal showed the completion, as it came");

	// The embedding model, a directory published as one tar and mounted unpacked, and its
	// module: a job's vectors, re-run by Eve and upheld.
	let minilm = package("all-minilm-l6-v2");
	let args = ["model", "publish", minilm.to_str().unwrap(), "--store", bob.url.as_str()];
	let published = cli.ok(ferdie, &args);
	assert_eq!(published["layout"], "directory", "{published}");
	// Ferdie publishes it: Bob's key is busy in his agent (heartbeats, results), and two
	// senders of one account race for its nonce.
	let embed = committed_module(dir.path(), "embed");
	assert_eq!(cli.ok(ferdie, &["module", "publish", embed.to_str().unwrap()])["published"], true);
	let texts = r#"texts=["A frog sings.", "A toad croaks.", "Interest rates rose."]"#;
	let run = cli.ok(
		Some("//Charlie"),
		&["run", "embed", "--target", BOB, "-i", texts, "--wait", "settled"],
	);
	assert_eq!(run["state"], "completed", "{run}");
	let id = run["job_id"].as_u64().unwrap();
	assert_eq!(job(&rpc, id).await["mediation"]["verdict"], "resultUpheld");
	let out =
		std::path::Path::new(run["outputs_dir"].as_str().unwrap()).join("outputs/embeddings.json");
	let embeddings: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
	for v in embeddings["embeddings"].as_array().unwrap() {
		let norm: f64 = v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap().powi(2)).sum();
		assert!((norm.sqrt() - 1.0).abs() < 1e-5, "{norm}");
	}

	// Dave forges a result for a job he was matched: Eve's re-run catches it.
	let submitted = cli.ok(
		Some("//Charlie"),
		&["run", "chat", "--target", DAVE, "--no-wait", "-i", &messages, "-i", "max_tokens=8"],
	);
	let forged_job = submitted["job_id"].as_u64().unwrap();
	wait_for_job(&rpc, forged_job, "matched", Duration::from_secs(60), |j| j["stage"] == "matched")
		.await;
	// Read at the best block, where the match was seen (it may not be final yet).
	let client = lilypad_client::chain::Chain::connect(&node.ws_url(), Duration::from_secs(10))
		.await
		.unwrap()
		.reading_at(lilypad_client::chain::ReadAt::Best);
	let record = client.stored_job(forged_job).await.unwrap().expect("the job");
	let forged = ResultManifest {
		job: forged_job,
		module_digest: chat_digest,
		input_digest: input_digest(&record.inputs),
		output_digest: [6; 32],
		stdout_digest: [2; 32],
		stderr_digest: [3; 32],
		exit: ExitStatus::Success,
		usage: Usage { wall_ms: 900, cpu_ms: 800, peak_ram_mib: 200, gpu_ms: 0 },
	};
	submit(&api, &result_call(&genesis, &dev::dave(), &forged, &[q8_digest]), &dev::dave())
		.await
		.expect("Dave submits his forged result");
	let j = wait_for_job(&rpc, forged_job, "a verdict", Duration::from_secs(300), |j| {
		!j["mediation"]["verdict"].is_null()
	})
	.await;
	assert_eq!(j["mediation"]["verdict"], "resultWrong", "{j}");
	eve.wait_for_log(&["mediation answered"], Duration::from_secs(30)).await;
	node.assert_running();
}
