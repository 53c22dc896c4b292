//! The WASM executor: runs a job's WASI (preview 1) module under wasmtime, contained and
//! deterministic.
//!
//! - **Contained.** The module sees only `/inputs` (read-only) and `/outputs` (read-write)
//!   through WASI preopens, the job's own parameters as environment and arguments, and
//!   nothing of the host: no host environment, no network, no other files.
//! - **Bounded.** A fuel budget bounds the instructions it executes (deterministically), an
//!   epoch deadline bounds its wall time, a resource limiter bounds its memory and tables, and
//!   stdout/stderr are captured up to a cap.
//! - **Deterministic.** NaNs are canonicalised, threads and non-deterministic relaxed SIMD are
//!   off, and the clocks and the randomness the module sees are virtual: seeded from the job,
//!   never from the host. The same module on the same inputs produces the same outputs on any
//!   provider, which is what a mediator's re-run checks (docs/design.md §5).
//!
//! Compiled modules are cached by content digest, in memory and on disk.
use std::{
	collections::HashMap,
	io::Read,
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use anyhow::Context;
use lilypad_primitives::{
	jobs::{ExitStatus, Usage},
	registry::Digest,
};
pub use wasmtime::Module;
use wasmtime::{Config, Engine, Linker, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{
	p2::pipe::MemoryOutputPipe, preview1::WasiP1Ctx, DirPerms, FilePerms, HostMonotonicClock,
	HostWallClock, I32Exit, RngCore, WasiCtxBuilder,
};

/// The exit code reported for a module that trapped (or could not be instantiated) rather than
/// exiting: not a code a WASI program can exit with through `proc_exit` on its own.
pub const TRAP_EXIT_CODE: i32 = -1;

/// How often the epoch ticks; wall-time deadlines are counted in ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The Unix time (seconds) the virtual wall clock starts at: 2026-01-01T00:00:00Z.
const VIRTUAL_EPOCH_SECS: u64 = 1_767_225_600;

/// What one run may use.
#[derive(Clone, Copy, Debug)]
pub struct WasmLimits {
	/// Instructions (roughly) the module may execute: the deterministic bound.
	pub fuel: u64,
	/// Wall time before it is interrupted.
	pub wall: Duration,
	/// Linear memory, in bytes, over all its memories.
	pub memory_bytes: usize,
	/// Bytes of stdout, and of stderr, kept; writing more traps the module.
	pub output_bytes: usize,
}

/// One run: the compiled module, what it is given and where its directories are.
pub struct WasmRun<'a> {
	pub module: &'a Module,
	/// Arguments after `argv[0]`.
	pub args: Vec<String>,
	/// The whole environment the module sees.
	pub env: Vec<(String, String)>,
	/// Host directory preopened read-only as `/inputs`.
	pub inputs: &'a Path,
	/// Host directory preopened read-write as `/outputs`.
	pub outputs: &'a Path,
	/// Seeds the module's randomness: the same seed, the same random bytes.
	pub seed: [u8; 32],
	pub limits: WasmLimits,
}

/// How a run ended and what it printed.
#[derive(Debug)]
pub struct RunOutcome {
	pub exit: ExitStatus,
	pub stdout: Vec<u8>,
	pub stderr: Vec<u8>,
	pub usage: Usage,
	/// Fuel the run consumed.
	pub fuel_used: u64,
	/// Why the module failed, when it trapped or could not start.
	pub failure: Option<String>,
}

/// Compiles, caches and runs WASI modules on one engine.
pub struct WasmExecutor {
	engine: Engine,
	linker: Linker<RunState>,
	compiled: Mutex<HashMap<Digest, Module>>,
	cache_dir: Option<PathBuf>,
	ticker_stop: Arc<AtomicBool>,
}

/// The engine settings every provider must share for runs to agree.
fn deterministic_config() -> Config {
	let mut config = Config::new();
	config
		.consume_fuel(true)
		.epoch_interruption(true)
		.cranelift_nan_canonicalization(true)
		.wasm_threads(false)
		.wasm_relaxed_simd(false)
		.relaxed_simd_deterministic(true)
		.max_wasm_stack(1 << 20);
	config
}

impl WasmExecutor {
	/// An executor whose compiled modules are also kept under `cache_dir`, if given.
	pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
		let engine = Engine::new(&deterministic_config()).context("create wasmtime engine")?;
		let mut linker = Linker::new(&engine);
		wasmtime_wasi::preview1::add_to_linker_sync(&mut linker, |s: &mut RunState| &mut s.wasi)
			.context("link WASI preview 1")?;
		if let Some(dir) = &cache_dir {
			std::fs::create_dir_all(dir)
				.with_context(|| format!("create module cache {}", dir.display()))?;
		}
		let ticker_stop = Arc::new(AtomicBool::new(false));
		let (engine2, stop) = (engine.clone(), ticker_stop.clone());
		std::thread::Builder::new()
			.name("wasm-epoch".into())
			.spawn(move || {
				while !stop.load(Ordering::Relaxed) {
					std::thread::sleep(EPOCH_TICK);
					engine2.increment_epoch();
				}
			})
			.context("start the epoch ticker")?;
		Ok(Self { engine, linker, compiled: Mutex::new(HashMap::new()), cache_dir, ticker_stop })
	}

	/// The compiled module with content digest `digest`: from memory, from the disk cache, or
	/// compiled from `bytes()` (which must hash to `digest`) and cached.
	pub fn module(
		&self,
		digest: &Digest,
		bytes: impl FnOnce() -> anyhow::Result<Vec<u8>>,
	) -> anyhow::Result<Module> {
		if let Some(m) = self.compiled.lock().expect("cache lock").get(digest) {
			return Ok(m.clone());
		}
		let cached =
			self.cache_dir.as_ref().map(|d| d.join(format!("{}.cwasm", hex::encode(digest))));
		let from_disk = cached.as_ref().filter(|p| p.is_file()).and_then(|p| {
			// SAFETY: the cache directory is the agent's own; only `Module::serialize` output
			// from this engine's configuration is written there, and wasmtime checks the
			// engine and version recorded in the file before using it.
			unsafe { Module::deserialize_file(&self.engine, p) }.ok()
		});
		let module = match from_disk {
			Some(m) => m,
			None => {
				let bytes = bytes()?;
				anyhow::ensure!(
					lilypad_client::content::digest_of(&bytes) == *digest,
					"module bytes do not hash to {}",
					hex::encode(digest)
				);
				let module = Module::from_binary(&self.engine, &bytes)
					.context("the module is not valid WebAssembly")?;
				if let Some(path) = &cached {
					let tmp = path.with_extension("tmp");
					if std::fs::write(&tmp, module.serialize()?).is_ok() {
						let _ = std::fs::rename(&tmp, path);
					}
				}
				module
			}
		};
		self.compiled.lock().expect("cache lock").insert(*digest, module.clone());
		Ok(module)
	}

	/// Compiles WebAssembly text or binary without caching (tests and tools).
	pub fn compile(&self, wasm_or_wat: &[u8]) -> anyhow::Result<Module> {
		Module::new(&self.engine, wasm_or_wat)
	}

	/// Runs a module to completion. An `Err` is the host's problem (its directories cannot be
	/// opened); anything the module does, including trapping, is an `Ok` outcome.
	pub fn run(&self, run: WasmRun) -> anyhow::Result<RunOutcome> {
		let stdout = MemoryOutputPipe::new(run.limits.output_bytes);
		let stderr = MemoryOutputPipe::new(run.limits.output_bytes);
		let mut wasi = WasiCtxBuilder::new();
		let mut argv = vec!["module".to_string()];
		argv.extend(run.args);
		wasi.args(&argv)
			.envs(&run.env)
			.stdout(stdout.clone())
			.stderr(stderr.clone())
			.wall_clock(VirtualWallClock::default())
			.monotonic_clock(VirtualMonotonicClock::default())
			.secure_random(SeededRng::new(&run.seed, b"secure"))
			.insecure_random(SeededRng::new(&run.seed, b"insecure"))
			.insecure_random_seed(u128::from_le_bytes(run.seed[..16].try_into().expect("16")))
			.allow_blocking_current_thread(true)
			.preopened_dir(run.inputs, "/inputs", DirPerms::READ, FilePerms::READ)
			.context("preopen the input directory")?
			.preopened_dir(run.outputs, "/outputs", DirPerms::all(), FilePerms::all())
			.context("preopen the output directory")?;
		let state = RunState {
			wasi: wasi.build_p1(),
			limiter: MemoryLimiter { max_bytes: run.limits.memory_bytes, denied: false, peak: 0 },
		};
		let mut store = Store::new(&self.engine, state);
		store.limiter(|s| &mut s.limiter);
		store.set_fuel(run.limits.fuel)?;
		let ticks = run.limits.wall.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1) as u64;
		store.set_epoch_deadline(ticks);
		store.epoch_deadline_trap();

		let started = Instant::now();
		let cpu_started = thread_cpu_time();
		let result = self
			.linker
			.instantiate(&mut store, run.module)
			.and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
			.and_then(|start| start.call(&mut store, ()));
		let wall = started.elapsed();
		let cpu = thread_cpu_time().saturating_sub(cpu_started);
		let fuel_used = run.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
		let denied = store.data().limiter.denied;
		let peak = store.data().limiter.peak;

		let (exit, failure) = match result {
			Ok(()) => (ExitStatus::Success, None),
			Err(e) => classify(e, denied),
		};
		let mut stderr = stderr.contents().to_vec();
		if let Some(why) = &failure {
			stderr.extend_from_slice(format!("\n[lilypad-rp] {why}\n").as_bytes());
		}
		Ok(RunOutcome {
			exit,
			stdout: stdout.contents().to_vec(),
			stderr,
			usage: Usage {
				wall_ms: wall.as_millis() as u64,
				cpu_ms: cpu.as_millis() as u64,
				peak_ram_mib: peak.div_ceil(1 << 20) as u32,
				gpu_ms: 0,
			},
			fuel_used,
			failure,
		})
	}
}

