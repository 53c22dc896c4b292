//! The WASM executor: runs a job's WASI (preview 1) module under wasmtime, contained and
//! deterministic.
//!
//! - **Contained.** The module sees only `/inputs` (read-only), `/outputs` (read-write) and
//!   its models at `/models/<name>` (read-only) through WASI preopens, the job's own
//!   parameters as environment and arguments, and nothing of the host: no host environment,
//!   no network, no other files.
//! - **Bounded.** A fuel budget bounds the instructions it executes (deterministically), an
//!   epoch deadline bounds its wall time, a resource limiter bounds its memory and tables, and
//!   stdout/stderr are captured up to a cap (stdout also streamed as it is written, without
//!   ever making the module wait).
//! - **Deterministic.** NaNs are canonicalised, threads and non-deterministic relaxed SIMD are
//!   off, and the clocks and the randomness the module sees are virtual: seeded from the job,
//!   never from the host. The same module on the same inputs produces the same outputs on any
//!   provider, which is what a mediator's re-run checks (docs/design.md §5).
//!
//! Compiled modules are cached by content digest, in memory and on disk.
use std::{
	collections::HashMap,
	io::Read,
	path::PathBuf,
	pin::Pin,
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc, Mutex,
	},
	task::{Context as TaskContext, Poll},
	time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use lilypad_primitives::{
	jobs::{ExitStatus, Usage},
	registry::{Artifact, Digest},
};
pub use wasmtime::Module;
use wasmtime::{Config, Engine, Linker, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{
	cli::{IsTerminal, StdoutStream},
	p2::{pipe::MemoryOutputPipe, OutputStream, Pollable, StreamError},
	preview1::WasiP1Ctx,
	DirPerms, FilePerms, HostMonotonicClock, HostWallClock, I32Exit, RngCore, WasiCtxBuilder,
};

use crate::executor::{self, model_mount_points, Executor, Fetch, Outcome, Request, StdoutTap};

/// The exit code reported for a module that trapped (or could not be instantiated) rather than
/// exiting: not a code a WASI program can exit with through `proc_exit` on its own.
pub const TRAP_EXIT_CODE: i32 = -1;

/// How often the epoch ticks; wall-time deadlines are counted in ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The Unix time (seconds) the virtual wall clock starts at: 2026-01-01T00:00:00Z.
const VIRTUAL_EPOCH_SECS: u64 = 1_767_225_600;

/// Compiles, caches and runs WASI modules on one engine. Clones share the engine and the
/// cache.
#[derive(Clone)]
pub struct WasmExecutor {
	engine: Engine,
	linker: Linker<RunState>,
	compiled: Arc<Mutex<HashMap<Digest, Module>>>,
	cache_dir: Option<PathBuf>,
	_ticker: Arc<Ticker>,
}

/// Stops the epoch ticker when the last clone of the executor goes.
struct Ticker(Arc<AtomicBool>);

impl Drop for Ticker {
	fn drop(&mut self) {
		self.0.store(true, Ordering::Relaxed);
	}
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
		Ok(Self {
			engine,
			linker,
			compiled: Arc::new(Mutex::new(HashMap::new())),
			cache_dir,
			_ticker: Arc::new(Ticker(ticker_stop)),
		})
	}

	fn cache_file(&self, digest: &Digest) -> Option<PathBuf> {
		self.cache_dir.as_ref().map(|d| d.join(format!("{}.cwasm", hex::encode(digest))))
	}

	/// The compiled module with content digest `digest`, if in memory or in the disk cache.
	pub fn cached(&self, digest: &Digest) -> Option<Module> {
		if let Some(m) = self.compiled.lock().expect("cache lock").get(digest) {
			return Some(m.clone());
		}
		let path = self.cache_file(digest).filter(|p| p.is_file())?;
		// SAFETY: the cache directory is the agent's own; only `Module::serialize` output
		// from this engine's configuration is written there, and wasmtime checks the engine
		// and version recorded in the file before using it.
		let module = unsafe { Module::deserialize_file(&self.engine, &path) }.ok()?;
		self.compiled.lock().expect("cache lock").insert(*digest, module.clone());
		Some(module)
	}

	/// The compiled module with content digest `digest`: from memory, from the disk cache, or
	/// compiled from `bytes()` (which must hash to `digest`) and cached.
	pub fn module(
		&self,
		digest: &Digest,
		bytes: impl FnOnce() -> anyhow::Result<Vec<u8>>,
	) -> anyhow::Result<Module> {
		if let Some(m) = self.cached(digest) {
			return Ok(m);
		}
		let bytes = bytes()?;
		anyhow::ensure!(
			lilypad_client::content::digest_of(&bytes) == *digest,
			"module bytes do not hash to {}",
			hex::encode(digest)
		);
		let module = Module::from_binary(&self.engine, &bytes)
			.context("the module is not valid WebAssembly")?;
		if let Some(path) = self.cache_file(digest) {
			let tmp = path.with_extension("tmp");
			if std::fs::write(&tmp, module.serialize()?).is_ok() {
				let _ = std::fs::rename(&tmp, path);
			}
		}
		self.compiled.lock().expect("cache lock").insert(*digest, module.clone());
		Ok(module)
	}

	/// Compiles WebAssembly text or binary without caching (tests and tools).
	pub fn compile(&self, wasm_or_wat: &[u8]) -> anyhow::Result<Module> {
		Module::new(&self.engine, wasm_or_wat)
	}

	/// Runs `module` to completion on this thread (wasmtime runs synchronously). An `Err` is
	/// the host's problem (its directories cannot be opened); anything the module does,
	/// including trapping, is an `Ok` outcome.
	pub fn run_module(&self, module: &Module, run: Request) -> anyhow::Result<Outcome> {
		let stdout = TappedPipe::new(run.limits.output_bytes, run.stdout.clone());
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
			.preopened_dir(&run.inputs, "/inputs", DirPerms::READ, FilePerms::READ)
			.context("preopen the input directory")?
			.preopened_dir(&run.outputs, "/outputs", DirPerms::all(), FilePerms::all())
			.context("preopen the output directory")?;
		for (model, point) in run.models.iter().zip(model_mount_points(&run.models)?) {
			wasi.preopened_dir(&model.path, &point, DirPerms::READ, FilePerms::READ)
				.with_context(|| format!("preopen {} at {point}", model.path.display()))?;
		}
		let state = RunState {
			wasi: wasi.build_p1(),
			limiter: MemoryLimiter {
				max_bytes: usize::try_from(run.limits.memory_bytes).unwrap_or(usize::MAX),
				denied: false,
				peak: 0,
			},
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
			.instantiate(&mut store, module)
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
		Ok(Outcome {
			exit,
			stdout: stdout.contents(),
			stderr,
			usage: Usage {
				wall_ms: wall.as_millis() as u64,
				cpu_ms: cpu.as_millis() as u64,
				peak_ram_mib: peak.div_ceil(1 << 20) as u32,
				gpu_ms: 0,
			},
			fuel_used: Some(fuel_used),
			failure,
		})
	}
}

impl Executor for WasmExecutor {
	/// Compiles the module (fetched if not cached), on a blocking thread.
	async fn prepare(&self, artifact: &Artifact, fetch: &impl Fetch) -> anyhow::Result<()> {
		let digest = wasm_digest(artifact)?;
		if self.cached(&digest).is_none() {
			let bytes = fetch.fetch(&digest, artifact_size(artifact)).await?;
			let me = self.clone();
			tokio::task::spawn_blocking(move || me.module(&digest, || Ok(bytes))).await??;
		}
		Ok(())
	}

	/// Runs the module on a blocking thread, one per job slot.
	async fn run(&self, artifact: &Artifact, request: Request) -> anyhow::Result<Outcome> {
		let module = self.cached(&wasm_digest(artifact)?).context("the module was not prepared")?;
		let me = self.clone();
		tokio::task::spawn_blocking(move || me.run_module(&module, request)).await?
	}
}

/// The digest of a WASM artifact.
fn wasm_digest(artifact: &Artifact) -> anyhow::Result<Digest> {
	match artifact {
		Artifact::Wasm { digest, .. } => Ok(*digest),
		Artifact::Docker { .. } => anyhow::bail!("the WASM engine runs WASM modules only"),
	}
}

/// The size the registry pins a WASM artifact to.
fn artifact_size(artifact: &Artifact) -> u64 {
	match artifact {
		Artifact::Wasm { size, .. } => *size,
		Artifact::Docker { .. } => 0,
	}
}

/// The module's stdout: kept in memory up to a cap (writing past it traps the module, as
/// wasmtime's `MemoryOutputPipe` does) and each write also sent to a [`StdoutTap`], which
/// never blocks.
#[derive(Clone)]
struct TappedPipe {
	capacity: usize,
	buffer: Arc<Mutex<Vec<u8>>>,
	tap: Option<StdoutTap>,
}

impl TappedPipe {
	fn new(capacity: usize, tap: Option<StdoutTap>) -> Self {
		Self { capacity, buffer: Arc::default(), tap }
	}

	fn contents(&self) -> Vec<u8> {
		self.buffer.lock().expect("pipe lock").clone()
	}

	/// Appends up to the cap; returns how much was taken.
	fn append(&self, bytes: &[u8]) -> usize {
		let mut buffer = self.buffer.lock().expect("pipe lock");
		let taken = bytes.len().min(self.capacity - buffer.len());
		buffer.extend_from_slice(&bytes[..taken]);
		executor::tap(&self.tap, &bytes[..taken]);
		taken
	}
}

impl IsTerminal for TappedPipe {
	fn is_terminal(&self) -> bool {
		false
	}
}

impl StdoutStream for TappedPipe {
	fn p2_stream(&self) -> Box<dyn OutputStream> {
		Box::new(self.clone())
	}

	fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
		Box::new(self.clone())
	}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for TappedPipe {
	fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
		let room = self.capacity - self.buffer.lock().expect("pipe lock").len();
		if bytes.len() > room {
			return Err(StreamError::Trap(anyhow::anyhow!("stdout beyond its cap")));
		}
		self.append(&bytes);
		Ok(())
	}

	fn flush(&mut self) -> Result<(), StreamError> {
		Ok(())
	}

	fn check_write(&mut self) -> Result<usize, StreamError> {
		let used = self.buffer.lock().expect("pipe lock").len();
		match self.capacity - used {
			0 => Err(StreamError::Closed),
			room => Ok(room),
		}
	}
}

