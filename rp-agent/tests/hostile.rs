//! Hostile WASM modules against the real executor (wasmtime, WASI preview 1): each is
//! contained and ends as a module failure (the provider did its work), and nothing outside
//! the job's directories is read or written.
use std::{path::Path, time::Duration};

use lilypad_primitives::jobs::ExitStatus;
use lilypad_rp::{
	executor::{Limits, ModelMount, Outcome, Request},
	wasm::{WasmExecutor, TRAP_EXIT_CODE},
};

const LIMITS: Limits = Limits {
	fuel: 50_000_000,
	wall: Duration::from_secs(10),
	memory_bytes: 16 << 20,
	output_bytes: 1 << 20,
	cpu_millicores: 1_000,
	pids: 1,
	gpus: 0,
};

struct Sandbox {
	_dir: tempfile::TempDir,
	inputs: std::path::PathBuf,
	outputs: std::path::PathBuf,
}

fn sandbox() -> Sandbox {
	let dir = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (dir.path().join("inputs"), dir.path().join("outputs"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join("data.txt"), "input data").unwrap();
	Sandbox { _dir: dir, inputs, outputs }
}

fn run(wat: &str, sandbox: &Sandbox, limits: Limits) -> Outcome {
	run_with_models(wat, sandbox, limits, Vec::new())
}

fn run_with_models(
	wat: &str,
	sandbox: &Sandbox,
	limits: Limits,
	models: Vec<ModelMount>,
) -> Outcome {
	let exec = WasmExecutor::new(None).unwrap();
	let module = exec.compile(wat.as_bytes()).expect("the test module compiles");
	exec.run_module(
		&module,
		Request {
			args: vec![],
			env: vec![],
			inputs: sandbox.inputs.clone(),
			outputs: sandbox.outputs.clone(),
			models,
			seed: [7; 32],
			name: "hostile".into(),
			limits,
			stdout: None,
		},
	)
	.expect("the host side works")
}

/// A module that opens `path` relative to preopen `fd` (3 is /inputs, 4 is /outputs, 5 on the
/// models in order) with `oflags` and `rights`, then copies up to 4 KiB of it to stdout
/// (reading) or writes "pwned" into it (writing) and exits 0; if the open fails it exits with
/// the errno.
fn open_module(fd: u32, path: &str, oflags: u32, rights: u64, write: bool) -> String {
	let then = if write {
		// iovec at 64: "pwned" at 128
		r#"(i32.store (i32.const 64) (i32.const 128)) (i32.store (i32.const 68) (i32.const 5))
		   (drop (call $fd_write (i32.load (i32.const 32)) (i32.const 64) (i32.const 1) (i32.const 40)))"#
	} else {
		r#"(i32.store (i32.const 64) (i32.const 1024)) (i32.store (i32.const 68) (i32.const 4096))
		   (drop (call $fd_read (i32.load (i32.const 32)) (i32.const 64) (i32.const 1) (i32.const 40)))
		   (i32.store (i32.const 68) (i32.load (i32.const 40)))
		   (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 40)))"#
	};
	format!(
		r#"(module
		  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
		  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
		  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
		  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
		  (memory (export "memory") 1)
		  (data (i32.const 128) "pwned")
		  (data (i32.const 256) "{path}")
		  (func (export "_start") (local $errno i32)
		    (local.set $errno (call $path_open (i32.const {fd}) (i32.const 1) (i32.const 256) (i32.const {len})
		      (i32.const {oflags}) (i64.const {rights}) (i64.const 0) (i32.const 0) (i32.const 32)))
		    (if (local.get $errno) (then (call $proc_exit (local.get $errno))))
		    {then}
		    (call $proc_exit (i32.const 0))))"#,
		len = path.len(),
	)
}

const FD_READ: u64 = 1 << 1;
const FD_WRITE: u64 = 1 << 6;
const O_CREAT: u32 = 1;