impl Drop for WasmExecutor {
	fn drop(&mut self) {
		self.ticker_stop.store(true, Ordering::Relaxed);
	}
}

/// How a run that did not return from `_start` ended.
fn classify(e: anyhow::Error, memory_denied: bool) -> (ExitStatus, Option<String>) {
	if let Some(exit) = e.downcast_ref::<I32Exit>() {
		return match exit.0 {
			0 => (ExitStatus::Success, None),
			code => (ExitStatus::Failed { code }, None),
		};
	}
	match e.downcast_ref::<Trap>() {
		Some(Trap::OutOfFuel) => (ExitStatus::TimedOut, Some("fuel exhausted".into())),
		Some(Trap::Interrupt) => (ExitStatus::TimedOut, Some("wall-time deadline passed".into())),
		_ if memory_denied => {
			(ExitStatus::OutOfMemory, Some(format!("memory limit reached: {}", root_cause(&e))))
		}
		Some(trap) => (ExitStatus::Failed { code: TRAP_EXIT_CODE }, Some(format!("trap: {trap}"))),
		None => (ExitStatus::Failed { code: TRAP_EXIT_CODE }, Some(root_cause(&e))),
	}
}

/// The innermost message of an error chain, without a backtrace.
fn root_cause(e: &anyhow::Error) -> String {
	e.root_cause().to_string().lines().next().unwrap_or_default().to_string()
}

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
	let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
	// SAFETY: `ts` is a valid out-pointer for the call.
	unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
	Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct RunState {
	wasi: WasiP1Ctx,
	limiter: MemoryLimiter,
}

