//! The agent's Docker executor against the real engine: the example images (`FROM scratch`,
//! static binaries, built by `scripts/build-images.sh`) loaded from their tarballs and run, an
//! image refused when its tarball or config is not the one pinned, and hostile containers
//! contained, each ending as the module's failure.
use std::{
	net::TcpListener,
	path::{Path, PathBuf},
	time::Duration,
};

use lilypad_client::content::digest_of;
use lilypad_e2e::rp::{docker_image, Image};
use lilypad_primitives::jobs::ExitStatus;
use lilypad_rp::{
	archive::canonical_archive,
	docker::{DockerExecutor, ImageRefused, JOB_LABEL},
	executor::{Limits, Outcome, Request},
};

const LIMITS: Limits = Limits {
	memory_bytes: 64 << 20,
	cpu_millicores: 1_000,
	pids: 32,
	wall: Duration::from_secs(20),
	output_bytes: 1 << 20,
	gpus: 0,
	fuel: 0,
};

/// A job's directories: inputs (with one file) and outputs writable by the module's user.
struct Dirs {
	_root: tempfile::TempDir,
	inputs: PathBuf,
	outputs: PathBuf,
}

fn dirs() -> Dirs {
	use std::os::unix::fs::PermissionsExt;
	let root = tempfile::tempdir().unwrap();
	let (inputs, outputs) = (root.path().join("inputs"), root.path().join("outputs"));
	std::fs::create_dir_all(&inputs).unwrap();
	std::fs::create_dir_all(&outputs).unwrap();
	std::fs::write(inputs.join("given"), b"an input").unwrap();
	std::fs::set_permissions(&outputs, std::fs::Permissions::from_mode(0o777)).unwrap();
	Dirs { _root: root, inputs, outputs }
}

/// Loads `image` from its tarball (after removing any loaded copy, so the load path runs).
async fn loaded(docker: &DockerExecutor, image: &Image) {
	docker.remove_image(&image.config).await.unwrap();
	assert!(!docker.has_image(&image.config).await.unwrap());
	let tarball = image.tarball.clone();
	docker.ensure_image(&image.archive, &image.config, || async { Ok(tarball) }).await.unwrap();
	assert!(docker.has_image(&image.config).await.unwrap());
}

async fn run(
	docker: &DockerExecutor,
	image: &Image,
	name: &str,
	args: &[&str],
	env: &[(&str, &str)],
	limits: Limits,
	dirs: &Dirs,
) -> Outcome {
	let (tap, mut streamed) = tokio::sync::mpsc::unbounded_channel();
	let request = Request {
		args: args.iter().map(|s| s.to_string()).collect(),
		env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
		inputs: dirs.inputs.clone(),
		outputs: dirs.outputs.clone(),
		models: Vec::new(),
		seed: [0; 32],
		name: format!("lilypad-test-{name}"),
		limits,
		stdout: Some(tap),
	};
	let outcome = docker.run_image(&image.config, request).await.unwrap();
	// What was streamed while it ran is exactly the stdout it is judged by.
	let mut seen = Vec::new();
	while let Some(chunk) = streamed.recv().await {
		seen.extend_from_slice(&chunk);
	}
	assert_eq!(seen, outcome.stdout, "the streamed stdout");
	outcome
}

/// This process's test containers still present (there must be none after a run).
async fn leftover_containers(docker: &DockerExecutor, name: &str) -> usize {
	use bollard::query_parameters::ListContainersOptionsBuilder;
	let filters = std::collections::HashMap::from([(
		"label".to_string(),
		vec![format!("{JOB_LABEL}=lilypad-test-{name}")],
	)]);
	let opts = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
	docker.client().list_containers(Some(opts)).await.unwrap().len()
}

fn files(dir: &Path) -> Vec<String> {
	let mut names: Vec<String> = std::fs::read_dir(dir)
		.unwrap()
		.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
		.collect();
	names.sort();
	names
}

#[tokio::test]
async fn example_images_load_from_their_tarballs_and_run_reproducibly() {
	let docker = DockerExecutor::connect().await.expect("a Docker engine");
	let (cowsay, numeric) = (docker_image("cowsay"), docker_image("numeric"));
	loaded(&docker, &cowsay).await;
	loaded(&docker, &numeric).await;

	let d = dirs();
	let out =
		run(&docker, &cowsay, "cowsay", &[], &[("Message", "moo from docker")], LIMITS, &d).await;
	assert_eq!(out.exit, ExitStatus::Success, "{}", String::from_utf8_lossy(&out.stderr));
	let cow = std::fs::read_to_string(d.outputs.join("cow.txt")).unwrap();
	assert!(cow.contains("< moo from docker >") && cow.contains("(oo)"), "{cow}");
	assert_eq!(out.stdout, cow.as_bytes());
	assert!(out.usage.wall_ms > 0);
	assert_eq!(leftover_containers(&docker, "cowsay").await, 0, "the container is removed");

	// Without its input: the module's own failure, with its message.
	let d = dirs();
	let out = run(&docker, &cowsay, "cowsay", &[], &[], LIMITS, &d).await;
	assert_eq!(out.exit, ExitStatus::Failed { code: 2 });
	assert!(String::from_utf8_lossy(&out.stderr).contains("no Message input"));

	// The same inputs, the same output archive: what a mediator's re-run relies on.
	let mut digests = Vec::new();
	for _ in 0..2 {
		let d = dirs();
		let out = run(&docker, &numeric, "numeric", &["--rounds=100000"], &[], LIMITS, &d).await;
		assert_eq!(out.exit, ExitStatus::Success, "{}", String::from_utf8_lossy(&out.stderr));
		assert_eq!(files(&d.outputs), ["result.txt"]);
		digests.push(digest_of(&canonical_archive(&d.outputs, 1 << 20).unwrap()));
	}
	assert_eq!(digests[0], digests[1]);
}

