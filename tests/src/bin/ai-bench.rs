//! `ai-bench`: the chat and embedding models on their real weights, in the agent's WASM
//! executor and natively (the static binaries the Docker images hold).
//!
//! Prints, everything timed from the host (the modules' own clocks are virtual in the WASM
//! executor, so both builds are timed the same way):
//! - compiling `chat.wasm` (cold) and loading it from the disk cache;
//! - over several runs of one greedy completion, the time to the first token (the first stdout
//!   line, from the start of the run), tokens per second from the first line to the last, fuel
//!   per token, the whole run; the weights' loading time, from the times to the first token of
//!   two prompts of different lengths (the load, plus prompt processing that grows with the
//!   prompt);
//! - the process's peak resident memory while two completions run at once, as an agent with
//!   two job slots runs them;
//! - `embed`: texts per second, from two batch sizes (the difference leaves the load out), and
//!   the load.
//!
//! With `CHAT_NATIVE` and `EMBED_NATIVE` (paths of the native binaries) the same natively, with
//! native/WASM ratios. Run with `scripts/bench-ai.sh`.
use std::{
	io::{BufRead, BufReader},
	path::{Path, PathBuf},
	process::{Command, Stdio},
	time::{Duration, Instant},
};

use lilypad_client::content::digest_of;
use lilypad_e2e::{
	rp::{example_module, model_packages},
	summary,
};
use lilypad_rp::{
	executor::{Limits, ModelMount, Request},
	wasm::{Module, WasmExecutor},
};

const CHAT_MODEL: &str = "smollm2-135m-instruct-q8";
const EMBED_MODEL: &str = "all-minilm-l6-v2";
const MESSAGES: &str =
	r#"[{"role":"user","content":"Write a long story about a frog who learns to sing."}]"#;
const TOKENS: usize = 128;
const RUNS: usize = 3;
/// The two batch sizes `embed` is timed on.
const BATCHES: (usize, usize) = (4, 36);

fn median(mut xs: Vec<f64>) -> f64 {
	xs.sort_by(f64::total_cmp);
	xs[xs.len() / 2]
}

/// A run's scratch directories: `/inputs` with one file, `/outputs`.
struct Scratch {
	_root: tempfile::TempDir,
	inputs: PathBuf,
	outputs: PathBuf,
}