fn assert_failed(outcome: &Outcome) {
	match outcome.exit {
		ExitStatus::Failed { code } => assert_ne!(code, 0),
		other => panic!(
			"expected a failed module, got {other:?}; stderr {:?}",
			String::from_utf8_lossy(&outcome.stderr)
		),
	}
}

#[test]
fn a_module_may_read_its_inputs_and_write_its_outputs() {
	// The control for the tests below: the same module, inside its directories, works.
	let s = sandbox();
	let read = run(&open_module(3, "data.txt", 0, FD_READ, false), &s, LIMITS);
	assert_eq!(read.exit, ExitStatus::Success, "{:?}", String::from_utf8_lossy(&read.stderr));
	assert_eq!(read.stdout, b"input data");
	let wrote = run(&open_module(4, "result.txt", O_CREAT, FD_WRITE, true), &s, LIMITS);
	assert_eq!(wrote.exit, ExitStatus::Success);
	assert_eq!(std::fs::read(s.outputs.join("result.txt")).unwrap(), b"pwned");
}

#[test]
fn a_model_is_mounted_read_only() {
	let s = sandbox();
	// Writable on the host: the mount alone keeps the module from changing it.
	let weights = s.inputs.parent().unwrap().join("model");
	std::fs::create_dir_all(&weights).unwrap();
	std::fs::write(weights.join("weights.gguf"), "the weights").unwrap();
	let models = || vec![ModelMount { name: "m".into(), path: weights.clone() }];

	let read =
		run_with_models(&open_module(5, "weights.gguf", 0, FD_READ, false), &s, LIMITS, models());
	assert_eq!(read.exit, ExitStatus::Success, "{:?}", String::from_utf8_lossy(&read.stderr));
	assert_eq!(read.stdout, b"the weights");
	// Creating a file, and writing the weights, are both refused.
	for (path, oflags) in [("new.txt", O_CREAT), ("weights.gguf", 0)] {
		let wat = open_module(5, path, oflags, FD_WRITE, true);
		assert_failed(&run_with_models(&wat, &s, LIMITS, models()));
	}
	assert!(!weights.join("new.txt").exists());
	assert_eq!(std::fs::read(weights.join("weights.gguf")).unwrap(), b"the weights");
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
	let s = sandbox();
	let wat = r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#;
	let outcome = run(wat, &s, LIMITS);
	assert_eq!(outcome.exit, ExitStatus::TimedOut);
	assert_eq!(outcome.fuel_used, Some(LIMITS.fuel));
	assert!(String::from_utf8_lossy(&outcome.stderr).contains("fuel exhausted"));
}

#[test]
fn an_infinite_loop_with_fuel_to_spare_hits_the_wall_time_deadline() {
	let s = sandbox();
	let wat = r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#;
	let limits = Limits { fuel: u64::MAX, wall: Duration::from_millis(300), ..LIMITS };
	let started = std::time::Instant::now();
	let outcome = run(wat, &s, limits);
	assert_eq!(outcome.exit, ExitStatus::TimedOut);
	assert!(String::from_utf8_lossy(&outcome.stderr).contains("wall-time deadline"));
	// Interrupted, not left running: well before a default test timeout.
	assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_limit() {
	let s = sandbox();
	// Grows memory by 1 MiB until refused, then traps, as an allocator's abort would.
	let wat = r#"(module (memory (export "memory") 1)
	  (func (export "_start")
	    (loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
	    unreachable))"#;
	let outcome = run(wat, &s, LIMITS);
	assert_eq!(outcome.exit, ExitStatus::OutOfMemory);
	assert!(outcome.usage.peak_ram_mib <= 16, "{:?}", outcome.usage);
	assert!(outcome.usage.peak_ram_mib >= 15, "{:?}", outcome.usage);
}

#[test]
fn a_module_asking_for_more_initial_memory_than_allowed_does_not_start() {
	let s = sandbox();
	let wat = r#"(module (memory (export "memory") 1024) (func (export "_start")))"#;
	assert_eq!(run(wat, &s, LIMITS).exit, ExitStatus::OutOfMemory);
}

#[test]
fn reads_outside_the_input_directory_are_refused() {
	let s = sandbox();
	let secret = s.inputs.parent().unwrap().join("secret.txt");
	std::fs::write(&secret, "host secret").unwrap();
	for path in ["../secret.txt", "/etc/passwd", "../../../../../../etc/passwd"] {
		let outcome = run(&open_module(3, path, 0, FD_READ, false), &s, LIMITS);
		assert_failed(&outcome);
		assert!(
			outcome.stdout.is_empty(),
			"{path}: read {:?}",
			String::from_utf8_lossy(&outcome.stdout)
		);
	}
}

#[test]
fn a_symlink_out_of_the_output_directory_is_not_followed() {
	let s = sandbox();
	let wat = r#"(module
	  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 256) "/etc/passwd")
	  (data (i32.const 300) "link")
	  (func (export "_start")
	    (drop (call $path_symlink (i32.const 256) (i32.const 11) (i32.const 4) (i32.const 300) (i32.const 4)))
	    (call $proc_exit (call $path_open (i32.const 4) (i32.const 1) (i32.const 300) (i32.const 4)
	      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))))"#;
	assert_failed(&run(wat, &s, LIMITS));
}