/// Grants memory up to `max_bytes`; remembers the most it granted and whether it refused any.
struct MemoryLimiter {
	max_bytes: usize,
	denied: bool,
	peak: usize,
}

/// Table elements a module may have, so that tables cannot stand in for a memory bomb.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
	fn memory_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> anyhow::Result<bool> {
		if desired > self.max_bytes {
			self.denied = true;
			return Ok(false);
		}
		self.peak = self.peak.max(desired);
		Ok(true)
	}

	fn table_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> anyhow::Result<bool> {
		Ok(desired <= MAX_TABLE_ELEMENTS)
	}

	fn instances(&self) -> usize {
		1
	}

	fn memories(&self) -> usize {
		1
	}
}

/// A wall clock that starts at a fixed date and advances one millisecond per reading.
#[derive(Default)]
struct VirtualWallClock(AtomicU64);

impl HostWallClock for VirtualWallClock {
	fn resolution(&self) -> Duration {
		Duration::from_millis(1)
	}
	fn now(&self) -> Duration {
		let ms = self.0.fetch_add(1, Ordering::Relaxed);
		Duration::from_secs(VIRTUAL_EPOCH_SECS) + Duration::from_millis(ms)
	}
}

/// A monotonic clock that advances one millisecond per reading.
#[derive(Default)]
struct VirtualMonotonicClock(AtomicU64);

impl HostMonotonicClock for VirtualMonotonicClock {
	fn resolution(&self) -> u64 {
		1_000_000
	}
	fn now(&self) -> u64 {
		self.0.fetch_add(1, Ordering::Relaxed) * 1_000_000
	}
}

/// Random bytes from blake3's extendable output, keyed by the run's seed.
struct SeededRng(blake3::OutputReader);

impl SeededRng {
	fn new(seed: &[u8; 32], purpose: &[u8]) -> Self {
		let mut hasher = blake3::Hasher::new_keyed(seed);
		hasher.update(purpose);
		Self(hasher.finalize_xof())
	}
}

impl RngCore for SeededRng {
	fn next_u32(&mut self) -> u32 {
		let mut b = [0; 4];
		self.fill_bytes(&mut b);
		u32::from_le_bytes(b)
	}
	fn next_u64(&mut self) -> u64 {
		let mut b = [0; 8];
		self.fill_bytes(&mut b);
		u64::from_le_bytes(b)
	}
	fn fill_bytes(&mut self, dest: &mut [u8]) {
		self.0.read_exact(dest).expect("blake3 output is endless");
	}
	fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), cap_rand::Error> {
		self.fill_bytes(dest);
		Ok(())
	}
}
