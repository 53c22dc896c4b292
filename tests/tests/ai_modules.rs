//! The AI modules on their real weights (scripts/setup-models.sh), as the agent runs them:
//!
//! - `embed.wasm` under the agent's WASM executor: unit vectors, a paraphrase ranked above an
//!   unrelated sentence, the same batch giving the same bytes in two runs;
//! - the native images (`FROM scratch` static binaries, scripts/build-images.sh) under the
//!   agent's Docker executor, with its hardened container settings (no network, read-only root,
//!   no capabilities, `nobody`, memory, CPU and pids limits) and the weights mounted read-only:
//!   `chat` answers a fixed question sensibly and streams a JSON line per token as the WASM
//!   module does; `embed` gives the vectors the WASM module gives, within float noise.
use std::{path::PathBuf, time::Duration};

use lilypad_e2e::rp::{docker_image, example_module, model_packages};
use lilypad_primitives::jobs::ExitStatus;
use lilypad_rp::{
	docker::DockerExecutor,
	executor::{Limits, ModelMount, Outcome, Request},
	wasm::WasmExecutor,
};
use serde_json::Value;

const CHAT_MODEL: &str = "smollm2-135m-instruct-q8";
const EMBED_MODEL: &str = "all-minilm-l6-v2";
const TEXTS: &str = r#"["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."]"#;
const QUESTION: &str = r#"[{"role":"user","content":"What is a frog? Answer in two sentences."}]"#;

fn limits(fuel: u64) -> Limits {
	Limits {
		fuel,
		wall: Duration::from_secs(300),
		memory_bytes: 1 << 30,
		output_bytes: 1 << 20,
		cpu_millicores: 2_000,
		pids: 64,
		gpus: 0,
	}
}

/// Where a model's weights are mounted from: the chat model's package holds `weights.gguf`; the
/// embedding model's holds its files under `files/` (the directory published as one tar).
fn weights_dir(model: &str) -> PathBuf {
	let package = model_packages().join(model);
	if model == EMBED_MODEL {
		package.join("files")
	} else {
		package
	}
}

/// A run's request: `input` written to `/inputs/<input_name>`, `model` mounted, `args`.
struct Job {
	_root: tempfile::TempDir,
	request: Request,
}