#[tokio::test]
async fn an_image_that_is_not_the_one_pinned_is_refused_before_it_runs() {
	let docker = DockerExecutor::connect().await.expect("a Docker engine");
	let (cowsay, numeric) = (docker_image("cowsay"), docker_image("numeric"));
	docker.remove_image(&cowsay.config).await.unwrap();

	// A tarball whose blake3 is not the registry's: refused, nothing loaded.
	let mut tampered = cowsay.tarball.clone();
	let last = tampered.len() - 1;
	tampered[last] ^= 1;
	let err = docker
		.ensure_image(&cowsay.archive, &cowsay.config, || async { Ok(tampered) })
		.await
		.unwrap_err();
	assert_eq!(
		err.downcast_ref::<ImageRefused>(),
		Some(&ImageRefused::ArchiveDigestMismatch {
			expected: cowsay.archive,
			found: *blake3::hash(&{
				let mut t = cowsay.tarball.clone();
				t[last] ^= 1;
				t
			})
			.as_bytes(),
		})
	);
	assert!(!docker.has_image(&cowsay.config).await.unwrap(), "nothing was loaded");

	// The right tarball for another image's config: loads, but is not what the module names.
	docker.remove_image(&numeric.config).await.unwrap();
	let tarball = cowsay.tarball.clone();
	let err = docker
		.ensure_image(&cowsay.archive, &numeric.config, || async { Ok(tarball) })
		.await
		.unwrap_err();
	assert_eq!(
		err.downcast_ref::<ImageRefused>(),
		Some(&ImageRefused::ConfigDigestMismatch { expected: numeric.config })
	);
}

#[tokio::test]
async fn hostile_containers_are_contained_and_fail() {
	let docker = DockerExecutor::connect().await.expect("a Docker engine");
	let hostile = docker_image("hostile");
	loaded(&docker, &hostile).await;

	// The network: a listener on every host address, reached neither through the Docker
	// bridge's gateway nor by any public address.
	let listener = TcpListener::bind("0.0.0.0:0").unwrap();
	listener.set_nonblocking(true).unwrap();
	let port = listener.local_addr().unwrap().port();
	for addr in [format!("172.17.0.1:{port}"), format!("127.0.0.1:{port}"), "1.1.1.1:80".into()] {
		let d = dirs();
		let out = run(&docker, &hostile, "network", &["network", &addr], &[], LIMITS, &d).await;
		assert_eq!(out.exit, ExitStatus::Failed { code: 3 }, "reached {addr}");
	}
	assert!(listener.accept().is_err(), "nothing connected to the host");

	// Writes outside /outputs: the root filesystem and the inputs are read-only.
	for path in ["/escaped", "/inputs/escaped", "/inputs/given"] {
		let d = dirs();
		let out = run(&docker, &hostile, "write", &["write", path], &[], LIMITS, &d).await;
		assert_eq!(out.exit, ExitStatus::Failed { code: 4 }, "wrote {path}");
		assert_eq!(files(&d.inputs), ["given"]);
		assert_eq!(std::fs::read(d.inputs.join("given")).unwrap(), b"an input");
	}

	// A fork bomb meets the process limit and is killed at the timeout.
	let short = Limits { wall: Duration::from_secs(4), ..LIMITS };
	let d = dirs();
	let out = run(&docker, &hostile, "fork", &["fork-bomb"], &[], short, &d).await;
	assert_eq!(out.exit, ExitStatus::TimedOut);

	// A memory bomb is killed at its memory limit (swap included), well before the timeout.
	let d = dirs();
	let out = run(&docker, &hostile, "memory", &["memory-bomb"], &[], LIMITS, &d).await;
	assert_eq!(out.exit, ExitStatus::OutOfMemory, "{:?}", out.failure);
	assert!(out.usage.wall_ms < LIMITS.wall.as_millis() as u64);

	// An infinite loop is killed at the timeout.
	let d = dirs();
	let out = run(&docker, &hostile, "spin", &["spin"], &[], short, &d).await;
	assert_eq!(out.exit, ExitStatus::TimedOut);
	assert!(out.usage.wall_ms >= 4_000);

	for name in ["network", "write", "fork", "memory", "spin"] {
		assert_eq!(leftover_containers(&docker, name).await, 0, "{name} left a container");
	}
}
