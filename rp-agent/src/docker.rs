//! The Docker executor: runs a job's image as a hardened, throw-away container.
//!
//! - **Pinned.** A module names its image by the blake3 of its `docker save` tarball and the
//!   sha256 of its config (Docker's image id). An image already loaded is run by that id, which
//!   the engine derives from the config's content; otherwise the tarball is fetched, its blake3
//!   checked, loaded, and the config id checked before anything runs (locally built images have
//!   no registry digest to pin instead).
//! - **Contained.** No network, a read-only root filesystem with a small `/tmp` tmpfs, every
//!   capability dropped, no new privileges, an unprivileged user, memory (swap included), CPU
//!   and process limits, and the module's timeout, then a kill. Inputs are mounted read-only at
//!   `/inputs` and each model at `/models/<name>`; outputs are collected from a bind-mounted
//!   `/outputs` (`docker cp` cannot read a tmpfs).
//! - **GPUs** go through NVIDIA device requests, for jobs that need them.
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Duration,
};

use anyhow::Context;
use bollard::{
	errors::Error as DockerError,
	models::{ContainerCreateBody, DeviceRequest, HostConfig, HostConfigLogConfig},
	query_parameters::{
		CreateContainerOptionsBuilder, ImportImageOptionsBuilder, KillContainerOptionsBuilder,
		LogsOptionsBuilder, RemoveContainerOptionsBuilder, StatsOptionsBuilder,
	},
	Docker,
};
use futures::StreamExt;
use lilypad_primitives::{
	jobs::{ExitStatus, Usage},
	registry::{Artifact, Digest},
};

use crate::executor::{
	self, model_mount_points, Executor, Fetch, Limits, Outcome, Request, StdoutTap,
};

/// The user a module runs as: `nobody`, whatever the image says.
pub const MODULE_USER: &str = "65534:65534";
/// Size of the module's writable `/tmp`.
pub const TMPFS_MIB: u32 = 64;
/// Label that marks a container as one of this agent's jobs.
pub const JOB_LABEL: &str = "io.lilypad.job";

/// Why an image was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ImageRefused {
	/// The tarball is not the one the module names.
	ArchiveDigestMismatch { expected: Digest, found: Digest },
	/// The tarball loaded, but not as the image the module names.
	ConfigDigestMismatch { expected: Digest },
}

impl std::fmt::Display for ImageRefused {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::ArchiveDigestMismatch { expected, found } => write!(
				f,
				"image tarball has blake3 {}, the module names {}",
				hex::encode(found),
				hex::encode(expected)
			),
			Self::ConfigDigestMismatch { expected } => write!(
				f,
				"image tarball does not hold the image sha256:{} the module names",
				hex::encode(expected)
			),
		}
	}
}

impl std::error::Error for ImageRefused {}

/// The Docker engine, as this agent uses it.
pub struct DockerExecutor {
	docker: Docker,
	/// The largest image tarball it fetches.
	max_image_bytes: u64,
}

/// How long the logs of a stopped container may take to drain.
const LOGS_DRAIN: Duration = Duration::from_secs(30);

/// Docker's name for an image id.
pub fn image_id(config: &Digest) -> String {
	format!("sha256:{}", hex::encode(config))
}

/// The device requests for `gpus` NVIDIA GPUs: none for none.
pub fn gpu_requests(gpus: u8) -> Option<Vec<DeviceRequest>> {
	(gpus > 0).then(|| {
		vec![DeviceRequest {
			driver: Some("nvidia".into()),
			count: Some(gpus as i64),
			capabilities: Some(vec![vec!["gpu".into()]]),
			..Default::default()
		}]
	})
}

