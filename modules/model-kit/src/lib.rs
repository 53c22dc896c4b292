//! What the model modules (`chat`, `embed`) share: how the agent hands a job over (the
//! directories it mounts, the models it names, an input as a file or the job's blob), how a run
//! says it failed (its exit code), the device a model runs on, and the pthread functions WASI's
//! libc lacks.
use std::{
	path::{Path, PathBuf},
	process::ExitCode,
};

#[cfg(target_os = "wasi")]
mod wasi;

/// Why a run failed, and the exit code that says so.
#[derive(Debug)]
pub struct Failure {
	pub code: u8,
	pub message: String,
}

/// The request cannot be served as asked: exit code 2.
pub fn bad_request(message: impl Into<String>) -> Failure {
	Failure { code: 2, message: message.into() }
}

/// The model or the machine failed: exit code 1.
pub fn failed(message: impl Into<String>) -> Failure {
	Failure { code: 1, message: message.into() }
}

/// The process's exit for `outcome`: a failure's message goes to stderr as `<module>: ...`.
pub fn exit(module: &str, outcome: Result<(), Failure>) -> ExitCode {
	match outcome {
		Ok(()) => ExitCode::SUCCESS,
		Err(Failure { code, message }) => {
			eprintln!("{module}: {message}");
			ExitCode::from(code)
		}
	}
}

/// A directory the agent mounts (`/inputs`, `/outputs`), or its replacement `var` for a run by
/// hand.
pub fn dir(var: &str, default: &str) -> PathBuf {
	std::env::var_os(var)
		.filter(|d| !d.is_empty())
		.map(PathBuf::from)
		.unwrap_or_else(|| default.into())
}

/// The first model the job's module names (`LILYPAD_MODELS`), if any: the agent mounts it at
/// `/models/<name>/`.
pub fn mounted_model() -> Option<String> {
	let names = std::env::var("LILYPAD_MODELS").ok()?;
	names.split(',').find(|n| !n.is_empty()).map(str::to_string)
}

/// The mounted model's directory, `/models/<name>`.
pub fn mounted_model_dir() -> Result<PathBuf, Failure> {
	let name =
		mounted_model().ok_or_else(|| failed("no model is mounted (LILYPAD_MODELS is empty)"))?;
	Ok(Path::new("/models").join(name))
}

/// The input `name` delivered as a file in `inputs`, or else the job's blob (what the CLI sends
/// for a value longer than an inline one may be): which of the two, and its bytes. `None` if
/// there is neither.
pub fn file_or_blob(inputs: &Path, name: &'static str) -> Result<Option<(&'static str, Vec<u8>)>, String> {
	for file in [name, "blob"] {
		match std::fs::read(inputs.join(file)) {
			Ok(bytes) => return Ok(Some((file, bytes))),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
			Err(e) => return Err(format!("read {file}: {e}")),
		}
	}
	Ok(None)
}

/// Where the model runs: the CPU, or, built with the `cuda` feature, the first NVIDIA GPU
/// (docs/gpu.md: how such an image would be built). WASM and the images built here use the CPU.
pub fn device() -> Result<candle_core::Device, String> {
	#[cfg(feature = "cuda")]
	{
		candle_core::Device::new_cuda(0).map_err(|e| format!("CUDA device 0: {e}"))
	}
	#[cfg(not(feature = "cuda"))]
	{
		Ok(candle_core::Device::Cpu)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn an_input_is_its_file_before_the_blob() {
		let d = std::env::temp_dir().join(format!("model-kit-{}", std::process::id()));
		std::fs::create_dir_all(&d).unwrap();
		assert_eq!(file_or_blob(&d, "texts").unwrap(), None);
		std::fs::write(d.join("blob"), "b").unwrap();
		assert_eq!(file_or_blob(&d, "texts").unwrap(), Some(("blob", b"b".to_vec())));
		std::fs::write(d.join("texts"), "t").unwrap();
		assert_eq!(file_or_blob(&d, "texts").unwrap(), Some(("texts", b"t".to_vec())));
		std::fs::remove_dir_all(&d).unwrap();
	}

	#[test]
	fn failures_carry_their_exit_codes() {
		assert_eq!(bad_request("x").code, 2);
		assert_eq!(failed("x").code, 1);
	}
}