#[test]
fn writes_outside_the_output_directory_are_refused() {
	let s = sandbox();
	let parent = s.outputs.parent().unwrap().to_path_buf();
	// Into the read-only inputs, next to the outputs, and at an absolute path.
	for (fd, path) in [(3, "evil.txt"), (4, "../evil.txt"), (4, "/tmp/lilypad-evil.txt")] {
		let outcome = run(&open_module(fd, path, O_CREAT, FD_WRITE, true), &s, LIMITS);
		assert_failed(&outcome);
	}
	assert!(!s.inputs.join("evil.txt").exists());
	assert!(!parent.join("evil.txt").exists());
	assert!(!Path::new("/tmp/lilypad-evil.txt").exists());
	assert_eq!(std::fs::read_dir(&s.outputs).unwrap().count(), 0);
}

#[test]
fn a_trap_is_a_module_failure_with_its_reason_on_stderr() {
	let s = sandbox();
	let wat = r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#;
	let outcome = run(wat, &s, LIMITS);
	assert_eq!(outcome.exit, ExitStatus::Failed { code: TRAP_EXIT_CODE });
	assert!(
		String::from_utf8_lossy(&outcome.stderr).contains("trap"),
		"{:?}",
		String::from_utf8_lossy(&outcome.stderr)
	);
}

#[test]
fn the_host_environment_clock_and_randomness_do_not_leak_in() {
	let s = sandbox();
	// Writes environ_sizes_get's count, clock_time_get's time and 8 random bytes to stdout.
	let wat = r#"(module
	  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
	  (memory (export "memory") 1)
	  (func (export "_start")
	    (drop (call $env (i32.const 100) (i32.const 104)))
	    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 112)))
	    (drop (call $random (i32.const 120) (i32.const 8)))
	    (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 28))
	    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
	let a = run(wat, &s, LIMITS);
	std::thread::sleep(Duration::from_millis(20));
	let b = run(wat, &s, LIMITS);
	assert_eq!(a.exit, ExitStatus::Success, "{}", String::from_utf8_lossy(&a.stderr));
	assert_eq!(&a.stdout[..4], &0u32.to_le_bytes(), "the host environment leaked in");
	// Same seed, same clock readings and same random bytes, whenever it runs.
	assert_eq!(a.stdout, b.stdout);
	let wall_ns = u64::from_le_bytes(a.stdout[12..20].try_into().unwrap());
	// The virtual clock's 2026-01-01, not the host's time.
	assert_eq!(wall_ns / 1_000_000_000, 1_767_225_600, "the host clock leaked in");
}