fn scratch(input: &str, value: &str) -> Scratch {
	let root = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (root.path().join("in"), root.path().join("out"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join(input), value).unwrap();
	Scratch { _root: root, inputs, outputs }
}

fn json(path: PathBuf) -> serde_json::Value {
	serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn request(scratch: &Scratch, model: &str, mount: PathBuf, args: Vec<String>) -> Request {
	Request {
		args,
		env: vec![("LILYPAD_MODELS".into(), model.into())],
		inputs: scratch.inputs.clone(),
		outputs: scratch.outputs.clone(),
		models: vec![ModelMount { name: model.into(), path: mount }],
		seed: [0; 32],
		name: "ai-bench".into(),
		limits: Limits {
			fuel: u64::MAX / 2,
			wall: Duration::from_secs(900),
			memory_bytes: 1 << 30,
			output_bytes: 1 << 20,
			cpu_millicores: 1_000,
			pids: 1,
			gpus: 0,
		},
		stdout: None,
	}
}

/// One completion as the host sees it.
struct Timed {
	/// From the start of the run to the first stdout line (the first token).
	first: Duration,
	/// Tokens per second from the first line to the last.
	tokens_per_s: f64,
	wall: Duration,
	fuel: u64,
	prompt_tokens: u64,
}

impl Timed {
	fn new(start: Instant, at: Vec<Duration>, tokens: usize, fuel: u64, out: &Scratch) -> Self {
		assert_eq!(at.len(), tokens, "a stdout line per token");
		let span = (at[at.len() - 1] - at[0]).as_secs_f64();
		Timed {
			first: at[0],
			tokens_per_s: if tokens > 1 { (tokens - 1) as f64 / span } else { 0.0 },
			wall: start.elapsed(),
			fuel,
			prompt_tokens: json(out.outputs.join("completion.json"))["prompt_tokens"]
				.as_u64()
				.unwrap(),
		}
	}
}

fn chat_args(tokens: usize) -> Vec<String> {
	vec![format!("--max_tokens={tokens}"), "--temperature=0".into()]
}

/// Where a completion runs.
enum Chat<'a> {
	Wasm(&'a WasmExecutor, &'a Module),
	Native(&'a Path),
}

impl Chat<'_> {
	/// One greedy completion of `messages`, `tokens` long, its stdout timed line by line.
	fn run(&self, messages: &str, tokens: usize) -> Timed {
		let out = scratch("messages", messages);
		let weights = model_packages().join(CHAT_MODEL);
		let start = Instant::now();
		match self {
			Chat::Wasm(exec, module) => {
				let (tap, mut chunks) = tokio::sync::mpsc::unbounded_channel::<bytes::Bytes>();
				// When each line arrived (the module writes a line per token, flushed).
				let arrivals = std::thread::spawn(move || {
					let mut at = Vec::new();
					while let Some(chunk) = chunks.blocking_recv() {
						let now = start.elapsed();
						at.extend(chunk.iter().filter(|b| **b == b'\n').map(|_| now));
					}
					at
				});
				let mut request = request(&out, CHAT_MODEL, weights, chat_args(tokens));
				request.stdout = Some(tap);
				let outcome = exec.run_module(module, request).unwrap();
				let stderr = String::from_utf8_lossy(&outcome.stderr);
				assert_eq!(outcome.exit, lilypad_primitives::jobs::ExitStatus::Success, "{stderr}");
				let at = arrivals.join().unwrap();
				Timed::new(start, at, tokens, outcome.fuel_used.unwrap_or(0), &out)
			}
			Chat::Native(binary) => {
				let mut child = Command::new(binary)
					.args(chat_args(tokens))
					.env("LILYPAD_CHAT_GGUF", weights.join("weights.gguf"))
					.env("LILYPAD_CHAT_INPUTS", &out.inputs)
					.env("LILYPAD_CHAT_OUTPUTS", &out.outputs)
					.stdout(Stdio::piped())
					.stderr(Stdio::null())
					.spawn()
					.expect("run the native chat binary");
				let at = BufReader::new(child.stdout.take().unwrap())
					.lines()
					.map(|line| line.map(|_| start.elapsed()).unwrap())
					.collect();
				assert!(child.wait().unwrap().success(), "the native chat binary failed");
				Timed::new(start, at, tokens, 0, &out)
			}
		}
	}

	/// The figures of [`RUNS`] completions, printed; the median tokens per second and time to
	/// the first token.
	fn measure(&self) -> (f64, f64) {
		let (mut ttft, mut rate, mut walls, mut fuel) = (vec![], vec![], vec![], vec![]);
		for _ in 0..RUNS {
			let t = self.run(MESSAGES, TOKENS);
			ttft.push(t.first.as_secs_f64() * 1e3);
			rate.push(t.tokens_per_s);
			walls.push(t.wall.as_secs_f64());
			fuel.push(t.fuel as f64 / TOKENS as f64 / 1e6);
		}
		// Loading the weights: the time to the first token is the load plus the prompt's
		// processing, which grows with its length; two prompt lengths give both.
		let long = MESSAGES.replace(
			"Write a long story",
			&"Think of frogs, ponds, songs and evenings. ".repeat(12).to_string(),
		);
		let (mut loads, mut per_prompt_token) = (vec![], vec![]);
		for _ in 0..RUNS {
			let (a, b) = (self.run(MESSAGES, 1), self.run(&long, 1));
			let per_token = (b.first.as_secs_f64() - a.first.as_secs_f64())
				/ (b.prompt_tokens - a.prompt_tokens) as f64;
			loads.push((a.first.as_secs_f64() - per_token * a.prompt_tokens as f64) * 1e3);
			per_prompt_token.push(per_token * 1e3);
		}
		println!("  {}", summary("first token (load, prompt, first token)", "ms", ttft.clone()));
		println!("  {}", summary("tokens/s after the first", "tok/s", rate.clone()));
		println!("  {}", summary("whole run", "s", walls));
		if let Chat::Wasm(..) = self {
			println!("  {}", summary("fuel per token", "M", fuel));
		}
		println!("  {}", summary("weights loaded (from two prompt lengths)", "ms", loads));
		println!("  {}", summary("prompt processing per token", "ms", per_prompt_token));
		(median(rate), median(ttft))
	}
}

/// Where a batch of texts is embedded.
enum Embed<'a> {
	Wasm(&'a WasmExecutor, &'a Module),
	Native(&'a Path),
}

impl Embed<'_> {
	/// The wall time of embedding `n` sentences in one job.
	fn run(&self, n: usize) -> Duration {
		let texts: Vec<String> = (0..n)
			.map(|i| format!("Sentence number {i} is about a frog that sings by the pond at dusk."))
			.collect();
		let out = scratch("texts", &serde_json::to_string(&texts).unwrap());
		let files = model_packages().join(EMBED_MODEL).join("files");
		let start = Instant::now();
		match self {
			Embed::Wasm(exec, module) => {
				let request = request(&out, EMBED_MODEL, files, vec![]);
				let outcome = exec.run_module(module, request).unwrap();
				let stderr = String::from_utf8_lossy(&outcome.stderr);
				assert_eq!(outcome.exit, lilypad_primitives::jobs::ExitStatus::Success, "{stderr}");
			}
			Embed::Native(binary) => {
				let status = Command::new(binary)
					.env("LILYPAD_EMBED_MODEL_DIR", &files)
					.env("LILYPAD_EMBED_INPUTS", &out.inputs)
					.env("LILYPAD_EMBED_OUTPUTS", &out.outputs)
					.stderr(Stdio::null())
					.status()
					.expect("run the native embed binary");
				assert!(status.success(), "the native embed binary failed");
			}
		}
		let wall = start.elapsed();
		let vectors = json(out.outputs.join("embeddings.json"));
		assert_eq!(vectors["embeddings"].as_array().unwrap().len(), n);
		wall
	}

	/// The figures of [`RUNS`] pairs of batches, printed; the median texts per second.
	fn measure(&self) -> f64 {
		let (mut rates, mut loads) = (vec![], vec![]);
		for _ in 0..RUNS {
			let (small, large) = (self.run(BATCHES.0), self.run(BATCHES.1));
			let per_text = (large - small).as_secs_f64() / (BATCHES.1 - BATCHES.0) as f64;
			rates.push(1.0 / per_text);
			loads.push((small.as_secs_f64() - per_text * BATCHES.0 as f64) * 1e3);
		}
		println!(
			"  {}",
			summary(
				&format!("texts/s (batches of {} and {})", BATCHES.0, BATCHES.1),
				"",
				rates.clone()
			)
		);
		println!("  {}", summary("load (module, weights, tokenizer)", "ms", loads));
		median(rates)
	}
}

