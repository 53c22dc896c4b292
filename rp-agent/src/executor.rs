//! One interface for every engine that runs a module: an [`Executor`] makes an artifact
//! runnable ([`Executor::prepare`]), then runs a [`Request`] (directories, arguments,
//! environment, limits) to one [`Outcome`], streaming the process's stdout while it runs.
//! The WASM engine ([`crate::wasm`]) and the Docker engine ([`crate::docker`]) implement it;
//! the job runner ([`crate::runner`]) knows only this interface.
use std::{future::Future, path::PathBuf, time::Duration};

use lilypad_primitives::{
	jobs::{ExitStatus, Usage},
	registry::{Artifact, Digest},
};

use crate::metrics::Engine;

/// Where the chunks of a run's stdout go as the module writes them: the bytes of the
/// [`Outcome`]'s `stdout`, in order, up to the output cap. Unbounded, so that a slow reader
/// never blocks the module (a blocked WASM guest would run into its wall-clock deadline and
/// change the outcome); what it holds is bounded by the output cap.
pub type StdoutTap = tokio::sync::mpsc::UnboundedSender<bytes::Bytes>;

/// What one run may use. Each engine enforces those it can: WASM meters fuel and memory,
/// Docker memory, CPU, processes and GPUs; both the wall time and the output cap.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
	/// Wall time before the run is stopped.
	pub wall: Duration,
	/// Memory, in bytes (a WASM module's linear memories; a container's memory, swap
	/// included).
	pub memory_bytes: u64,
	/// Bytes of stdout, and of stderr, kept.
	pub output_bytes: usize,
	/// CPU in thousandths of a core (Docker).
	pub cpu_millicores: u32,
	/// Processes and threads (Docker).
	pub pids: u32,
	/// NVIDIA GPUs given (Docker).
	pub gpus: u8,
	/// Instructions (roughly) a WASM module may execute: the deterministic bound.
	pub fuel: u64,
}

/// One run of a prepared artifact.
#[derive(Clone, Debug)]
pub struct Request {
	/// Arguments after the module's own name (WASM) or the image's entrypoint (Docker).
	pub args: Vec<String>,
	/// The whole environment the module is given (an image's own is kept beneath it).
	pub env: Vec<(String, String)>,
	/// Host directory the module reads, read-only, as `/inputs`.
	pub inputs: PathBuf,
	/// Host directory the module writes as `/outputs`.
	pub outputs: PathBuf,
	/// Models mounted read-only, each at `/models/<name>`.
	pub models: Vec<ModelMount>,
	/// Seeds the module's randomness (WASM): the same on every provider that runs the job.
	pub seed: [u8; 32],
	/// Names the run for operators and for clean-up (a container's name).
	pub name: String,
	pub limits: Limits,
	/// Receives stdout while the module runs, if set.
	pub stdout: Option<StdoutTap>,
}

/// Where a run sees its models.
pub const MODELS_DIR: &str = "/models";

/// A model's weights, mounted read-only into a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelMount {
	/// The model's name: mounted at `/models/<name>`.
	pub name: String,
	/// Host directory holding the weights (a [`crate::models::ModelCache`] entry).
	pub path: PathBuf,
}

impl ModelMount {
	/// Where the run sees the model, `/models/<name>`. The chain allows only slugs as names;
	/// this refuses again, before anything is mounted, a name that could reach elsewhere.
	pub fn mount_point(&self) -> Result<String> {
		let name = &self.name;
		let unsafe_char = |c: char| matches!(c, '/' | ':' | '\0');
		anyhow::ensure!(
			!name.is_empty() && name != "." && !name.contains("..") && !name.contains(unsafe_char),
			"model name {name:?} cannot be mounted: a name must be non-empty and hold no `/`, \
			 `..`, `:` or NUL"
		);
		Ok(format!("{MODELS_DIR}/{name}"))
	}
}

/// The mount point of each of `models`, in order; refuses a name that cannot be mounted or
/// one named twice.
pub fn model_mount_points(models: &[ModelMount]) -> Result<Vec<String>> {
	let mut points: Vec<String> = Vec::with_capacity(models.len());
	for model in models {
		let point = model.mount_point()?;
		anyhow::ensure!(!points.contains(&point), "model {:?} is mounted twice", model.name);
		points.push(point);
	}
	Ok(points)
}

/// How a run ended and what it printed. A module that fails, traps, runs out of memory or
/// time is an outcome; only the host's own failures (an engine that cannot run it) are
/// errors.
#[derive(Debug)]
pub struct Outcome {
	pub exit: ExitStatus,
	pub stdout: Vec<u8>,
	pub stderr: Vec<u8>,
	pub usage: Usage,
	/// Fuel the run consumed, for engines that meter it (WASM).
	pub fuel_used: Option<u64>,
	/// Why the module failed, when it did.
	pub failure: Option<String>,
}

/// Fetches a blob by its blake3 digest (from the agent's store or its peers), refusing more
/// than `max_bytes`.
pub trait Fetch: Sync {
	fn fetch(
		&self,
		digest: &Digest,
		max_bytes: u64,
	) -> impl Future<Output = Result<Vec<u8>>> + Send;
}

type Result<T> = anyhow::Result<T>;

/// An engine that runs modules.
pub trait Executor: Sync {
	/// Makes `artifact` runnable (fetching it through `fetch` if it is not here yet) and
	/// checks it is the one the registry pins. Idempotent: a prepared artifact stays prepared.
	fn prepare(
		&self,
		artifact: &Artifact,
		fetch: &impl Fetch,
	) -> impl Future<Output = Result<()>> + Send;

	/// Runs the prepared `artifact` to its end, or its limits.
	fn run(
		&self,
		artifact: &Artifact,
		request: Request,
	) -> impl Future<Output = Result<Outcome>> + Send;
}

/// Sends `chunk` to `tap`, if any; once its receiver is gone, chunks are dropped.
pub(crate) fn tap(tap: &Option<StdoutTap>, chunk: &[u8]) {
	if let Some(tap) = tap {
		if !chunk.is_empty() {
			let _ = tap.send(bytes::Bytes::copy_from_slice(chunk));
		}
	}
}

/// The engine an artifact needs, as the metrics name it.
pub fn engine_of(artifact: &Artifact) -> Engine {
	match artifact {
		Artifact::Wasm { .. } => Engine::Wasm,
		Artifact::Docker { .. } => Engine::Docker,
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn mount(name: &str) -> ModelMount {
		ModelMount { name: name.into(), path: "/cache/models/ab".into() }
	}

	#[test]
	fn models_are_mounted_under_models_by_name() {
		assert_eq!(mount("smollm2-135m").mount_point().unwrap(), "/models/smollm2-135m");
		let points = model_mount_points(&[mount("a"), mount("b")]).unwrap();
		assert_eq!(points, ["/models/a", "/models/b"]);
	}

	#[test]
	fn a_name_that_could_reach_outside_its_mount_is_refused() {
		for bad in ["", ".", "..", "a/b", "../etc", "a..b", "a:b", "a\0b", "/abs"] {
			let err = mount(bad).mount_point().unwrap_err();
			assert!(err.to_string().contains("cannot be mounted"), "{bad:?}: {err}");
		}
		let err = model_mount_points(&[mount("a"), mount("a")]).unwrap_err();
		assert!(err.to_string().contains("twice"), "{err}");
	}
}
