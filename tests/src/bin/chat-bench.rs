//! `chat-bench`: the chat model in the agent's WASM executor, on the real Q8_0 weights.
//!
//! Prints: compiling `chat.wasm` (cold) and loading it from the disk cache; then, over several
//! runs of one greedy completion timed from the host (the module's own clocks are virtual in
//! the executor), the time to the first token (the first stdout line the agent's tap receives,
//! from the start of the run), tokens per second from the first line to the last, fuel per
//! token and the whole run; and the weights' loading time, from the time to the first token of
//! two prompts of different lengths (the load, plus prompt processing that grows with the
//! prompt). With `CHAT_NATIVE=<path of a native chat binary>` the same completion natively
//! (the module's own figures, real clocks there), for a ratio.
//!
//! Run with `scripts/bench-chat.sh`.
use std::{
	path::Path,
	process::Command,
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

const MODEL: &str = "smollm2-135m-instruct-q8";
const MESSAGES: &str =
	r#"[{"role":"user","content":"Write a long story about a frog who learns to sing."}]"#;
const TOKENS: usize = 128;
const RUNS: usize = 3;

/// What the module's stderr reports: `loaded weights in N ms`, `first token after N ms`,
/// `N tokens/s after the first`. Only a native run's figures mean anything: under the agent's
/// WASM executor the module's clocks are virtual (they advance a millisecond per reading), so
/// WASM runs are timed from the host.
struct Reported {
	load_ms: f64,
	first_token_ms: f64,
	tokens_per_s: f64,
}

fn number_before(text: &str, marker: &str) -> f64 {
	let at = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
	let digits: String = text[..at]
		.chars()
		.rev()
		.take_while(|c| c.is_ascii_digit() || *c == '.')
		.collect::<Vec<_>>()
		.into_iter()
		.rev()
		.collect();
	digits.parse().unwrap_or_else(|_| panic!("no number before {marker:?} in:\n{text}"))
}

fn number_after(text: &str, marker: &str) -> f64 {
	let at =
		text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in:\n{text}")) + marker.len();
	let digits: String =
		text[at..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
	digits.parse().unwrap_or_else(|_| panic!("no number after {marker:?} in:\n{text}"))
}

fn reported(stderr: &str) -> Reported {
	Reported {
		load_ms: number_after(stderr, "loaded weights in "),
		first_token_ms: number_after(stderr, "first token after "),
		tokens_per_s: number_before(stderr, " tokens/s"),
	}
}

/// One WASM run as the host sees it.
struct Timed {
	/// From the start of the run to the first stdout line (the first token).
	first: Duration,
	/// Tokens per second from the first line to the last.
	tokens_per_s: f64,
	wall: Duration,
	fuel: u64,
	prompt_tokens: u64,
}

/// One run of `messages` in the executor, `tokens` greedy tokens, its stdout timed line by
/// line as the agent's tap receives it.
fn run(exec: &WasmExecutor, module: &Module, messages: &str, tokens: usize) -> Timed {
	let dir = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (dir.path().join("in"), dir.path().join("out"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join("messages"), messages).unwrap();
	let (tap, mut chunks) = tokio::sync::mpsc::unbounded_channel::<bytes::Bytes>();
	let start = Instant::now();
	// When each line arrived (the module writes a line per token, flushed).
	let arrivals = std::thread::spawn(move || {
		let mut at = Vec::new();
		while let Some(chunk) = chunks.blocking_recv() {
			let now = start.elapsed();
			at.extend(chunk.iter().filter(|b| **b == b'\n').map(|_| now));
		}
		at
	});
	let request = Request {
		args: vec![format!("--max_tokens={tokens}"), "--temperature=0".into()],
		env: vec![("LILYPAD_MODELS".into(), MODEL.into())],
		inputs,
		outputs: outputs.clone(),
		models: vec![ModelMount { name: MODEL.into(), path: model_packages().join(MODEL) }],
		seed: [0; 32],
		name: "chat-bench".into(),
		limits: Limits {
			fuel: u64::MAX / 2,
			wall: Duration::from_secs(900),
			memory_bytes: 1 << 30,
			output_bytes: 1 << 20,
			cpu_millicores: 1_000,
			pids: 1,
			gpus: 0,
		},
		stdout: Some(tap),
	};
	let outcome = exec.run_module(module, request).unwrap();
	let wall = start.elapsed();
	let stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
	assert_eq!(outcome.exit, lilypad_primitives::jobs::ExitStatus::Success, "{stderr}");
	let at = arrivals.join().unwrap();
	assert_eq!(at.len(), tokens, "{stderr}");
	let completion: serde_json::Value =
		serde_json::from_slice(&std::fs::read(outputs.join("completion.json")).unwrap()).unwrap();
	let span = (at[at.len() - 1] - at[0]).as_secs_f64();
	Timed {
		first: at[0],
		tokens_per_s: if tokens > 1 { (tokens - 1) as f64 / span } else { 0.0 },
		wall,
		fuel: outcome.fuel_used.unwrap_or(0),
		prompt_tokens: completion["prompt_tokens"].as_u64().unwrap(),
	}
}

/// The same completion from a native build of the module.
fn run_native(binary: &Path) -> (Reported, Duration) {
	let dir = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (dir.path().join("in"), dir.path().join("out"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join("messages"), MESSAGES).unwrap();
	let start = Instant::now();
	let out = Command::new(binary)
		.args([format!("--max_tokens={TOKENS}"), "--temperature=0".into()])
		.env("LILYPAD_CHAT_GGUF", model_packages().join(MODEL).join("weights.gguf"))
		.env("LILYPAD_CHAT_INPUTS", &inputs)
		.env("LILYPAD_CHAT_OUTPUTS", &outputs)
		.output()
		.expect("run the native chat binary");
	let wall = start.elapsed();
	let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
	assert!(out.status.success(), "{stderr}");
	(reported(&stderr), wall)
}

fn main() {
	let wasm = example_module("chat");
	let cache = tempfile::tempdir().unwrap();
	let exec = WasmExecutor::new(Some(cache.path().into())).unwrap();
	let t = Instant::now();
	let module = exec.module(&digest_of(&wasm), || Ok(wasm.clone())).unwrap();
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

	let (mut ttft, mut rate, mut walls, mut fuel) = (vec![], vec![], vec![], vec![]);
	for _ in 0..RUNS {
		let t = run(&exec, &module, MESSAGES, TOKENS);
		ttft.push(t.first.as_secs_f64() * 1e3);
		rate.push(t.tokens_per_s);
		walls.push(t.wall.as_secs_f64());
		fuel.push(t.fuel as f64 / TOKENS as f64 / 1e6);
	}
	// Loading the weights, from the host: the time to the first token is the load plus the
	// prompt's processing, which grows with its length; two prompt lengths give both.
	let long = MESSAGES.replace(
		"Write a long story",
		&"Think of frogs, ponds, songs and evenings. ".repeat(12).to_string(),
	);
	let (mut loads, mut per_prompt_token) = (vec![], vec![]);
	for _ in 0..RUNS {
		let (a, b) = (run(&exec, &module, MESSAGES, 1), run(&exec, &module, &long, 1));
		let per_token = (b.first.as_secs_f64() - a.first.as_secs_f64())
			/ (b.prompt_tokens - a.prompt_tokens) as f64;
		loads.push((a.first.as_secs_f64() - per_token * a.prompt_tokens as f64) * 1e3);
		per_prompt_token.push(per_token * 1e3);
	}
	println!(
		"WASM, {TOKENS} greedy tokens after a {}-byte question, {RUNS} runs, timed from the host:",
		MESSAGES.len()
	);
	println!("  {}", summary("first token (load, prompt, first token)", "ms", ttft));
	println!("  {}", summary("tokens/s after the first", "tok/s", rate.clone()));
	println!("  {}", summary("whole run", "s", walls));
	println!("  {}", summary("fuel per token", "M", fuel));
	println!("  {}", summary("weights loaded (from two prompt lengths)", "ms", loads));
	println!("  {}", summary("prompt processing per token", "ms", per_prompt_token));

	if let Some(native) = std::env::var_os("CHAT_NATIVE") {
		let (mut nload, mut nttft, mut nrate) = (vec![], vec![], vec![]);
		for _ in 0..RUNS {
			let (r, _) = run_native(Path::new(&native));
			nload.push(r.load_ms);
			nttft.push(r.first_token_ms);
			nrate.push(r.tokens_per_s);
		}
		let median = |mut v: Vec<f64>| {
			v.sort_by(f64::total_cmp);
			v[v.len() / 2]
		};
		println!("native (the same module built for the host), {RUNS} runs:");
		println!("  {}", summary("weights loaded", "ms", nload));
		println!("  {}", summary("first token (module)", "ms", nttft));
		println!("  {}", summary("tokens/s after the first", "tok/s", nrate.clone()));
		println!("  WASM/native tokens/s: {:.2}", median(rate) / median(nrate));
	}
}
