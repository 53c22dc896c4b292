//! `chat-bench`: the chat model in the agent's WASM executor, on the real Q8_0 weights.
//!
//! Prints: compiling `chat.wasm` (cold) and loading it from the disk cache; then, over
//! several runs of one greedy completion, the weights' loading time and the time to the first
//! token as the module reports them, the time to the first token as the agent sees it (the
//! first stdout chunk, from the start of the run), the tokens per second after the first, fuel
//! per token, and the whole run. With `CHAT_NATIVE=<path of a native chat binary>` the same
//! completion natively, for a ratio (the same code, no WASM).
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
/// `N tokens/s after the first`.
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

/// One run in the executor: what the module reported, the first stdout chunk's time, the
/// whole run's time and the fuel used.
fn run(exec: &WasmExecutor, module: &Module) -> (Reported, Duration, Duration, u64) {
	let dir = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (dir.path().join("in"), dir.path().join("out"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join("messages"), MESSAGES).unwrap();
	let (tap, mut chunks) = tokio::sync::mpsc::unbounded_channel::<bytes::Bytes>();
	let start = Instant::now();
	let first = std::thread::spawn(move || chunks.blocking_recv().map(|_| start.elapsed()));
	let request = Request {
		args: vec![format!("--max_tokens={TOKENS}"), "--temperature=0".into()],
		env: vec![("LILYPAD_MODELS".into(), MODEL.into())],
		inputs,
		outputs,
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
	assert_eq!(outcome.stdout.iter().filter(|b| **b == b'\n').count(), TOKENS, "{stderr}");
	let first = first.join().unwrap().expect("stdout came");
	(reported(&stderr), first, wall, outcome.fuel_used.unwrap_or(0))
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

	let (mut load, mut ttft, mut seen, mut rate, mut walls, mut fuel) =
		(vec![], vec![], vec![], vec![], vec![], vec![]);
	for _ in 0..RUNS {
		let (r, first, wall, fuel_used) = run(&exec, &module);
		load.push(r.load_ms);
		ttft.push(r.first_token_ms);
		seen.push(first.as_secs_f64() * 1e3);
		rate.push(r.tokens_per_s);
		walls.push(wall.as_secs_f64());
		fuel.push(fuel_used as f64 / TOKENS as f64 / 1e9);
	}
	println!("WASM, {TOKENS} greedy tokens after a {}-byte question, {RUNS} runs:", MESSAGES.len());
	println!("  {}", summary("weights loaded", "ms", load));
	println!("  {}", summary("first token (module)", "ms", ttft));
	println!("  {}", summary("first stdout at the agent", "ms", seen));
	println!("  {}", summary("tokens/s after the first", "tok/s", rate.clone()));
	println!("  {}", summary("whole run", "s", walls));
	println!("  {}", summary("fuel per token", "G", fuel));

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