/// The container that runs `image` for `run`: every restriction in one place, so that tests
/// can read it. Refuses models that cannot be mounted safely.
pub fn container_config(image: &Digest, run: &Request) -> anyhow::Result<ContainerCreateBody> {
	let l = &run.limits;
	let mut binds = vec![
		format!("{}:/inputs:ro", run.inputs.display()),
		format!("{}:/outputs:rw", run.outputs.display()),
	];
	for (model, point) in run.models.iter().zip(model_mount_points(&run.models)?) {
		let host = model.path.display().to_string();
		// A `:` would split the bind somewhere else.
		anyhow::ensure!(
			!host.contains(':'),
			"model directory {host} holds a `:`: it cannot be bind-mounted"
		);
		binds.push(format!("{host}:{point}:ro"));
	}
	let host = HostConfig {
		network_mode: Some("none".into()),
		readonly_rootfs: Some(true),
		tmpfs: Some(HashMap::from([(
			"/tmp".into(),
			format!("rw,noexec,nosuid,nodev,size={TMPFS_MIB}m"),
		)])),
		cap_drop: Some(vec!["ALL".into()]),
		security_opt: Some(vec!["no-new-privileges".into()]),
		memory: Some(l.memory_bytes as i64),
		// Equal to `memory`: no swap on top of it.
		memory_swap: Some(l.memory_bytes as i64),
		nano_cpus: Some(l.cpu_millicores.max(1) as i64 * 1_000_000),
		pids_limit: Some(l.pids.max(1) as i64),
		binds: Some(binds),
		device_requests: gpu_requests(l.gpus),
		// The agent keeps stdout and stderr up to a cap; the engine's copy need not be larger.
		log_config: Some(HostConfigLogConfig {
			typ: Some("json-file".into()),
			config: Some(HashMap::from([
				("max-size".into(), format!("{}", l.output_bytes.max(1 << 20))),
				("max-file".into(), "1".into()),
			])),
		}),
		..Default::default()
	};
	Ok(ContainerCreateBody {
		image: Some(image_id(image)),
		cmd: Some(run.args.clone()),
		env: Some(run.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
		user: Some(MODULE_USER.into()),
		network_disabled: Some(true),
		labels: Some(HashMap::from([(JOB_LABEL.into(), run.name.clone())])),
		host_config: Some(host),
		..Default::default()
	})
}

impl DockerExecutor {
	/// Connects to the local engine (`DOCKER_HOST` or its Unix socket) and agrees an API
	/// version with it.
	pub async fn connect() -> anyhow::Result<Self> {
		let docker = Docker::connect_with_local_defaults()
			.context("connect to the Docker engine")?
			.negotiate_version()
			.await
			.context("reach the Docker engine")?;
		Ok(Self { docker, max_image_bytes: 2 << 30 })
	}

	/// Fetches image tarballs of at most `bytes`.
	pub fn with_max_image_bytes(self, bytes: u64) -> Self {
		Self { max_image_bytes: bytes, ..self }
	}

	/// Whether the image with config digest `config` is loaded.
	pub async fn has_image(&self, config: &Digest) -> anyhow::Result<bool> {
		match self.docker.inspect_image(&image_id(config)).await {
			Ok(_) => Ok(true),
			Err(DockerError::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
			Err(e) => Err(e).context("inspect image"),
		}
	}

	/// Makes the image `(archive, config)` runnable: already loaded, or loaded from `tarball`
	/// (called only when needed) after checking its blake3 and, once loaded, its config id.
	pub async fn ensure_image<F, Fut>(
		&self,
		archive: &Digest,
		config: &Digest,
		tarball: F,
	) -> anyhow::Result<()>
	where
		F: FnOnce() -> Fut,
		Fut: std::future::Future<Output = anyhow::Result<Vec<u8>>>,
	{
		if self.has_image(config).await? {
			return Ok(());
		}
		let bytes = tarball().await?;
		let found = lilypad_client::content::digest_of(&bytes);
		if found != *archive {
			return Err(ImageRefused::ArchiveDigestMismatch { expected: *archive, found }.into());
		}
		self.load(bytes).await?;
		if !self.has_image(config).await? {
			return Err(ImageRefused::ConfigDigestMismatch { expected: *config }.into());
		}
		Ok(())
	}

	/// `docker load`s a `docker save` tarball.
	pub async fn load(&self, tarball: Vec<u8>) -> anyhow::Result<()> {
		let mut progress = self.docker.import_image(
			ImportImageOptionsBuilder::default().quiet(true).build(),
			bollard::body_full(bytes::Bytes::from(tarball)),
			None,
		);
		while let Some(step) = progress.next().await {
			step.context("docker load")?;
		}
		Ok(())
	}

	/// Removes the image with config digest `config`, if loaded (tests, operators).
	pub async fn remove_image(&self, config: &Digest) -> anyhow::Result<()> {
		let opts =
			bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
		match self.docker.remove_image(&image_id(config), Some(opts), None).await {
			Ok(_) | Err(DockerError::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
			Err(e) => Err(e).context("remove image"),
		}
	}

	/// Runs the loaded image with config digest `image` as one container, to its end (or its
	/// timeout), and removes it. A module that fails, runs out of memory or time is an
	/// outcome; an engine that cannot run it is an error.
	pub async fn run_image(&self, image: &Digest, run: Request) -> anyhow::Result<Outcome> {
		let name = run.name.clone();
		// A container left by an earlier try of the same job (the agent was killed).
		self.remove(&name).await;
		self.docker
			.create_container(
				Some(CreateContainerOptionsBuilder::default().name(&name).build()),
				container_config(image, &run)?,
			)
			.await
			.context("create container")?;
		let outcome = self.run_created(&name, &run.limits, run.stdout).await;
		self.remove(&name).await;
		outcome
	}

	async fn run_created(
		&self,
		name: &str,
		limits: &Limits,
		tap: Option<StdoutTap>,
	) -> anyhow::Result<Outcome> {
		let started = std::time::Instant::now();
		self.docker.start_container(name, None).await.context("start container")?;
		// Its output, followed as it is written: streamed to the tap and kept up to the cap.
		let logs = {
			let (docker, name, cap) = (self.docker.clone(), name.to_owned(), limits.output_bytes);
			tokio::spawn(async move { follow_logs(&docker, &name, cap, tap).await })
		};
		// Usage, sampled while it runs: the engine forgets a container's counters at its end.
		let peak = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
		let sampler = {
			let (docker, name, peak) = (self.docker.clone(), name.to_owned(), peak.clone());
			tokio::spawn(async move {
				let opts = StatsOptionsBuilder::default().stream(true).build();
				let mut stats = docker.stats(&name, Some(opts));
				while let Some(Ok(s)) = stats.next().await {
					let cpu = s.cpu_stats.and_then(|c| c.cpu_usage).and_then(|u| u.total_usage);
					let mem = s.memory_stats.and_then(|m| m.max_usage.or(m.usage));
					peak.0.fetch_max(cpu.unwrap_or(0), Ordering::Relaxed);
					peak.1.fetch_max(mem.unwrap_or(0), Ordering::Relaxed);
				}
			})
		};
		let mut wait = self.docker.wait_container(name, None);
		let timed_out = tokio::time::timeout(limits.wall, wait.next()).await.is_err();
		if timed_out {
			let kill = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
			let _ = self.docker.kill_container(name, Some(kill)).await;
			// The kill is asynchronous: wait until the container has stopped.
			let mut wait = self.docker.wait_container(name, None);
			let _ = tokio::time::timeout(Duration::from_secs(30), wait.next()).await;
		}
		let wall_ms = started.elapsed().as_millis() as u64;
		let state = self
			.docker
			.inspect_container(name, None)
			.await
			.context("inspect container")?
			.state
			.unwrap_or_default();
		let code = state.exit_code.unwrap_or(-1) as i32;
		let exit = if timed_out {
			ExitStatus::TimedOut
		} else if state.oom_killed == Some(true) {
			ExitStatus::OutOfMemory
		} else if code == 0 {
			ExitStatus::Success
		} else {
			ExitStatus::Failed { code }
		};
		// The stream ends with the container; a stuck one is not waited on forever.
		let (stdout, stderr) = match tokio::time::timeout(LOGS_DRAIN, logs).await {
			Ok(read) => read.context("the log reader")??,
			Err(_) => anyhow::bail!("the container's logs did not end within {LOGS_DRAIN:?}"),
		};
		sampler.abort();
		let (cpu_ns, peak_bytes) = (peak.0.load(Ordering::Relaxed), peak.1.load(Ordering::Relaxed));
		let failure = match exit {
			ExitStatus::Success => None,
			ExitStatus::TimedOut => Some(format!("killed at its timeout of {:?}", limits.wall)),
			ExitStatus::OutOfMemory => {
				Some(format!("killed for exceeding {} MiB", limits.memory_bytes >> 20))
			}
			ExitStatus::Failed { code } => Some(match state.error.filter(|e| !e.is_empty()) {
				Some(e) => format!("exited with {code}: {e}"),
				None => format!("exited with {code}"),
			}),
		};
		Ok(Outcome {
			exit,
			stdout,
			stderr,
			usage: Usage {
				wall_ms,
				cpu_ms: cpu_ns / 1_000_000,
				peak_ram_mib: (peak_bytes >> 20) as u32,
				gpu_ms: if limits.gpus > 0 { wall_ms } else { 0 },
			},
			fuel_used: None,
			failure,
		})
	}

	/// Removes a container and its anonymous volumes, if it exists.
	async fn remove(&self, name: &str) {
		let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
		let _ = self.docker.remove_container(name, Some(opts)).await;
	}

	/// The engine's client, for tests and tools.
	pub fn client(&self) -> &Docker {
		&self.docker
	}
}

/// Follows container `name`'s stdout and stderr until it stops, each kept up to `cap` bytes;
/// stdout also goes to `tap` as it arrives.
async fn follow_logs(
	docker: &Docker,
	name: &str,
	cap: usize,
	tap: Option<StdoutTap>,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
	let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).follow(true).build();
	let mut logs = docker.logs(name, Some(opts));
	let (mut out, mut err) = (Vec::new(), Vec::new());
	while let Some(chunk) = logs.next().await {
		let (buf, bytes, is_stdout) = match chunk.context("read container logs")? {
			bollard::container::LogOutput::StdOut { message } => (&mut out, message, true),
			bollard::container::LogOutput::StdErr { message } => (&mut err, message, false),
			_ => continue,
		};
		let room = cap.saturating_sub(buf.len());
		let kept = &bytes[..bytes.len().min(room)];
		buf.extend_from_slice(kept);
		if is_stdout {
			executor::tap(&tap, kept);
		}
	}
	Ok((out, err))
}

impl Executor for DockerExecutor {
	/// Loads the image unless it is loaded, from its tarball fetched and checked.
	async fn prepare(&self, artifact: &Artifact, fetch: &impl Fetch) -> anyhow::Result<()> {
		let (archive, config) = image_digests(artifact)?;
		self.ensure_image(&archive, &config, || fetch.fetch(&archive, self.max_image_bytes)).await
	}

	/// Runs the image as the module's unprivileged user, who must be able to write its
	/// outputs.
	async fn run(&self, artifact: &Artifact, request: Request) -> anyhow::Result<Outcome> {
		let (_, config) = image_digests(artifact)?;
		use std::os::unix::fs::PermissionsExt;
		std::fs::set_permissions(&request.outputs, std::fs::Permissions::from_mode(0o777))?;
		self.run_image(&config, request).await
	}
}

/// The tarball's and the config's digests of a Docker artifact.
fn image_digests(artifact: &Artifact) -> anyhow::Result<(Digest, Digest)> {
	match artifact {
		Artifact::Docker { archive_digest, config_digest } => Ok((*archive_digest, *config_digest)),
		Artifact::Wasm { .. } => anyhow::bail!("the Docker engine runs Docker images only"),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	use std::path::Path;

	use crate::executor::ModelMount;

	fn run(dir: &Path, gpus: u8) -> Request {
		Request {
			args: vec!["--rounds=3".into()],
			env: vec![("Message".into(), "hi".into())],
			inputs: dir.into(),
			outputs: dir.into(),
			models: Vec::new(),
			seed: [0; 32],
			name: "lilypad-job-1".into(),
			limits: Limits {
				memory_bytes: 256 << 20,
				cpu_millicores: 1_500,
				pids: 64,
				wall: Duration::from_secs(5),
				output_bytes: 1 << 20,
				gpus,
				fuel: 0,
			},
			stdout: None,
		}
	}

	#[test]
	fn containers_are_locked_down() {
		let dir = Path::new("/srv/job");
		let c = container_config(&[7; 32], &run(dir, 0)).unwrap();
		let h = c.host_config.as_ref().unwrap();
		assert_eq!(c.image.as_deref(), Some(&*format!("sha256:{}", "07".repeat(32))));
		assert_eq!(c.user.as_deref(), Some(MODULE_USER));
		assert_eq!(c.network_disabled, Some(true));
		assert_eq!(c.env, Some(vec!["Message=hi".to_string()]));
		assert_eq!(h.network_mode.as_deref(), Some("none"));
		assert_eq!(h.readonly_rootfs, Some(true));
		assert_eq!(h.cap_drop, Some(vec!["ALL".to_string()]));
		assert_eq!(h.security_opt, Some(vec!["no-new-privileges".to_string()]));
		assert_eq!(h.memory, Some(256 << 20));
		assert_eq!(h.memory_swap, h.memory, "no swap beyond the memory limit");
		assert_eq!(h.nano_cpus, Some(1_500_000_000));
		assert_eq!(h.pids_limit, Some(64));
		assert!(h.tmpfs.as_ref().unwrap()["/tmp"].contains("size=64m"));
		assert_eq!(
			h.binds,
			Some(vec!["/srv/job:/inputs:ro".to_string(), "/srv/job:/outputs:rw".to_string()])
		);
		assert_eq!(h.device_requests, None, "no GPU asked, none given");
	}

	#[test]
	fn gpu_jobs_get_nvidia_device_requests() {
		let dir = Path::new("/srv/job");
		let c = container_config(&[7; 32], &run(dir, 2)).unwrap();
		let requests = c.host_config.unwrap().device_requests.unwrap();
		assert_eq!(requests.len(), 1);
		assert_eq!(requests[0].driver.as_deref(), Some("nvidia"));
		assert_eq!(requests[0].count, Some(2));
		assert_eq!(requests[0].capabilities, Some(vec![vec!["gpu".to_string()]]));
		assert_eq!(gpu_requests(0), None);
	}

	#[test]
	fn models_are_bind_mounted_read_only() {
		let dir = Path::new("/srv/job");
		let mut request = run(dir, 0);
		request.models = vec![
			ModelMount { name: "smollm2".into(), path: "/var/lib/rp/models/ab12".into() },
			ModelMount { name: "tokenizer".into(), path: "/var/lib/rp/models/cd34".into() },
		];
		let binds = container_config(&[7; 32], &request).unwrap().host_config.unwrap().binds;
		assert_eq!(
			binds.unwrap(),
			[
				"/srv/job:/inputs:ro",
				"/srv/job:/outputs:rw",
				"/var/lib/rp/models/ab12:/models/smollm2:ro",
				"/var/lib/rp/models/cd34:/models/tokenizer:ro",
			]
		);
		// Names and paths that would mount elsewhere are refused.
		for (name, path) in [("../etc", "/m"), ("a:b", "/m"), ("", "/m"), ("ok", "/m:/etc")] {
			request.models = vec![ModelMount { name: name.into(), path: path.into() }];
			assert!(container_config(&[7; 32], &request).is_err(), "{name:?} at {path:?}");
		}
	}
}
