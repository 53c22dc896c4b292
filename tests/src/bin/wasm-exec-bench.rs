//! `wasm-exec-bench`: what the agent's WASM executor costs, on the example modules.
//!
//! Prints: compiling each module (cold) and loading it from the disk cache; one cowsay job
//! (run plus canonical archive, the per-job overhead); numeric's speed in rounds and fuel per
//! second; and cowsay jobs per second on 1 and 2 threads (the agent's job slots).
//!
//! Run with `scripts/bench-wasm.sh`.
use std::time::{Duration, Instant};

use lilypad_client::content::digest_of;
use lilypad_e2e::{
	rp::{example_module, WASM_LIMITS},
	summary,
};
use lilypad_rp::{
	archive::canonical_archive,
	executor::Request,
	wasm::{Module, WasmExecutor},
};

fn job(
	exec: &WasmExecutor,
	module: &Module,
	args: &[String],
	env: &[(String, String)],
) -> (u64, Duration) {
	let dir = tempfile::tempdir().unwrap();
	let (i, o) = (dir.path().join("in"), dir.path().join("out"));
	std::fs::create_dir_all(&i).unwrap();
	std::fs::create_dir_all(&o).unwrap();
	let start = Instant::now();
	let request = Request {
		args: args.to_vec(),
		env: env.to_vec(),
		inputs: i,
		outputs: o.clone(),
		models: Vec::new(),
		seed: [0; 32],
		name: "bench".into(),
		limits: WASM_LIMITS,
		stdout: None,
	};
	let out = exec.run_module(module, request).unwrap();
	let archive = canonical_archive(&o, 1 << 20).unwrap();
	digest_of(&archive);
	(out.fuel_used.unwrap_or(0), start.elapsed())
}

fn main() {
	let cache = tempfile::tempdir().unwrap();
	for name in ["cowsay", "numeric"] {
		let wasm = example_module(name);
		let exec = WasmExecutor::new(Some(cache.path().into())).unwrap();
		let t = Instant::now();
		exec.module(&digest_of(&wasm), || Ok(wasm.clone())).unwrap();
		let compile = t.elapsed();
		let fresh = WasmExecutor::new(Some(cache.path().into())).unwrap();
		let t = Instant::now();
		fresh.module(&digest_of(&wasm), || unreachable!()).unwrap();
		println!(
			"{name}: {} bytes, compile {:.1} ms, load from disk cache {:.2} ms",
			wasm.len(),
			compile.as_secs_f64() * 1e3,
			t.elapsed().as_secs_f64() * 1e3
		);
	}

	let exec = WasmExecutor::new(None).unwrap();
	let cowsay = example_module("cowsay");
	let cow = exec.module(&digest_of(&cowsay), || Ok(cowsay.clone())).unwrap();
	let env = vec![("Message".to_string(), "hello from the benchmark".to_string())];
	let runs: Vec<f64> =
		(0..200).map(|_| job(&exec, &cow, &[], &env).1.as_secs_f64() * 1e6).collect();
	println!("{}", summary("cowsay job (run + archive)", " us", runs));

	let numeric = example_module("numeric");
	let num = exec.module(&digest_of(&numeric), || Ok(numeric.clone())).unwrap();
	let rounds = 100_000_000u64;
	let (fuel, took) = job(&exec, &num, &[format!("--rounds={rounds}")], &[]);
	println!(
		"numeric {rounds} rounds: {:.2} s, {:.0} M rounds/s, {:.0} M fuel/s ({} fuel)",
		took.as_secs_f64(),
		rounds as f64 / took.as_secs_f64() / 1e6,
		fuel as f64 / took.as_secs_f64() / 1e6,
		fuel
	);

	for threads in [1usize, 2] {
		let per_thread = 200;
		let t = Instant::now();
		std::thread::scope(|s| {
			for _ in 0..threads {
				s.spawn(|| {
					for _ in 0..per_thread {
						job(&exec, &cow, &[], &env);
					}
				});
			}
		});
		let jobs = threads * per_thread;
		println!(
			"cowsay on {threads} thread(s): {:.0} jobs/s ({jobs} jobs)",
			jobs as f64 / t.elapsed().as_secs_f64()
		);
	}
}