fn job(input_name: &str, input: &str, model: &str, args: &[&str], limits: Limits) -> Job {
	use std::os::unix::fs::PermissionsExt;
	let root = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (root.path().join("inputs"), root.path().join("outputs"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join(input_name), input).unwrap();
	// The container runs as `nobody`.
	std::fs::set_permissions(&outputs, std::fs::Permissions::from_mode(0o777)).unwrap();
	let request = Request {
		args: args.iter().map(|s| s.to_string()).collect(),
		env: vec![("LILYPAD_MODELS".into(), model.into())],
		inputs,
		outputs,
		models: vec![ModelMount { name: model.into(), path: weights_dir(model) }],
		seed: [0; 32],
		name: format!("lilypad-test-ai-{model}"),
		limits,
		stdout: None,
	};
	Job { _root: root, request }
}

fn output(job: &Job, file: &str) -> Value {
	let path = job.request.outputs.join(file);
	serde_json::from_slice(
		&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
	)
	.unwrap()
}

fn ok(outcome: &Outcome) {
	assert_eq!(outcome.exit, ExitStatus::Success, "{}", String::from_utf8_lossy(&outcome.stderr));
}

fn vectors(embeddings: &Value) -> Vec<Vec<f64>> {
	embeddings["embeddings"]
		.as_array()
		.unwrap()
		.iter()
		.map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
		.collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
	a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Unit vectors of 384 dimensions, the paraphrase (1) nearer the first sentence than the
/// unrelated one (2).
fn assert_sensible(embeddings: &Value) -> Vec<Vec<f64>> {
	assert_eq!(embeddings["dimensions"], 384, "{embeddings}");
	let v = vectors(embeddings);
	assert_eq!(v.len(), 3);
	for e in &v {
		assert_eq!(e.len(), 384);
		assert!((dot(e, e).sqrt() - 1.0).abs() < 1e-5, "norm {}", dot(e, e).sqrt());
	}
	let (paraphrase, unrelated) = (dot(&v[0], &v[1]), dot(&v[0], &v[2]));
	assert!(
		paraphrase > unrelated + 0.3,
		"cosines: paraphrase {paraphrase}, unrelated {unrelated}"
	);
	v
}

/// `embed.wasm` twice on the same batch: the same bytes; the vectors.
fn wasm_embeddings() -> Value {
	let wasm = example_module("embed");
	let exec = WasmExecutor::new(None).unwrap();
	let module =
		exec.module(&lilypad_client::content::digest_of(&wasm), || Ok(wasm.clone())).unwrap();
	let mut runs = Vec::new();
	for _ in 0..2 {
		let job = job("texts", TEXTS, EMBED_MODEL, &[], limits(200_000_000_000));
		let outcome = exec.run_module(&module, job.request.clone()).expect("the host side works");
		ok(&outcome);
		runs.push((
			output(&job, "embeddings.json"),
			std::fs::read(job.request.outputs.join("embeddings.json")).unwrap(),
		));
	}
	assert_eq!(runs[0].1, runs[1].1, "the same batch, the same bytes");
	runs.remove(0).0
}

#[test]
fn the_wasm_embedding_module_gives_the_same_unit_vectors_every_run() {
	let embeddings = wasm_embeddings();
	assert_sensible(&embeddings);
	assert_eq!(embeddings["model"], EMBED_MODEL);
	let counts: Vec<u64> = embeddings["token_counts"]
		.as_array()
		.unwrap()
		.iter()
		.map(|c| c.as_u64().unwrap())
		.collect();
	assert_eq!(counts.len(), 3);
	assert_eq!(embeddings["total_tokens"].as_u64(), Some(counts.iter().sum::<u64>()));
}

/// Runs `request` in `image` under the agent's Docker executor, with stdout tapped as the
/// agent taps it; returns the outcome and what the tap saw.
async fn run_native(image: &str, mut request: Request) -> (Outcome, Vec<u8>) {
	let docker = DockerExecutor::connect().await.expect("a Docker engine");
	let image = docker_image(image);
	let tarball = image.tarball.clone();
	docker.ensure_image(&image.archive, &image.config, || async { Ok(tarball) }).await.unwrap();
	let (tap, mut streamed) = tokio::sync::mpsc::unbounded_channel();
	request.stdout = Some(tap);
	let outcome = docker.run_image(&image.config, request).await.unwrap();
	let mut seen = Vec::new();
	while let Some(chunk) = streamed.recv().await {
		seen.extend_from_slice(&chunk);
	}
	(outcome, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_native_chat_image_answers_and_streams_as_the_wasm_module_does() {
	let args = ["--max_tokens=48", "--temperature=0"];
	let native = job("messages", QUESTION, CHAT_MODEL, &args, limits(0));
	let (outcome, streamed) = run_native("chat", native.request.clone()).await;
	ok(&outcome);
	assert_eq!(streamed, outcome.stdout, "the agent saw stdout as it was written");
	let completion = output(&native, "completion.json");
	let text = completion["text"].as_str().unwrap();
	// SmolLM2-135M's greedy answer: "A frog is a small, aquatic creature ...", ended by the
	// model itself.
	assert!(text.to_lowercase().contains("frog"), "a sensible answer: {text:?}");
	assert_eq!(completion["finish_reason"], "stop", "{completion}");
	// A JSON line per token, their texts the completion's.
	let stdout = String::from_utf8(outcome.stdout).unwrap();
	let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
	assert_eq!(lines.len() as u64, completion["completion_tokens"].as_u64().unwrap());
	let ids: Vec<&Value> = lines.iter().map(|l| &l["id"]).collect();
	assert_eq!(ids, completion["token_ids"].as_array().unwrap().iter().collect::<Vec<_>>());
	let streamed_text: String = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
	assert_eq!(streamed_text, text);

	// The WASM module's answer to the same greedy request: the same format, and (greedy, a short
	// answer) the same start.
	let wasm_bytes = example_module("chat");
	let wasm = tokio::task::spawn_blocking(move || {
		let exec = WasmExecutor::new(None).unwrap();
		let module = exec
			.module(&lilypad_client::content::digest_of(&wasm_bytes), || Ok(wasm_bytes.clone()))
			.unwrap();
		let wasm = job("messages", QUESTION, CHAT_MODEL, &args, limits(200_000_000_000));
		ok(&exec.run_module(&module, wasm.request.clone()).unwrap());
		output(&wasm, "completion.json")
	})
	.await
	.unwrap();
	let first = |c: &Value| c["token_ids"].as_array().unwrap()[..3].to_vec();
	assert_eq!(first(&wasm), first(&completion), "native {completion}\nWASM {wasm}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_native_embed_image_gives_the_wasm_vectors_within_float_noise() {
	let native = job("texts", TEXTS, EMBED_MODEL, &[], limits(0));
	let (outcome, _) = run_native("embed", native.request.clone()).await;
	ok(&outcome);
	let native_vectors = assert_sensible(&output(&native, "embeddings.json"));
	let wasm = tokio::task::spawn_blocking(wasm_embeddings).await.unwrap();
	for (n, w) in native_vectors.iter().zip(vectors(&wasm)) {
		let furthest = n.iter().zip(&w).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
		assert!(furthest < 1e-4, "native and WASM differ by {furthest}");
	}
}