/// The process's peak resident memory since the last [`reset_peak_rss`], in MiB.
fn peak_rss_mib() -> u64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap();
	let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
	line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() >> 10
}

fn rss_mib() -> u64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap();
	let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
	line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() >> 10
}

/// Resets the peak to the current resident memory (Linux's `clear_refs`, 5).
fn reset_peak_rss() {
	std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

fn load(exec: &WasmExecutor, name: &str) -> Module {
	let wasm = example_module(name);
	exec.module(&digest_of(&wasm), || Ok(wasm.clone())).unwrap()
}

fn main() {
	let wasm = example_module("chat");
	let cache = tempfile::tempdir().unwrap();
	let exec = WasmExecutor::new(Some(cache.path().into())).unwrap();
	let t = Instant::now();
	let chat = load(&exec, "chat");
	let compile = t.elapsed();
	let fresh = WasmExecutor::new(Some(cache.path().into())).unwrap();
	let t = Instant::now();
	fresh.module(&digest_of(&wasm), || unreachable!()).unwrap();
	println!(
		"chat.wasm ({} KiB): compile {:.1} s cold, {:.0} ms from the disk cache",
		wasm.len() >> 10,
		compile.as_secs_f64(),
		t.elapsed().as_secs_f64() * 1e3
	);

	println!(
		"chat, WASM: {TOKENS} greedy tokens after a {}-byte question, {RUNS} runs:",
		MESSAGES.len()
	);
	let (wasm_rate, wasm_ttft) = Chat::Wasm(&exec, &chat).measure();

	// Two completions at once, as an agent with two job slots runs them (the weights are read
	// into each run's linear memory).
	let idle = rss_mib();
	reset_peak_rss();
	std::thread::scope(|s| {
		for _ in 0..2 {
			s.spawn(|| Chat::Wasm(&exec, &chat).run(MESSAGES, TOKENS));
		}
	});
	println!(
		"  two completions at once: peak resident memory {} MiB (between runs {idle} MiB)",
		peak_rss_mib()
	);

	let chat_native = std::env::var_os("CHAT_NATIVE").map(PathBuf::from);
	if let Some(native) = &chat_native {
		println!("chat, native (the same module built for the host), {RUNS} runs:");
		let (rate, ttft) = Chat::Native(native).measure();
		println!(
			"  native/WASM: tokens/s {:.2}x, first token {:.2}x as fast",
			rate / wasm_rate,
			wasm_ttft / ttft
		);
	}

	let embed = load(&exec, "embed");
	println!("embed, WASM, {RUNS} runs of each batch:");
	let wasm_rate = Embed::Wasm(&exec, &embed).measure();
	if let Some(native) = std::env::var_os("EMBED_NATIVE") {
		println!("embed, native, {RUNS} runs of each batch:");
		let rate = Embed::Native(Path::new(&native)).measure();
		println!("  native/WASM texts/s: {:.2}x", rate / wasm_rate);
	}
}
