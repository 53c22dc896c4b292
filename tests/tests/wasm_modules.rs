//! The example modules (`modules/`, built for `wasm32-wasip1`) under the agent's real WASM
//! executor: what they output, and that a run is reproducible bit for bit, which a mediator's
//! re-run relies on.
use lilypad_client::content::digest_of;
use lilypad_e2e::rp::{example_module, run_wasm};
use lilypad_primitives::jobs::ExitStatus;
use lilypad_rp::{executor::Outcome, wasm::WasmExecutor};

/// Runs `wasm` in fresh directories; returns the outcome and the output archive's digest.
fn run(
	exec: &WasmExecutor,
	wasm: &[u8],
	args: &[&str],
	env: &[(&str, &str)],
	seed: [u8; 32],
) -> (Outcome, [u8; 32]) {
	let module = exec.module(&digest_of(wasm), || Ok(wasm.to_vec())).unwrap();
	run_wasm(exec, &module, args, env, seed)
}

#[test]
fn cowsay_says_its_message() {
	let exec = WasmExecutor::new(None).unwrap();
	let wasm = example_module("cowsay");
	let (out, _) = run(&exec, &wasm, &[], &[("Message", "moo")], [0; 32]);
	assert_eq!(out.exit, ExitStatus::Success, "{}", String::from_utf8_lossy(&out.stderr));
	let text = String::from_utf8(out.stdout).unwrap();
	assert!(text.contains("< moo >") && text.contains("(oo)"), "{text}");
	// No message: the module's own failure, exit code 2.
	let (out, _) = run(&exec, &wasm, &[], &[], [0; 32]);
	assert_eq!(out.exit, ExitStatus::Failed { code: 2 });
	assert!(String::from_utf8_lossy(&out.stderr).contains("no Message input"));
}

#[test]
fn numeric_is_reproducible_across_runs_executors_and_seeds() {
	let wasm = example_module("numeric");
	let (a, b) = (WasmExecutor::new(None).unwrap(), WasmExecutor::new(None).unwrap());
	let (first, digest) = run(&a, &wasm, &["--rounds=200000"], &[], [1; 32]);
	assert_eq!(first.exit, ExitStatus::Success, "{}", String::from_utf8_lossy(&first.stderr));
	for (exec, seed) in [(&a, [1; 32]), (&b, [1; 32]), (&b, [9; 32])] {
		let (again, d) = run(exec, &wasm, &["--rounds=200000"], &[], seed);
		assert_eq!((again.stdout, d), (first.stdout.clone(), digest));
		// Fuel is counted per instruction: the same work costs the same fuel.
		assert_eq!(again.fuel_used, first.fuel_used);
	}
	let (other, d) = run(&a, &wasm, &["--rounds=200001"], &[], [1; 32]);
	assert_ne!((other.stdout, d), (first.stdout, digest));
}

#[test]
fn a_module_cached_on_disk_is_used_without_its_bytes() {
	let dir = tempfile::tempdir().unwrap();
	let wasm = example_module("cowsay");
	let digest = digest_of(&wasm);
	WasmExecutor::new(Some(dir.path().into()))
		.unwrap()
		.module(&digest, || Ok(wasm.clone()))
		.unwrap();
	// A new executor (an agent restarted) loads the compiled module from disk.
	let exec = WasmExecutor::new(Some(dir.path().into())).unwrap();
	exec.module(&digest, || panic!("compiled again instead of loaded from the cache")).unwrap();
	// Bytes that do not hash to the digest are refused.
	let err = WasmExecutor::new(None).unwrap().module(&[0; 32], || Ok(wasm.clone())).unwrap_err();
	assert!(err.to_string().contains("do not hash"), "{err}");
}