#[wasmtime_wasi::async_trait]
impl Pollable for TappedPipe {
	async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for TappedPipe {
	fn poll_write(
		self: Pin<&mut Self>,
		_cx: &mut TaskContext<'_>,
		buf: &[u8],
	) -> Poll<std::io::Result<usize>> {
		Poll::Ready(Ok(self.append(buf)))
	}

	fn poll_flush(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
		Poll::Ready(Ok(()))
	}

	fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
		Poll::Ready(Ok(()))
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

#[cfg(test)]
mod tests {
	use super::*;
	use crate::executor::Limits;

	/// Writes "first\n" to stdout, then waits until `/inputs/go` exists (the test creates it
	/// only once "first" has reached it), copies what it holds to stdout, and exits.
	const STREAMING: &str = r#"(module
	  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
	  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
	  (memory (export "memory") 1)
	  (data (i32.const 128) "first\0a")
	  (data (i32.const 256) "go")
	  (func (export "_start")
	    (i32.store (i32.const 64) (i32.const 128)) (i32.store (i32.const 68) (i32.const 6))
	    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 40)))
	    (block $opened (loop $again
	      (br_if $opened (i32.eqz (call $path_open (i32.const 3) (i32.const 1) (i32.const 256)
	        (i32.const 2) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32))))
	      (br $again)))
	    (i32.store (i32.const 64) (i32.const 1024)) (i32.store (i32.const 68) (i32.const 4096))
	    (drop (call $fd_read (i32.load (i32.const 32)) (i32.const 64) (i32.const 1) (i32.const 40)))
	    (i32.store (i32.const 68) (i32.load (i32.const 40)))
	    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 40)))
	    (call $proc_exit (i32.const 0))))"#;

	#[tokio::test]
	async fn stdout_reaches_the_tap_while_the_module_runs() {
		let dir = tempfile::tempdir().unwrap();
		let (inputs, outputs) = (dir.path().join("inputs"), dir.path().join("outputs"));
		std::fs::create_dir_all(&inputs).unwrap();
		std::fs::create_dir_all(&outputs).unwrap();
		let go = inputs.join("go");
		let exec = WasmExecutor::new(None).unwrap();
		let module = exec.compile(STREAMING.as_bytes()).unwrap();
		let (tap, mut streamed) = tokio::sync::mpsc::unbounded_channel();
		let request = Request {
			args: vec![],
			env: vec![],
			inputs,
			outputs,
			models: Vec::new(),
			seed: [7; 32],
			name: "streaming".into(),
			limits: Limits {
				wall: Duration::from_secs(60),
				memory_bytes: 16 << 20,
				output_bytes: 1 << 20,
				cpu_millicores: 1_000,
				pids: 1,
				gpus: 0,
				fuel: u64::MAX,
			},
			stdout: Some(tap),
		};
		let running = tokio::task::spawn_blocking(move || exec.run_module(&module, request));
		let first = tokio::time::timeout(Duration::from_secs(30), streamed.recv()).await;
		// The module waits for `go`: it is still running, whatever arrived.
		let still_running = !running.is_finished();
		// Whole or not at all: written aside, then renamed into place.
		std::fs::write(go.with_extension("part"), b"second\n").unwrap();
		std::fs::rename(go.with_extension("part"), &go).unwrap();
		let outcome = running.await.unwrap().unwrap();
		let first = first.expect("stdout reached the tap in time").expect("a chunk");
		assert_eq!(&first[..], b"first\n");
		assert!(still_running, "the first chunk arrived only once the module had finished");
		assert_eq!(
			outcome.exit,
			ExitStatus::Success,
			"{}",
			String::from_utf8_lossy(&outcome.stderr)
		);
		assert_eq!(outcome.stdout, b"first\nsecond\n");
		let mut all = first.to_vec();
		while let Ok(chunk) = streamed.try_recv() {
			all.extend_from_slice(&chunk);
		}
		assert_eq!(all, outcome.stdout, "the tap saw stdout exactly");
	}
}
